#include "chunker/chunker.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace kura {

namespace {

constexpr std::string_view kGearInfo = "kura chunker gear v1";

// A mask of the `n` most significant bits. The gear hash shifts left once per byte, so bit
// 63 depends on the last 64 bytes while bit k depends only on the last k + 1: testing the top
// bits gives every cut decision the full 64-byte window.
uint64_t TopBits(int n) {
  return ~uint64_t{0} << (64 - n);
}

}  // namespace

bool ChunkerParams::Valid() const {
  return min_size >= 64 && min_size < avg_size && avg_size < max_size && max_size <= (64u << 20) &&
         std::has_single_bit(avg_size);
}

ChunkerParams DefaultChunkerParams() {
  ChunkerParams p;
  p.min_size = 32u << 10;
  p.avg_size = 128u << 10;
  p.max_size = 512u << 10;
  return p;
}

Chunker::Chunker(const crypto::SecretKey& chunker_key, const ChunkerParams& params) : params_(params) {
  assert(params.Valid());
  Bytes table = crypto::HkdfSha256Bytes(chunker_key.view(), kGearInfo, gear_.size() * sizeof(uint64_t));
  for (size_t i = 0; i < gear_.size(); ++i) gear_[i] = GetU64(table.data() + 8 * i);
  SecureZero(table.data(), table.size());
  // Normalized chunking, level 2 (FastCDC 2020, section 3.3).
  int bits = std::countr_zero(params.avg_size);
  mask_small_ = TopBits(bits + 2);
  mask_large_ = TopBits(bits - 2);
}

size_t Chunker::Cut(ByteView data) const {
  assert(!data.empty());
  const size_t size = data.size();
  if (size <= params_.min_size) return size;
  const size_t end = std::min<size_t>(size, params_.max_size);
  const size_t normal = std::min<size_t>(end, params_.avg_size);
  const uint8_t* p = data.data();
  const uint64_t* gear = gear_.data();
  const uint64_t mask_small = mask_small_;
  const uint64_t mask_large = mask_large_;
  uint64_t fp = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    fp = (fp << 1) + gear[p[i]];
    if ((fp & mask_small) == 0) return i + 1;
  }
  for (; i < end; ++i) {
    fp = (fp << 1) + gear[p[i]];
    if ((fp & mask_large) == 0) return i + 1;
  }
  return end;
}

}  // namespace kura
