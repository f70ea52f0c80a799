// Retention, holds, quota and alarms on a real catalog file with a FakeClock
// (catalog_retention.cc, alarm_tick.cc): the loop tests/vault/vault_sim.h models in memory,
// now through the catalog's rows, each commit judged and retained as the server does it.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "util/hex.h"
#include "vault/alarm_tick.h"
#include "vault/catalog_fixture.h"
#include "vault/migrations.h"
#include "vault/vault_sim.h"

namespace kura::vault::testing {
namespace {

class CatalogRetentionTest : public CatalogTest {
 protected:
  void SetUp() override {
    auto t = catalog_->AddTenant("さくら診療所", TestActor());
    ASSERT_TRUE(t.ok());
    tenant_ = t->id;
    auto s = catalog_->AddSite(t->id, "本院", TestActor());
    ASSERT_TRUE(s.ok());
    site_ = s->id;
    ASSERT_TRUE(
        catalog_->BindRepository(site_, "nightly", std::string(32, 'a'), std::string(64, 'c'), TestActor())
            .ok());
    auto r = catalog_->FindBoundRepository(std::string(32, 'a'));
    ASSERT_TRUE(r.ok());
    repo_ = r->id;
  }

  // One backup as the API records it: its new packs (with their header sums), then the
  // snapshot at the fake clock's time, then the assessment. `junk` sends encrypted junk:
  // nothing dedups, nothing compresses.
  std::string Commit(SnapshotKind kind, bool junk = false, uint64_t bytes = 500 * kMiB) {
    std::string name = fmt::format("{:064x}", ++serial_);
    uint64_t raw = junk ? bytes : bytes / 20;
    uint64_t stored = junk ? raw : raw / 3;
    std::string pack = fmt::format("{:063x}p", serial_);
    EXPECT_TRUE(catalog_->RecordPack(repo_, pack, stored, {}, TestActor()).ok());
    EXPECT_TRUE(catalog_->RecordPackSizes(repo_, pack, raw, stored).ok());
    SnapshotRecord s;
    s.name = name;
    s.kind = std::string(KindName(kind));
    s.client_time = clock_.NowUnix();
    s.received_at_ms = clock_.NowUnixMillis();
    s.bytes = bytes;
    s.size = 1000;
    s.blob_count = bytes / kMiB;
    EXPECT_TRUE(catalog_->RecordSnapshot(repo_, s, TestActor()).ok());
    auto out = catalog_->AssessCommit(repo_, name, TestActor());
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return name;
  }
  std::string DailyAt(int64_t y, int mo, int d, bool junk = false) {
    clock_.Set(JstSeconds(y, mo, d, 2, 5));
    return Commit(SnapshotKind::kDaily, junk);
  }

  // Retention at 03:30 JST the same night, as the tick does it: the night's daily has
  // settled (an hour old) and now counts (docs/retention.md §3.3).
  void SettleAndRetain() {
    clock_.Advance(85 * 60);
    auto run = catalog_->RunRetention(repo_, TestActor());
    EXPECT_TRUE(run.ok()) << run.status().ToString();
  }

  std::set<std::string> Kept() {
    auto kept = catalog_->ListKeptSnapshots(repo_);
    EXPECT_TRUE(kept.ok());
    std::set<std::string> names;
    for (const SnapshotRecord& s : *kept) names.insert(s.name);
    return names;
  }
  size_t AuditCount(const std::string& action) {
    auto records = Records(*catalog_);
    return static_cast<size_t>(std::count_if(records.begin(), records.end(), [&](const AuditRecord& r) {
      return r.event.action == action && r.event.result == kAuditSuccess;
    }));
  }
  // A success report of a job scheduled daily at 02:00 JST.
  static RunReport NightlySuccess() {
    RunReport run;
    run.result = "success";
    run.kind = "daily";
    run.schedule_time = "02:00";
    run.schedule_timezone = "Asia/Tokyo";
    run.schedule_days = "daily";
    return run;
  }
  bool AlarmOpen(const std::string& kind) {
    auto alarms = catalog_->ListOpenAlarms();
    EXPECT_TRUE(alarms.ok());
    return std::any_of(alarms->begin(), alarms->end(),
                       [&](const Catalog::Alarm& a) { return a.key.kind == kind; });
  }

