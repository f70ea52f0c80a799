#include "util/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "util/fs.h"
#include "util/i18n.h"

extern char** environ;

namespace kura {

namespace {

// How long the stderr collector keeps reading after the child has exited when the pipe
// stays open (a grandchild that inherited stderr). Bounded so Wait() cannot hang on it.
constexpr int kStderrIdleAfterExitMs = 100;

std::string PathFromEnv(const ProcessOptions& options) {
  for (const auto& [key, value] : options.env) {
    if (key == "PATH") return value;
  }
  const char* path = std::getenv("PATH");
  return path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
}

std::string FindInSearchPath(const std::string& program, const std::string& search_path) {
  if (program.empty()) return "";
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? program : "";
  }
  size_t start = 0;
  while (start <= search_path.size()) {
    size_t end = search_path.find(':', start);
    if (end == std::string::npos) end = search_path.size();
    // An empty PATH element means the current directory.
    std::string dir = end > start ? search_path.substr(start, end - start) : std::string(".");
    std::string candidate = dir;  // appended piecewise: GCC 12 warns (-Wrestrict) on a + "/" + b
    candidate.append("/").append(program);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

Status MissingProgram(const std::string& program) {
  return Status::NotFound(
      Tr("プログラム {} が見つかりません。{} をインストールするか、PATH を確認してください",
         "program {} not found. Install {} or check PATH", program, program));
}

std::vector<std::string> ParentEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

// Writes to a pipe without letting SIGPIPE kill kura when the child has gone away: SIGPIPE is
// blocked for this thread during the write and a SIGPIPE caused by it is consumed, so the
// write fails with EPIPE instead (the technique git and curl use; no process-wide handler).
class PipeWriter : public ByteWriter {
 public:
  explicit PipeWriter(std::string name) : name_(std::move(name)) {}
  ~PipeWriter() override { Close(); }
  void Reset(int fd) { fd_ = fd; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  Status Write(const uint8_t* buf, size_t n) override {
    if (fd_ < 0) {
      return Status::IOError(
          Tr("{} の標準入力は既に閉じられています", "stdin of {} is already closed", name_));
    }
    sigset_t pipe_set, old_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    ::sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    Status result;
    size_t off = 0;
    while (off < n) {
      ssize_t k = ::write(fd_, buf + off, n - off);
      if (k < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        if (err == EPIPE && !was_pending) {
          struct timespec zero {};
          ::sigtimedwait(&pipe_set, nullptr, &zero);
        }
        if (err == EPIPE) {
          result = Status::IOError(Tr("{} が入力を読み終える前に終了しました",
                                      "{} exited before reading all of its input", name_));
        } else {
          result = ErrnoStatus(err, L("書き込み", "write"), name_);
        }
        break;
      }
      off += static_cast<size_t>(k);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
    return result;
  }

 private:
  int fd_ = -1;
  std::string name_;
};

class PosixProcess;

// Every child not yet reaped, so that kura can ask them all to stop when it is asked to.
struct LiveChildren {
  std::mutex mu;
  std::vector<std::pair<uint64_t, PosixProcess*>> list;  // guarded by mu
  uint64_t started = 0;                                  // guarded by mu
};
LiveChildren& Live() {
  static LiveChildren* live = new LiveChildren();  // never destroyed: used until exit
  return *live;
}

class PosixProcess : public Process {
 public:
  PosixProcess(pid_t pid, const std::string& name, int stdin_fd, int stdout_fd, int stderr_fd,
               size_t tail_bytes)
      : pid_(pid),
        name_(name),
        stdout_(stdout_fd, /*owns=*/true, name + " (stdout)"),
        stdin_(name + " (stdin)"),
        tail_max_(tail_bytes) {
    stdin_.Reset(stdin_fd);
    stderr_thread_ = std::thread([this, stderr_fd] { CollectStderr(stderr_fd); });
    LiveChildren& live = Live();
    std::lock_guard lock(live.mu);
    live.list.emplace_back(++live.started, this);
  }

  ~PosixProcess() override {
    if (!waited_) {
      Kill();
      (void)Wait();
    }
    Unregister();
  }

  ByteReader& Stdout() override { return stdout_; }
  ByteWriter& Stdin() override { return stdin_; }
  void CloseStdin() override { stdin_.Close(); }

  Result<int> Wait() override {
    if (waited_) return exit_code_;
    CloseStdin();  // a child reading stdin to EOF would otherwise never exit
    // Wait for the exit without reaping (WNOWAIT): until the zombie is reaped below, under
    // reap_mu_, its pid and process group number cannot be reused, so Signal() from another
    // thread (the hook watchdog, the signal watcher) can never hit another program's group.
    int wait_error = 0;
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0) break;
      if (errno == EINTR) continue;
      wait_error = errno;
      break;
    }
    int status = 0;
    {
      std::lock_guard lock(reap_mu_);
      if (wait_error == 0) {
        while (::waitpid(pid_, &status, 0) < 0) {
          if (errno == EINTR) continue;
          wait_error = errno;
          break;
        }
      }
      reaped_ = true;  // also on failure: a pid we cannot wait for is not ours to signal
    }
    Unregister();
    exited_.store(true);
    if (stderr_thread_.joinable()) stderr_thread_.join();
    waited_ = true;
    if (wait_error != 0) {
      exit_code_ = -1;
      return Status::Internal(
          Tr("{} の終了を待てません: {}", "cannot wait for {}: {}", name_, std::strerror(wait_error)));
    }
    if (WIFEXITED(status)) {
      exit_code_ = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      exit_code_ = 128 + WTERMSIG(status);
    } else {
      exit_code_ = -1;
    }
    return exit_code_;
  }

  void Kill() override { Signal(SIGKILL); }

  void Signal(int signal) override {
    std::lock_guard lock(reap_mu_);
    if (reaped_) return;  // the pid may already belong to another process
    // The child leads its own process group, so `sh -c` pipelines get the signal too.
    ::kill(-pid_, signal);
    ::kill(pid_, signal);
  }

  int pid() const override { return pid_; }

  std::string StderrTail() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return tail_;
  }

 private:
  void CollectStderr(int fd) {
    char buf[4096];
    for (;;) {
      struct pollfd p {
        fd, POLLIN, 0
      };
      int timeout = exited_.load() ? kStderrIdleAfterExitMs : 50;
      int rc = ::poll(&p, 1, timeout);
      if (rc < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (rc == 0) {
        if (exited_.load() && timeout == kStderrIdleAfterExitMs) break;
        continue;
      }
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        break;
      }
      if (n == 0) break;
      AppendTail(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  }

  void Unregister() {
    LiveChildren& live = Live();
    std::lock_guard lock(live.mu);
    std::erase_if(live.list, [this](const auto& entry) { return entry.second == this; });
  }

  void AppendTail(const char* data, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    tail_.append(data, n);
    if (tail_.size() > tail_max_) {
      size_t cut = tail_.size() - tail_max_;
      // Do not start the tail in the middle of a UTF-8 sequence (Japanese messages).
      while (cut < tail_.size() && (static_cast<unsigned char>(tail_[cut]) & 0xC0) == 0x80) ++cut;
      tail_.erase(0, cut);
    }
  }

  pid_t pid_;
  std::string name_;
  FdReader stdout_;
  PipeWriter stdin_;
  size_t tail_max_;
  std::thread stderr_thread_;
  std::atomic<bool> exited_{false};
  bool waited_ = false;  // only the waiting thread reads and writes it
  std::mutex reap_mu_;   // held while reaping and while signalling
  bool reaped_ = false;  // guarded by reap_mu_
  int exit_code_ = -1;
  mutable std::mutex mu_;
  std::string tail_;  // guarded by mu_
};

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) ::close(f);
    }
  }
  int Release(int i) {
    int f = fd[i];
    fd[i] = -1;
    return f;
  }
};

}  // namespace

