// The drill's record in the status file: a failed drill's warning counts as an active
// warning (warning_active, ActiveWarnings), survives a round trip, and odd values in the
// new fields never throw or invent a warning.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent/status_file.h"

namespace kura {
namespace {

using nlohmann::json;

StatusDocument WithDrill(bool active) {
  StatusDocument doc;
  JobStatus& js = doc.jobs["care"];
  js.label = "ケア記録";
  DrillInfo d;
  d.time = 1795237200;
  d.result = active ? "failed" : "ok";
  d.target = "local";
  d.snapshot = std::string(64, 'a');
  d.damaged_part = active ? "repository" : "";
  d.damaged_blobs = active ? 3 : 0;
  d.last_ok_snapshot = std::string(64, 'b');
  d.last_ok_time = 1795150800;
  d.warning.active = active;
  d.warning.since = active ? 1795237200 : 0;
  d.warning.failures = active ? 2 : 0;
  d.warning.message_ja = active ? "復元訓練「ケア記録」が失敗しています" : "";
  js.last_drill = d;
  js.targets["local"].label = "local";  // the backups themselves are fine
  return doc;
}

TEST(DrillStatusTest, FailedDrillIsAnActiveWarningAndRoundTrips) {
  StatusDocument doc = WithDrill(true);
  auto w = ActiveWarnings(doc);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].status, nullptr);
  ASSERT_NE(w[0].drill, nullptr);
  EXPECT_EQ(w[0].warning->message_ja, "復元訓練「ケア記録」が失敗しています");
  json j = StatusToJson(doc);
  EXPECT_TRUE(j["warning_active"].get<bool>());
  auto back = StatusFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const DrillInfo& d = *back->jobs["care"].last_drill;
  EXPECT_EQ(d.damaged_part, "repository");
  EXPECT_EQ(d.damaged_blobs, 3u);
  EXPECT_EQ(d.last_ok_snapshot, std::string(64, 'b'));
  EXPECT_EQ(d.last_ok_time, 1795150800);
  EXPECT_TRUE(d.warning.active);
  EXPECT_EQ(d.warning.since, 1795237200);
  EXPECT_EQ(d.warning.failures, 2);
  EXPECT_EQ(ActiveWarnings(*back).size(), 1u);

  StatusDocument ok = WithDrill(false);
  EXPECT_TRUE(ActiveWarnings(ok).empty());
  EXPECT_FALSE(StatusToJson(ok)["warning_active"].get<bool>());
}

TEST(DrillStatusTest, OldOrOddDrillRecordsNeverThrowNorRaiseAWarning) {
  json base = StatusToJson(WithDrill(false));
  // A wrong-typed value is damage named by its field (docs/status-file.md, "Damaged files"),
  // never an exception and never a warning read from a damaged file.
  std::vector<json> odd = {json("yes"), json::array(), json(-5), json(1.5)};
  for (const char* key : {"warning", "damaged_blobs", "damaged_part", "last_ok_snapshot", "last_ok_time"}) {
    for (const json& v : odd) {
      json j = base;
      j["jobs"]["care"]["last_drill"][key] = v;
      if (std::string(key) == "warning" && v.is_object())
        j["jobs"]["care"]["last_drill"][key] = {{"active", "true"}};
      Result<StatusDocument> doc = Status::Ok();
      EXPECT_NO_THROW(doc = StatusFromJson(j)) << key << "=" << v.dump();
      if (doc.ok()) {
        EXPECT_TRUE(ActiveWarnings(*doc).empty()) << key << "=" << v.dump();
      } else {
        EXPECT_EQ(doc.status().code(), Code::kCorruption) << key << "=" << v.dump();
        EXPECT_NE(doc.status().message().find(key), std::string::npos) << doc.status().message();
      }
    }
    json j = base;  // a file from before these fields existed
    j["jobs"]["care"]["last_drill"].erase(key);
    auto doc = StatusFromJson(j);
    ASSERT_TRUE(doc.ok());
    EXPECT_TRUE(ActiveWarnings(*doc).empty());
  }
}

}  // namespace
}  // namespace kura
