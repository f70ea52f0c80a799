#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "util/i18n.h"

namespace kura::crypto {

namespace {

// A failure of OpenSSL on valid input means memory exhaustion or a broken installation;
// the functions whose signature cannot fail stop the process rather than return bad bytes.
[[noreturn]] void Fatal(const char* what) {
  (void)std::fprintf(stderr, "kura: fatal cryptographic library failure: %s\n", what);
  std::abort();
}

void EnsureSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) Fatal("sodium_init");
  });
}

// Algorithms are fetched once: an implicit fetch on every call takes a lock in the
// provider store, and these run once per chunk. They live until the process exits.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) Fatal("EVP_MD_fetch(SHA256)");
  return md;
}

const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) Fatal("EVP_CIPHER_fetch(AES-256-GCM)");
  return cipher;
}

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) Fatal("EVP_MAC_fetch(HMAC)");
  return mac;
}

EVP_KDF* HkdfAlgorithm() {
  static EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) Fatal("EVP_KDF_fetch(HKDF)");
  return kdf;
}

// One cipher context per thread, reused across calls: Seal and Open run once per chunk
// and a fresh context would cost an allocation and a provider context each time.
struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  bool cipher_set = false;  // after the first init the cipher is kept; only key and nonce change
  CipherCtx() {
    if (ctx == nullptr) Fatal("EVP_CIPHER_CTX_new");
  }
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

CipherCtx& ThreadCipherCtx() {
  thread_local CipherCtx c;
  return c;
}

struct MacCtx {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(HmacAlgorithm());
  MacCtx() {
    if (ctx == nullptr) Fatal("EVP_MAC_CTX_new");
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) Fatal("EVP_MAC_CTX_set_params");
  }
  ~MacCtx() { EVP_MAC_CTX_free(ctx); }
  MacCtx(const MacCtx&) = delete;
  MacCtx& operator=(const MacCtx&) = delete;
};

// EVP update functions take an int length; feed larger inputs in slices.
constexpr size_t kMaxSlice = size_t{1} << 30;

bool CipherInit(EVP_CIPHER_CTX* ctx, bool& cipher_set, bool encrypt, const SecretKey& key,
                const uint8_t* nonce) {
  const EVP_CIPHER* cipher = cipher_set ? nullptr : Aes256Gcm();
  int ok = encrypt ? EVP_EncryptInit_ex2(ctx, cipher, key.data(), nonce, nullptr)
                   : EVP_DecryptInit_ex2(ctx, cipher, key.data(), nonce, nullptr);
  if (ok == 1) cipher_set = true;
  return ok == 1;
}

bool CipherAad(EVP_CIPHER_CTX* ctx, ByteView aad) {
  for (size_t off = 0; off < aad.size(); off += kMaxSlice) {
    int n = static_cast<int>(std::min(kMaxSlice, aad.size() - off));
    int outl = 0;
    if (EVP_CipherUpdate(ctx, nullptr, &outl, aad.data() + off, n) != 1) return false;
  }
  return true;
}

// GCM is a stream mode: output length equals input length and the final call emits nothing.
bool CipherBody(EVP_CIPHER_CTX* ctx, ByteView in, uint8_t* out) {
  for (size_t off = 0; off < in.size(); off += kMaxSlice) {
    int n = static_cast<int>(std::min(kMaxSlice, in.size() - off));
    int outl = 0;
    if (EVP_CipherUpdate(ctx, out + off, &outl, in.data() + off, n) != 1 || outl != n) return false;
  }
  return true;
}

Status DecryptFailed() {
  return Status::Corruption(
      std::string(L("データの復号に失敗しました: 認証タグが一致しません (鍵が違うか、データが破損しています)",
                    "decryption failed: the authentication tag does not match (wrong key or damaged data)")));
}

}  // namespace

SecretKey::SecretKey(ByteView b) {
  assert(b.size() == kKeySize);
  std::copy_n(b.begin(), std::min(b.size(), kKeySize), bytes_.begin());
  if (b.size() < kKeySize) std::fill(bytes_.begin() + b.size(), bytes_.end(), 0);
}

SecretKey::~SecretKey() {
  SecureZero(bytes_.data(), bytes_.size());
}

SecretKey SecretKey::Random() {
  SecretKey k;
  RandomBytes(k.data(), kKeySize);
  return k;
}

void RandomBytes(uint8_t* out, size_t n) {
  if (n == 0) return;  // `out` may then be null, which randombytes_buf does not allow
  EnsureSodium();
  randombytes_buf(out, n);
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  RandomBytes(out.data(), n);
  return out;
}

