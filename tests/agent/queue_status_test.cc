// The send queue's persistence and the status file's warning semantics.
#include <gtest/gtest.h>

#include <fstream>

#include "agent/run_log.h"
#include "agent/send_queue.h"
#include "agent/status_file.h"
#include "support/db_servers.h"
#include "util/fs.h"

namespace kura {
namespace {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("kura-agent-test"); }
  void TearDown() override { testing::RemoveAll(dir_); }
  std::string dir_;
};

using SendQueueTest = TempDirTest;
using StatusFileTest = TempDirTest;
using RunLogTest = TempDirTest;

TEST_F(SendQueueTest, ItemsSurviveAndAreRemovedOnlyExplicitly) {
  SendQueue q(dir_ + "/queue");
  auto empty = q.List();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  SendItem a{"", "care", "offsite", std::string(64, 'a'), SnapshotKind::kMonthly, true, 100, 0, 200, ""};
  SendItem b{"", "care", "offsite", std::string(64, 'b'), SnapshotKind::kDaily, false, 50, 0, 50, ""};
  ASSERT_TRUE(q.Put(a).ok());
  ASSERT_TRUE(q.Put(b).ok());
  EXPECT_FALSE(a.id.empty());
  SendQueue again(dir_ + "/queue");  // a restarted process
  auto items = again.List();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].snapshot, b.snapshot);  // oldest first
  EXPECT_EQ((*items)[1].kind, SnapshotKind::kMonthly);
  EXPECT_TRUE((*items)[1].night);
  a.attempts = 3;
  a.last_error = "接続できません";
  ASSERT_TRUE(again.Put(a).ok());
  auto got = again.Get(a.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->attempts, 3);
  EXPECT_EQ(got->last_error, "接続できません");
  ASSERT_TRUE(again.Remove(a.id).ok());
  ASSERT_TRUE(again.Remove(a.id).ok());  // idempotent
  EXPECT_EQ(again.List()->size(), 1u);
}

TEST_F(SendQueueTest, DamagedAndTemporaryFilesAreSkipped) {
  SendQueue q(dir_);
  SendItem a{"", "care", "offsite", std::string(64, 'a'), SnapshotKind::kDaily, false, 1, 0, 1, ""};
  ASSERT_TRUE(q.Put(a).ok());
  std::ofstream(dir_ + "/torn.json") << "{\"id\": ";
  std::ofstream(dir_ + "/.x.json.tmp123") << "junk";
  std::vector<std::string> damaged;
  auto items = q.List(&damaged);
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->size(), 1u);
  ASSERT_EQ(damaged.size(), 1u);
  EXPECT_NE(damaged[0].find("torn.json"), std::string::npos);
}

TEST_F(SendQueueTest, RetryTimes) {
  setenv("TZ", "Asia/Tokyo", 1);
  tzset();
  SendWindow w;  // 22:00-06:00
  RetryPolicy r;
  int64_t afternoon = 1795237200;  // 2026-11-21 14:00 JST
  EXPECT_EQ(FirstAttemptTime(false, w, afternoon), afternoon);
  EXPECT_EQ(FirstAttemptTime(true, w, afternoon), afternoon + 8 * 3600);
  SendItem i;
  i.attempts = 1;
  EXPECT_EQ(NextAttemptTime(i, r, w, afternoon), afternoon + 60);
  i.attempts = 2;
  EXPECT_EQ(NextAttemptTime(i, r, w, afternoon), afternoon + 120);
  i.night = true;                             // a night send that failed at 05:59 waits for the next night
  int64_t late = afternoon + 16 * 3600 - 60;  // 05:59 the next morning
  EXPECT_EQ(NextAttemptTime(i, r, w, late), afternoon + 32 * 3600);
}

