#include "util/time_calls.h"

namespace kura::time_calls {

void UtcTm(std::time_t t, std::tm* out) {
  gmtime_r(&t, out);
}

void LocalTm(std::time_t t, std::tm* out) {
  localtime_r(&t, out);
}

std::time_t TimeGm(std::tm* tm) {
  return timegm(tm);
}

}  // namespace kura::time_calls
