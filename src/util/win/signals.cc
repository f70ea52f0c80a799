// Windows implementation of util/signals.h (docs/windows-port.md §6). Windows has no
// SIGINT/SIGTERM delivery: a console process gets control events instead, each on a new
// thread the system starts, so the handler may use any synchronisation. Ctrl-C and
// Ctrl-Break count as SIGINT; closing the console window, logging off and shutting down
// count as SIGTERM (the numbers are the CRT's, so exit codes stay 130 and 143,
// docs/exit-codes.md). The Task Scheduler ending a task sends no event: the process just
// ends, and the run is left unfinished, which the status file already reports.
#include "util/signals.h"

#include <windows.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "util/i18n.h"
#include "util/process.h"

namespace kura {

namespace {

// SIGKILL's number, which the CRT does not define: util/process.h's SignalRunningChildren
// takes it as "end the child now" (on Windows: terminate its job object).
constexpr int kForceStop = 9;

std::atomic<int> g_stop_signal{0};

struct Installed {
  HANDLE wake = nullptr;  // auto-reset: a control event arrived
  HANDLE quit = nullptr;  // manual-reset: the StopOnSignals scope ends
  std::thread watcher;
};
std::atomic<Installed*> g_installed{nullptr};

BOOL WINAPI OnControl(DWORD event) {
  int signal = 0;
  switch (event) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
      signal = SIGINT;
      break;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      signal = SIGTERM;
      break;
    default:
      return FALSE;
  }
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, signal);
  Installed* in = g_installed.load();
  if (in != nullptr) ::SetEvent(in->wake);
  return TRUE;  // handled: kura stops at its next safe point
}

// Waits up to `ms` (INFINITE for ever); true when the scope is ending.
bool WaitWakeOrQuit(const Installed& in, DWORD ms, bool* woke) {
  HANDLE both[2] = {in.quit, in.wake};
  DWORD rc = ::WaitForMultipleObjects(2, both, FALSE, ms);
  *woke = rc == WAIT_OBJECT_0 + 1;
  return rc == WAIT_OBJECT_0 || rc == WAIT_FAILED;
}

void Watch(const Installed* in) {
  for (;;) {
    bool woke = false;
    if (WaitWakeOrQuit(*in, INFINITE, &woke)) return;
    if (!woke) continue;
    // Only the children running now: a child started later (by the code that is cleaning
    // up) is not ours to stop.
    uint64_t started = ChildStartCount();
    if (SignalRunningChildren(SIGTERM, started) == 0) continue;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kChildStopGraceMs);
    bool quit = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (WaitWakeOrQuit(*in, 50, &woke)) {
        quit = true;
        break;
      }
      if (SignalRunningChildren(0, started) == 0) break;  // all reaped
    }
    SignalRunningChildren(kForceStop, started);
    if (quit) return;
  }
}

}  // namespace

StopOnSignals::StopOnSignals() {
  auto* in = new Installed();
  in->wake = ::CreateEventW(nullptr, FALSE, FALSE, nullptr);
  in->quit = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (in->wake == nullptr || in->quit == nullptr) {
    if (in->wake) ::CloseHandle(in->wake);
    if (in->quit) ::CloseHandle(in->quit);
    delete in;
    return;  // without the events Ctrl-C keeps its default action: kura still stops
  }
  g_installed.store(in);
  in->watcher = std::thread([in] { Watch(in); });
  ::SetConsoleCtrlHandler(OnControl, TRUE);
}

StopOnSignals::~StopOnSignals() {
  Installed* in = g_installed.load();
  if (in == nullptr) return;
  ::SetConsoleCtrlHandler(OnControl, FALSE);
  ::SetEvent(in->quit);
  if (in->watcher.joinable()) in->watcher.join();
  g_installed.store(nullptr);
  ::CloseHandle(in->wake);
  ::CloseHandle(in->quit);
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
