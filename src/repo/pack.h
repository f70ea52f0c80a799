// Packs: many sealed blobs behind a plaintext header of blob IDs and lengths, readable
// without the key (docs/format.md, "Packs").
#pragma once

#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "kura/status.h"
#include "util/bytes.h"

namespace kura {

struct PackEntry {
  crypto::Hash id{};
  uint8_t type = 0;
  uint8_t compression = 0;
  uint32_t stored_length = 0;  // sealed bytes in the pack body
  uint32_t raw_length = 0;     // plaintext bytes
  uint64_t offset = 0;         // of the sealed blob within the pack object
};

struct PackHeader {
  std::vector<PackEntry> entries;
  uint64_t header_size = 0;  // bytes before the first blob
  uint64_t total_size = 0;   // the size the whole object must have
};

// Reads the 16-byte fixed prefix; returns the entry count. Errors: kCorruption, kUnsupported.
Result<uint32_t> ParsePackPrefix(ByteView prefix, const std::string& pack_name);
// Bytes of header for `entry_count` entries (prefix included).
uint64_t PackHeaderSize(uint32_t entry_count);
// Parses a whole header (prefix + entries). Untrusted input: every length is checked.
Result<PackHeader> ParsePackHeader(ByteView header, const std::string& pack_name);

// Accumulates sealed blobs into one pack. Not thread-safe.
class PackBuilder {
 public:
  void Add(const crypto::Hash& id, uint8_t compression, uint32_t raw_length, Bytes sealed);
  bool empty() const { return entries_.empty(); }
  size_t size_bytes() const { return body_size_; }
  size_t count() const { return entries_.size(); }
  // Serializes the pack and returns its bytes; `entries` get their final offsets.
  // The builder is empty afterwards.
  Bytes Finish(std::vector<PackEntry>* entries);

 private:
  std::vector<PackEntry> entries_;
  std::vector<Bytes> blobs_;
  size_t body_size_ = 0;
};

}  // namespace kura
