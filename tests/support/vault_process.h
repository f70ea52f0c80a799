// The real kura-vault for the agent's end-to-end tests (tests/e2e): `kura-vault init` in a
// data directory with a tenant whose recovery key pair the test holds, sites enrolled on
// demand, and `serve` started, SIGKILLed and started again on the same port, as a vendor's
// vault is restarted under its agents. The binary is KURA_VAULT_BIN, else kura-vault next
// to KURA_BIN.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/process.h"

namespace kura::testing {

std::string VaultBin();

class JobSandbox;
// The agent config (<sandbox>/agent.toml) of one job "care": the files under <sandbox>/data,
// daily at 02:00, its first target the local repository <sandbox>/local (the sandbox's
// password file), its second the vault at `url`; state in <sandbox>/state.
void WriteVaultJobConfig(const JobSandbox& sb, const std::string& url);

class VaultProcess {
 public:
  // Runs init (cheap Argon2), `tenant add TENANT` and sets the tenant's recovery key from a
  // pair written to <dir>/recovery.{key,pub} (0600) by `kura key generate-recovery`.
  // Failures are gtest failures.
  VaultProcess(std::string dir, std::string tenant = "sakura-clinic");
  ~VaultProcess();  // SIGKILLs a server still running
  VaultProcess(const VaultProcess&) = delete;
  VaultProcess& operator=(const VaultProcess&) = delete;

  const std::string& data_dir() const { return data_; }
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  std::string recovery_key_file() const { return dir_ + "/recovery.key"; }
  bool running() const { return serve_ != nullptr; }

  // `kura-vault --data-dir DATA ARGS` (KURA_LANG=en); a gtest failure unless it exits 0
  // (or `expect_exit`; kAnyExit checks nothing).
  static constexpr int kAnyExit = -1;
  ProcessOutput Vault(const std::vector<std::string>& args, int expect_exit = 0) const;
  // `site add` + `site enroll`: the enrolment code (a secret: never log it).
  std::string EnrolSite(const std::string& site);

  // `serve --json --listen LISTEN` (127.0.0.1:0 picks a port); once a port was picked,
  // Start() again listens on the same one, so agents keep their URL across restarts.
  void Start(const std::string& listen = "");
  void Kill();  // SIGKILL, reaped
  void Stop();  // SIGTERM, reaped
  // The end of the running server's stderr (its log), "" when none runs.
  std::string StderrTail() const;

 private:
  std::string dir_, data_, tenant_, url_;
  int port_ = 0;
  std::unique_ptr<Process> serve_;
};

}  // namespace kura::testing
