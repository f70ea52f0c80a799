// Content-defined chunking (FastCDC with normalized chunking, Xia et al. 2016/2020) keyed by
// a per-repository secret: the 256-entry gear table is derived from the chunker key, so
// chunk boundaries, and hence chunk sizes, do not fingerprint content across repositories.
// Specified in docs/format.md, "Chunking"; the algorithm below is part of the on-disk format
// (changing it changes every chunk boundary and so defeats deduplication against old data):
//
//   gear table:  G = HKDF-SHA-256(IKM = chunker key, salt = empty, info = "kura chunker gear v1",
//                L = 2048); gear[i] = the little-endian uint64 at G[8i, 8i + 8), i in 0..255.
//   masks:       b = log2(avg_size); mask_small = the top b + 2 bits of a uint64 set,
//                mask_large = the top b - 2 bits set (normalized chunking, level 2).
//   Cut(data):   n = min(size, max_size). If size <= min_size the chunk is the whole input.
//                Bytes before min_size are not hashed. fp = 0; for i = min_size, ... , n - 1:
//                fp = (fp << 1) + gear[data[i]] (mod 2^64); the chunk ends after byte i
//                (length i + 1) when fp & mask == 0, with mask = mask_small while i < avg_size
//                and mask_large from then on. With no match the chunk has length n.
//
// Chunk lengths are in [min_size + 1, max_size] except at the end of the stream. On random
// data the mean length is about 1.14 * avg_size for the default parameters (the harder mask
// before avg_size pushes most cuts past it).
#pragma once

#include <array>
#include <cstdint>

#include "crypto/crypto.h"
#include "util/bytes.h"

namespace kura {

struct ChunkerParams {
  uint32_t min_size = 0;
  uint32_t avg_size = 0;  // a power of two
  uint32_t max_size = 0;
  bool Valid() const;  // 64 B <= min < avg < max <= 64 MiB, avg a power of two
};

// Default chosen by measurement on database dumps: see docs/adr/0002-chunk-sizes.md.
ChunkerParams DefaultChunkerParams();

// Immutable after construction; Cut() is const and thread-safe.
class Chunker {
 public:
  // REQUIRES: params.Valid()
  Chunker(const crypto::SecretKey& chunker_key, const ChunkerParams& params);

  // `data` starts at a chunk boundary. Returns the length of the chunk that starts there:
  // in [1, min(data.size(), max_size)]. If data.size() < max_size and no boundary was found,
  // returns data.size(): callers pass at least max_size bytes unless at end of stream.
  // REQUIRES: !data.empty()
  size_t Cut(ByteView data) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  std::array<uint64_t, 256> gear_;
  uint64_t mask_small_;  // harder to match: used before the average size
  uint64_t mask_large_;  // easier to match: used after it
};

}  // namespace kura
