// Secrets the vault hands out once and keeps only as hashes (docs/vault-catalog.md
// "Tokens"): site credentials and enrolment codes.
//
// A token is "<prefix>.<selector>.<secret>": the selector (8 random bytes, hex) finds the
// row, the secret (hex) is never stored; the catalog keeps SHA-256 of it and compares that
// in constant time. The secret has 128 bits or more of entropy, so a fast hash suffices
// (there is nothing to guess), and looking a row up by the selector leaks nothing about
// the secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.h"

namespace kura::vault {

inline constexpr std::string_view kSiteTokenPrefix = "kvs1";  // site credential, 32-byte secret
inline constexpr std::string_view kEnrolmentPrefix = "kve1";  // enrolment code, 16-byte secret

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

}  // namespace kura::vault
