// The JSON request bodies of the agent API (docs/vault-api.md), parsed from untrusted text
// without exceptions (fuzz/vault_json_fuzz.cc). A refusal is kInvalidArgument whose message
// is the offending member's name ("ids", "result", ... or "" for text that is no JSON
// object), from which the handler builds its bilingual 400 bad_request.
#pragma once

#include <string>
#include <string_view>

#include "kura/status.h"
#include "util/bytes.h"
#include "vault/catalog.h"

namespace kura::vault {

// POST /v1/enrol.
struct EnrolRequest {
  std::string code;
  std::string host;          // at most 256 bytes of UTF-8
  std::string kura_version;  // at most 64 bytes
};
Result<EnrolRequest> ParseEnrolRequest(std::string_view text);

// POST blobs/missing: the IDs as 32-byte values, concatenated, in request order (at most
// kMaxMissingIds of them).
Result<Bytes> ParseMissingRequest(std::string_view text, size_t max_ids);

// POST runs; every text member valid UTF-8 and bounded, `message` at most 2,000 characters.
Result<RunReport> ParseRunReport(std::string_view text);

}  // namespace kura::vault
