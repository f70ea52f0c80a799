// The agent's state files (status.json, schedule.json, send queue items) are untrusted
// input. A document that parses as JSON but has a field of the wrong type used to throw
// out of nlohmann and abort `kura status` and `kura agent` (exit 134). Property: every
// field of a valid document, replaced by a value of each other JSON type, gives a
// kCorruption Status that names the file and the field — never an exception.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "agent/schedule.h"
#include "agent/send_queue.h"
#include "agent/status_file.h"

namespace kura {
namespace {

using nlohmann::json;

enum class Kind { kNull, kBool, kInt, kFloat, kString, kArray, kObject };

Kind KindOf(const json& j) {
  if (j.is_null()) return Kind::kNull;
  if (j.is_boolean()) return Kind::kBool;
  if (j.is_number_integer()) return Kind::kInt;
  if (j.is_number_float()) return Kind::kFloat;
  if (j.is_string()) return Kind::kString;
  if (j.is_array()) return Kind::kArray;
  return Kind::kObject;
}

const std::vector<json>& Samples() {
  static const std::vector<json> kSamples = {
      json(nullptr),           json(true), json(7), json(1.5), json("x"), json::array({1, 2}),
      json::object({{"k", 1}})};
  return kSamples;
}

// Every value in the document (not the root), as JSON pointers.
void Pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  if (!j.is_object()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    json::json_pointer p = at / it.key();
    out.push_back(p);
    Pointers(*it, p, out);
  }
}

std::string Dotted(const json::json_pointer& p) {
  std::string s = p.to_string().substr(1);
  for (char& c : s) c = c == '/' ? '.' : c;
  return s;
}

using Parser = std::function<Status(const std::string& text)>;
// Whether `replacement` at `p` is an accepted value rather than a wrong type.
using Accepts =
    std::function<bool(const json::json_pointer& p, const json& original, const json& replacement)>;

void ExpectEveryWrongTypeIsCorruption(const json& valid, const std::string& file, const Parser& parse,
                                      const Accepts& accepts) {
  ASSERT_TRUE(parse(valid.dump()).ok()) << "the valid document must parse: " << valid.dump();
  std::vector<json::json_pointer> pointers;
  Pointers(valid, json::json_pointer(), pointers);
  ASSERT_GT(pointers.size(), 5u);
  int checked = 0;
  for (const json::json_pointer& p : pointers) {
    for (const json& sample : Samples()) {
      if (KindOf(sample) == KindOf(valid[p])) continue;
      json doc = valid;
      doc[p] = sample;
      Status st;
      try {
        st = parse(doc.dump());
      } catch (const std::exception& e) {
        ADD_FAILURE() << p.to_string() << " = " << sample.dump() << " threw " << e.what();
        continue;
      }
      ++checked;
      if (accepts(p, valid[p], sample)) {
        EXPECT_TRUE(st.ok()) << p.to_string() << " = " << sample.dump() << ": " << st.ToString();
        continue;
      }
      ASSERT_EQ(st.code(), Code::kCorruption)
          << p.to_string() << " = " << sample.dump() << ": " << st.ToString();
      EXPECT_NE(st.message().find(file), std::string::npos) << "the message names the file: " << st.message();
      EXPECT_NE(st.message().find(Dotted(p)), std::string::npos)
          << "the message names the field: " << st.message();
    }
  }
  // Whole-document garbage of every type is damage too.
  for (const json& sample : Samples()) {
    if (sample.is_object()) continue;
    EXPECT_EQ(parse(sample.dump()).code(), Code::kCorruption) << sample.dump();
  }
  EXPECT_EQ(parse("{\"unterminated").code(), Code::kCorruption);
  EXPECT_GT(checked, 50);
}

StatusDocument FullStatus() {
  StatusDocument d;
  d.updated = 1763700000;
  d.host = "care-server";
  JobStatus& job = d.jobs["careapp"];
  job.label = "ケア";
  job.last_run =
      RunInfo{"daily", 1763700000, 1763700003, "failed", "ab", 1, 2, ErrorInfo{"io_error", "disk"}};
  DrillInfo drill;
  drill.time = 1763700000;
  drill.result = "ok";
  drill.target = "local";
  drill.snapshot = "cd";
  drill.restored_into = "/tmp/x";
  drill.tables = 3;
  drill.rows = 4;
  drill.files = 5;
  drill.integrity_checked = true;
  drill.seconds = 12.5;
  drill.error = ErrorInfo{"corruption", "bad"};
  drill.damaged_part = "repository";
  drill.damaged_blobs = 2;
  drill.last_ok_snapshot = "ab";
  drill.last_ok_time = 1763600000;
  drill.warning = WarningInfo{true, 1763700000, 1, "訓練", "drill"};
  job.last_drill = drill;
  job.last_success_by_kind["daily"] = 1763600000;
  job.first_seen = 1763000000;
  TargetStatus& t = job.targets["local"];
  t.label = "local";
  t.last_attempt = 1763700003;
  t.last_success = 1763600000;
  t.last_result = "failed";
  t.last_snapshot = "ef";
  t.pending_sends = 1;
  t.error = ErrorInfo{"io_error", "disk"};
  t.warning = WarningInfo{true, 1763700003, 2, "警告", "warning"};
  return d;
}

TEST(StateFilesTest, WrongTypedStatusFileFieldIsCorruptionNamingTheFieldNeverAnException) {
  const std::string file = "/var/lib/kura/status.json";
  json valid = StatusToJson(FullStatus());
  ExpectEveryWrongTypeIsCorruption(
      valid, file, [&](const std::string& text) { return ParseStatusFile(text, file).status(); },
      [](const json::json_pointer& p, const json& original, const json& replacement) {
        std::string key = p.back();
        // null means "never" / "not set" for the times, strings and optional objects.
        if (replacement.is_null() &&
            (original.is_string() || key == "error" || key == "last_run" || key == "last_drill")) {
          return true;
        }
        return original.is_number_float() && replacement.is_number_integer();  // 12 seconds is a number too
      });
}

TEST(StateFilesTest, BadTimeInStatusFileIsCorruption) {
  json doc = StatusToJson(FullStatus());
  doc["jobs"]["careapp"]["targets"]["local"]["last_success"] = "yesterday";
  auto r = ParseStatusFile(doc.dump(), "s.json");
  ASSERT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("jobs.careapp.targets.local.last_success"), std::string::npos);
}

