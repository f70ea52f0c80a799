#include "util/thread_pool.h"

#include <cstdlib>

namespace kura {

size_t ThreadPool::DefaultThreads() {
  if (const char* t = std::getenv("KURA_THREADS")) {
    long n = std::strtol(t, nullptr, 10);
    if (n >= 1 && n <= 256) return static_cast<size_t>(n);
  }
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : n;
}

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = DefaultThreads();
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      while (auto task = queue_.Pop()) (*task)();
    });
  }
}

ThreadPool::~ThreadPool() {
  queue_.Close();
  for (std::thread& t : threads_) t.join();
}

}  // namespace kura
