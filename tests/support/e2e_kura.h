// Running the real `kura` binary as a user would, for end-to-end tests: a fresh, minimal
// environment per call (secrets only in the environment, never in argv), stdin from a
// string, stdout and stderr captured, the exit code returned.
//
// The binary is $KURA_BIN (CTest sets it), else `kura` next to the test binary.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/repo_testing.h"

namespace kura::testing {

struct KuraRun {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
  nlohmann::json Json() const;  // stdout parsed; null when it is not JSON
};

std::string KuraBinary();

// Environment for one call: exactly these variables (plus PATH), nothing inherited, so the
// user's LANG or KURA_* never leak into a test.
using Env = std::map<std::string, std::string>;

KuraRun RunKura(const std::vector<std::string>& args, const Env& env, const std::string& stdin_data = "",
                int timeout_seconds = 120);

// Starts kura in the background (stdout/stderr to /dev/null, stdin from /dev/null) and
// returns its pid; the caller kills and reaps it.
pid_t StartKura(const std::vector<std::string>& args, const Env& env);
// waitpid; returns the exit code or 128 + signal.
int WaitKura(pid_t pid);

// A per-test home for e2e scenarios: a repository path, a private cache, a cheap KDF and
// the password in KURA_PASSWORD. Japanese is the default language (no LANG set).
class KuraE2ETest : public ::testing::Test {
 protected:
  KuraE2ETest();
  // Runs kura with the fixture's environment plus `extra`.
  KuraRun Kura(const std::vector<std::string>& args, const Env& extra = {},
               const std::string& stdin_data = "");
  // Runs kura with --json (first) and returns the parsed stdout; ADD_FAILURE unless the
  // exit code is `expect_exit`.
  nlohmann::json KuraJson(const std::vector<std::string>& args, int expect_exit = 0, const Env& extra = {});
  // `kura init` of repo_ (fails the test if it does not succeed).
  void InitRepo();
  // A backup of `paths`; returns the snapshot ID.
  std::string BackupPaths(const std::vector<std::string>& paths, const std::vector<std::string>& flags = {});

  TempDir dir_{"kura-e2e"};
  std::string repo_;
  Env env_;
};

// The exit codes of src/cli/exit_codes.h, spelled out so a renumbering breaks these tests.
inline constexpr int kExitOk = 0, kExitUsage = 2, kExitRepoNotFound = 3, kExitUnauthorized = 4,
                     kExitSourceFailed = 5, kExitNoSpace = 7, kExitDamaged = 8, kExitPartial = 11;

}  // namespace kura::testing
