// vault.toml, kura-vault's configuration file (docs/vault-config.md, version
// kVaultConfigVersion). `kura-vault init` writes the embedded defaults; every other
// command reads it from the data directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"

namespace kura::vault {

inline constexpr int kVaultConfigVersion = 1;
inline constexpr const char* kVaultConfigName = "vault.toml";

// [server] and [limits] (docs/vault-config.md): where `kura-vault serve` listens and with
// what limits. Defaults are those of docs/vault-http.md §3.
struct ServerConfig {
  std::string listen_host = "0.0.0.0";  // an IPv4 or IPv6 literal
  uint16_t listen_port = 8443;
  std::string certificate;  // absolute; Default: <data_dir>/tls/server.crt
  std::string key;          // absolute, mode 0600; Default: <data_dir>/tls/server.key
  // GET /metrics peers: IP literals or CIDR ranges. Default: loopback only.
  std::vector<std::string> metrics_allow = {"127.0.0.1", "::1"};
  uint64_t max_header_bytes = uint64_t{16} << 10;
  uint64_t max_pack_bytes = uint64_t{1} << 30;
  uint64_t max_connections = 2048;
  uint64_t worker_threads = 16;
  int64_t header_timeout_seconds = 10;
  int64_t body_timeout_seconds = 30;
  int64_t idle_timeout_seconds = 60;
  int64_t stop_grace_seconds = 30;
};

// "HOST:PORT" or "[v6]:PORT". kInvalidArgument otherwise.
Status ParseListen(std::string_view text, std::string* host, uint16_t* port);

// [gc] and [scrub] (docs/vault-config.md): garbage collection's grace and upload lease,
// scrub's budget per run and the period in which it covers everything.
struct GcScrubConfig {
  int64_t gc_grace_days = 7;
  int64_t gc_upload_lease_seconds = 21600;
  int64_t scrub_budget_seconds = 600;
  int64_t scrub_period_days = 30;
};

struct VaultConfig {
  std::string data_dir;  // the directory holding vault.toml
  std::string catalog_kind = "sqlite";
  std::string catalog_path;  // absolute (a relative path in the file is relative to data_dir)
  std::string objects_kind = "local";
  std::string objects_dir;  // absolute, likewise
  ServerConfig server;
  GcScrubConfig gc_scrub;
};

// The text `kura-vault init` writes: the embedded defaults, with comments. `certificate`
// and `key` are written as given (relative to the data directory or absolute).
// REQUIRES: neither contains '"', '\\' or a control character.
std::string DefaultVaultToml(const std::string& certificate = "tls/server.crt",
                             const std::string& key = "tls/server.key");

// Parses vault.toml text. Unknown keys and tables are errors (a misspelt key must not
// silently mean the default). `file` names it in messages, which never quote its text.
// Errors: kInvalidArgument, kUnsupported (a newer version).
Result<VaultConfig> ParseVaultConfig(const std::string& text, const std::string& file,
                                     const std::string& data_dir);

// Reads `data_dir`/vault.toml. Errors: kNotFound ("run kura-vault init"), and those of
// ParseVaultConfig.
Result<VaultConfig> LoadVaultConfig(const std::string& data_dir);

}  // namespace kura::vault
