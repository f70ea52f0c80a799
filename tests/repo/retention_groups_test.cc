// Retention over a mixed repository (issue 6 §3, §5, §10): groups decide alone, a group
// always keeps its newest non-empty snapshot and its last intact one while newer ones are
// damaged, a wrong clock never makes a snapshot the newest, and bad rule values are refused.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <set>

#include "repo/integrity_record.h"
#include "repo/retention.h"
#include "support/repo_testing.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {
namespace {

// 2026-12-01 12:00 JST: the fake "now" of every test here.
constexpr int64_t kNow = 1764558000;
constexpr int64_t kDay = 86400;

class RetentionGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZ");
    old_tz_ = old ? std::optional<std::string>(old) : std::nullopt;
    ::setenv("TZ", "JST-9", 1);
    ::tzset();
  }
  void TearDown() override {
    if (old_tz_)
      ::setenv("TZ", old_tz_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }

  struct Spec {
    std::string host = "pc1";
    std::string kind = "files";
    std::string name = "/srv";
    SnapshotKind gen = SnapshotKind::kDaily;
    int64_t time = kNow;
    uint64_t bytes = 100;
    IntegrityState integrity = IntegrityState::kUnknown;
    bool meta_ok = true;
    std::vector<std::string> tags;
    std::string id;  // Default: "s<index>"
  };

  // Builds snapshots and candidates from specs; ids are "s<index>".
  static void BuildInto(const std::vector<Spec>& specs, std::vector<Snapshot>& snaps,
                        std::vector<RetentionCandidate>& cands) {
    snaps.clear();
    cands.clear();
    for (size_t i = 0; i < specs.size(); ++i) {
      Snapshot s;
      s.id = specs[i].id.empty() ? "s" + std::to_string(i) : specs[i].id;
      s.plain.kind = specs[i].gen;
      s.plain.time = specs[i].time;
      s.plain.time_ms = specs[i].time * 1000;
      s.plain.bytes = specs[i].bytes;
      snaps.push_back(s);
    }
    for (size_t i = 0; i < specs.size(); ++i) {
      RetentionCandidate c;
      c.snapshot = &snaps[i];
      c.meta_ok = specs[i].meta_ok;
      c.host = specs[i].host;
      c.source_kind = specs[i].kind;
      c.source_name = specs[i].name;
      c.tags = specs[i].tags;
      c.integrity = specs[i].integrity;
      cands.push_back(c);
    }
  }
  void Build(const std::vector<Spec>& specs) { BuildInto(specs, snaps_, cands_); }

  static std::set<std::string> Ids(const std::vector<const RetentionCandidate*>& v) {
    std::set<std::string> out;
    for (const RetentionCandidate* c : v) out.insert(c->snapshot->id);
    return out;
  }
  static std::set<std::string> AllKept(const RetentionPlan& p) {
    std::set<std::string> out = Ids(p.unreadable);
    for (const RetentionGroup& g : p.groups) {
      for (const auto& id : Ids(g.keep)) out.insert(id);
    }
    return out;
  }

  std::vector<Snapshot> snaps_;
  std::vector<RetentionCandidate> cands_;
  std::optional<std::string> old_tz_;
};

// The README's workflow: nightly files backups and `pg_dump | kura backup --stdin` in one
// repository. With every snapshot in one pool, keep-days 1 kept only the newer of the two.
TEST_F(RetentionGroupsTest, FilesAndStdinBackupsInOneRepositoryEachKeepTheirGenerations) {
  Spec files{.time = kNow - 3600};
  Spec dump{.kind = "stdin", .name = "pg.dump", .time = kNow - 1800};
  Spec old_files{.time = kNow - 3600 - kDay};
  Spec old_dump{.kind = "stdin", .name = "pg.dump", .time = kNow - 1800 - kDay};
  Build({files, dump, old_files, old_dump});
  RetentionPolicy p;
  p.daily.keep_days = 1;
  RetentionPlan plan = PlanRetention(cands_, p, GroupBy{}, kNow);
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(AllKept(plan), (std::set<std::string>{"s0", "s1"}));
  // With no grouping (--group-by '') the old behaviour is still there to ask for.
  RetentionPlan one = PlanRetention(cands_, p, GroupBy{false, false, false}, kNow);
  ASSERT_EQ(one.groups.size(), 1u);
  EXPECT_EQ(AllKept(one), (std::set<std::string>{"s1"}));
}

