// What both command lines share (src/cli_common): the exit codes with one meaning, the
// --json failure shape, usage errors and --lang, and the advice lower layers attach.
#include "cli_common/program.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli_common/exit_codes.h"
#include "cli_common/format.h"
#include "util/i18n.h"

namespace kura::cli_common {
namespace {

// Runs fn with stderr sent to a temporary file and returns what it wrote.
template <class Fn>
std::string CaptureStderr(Fn fn) {
  std::fflush(stderr);
  char path[] = "/tmp/kura-stderr-XXXXXX";
  int fd = ::mkstemp(path);
  int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  fn();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  char buf[4096];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ::unlink(path);
  return out;
}

struct Argv {
  explicit Argv(std::vector<std::string> a) : args(std::move(a)) {
    for (auto& s : args) ptrs.push_back(s.data());
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  char** argv() { return ptrs.data(); }
  std::vector<std::string> args;
  std::vector<char*> ptrs;
};

// Both binaries promise these numbers (docs/exit-codes.md, docs/vault-exit-codes.md):
// spelled out so a renumbering breaks the test.
TEST(CliCommonTest, SharedExitCodesKeepTheirNumbers) {
  EXPECT_EQ(SharedExitCodeFor(Code::kOk), 0);
  EXPECT_EQ(SharedExitCodeFor(Code::kInternal), 1);
  EXPECT_EQ(SharedExitCodeFor(Code::kInvalidArgument), 2);
  EXPECT_EQ(SharedExitCodeFor(Code::kNotFound), 3);
  EXPECT_EQ(SharedExitCodeFor(Code::kUnauthorized), 4);
  EXPECT_EQ(SharedExitCodeFor(Code::kIOError), 6);
  EXPECT_EQ(SharedExitCodeFor(Code::kNoSpace), 7);
  EXPECT_EQ(SharedExitCodeFor(Code::kCorruption), 8);
  EXPECT_EQ(SharedExitCodeFor(Code::kLocked), 9);
  EXPECT_EQ(SharedExitCodeFor(Code::kPermissionDenied), 12);
  EXPECT_EQ(SharedExitCodeFor(Code::kUnsupported), 13);
  EXPECT_EQ(SharedExitCodeFor(Code::kRetryable), 14);
  // Each binary numbers these itself.
  EXPECT_EQ(SharedExitCodeFor(Code::kAlreadyExists), -1);
  EXPECT_EQ(SharedExitCodeFor(Code::kSourceFailed), -1);
  EXPECT_EQ(SharedExitCodeFor(Code::kCancelled), -1);
}

TEST(CliCommonTest, FailureJsonNamesCodeMessageAndExit) {
  auto j = FailureJson(Status::NotFound("snapshot 1234 not found"), 3);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["message"], "snapshot 1234 not found");
  EXPECT_EQ(j["exit_code"], 3);
}

TEST(CliCommonTest, UsageErrorNamesTheProgramAndItsHelp) {
  SetLanguage(Language::kEnglish);
  CLI::App app{"test"};
  bool flag = false;
  app.add_flag("--flag", flag, "a flag");
  Argv a({"kura-vault", "--no-such-flag"});
  std::optional<int> done;
  std::string err = CaptureStderr([&] { done = ParseArguments(app, a.argc(), a.argv(), "kura-vault", 2); });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(*done, 2);
  EXPECT_NE(err.find("kura-vault: usage error:"), std::string::npos) << err;
  EXPECT_NE(err.find("see kura-vault --help"), std::string::npos) << err;
  SetLanguage(Language::kJapanese);
}

TEST(CliCommonTest, ParsedCommandLineLetsTheCommandRun) {
  CLI::App app{"test"};
  bool flag = false;
  app.add_flag("--flag", flag, "a flag");
  Argv a({"kura", "--flag"});
  EXPECT_FALSE(ParseArguments(app, a.argc(), a.argv(), "kura", 2).has_value());
  EXPECT_TRUE(flag);
}

TEST(CliCommonTest, LangOtherThanJaOrEnIsRefusedNotIgnored) {
  Argv good({"kura", "--lang=en", "status"});
  EXPECT_TRUE(ChooseLanguage(good.argc(), good.argv(), "kura"));
  EXPECT_EQ(CurrentLanguage(), Language::kEnglish);
  Argv bad({"kura-vault", "--lang", "jp"});
  bool ok = true;
  std::string err = CaptureStderr([&] { ok = ChooseLanguage(bad.argc(), bad.argv(), "kura-vault"); });
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find("kura-vault:"), std::string::npos) << err;
  EXPECT_NE(err.find("\"jp\""), std::string::npos) << err;
  // After "--" a --lang belongs to the command's arguments.
  Argv after({"kura", "--lang=ja", "--", "--lang", "xx"});
  EXPECT_TRUE(ChooseLanguage(after.argc(), after.argv(), "kura"));
  EXPECT_EQ(CurrentLanguage(), Language::kJapanese);
}

// A name with control characters must never reach the terminal raw.
TEST(CliCommonTest, ErrorLinesEscapeControlCharacters) {
  SetLanguage(Language::kEnglish);
  std::string err = CaptureStderr([] { PrintErrorLine("kura", "cannot read /data/\x1b[2Jevil"); });
  EXPECT_EQ(err.find('\x1b'), std::string::npos) << err;
  EXPECT_NE(err.find("kura: error: cannot read /data/"), std::string::npos) << err;
  SetLanguage(Language::kJapanese);
}

TEST(CliCommonTest, ColumnsCountJapaneseAsTwoCells) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("日次"), 4u);
  EXPECT_EQ(PadRight("日次", 6), "日次  ");
  EXPECT_EQ(PadLeft("ab", 4), "  ab");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
}

// Lower layers attach advice instead of naming a command; context keeps it.
TEST(CliCommonTest, AdviceSurvivesContextAndResult) {
  Status s = Status::NotFound("snapshot 12 not found").WithAdvice(Advice::kListSnapshots);
  EXPECT_EQ(s.advice(), Advice::kListSnapshots);
  EXPECT_EQ(s.WithContext("restore").advice(), Advice::kListSnapshots);
  Result<int> r = s;
  EXPECT_EQ(r.status().advice(), Advice::kListSnapshots);
  EXPECT_EQ(Status::Ok().WithAdvice(Advice::kPrune).advice(), Advice::kNone);
}

}  // namespace
}  // namespace kura::cli_common
