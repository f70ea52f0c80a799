// One send queue item file over arbitrary bytes (docs/agent.md, "Send queue"). It must
// never throw: an accepted item has every required field, and its retry time is computed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/send_queue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto item = kura::ParseSendItem(text, "queue/item.json");
  if (!item.ok()) {
    if (item.status().code() != kura::Code::kCorruption && item.status().code() != kura::Code::kUnsupported)
      std::abort();
    return 0;
  }
  (void)kura::NextAttemptTime(*item, kura::RetryPolicy{}, kura::SendWindow{}, 1763700000);
  return 0;
}
