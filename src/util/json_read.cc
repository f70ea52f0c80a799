#include "util/json_read.h"

#include <fmt/format.h>

#include <limits>

namespace kura {

using nlohmann::json;

std::string_view JsonTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "other";
  }
}

void JsonView::Fail(std::string_view key, std::string_view what) const {
  if (!problem_->empty()) return;  // the first problem is the one worth reporting
  std::string where = path_;
  if (!key.empty()) where += where.empty() ? std::string(key) : "." + std::string(key);
  *problem_ = fmt::format("{}: {}", where.empty() ? "(document)" : where, what);
}

bool JsonView::Require(const char* key) const {
  if (Has(key)) return true;
  Fail(key, "required");
  return false;
}

const json* JsonView::Field(const char* key, bool nullable, bool (json::*is)() const noexcept,
                            std::string_view expected) const {
  if (!j_->is_object()) return nullptr;
  auto it = j_->find(key);
  if (it == j_->end()) return nullptr;
  if (nullable && it->is_null()) return nullptr;
  if (!((*it).*is)()) {
    Fail(key, fmt::format("expected {}, got {}", expected, JsonTypeName(*it)));
    return nullptr;
  }
  return &*it;
}

std::string JsonView::String(const char* key, bool nullable) const {
  const json* f = Field(key, nullable, &json::is_string, "a string");
  return f ? f->get_ref<const std::string&>() : std::string();
}

int64_t JsonView::Int(const char* key, int64_t def) const {
  const json* f = Field(key, false, &json::is_number_integer, "an integer");
  if (!f) return def;
  if (f->is_number_unsigned() &&
      f->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    Fail(key, "integer out of range");
    return def;
  }
  return f->get<int64_t>();
}

int JsonView::Int32(const char* key, int def) const {
  std::string before = *problem_;
  int64_t v = Int(key, def);
  if (*problem_ != before) return def;
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    Fail(key, "integer out of range");
    return def;
  }
  return static_cast<int>(v);
}

uint64_t JsonView::Uint(const char* key, uint64_t def) const {
  const json* f = Field(key, false, &json::is_number_integer, "an unsigned integer");
  if (!f) return def;
  if (!f->is_number_unsigned()) {
    Fail(key, "expected an unsigned integer, got a negative one");
    return def;
  }
  return f->get<uint64_t>();
}

double JsonView::Number(const char* key, double def) const {
  const json* f = Field(key, false, &json::is_number, "a number");
  return f ? f->get<double>() : def;
}

bool JsonView::Bool(const char* key, bool def) const {
  const json* f = Field(key, false, &json::is_boolean, "true or false");
  return f ? f->get<bool>() : def;
}

std::optional<JsonView> JsonView::Object(const char* key, bool nullable) const {
  const json* f = Field(key, nullable, &json::is_object, "an object");
  if (!f) return std::nullopt;
  return JsonView(f, path_.empty() ? std::string(key) : path_ + "." + key, problem_);
}

std::vector<std::pair<std::string, JsonView>> JsonView::Members() const {
  std::vector<std::pair<std::string, JsonView>> out;
  if (!j_->is_object()) return out;
  for (auto it = j_->begin(); it != j_->end(); ++it) {
    out.emplace_back(it.key(), JsonView(&*it, path_.empty() ? it.key() : path_ + "." + it.key(), problem_));
  }
  return out;
}

std::string DumpStateJson(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace kura
