// Helpers for the job end-to-end tests (tests/e2e/job_*_test.cc): run the real `kura`
// binary (KURA_BIN) in a sandbox directory with cheap key derivation, a private cache and
// an agent config of the test's own.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/process.h"

namespace kura::testing {

struct KuraRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class JobSandbox {
 public:
  JobSandbox();
  ~JobSandbox();
  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // The repository password file (0600), shared by every repository of the sandbox.
  std::string password_file() const { return Path("repo.pw"); }

  // The environment every kura child gets (cheap Argon2, private cache, the agent config).
  std::vector<std::pair<std::string, std::string>> Env() const;
  KuraRun Kura(const std::vector<std::string>& args) const;
  // Starts kura without waiting (for the agent); stdout and stderr go to files in dir().
  std::unique_ptr<Process> StartKura(const std::vector<std::string>& args) const;

  // `kura init` of <dir>/<name>; returns its path.
  std::string InitRepo(const std::string& name) const;
  void WriteConfig(const std::string& toml) const;  // <dir>/agent.toml
  void WriteFile(const std::string& name, const std::string& text, int mode = 0600) const;
  // Snapshot IDs in repository <dir>/<name>, oldest first.
  std::vector<std::string> Snapshots(const std::string& repo) const;

 private:
  std::string dir_;
};

}  // namespace kura::testing