  int64_t tenant_ = 0, site_ = 0, repo_ = 0;
  int serial_ = 0;
};

TEST_F(CatalogRetentionTest, MigrationIsTheLatestAndNamed) {
  EXPECT_EQ(catalog_->schema_version(), LatestSchemaVersion());
  EXPECT_EQ(Migrations().back().name, "overdue grace");
}

// S-08, G-OPS-19: a week of good dailies under the default 3/1/1 keeps exactly the newest
// three; the others are quarantined (with the vault's time) and audited, not deleted.
TEST_F(CatalogRetentionTest, AWeekOfGoodDailiesKeepsThree) {
  std::vector<std::string> days;
  for (int d = 3; d <= 9; ++d) days.push_back(DailyAt(2026, 12, d));
  // The newest is still settling: kept, not counted, pushing nothing out yet.
  EXPECT_EQ(Kept(), (std::set<std::string>{days[3], days[4], days[5], days[6]}));
  SettleAndRetain();
  EXPECT_EQ(Kept(), (std::set<std::string>{days[4], days[5], days[6]}));
  EXPECT_EQ(AuditCount("snapshot.evict"), 4u);
  auto quarantined =
      RawColumn("SELECT quarantined_at_ms FROM snapshots WHERE state = 'quarantined' ORDER BY id");
  ASSERT_EQ(quarantined.size(), 4u);
  EXPECT_EQ(quarantined.back(), std::to_string(Jst(2026, 12, 9, 3, 30)));
  auto verdicts = RawColumn("SELECT DISTINCT verdict FROM snapshots");
  EXPECT_EQ(verdicts, (std::vector<std::string>{"accepted"}));
}

// Issue 7 §4: 100 junk snapshots in one day remove no good generation; the site goes on
// hold (audited hold.place, alarm "anomalous"); clearing the hold without accepting them
// evicts the junk and leaves the good generations.
TEST_F(CatalogRetentionTest, AHundredJunkSnapshotsInOneDayRemoveNoGoodGeneration) {
  clock_.Set(JstSeconds(2026, 12, 2, 23, 0));
  std::string monthly = Commit(SnapshotKind::kMonthly);
  std::vector<std::string> days;
  for (int d = 3; d <= 7; ++d) days.push_back(DailyAt(2026, 12, d));
  SettleAndRetain();
  std::set<std::string> good_before = Kept();
  ASSERT_EQ(good_before.size(), 4u);
  ASSERT_TRUE(good_before.contains(days[2]) && good_before.contains(days[3]) &&
              good_before.contains(days[4]));
  ASSERT_TRUE(good_before.contains(monthly));
  std::set<std::string> junk;
  clock_.Set(JstSeconds(2026, 12, 8, 9, 0));
  const SnapshotKind kinds[] = {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual};
  for (int i = 0; i < 100; ++i) {
    junk.insert(Commit(kinds[i % 3], /*junk=*/true, 480 * kMiB));
    clock_.Advance(300);
  }
  std::set<std::string> kept = Kept();
  for (const std::string& g : good_before) EXPECT_TRUE(kept.contains(g)) << g;
  auto holds = catalog_->ListHolds();
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ(holds->front().site_id, site_);
  EXPECT_EQ(AuditCount("hold.place"), 1u);
  EXPECT_TRUE(AlarmOpen("anomalous"));
  EXPECT_EQ(RawColumn("SELECT COUNT(*) FROM snapshots WHERE verdict = 'anomalous'"),
            (std::vector<std::string>{"100"}));
  auto listed = catalog_->ListKeptSnapshots(repo_);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(std::count_if(listed->begin(), listed->end(),
                          [](const SnapshotRecord& r) { return r.state == "held"; }),
            100);

  ASSERT_TRUE(catalog_->ClearHold(site_, "junk from a compromised PC", /*accept=*/false, TestActor()).ok());
  EXPECT_EQ(Kept(), good_before);
  EXPECT_FALSE(AlarmOpen("anomalous"));
  EXPECT_EQ(AuditCount("hold.clear"), 1u);
  EXPECT_TRUE(catalog_->ListHolds()->empty());
}

// Issue 7 §4: the attack plain append-only does not survive — three junk dailies on three
// nights would push the three good dailies out.
TEST_F(CatalogRetentionTest, ThreeDaysOfJunkDailiesRemoveNoGoodGeneration) {
  std::vector<std::string> good;
  for (int d = 3; d <= 12; ++d) good.push_back(DailyAt(2026, 12, d));
  SettleAndRetain();
  std::set<std::string> last_three{good[7], good[8], good[9]};
  EXPECT_EQ(Kept(), last_three);
  std::set<std::string> junk;
  for (int d = 13; d <= 15; ++d) junk.insert(DailyAt(2026, 12, d, /*junk=*/true));
  clock_.Set(JstSeconds(2026, 12, 15, 3, 30));
  ASSERT_TRUE(catalog_->RunRetention(repo_, TestActor()).ok());
  std::set<std::string> kept = Kept();
  for (const std::string& g : last_three) EXPECT_TRUE(kept.contains(g));
  EXPECT_EQ(catalog_->ListHolds()->size(), 1u);
  ASSERT_TRUE(catalog_->ClearHold(site_, "junk", false, TestActor()).ok());
  EXPECT_EQ(Kept(), last_three);
}

// docs/retention.md §3.3 "A hold": nothing is evicted while the site is on hold, and the
// rules act again once the operator clears it.
TEST_F(CatalogRetentionTest, AHoldEvictsNothingUntilCleared) {
  std::string d3 = DailyAt(2026, 12, 3);
  std::string d4 = DailyAt(2026, 12, 4);
  std::string d5 = DailyAt(2026, 12, 5);
  std::string junk = DailyAt(2026, 12, 6, /*junk=*/true);
  ASSERT_EQ(catalog_->ListHolds()->size(), 1u);
  std::string d7 = DailyAt(2026, 12, 7);
  std::string d8 = DailyAt(2026, 12, 8);
  std::string d9 = DailyAt(2026, 12, 9);
  clock_.Set(JstSeconds(2026, 12, 9, 12, 0));
  auto run = catalog_->RunRetention(repo_, TestActor());
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->evicted.empty());
  EXPECT_GT(run->plan.held_back_count, 0u);
  EXPECT_EQ(Kept(), (std::set<std::string>{d3, d4, d5, junk, d7, d8, d9}));
  EXPECT_EQ(AuditCount("snapshot.evict"), 0u);

