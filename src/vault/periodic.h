// PeriodicTasks: one background thread that runs registered tasks, each every N seconds,
// for kura-vault serve (the alarm tick now; garbage collection and scrub later). Tasks
// run one at a time in registration order whenever they are due, so two never race on the
// catalog from this thread; a slow task delays the others rather than overlapping itself.
//
// Thread-safety: Add before Start, from one thread. Stop may be called from any thread
// and returns once the thread has ended; a task that is running then finishes first (keep
// each task's run short or let it check `stopping()`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kura::vault {

class PeriodicTasks {
 public:
  using Task = std::function<void()>;

  PeriodicTasks() = default;
  ~PeriodicTasks() { Stop(); }
  PeriodicTasks(const PeriodicTasks&) = delete;
  PeriodicTasks& operator=(const PeriodicTasks&) = delete;

  // `task` runs `first_after` after Start (default: at once) and then every `every` (> 0).
  // REQUIRES: not started. An
  // exception escaping a task is a bug: it ends the process (std::terminate), as anywhere
  // else outside the documented boundaries (CONTRIBUTING.md).
  void Add(std::string name, std::chrono::milliseconds every, Task task,
           std::chrono::milliseconds first_after = std::chrono::milliseconds(0));
  void Start();
  // Wakes the thread at once and joins it. Idempotent.
  void Stop();
  bool stopping() const;

 private:
  struct Entry {
    std::string name;
    std::chrono::milliseconds every;
    Task task;
    std::chrono::milliseconds first_after;
    std::chrono::steady_clock::time_point due;
  };
  void Run();

  std::vector<Entry> entries_;  // fixed after Start; touched only by the thread then
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kura::vault
