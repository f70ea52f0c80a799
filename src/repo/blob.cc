#include "repo/blob.h"

#include <zstd.h>

#include "repo/format.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

crypto::Hash ComputeBlobId(const RepoKeys& keys, ByteView plaintext) {
  return crypto::HmacSha256(keys.blob_id, plaintext);
}

Bytes BlobAad(const crypto::Hash& id, uint8_t compression) {
  Bytes aad(id.begin(), id.end());
  aad.push_back(compression);
  return aad;
}

namespace {
struct ZstdContexts {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_DCtx* d = ZSTD_createDCtx();
  ~ZstdContexts() {
    ZSTD_freeCCtx(c);
    ZSTD_freeDCtx(d);
  }
};
ZstdContexts& Zstd() {
  thread_local ZstdContexts ctx;
  return ctx;
}
}  // namespace

EncodedBlob EncodeBlob(const RepoKeys& keys, const crypto::Hash& id, ByteView plaintext, int zstd_level) {
  EncodedBlob out;
  out.id = id;
  out.raw_length = static_cast<uint32_t>(plaintext.size());
  ByteView payload = plaintext;
  Bytes compressed;
  if (zstd_level > 0 && plaintext.size() >= 64) {
    compressed.resize(ZSTD_compressBound(plaintext.size()));
    size_t n = ZSTD_compressCCtx(Zstd().c, compressed.data(), compressed.size(), plaintext.data(),
                                 plaintext.size(), zstd_level);
    // Keep the compressed form only when it saves at least 2 %: otherwise reading it back
    // would cost a decompression for nothing.
    if (!ZSTD_isError(n) && n < plaintext.size() - plaintext.size() / 50) {
      compressed.resize(n);
      payload = compressed;
      out.compression = format::kCompressionZstd;
    }
  }
  out.sealed.reserve(payload.size() + crypto::kSealOverhead);
  crypto::SealAppend(keys.data, payload, BlobAad(id, out.compression), out.sealed);
  return out;
}

Result<Bytes> DecodeBlob(const RepoKeys& keys, const PackEntry& entry, ByteView sealed, bool check_id) {
  auto damaged = [&](std::string_view why) {
    return Status::Corruption(
        Tr("データ {} が壊れています ({})", "blob {} is damaged ({})", ToHex(entry.id).substr(0, 16), why));
  };
  auto opened = crypto::Open(keys.data, sealed, BlobAad(entry.id, entry.compression));
  if (!opened.ok()) return damaged(L("暗号の検証に失敗", "authentication failed"));
  Bytes plain;
  if (entry.compression == format::kCompressionZstd) {
    plain.resize(entry.raw_length);
    size_t n = ZSTD_decompressDCtx(Zstd().d, plain.data(), plain.size(), opened->data(), opened->size());
    if (ZSTD_isError(n) || n != entry.raw_length) return damaged(L("展開に失敗", "decompression failed"));
  } else {
    plain = std::move(*opened);
    if (plain.size() != entry.raw_length) return damaged(L("長さが不一致", "length mismatch"));
  }
  if (check_id && !crypto::ConstantTimeEqual(ComputeBlobId(keys, plain), entry.id)) {
    return damaged(L("ID が不一致", "ID mismatch"));
  }
  return plain;
}

}  // namespace kura
