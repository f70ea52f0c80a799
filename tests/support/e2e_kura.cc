#include "support/e2e_kura.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace kura::testing {

nlohmann::json KuraRun::Json() const {
  return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
}

std::string KuraBinary() {
  if (const char* bin = std::getenv("KURA_BIN"); bin && *bin) return bin;
  char self[PATH_MAX] = {0};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string("./x");
  return dir.substr(0, dir.find_last_of('/')) + "/kura";
}

namespace {

struct ChildSpec {
  std::vector<std::string> argv;
  std::vector<std::string> envp;
};

ChildSpec Spec(const std::vector<std::string>& args, const Env& env) {
  ChildSpec s;
  s.argv.push_back(KuraBinary());
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  Env full = env;
  if (!full.count("PATH")) full["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& [k, v] : full) s.envp.push_back(k + "=" + v);
  return s;
}

[[noreturn]] void Exec(const ChildSpec& s) {
  std::vector<char*> argv, envp;
  for (const std::string& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : s.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  ::_exit(127);
}

}  // namespace

int WaitKura(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

KuraRun RunKura(const std::vector<std::string>& args, const Env& env, const std::string& stdin_data,
                int timeout_seconds) {
  ChildSpec spec = Spec(args, env);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    Exec(spec);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  KuraRun run;
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out[0], POLLIN, 0});
    if (err_open) fds.push_back({err[0], POLLIN, 0});
    if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ADD_FAILURE() << "kura timed out after " << timeout_seconds << " s";
      break;
    }
    if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) break;
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in_fd) {
        ssize_t n = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN) written = stdin_data.size();  // the child closed stdin
        if (written == stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        (p.fd == out[0] ? out_open : err_open) = false;
        continue;
      }
      (p.fd == out[0] ? run.out : run.err).append(buf, static_cast<size_t>(n));
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out[0]);
  ::close(err[0]);
  run.exit_code = WaitKura(pid);
  return run;
}

pid_t StartKura(const std::vector<std::string>& args, const Env& env) {
  ChildSpec spec = Spec(args, env);
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    Exec(spec);
  }
  return pid;
}

KuraE2ETest::KuraE2ETest() {
  repo_ = dir_.Sub("repo");
  env_ = {{"HOME", dir_.Sub("home")},      {"KURA_CACHE_DIR", dir_.Sub("cache")},
          {"KURA_ARGON2_MEM_KIB", "8192"}, {"KURA_ARGON2_OPS", "1"},
          {"KURA_REPOSITORY", repo_},      {"KURA_PASSWORD", "correct horse battery"},
          {"TMPDIR", dir_.path()}};
}

KuraRun KuraE2ETest::Kura(const std::vector<std::string>& args, const Env& extra,
                          const std::string& stdin_data) {
  Env env = env_;
  for (const auto& [k, v] : extra) env[k] = v;
  return RunKura(args, env, stdin_data);
}

nlohmann::json KuraE2ETest::KuraJson(const std::vector<std::string>& args, int expect_exit,
                                     const Env& extra) {
  std::vector<std::string> full{"--json"};
  full.insert(full.end(), args.begin(), args.end());
  KuraRun r = Kura(full, extra);
  EXPECT_EQ(r.exit_code, expect_exit)
      << "kura " << ::testing::PrintToString(args) << "\nstdout: " << r.out << "\nstderr: " << r.err;
  nlohmann::json j = r.Json();
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
  return j;
}

void KuraE2ETest::InitRepo() {
  KuraRun r = Kura({"init"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::string KuraE2ETest::BackupPaths(const std::vector<std::string>& paths,
                                     const std::vector<std::string>& flags) {
  std::vector<std::string> args{"backup"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.insert(args.end(), paths.begin(), paths.end());
  nlohmann::json j = KuraJson(args);
  return j.is_object() ? j.value("snapshot", "") : "";
}

}  // namespace kura::testing