TEST_F(StatusFileTest, WarningStaysUntilTheNextSuccess) {
  TargetStatus t;
  t.label = "offsite";
  EXPECT_TRUE(RecordTargetFailure(t, 1000, Status::Retryable("network down"), "ケア",
                                  "弊社までご連絡下さい。", "Call us."));
  EXPECT_FALSE(
      RecordTargetFailure(t, 2000, Status::IOError("disk"), "ケア", "弊社までご連絡下さい。", "Call us."));
  EXPECT_TRUE(t.warning.active);
  EXPECT_EQ(t.warning.since, 1000);
  EXPECT_EQ(t.warning.failures, 2);
  EXPECT_EQ(t.error->code, "io_error");
  EXPECT_NE(t.warning.message_ja.find("ケア"), std::string::npos);
  EXPECT_NE(t.warning.message_ja.find("弊社までご連絡下さい。"), std::string::npos);
  EXPECT_NE(t.warning.message_en.find("Call us."), std::string::npos);
  EXPECT_TRUE(RecordTargetSuccess(t, 3000, "abc"));
  EXPECT_FALSE(t.warning.active);
  EXPECT_FALSE(t.error.has_value());
  EXPECT_EQ(t.last_success, 3000);
  EXPECT_FALSE(RecordTargetSuccess(t, 4000, "def"));
}

TEST_F(StatusFileTest, RoundTripAndConcurrentUpdates) {
  std::string path = dir_ + "/status.json";
  auto empty = LoadStatusFile(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(ActiveWarnings(*empty).empty());
  ASSERT_TRUE(UpdateStatusFile(path, [](StatusDocument& d) {
                d.updated = 1795237200;
                TargetStatus& t = d.jobs["care"].targets["local"];
                RecordTargetFailure(t, 1795237200, Status::SourceFailed("pg_dump failed"), "care", "g", "g");
                d.jobs["care"].last_run =
                    RunInfo{"daily", 1795237200, 1795237201, "failed",
                            "",      0,          0,          ErrorInfo{"source_failed", "pg_dump failed"}};
              }).ok());
  ASSERT_TRUE(UpdateStatusFile(path, [](StatusDocument& d) {
                RecordTargetSuccess(d.jobs["care"].targets["offsite"], 1795237300, "x");
              }).ok());
  auto doc = LoadStatusFile(path);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->jobs.at("care").targets.size(), 2u);
  auto w = ActiveWarnings(*doc);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].target, "local");
  EXPECT_EQ(w[0].status->warning.since, 1795237200);
  nlohmann::json j = nlohmann::json::parse(*ReadTextFile(path));
  EXPECT_EQ(j["schema_version"], kStatusSchemaVersion);
  EXPECT_EQ(j["warning_active"], true);
  EXPECT_EQ(j["jobs"]["care"]["targets"]["local"]["warning"]["since"], "2026-11-21T05:00:00Z");
  EXPECT_EQ(j["jobs"]["care"]["last_run"]["error"]["code"], "source_failed");
  j["schema_version"] = kStatusSchemaVersion + 1;
  EXPECT_EQ(StatusFromJson(j).status().code(), Code::kUnsupported);
}

TEST_F(RunLogTest, RotatesBySize) {
  std::string path = dir_ + "/log/kura.log";
  RunLog log(path, 200, 3, false);
  FakeClock clock(1795237200);
  for (int i = 0; i < 40; ++i)
    log.Write(clock, "run", {{"job", "care"}, {"n", std::to_string(i)}, {"error", "a b \"c\""}});
  EXPECT_TRUE(PathExists(path));
  EXPECT_TRUE(PathExists(path + ".1"));
  EXPECT_TRUE(PathExists(path + ".3"));
  EXPECT_FALSE(PathExists(path + ".4"));
  std::string text = *ReadTextFile(path);
  EXPECT_LE(text.size(), 200u);
  EXPECT_NE(text.find("n=39 error=\"a b \\\"c\\\"\""), std::string::npos) << text;
}

}  // namespace
}  // namespace kura
