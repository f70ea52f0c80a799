#include "vault/password.h"

#include <sodium.h>

#include <algorithm>
#include <array>

#include "util/i18n.h"

namespace kura::vault {

Result<std::string> HashPassword(std::string_view password, const crypto::Argon2Params& cost) {
  if (cost.ops_limit < crypto_pwhash_OPSLIMIT_MIN || cost.mem_limit < crypto_pwhash_MEMLIMIT_MIN ||
      cost.mem_limit > crypto_pwhash_MEMLIMIT_MAX) {
    return Status::InvalidArgument(
        Tr("パスワードハッシュのコスト設定が範囲外です", "the password hash cost is out of range"));
  }
  if (sodium_init() < 0) return Status::Internal("sodium_init failed");
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), cost.ops_limit,
                            static_cast<size_t>(cost.mem_limit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::Internal(
        Tr("パスワードハッシュのメモリを確保できません", "out of memory for the password hash"));
  }
  return std::string(out.data());
}

bool CheckPassword(const std::string& stored, std::string_view password) {
  if (sodium_init() < 0) return false;
  if (stored.rfind("$argon2id$", 0) != 0) return false;
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

std::string RandomInitialPassword(size_t length) {
  static constexpr std::string_view kLetters = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
  static constexpr std::string_view kDigits = "23456789";
  static constexpr std::string_view kSymbols = "!#%+-=?@_";
  static const std::string kAll = std::string(kLetters) + std::string(kDigits) + std::string(kSymbols);
  length = std::max<size_t>(length, 12);
  // Uniform choices (randombytes_uniform has no modulo bias), redrawn until every class
  // appears: with 20 characters that takes one or two draws.
  for (;;) {
    std::string out;
    for (size_t i = 0; i < length; ++i) out += kAll[randombytes_uniform(static_cast<uint32_t>(kAll.size()))];
    auto has = [&](std::string_view set) { return out.find_first_of(set) != std::string::npos; };
    if (has(kLetters) && has(kDigits) && has(kSymbols)) return out;
  }
}

}  // namespace kura::vault
