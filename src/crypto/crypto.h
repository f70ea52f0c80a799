// Cryptographic primitives used by the repository format (docs/format.md, "Cryptography").
// OpenSSL 3 provides SHA-256, HMAC-SHA-256, HKDF-SHA-256 and AES-256-GCM; libsodium provides
// Argon2id, X25519 sealed boxes and the random generator.
//
// All functions are thread-safe. Secret key material lives in SecretKey, which zeroes its
// bytes when destroyed. No function here logs or puts key bytes into an error message.
// Functions that return a plain value cannot fail on valid input; if the library itself
// fails (out of memory, a broken OpenSSL installation) they abort the process.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "kura/status.h"
#include "util/bytes.h"

namespace kura::crypto {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kNonceSize = 12;  // AES-256-GCM nonce
inline constexpr size_t kTagSize = 16;    // AES-256-GCM tag
inline constexpr size_t kSealOverhead = kNonceSize + kTagSize;
inline constexpr size_t kHashSize = 32;

using Hash = std::array<uint8_t, kHashSize>;

// 32 bytes of secret key material, zeroed on destruction.
class SecretKey {
 public:
  SecretKey() { bytes_.fill(0); }
  explicit SecretKey(ByteView b);  // REQUIRES: b.size() == kKeySize
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();
  static SecretKey Random();
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  ByteView view() const { return {bytes_.data(), bytes_.size()}; }

 private:
  std::array<uint8_t, kKeySize> bytes_;
};

// Cryptographically secure random bytes (libsodium randombytes_buf).
void RandomBytes(uint8_t* out, size_t n);
Bytes RandomBytes(size_t n);

Hash Sha256(ByteView data);

// Incremental SHA-256 (for source streams and pack files).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(ByteView data);
  Hash Finish();  // the object must not be used after Finish()

 private:
  void* ctx_;  // EVP_MD_CTX*
};

Hash HmacSha256(const SecretKey& key, ByteView data);

// SipHash-2-4 (libsodium crypto_shorthash) keyed with the first 16 bytes of `key`: a fast
// keyed hash for decisions that must not depend on content an outsider can predict.
uint64_t ShortHash(const SecretKey& key, ByteView data);

// HKDF-SHA-256 (RFC 5869) with an empty salt; `info` separates the derived keys.
SecretKey HkdfSha256(const SecretKey& ikm, std::string_view info);
// Same, for arbitrary output length. REQUIRES: length <= 255 * kHashSize
Bytes HkdfSha256Bytes(ByteView ikm, std::string_view info, size_t length);

// AES-256-GCM with a fresh random 96-bit nonce. Output: nonce || ciphertext || tag.
// `aad` is authenticated but not stored.
Bytes Seal(const SecretKey& key, ByteView plaintext, ByteView aad);
// Appends nonce || ciphertext || tag to `out` (avoids a copy in the pack writer).
void SealAppend(const SecretKey& key, ByteView plaintext, ByteView aad, Bytes& out);
// Inverse of Seal. Fails with kCorruption when the tag does not verify (wrong key, wrong
// aad or damaged bytes) or `sealed` is shorter than kSealOverhead.
Result<Bytes> Open(const SecretKey& key, ByteView sealed, ByteView aad);

// Constant-time comparison; false when the sizes differ.
bool ConstantTimeEqual(ByteView a, ByteView b);

// Argon2id (libsodium crypto_pwhash, ALG_ARGON2ID13). `salt` must be 16 bytes.
// Fails with kInvalidArgument when `salt` is not 16 bytes or `params` is outside libsodium's
// limits (ops_limit >= 1, mem_limit >= 8 KiB), and with kInternal when the memory cannot be
// allocated.
struct Argon2Params {
  uint64_t ops_limit = 3;
  uint64_t mem_limit = 64ull << 20;  // bytes. Default: 64 MiB
};
Result<SecretKey> Argon2id(std::string_view password, ByteView salt, const Argon2Params& params);

// X25519 sealed boxes (libsodium crypto_box_seal) for the vendor's recovery key.
inline constexpr size_t kBoxPublicKeySize = 32;
inline constexpr size_t kBoxSecretKeySize = 32;
struct BoxKeyPair {
  Bytes public_key;  // 32 bytes
  Bytes secret_key;  // 32 bytes; caller must SecureZero it when done
};
BoxKeyPair GenerateBoxKeyPair();
// Derives the public key from a secret key. Fails with kInvalidArgument when the key is
// not kBoxSecretKeySize bytes.
Result<Bytes> BoxPublicKeyFromSecret(ByteView secret_key);
// Output: message.size() + 48 bytes (ephemeral public key, MAC). Fails with
// kInvalidArgument when the public key is not kBoxPublicKeySize bytes or is unusable.
Result<Bytes> SealedBoxSeal(ByteView public_key, ByteView message);
// Fails with kUnauthorized when the box was not sealed to this key pair or is damaged, and
// with kInvalidArgument when a key has the wrong size.
Result<Bytes> SealedBoxOpen(ByteView public_key, ByteView secret_key, ByteView sealed);

}  // namespace kura::crypto
