// Tests for the leaf helpers in src/util/ other than process.h (see process_test.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "kura/status.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {
namespace {

// Restores the process-wide language when a test changes it.
class LanguageGuard {
 public:
  explicit LanguageGuard(Language lang) : saved_(CurrentLanguage()) { SetLanguage(lang); }
  ~LanguageGuard() { SetLanguage(saved_); }

 private:
  Language saved_;
};

class TempDir {
 public:
  TempDir() {
    std::error_code ec;
    std::string tmpl = (std::filesystem::temp_directory_path(ec) / "kura-util-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

int ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// --- Status and Result -------------------------------------------------------------------

Status FailIf(bool fail) {
  return fail ? Status::NotFound("gone") : Status::Ok();
}

Status Chain(bool fail, int* reached) {
  KURA_RETURN_IF_ERROR(FailIf(fail));
  *reached = 1;
  return Status::Ok();
}

Result<std::unique_ptr<int>> MakeInt(int v) {
  if (v < 0) return Status::InvalidArgument("negative");
  return std::make_unique<int>(v);
}

Result<int> Doubled(int v) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<int> p, MakeInt(v));  // move-only values work
  return *p * 2;
}

TEST(Status, CodesNamesAndContext) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  Status s = Status::Corruption("bad tag");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_EQ(s.ToString(), "corruption: bad tag");
  Status c = s.WithContext("pack 1f");
  EXPECT_EQ(c.code(), Code::kCorruption);
  EXPECT_EQ(c.message(), "pack 1f: bad tag");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(Code::kInternal); ++i) names.insert(CodeName(static_cast<Code>(i)));
  EXPECT_EQ(names.size(), static_cast<size_t>(Code::kInternal) + 1);  // every code has its own name
}

