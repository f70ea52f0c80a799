// vault.toml, kura-vault's configuration file (docs/vault-config.md, version
// kVaultConfigVersion). `kura-vault init` writes the embedded defaults; every other
// command reads it from the data directory.
#pragma once

#include <string>

#include "kura/status.h"

namespace kura::vault {

inline constexpr int kVaultConfigVersion = 1;
inline constexpr const char* kVaultConfigName = "vault.toml";

struct VaultConfig {
  std::string data_dir;  // the directory holding vault.toml
  std::string catalog_kind = "sqlite";
  std::string catalog_path;  // absolute (a relative path in the file is relative to data_dir)
  std::string objects_kind = "local";
  std::string objects_dir;  // absolute, likewise
};

// The text `kura-vault init` writes: the embedded defaults, with comments.
std::string DefaultVaultToml();

// Parses vault.toml text. Unknown keys and tables are errors (a misspelt key must not
// silently mean the default). `file` names it in messages, which never quote its text.
// Errors: kInvalidArgument, kUnsupported (a newer version).
Result<VaultConfig> ParseVaultConfig(const std::string& text, const std::string& file,
                                     const std::string& data_dir);

// Reads `data_dir`/vault.toml. Errors: kNotFound ("run kura-vault init"), and those of
// ParseVaultConfig.
Result<VaultConfig> LoadVaultConfig(const std::string& data_dir);

}  // namespace kura::vault
