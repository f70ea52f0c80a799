// The nightly job's side of issue 6 §5 with the real binary: an empty export fails the job
// unless the job allows it, a FIFO in a files job is a warning (exit 11, recorded in the
// run), and `kura status` warns when the backup is not being made at all (no status file;
// a daily job whose last success is long past).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/job_harness.h"
#include "util/fs.h"

namespace kura::testing {
namespace {

using nlohmann::json;

std::string JobConfig(const JobSandbox& sb, const std::string& source, const std::string& job_extra = "") {
  return fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"
[[job]]
name = "care"
label = "ケアレンツ"
{3}
[job.source]
{1}
[job.schedule]
daily = "02:00"
[[job.target]]
name = "local"
repository = "{0}/local"
password_file = "{2}"
)T",
                     sb.dir(), source, sb.password_file(), job_extra);
}

TEST(JobOfficeTest, EmptyExportFailsTheJobUnlessAllowEmpty) {
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteConfig(JobConfig(sb, "kind = \"command\"\nshell = \"true\"\nstream = \"export.bin\""));
  KuraRun r = sb.Kura({"run", "care", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("allow_empty"), std::string::npos) << "says which field allows it: " << r.err;
  EXPECT_TRUE(sb.Snapshots("local").empty());
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 10) << "an empty export is a failed backup for the office";

  sb.WriteConfig(
      JobConfig(sb, "kind = \"command\"\nshell = \"true\"\nstream = \"export.bin\"\nallow_empty = true"));
  r = sb.Kura({"run", "care", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sb.Snapshots("local").size(), 1u);
}

TEST(JobOfficeTest, FifoInAFilesJobIsAWarningRecordedInTheRunNotAFailure) {
  JobSandbox sb;
  sb.InitRepo("local");
  ASSERT_TRUE(MakeDirs(sb.Path("tree")).ok());
  sb.WriteFile("tree/doc.txt", "doc");
  ASSERT_EQ(::mkfifo(sb.Path("tree/pipe").c_str(), 0600), 0);
  sb.WriteConfig(JobConfig(sb, fmt::format("kind = \"files\"\npaths = [\"{}\"]", sb.Path("tree")), ""));
  KuraRun r = sb.Kura({"run", "care", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 11) << r.err;
  EXPECT_NE(r.err.find("pipe"), std::string::npos) << r.err;
  EXPECT_EQ(sb.Snapshots("local").size(), 1u);
  KuraRun st = sb.Kura({"status", "--json"});
  EXPECT_EQ(st.exit_code, 0) << "the backup was made: no warning on the main menu: " << st.out;
  json j = json::parse(st.out);
  EXPECT_EQ(j["jobs"]["care"]["last_run"]["result"], "ok");
  EXPECT_EQ(j["jobs"]["care"]["last_run"]["warnings"], 1) << st.out;
  EXPECT_TRUE(j["jobs"]["care"]["last_success_by_kind"].contains("daily")) << st.out;
  auto log = ReadTextFile(sb.Path("kura.log"));
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("warnings=1"), std::string::npos) << *log;
}

TEST(JobOfficeTest, StatusWarnsWhenNoBackupIsBeingMade) {
  JobSandbox sb;
  sb.InitRepo("local");
  sb.WriteConfig(JobConfig(sb, "kind = \"command\"\nshell = \"echo data\""));
  // Installed, but the agent never ran: no status file at all.
  KuraRun none = sb.Kura({"status"});
  EXPECT_EQ(none.exit_code, 10) << none.out;
  EXPECT_NE(none.out.find("状態ファイル"), std::string::npos) << none.out;
  KuraRun none_json = sb.Kura({"status", "--json"});
  EXPECT_EQ(none_json.exit_code, 10);
  json nj = json::parse(none_json.out);
  EXPECT_TRUE(nj["warning_active"].get<bool>());
  EXPECT_EQ(nj["overdue"][0]["reason"], "no_status_file");

  ASSERT_EQ(sb.Kura({"run", "care", "--kind", "daily"}).exit_code, 0);
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 0) << "just succeeded";
  // The last success was long ago (the agent has been stopped since): a status file as it
  // would look, with the times moved back.
  std::string path = sb.Path("state/status.json");
  auto text = ReadTextFile(path);
  ASSERT_TRUE(text.ok());
  json doc = json::parse(*text);
  doc["jobs"]["care"]["last_success_by_kind"]["daily"] = "2001-01-01T00:00:00Z";
  doc["jobs"]["care"]["targets"]["local"]["last_success"] = "2001-01-01T00:00:00Z";
  doc["jobs"]["care"]["first_seen"] = "2000-12-01T00:00:00Z";
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes(doc.dump()), 0644).ok());
  KuraRun late = sb.Kura({"status"});
  EXPECT_EQ(late.exit_code, 10) << late.out;
  EXPECT_NE(late.out.find("ケアレンツ"), std::string::npos) << late.out;
  EXPECT_NE(late.out.find("予定どおり行われていません"), std::string::npos) << late.out;
  KuraRun late_en = sb.Kura({"--lang", "en", "status", "--json"});
  EXPECT_EQ(late_en.exit_code, 10);
  json lj = json::parse(late_en.out);
  EXPECT_TRUE(lj["warning_active"].get<bool>());
  EXPECT_EQ(lj["overdue"][0]["reason"], "daily");
  EXPECT_EQ(lj["overdue"][0]["job"], "care");
}

}  // namespace
}  // namespace kura::testing
