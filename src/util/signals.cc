#include "util/signals.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

#include "util/i18n.h"
#include "util/process.h"

namespace kura {

namespace {

// Lock-free atomics and write(2) are all the handler touches (async-signal-safe).
std::atomic<int> g_stop_signal{0};
std::atomic<int> g_wake_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

constexpr char kWakeSignal = 's';
constexpr char kWakeQuit = 'q';

struct Installed {
  int pipe_fd[2] = {-1, -1};
  struct sigaction old_int {};
  struct sigaction old_term {};
  std::thread watcher;
};
Installed* g_installed = nullptr;

void OnSignal(int signal) {
  int saved = errno;
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, signal);
  int fd = g_wake_fd.load();
  if (fd >= 0) {
    char c = kWakeSignal;
    (void)!::write(fd, &c, 1);
  }
  errno = saved;
}

// Waits up to `ms` for a byte; returns it, or 0 on timeout.
char WaitByte(int fd, int ms) {
  for (;;) {
    struct pollfd p {
      fd, POLLIN, 0
    };
    int rc = ::poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return 0;
    char c = 0;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    return n == 1 ? c : kWakeQuit;
  }
}

void Watch(int fd) {
  for (;;) {
    char c = WaitByte(fd, -1);
    if (c == kWakeQuit) return;
    if (c != kWakeSignal) continue;
    // Only the children running now: a child started later (by the code that is cleaning
    // up) is not ours to stop.
    uint64_t started = ChildStartCount();
    if (SignalRunningChildren(SIGTERM, started) == 0) continue;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kChildStopGraceMs);
    bool quit = false;
    while (std::chrono::steady_clock::now() < deadline) {
      char again = WaitByte(fd, 50);
      if (again == kWakeQuit) {
        quit = true;
        break;
      }
      if (SignalRunningChildren(0, started) == 0) break;  // all reaped
    }
    SignalRunningChildren(SIGKILL, started);
    if (quit) return;
  }
}

}  // namespace

StopOnSignals::StopOnSignals() {
  auto* in = new Installed();
  if (::pipe2(in->pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
    delete in;
    return;  // without the pipe the signals keep their default action: kura still stops
  }
  // The reading end blocks in poll(); only the handler's end must never block.
  ::fcntl(in->pipe_fd[0], F_SETFL, 0);
  g_wake_fd.store(in->pipe_fd[1]);
  in->watcher = std::thread([fd = in->pipe_fd[0]] { Watch(fd); });
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking calls resume; the children's exit ends them
  ::sigaction(SIGINT, &sa, &in->old_int);
  ::sigaction(SIGTERM, &sa, &in->old_term);
  g_installed = in;
}

StopOnSignals::~StopOnSignals() {
  Installed* in = g_installed;
  if (in == nullptr) return;
  ::sigaction(SIGINT, &in->old_int, nullptr);
  ::sigaction(SIGTERM, &in->old_term, nullptr);
  char c = kWakeQuit;
  while (::write(in->pipe_fd[1], &c, 1) < 0 && errno == EINTR) {
  }
  if (in->watcher.joinable()) in->watcher.join();
  g_wake_fd.store(-1);
  ::close(in->pipe_fd[0]);
  ::close(in->pipe_fd[1]);
  g_installed = nullptr;
  delete in;
}

bool StopRequested() {
  return g_stop_signal.load() != 0;
}

int StopSignal() {
  return g_stop_signal.load();
}

Status StoppedStatus() {
  const char* name = StopSignal() == SIGTERM ? "SIGTERM" : "SIGINT";
  return Status::Cancelled(
             Tr("{} を受けたため中止しました。何も保存していません "
                "(途中のデータは次回のバックアップで使われるか、"
                "不要データの削除で片付きます)",
                "stopped by {}: nothing was saved (data written so far is reused by the next backup or "
                "removed by the next prune)",
                name))
      .WithAdvice(Advice::kPrune);
}

Status CheckStop() {
  return StopRequested() ? StoppedStatus() : Status::Ok();
}

void RequestStopForTesting(int signal) {
  g_stop_signal.store(signal);
}

void ClearStopForTesting() {
  g_stop_signal.store(0);
}

}  // namespace kura
