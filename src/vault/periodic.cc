#include "vault/periodic.h"

#include <algorithm>

namespace kura::vault {

void PeriodicTasks::Add(std::string name, std::chrono::milliseconds every, Task task,
                        std::chrono::milliseconds first_after) {
  entries_.push_back(Entry{std::move(name),
                           std::max(every, std::chrono::milliseconds(1)),
                           std::move(task),
                           std::max(first_after, std::chrono::milliseconds(0)),
                           {}});
}

void PeriodicTasks::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  auto now = std::chrono::steady_clock::now();
  for (Entry& e : entries_) e.due = now + e.first_after;
  thread_ = std::thread([this] { Run(); });
}

void PeriodicTasks::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PeriodicTasks::stopping() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void PeriodicTasks::Run() {
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    for (Entry& e : entries_) {
      if (stopping()) return;
      if (e.due > now) continue;
      e.task();
      // From the end of the run: a task that took longer than its period does not run
      // back to back to catch up.
      e.due = std::chrono::steady_clock::now() + e.every;
    }
    auto next = std::chrono::steady_clock::time_point::max();
    for (const Entry& e : entries_) next = std::min(next, e.due);
    std::unique_lock lock(mu_);
    if (entries_.empty()) {
      wake_.wait(lock, [this] { return stop_; });
    } else {
      wake_.wait_until(lock, next, [this] { return stop_; });
    }
    if (stop_) return;
  }
}

}  // namespace kura::vault
