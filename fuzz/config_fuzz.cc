// RepoConfig::Parse over arbitrary bytes: `config` is the first thing kura reads from a
// directory a user points it at.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "repo/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = kura::RepoConfig::Parse(kura::ByteView(data, size), "fuzz");
  if (config.ok()) {
    if (!config->chunker.Valid() || config->id.size() != 32) std::abort();
    // What was accepted survives a round trip.
    auto again = kura::RepoConfig::Parse(config->Serialize(), "fuzz");
    if (!again.ok() || again->id != config->id) std::abort();
  } else {
    kura::Code c = config.status().code();
    if (c != kura::Code::kCorruption && c != kura::Code::kUnsupported && c != kura::Code::kNotFound)
      std::abort();
  }
  return 0;
}
