// Windows: the CRT's names for the thread-safe conversions (gmtime_s and localtime_s take
// their arguments the other way round) and _mkgmtime for timegm.
#include "util/time_calls.h"

namespace kura::time_calls {

void UtcTm(std::time_t t, std::tm* out) {
  gmtime_s(out, &t);
}

void LocalTm(std::time_t t, std::tm* out) {
  localtime_s(out, &t);
}

std::time_t TimeGm(std::tm* tm) {
  return _mkgmtime(tm);
}

}  // namespace kura::time_calls
