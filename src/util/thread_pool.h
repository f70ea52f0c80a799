// A fixed set of worker threads running submitted tasks in FIFO order.
#pragma once

#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "util/bounded_queue.h"

namespace kura {

class ThreadPool {
 public:
  // `threads` 0 means one per core.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();  // waits for queued tasks
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <typename F>
  auto Submit(F fn) -> std::future<decltype(fn())> {
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto fut = task->get_future();
    queue_.Push([task] { (*task)(); });
    return fut;
  }
  size_t size() const { return threads_.size(); }

  // Threads for the pipelines: KURA_THREADS if set, else the number of cores.
  static size_t DefaultThreads();

 private:
  BoundedQueue<std::function<void()>> queue_{1 << 16};
  std::vector<std::thread> threads_;
};

}  // namespace kura