  EXPECT_EQ(catalog_->ClearHold(site_, "", false, TestActor()).code(), Code::kInvalidArgument);
  ASSERT_TRUE(catalog_->ClearHold(site_, "checked with the clinic", false, TestActor()).ok());
  EXPECT_EQ(Kept(), (std::set<std::string>{d7, d8, d9}));
  EXPECT_EQ(catalog_->ClearHold(site_, "again", false, TestActor()).code(), Code::kNotFound);
}

// G-AUD-08, issue 7 §4: a clock jump freezes retention (nothing evicted, alarm "clock")
// until an operator acknowledges it.
TEST_F(CatalogRetentionTest, AClockJumpFreezesEvictionUntilAcknowledged) {
  AlarmTickMemory memory;
  std::string d3 = DailyAt(2026, 12, 3);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_, &memory).ok());
  std::string d4 = DailyAt(2026, 12, 4);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_, &memory).ok());
  std::string d5 = DailyAt(2026, 12, 5);
  clock_.Set(JstSeconds(2026, 12, 5, 3, 0));
  auto tick = RunAlarmTick(*catalog_, clock_, &memory);
  ASSERT_TRUE(tick.ok());
  EXPECT_FALSE(tick->clock_frozen);
  clock_.Set(JstSeconds(2026, 12, 5, 1, 0));  // two hours back
  tick = RunAlarmTick(*catalog_, clock_, &memory);
  ASSERT_TRUE(tick.ok());
  EXPECT_TRUE(tick->clock_frozen);
  EXPECT_TRUE(AlarmOpen("clock"));
  EXPECT_EQ(AuditCount("clock.freeze"), 1u);
  std::string d6 = DailyAt(2026, 12, 6);
  std::string d7 = DailyAt(2026, 12, 7);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_, &memory).ok());
  EXPECT_EQ(Kept(), (std::set<std::string>{d3, d4, d5, d6, d7}));

  ASSERT_TRUE(catalog_->AcknowledgeClockJump(TestActor()).ok());
  EXPECT_FALSE(AlarmOpen("clock"));
  EXPECT_EQ(AuditCount("clock.acknowledge"), 1u);
  SettleAndRetain();
  EXPECT_EQ(Kept(), (std::set<std::string>{d5, d6, d7}));
}

