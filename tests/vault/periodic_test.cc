// PeriodicTasks (vault/periodic.h): every registered task runs at start and again each
// period, in order on one thread, and Stop ends the thread at once even mid-wait.
#include "vault/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace kura::vault {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicTasksTest, EveryTaskRunsAtStartAndAgainEachPeriod) {
  std::mutex mu;
  std::condition_variable cv;
  int fast = 0, slow = 0;
  std::thread::id fast_thread, slow_thread;
  PeriodicTasks tasks;
  tasks.Add("fast", 5ms, [&] {
    std::lock_guard lock(mu);
    ++fast;
    fast_thread = std::this_thread::get_id();
    cv.notify_all();
  });
  tasks.Add("slow", std::chrono::hours(1), [&] {
    std::lock_guard lock(mu);
    ++slow;
    slow_thread = std::this_thread::get_id();
    cv.notify_all();
  });
  tasks.Start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return fast >= 3 && slow >= 1; }));
  }
  tasks.Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(slow, 1);  // an hour has not passed
  EXPECT_EQ(fast_thread, slow_thread);
  EXPECT_NE(fast_thread, std::this_thread::get_id());
}

// Garbage collection and scrub first run minutes after serve starts, not at once: a vault
// restarted in a loop must not sweep or read its whole disk each time.
TEST(PeriodicTasksTest, ATaskWithAFirstDelayWaitsForIt) {
  std::mutex mu;
  std::condition_variable cv;
  int now = 0, later = 0, soon = 0;
  PeriodicTasks tasks;
  tasks.Add("now", 5ms, [&] {
    std::lock_guard lock(mu);
    ++now;
    cv.notify_all();
  });
  tasks.Add(
      "later", std::chrono::hours(6),
      [&] {
        std::lock_guard lock(mu);
        ++later;
      },
      std::chrono::minutes(10));
  tasks.Add(
      "soon", std::chrono::hours(6),
      [&] {
        std::lock_guard lock(mu);
        ++soon;
        cv.notify_all();
      },
      20ms);
  tasks.Start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return now >= 5 && soon >= 1; }));
  }
  tasks.Stop();
  std::lock_guard lock(mu);
  EXPECT_EQ(later, 0) << "ran before its first delay";
  EXPECT_EQ(soon, 1);
}

// kura-vault serve must stop within its grace: a task due in an hour does not hold it up.
TEST(PeriodicTasksTest, StopEndsTheThreadPromptlyAndIsIdempotent) {
  std::atomic<int> runs{0};
  PeriodicTasks tasks;
  tasks.Add("tick", std::chrono::hours(1), [&] { ++runs; });
  tasks.Start();
  while (runs.load() == 0) std::this_thread::sleep_for(1ms);
  auto begin = std::chrono::steady_clock::now();
  tasks.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  EXPECT_TRUE(tasks.stopping());
  tasks.Stop();
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace kura::vault
