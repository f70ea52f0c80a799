#include "vault/alarm_tick.h"

#include <array>
#include <map>

#include "vault/log.h"

namespace kura::vault {

namespace {

AuditActor TickActor() {
  return AuditActor{"system", "kura-vault", "local", "", "alarm tick"};
}

std::string Both(const std::string& ja, const std::string& en) {
  return ja + "\n" + en;
}

// The per-repository alarms the site states map to. "anomalous" is the site's and follows
// its hold (raised when the hold is placed, cleared with it), not the tick.
constexpr std::array<SiteState, 4> kTickStates = {SiteState::kOverdue, SiteState::kFailed,
                                                  SiteState::kIncomplete, SiteState::kDamaged};

Status ObserveClockIn(Catalog& catalog, const Clock& clock, AlarmTickMemory* memory,
                      const AlarmTickOptions& options, AlarmTickReport* report) {
  KURA_ASSIGN_OR_RETURN(ClockGuardState state, catalog.GetClockGuard());
  ClockReading reading;
  reading.wall_ms = clock.NowUnixMillis();
  auto steady = clock.NowSteady();
  if (memory != nullptr && memory->last_steady) {
    reading.steady_elapsed_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady - *memory->last_steady).count();
  }
  ClockObservation obs = ObserveClock(state, reading, options.clock);
  if (memory != nullptr) {
    memory->last_steady = steady;
    memory->last_wall_ms = reading.wall_ms;
  }
  report->clock_frozen = obs.state.frozen;
  if (obs.alarm_raised) {
    LogWarning("{}", DescribeClockGuard(obs.state, FixedZone::Tokyo(), Language::kEnglish));
    ++report->raised;
  }
  std::string detail = Both(DescribeClockGuard(obs.state, FixedZone::Tokyo(), Language::kJapanese),
                            DescribeClockGuard(obs.state, FixedZone::Tokyo(), Language::kEnglish));
  return catalog.PutClockGuard(obs.state, obs.alarm_raised, detail, TickActor());
}

Status Count(Result<bool> changed, size_t* counter) {
  if (!changed.ok()) return changed.status();
  if (*changed) ++*counter;
  return Status::Ok();
}

}  // namespace

std::string LocalText(std::string_view stored, Language lang) {
  size_t nl = stored.find('\n');
  if (nl == std::string_view::npos) return std::string(stored);
  return std::string(lang == Language::kEnglish ? stored.substr(nl + 1) : stored.substr(0, nl));
}

Result<AlarmTickReport> RunAlarmTick(Catalog& catalog, const Clock& clock, AlarmTickMemory* memory,
                                     const AlarmTickOptions& options) {
  AlarmTickReport report;
  KURA_RETURN_IF_ERROR(ObserveClockIn(catalog, clock, memory, options, &report));
  int64_t now_ms = clock.NowUnixMillis();
  KURA_ASSIGN_OR_RETURN(std::vector<Catalog::RepositoryFacts> repos, catalog.ListRepositoryFacts());
  std::map<int64_t, Catalog::TenantPolicy> policies;
  for (const Catalog::RepositoryFacts& r : repos) {
    ++report.repositories;
    if (!policies.contains(r.tenant_id)) {
      KURA_ASSIGN_OR_RETURN(policies[r.tenant_id], catalog.GetTenantPolicy(r.tenant_id));
    }
    const FixedZone& zone = policies[r.tenant_id].retention.zone;
    SiteStatus status = EvaluateSite(r.facts, r.policy, now_ms);
    std::string detail = Both(SiteSummary(status, r.facts, r.policy, zone, Language::kJapanese),
                              SiteSummary(status, r.facts, r.policy, zone, Language::kEnglish));
    for (SiteState s : kTickStates) {
      bool active = false;
      for (const SiteCondition& c : status.conditions) active = active || c.state == s;
      Catalog::AlarmKey key{std::string(SiteStateName(s)), r.tenant_id, r.site_id, r.repository};
      if (active) {
        KURA_RETURN_IF_ERROR(Count(catalog.RaiseAlarm(key, detail, TickActor()), &report.raised));
      } else {
        KURA_RETURN_IF_ERROR(Count(catalog.ClearAlarm(key, TickActor()), &report.cleared));
      }
    }
    // A generation accepted less than settle_ms ago pushed nothing out at its commit.
    KURA_ASSIGN_OR_RETURN(Catalog::RetentionOutcome retained,
                          catalog.RunRetention(r.repository, TickActor()));
    report.evicted += retained.evicted.size();
  }
  KURA_ASSIGN_OR_RETURN(std::vector<Tenant> tenants, catalog.ListTenants());
  for (const Tenant& t : tenants) {
    KURA_ASSIGN_OR_RETURN(Catalog::Capacity cap, catalog.TenantCapacity(t.id));
    Catalog::AlarmKey key{"quota", t.id, 0, 0};
    if (cap.soft != 0 && cap.used > cap.soft) {
      std::string detail =
          Both(fmt::format("容量の警告値を超えました (使用量 {} / 警告値 {} バイト)", cap.used, cap.soft),
               fmt::format("the soft quota is passed (used {} of {} bytes)", cap.used, cap.soft));
      KURA_RETURN_IF_ERROR(Count(catalog.RaiseAlarm(key, detail, TickActor()), &report.raised));
    } else {
      KURA_RETURN_IF_ERROR(Count(catalog.ClearAlarm(key, TickActor()), &report.cleared));
    }
  }
  return report;
}

}  // namespace kura::vault
