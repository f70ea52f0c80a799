// The status file parser over arbitrary bytes (docs/status-file.md). It must never throw
// or crash: a wrong-typed field once aborted `kura status` and every run (exit 134). Any
// document it accepts must survive a write and a read back (what a run does with it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/status_file.h"
#include "util/json_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = kura::ParseStatusFile(text, "status.json");
  if (!doc.ok()) {
    if (doc.status().code() != kura::Code::kCorruption && doc.status().code() != kura::Code::kUnsupported)
      std::abort();
    return 0;
  }
  std::string again = kura::DumpStateJson(kura::StatusToJson(*doc));
  auto back = kura::ParseStatusFile(again, "status.json");
  if (!back.ok() || back->jobs.size() != doc->jobs.size()) std::abort();
  (void)kura::ActiveWarnings(*back);
  return 0;
}