bool IsKuraSecretVariable(std::string_view name) {
  if (!name.starts_with("KURA_")) return false;
  if (name.ends_with("_FILE")) return false;  // a path (KURA_PASSWORD_FILE), not the secret
  for (std::string_view word : {"PASSWORD", "SECRET", "TOKEN", "PASSPHRASE", "PASSWD"}) {
    if (name.find(word) != std::string_view::npos) return true;
  }
  return false;
}

std::vector<std::string> BuildChildEnvironment(const ProcessOptions& options,
                                               const std::vector<std::string>& parent) {
  auto removed = [&](std::string_view entry) {
    std::string_view key = entry.substr(0, entry.find('='));
    if (IsKuraSecretVariable(key)) return true;
    for (const auto& u : options.unset_env) {
      if (key == u) return true;
    }
    for (const auto& [k, v] : options.env) {
      if (key == k) return true;
    }
    return false;
  };
  std::vector<std::string> out;
  for (const std::string& e : parent) {
    if (!removed(e)) out.push_back(e);
  }
  for (const auto& [k, v] : options.env) out.push_back(k + "=" + v);
  return out;
}

int SignalRunningChildren(int signal, uint64_t started_up_to) {
  LiveChildren& live = Live();
  std::lock_guard lock(live.mu);
  int n = 0;
  for (const auto& [number, child] : live.list) {
    if (number > started_up_to) continue;
    child->Signal(signal);
    ++n;
  }
  return n;
}