TEST_F(RetentionGroupsTest, GroupByHostSourceTagsCombinations) {
  Build({{.host = "pc1"},
         {.host = "pc2"},
         {.host = "pc1", .name = "/home"},
         {.host = "pc1", .tags = {"a"}},
         {.host = "pc1", .tags = {"kura-copy-of:abc"}}});
  auto groups = [&](const char* text) {
    auto g = ParseGroupBy(text);
    EXPECT_TRUE(g.ok()) << text;
    return PlanRetention(cands_, RetentionPolicy::LocalDefaults(), *g, kNow).groups.size();
  };
  EXPECT_EQ(groups("host,source"), 3u);
  EXPECT_EQ(groups("host"), 2u);
  EXPECT_EQ(groups("source"), 2u);
  EXPECT_EQ(groups("paths"), 2u);
  EXPECT_EQ(groups(""), 1u);
  // A copy's own kura-copy-of tag does not make it a group of its own.
  EXPECT_EQ(groups("tags"), 2u);
  EXPECT_EQ(groups("host,source,tags"), 4u);
  for (const char* bad : {"hosts", "host,", ",host", "host;source", "time"}) {
    auto g = ParseGroupBy(bad);
    EXPECT_EQ(g.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST_F(RetentionGroupsTest, RuleValuesAreParsedStrictly) {
  SetLanguage(Language::kEnglish);
  for (const char* bad : {"manual=l", "manual=3abc", "manual=-1", "manual=", "=3", "manual", "weekly=3",
                          "manual=+3", "manual= 3", "manual=3 ", "manual=0x3", "manual=1e3", "Manual=3",
                          "manual=99999999999999999999", "manual=10001", "manual==3", ""}) {
    SnapshotKind kind = SnapshotKind::kDaily;
    int n = 77;
    Status st = ParseRuleValue("--keep-last", bad, &kind, &n);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << "accepted: '" << bad << "'";
    EXPECT_NE(st.message().find("--keep-last"), std::string::npos) << st.message();
    EXPECT_EQ(n, 77) << "a refused value must not be half-applied: " << bad;
  }
  SnapshotKind kind = SnapshotKind::kManual;
  int n = -1;
  ASSERT_TRUE(ParseRuleValue("--keep-days", "daily=30", &kind, &n).ok());
  EXPECT_EQ(kind, SnapshotKind::kDaily);
  EXPECT_EQ(n, 30);
  ASSERT_TRUE(ParseRuleValue("--keep-last", "manual=0", &kind, &n).ok());
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(ParseRuleValue("--keep-months", "monthly=10000", &kind, &n).ok());
  EXPECT_EQ(n, kMaxRuleValue);
  SetLanguage(Language::kJapanese);
  Status ja = ParseRuleValue("--keep-last", "manual=l", &kind, &n);
  EXPECT_NE(ja.message().find("整数"), std::string::npos) << ja.message();
}

// A 0-byte dump (pg_dump failing inside a pipe) three nights running must not cost the last
// real dump, whatever the rules.
TEST_F(RetentionGroupsTest, EmptyGenerationsNeverRemoveTheLastNonEmptyOne) {
  Build({{.kind = "stdin", .time = kNow - 3 * kDay, .bytes = 5000},
         {.kind = "stdin", .time = kNow - 2 * kDay, .bytes = 0},
         {.kind = "stdin", .time = kNow - 1 * kDay, .bytes = 0},
         {.kind = "stdin", .time = kNow, .bytes = 0}});
  RetentionPolicy p;
  p.daily.keep_last = 1;
  RetentionPlan plan = PlanRetention(cands_, p, GroupBy{}, kNow);
  EXPECT_EQ(AllKept(plan), (std::set<std::string>{"s0", "s3"}));
  EXPECT_EQ(plan.reason.at("s0"), "newest non-empty");
}

// Verify/drill found the newest two generations damaged; the one before was proved intact.
TEST_F(RetentionGroupsTest, TheLastIntactGenerationSurvivesWhileNewerOnesAreDamaged) {
  Build({{.time = kNow - 3 * kDay, .integrity = IntegrityState::kIntact},
         {.time = kNow - 2 * kDay, .integrity = IntegrityState::kIntact},
         {.time = kNow - 1 * kDay, .integrity = IntegrityState::kDamaged},
         {.time = kNow, .integrity = IntegrityState::kDamaged}});
  RetentionPolicy p;
  p.daily.keep_last = 1;
  RetentionPlan plan = PlanRetention(cands_, p, GroupBy{}, kNow);
  EXPECT_EQ(AllKept(plan), (std::set<std::string>{"s1", "s3"}));
  EXPECT_EQ(plan.reason.at("s1"), "newest intact");
  // Once a newer generation is proved intact, the old one is no longer needed.
  cands_[3].integrity = IntegrityState::kIntact;
  EXPECT_EQ(AllKept(PlanRetention(cands_, p, GroupBy{}, kNow)), (std::set<std::string>{"s3"}));
}

// A clock set to 2036 for one night: that snapshot must not be the newest generation
// forever (keep-last 1 kept it and dropped every real one) nor `latest`.
TEST_F(RetentionGroupsTest, AFutureSnapshotIsNeverTheNewestGeneration) {
  int64_t y2036 = 2082758400;
  Build({{.time = kNow - 2 * kDay}, {.time = y2036}, {.time = kNow - kDay}});
  RetentionPolicy p;
  p.daily.keep_last = 1;
  RetentionPlan plan = PlanRetention(cands_, p, GroupBy{}, kNow);
  EXPECT_EQ(plan.reason.at("s2"), "last 1");
  EXPECT_EQ(plan.reason.at("s1"), "future time");
  EXPECT_EQ(Ids(plan.future), (std::set<std::string>{"s1"}));
  EXPECT_EQ(AllKept(plan), (std::set<std::string>{"s1", "s2"}));
  EXPECT_EQ(LatestSnapshot(snaps_, kNow)->id, "s2");
  EXPECT_EQ(NewestFutureSnapshot(snaps_, kNow)->id, "s1");
  // Within the tolerance a slightly fast clock is believed.
  Build({{.time = kNow - kDay}, {.time = kNow + kFutureToleranceSeconds - 1}});
  EXPECT_EQ(LatestSnapshot(snaps_, kNow)->id, "s1");
  EXPECT_EQ(NewestFutureSnapshot(snaps_, kNow), nullptr);
}

// A CMOS battery gives out and the clock says 2000: every snapshot is "in the future".
// Nothing may be deleted for it.
TEST_F(RetentionGroupsTest, AClockBehindEverySnapshotRemovesNothing) {
  std::vector<Spec> specs;
  for (int d = 0; d < 40; ++d) specs.push_back({.time = kNow - d * kDay});
  Build(specs);
  int64_t y2000 = 946684800;
  RetentionPlan plan = PlanRetention(cands_, RetentionPolicy::LocalDefaults(), GroupBy{}, y2000);
  EXPECT_EQ(AllKept(plan).size(), 40u);
  EXPECT_EQ(LatestSnapshot(snaps_, y2000)->id, "s0") << "the newest, when no time is believable";
}

TEST_F(RetentionGroupsTest, UnreadableMetadataIsNeverRemovedByRules) {
  Build({{.time = kNow - 5 * kDay, .meta_ok = false}, {.time = kNow}});
  RetentionPolicy p;
  p.daily.keep_last = 0;
  RetentionPlan plan = PlanRetention(cands_, p, GroupBy{}, kNow);
  EXPECT_EQ(Ids(plan.unreadable), (std::set<std::string>{"s0"}));
  EXPECT_TRUE(AllKept(plan).count("s0"));
}

// Random repositories: many hosts, sources, kinds, times (duplicates and future ones),
// empty snapshots, damaged and intact marks, unreadable metadata, random rules and
// grouping. The invariants hold for every one of them.
TEST_F(RetentionGroupsTest, PropertyGroupsDecideAloneAndSafetyRulesAlwaysHold) {
  const std::vector<std::string> hosts = {"pc1", "pc2", "受付"};
  const std::vector<std::pair<std::string, std::string>> sources = {
      {"files", "/srv"}, {"stdin", "pg.dump"}, {"postgresql", "karte"}, {"files", "/home"}};
  const std::vector<std::string> tag_pool = {"night", "kura-job:a", "kura-copy-of:x", "kura-copy-of:y"};
  const std::vector<int> rule_values = {-1, 0, 1, 2, 5};
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
    int64_t now = kNow + static_cast<int64_t>(pick(1000)) * 3600;
    std::vector<Spec> specs;
    size_t n = pick(40);
    for (size_t i = 0; i < n; ++i) {
      Spec s;
      s.host = hosts[pick(hosts.size())];
      std::tie(s.kind, s.name) = sources[pick(sources.size())];
      s.gen = static_cast<SnapshotKind>(pick(3));
      if (chance(10)) {
        s.time = now + kFutureToleranceSeconds + 1 + static_cast<int64_t>(pick(10 * 365)) * kDay;
      } else if (chance(15) && !specs.empty()) {
        s.time = specs[pick(specs.size())].time;  // a duplicate time
      } else {
        s.time = now - static_cast<int64_t>(pick(400 * 24)) * 3600;
      }
      s.bytes = chance(25) ? 0 : 1 + pick(1000);
      int mark = static_cast<int>(pick(4));
      s.integrity = mark == 0   ? IntegrityState::kIntact
                    : mark == 1 ? IntegrityState::kDamaged
                                : IntegrityState::kUnknown;
      s.meta_ok = !chance(5);
      for (const std::string& t : tag_pool) {
        if (chance(30)) s.tags.push_back(t);
      }
      specs.push_back(s);
    }
    RetentionPolicy policy;
    for (SnapshotKind k : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
      policy.For(k).keep_last = rule_values[pick(rule_values.size())];
      policy.For(k).keep_days = rule_values[pick(rule_values.size())];
      policy.For(k).keep_months = rule_values[pick(rule_values.size())];
    }
    GroupBy by{chance(70), chance(70), chance(30)};
    std::vector<std::string> protect;
    if (n > 0 && chance(30)) protect.push_back("s" + std::to_string(pick(n)));
    Build(specs);
    RetentionPlan plan = PlanRetention(cands_, policy, by, now, protect);
    SCOPED_TRACE("seed " + std::to_string(seed));

    // Every snapshot is decided exactly once.
    std::multiset<std::string> decided;
    for (const auto& id : Ids(plan.unreadable)) decided.insert(id);
    for (const RetentionGroup& g : plan.groups) {
      for (const RetentionCandidate* c : g.keep) decided.insert(c->snapshot->id);
      for (const RetentionCandidate* c : g.forget) decided.insert(c->snapshot->id);
    }
    ASSERT_EQ(decided.size(), n);
    ASSERT_EQ(std::set<std::string>(decided.begin(), decided.end()).size(), n);

    for (const RetentionGroup& g : plan.groups) {
      std::set<std::string> kept = Ids(g.keep);
      // Independence: the group's own snapshots alone give the same decision.
      std::vector<Spec> own;
      std::vector<std::string> own_ids;
      for (const RetentionCandidate* c : g.keep) own_ids.push_back(c->snapshot->id);
      for (const RetentionCandidate* c : g.forget) own_ids.push_back(c->snapshot->id);
      for (const std::string& id : own_ids) {
        own.push_back(specs[std::stoul(id.substr(1))]);
        own.back().id = id;  // the same IDs: ties in time are broken by ID
      }
      std::vector<Snapshot> own_snaps;
      std::vector<RetentionCandidate> own_cands;
      BuildInto(own, own_snaps, own_cands);
      RetentionPlan alone = PlanRetention(own_cands, policy, by, now, protect);
      ASSERT_EQ(alone.groups.size(), 1u);
      std::set<std::string> alone_kept = Ids(alone.groups[0].keep);
      EXPECT_EQ(alone_kept, kept) << "a group's decision changed with other groups' snapshots";

      std::vector<const RetentionCandidate*> members = g.keep;
      members.insert(members.end(), g.forget.begin(), g.forget.end());
      std::sort(members.begin(), members.end(), [](const RetentionCandidate* a, const RetentionCandidate* b) {
        return a->snapshot->plain.OrderKey() != b->snapshot->plain.OrderKey()
                   ? a->snapshot->plain.OrderKey() > b->snapshot->plain.OrderKey()
                   : a->snapshot->id > b->snapshot->id;
      });
      std::vector<const RetentionCandidate*> plausible;
      for (const RetentionCandidate* c : members) {
        bool future = c->snapshot->plain.time > now + kFutureToleranceSeconds;
        if (future) {
          EXPECT_TRUE(kept.count(c->snapshot->id)) << "a future snapshot was forgotten";
          const std::string& why = plan.reason.at(c->snapshot->id);
          EXPECT_TRUE(why == "future time" || why == "protected") << why;
        } else {
          plausible.push_back(c);
        }
      }
      // The newest non-empty snapshot with a believable time is kept.
      for (const RetentionCandidate* c : plausible) {
        if (c->snapshot->plain.bytes > 0) {
          EXPECT_TRUE(kept.count(c->snapshot->id)) << "newest non-empty " << c->snapshot->id << " forgotten";
          break;
        }
      }
      // ... and so is each kind's newest non-empty one whenever the kind's rules keep
      // anything: an empty generation never takes its place.
      auto by_rule = [&](const std::string& id) {
        auto it = plan.reason.find(id);
        if (it == plan.reason.end()) return false;
        const std::string& w = it->second;
        return w.rfind("last ", 0) == 0 || w.rfind("day ", 0) == 0 || w.rfind("month ", 0) == 0 ||
               w == "no rule";
      };
      for (SnapshotKind k : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
        bool rules_keep = false;
        const RetentionCandidate* newest_full = nullptr;
        for (const RetentionCandidate* c : plausible) {
          if (c->snapshot->plain.kind != k) continue;
          rules_keep = rules_keep || by_rule(c->snapshot->id);
          if (!newest_full && c->snapshot->plain.bytes > 0) newest_full = c;
        }
        if (rules_keep && newest_full) {
          EXPECT_TRUE(kept.count(newest_full->snapshot->id))
              << "displaced by an empty one: " << newest_full->snapshot->id << " kind " << KindName(k);
        }
      }
      // Last intact before damaged.
      bool newer_damaged = false;
      for (const RetentionCandidate* c : plausible) {
        if (c->integrity == IntegrityState::kIntact) {
          if (newer_damaged) {
            EXPECT_TRUE(kept.count(c->snapshot->id)) << "last intact " << c->snapshot->id << " forgotten";
          }
          break;
        }
        if (c->integrity == IntegrityState::kDamaged) newer_damaged = true;
      }
      // No future snapshot counts as newest: with keep-last >= 1 the newest believable
      // snapshot of each kind holds the first place.
      for (SnapshotKind k : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
        if (policy.For(k).keep_last < 1) continue;
        for (const RetentionCandidate* c : plausible) {
          if (c->snapshot->plain.kind != k) continue;
          EXPECT_EQ(plan.reason.at(c->snapshot->id), "last 1");
          break;
        }
      }
      for (const std::string& id : protect) {
        if (std::find(own_ids.begin(), own_ids.end(), id) != own_ids.end()) {
          EXPECT_TRUE(kept.count(id));
        }
      }
    }
    const Snapshot* latest = LatestSnapshot(snaps_, now);
    bool any_plausible = std::any_of(snaps_.begin(), snaps_.end(), [&](const Snapshot& s) {
      return s.plain.time <= now + kFutureToleranceSeconds;
    });
    if (any_plausible) {
      ASSERT_NE(latest, nullptr);
      EXPECT_LE(latest->plain.time, now + kFutureToleranceSeconds) << "latest is a future snapshot";
    }
  }
}

class IntegrityRecordTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.Sub("repo-id/integrity.json"); }
  testing::TempDir dir_{"kura-integrity"};
  FakeClock clock_{kNow};
};

