// How kura talks to people and scripts: human text in the user's language on stdout,
// errors on stderr, --json documents on stdout, and a progress line on a terminal.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_common/format.h"
#include "engine/progress.h"
#include "kura/status.h"

namespace kura::cli {

// The helpers kura-vault shares (cli_common/format.h), under their old names here.
using cli_common::DisplayWidth;
using cli_common::FormatBytes;
using cli_common::FormatDuration;
using cli_common::PadLeft;
using cli_common::PadRight;
using cli_common::PrintJson;
using cli_common::PutNameJson;
using cli_common::PutNameListJson;
using cli_common::StderrIsTerminal;

// Prints "kura: エラー: <message>" (plus a hint line for some codes) to stderr.
void PrintError(const Status& status);
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

}  // namespace kura::cli