// G-MON-07: used is the tenant's stored packs (quarantined ones included); the soft quota
// raises the "quota" alarm, cleared once the quota is raised; soft above hard is refused.
TEST_F(CatalogRetentionTest, SoftAndHardQuota) {
  EXPECT_EQ(catalog_->SetTenantQuota(tenant_, 3000, 2000, TestActor()).code(), Code::kInvalidArgument);
  ASSERT_TRUE(catalog_->SetTenantQuota(tenant_, 1000, 2000, TestActor()).ok());
  ASSERT_TRUE(catalog_->RecordPack(repo_, std::string(64, '1'), 800, {}, TestActor()).ok());
  auto cap = catalog_->TenantCapacity(tenant_);
  ASSERT_TRUE(cap.ok());
  EXPECT_EQ(cap->used, 800u);
  EXPECT_EQ(cap->Remaining(), 1200u);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("quota"));
  ASSERT_TRUE(catalog_->RecordPack(repo_, std::string(64, '2'), 400, {}, TestActor()).ok());
  RawSql("UPDATE packs SET state = 'quarantined' WHERE name = '" + std::string(64, '2') + "'");
  cap = catalog_->TenantCapacity(tenant_);
  EXPECT_EQ(cap->used, 1200u);
  EXPECT_EQ(cap->Remaining(), 800u);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_TRUE(AlarmOpen("quota"));
  ASSERT_TRUE(catalog_->SetTenantQuota(tenant_, 5000, 0, TestActor()).ok());
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("quota"));
  EXPECT_EQ(catalog_->TenantCapacity(tenant_)->Remaining(), 0u);  // no hard quota: nothing to count down
  EXPECT_EQ(AuditCount("tenant.set_quota"), 2u);
}

// Issue 7 §4 "Missed-backup alarm", G-MON-01: overdue once the scheduled backup has not
// arrived by its time plus the 4 h grace, even after a success report; the next arrival
// clears it. Raising and clearing are audited.
TEST_F(CatalogRetentionTest, OverdueAlarmAfterExpectedTimePlusGraceClearedByTheNextSuccess) {
  RunReport run = NightlySuccess();
  clock_.Set(JstSeconds(2026, 12, 4, 2, 10));
  Commit(SnapshotKind::kDaily);
  ASSERT_TRUE(catalog_->RecordRun(repo_, run).ok());
  clock_.Set(JstSeconds(2026, 12, 5, 2, 15));
  ASSERT_TRUE(catalog_->RecordRun(repo_, run).ok());  // a success report, but nothing arrived
  clock_.Set(JstSeconds(2026, 12, 5, 5, 59, 59));
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("overdue"));
  clock_.Set(JstSeconds(2026, 12, 5, 6, 0, 0));
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_TRUE(AlarmOpen("overdue"));
  EXPECT_EQ(AuditCount("alarm.raise"), 1u);
  clock_.Set(JstSeconds(2026, 12, 5, 7, 0));
  Commit(SnapshotKind::kDaily);
  ASSERT_TRUE(catalog_->RecordRun(repo_, run).ok());
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("overdue"));
  EXPECT_EQ(AuditCount("alarm.clear"), 1u);
}

