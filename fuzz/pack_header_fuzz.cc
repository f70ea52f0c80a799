// ParsePackHeader / ParsePackPrefix over arbitrary bytes: a pack header is read from any
// store, including a NAS share others can write to, before anything is authenticated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "repo/pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kura::ByteView bytes(data, size);
  auto prefix = kura::ParsePackPrefix(bytes, "fuzz");
  auto header = kura::ParsePackHeader(bytes, "fuzz");
  if (header.ok()) {
    // What a successful parse promises: offsets in order, within the size it claims.
    uint64_t offset = header->header_size;
    for (const kura::PackEntry& e : header->entries) {
      if (e.offset != offset) std::abort();
      offset += e.stored_length;
    }
    if (offset != header->total_size || !prefix.ok() || *prefix != header->entries.size()) std::abort();
  } else if (header.status().code() != kura::Code::kCorruption &&
             header.status().code() != kura::Code::kUnsupported) {
    std::abort();
  }
  return 0;
}