TEST(Status, ReturnIfErrorStopsAtTheFirstFailure) {
  int reached = 0;
  EXPECT_EQ(Chain(true, &reached).code(), Code::kNotFound);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(Chain(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(Result, HoldsValueOrStatusAndAssignOrReturnPropagates) {
  Result<int> ok = Doubled(21);
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok.status().ok());
  EXPECT_EQ(*ok, 42);
  Result<int> bad = Doubled(-1);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "negative");
}

// --- hex ---------------------------------------------------------------------------------

TEST(Hex, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string hex = ToHex(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  EXPECT_EQ(FromHex(hex), all);
  EXPECT_EQ(ToHex({}), "");
  EXPECT_EQ(FromHex(""), Bytes{});
}

TEST(Hex, AcceptsUppercaseAndRejectsBadInput) {
  EXPECT_EQ(FromHex("DEADbeef"), (Bytes{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_FALSE(FromHex("abc").has_value());  // odd length
  EXPECT_FALSE(FromHex("zz").has_value());
  EXPECT_FALSE(FromHex("0g").has_value());
  EXPECT_FALSE(FromHex("0x12").has_value());
  EXPECT_FALSE(FromHex("12 3").has_value());
  EXPECT_FALSE(FromHex(std::string_view("1\0", 2)).has_value());
}

// --- i18n --------------------------------------------------------------------------------

TEST(I18n, TrAndLPickTheCurrentLanguage) {
  {
    LanguageGuard ja(Language::kJapanese);
    EXPECT_EQ(Tr("スナップショット {} が見つかりません", "snapshot {} not found", "ab12"),
              "スナップショット ab12 が見つかりません");
    EXPECT_EQ(L("はい", "yes"), "はい");
  }
  LanguageGuard en(Language::kEnglish);
  EXPECT_EQ(Tr("スナップショット {} が見つかりません", "snapshot {} not found", "ab12"),
            "snapshot ab12 not found");
  EXPECT_EQ(Tr("{} 件中 {} 件", "{} of {}", 3, 10), "3 of 10");
  EXPECT_EQ(L("はい", "yes"), "yes");
}

TEST(I18n, ParseLanguageAndEnvironment) {
  Language lang = Language::kJapanese;
  EXPECT_TRUE(ParseLanguage("en_US.UTF-8", &lang));
  EXPECT_EQ(lang, Language::kEnglish);
  EXPECT_TRUE(ParseLanguage("ja", &lang));
  EXPECT_EQ(lang, Language::kJapanese);
  EXPECT_FALSE(ParseLanguage("fr", &lang));

  // The environment is process-wide; gtest runs these tests on one thread.
  const char* prev = std::getenv("KURA_LANG");  // NOLINT(concurrency-mt-unsafe)
  std::optional<std::string> saved;
  if (prev != nullptr) saved = prev;
  ::setenv("KURA_LANG", "en", 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(LanguageFromEnvironment(), Language::kEnglish);
  ::setenv("KURA_LANG", "C.UTF-8", 1);                        // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(LanguageFromEnvironment(), Language::kJapanese);  // kura's default
  if (saved) {
    ::setenv("KURA_LANG", saved->c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  } else {
    ::unsetenv("KURA_LANG");  // NOLINT(concurrency-mt-unsafe)
  }
}

// --- fs ----------------------------------------------------------------------------------

TEST(WriteFileAtomic, CreatesFileWithExactModeWhateverTheUmask) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string path = dir.path() + "/key";
  mode_t old_umask = ::umask(0);  // a permissive umask must not widen 0600
  Status s = WriteFileAtomic(path, AsBytes("secret"), 0600);
  ::umask(0077);  // nor a strict one narrow 0644
  Status s2 = WriteFileAtomic(dir.path() + "/public", AsBytes("x"), 0644);
  ::umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(s2.ok()) << s2.ToString();
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(dir.path() + "/public"), 0644);
  Result<std::string> text = ReadTextFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "secret");
}

TEST(WriteFileAtomic, ReplacesByRenameLeavingNoTemporaryFile) {
  TempDir dir;
  std::string path = dir.path() + "/config";
  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("old contents"), 0600).ok());
  // A second name for the old inode: an in-place rewrite would change what it shows.
  std::string old_link = dir.path() + "/old-inode";
  ASSERT_EQ(::link(path.c_str(), old_link.c_str()), 0);

  ASSERT_TRUE(WriteFileAtomic(path, AsBytes("new"), 0600).ok());
  EXPECT_EQ(ReadTextFile(path).value(), "new");
  EXPECT_EQ(ReadTextFile(old_link).value(), "old contents");
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ListDir(dir.path()), (std::set<std::string>{"config", "old-inode"}));
}

TEST(WriteFileAtomic, MissingDirectoryIsNotFoundNamingThePath) {
  TempDir dir;
  std::string path = dir.path() + "/no-such-dir/file";
  Status s = WriteFileAtomic(path, AsBytes("x"));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find(dir.path() + "/no-such-dir/"), std::string::npos) << s.message();
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(ErrnoStatus, MapsErrnoToCodesAndNamesThePath) {
  LanguageGuard en(Language::kEnglish);
  const std::string path = "/var/backups/kura/pack-0001";
  Status full = ErrnoStatus(ENOSPC, L("書き込み", "write"), path);
  EXPECT_EQ(full.code(), Code::kNoSpace);
  EXPECT_NE(full.message().find(path), std::string::npos);
  EXPECT_NE(full.message().find("write"), std::string::npos);
  EXPECT_EQ(ErrnoStatus(EDQUOT, "write", path).code(), Code::kNoSpace);

  Status denied = ErrnoStatus(EACCES, "open", path);
  EXPECT_EQ(denied.code(), Code::kPermissionDenied);
  EXPECT_NE(denied.message().find(path), std::string::npos);
  EXPECT_EQ(ErrnoStatus(EPERM, "open", path).code(), Code::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus(ENOENT, "open", path).code(), Code::kNotFound);
  EXPECT_EQ(ErrnoStatus(EEXIST, "create", path).code(), Code::kAlreadyExists);
  EXPECT_EQ(ErrnoStatus(EIO, "read", path).code(), Code::kIOError);
}

TEST(ErrnoStatus, JapaneseMessageByDefaultAlsoNamesThePath) {
  LanguageGuard ja(Language::kJapanese);
  Status s = ErrnoStatus(ENOSPC, L("書き込み", "write"), "/data/x");
  EXPECT_NE(s.message().find("書き込みに失敗しました: /data/x"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("空き容量"), std::string::npos);
}

// --- clock -------------------------------------------------------------------------------

TEST(Clock, FormatAndParseUtcRoundTrip) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1795240394), "2026-11-21T05:53:14Z");
  for (int64_t t : {int64_t{0}, int64_t{951782400} /* 2000-02-29 */, int64_t{1709251199}, int64_t{1795240394},
                    int64_t{4102444800} /* 2100-01-01 */}) {
    int64_t back = -1;
    ASSERT_TRUE(ParseUtc(FormatUtc(t), &back)) << FormatUtc(t);
    EXPECT_EQ(back, t);
  }
}

TEST(Clock, ParseUtcRejectsOtherForms) {
  int64_t t = 0;
  EXPECT_FALSE(ParseUtc("", &t));
  EXPECT_FALSE(ParseUtc("2026-11-21 05:53:14", &t));
  EXPECT_FALSE(ParseUtc("2026-11-21T05:53:14", &t));  // no zone
  EXPECT_FALSE(ParseUtc("2026-11-21T05:53:14Zjunk", &t));
  EXPECT_FALSE(ParseUtc("2026-11-21T05:53:14+09:00", &t));
  EXPECT_FALSE(ParseUtc("yesterday", &t));
}

TEST(Clock, FakeClockIsSettable) {
  FakeClock clock(100);
  clock.Advance(20);
  EXPECT_EQ(clock.NowUnix(), 120);
  clock.Set(5);
  EXPECT_EQ(clock.NowUnix(), 5);
  EXPECT_GT(SystemClock().NowUnix(), 1700000000);  // after 2023: the real clock is wired up
}

}  // namespace
}  // namespace kura
