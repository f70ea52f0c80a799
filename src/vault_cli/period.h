// The period of `kura-vault audit export --from --to` (docs/audit-trail.md "Export").
#pragma once

#include <cstdint>
#include <string>

#include "kura/status.h"

namespace kura::vault_cli {

// A bound as milliseconds since the epoch. Accepted forms:
//   "2026-12-01"                 a calendar day in Japan (Asia/Tokyo, UTC+9, no DST):
//                                its start for --from; for --to the start of the next
//                                day, so --to 2026-12-31 includes the whole 31st
//   "2026-12-01T09:30:00Z"       an instant in UTC
//   "2026-12-01T09:30:00+09:00"  an instant with an offset (also -05:00 and so on)
// `end` selects the --to reading of a bare day. Instants are taken as given; the period
// is from <= time < to.
// Errors: kInvalidArgument naming the text and the accepted forms.
Result<int64_t> ParsePeriodBound(const std::string& text, bool end);

}  // namespace kura::vault_cli
