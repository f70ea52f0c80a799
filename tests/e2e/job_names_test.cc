// Names in any encoding and damaged state files through `kura run`, `kura agent --once`
// and `kura status` (the real binary). A tree with names that were not UTF-8 made run and
// agent abort (exit 134) with nothing logged and no warning; a wrong-typed status.json
// made `kura status` and `kura agent --once` exit 134.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/byte_names.h"
#include "support/job_harness.h"

namespace kura::testing {
namespace {

std::string FilesJobConfig(const JobSandbox& sb, const std::string& src) {
  return fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"
[[job]]
name = "office"
label = "事務所のファイル"
[job.source]
kind = "files"
paths = ["{1}"]
[job.schedule]
daily = "02:00"
[[job.target]]
name = "local"
repository = "{2}"
password_file = "{3}"
)T",
                     sb.dir(), src, sb.Path("local"), sb.password_file());
}

TEST(CliNamesJobTest, RunAndAgentWithByteNamesSucceedAndStatusStaysClean) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string src = sb.Path("office");
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  MakeRandomByteTree(src, 31, 80);
  sb.WriteConfig(FilesJobConfig(sb, src));
  KuraRun run = sb.Kura({"run", "office"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  KuraRun agent = sb.Kura({"agent", "--once"});
  ASSERT_EQ(agent.exit_code, 0) << agent.out << agent.err;
  KuraRun status = sb.Kura({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_EQ(sb.Snapshots("local").size(), 2u) << "kura run and the agent's daily run";
}

TEST(CliNamesJobTest, WrongTypedStatusFileIsAClearErrorAndTheAgentGoesOn) {
  JobSandbox sb;
  sb.InitRepo("local");
  std::string src = sb.Path("office");
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  sb.WriteFile("office/a.txt", "記録", 0644);
  sb.WriteConfig(FilesJobConfig(sb, src));
  ASSERT_EQ(::mkdir(sb.Path("state").c_str(), 0755), 0);
  sb.WriteFile("state/status.json",
               R"({"schema_version":1,"jobs":{"office":{"last_run":{"bytes_read":"12"}}}})", 0644);
  sb.WriteFile("state/schedule.json", R"({"version":1,"jobs":{"office":{"daily":[]}}})", 0644);

  KuraRun status = sb.Kura({"status"});
  EXPECT_NE(status.exit_code, 134) << "no abort";
  EXPECT_NE(status.exit_code, 0) << "a damaged status file is not \"all is well\"";
  EXPECT_NE(status.err.find(sb.Path("state/status.json")), std::string::npos) << status.err;
  EXPECT_NE(status.err.find("last_run.bytes_read"), std::string::npos) << status.err;

  KuraRun agent = sb.Kura({"agent", "--once"});
  EXPECT_EQ(agent.exit_code, 0) << agent.out << agent.err;
  EXPECT_EQ(sb.Snapshots("local").size(), 1u) << "the agent rebuilt the schedule and made the daily backup";
  KuraRun after = sb.Kura({"status"});
  EXPECT_EQ(after.exit_code, 0) << "the run rebuilt the status file: " << after.err;
}

}  // namespace
}  // namespace kura::testing
