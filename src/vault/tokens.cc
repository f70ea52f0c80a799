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
  t.text = std::string(prefix) + "_" + t.selector + "_" + t.secret;
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
  if (text.substr(0, prefix.size()) != prefix || text[prefix.size()] != '_') return std::nullopt;
  std::string_view rest = text.substr(prefix.size() + 1);
  std::string_view selector = rest.substr(0, 2 * kSelectorBytes);
  if (rest[2 * kSelectorBytes] != '_') return std::nullopt;
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

static constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static std::string SelectorOf(std::string_view secret) {
  Bytes in;
  Append(in, AsBytes(std::string_view("kura enrolment selector")));
  in.push_back(0);
  Append(in, AsBytes(secret));
  crypto::Hash h = crypto::Sha256(in);
  return ToHex(ByteView(h.data(), kSelectorBytes));
}

SplitToken NewEnrolmentSecret() {
  Bytes raw = crypto::RandomBytes(20);
  std::string text;
  // 20 bytes are 160 bits: exactly 32 groups of 5.
  uint64_t acc = 0;
  int bits = 0;
  for (uint8_t b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text += kBase32[(acc >> bits) & 31];
    }
  }
  SecureZero(raw.data(), raw.size());
  return SplitToken{SelectorOf(text), text, text};
}

std::optional<SplitToken> ParseEnrolmentSecret(std::string_view text) {
  if (text.size() != kEnrolmentSecretChars) return std::nullopt;
  std::string upper;
  for (char c : text) {
    char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (kBase32.find(u) == std::string_view::npos) return std::nullopt;
    upper += u;
  }
  return SplitToken{SelectorOf(upper), upper, upper};
}

std::string FormatEnrolmentCode(std::string_view secret, std::string_view fingerprint_hex) {
  return "KURA1-" + std::string(secret) + "-" + std::string(fingerprint_hex);
}

std::optional<EnrolmentCodeParts> ParseEnrolmentCode(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  constexpr std::string_view kPrefix = "KURA1-";
  if (text.size() != kPrefix.size() + kEnrolmentSecretChars + 1 + 64 || !text.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(kPrefix.size());
  if (rest[kEnrolmentSecretChars] != '-') return std::nullopt;
  auto secret = ParseEnrolmentSecret(rest.substr(0, kEnrolmentSecretChars));
  std::string_view fp = rest.substr(kEnrolmentSecretChars + 1);
  if (!secret || !LowerHex(fp, 32)) return std::nullopt;
  return EnrolmentCodeParts{secret->secret, std::string(fp)};
}

}  // namespace kura::vault
