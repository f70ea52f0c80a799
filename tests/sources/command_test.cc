#include "sources/command.h"

#include <gtest/gtest.h>

#include "support/memory_snapshot.h"
#include "util/i18n.h"

namespace kura {
namespace {

using testing::MemorySnapshot;

class CommandSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLanguage(Language::kEnglish); }
  void TearDown() override { SetLanguage(Language::kJapanese); }
};

TEST_F(CommandSourceTest, StdoutBecomesTheStream) {
  CommandSourceOptions o;
  o.argv = {"printf", "%s", "エクスポート"};
  MemorySnapshot snap;
  ASSERT_TRUE(NewCommandSource(o)->Backup(snap).ok());
  const auto* e = snap.Find("stdout");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->content, "エクスポート");
}

TEST_F(CommandSourceTest, ShellStringStreamNameAndEnv) {
  CommandSourceOptions o;
  o.shell = "echo \"$EXPORT_TOKEN\" | tr a-z A-Z";
  o.stream = "export.txt";
  o.env = {{"EXPORT_TOKEN", "abc"}};
  MemorySnapshot snap;
  ASSERT_TRUE(NewCommandSource(o)->Backup(snap).ok());
  ASSERT_NE(snap.Find("export.txt"), nullptr);
  EXPECT_EQ(snap.Find("export.txt")->content, "ABC\n");
}

TEST_F(CommandSourceTest, FailingCommandIsSourceFailedWithStderrAndNoStream) {
  CommandSourceOptions o;
  o.shell = "echo partial output; echo 'export: disk on fire' >&2; exit 4";
  o.env = {{"SECRET_TOKEN", "hunter2-secret"}};
  MemorySnapshot snap;
  Status s = NewCommandSource(o)->Backup(snap);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("exit code 4"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("disk on fire"), std::string::npos);
  EXPECT_EQ(s.message().find("hunter2-secret"), std::string::npos);
  EXPECT_TRUE(snap.Entries().empty());
}

TEST_F(CommandSourceTest, KilledCommandIsSourceFailed) {
  CommandSourceOptions o;
  o.shell = "echo started; kill -TERM $$";
  MemorySnapshot snap;
  Status s = NewCommandSource(o)->Backup(snap);
  EXPECT_EQ(s.code(), Code::kSourceFailed);
  EXPECT_NE(s.message().find("killed by signal 15"), std::string::npos) << s.message();
}

TEST_F(CommandSourceTest, MissingProgramIsNotFound) {
  CommandSourceOptions o;
  o.argv = {"kura-no-such-export-tool"};
  MemorySnapshot snap;
  Status s = NewCommandSource(o)->Backup(snap);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("kura-no-such-export-tool"), std::string::npos);
}

TEST_F(CommandSourceTest, NeedsExactlyOneOfArgvAndShell) {
  MemorySnapshot snap;
  EXPECT_EQ(NewCommandSource({})->Backup(snap).code(), Code::kInvalidArgument);
  CommandSourceOptions both;
  both.argv = {"true"};
  both.shell = "true";
  EXPECT_EQ(NewCommandSource(both)->Backup(snap).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kura
