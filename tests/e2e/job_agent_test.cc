// The agent with the real binary: the send queue survives SIGKILL in the middle of a send
// (the restarted agent completes it and the target verifies), service definitions, and
// command-line behaviour of run/status around the job lock and config errors.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/job_harness.h"
#include "util/fs.h"

namespace kura::testing {
namespace {

// Regular files anywhere under `dir`.
size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    if (e->d_type == DT_DIR)
      n += CountFiles(path);
    else
      ++n;
  }
  ::closedir(d);
  return n;
}

// A send window that opens six hours from now (so night sends stay queued).
std::string ClosedWindow() {
  std::time_t t = std::time(nullptr) + 6 * 3600;
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02d}:00-{:02d}:00", tm.tm_hour, (tm.tm_hour + 1) % 24);
}

std::string Config(const JobSandbox& sb, const std::string& command, const std::string& extra = "",
                   const std::string& window = ClosedWindow()) {
  return fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"
send_window = "{5}"
{4}
[[job]]
name = "big"
label = "大きなデータ"
kinds = ["daily", "monthly", "manual"]
[job.source]
kind = "command"
shell = "{1}"
stream = "export.bin"
[[job.target]]
name = "local"
repository = "{2}"
password_file = "{3}"
[[job.target]]
name = "offsite"
repository = "{0}/offsite"
password_file = "{3}"
send = "night"
)T",
                     sb.dir(), command, sb.Path("local"), sb.password_file(), extra, window);
}

