// A real `kura-vault serve` for end-to-end tests: a vault initialised in a temporary data
// directory with a tenant, a site and the tenant's recovery key, served on 127.0.0.1 at a
// port the kernel picks (read from serve's one JSON line), and clients pinned to the
// certificate fingerprint serve printed (net/http_client.h), as an agent is.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "net/tls.h"
#include "support/repo_testing.h"
#include "vault_e2e/vault_run.h"

namespace kura::vault::testing {

// One agent-API request as a site sends it: `token` as the bearer (none when empty), a JSON
// Content-Type on a POST with a body. A transport failure is a gtest failure and an empty
// response (status 0).
net::ClientResponse CallVault(net::HttpClient& client, const std::string& method, const std::string& path,
                              const std::string& body, const std::string& token,
                              std::vector<net::Header> headers = {});

// Replaces the first `from` in the file with `to` (a gtest failure when there is none).
void ReplaceInFile(const std::string& path, const std::string& from, const std::string& to);

class VaultServerEnv {
 public:
  // Runs init (fast Argon2), tenant add "sakura-clinic", site add "honin" and
  // set-recovery-key with a fresh X25519 key pair. Limits for tests: stop_grace 2 s,
  // body_timeout 5 s.
  VaultServerEnv();
  ~VaultServerEnv();  // SIGKILLs a server still running

  const std::string& data_dir() const { return data_; }
  const Env& env() const { return env_; }
  const Bytes& recovery_public_key() const { return recovery_public_; }
  std::string scratch() const { return dir_.Sub("scratch"); }

  // `kura-vault ARGS` with this environment.
  VaultRun Vault(const std::vector<std::string>& args) const;
  // site enroll --json; the code.
  std::string EnrolmentCode(const std::string& tenant = "sakura-clinic", const std::string& site = "honin");

  // serve --json --listen 127.0.0.1:0; false when it did not print its address in 20 s.
  bool Start();
  // Sends `sig`, waits; the exit code (128 + signal when killed).
  int Stop(int sig);
  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  const net::Fingerprint& fingerprint() const { return fingerprint_; }
  std::string stderr_text() const;

  std::unique_ptr<net::HttpClient> Client() const;

 private:
  kura::testing::TempDir dir_{"kura-vault-api"};
  std::string data_;
  Env env_;
  Bytes recovery_public_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  net::Fingerprint fingerprint_;
  std::string out_path_;
  std::string err_path_;
  int starts_ = 0;
};

}  // namespace kura::vault::testing