TEST(StateFilesTest, StatusFileOfAnOlderKuraWithoutNewKeysStillReads) {
  auto r =
      ParseStatusFile(R"({"schema_version":1,"jobs":{"a":{"targets":{"local":{"label":"L"}}}}})", "s.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->jobs["a"].targets["local"].label, "L");
}

TEST(StateFilesTest, WrongTypedScheduleFileFieldIsCorruptionNamingTheFieldNeverAnException) {
  const std::string file = "/var/lib/kura/schedule.json";
  json valid = {
      {"version", 1},
      {"jobs",
       {{"careapp",
         {{"initialized", true},
          {"daily", {{"slot", 1763650800}, {"done", false}, {"attempts", 2}, {"next_attempt", 1763651040}}},
          {"monthly", {{"slot", 1763650800}, {"done", true}, {"attempts", 0}, {"next_attempt", 0}}}}}}}};
  ExpectEveryWrongTypeIsCorruption(
      valid, file, [&](const std::string& text) { return ParseScheduleState(text, file).status(); },
      [](const json::json_pointer&, const json&, const json&) { return false; });
}

TEST(StateFilesTest, WrongTypedSendQueueItemFieldIsCorruptionNamingTheFieldNeverAnException) {
  const std::string file = "/var/lib/kura/queue/1-care-offsite-ab.json";
  json valid = {{"version", 1},         {"id", "1-care-offsite-ab"},
                {"job", "care"},        {"target", "offsite"},
                {"snapshot", "abcdef"}, {"kind", "daily"},
                {"night", true},        {"enqueued", 1763700000},
                {"attempts", 1},        {"next_attempt", 1763700060},
                {"last_error", "x"}};
  ExpectEveryWrongTypeIsCorruption(
      valid, file, [&](const std::string& text) { return ParseSendItem(text, file).status(); },
      [](const json::json_pointer&, const json&, const json&) { return false; });
  for (const char* key : {"id", "job", "target", "snapshot", "kind"}) {
    json doc = valid;
    doc.erase(key);
    auto r = ParseSendItem(doc.dump(), file);
    ASSERT_EQ(r.status().code(), Code::kCorruption) << key;
    EXPECT_NE(r.status().message().find(key), std::string::npos) << r.status().message();
  }
}

TEST(StateFilesTest, StatusFileWithBytesThatAreNotUtf8IsWrittenAndReadBack) {
  StatusDocument d = FullStatus();
  d.jobs["careapp"].targets["local"].error =
      ErrorInfo{"source_failed", "cannot read /srv/\x83\x65\x83\x58 \x1b[2J"};
  std::string text;
  ASSERT_NO_THROW(text = StatusToJson(d).dump());
  auto back = ParseStatusFile(text, "s.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->jobs["careapp"].targets["local"].error->message, "cannot read /srv/\\x83e\\x83X \\x1B[2J");
}

}  // namespace
}  // namespace kura
