// Key slots: the repository master key wrapped once per key holder (docs/format.md, "Key slots").
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "kura/status.h"

namespace kura {

// The master key and the subkeys derived from it. Thread-safe to share read-only.
struct RepoKeys {
  crypto::SecretKey master;
  crypto::SecretKey data;
  crypto::SecretKey blob_id;
  crypto::SecretKey chunker;
  crypto::SecretKey snapshot;
  crypto::SecretKey pages;  // keys where entry pages end (docs/format.md, "Entry pages")
  static RepoKeys Derive(const crypto::SecretKey& master);
};

// What a user presents to open a repository. Holds secrets: never log or print it.
struct Credentials {
  std::optional<std::string> password;
  // The password as kura before issue 6 read a password file that starts with a UTF-8 BOM
  // (the mark kept): tried only when `password` does not open a password slot, so slots
  // made from such a file still open (util/secret_file.h).
  std::optional<std::string> password_with_bom;
  std::optional<std::string> key_file;                  // path to a key file
  std::optional<std::string> recovery_secret_key_file;  // path to the vendor's X25519 secret key (hex)
  bool empty() const { return !password && !key_file && !recovery_secret_key_file; }
};

enum class KeySlotKind { kPassword, kKeyFile, kRecovery };
std::string_view KeySlotKindName(KeySlotKind kind);

// bugprone-exception-escape: nlohmann::json's special members may throw in theory; nothing
// kura calls on a KeySlot throws.
struct KeySlot {   // NOLINT(bugprone-exception-escape)
  std::string id;  // object name
  KeySlotKind kind = KeySlotKind::kPassword;
  std::string label;
  std::string host;
  std::string created;
  nlohmann::json doc;  // the whole slot document
  // False when the bytes no longer hash to the slot's name (its SHA-256): damaged on disk,
  // so a failure to open it is damage, not a wrong password.
  bool intact = true;
};

struct KeySlotInfo {
  std::string repository_id;
  std::string label;
  std::string host;
  std::string created;
};

// Argon2id cost for new slots. Default: 64 MiB, 3 passes. KURA_ARGON2_MEM_KIB and
// KURA_ARGON2_OPS override it (for tests and very small machines; at least 8 MiB, 1 pass).
crypto::Argon2Params NewSlotArgon2Params();

Result<Bytes> MakeSecretSlot(const crypto::SecretKey& master, KeySlotKind kind, std::string_view secret,
                             const KeySlotInfo& info);
Result<Bytes> MakeRecoverySlot(const crypto::SecretKey& master, ByteView recovery_public_key,
                               const KeySlotInfo& info);

// Errors: kCorruption (not a key slot), kUnsupported (newer version).
Result<KeySlot> ParseKeySlot(const std::string& id, ByteView bytes);

// Unwraps the master key with whatever `creds` offers that fits this slot.
// Errors: kUnauthorized when the slot does not open with these credentials;
// kNotFound when `creds` has nothing for this kind of slot.
Result<crypto::SecretKey> UnwrapSlot(const KeySlot& slot, const std::string& repository_id,
                                     const Credentials& creds);

// Reads a key file's secret (whitespace trimmed). Errors name the path.
Result<std::string> ReadKeyFile(const std::string& path);
// Makes a new key file with 32 random bytes in base64, mode 0600. Refuses to overwrite.
Status CreateKeyFile(const std::string& path);

}  // namespace kura
