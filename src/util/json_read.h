// Reading kura's own JSON state files (status file, schedule state, send queue items)
// without exceptions. nlohmann's get<T>() and value() throw when a field has another type,
// and these files are untrusted input: people edit them, disks damage them, older or
// newer kura versions wrote them.
//
// A JsonView is a position in a parsed document plus its path ("jobs.app.targets.nas").
// Accessors never throw. A field that is missing gives the default (files written by an
// older kura lack newer keys); a field of the wrong type also gives the default and
// records the first such problem ("jobs.app.last_run.bytes_read: expected an unsigned
// integer, got string") in the shared problem string, which the caller turns into a
// kCorruption Status naming the file. Not thread-safe; views borrow the document.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kura {

class JsonView {
 public:
  // REQUIRES: `j` and `problem` outlive the view and every view made from it.
  JsonView(const nlohmann::json* j, std::string path, std::string* problem)
      : j_(j), path_(std::move(path)), problem_(problem) {}

  bool IsObject() const { return j_->is_object(); }
  bool Has(const char* key) const { return j_->is_object() && j_->contains(key); }
  const nlohmann::json& raw() const { return *j_; }
  const std::string& path() const { return path_; }

  // `nullable`: JSON null is accepted as "not set" and gives the default.
  std::string String(const char* key, bool nullable = false) const;
  int64_t Int(const char* key, int64_t def = 0) const;
  int Int32(const char* key, int def = 0) const;  // also a problem when out of int's range
  uint64_t Uint(const char* key, uint64_t def = 0) const;
  double Number(const char* key, double def = 0) const;
  bool Bool(const char* key, bool def = false) const;
  // A member object: nullopt when missing (or null, when nullable), or of another type
  // (then a problem is recorded).
  std::optional<JsonView> Object(const char* key, bool nullable = false) const;
  // The members of this object, in document order. REQUIRES: IsObject().
  std::vector<std::pair<std::string, JsonView>> Members() const;

  // Records a problem with `key` (or with this view itself when key is empty).
  void Fail(std::string_view key, std::string_view what) const;
  // Records "required" for a missing key; true when present.
  bool Require(const char* key) const;

 private:
  // The member `key` when present and not (nullable) null, after checking its type with `is`.
  const nlohmann::json* Field(const char* key, bool nullable, bool (nlohmann::json::*is)() const noexcept,
                              std::string_view expected) const;

  const nlohmann::json* j_;
  std::string path_;
  std::string* problem_;
};

// The name of a JSON value's type for messages ("string", "array", ...).
std::string_view JsonTypeName(const nlohmann::json& j);

// Serialises a state file. Strings that are not valid UTF-8 (which nlohmann refuses to
// write, throwing type_error.316) are written with U+FFFD in place of the bad bytes;
// callers escape (util/text.h) the text they can, this is the backstop.
std::string DumpStateJson(const nlohmann::json& j);

}  // namespace kura
