#include <gtest/gtest.h>

#include "agent/job_config.h"
#include "util/i18n.h"

namespace kura {
namespace {

const char* kFull = R"(
state_dir = "/srv/kura-state"
log_file = ""
send_window = "21:30-05:00"
guidance_ja = "サポート窓口 (03-0000-0000) までご連絡下さい。"

[retry]
initial_seconds = 30
max_seconds = 600

[hooks.on_failure]
command = ["/usr/local/bin/notify", "--failed"]
[hooks.on_clear.sql]
kind = "postgresql"
host = "127.0.0.1"
database = "care"
user = "care_app"
password_file = "/etc/kura/care-db.pw"
statement = "DELETE FROM bulletin WHERE source = 'kura' AND job = :job"

[[job]]
name = "care"
label = "ケアレンツ"
kinds = ["daily", "monthly", "manual"]
[job.source]
kind = "postgresql"
host = "127.0.0.1"
port = 5433
user = "backup"
database = "care"
password_file = "/etc/kura/pg.pw"
[job.schedule]
daily = "02:00"
monthly_day = "last"
[[job.target]]
name = "local"
repository = "/mnt/nas/kura"
password_file = "/etc/kura/repo.pw"
[job.target.retention]
daily = { keep_days = 7 }
[[job.target]]
name = "offsite"
repository = "/mnt/usb/kura"
key_file = "/etc/kura/offsite.key"
send = "night"
)";

TEST(AgentConfigTest, ParsesAFullConfig) {
  auto c = ParseAgentConfig(kFull, "agent.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->state_dir, "/srv/kura-state");
  EXPECT_EQ(c->status_file, "/srv/kura-state/status.json");
  EXPECT_EQ(c->log_file, "");
  EXPECT_EQ(c->send_window.start.Minutes(), 21 * 60 + 30);
  EXPECT_EQ(c->send_window.end.Minutes(), 5 * 60);
  EXPECT_EQ(c->retry.initial_seconds, 30);
  EXPECT_EQ(c->hooks.on_failure.command.size(), 2u);
  ASSERT_TRUE(c->hooks.on_clear.sql.has_value());
  EXPECT_EQ(c->hooks.on_clear.sql->kind, "postgresql");
  ASSERT_EQ(c->jobs.size(), 1u);
  const JobConfig& j = c->jobs[0];
  EXPECT_EQ(j.Label(), "ケアレンツ");
  EXPECT_EQ(j.source.kind, "postgresql");
  EXPECT_EQ(j.source.conn.port, 5433);
  ASSERT_TRUE(j.schedule.daily.has_value());
  EXPECT_EQ(j.schedule.daily->hour, 2);
  EXPECT_EQ(j.schedule.monthly_day, 0);
  EXPECT_EQ(j.schedule.monthly_time.hour, 2);
  ASSERT_EQ(j.targets.size(), 2u);
  EXPECT_EQ(j.targets[0].retention.daily.keep_days, 7);
  EXPECT_EQ(j.targets[0].retention.monthly.keep_months, 36);  // seed default kept
  EXPECT_EQ(j.targets[0].retention.manual.keep_last, 1);
  EXPECT_EQ(j.targets[1].send, SendMode::kNight);
  EXPECT_EQ(j.targets[1].key_file, "/etc/kura/offsite.key");
}

TEST(AgentConfigTest, Defaults) {
  auto c = ParseAgentConfig("", "empty.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->state_dir, "/var/lib/kura");
  EXPECT_EQ(c->status_file, "/var/lib/kura/status.json");
  EXPECT_EQ(c->log_file, "/var/log/kura/kura.log");
  EXPECT_EQ(c->guidance_ja, "弊社までご連絡下さい。");
  EXPECT_EQ(c->send_window.start.hour, 22);
  EXPECT_EQ(c->retry.max_seconds, 3600);
}

TEST(AgentConfigTest, RefusesALiteralPasswordWithItsLine) {
  SetLanguage(Language::kEnglish);
  std::string text =
      "[[job]]\nname = \"a\"\n[job.source]\nkind = \"postgresql\"\ndatabase = \"x\"\npassword = \"secret\"\n";
  auto c = ParseAgentConfig(text, "agent.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("agent.toml:6"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("password_file"), std::string::npos);
  EXPECT_EQ(c.status().message().find("secret"), std::string::npos);
  SetLanguage(Language::kJapanese);
}

TEST(AgentConfigTest, RejectsMistakes) {
  auto bad = [](const std::string& text) { return ParseAgentConfig(text, "a.toml").status(); };
  std::string job = "[[job]]\nname = \"a\"\n[job.source]\nkind = \"files\"\npaths = [\"/x\"]\n";
  std::string target = "[[job.target]]\nname = \"t\"\nrepository = \"/r\"\npassword_file = \"/p\"\n";
  EXPECT_TRUE(ParseAgentConfig(job + target, "a.toml").ok());
  EXPECT_EQ(bad(job).code(), Code::kInvalidArgument);           // no target
  EXPECT_EQ(bad("daly = 1\n").code(), Code::kInvalidArgument);  // unknown key
  EXPECT_EQ(bad(job + "[job.schedule]\ndaily = \"25:00\"\n" + target).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad(job + "[job.schedule]\nmonthly_day = 31\n" + target).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad(job + "kinds = [\"hourly\"]\n" + target).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad(job + "[[job.target]]\nname = \"t\"\nrepository = \"/r\"\n").code(), Code::kInvalidArgument);
  EXPECT_EQ(bad("send_window = \"22-6\"\n").code(), Code::kInvalidArgument);
  EXPECT_EQ(bad("state_dir = [\n").code(), Code::kInvalidArgument);            // TOML syntax
  EXPECT_EQ(bad(job + target + job + target).code(), Code::kInvalidArgument);  // duplicate job
  EXPECT_EQ(bad("[hooks.on_failure.sql]\nkind = \"oracle\"\nstatement = \"x\"\n").code(),
            Code::kInvalidArgument);
}

// Regression (issue 6 §7): an agent.toml nested 20,000 levels deep crashed with SIGSEGV.
TEST(AgentConfigTest, DeeplyNestedFileIsRefusedNotACrash) {
  SetLanguage(Language::kEnglish);
  std::string deep = "host = \"a\"\nx = " + std::string(20000, '[') + std::string(20000, ']') + "\n";
  auto c = ParseAgentConfig(deep, "agent.toml");
  ASSERT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(c.status().message().find("agent.toml, line 2"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("nested too deeply"), std::string::npos) << c.status().message();
  SetLanguage(Language::kJapanese);
}

// Regression (issue 6 §7): a TOML syntax error on a `password = "...` line printed the
// password (toml11 quotes the line).
TEST(AgentConfigTest, SyntaxErrorNamesTheLineButNeverShowsIt) {
  SetLanguage(Language::kEnglish);
  auto c = ParseAgentConfig("host = \"a\"\n[job.source]\npassword = \"Sentinel-Secret-42\n", "agent.toml");
  ASSERT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("Sentinel-Secret-42"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("agent.toml, line 3"), std::string::npos) << c.status().message();
  // A value of the wrong type is quoted by toml11 too (env values are often passwords).
  c = ParseAgentConfig(
      "[[job]]\nname = \"a\"\n[job.source]\nkind = \"command\"\nenv = { PGPASSWORD = 987654321 }\n",
      "agent.toml");
  ASSERT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("987654321"), std::string::npos) << c.status().message();
  SetLanguage(Language::kJapanese);
}

// Regression (issue 6 §7): out-of-range log_max_bytes / log_keep were accepted (0 bytes,
// a negative count, 2^40 files).
TEST(AgentConfigTest, OutOfRangeLogSettingsAreRefusedWithTheRange) {
  SetLanguage(Language::kEnglish);
  for (std::string bad : {"log_max_bytes = 0", "log_max_bytes = -1", "log_max_bytes = 100",
                          "log_max_bytes = 1099511627776", "log_max_bytes = 9223372036854775807"}) {
    auto c = ParseAgentConfig(bad + "\n", "agent.toml");
    ASSERT_EQ(c.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("log_max_bytes must be 4096 to 1073741824"), std::string::npos)
        << c.status().message();
  }
  for (std::string bad : {"log_keep = 0", "log_keep = -3", "log_keep = 101", "log_keep = 4294967297"}) {
    auto c = ParseAgentConfig(bad + "\n", "agent.toml");
    ASSERT_EQ(c.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("log_keep must be 1 to 100"), std::string::npos)
        << c.status().message();
  }
  auto ok = ParseAgentConfig("log_max_bytes = 4096\nlog_keep = 100\n", "agent.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->log_max_bytes, 4096u);
  EXPECT_EQ(ok->log_keep, 100);
  SetLanguage(Language::kJapanese);
}

TEST(AgentConfigTest, ConfigPathOrder) {
  unsetenv("KURA_AGENT_CONFIG");
  EXPECT_EQ(AgentConfigPath(""), "/etc/kura/agent.toml");
  setenv("KURA_AGENT_CONFIG", "/tmp/x.toml", 1);
  EXPECT_EQ(AgentConfigPath(""), "/tmp/x.toml");
  EXPECT_EQ(AgentConfigPath("/flag.toml"), "/flag.toml");
  unsetenv("KURA_AGENT_CONFIG");
  EXPECT_EQ(LoadAgentConfig("/nonexistent/agent.toml").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace kura