// A 300 MB monthly closing made in the daytime and queued for the night, then night has
// come and `kura agent` runs: returns once the send has stored some packs in the target
// (nullptr when the agent did not start). Incompressible data, so both backups read the
// same bytes and the send takes long enough to be caught mid-way.
std::unique_ptr<Process> StartAgentMidSend(JobSandbox& sb) {
  sb.InitRepo("local");
  sb.InitRepo("offsite");
  std::string data = sb.Path("export.bin");
  EXPECT_EQ(std::system(fmt::format("head -c 300000000 /dev/urandom > {}", data).c_str()), 0);
  sb.WriteConfig(Config(sb, "cat " + data));
  KuraRun r = sb.Kura({"run", "big", "--kind", "monthly", "--defer-send"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("夜間に送信予定"), std::string::npos) << r.out;
  EXPECT_EQ(CountFiles(sb.Path("state/queue")), 1u);
  size_t offsite_before = CountFiles(sb.Path("offsite/data"));
  sb.WriteConfig(Config(sb, "cat " + data, "", "00:00-00:00"));  // night has come
  auto agent = sb.StartKura({"agent"});
  if (agent == nullptr) return nullptr;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (CountFiles(sb.Path("offsite/data")) <= offsite_before + 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(CountFiles(sb.Path("offsite/data")), offsite_before + 1) << "the send never started";
  return agent;
}

TEST(JobAgentTest, SendQueueSurvivesSigkillMidSend) {
  JobSandbox sb;
  auto agent = StartAgentMidSend(sb);
  ASSERT_NE(agent, nullptr);
  std::string data = sb.Path("export.bin");
  ::kill(agent->pid(), SIGKILL);
  (void)agent->Wait();
  ASSERT_TRUE(sb.Snapshots("offsite").empty()) << "the send finished before the kill; use more data";
  EXPECT_EQ(CountFiles(sb.Path("state/queue")), 1u);  // still queued

  // The restarted agent completes the send.
  KuraRun r = sb.Kura({"agent", "--once", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(CountFiles(sb.Path("state/queue")), 0u);
  auto snaps = sb.Snapshots("offsite");
  ASSERT_EQ(snaps.size(), 1u);
  KuraRun v = sb.Kura({"verify", "-r", sb.Path("offsite"), "--read-data"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // Same bytes as the original.
  KuraRun c = sb.Kura({"restore", snaps[0], "-r", sb.Path("offsite"), "--target", sb.Path("back")});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto original = ReadFile(data);
  auto copy = ReadFile(sb.Path("back/export.bin"));
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(*copy == *original);
  nlohmann::json st = nlohmann::json::parse(sb.Kura({"status", "--json"}).out);
  EXPECT_EQ(st["jobs"]["big"]["targets"]["offsite"]["last_result"], "ok");
  EXPECT_EQ(st["jobs"]["big"]["targets"]["offsite"]["pending_sends"], 0);
  // A second agent tick sends nothing again.
  r = sb.Kura({"agent", "--once", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["sends"], 0);
  EXPECT_EQ(sb.Snapshots("offsite").size(), 1u);
}

// Regression (review of issue 7): `kura agent` caught SIGTERM itself, so a running send or
// backup went on until it finished and systemd killed it after its stop timeout. Now the
// stop reaches the pipeline: the agent stops mid-send within seconds, exits 0 as a service
// asked to stop, logs it, commits nothing half-sent, keeps the send queued, and the next
// start finishes it. (G-BAK-01: the nightly job survives a service stop; G-BAK-08: the offsite copy still
// arrives.)
TEST(JobAgentTest, SigtermStopsTheAgentMidSendAndTheQueueSurvives) {
  JobSandbox sb;
  auto agent = StartAgentMidSend(sb);
  ASSERT_NE(agent, nullptr);
  ASSERT_EQ(::kill(agent->pid(), SIGTERM), 0);
  auto sent = std::chrono::steady_clock::now();
  Result<int> code = agent->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << "a service asked to stop exits 0";
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(20))
      << "the stop waited for the send";
  ASSERT_TRUE(sb.Snapshots("offsite").empty()) << "the send finished before the stop; use more data";
  EXPECT_EQ(CountFiles(sb.Path("state/queue")), 1u) << "the send stays queued";
  auto log = ReadFile(sb.Path("kura.log"));
  ASSERT_TRUE(log.ok()) << log.status().message();
  std::string text(log->begin(), log->end());
  EXPECT_NE(text.find("event=stop"), std::string::npos) << text;
  EXPECT_NE(text.find("result=interrupted"), std::string::npos) << text;
  nlohmann::json st = nlohmann::json::parse(sb.Kura({"status", "--json"}).out);
  EXPECT_NE(st["jobs"]["big"]["targets"]["offsite"]["last_result"], "failed")
      << "an interrupted send is no failure";

  KuraRun r = sb.Kura({"agent", "--once", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(CountFiles(sb.Path("state/queue")), 0u) << r.out;
  ASSERT_EQ(sb.Snapshots("offsite").size(), 1u);
  KuraRun v = sb.Kura({"verify", "-r", sb.Path("offsite"), "--read-data"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST(JobAgentTest, BusyJobAndConfigErrors) {
  JobSandbox sb;
  sb.InitRepo("local");
  sb.InitRepo("offsite");
  sb.WriteConfig(Config(sb, "echo 介護"));
  // Another process holds the job's lock (a running job).
  ASSERT_TRUE(MakeDirs(sb.Path("state/locks")).ok());
  int fd = ::open(sb.Path("state/locks/big.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  KuraRun r = sb.Kura({"run", "big"});
  EXPECT_EQ(r.exit_code, 9) << r.err;  // kExitLocked
  ::close(fd);
  r = sb.Kura({"run", "big"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = sb.Kura({"run", "nosuchjob"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("big"), std::string::npos);
  r = sb.Kura({"run", "big", "--kind", "hourly"});
  EXPECT_EQ(r.exit_code, 2);
  // A literal password is refused with the file and line.
  sb.WriteConfig(Config(sb, "echo x") + "[job.source.env]\nA = \"b\"\n");
  EXPECT_EQ(sb.Kura({"run", "big"}).exit_code, 0);
  sb.WriteConfig(Config(sb, "echo x", "[drill]\npassword = \"hunter2\"\n"));
  r = sb.Kura({"run", "big"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("agent.toml:5"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos);
  // status with no warning: silent, exit 0; --verbose: one calm line.
  sb.WriteConfig(Config(sb, "echo x"));
  r = sb.Kura({"status"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  r = sb.Kura({"status", "--verbose"});
  EXPECT_NE(r.out.find("正常"), std::string::npos);
  r = sb.Kura({"--lang", "en", "status", "--verbose"});
  EXPECT_NE(r.out.find("working"), std::string::npos);
}

TEST(JobAgentTest, FailingCommandSetsTheWarningAndHooksRun) {
  JobSandbox sb;
  sb.InitRepo("local");
  sb.InitRepo("offsite");
  std::string hooks = fmt::format(R"T([hooks.on_failure]
command = ["sh", "-c", "echo \"$KURA_EVENT $KURA_TARGET $KURA_ERROR_CODE\" >> {0}/hooks.txt"]
[hooks.on_clear]
command = ["sh", "-c", "echo \"$KURA_EVENT $KURA_TARGET\" >> {0}/hooks.txt"]
)T",
                                  sb.dir());
  sb.WriteConfig(Config(sb, "echo partial; exit 3", hooks));
  KuraRun r = sb.Kura({"run", "big", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_TRUE(sb.Snapshots("local").empty());
  KuraRun st = sb.Kura({"status"});
  EXPECT_EQ(st.exit_code, 10);
  EXPECT_NE(st.out.find("大きなデータ"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("弊社までご連絡下さい。"), std::string::npos) << st.out;
  st = sb.Kura({"--lang", "en", "status"});
  EXPECT_NE(st.out.find("Please contact your vendor."), std::string::npos) << st.out;
  sb.WriteConfig(Config(sb, "echo fine", hooks));
  r = sb.Kura({"run", "big", "--kind", "daily"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto text = ReadTextFile(sb.Path("hooks.txt"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "failure local source_failed\nfailure offsite source_failed\nclear local\n");
  // offsite is a night target: its warning stays until the queued send succeeds.
  nlohmann::json j = nlohmann::json::parse(sb.Kura({"status", "--json"}).out);
  EXPECT_TRUE(j["jobs"]["big"]["targets"]["offsite"]["warning"]["active"].get<bool>());
  sb.WriteConfig(Config(sb, "echo fine", hooks, "00:00-00:00"));
  EXPECT_EQ(sb.Kura({"agent", "--once"}).exit_code, 0);
  EXPECT_EQ(sb.Kura({"status"}).exit_code, 0);
  text = ReadTextFile(sb.Path("hooks.txt"));
  EXPECT_EQ(*text,
            "failure local source_failed\nfailure offsite source_failed\nclear local\nclear offsite\n");
}

TEST(JobAgentTest, ScheduleInstallAndDrillOfFiles) {
  JobSandbox sb;
  sb.InitRepo("local");
  sb.InitRepo("offsite");
  sb.WriteConfig(Config(sb, "echo 訓練用データ"));
  KuraRun r = sb.Kura({"schedule", "install", "--dir", sb.Path("units"), "--kura-path", "/usr/bin/kura"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto unit = ReadTextFile(sb.Path("units/kura-agent.service"));
  ASSERT_TRUE(unit.ok());
  EXPECT_NE(unit->find("ExecStart=/usr/bin/kura agent --agent-config " + sb.Path("agent.toml")),
            std::string::npos);
  r = sb.Kura({"schedule", "install", "--dir", sb.Path("units"), "--timer"});
  ASSERT_EQ(r.exit_code, 0);
  auto timer = ReadTextFile(sb.Path("units/kura-agent-tick.timer"));
  ASSERT_TRUE(timer.ok());
  EXPECT_NE(timer->find("Persistent=true"), std::string::npos);
  EXPECT_NE(timer->find("OnBootSec="), std::string::npos);
  r = sb.Kura({"schedule", "install", "--windows"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("<BootTrigger>"), std::string::npos);
  EXPECT_NE(r.out.find("<LogonTrigger>"), std::string::npos);
  EXPECT_NE(r.out.find("agent --once"), std::string::npos);

  EXPECT_EQ(sb.Kura({"drill", "big"}).exit_code, 3);  // nothing to restore yet
  ASSERT_EQ(sb.Kura({"run", "big"}).exit_code, 0);
  r = sb.Kura({"drill", "big", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "directory");
  EXPECT_EQ(j["files"], 1);
  EXPECT_TRUE(j["dropped"].get<bool>());
  EXPECT_FALSE(PathExists(j["restored_into"].get<std::string>()));
}

}  // namespace
}  // namespace kura::testing
