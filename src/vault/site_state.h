// Per-site state for the vendor watching hundreds of sites (issue 7 §4, "Missed-backup
// alarm"; docs/retention.md, "Site states"). Pure functions; thread-safe.
//
// Six separate states, each with the time it began. Several can hold at once; the one
// shown is the first of this precedence (the others are listed in `conditions`):
//   anomalous   the site is on hold (anomaly.h): a possible compromise, operator only;
//   damaged     scrub found damage in a generation the vault keeps;
//   failed      the site reported a failure not yet cleared by a later success;
//   overdue     the scheduled backup has not arrived by its expected time plus the grace;
//   incomplete  an upload began after the last arrival and was never committed;
//   ok          none of these.
// Overdue is judged on arrivals (snapshots the vault received), never on run reports: a
// missed day is overdue even when the last report was a success.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "util/i18n.h"
#include "vault/calendar.h"

namespace kura::vault {

enum class SiteState { kOk, kOverdue, kFailed, kIncomplete, kDamaged, kAnomalous };

// "ok" | "overdue" | "failed" | "incomplete" | "damaged" | "anomalous".
std::string_view SiteStateName(SiteState state);
// How much a state needs an operator (docs/retention.md §5): lower first. A site of several
// repositories shows its lowest.
int SiteStatePrecedence(SiteState state);
// "正常" / "ok", "期限超過" / "overdue", ...
std::string SiteStateLabel(SiteState state, Language lang);

// The job's schedule as the agent reported it (docs/vault-api.md §4.6).
struct BackupSchedule {
  int minute_of_day = 2 * 60;  // local time of day the run starts. Default: 02:00
  FixedZone zone;              // Default: Asia/Tokyo
  uint8_t weekdays = 0x7f;     // bit d set: runs on weekday d (0 = Sunday). Default: every day
};

// From the report's "time" ("HH:MM"), "timezone" (calendar.h) and "days": "daily",
// "weekdays" (Mon–Fri), or a comma list of mon,tue,wed,thu,fri,sat,sun.
// Errors: kInvalidArgument naming the member and the accepted forms.
Result<BackupSchedule> ParseBackupSchedule(std::string_view time, std::string_view timezone,
                                           std::string_view days);

// What the catalog knows about one site (all times are the vault's, UTC ms).
struct SiteFacts {
  std::optional<BackupSchedule> schedule;      // none reported: a daily every 24 h is expected
  int64_t enrolled_ms = 0;                     // nothing is expected before this
  std::optional<int64_t> last_arrival_ms;      // newest complete daily or monthly snapshot received
  std::optional<int64_t> last_success_ms;      // newest run reported "success"
  std::optional<int64_t> failing_since_ms;     // first "failure" report after the last success
  std::string failure_message;                 // the site's text (untrusted; shown escaped)
  std::optional<int64_t> incomplete_since_ms;  // an upload begun and never committed
  std::optional<int64_t> damaged_since_ms;     // scrub found damage
  std::optional<int64_t> hold_since_ms;        // on hold
};

// The overdue grace an operator may set per tenant or site (Catalog::SetTenantOverdueGrace):
// 0 to 31 days, in hours; 4 h when nobody set one.
inline constexpr int kDefaultOverdueGraceHours = 4;
inline constexpr int kMaxOverdueGraceHours = 24 * 31;

struct SiteStatePolicy {
  // After the scheduled time, how long the backup may take to arrive. A PC that is off at
  // night and backs up at start-up needs more (for example 10 h). Default: 4 h.
  int64_t grace_ms = kDefaultOverdueGraceHours * kMillisPerHour;
  // An arrival this long before the scheduled time still counts for it (at most half the
  // gap to the previous scheduled run). Default: 12 h.
  int64_t early_ms = 12 * kMillisPerHour;
};

struct SiteCondition {
  SiteState state = SiteState::kOk;
  int64_t since_ms = 0;
};

struct SiteStatus {
  SiteState state = SiteState::kOk;  // the first active condition by precedence
  int64_t since_ms = 0;
  std::vector<SiteCondition> conditions;  // every active one, by precedence; {ok} when none
  // Overdue: the scheduled run whose backup is missing (the first one missed in a row).
  std::optional<int64_t> missed_due_ms;
  // The next time the site becomes overdue if nothing arrives (due + grace).
  std::optional<int64_t> next_deadline_ms;
};

SiteStatus EvaluateSite(const SiteFacts& facts, const SiteStatePolicy& policy, int64_t now_ms);

// One line for `kura-vault status`: the state, since when, and what to do.
std::string SiteSummary(const SiteStatus& status, const SiteFacts& facts, const SiteStatePolicy& policy,
                        const FixedZone& zone, Language lang);

}  // namespace kura::vault