// G-MON-01: the grace after the scheduled time is the site's own, else its tenant's, else
// 4 h; each setting moves the moment the alarm is raised, and each is audited.
TEST_F(CatalogRetentionTest, OverdueGraceIsTheSitesElseTheTenantsElseFourHours) {
  RunReport run = NightlySuccess();
  auto arrive = [&](int64_t y, int mo, int d, int h, int mi) {
    clock_.Set(JstSeconds(y, mo, d, h, mi));
    Commit(SnapshotKind::kDaily);
    ASSERT_TRUE(catalog_->RecordRun(repo_, run).ok());
    ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
    EXPECT_FALSE(AlarmOpen("overdue"));
  };
  // Overdue from `deadline` (JST hh:mm:00 on day d), not a second before.
  auto overdue_from = [&](int d, int h) {
    clock_.Set(JstSeconds(2026, 12, d, h - 1, 59, 59));
    ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
    EXPECT_FALSE(AlarmOpen("overdue")) << "day " << d << " " << h - 1 << ":59:59";
    clock_.Set(JstSeconds(2026, 12, d, h, 0, 0));
    ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
    EXPECT_TRUE(AlarmOpen("overdue")) << "day " << d << " " << h << ":00";
  };
  auto facts = [&]() {
    auto all = catalog_->ListRepositoryFacts();
    EXPECT_TRUE(all.ok());
    return all.ok() && !all->empty() ? all->front() : Catalog::RepositoryFacts{};
  };
  arrive(2026, 12, 4, 2, 10);
  EXPECT_EQ(facts().grace_from, "default");
  EXPECT_EQ(facts().policy.grace_ms, 4 * kMillisPerHour);

  ASSERT_TRUE(catalog_->SetTenantOverdueGrace(tenant_, 10, TestActor()).ok());
  EXPECT_EQ(facts().grace_from, "tenant");
  overdue_from(5, 12);  // 02:00 + 10 h
  arrive(2026, 12, 5, 12, 30);

  ASSERT_TRUE(catalog_->SetSiteOverdueGrace(site_, 2, TestActor()).ok());
  EXPECT_EQ(facts().grace_from, "site");
  EXPECT_EQ(catalog_->GetSite(site_)->overdue_grace_hours, std::optional<int>(2));
  overdue_from(6, 4);  // the site's 2 h, over the tenant's 10
  arrive(2026, 12, 6, 4, 30);

  ASSERT_TRUE(catalog_->SetSiteOverdueGrace(site_, std::nullopt, TestActor()).ok());
  EXPECT_EQ(facts().grace_from, "tenant");
  ASSERT_TRUE(catalog_->SetTenantOverdueGrace(tenant_, std::nullopt, TestActor()).ok());
  EXPECT_EQ(facts().grace_from, "default");
  overdue_from(7, 6);  // back to 4 h
  EXPECT_FALSE(catalog_->GetTenantPolicy(tenant_)->overdue_grace_hours.has_value());

  EXPECT_EQ(catalog_->SetTenantOverdueGrace(tenant_, kMaxOverdueGraceHours + 1, TestActor()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(catalog_->SetSiteOverdueGrace(site_, -1, TestActor()).code(), Code::kInvalidArgument);
  EXPECT_EQ(catalog_->SetSiteOverdueGrace(site_ + 1000, 5, TestActor()).code(), Code::kNotFound);
  EXPECT_TRUE(catalog_->SetSiteOverdueGrace(site_, kMaxOverdueGraceHours, TestActor()).ok());
  EXPECT_EQ(AuditCount("tenant.set_overdue_grace"), 2u);
  EXPECT_EQ(AuditCount("site.set_overdue_grace"), 3u);
  auto records = Records(*catalog_);
  size_t refused =
      static_cast<size_t>(std::count_if(records.begin(), records.end(), [](const AuditRecord& r) {
        return r.event.action.ends_with("set_overdue_grace") && r.event.result == kAuditFailure;
      }));
  EXPECT_EQ(refused, 3u);  // a failed change is recorded too
}

// A failure report raises "failed"; the retry's success clears it.
TEST_F(CatalogRetentionTest, FailedAlarmClearedByTheNextSuccess) {
  clock_.Set(JstSeconds(2026, 12, 4, 2, 10));
  Commit(SnapshotKind::kDaily);
  RunReport fail;
  fail.result = "failure";
  fail.kind = "daily";
  fail.message = "pg_dump: connection refused";
  clock_.Set(JstSeconds(2026, 12, 5, 2, 20));
  ASSERT_TRUE(catalog_->RecordRun(repo_, fail).ok());
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_TRUE(AlarmOpen("failed"));
  clock_.Set(JstSeconds(2026, 12, 5, 3, 0));
  Commit(SnapshotKind::kDaily);
  RunReport ok = fail;
  ok.result = "success";
  ok.message.clear();
  ASSERT_TRUE(catalog_->RecordRun(repo_, ok).ok());
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("failed"));
}

TEST_F(CatalogRetentionTest, TenantRetentionOverridesTheDefault) {
  EXPECT_EQ(catalog_->SetTenantRetention(tenant_, -1, 1, 1, TestActor()).code(), Code::kInvalidArgument);
  ASSERT_TRUE(catalog_->SetTenantRetention(tenant_, 5, 1, 1, TestActor()).ok());
  std::vector<std::string> days;
  for (int d = 3; d <= 9; ++d) days.push_back(DailyAt(2026, 12, d));
  SettleAndRetain();
  EXPECT_EQ(Kept(), (std::set<std::string>(days.begin() + 2, days.end())));
  auto p = catalog_->GetTenantPolicy(tenant_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->retention.daily_days, 5);
  EXPECT_EQ(p->retention.zone.offset_seconds, 9 * 3600);
}

// docs/retention.md §5 "incomplete": packs no commit followed, once none came for an hour
// (a backup still sending is not incomplete); the commit clears it.
TEST_F(CatalogRetentionTest, IncompleteAlarmForAnUploadThatStoppedClearedByItsCommit) {
  clock_.Set(JstSeconds(2026, 12, 3, 2, 10));
  Commit(SnapshotKind::kDaily);
  clock_.Set(JstSeconds(2026, 12, 4, 2, 5));
  ASSERT_TRUE(catalog_->RecordPack(repo_, std::string(64, 'e'), 5000, {}, TestActor()).ok());
  clock_.Set(JstSeconds(2026, 12, 4, 2, 50));
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("incomplete"));
  clock_.Set(JstSeconds(2026, 12, 4, 3, 5));
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_TRUE(AlarmOpen("incomplete"));
  clock_.Set(JstSeconds(2026, 12, 4, 3, 30));
  Commit(SnapshotKind::kDaily);
  ASSERT_TRUE(RunAlarmTick(*catalog_, clock_).ok());
  EXPECT_FALSE(AlarmOpen("incomplete"));
}