uint64_t ChildStartCount() {
  LiveChildren& live = Live();
  std::lock_guard lock(live.mu);
  return live.started;
}

std::string FindInPath(const std::string& program) {
  ProcessOptions none;
  return FindInSearchPath(program, PathFromEnv(none));
}

Result<std::unique_ptr<Process>> Process::Start(const ProcessOptions& options) {
  if (options.argv.empty())
    return Status::InvalidArgument(std::string(L("実行するコマンドが空です", "empty command")));
  const std::string& program = options.argv[0];
  std::string exe = FindInSearchPath(program, PathFromEnv(options));
  if (exe.empty()) return MissingProgram(program);

  Pipe in, out, err;
  if ((options.pipe_stdin && ::pipe2(in.fd, O_CLOEXEC) != 0) ||
      (options.pipe_stdout && ::pipe2(out.fd, O_CLOEXEC) != 0) || ::pipe2(err.fd, O_CLOEXEC) != 0) {
    return ErrnoStatus(errno, L("パイプ作成", "pipe"), program);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.pipe_stdin) {
    posix_spawn_file_actions_adddup2(&actions, in.fd[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (options.pipe_stdout) {
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t no_signals, all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);  // undo any SIG_IGN (SIGPIPE) of ours
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<std::string> env = BuildChildEnvironment(options, ParentEnvironment());
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argvp;
  for (auto& a : args) argvp.push_back(a.data());
  argvp.push_back(nullptr);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, exe.c_str(), &actions, &attr, argvp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (rc == ENOENT) {
      if (!options.cwd.empty() && !PathExists(options.cwd)) {
        return ErrnoStatus(rc, L("作業ディレクトリへの移動", "chdir"), options.cwd);
      }
      return MissingProgram(program);
    }
    return ErrnoStatus(rc, L("プログラムの起動", "starting a program"), exe);
  }

  int stdin_fd = options.pipe_stdin ? in.Release(1) : -1;
  int stdout_fd = options.pipe_stdout ? out.Release(0) : -1;
  std::unique_ptr<Process> p = std::make_unique<PosixProcess>(pid, program, stdin_fd, stdout_fd,
                                                              err.Release(0), options.stderr_tail_bytes);
  return p;
}

Result<ProcessOutput> RunProcess(const ProcessOptions& options, size_t max_stdout) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<Process> p, Process::Start(options));
  ProcessOutput result;
  if (options.pipe_stdout) {
    uint8_t buf[1 << 15];
    for (;;) {
      KURA_ASSIGN_OR_RETURN(size_t n, p->Stdout().Read(buf, sizeof buf));
      if (n == 0) break;
      // Past max_stdout the output is drained and dropped so the child never blocks on a full pipe.
      size_t keep = std::min(n, max_stdout - std::min(max_stdout, result.out.size()));
      result.out.append(reinterpret_cast<const char*>(buf), keep);
    }
  }
  KURA_ASSIGN_OR_RETURN(result.exit_code, p->Wait());
  result.err = p->StderrTail();
  return result;
}

}  // namespace kura
