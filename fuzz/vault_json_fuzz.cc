// The agent API's JSON request bodies and enrolment codes (src/vault/api_bodies.h,
// vault/tokens.h) over arbitrary bytes: never a crash or an exception, and a body that
// parses obeys the documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vault/api_bodies.h"
#include "vault/tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto enrol = kura::vault::ParseEnrolRequest(text);
  if (enrol.ok() && (enrol->host.size() > 256 || enrol->kura_version.size() > 64)) std::abort();
  auto ids = kura::vault::ParseMissingRequest(text, 10000);
  if (ids.ok() && (ids->size() % 32 != 0 || ids->size() > 32 * 10000)) std::abort();
  auto run = kura::vault::ParseRunReport(text);
  if (run.ok() && run->result != "success" && run->result != "failure") std::abort();
  auto code = kura::vault::ParseEnrolmentCode(text);
  if (code && (code->secret.size() != 32 || code->fingerprint.size() != 64)) std::abort();
  return 0;
}