// Migration 8 from schema 7, with data in it: snapshots committed before the
// checks existed become accepted history and their packs are claimed, so the first commit
// after the upgrade is judged on its own new data, not on every old pack.
TEST(CatalogRetentionMigrationTest, FromSchemaSevenOldSnapshotsAreAcceptedAndTheirPacksClaimed) {
  kura::testing::TempDir dir{"kura-vault-migr6"};
  std::string path = dir.Sub("catalog.db");
  {
    auto db = SqlDb::OpenSqlite(path, 10000);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, kStart, /*target=*/7).ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'さくら診療所', 0);"
                   "INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, '本院', 0);"
                   "INSERT INTO repositories (id, site_id, job, created_at, repo_id) VALUES"
                   " (1, 1, 'nightly', 0, 'aaaa');"
                   "INSERT INTO packs (id, repository_id, name, size, blob_count, state, received_at)"
                   " VALUES (1, 1, 'p1', 100000000, 10, 'stored', 0);"
                   "INSERT INTO snapshots (id, repository_id, name, kind, client_time, received_at_ms,"
                   " bytes, size, blob_count, clock_warning, state) VALUES"
                   " (1, 1, 's1', 'daily', 0, 1000, 500, 10, 10, 0, 'kept')")
            .ok());
  }
  FakeClock clock{kStart};
  auto c = Catalog::Open(path, clock, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto plan = (*c)->PlanRetention(1);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->decisions.size(), 1u);
  EXPECT_EQ(plan->decisions[0].state, GenerationState::kAccepted);
  auto guard = (*c)->GetClockGuard();
  ASSERT_TRUE(guard.ok());
  EXPECT_FALSE(guard->frozen);
  EXPECT_EQ(guard->last_seen_ms, 0);
  auto policy = (*c)->GetTenantPolicy(1);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->retention.daily_days, 3);  // no row: the defaults
  auto db = SqlDb::OpenSqlite(path, 10000);
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT claimed_by FROM packs WHERE id = 1");
  ASSERT_TRUE(q.ok());
  auto row = q->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(q->OptInt(0), std::optional<int64_t>(1));
}

}  // namespace
}  // namespace kura::vault::testing
