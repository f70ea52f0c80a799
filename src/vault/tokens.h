// Secrets the vault hands out once and keeps only as hashes (docs/vault-catalog.md
// "Tokens"): site credentials and enrolment codes.
//
// A token is "<prefix>_<selector>_<secret>" (docs/vault-api.md §2): the selector (8 random
// bytes, hex) finds the row, the secret (hex) is never stored; the catalog keeps SHA-256 of it and compares
// that in constant time. The secret has 128 bits or more of entropy, so a fast hash suffices (there is
// nothing to guess), and looking a row up by the selector leaks nothing about the secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.h"

namespace kura::vault {

inline constexpr std::string_view kSiteTokenPrefix = "kst1";  // site credential, 32-byte secret
inline constexpr std::string_view kGrantPrefix = "kgr1";      // restore grant, 32-byte secret
inline constexpr std::string_view kSessionPrefix = "krs1";    // restore session, 32-byte secret
// Enrolment codes have their own shape (below); this prefix only separates their hashes.
inline constexpr std::string_view kEnrolmentPrefix = "kve1";

struct SplitToken {
  std::string selector;  // 16 lowercase hex digits
  std::string secret;    // lowercase hex
  std::string text;      // the whole token, as given to the holder
};

// A fresh token with `secret_bytes` random bytes of secret.
SplitToken NewToken(std::string_view prefix, size_t secret_bytes);
// Parses a token of that prefix and secret size; nullopt for anything else (wrong prefix,
// length, non-hex or uppercase characters).
std::optional<SplitToken> ParseToken(std::string_view text, std::string_view prefix, size_t secret_bytes);
// What the catalog stores for a token: SHA-256 over the prefix, a 0 byte and the secret.
crypto::Hash TokenSecretHash(const SplitToken& token, std::string_view prefix);

// Enrolment codes (docs/vault-api.md §3): "KURA1-<secret>-<fingerprint>", the secret 32
// base32 characters (RFC 4648 alphabet, 20 random bytes: 160 bits), the fingerprint the 64
// lowercase hex digits of the vault certificate's SHA-256. The secret is short enough to
// read out over the phone, so it carries no selector: the row is found by a selector
// derived from the secret (a hash; it tells nothing about the secret it came from).
inline constexpr size_t kEnrolmentSecretChars = 32;
// A fresh secret: `text` and `secret` are the 32 characters, `selector` derived from them.
SplitToken NewEnrolmentSecret();
// nullopt unless 32 characters of the base32 alphabet (upper case; lower case is accepted
// and upper-cased, as people type it).
std::optional<SplitToken> ParseEnrolmentSecret(std::string_view text);

struct EnrolmentCodeParts {
  std::string secret;       // 32 base32 characters
  std::string fingerprint;  // 64 lowercase hex
};
std::string FormatEnrolmentCode(std::string_view secret, std::string_view fingerprint_hex);
// nullopt for anything but "KURA1-<32 base32>-<64 hex>" (surrounding spaces ignored).
std::optional<EnrolmentCodeParts> ParseEnrolmentCode(std::string_view text);

}  // namespace kura::vault
