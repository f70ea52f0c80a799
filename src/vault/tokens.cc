#include "vault/tokens.h"

#include "util/hex.h"

namespace kura::vault {

static constexpr size_t kSelectorBytes = 8;

SplitToken NewToken(std::string_view prefix, size_t secret_bytes) {
  SplitToken t;
  t.selector = ToHex(crypto::RandomBytes(kSelectorBytes));
  Bytes secret = crypto::RandomBytes(secret_bytes);
  t.secret = ToHex(secret);
  SecureZero(secret.data(), secret.size());
  t.text = std::string(prefix) + "." + t.selector + "." + t.secret;
  return t;
}

static bool LowerHex(std::string_view s, size_t bytes) {
  if (s.size() != 2 * bytes) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<SplitToken> ParseToken(std::string_view text, std::string_view prefix, size_t secret_bytes) {
  if (text.size() != prefix.size() + 2 + 2 * kSelectorBytes + 2 * secret_bytes) return std::nullopt;
  if (text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '.') return std::nullopt;
  std::string_view rest = text.substr(prefix.size() + 1);
  std::string_view selector = rest.substr(0, 2 * kSelectorBytes);
  if (rest[2 * kSelectorBytes] != '.') return std::nullopt;
  std::string_view secret = rest.substr(2 * kSelectorBytes + 1);
  if (!LowerHex(selector, kSelectorBytes) || !LowerHex(secret, secret_bytes)) return std::nullopt;
  return SplitToken{std::string(selector), std::string(secret), std::string(text)};
}

crypto::Hash TokenSecretHash(const SplitToken& token, std::string_view prefix) {
  Bytes in;
  Append(in, AsBytes(prefix));
  in.push_back(0);
  Append(in, AsBytes(token.secret));
  crypto::Hash h = crypto::Sha256(in);
  SecureZero(in.data(), in.size());
  return h;
}

}  // namespace kura::vault
