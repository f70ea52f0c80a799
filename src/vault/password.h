// Operator passwords (docs/vault-catalog.md "operators"): stored only as libsodium's
// Argon2id string (crypto_pwhash_str: "$argon2id$v=19$m=...,t=...,p=1$salt$hash", with a
// fresh random salt and the cost inside), verified in constant time.
#pragma once

#include <string>
#include <string_view>

#include "crypto/crypto.h"
#include "kura/status.h"

namespace kura::vault {

// The hash of `password` at cost `cost` (crypto::Argon2Params; Default: 3 passes, 64 MiB).
// Errors: kInvalidArgument for a cost outside libsodium's limits, kInternal when the memory
// cannot be had.
Result<std::string> HashPassword(std::string_view password, const crypto::Argon2Params& cost);

// True when `password` matches `stored` (a HashPassword result). False for a wrong
// password and for a `stored` that is not an Argon2id string.
bool CheckPassword(const std::string& stored, std::string_view password);

// A random initial password of `length` characters (at least 12) from letters, digits and
// symbols, with at least one of each (G-AUTH-06), avoiding look-alikes (0/O, 1/l/I).
std::string RandomInitialPassword(size_t length = 20);

}  // namespace kura::vault
