// The C library's thread-safe time conversions, which POSIX and the Windows CRT spell
// differently (util/time_calls.cc; util/win/time_calls.cc): the one platform-dependent part
// of util/clock.cc.
#pragma once

#include <ctime>

namespace kura::time_calls {

void UtcTm(std::time_t t, std::tm* out);    // gmtime_r
void LocalTm(std::time_t t, std::tm* out);  // localtime_r
std::time_t TimeGm(std::tm* tm);            // timegm: a UTC broken-down time to seconds

}  // namespace kura::time_calls
