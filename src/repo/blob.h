// Encoding of one chunk as a blob: ID = HMAC-SHA-256, zstd when it helps, AES-256-GCM
// bound to the ID (docs/format.md, "Packs").
#pragma once

#include "crypto/crypto.h"
#include "kura/status.h"
#include "repo/keys.h"
#include "repo/pack.h"

namespace kura {

struct EncodedBlob {
  crypto::Hash id{};
  uint8_t compression = 0;
  uint32_t raw_length = 0;
  Bytes sealed;
};

crypto::Hash ComputeBlobId(const RepoKeys& keys, ByteView plaintext);

// Thread-safe (per-thread compression contexts). `zstd_level` 0 disables compression.
EncodedBlob EncodeBlob(const RepoKeys& keys, const crypto::Hash& id, ByteView plaintext, int zstd_level);

// Opens, decompresses and, with `check_id`, recomputes the ID. Errors: kCorruption naming
// the blob. The AEAD tag (bound to the ID) already detects any damage, so callers that also
// check a whole-stream SHA-256 (restore) may skip the ID recomputation; verify keeps it.
Result<Bytes> DecodeBlob(const RepoKeys& keys, const PackEntry& entry, ByteView sealed, bool check_id = true);

// The additional data a sealed blob is bound to.
Bytes BlobAad(const crypto::Hash& id, uint8_t compression);

}  // namespace kura
