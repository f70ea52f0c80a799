#include "repo/pack.h"

#include <algorithm>
#include <cstring>

#include "repo/format.h"
#include "util/i18n.h"

namespace kura {

static Status Damaged(const std::string& name, std::string_view why) {
  return Status::Corruption(Tr("パック {} が壊れています ({})", "pack {} is damaged ({})", name, why));
}

Result<uint32_t> ParsePackPrefix(ByteView prefix, const std::string& pack_name) {
  if (prefix.size() < format::kPackHeaderFixed) return Damaged(pack_name, "short header");
  if (std::memcmp(prefix.data(), format::kPackMagic.data(), format::kPackMagic.size()) != 0) {
    return Damaged(pack_name, "bad magic");
  }
  uint32_t version = GetU32(prefix.data() + 8);
  if (version == 0) return Damaged(pack_name, "bad version");
  if (version > format::kPackVersion) {
    return Status::Unsupported(Tr("パック {} は新しい形式 (version {}) です。kura を更新してください",
                                  "pack {} has a newer format (version {}); update kura", pack_name,
                                  version));
  }
  uint32_t count = GetU32(prefix.data() + 12);
  if (count > format::kMaxPackEntries) return Damaged(pack_name, "entry count out of range");
  return count;
}

uint64_t PackHeaderSize(uint32_t entry_count) {
  return format::kPackHeaderFixed + uint64_t{entry_count} * format::kPackEntrySize;
}

Result<PackHeader> ParsePackHeader(ByteView header, const std::string& pack_name) {
  KURA_ASSIGN_OR_RETURN(uint32_t count, ParsePackPrefix(header, pack_name));
  PackHeader out;
  out.header_size = PackHeaderSize(count);
  if (header.size() < out.header_size) return Damaged(pack_name, "short header");
  out.entries.reserve(count);
  uint64_t offset = out.header_size;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* p = header.data() + format::kPackHeaderFixed + uint64_t{i} * format::kPackEntrySize;
    PackEntry e;
    std::memcpy(e.id.data(), p, e.id.size());
    e.type = p[32];
    e.compression = p[33];
    e.stored_length = GetU32(p + 36);
    e.raw_length = GetU32(p + 40);
    if (e.type != format::kBlobTypeData || e.compression > format::kCompressionZstd ||
        e.stored_length < crypto::kSealOverhead || e.stored_length > format::kMaxBlobSize + 4096 ||
        e.raw_length > format::kMaxBlobSize) {
      return Damaged(pack_name, "bad entry");
    }
    e.offset = offset;
    offset += e.stored_length;
    out.entries.push_back(e);
  }
  out.total_size = offset;
  return out;
}

void PackBuilder::Add(const crypto::Hash& id, uint8_t compression, uint32_t raw_length, Bytes sealed) {
  PackEntry e;
  e.id = id;
  e.type = format::kBlobTypeData;
  e.compression = compression;
  e.stored_length = static_cast<uint32_t>(sealed.size());
  e.raw_length = raw_length;
  body_size_ += sealed.size();
  entries_.push_back(e);
  blobs_.push_back(std::move(sealed));
}

Bytes PackBuilder::Finish(std::vector<PackEntry>* entries) {
  uint32_t count = static_cast<uint32_t>(entries_.size());
  Bytes out;
  out.reserve(PackHeaderSize(count) + body_size_);
  Append(out, AsBytes(format::kPackMagic));
  PutU32(out, format::kPackVersion);
  PutU32(out, count);
  uint64_t offset = PackHeaderSize(count);
  for (PackEntry& e : entries_) {
    Append(out, e.id);
    out.push_back(e.type);
    out.push_back(e.compression);
    out.push_back(0);
    out.push_back(0);
    PutU32(out, e.stored_length);
    PutU32(out, e.raw_length);
    PutU32(out, 0);
    e.offset = offset;
    offset += e.stored_length;
  }
  for (Bytes& b : blobs_) Append(out, b);
  *entries = std::move(entries_);
  entries_.clear();
  blobs_.clear();
  body_size_ = 0;
  return out;
}

}  // namespace kura