Hash Sha256(ByteView data) {
  Hash h;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), h.data(), &len, Sha256Md(), nullptr) != 1) Fatal("EVP_Digest");
  return h;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) != 1) Fatal("EVP_DigestInit_ex2");
}

Sha256Stream::~Sha256Stream() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256Stream::Update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size()) != 1) {
    Fatal("EVP_DigestUpdate");
  }
}

Hash Sha256Stream::Finish() {
  Hash h;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), h.data(), &len) != 1) Fatal("EVP_DigestFinal_ex");
  return h;
}

uint64_t ShortHash(const SecretKey& key, ByteView data) {
  static_assert(crypto_shorthash_KEYBYTES <= kKeySize && crypto_shorthash_BYTES == 8);
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, data.data(), data.size(), key.data());
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | out[i];
  return v;
}

Hash HmacSha256(const SecretKey& key, ByteView data) {
  thread_local MacCtx mac;
  Hash h;
  size_t len = 0;
  if (EVP_MAC_init(mac.ctx, key.data(), kKeySize, nullptr) != 1 ||
      (!data.empty() && EVP_MAC_update(mac.ctx, data.data(), data.size()) != 1) ||
      EVP_MAC_final(mac.ctx, h.data(), &len, h.size()) != 1) {
    Fatal("HMAC-SHA-256");
  }
  return h;
}

SecretKey HkdfSha256(const SecretKey& ikm, std::string_view info) {
  Bytes okm = HkdfSha256Bytes(ikm.view(), info, kKeySize);
  SecretKey key(okm);
  SecureZero(okm.data(), okm.size());
  return key;
}

Bytes HkdfSha256Bytes(ByteView ikm, std::string_view info, size_t length) {
  assert(length <= 255 * kHashSize && "HKDF output is limited to 255 hash blocks");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(HkdfAlgorithm());
  if (ctx == nullptr) Fatal("EVP_KDF_CTX_new");
  // OpenSSL rejects a missing key; RFC 5869 allows an empty IKM, and an empty salt is the
  // same as HashLen zero bytes because HMAC pads its key with zeros.
  static const uint8_t kEmpty[1] = {0};
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<uint8_t*>(ikm.empty() ? kEmpty : ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) Fatal("EVP_KDF_derive(HKDF)");
  return out;
}

