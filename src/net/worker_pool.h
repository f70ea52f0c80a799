// Internal to src/net: the threads that run handlers. Unlike util/ThreadPool it refuses
// work when its queue is full instead of blocking the caller (an I/O thread must never
// block), so the server can answer 503.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kura::net {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and `task` dropped) when `max_queued` tasks are already waiting or after Shutdown.
  bool TrySubmit(std::function<void()> task);
  // Runs what is queued, then joins the threads. Idempotent.
  void Shutdown();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool shutting_down_ = false;               // GUARDED_BY(mu_)
  size_t max_queued_;
  std::vector<std::thread> threads_;
};

}  // namespace kura::net
