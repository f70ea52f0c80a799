// Running the real `kura-vault` binary as an operator would, for end-to-end tests: a
// fresh minimal environment per call (nothing inherited), stdout and stderr captured.
//
// The binary is $KURA_VAULT_BIN, else kura-vault beside $KURA_BIN (CTest sets that to
// build/bin/kura), else kura-vault beside the test binary.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kura::vault::testing {

struct VaultRun {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
  nlohmann::json Json() const;  // stdout parsed; discarded when it is not JSON
};

std::string VaultBinary();

using Env = std::map<std::string, std::string>;

// Runs kura-vault with exactly `env` (plus PATH) and waits for it.
VaultRun RunVault(const std::vector<std::string>& args, const Env& env);
// Starts kura-vault with output to files under `scratch`; returns its pid.
pid_t StartVault(const std::vector<std::string>& args, const Env& env, const std::string& scratch);
// Starts kura-vault with stdout and stderr to the given files; returns its pid.
pid_t StartVaultTo(const std::vector<std::string>& args, const Env& env, const std::string& out_path,
                   const std::string& err_path);
// waitpid; the exit code or 128 + signal.
int WaitVault(pid_t pid);

}  // namespace kura::vault::testing
