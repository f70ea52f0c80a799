#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "vault_e2e/vault_run.h"

namespace kura::vault::testing {

nlohmann::json VaultRun::Json() const {
  return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
}

static std::string DirOf(const std::string& path) {
  return path.substr(0, path.find_last_of('/'));
}

std::string VaultBinary() {
  if (const char* bin = std::getenv("KURA_VAULT_BIN"); bin && *bin) return bin;
  if (const char* kura = std::getenv("KURA_BIN"); kura && *kura) return DirOf(kura) + "/kura-vault";
  char self[PATH_MAX] = {0};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  return DirOf(n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string("./x")) + "/kura-vault";
}

static pid_t Spawn(const std::vector<std::string>& args, const Env& env, const std::string& out_path,
                   const std::string& err_path) {
  std::vector<std::string> argv_s = {VaultBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  Env full = env;
  if (!full.count("PATH")) full["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> envp_s;
  for (const auto& [k, v] : full) envp_s.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : envp_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int WaitVault(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

static std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

VaultRun RunVault(const std::vector<std::string>& args, const Env& env) {
  static std::atomic<int> counter{0};
  const char* tmp = std::getenv("TMPDIR");
  std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/kura-vault-run-" +
                     std::to_string(::getpid()) + "-" + std::to_string(counter++);
  pid_t pid = Spawn(args, env, base + ".out", base + ".err");
  VaultRun r;
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return r;
  }
  r.exit_code = WaitVault(pid);
  r.out = Slurp(base + ".out");
  r.err = Slurp(base + ".err");
  ::unlink((base + ".out").c_str());
  ::unlink((base + ".err").c_str());
  EXPECT_NE(r.exit_code, 127) << "cannot run " << VaultBinary();
  return r;
}

pid_t StartVault(const std::vector<std::string>& args, const Env& env, const std::string& scratch) {
  static std::atomic<int> counter{0};
  std::string base = scratch + "/run-" + std::to_string(counter++);
  return Spawn(args, env, base + ".out", base + ".err");
}

pid_t StartVaultTo(const std::vector<std::string>& args, const Env& env, const std::string& out_path,
                   const std::string& err_path) {
  return Spawn(args, env, out_path, err_path);
}

}  // namespace kura::vault::testing