TEST_F(IntegrityRecordTest, MarksRoundTripAndANewerMarkReplacesAnOlderOne) {
  auto empty = LoadIntegrityRecord(Path());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(RecordIntegrity(
                  Path(), "repo-id",
                  {{"a", IntegrityState::kIntact, ""}, {"b", IntegrityState::kDamaged, "3 blobs missing"}},
                  "verify --read-data", clock_)
                  .ok());
  clock_.Advance(kDay);
  ASSERT_TRUE(
      RecordIntegrity(Path(), "repo-id", {{"a", IntegrityState::kDamaged, "pack flipped"}}, "drill", clock_)
          .ok());
  auto marks = LoadIntegrityRecord(Path());
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  ASSERT_EQ(marks->size(), 2u);
  EXPECT_EQ(marks->at("a").state, IntegrityState::kDamaged);
  EXPECT_EQ(marks->at("a").by, "drill");
  EXPECT_EQ(marks->at("a").checked, kNow + kDay);
  EXPECT_EQ(marks->at("b").problem, "3 blobs missing");
  auto text = ReadTextFile(Path());
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"version\": 1"), std::string::npos) << *text;
}

TEST_F(IntegrityRecordTest, ADamagedRecordIsReportedAndReplacedByTheNextCheck) {
  ASSERT_TRUE(MakeDirs(dir_.Sub("repo-id")).ok());
  for (const char* bad : {"{", "[]", "{\"version\": 1}", "{\"version\": 1, \"snapshots\": {\"a\": 3}}",
                          "{\"version\": \"1\", \"snapshots\": {}}"}) {
    ASSERT_TRUE(WriteFileAtomic(Path(), AsBytes(bad)).ok());
    auto marks = LoadIntegrityRecord(Path());
    EXPECT_EQ(marks.status().code(), Code::kCorruption) << bad;
    EXPECT_NE(marks.status().message().find(Path()), std::string::npos) << marks.status().message();
  }
  ASSERT_TRUE(
      RecordIntegrity(Path(), "repo-id", {{"a", IntegrityState::kIntact, ""}}, "verify", clock_).ok());
  auto marks = LoadIntegrityRecord(Path());
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(marks->size(), 1u);
}

TEST_F(IntegrityRecordTest, ARecordOfANewerVersionIsNeitherReadNorOverwritten) {
  ASSERT_TRUE(MakeDirs(dir_.Sub("repo-id")).ok());
  std::string newer = "{\"version\": 2, \"snapshots\": {}}";
  ASSERT_TRUE(WriteFileAtomic(Path(), AsBytes(newer)).ok());
  EXPECT_EQ(LoadIntegrityRecord(Path()).status().code(), Code::kUnsupported);
  EXPECT_EQ(RecordIntegrity(Path(), "repo-id", {{"a", IntegrityState::kIntact, ""}}, "verify", clock_).code(),
            Code::kUnsupported);
  EXPECT_EQ(*ReadTextFile(Path()), newer);
}

}  // namespace
}  // namespace kura
