// ParseKeySlot over arbitrary bytes, then UnwrapSlot without any secret (which must refuse
// cleanly whatever the slot holds). Unwrapping with a password is left out: a slot may ask
// for an Argon2id cost that would make every run slow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "repo/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto slot = kura::ParseKeySlot("fuzz", kura::ByteView(data, size));
  if (!slot.ok()) {
    kura::Code c = slot.status().code();
    if (c != kura::Code::kCorruption && c != kura::Code::kUnsupported) std::abort();
    return 0;
  }
  auto key = kura::UnwrapSlot(*slot, "00112233445566778899aabbccddeeff", kura::Credentials{});
  if (key.ok()) std::abort();  // no secret offered: nothing may open
  return 0;
}
