// The agent.toml fields of issue 6 §5: skip_unreadable per job, allow_empty for a command
// source, grace_hours of the overdue check.
#include <gtest/gtest.h>

#include "agent/job_config.h"
#include "util/i18n.h"

namespace kura {
namespace {

std::string Config(const std::string& job_extra, const std::string& source_extra,
                   const std::string& schedule_extra) {
  return R"(
[[job]]
name = "care"
)" + job_extra +
         R"(
[job.source]
kind = "command"
shell = "pg_dump care"
)" + source_extra +
         R"(
[job.schedule]
daily = "02:00"
)" + schedule_extra +
         R"(
[[job.target]]
name = "local"
repository = "/srv/kura"
password_file = "/etc/kura/repo.pw"
)";
}

TEST(ConfigOfficeTest, DefaultsFailOnUnreadableAndEmptyAndGiveSixHoursOfGrace) {
  auto c = ParseAgentConfig(Config("", "", ""), "agent.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->jobs[0].skip_unreadable);
  EXPECT_FALSE(c->jobs[0].source.allow_empty);
  EXPECT_EQ(c->jobs[0].schedule.grace_hours, 6);
}

TEST(ConfigOfficeTest, SkipUnreadableAllowEmptyAndGraceHoursAreRead) {
  auto c = ParseAgentConfig(Config("skip_unreadable = true", "allow_empty = true", "grace_hours = 72"),
                            "agent.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->jobs[0].skip_unreadable);
  EXPECT_TRUE(c->jobs[0].source.allow_empty);
  EXPECT_EQ(c->jobs[0].schedule.grace_hours, 72);
}

TEST(ConfigOfficeTest, NegativeOrHugeGraceIsRefusedWithTheLine) {
  SetLanguage(Language::kEnglish);
  for (const char* bad : {"grace_hours = -1", "grace_hours = 100000"}) {
    auto c = ParseAgentConfig(Config("", "", bad), "agent.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    EXPECT_NE(c.status().message().find("grace_hours"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("agent.toml:"), std::string::npos) << c.status().message();
  }
  SetLanguage(Language::kJapanese);
}

}  // namespace
}  // namespace kura
