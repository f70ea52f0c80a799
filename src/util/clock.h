// Time behind an interface so schedulers and retention can be tested with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace kura {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, seconds since the Unix epoch (UTC).
  virtual int64_t NowUnix() const = 0;
  // Wall-clock time in milliseconds (orders events within one second).
  virtual int64_t NowUnixMillis() const { return NowUnix() * 1000; }
  // Monotonic time for durations and rates.
  virtual std::chrono::steady_clock::time_point NowSteady() const = 0;
};

// The real clock. Thread-safe.
const Clock& SystemClock();

// Settable clock for tests. Not thread-safe unless the test serialises access.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t unix_seconds) : now_(unix_seconds) {}
  int64_t NowUnix() const override { return now_; }
  std::chrono::steady_clock::time_point NowSteady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::seconds(now_));
  }
  void Set(int64_t unix_seconds) { now_ = unix_seconds; }
  void Advance(int64_t seconds) { now_ += seconds; }

 private:
  int64_t now_;
};

// "2026-11-21T05:53:14Z"
std::string FormatUtc(int64_t unix_seconds);
// Local time "2026-11-21 14:53:14" (for people; uses the process time zone).
std::string FormatLocal(int64_t unix_seconds);
// Parses the FormatUtc form; returns false on anything else.
bool ParseUtc(const std::string& text, int64_t* unix_seconds);

}  // namespace kura