void SealAppend(const SecretKey& key, ByteView plaintext, ByteView aad, Bytes& out) {
  size_t start = out.size();
  out.resize(start + kNonceSize + plaintext.size() + kTagSize);
  uint8_t* nonce = out.data() + start;
  uint8_t* body = nonce + kNonceSize;
  uint8_t* tag = body + plaintext.size();
  // Random 96-bit nonces: safe for 2^32 messages per key (NIST SP 800-38D 8.3), i.e. about
  // 1 PiB of 256 KiB chunks under one repository key.
  RandomBytes(nonce, kNonceSize);
  CipherCtx& c = ThreadCipherCtx();
  int outl = 0;
  if (!CipherInit(c.ctx, c.cipher_set, /*encrypt=*/true, key, nonce) || !CipherAad(c.ctx, aad) ||
      !CipherBody(c.ctx, plaintext, body) || EVP_EncryptFinal_ex(c.ctx, tag, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    Fatal("AES-256-GCM encrypt");
  }
}

Bytes Seal(const SecretKey& key, ByteView plaintext, ByteView aad) {
  Bytes out;
  out.reserve(kSealOverhead + plaintext.size());
  SealAppend(key, plaintext, aad, out);
  return out;
}

Result<Bytes> Open(const SecretKey& key, ByteView sealed, ByteView aad) {
  if (sealed.size() < kSealOverhead) return DecryptFailed();
  const uint8_t* nonce = sealed.data();
  ByteView body = sealed.subspan(kNonceSize, sealed.size() - kSealOverhead);
  // EVP_CTRL_GCM_SET_TAG takes a non-const pointer but only reads the tag.
  uint8_t tag[kTagSize];
  std::copy_n(sealed.end() - kTagSize, kTagSize, tag);
  Bytes out(body.size());
  CipherCtx& c = ThreadCipherCtx();
  int outl = 0;
  if (!CipherInit(c.ctx, c.cipher_set, /*encrypt=*/false, key, nonce)) Fatal("AES-256-GCM init");
  bool ok = CipherAad(c.ctx, aad) && CipherBody(c.ctx, body, out.data()) &&
            EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) == 1 &&
            EVP_DecryptFinal_ex(c.ctx, out.data() + out.size(), &outl) == 1;
  if (!ok) {
    // Unauthenticated plaintext must not leave this function, not even in freed memory.
    SecureZero(out.data(), out.size());
    return DecryptFailed();
  }
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<SecretKey> Argon2id(std::string_view password, ByteView salt, const Argon2Params& params) {
  EnsureSodium();
  if (salt.size() != crypto_pwhash_SALTBYTES) {
    return Status::InvalidArgument(Tr("Argon2id のソルトは {} バイトでなければなりません ({} バイトでした)",
                                      "the Argon2id salt must be {} bytes (got {})", crypto_pwhash_SALTBYTES,
                                      salt.size()));
  }
  if (params.ops_limit < crypto_pwhash_OPSLIMIT_MIN || params.ops_limit > crypto_pwhash_OPSLIMIT_MAX ||
      params.mem_limit < crypto_pwhash_MEMLIMIT_MIN || params.mem_limit > crypto_pwhash_MEMLIMIT_MAX) {
    return Status::InvalidArgument(Tr("Argon2id のパラメータが範囲外です (ops_limit={}, mem_limit={})",
                                      "Argon2id parameters out of range (ops_limit={}, mem_limit={})",
                                      params.ops_limit, params.mem_limit));
  }
  // An empty string_view may hold a null pointer, which crypto_pwhash does not accept.
  const char* pw = password.empty() ? "" : password.data();
  SecretKey key;
  if (crypto_pwhash(key.data(), kKeySize, pw, password.size(), salt.data(), params.ops_limit,
                    static_cast<size_t>(params.mem_limit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal(Tr("Argon2id の計算に必要なメモリ ({} MiB) を確保できませんでした",
                               "could not allocate the memory Argon2id needs ({} MiB)",
                               params.mem_limit >> 20));
  }
  return key;
}

BoxKeyPair GenerateBoxKeyPair() {
  EnsureSodium();
  BoxKeyPair kp{Bytes(crypto_box_PUBLICKEYBYTES), Bytes(crypto_box_SECRETKEYBYTES)};
  if (crypto_box_keypair(kp.public_key.data(), kp.secret_key.data()) != 0) Fatal("crypto_box_keypair");
  return kp;
}

namespace {
Status BadKeySize(std::string_view which_ja, std::string_view which_en, size_t want, size_t got) {
  return Status::InvalidArgument(Tr("{}の長さが不正です: {} バイトのはずが {} バイトです",
                                    "invalid {} length: want {} bytes, got {}", L(which_ja, which_en), want,
                                    got));
}
}  // namespace

Result<Bytes> BoxPublicKeyFromSecret(ByteView secret_key) {
  EnsureSodium();
  if (secret_key.size() != kBoxSecretKeySize) {
    return BadKeySize("秘密鍵", "secret key", kBoxSecretKeySize, secret_key.size());
  }
  Bytes pk(kBoxPublicKeySize);
  if (crypto_scalarmult_base(pk.data(), secret_key.data()) != 0) {
    return Status::InvalidArgument(std::string(L("秘密鍵が不正です", "invalid secret key")));
  }
  return pk;
}

Result<Bytes> SealedBoxSeal(ByteView public_key, ByteView message) {
  EnsureSodium();
  if (public_key.size() != kBoxPublicKeySize) {
    return BadKeySize("公開鍵", "public key", kBoxPublicKeySize, public_key.size());
  }
  Bytes out(message.size() + crypto_box_SEALBYTES);
  if (crypto_box_seal(out.data(), message.data(), message.size(), public_key.data()) != 0) {
    return Status::InvalidArgument(std::string(L("公開鍵が不正です", "invalid public key")));
  }
  return out;
}

Result<Bytes> SealedBoxOpen(ByteView public_key, ByteView secret_key, ByteView sealed) {
  EnsureSodium();
  if (public_key.size() != kBoxPublicKeySize) {
    return BadKeySize("公開鍵", "public key", kBoxPublicKeySize, public_key.size());
  }
  if (secret_key.size() != kBoxSecretKeySize) {
    return BadKeySize("秘密鍵", "secret key", kBoxSecretKeySize, secret_key.size());
  }
  Status failed = Status::Unauthorized(std::string(
      L("暗号化された鍵 (sealed box) を開けませんでした: この鍵ペア宛てではないか、データが破損しています",
        "could not open the sealed box: it was not sealed to this key or it is damaged")));
  if (sealed.size() < crypto_box_SEALBYTES) return failed;
  Bytes out(sealed.size() - crypto_box_SEALBYTES);
  if (crypto_box_seal_open(out.data(), sealed.data(), sealed.size(), public_key.data(), secret_key.data()) !=
      0) {
    return failed;
  }
  return out;
}

}  // namespace kura::crypto
