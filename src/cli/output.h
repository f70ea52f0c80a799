// How kura talks to people and scripts: human text in the user's language on stdout,
// errors on stderr, --json documents on stdout, and a progress line on a terminal.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/progress.h"
#include "kura/status.h"

namespace kura::cli {

// "1.2 GiB"
std::string FormatBytes(uint64_t bytes);
// "0:12", "1:02:03"
std::string FormatDuration(double seconds);

// Prints "kura: エラー: <message>" (plus a hint line for some codes) to stderr.
void PrintError(const Status& status);
void PrintJson(const nlohmann::json& doc);
// Sets j[key] to a name that may not be UTF-8, losslessly: valid UTF-8 as it is; else the
// escaped form (util/text.h EscapeName) in `key` and the exact bytes, base64, in
// `key`_b64 — the same rule as the snapshot metadata (docs/format.md).
void PutNameJson(nlohmann::json& j, const std::string& key, const std::string& name);
// The same for a list: `key` the printable forms; `key`_b64 every item in base64 when any
// item is not UTF-8.
void PutNameListJson(nlohmann::json& j, const std::string& key, const std::vector<std::string>& names);
// A warning line on stderr ("kura: 警告: ..."), with control characters escaped.
void PrintWarning(const std::string& message);

// A progress line redrawn on stderr at most 5 times a second, only when stderr is a
// terminal and progress was not turned off. Thread-safe.
class ProgressLine : public ProgressSink {
 public:
  ProgressLine(std::string verb, bool enabled);
  // Total to show (and base the ETA on) when the engine does not know it. Default: none.
  void set_total_hint(uint64_t bytes) { total_hint_ = bytes; }
  void Update(const Progress& progress) override;
  void Done() override;

 private:
  std::string verb_;
  bool enabled_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
  uint64_t total_hint_ = 0;
};

bool StderrIsTerminal();

// Columns on a terminal: a CJK character takes two cells, so padding counts cells, not
// bytes or code points. Pads (or right-aligns) `text` to `width` cells.
size_t DisplayWidth(std::string_view text);
std::string PadRight(std::string_view text, size_t width);
std::string PadLeft(std::string_view text, size_t width);

}  // namespace kura::cli
