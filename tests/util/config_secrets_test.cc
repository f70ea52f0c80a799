// Secrets in and around kura's own files: TOML errors never echo a line (issue 6 §7: a
// syntax error on a `password = "...` line printed the password), deep nesting is refused
// before toml11 can overflow the stack, password files written by Notepad mean the password
// typed, and password length counts characters.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>
#include <sstream>
#include <string>
#include <toml.hpp>
#include <vector>

#include "support/repo_testing.h"
#include "util/i18n.h"
#include "util/secret_file.h"
#include "util/toml_text.h"

namespace kura {
namespace {

// Parses `text` the way kura does and returns the error it would print ("" when it parses).
std::string TomlError(const std::string& text) {
  Status nesting = CheckTomlNesting(text, "/etc/kura/agent.toml");
  if (!nesting.ok()) return nesting.message();
  try {
    std::istringstream in(text);
    (void)toml::parse(in, "/etc/kura/agent.toml");
  } catch (const std::exception& e) {
    return TomlErrorStatus(e, "/etc/kura/agent.toml").message();
  }
  return "";
}

// Every kind of broken line around a secret: unterminated strings, missing quotes, a
// duplicated key, a bad escape, an array or inline table cut short, a stray character —
// at random positions in an otherwise valid file. The message names file and line, never
// the secret.
TEST(TomlSecretTest, SyntaxErrorsNeverEchoTheSecretOnTheirLine) {
  SetLanguage(Language::kEnglish);
  const std::string secret = "Sentinel-Pw-7f3a9";
  const std::vector<std::string> broken = {
      "password = \"" + secret,
      "password = " + secret,
      "password = '" + secret,
      "password = \"\"\"" + secret,
      "password = \"" + secret + "\\q\"",
      "password = [\"" + secret + "\"",
      "password = { value = \"" + secret + "\"",
      "password = \"" + secret + "\" x",
      "password_file = \"a\"\npassword_file = \"" + secret + "\"",
      "[hooks]\n[hooks]\npassword = \"" + secret + "\"",
      "env = { PGPASSWORD = \"" + secret + "\", PGPASSWORD = \"" + secret + "\" }",
      "\"" + secret + "\" = ",
      secret + " = = 1",
  };
  std::mt19937 rng(20261201u);
  int errors = 0;
  for (int round = 0; round < 120; ++round) {
    std::vector<std::string> lines = {"state_dir = \"/var/lib/kura\"", "log_keep = 5", "host = \"care-pc\""};
    size_t at = rng() % (lines.size() + 1);
    const std::string& bad = broken[round % broken.size()];
    lines.insert(lines.begin() + static_cast<long>(at), bad);
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    std::string message = TomlError(text);
    if (message.empty()) continue;
    ++errors;
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
    EXPECT_EQ(message.find("Sentinel"), std::string::npos) << message;
    EXPECT_NE(message.find("/etc/kura/agent.toml"), std::string::npos) << message;
    EXPECT_NE(message.find("line "), std::string::npos) << message;
  }
  EXPECT_GT(errors, 100) << "the broken lines must be errors";
  SetLanguage(Language::kJapanese);
}

TEST(TomlSecretTest, TheLineNumberPointsAtTheBrokenLine) {
  SetLanguage(Language::kEnglish);
  std::string message = TomlError("a = 1\nb = 2\npassword = \"abc\n");
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  SetLanguage(Language::kJapanese);
  EXPECT_NE(TomlError("a = 1\nb = 2\npassword = \"abc\n").find("3 行目"), std::string::npos);
}

// Regression (issue 6 §7): an agent.toml nested 20,000 levels deep crashed kura (SIGSEGV in
// toml11's recursive parser). Every way of nesting is refused with a message, deep or not
// terminated; nesting kura's own files use still parses.
TEST(TomlNestingTest, DeepNestingIsRefusedBeforeTheParserRecurses) {
  SetLanguage(Language::kEnglish);
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
  };
  const int n = 20000;
  std::vector<std::string> deep = {
      "x = " + repeat("[", n) + repeat("]", n) + "\n",
      "x = " + repeat("[", n) + "\n",
      "x = " + repeat("{a = ", n) + "1" + repeat("}", n) + "\n",
      "x = " + repeat("[{a = ", n / 2) + "\n",
      repeat("a.", n) + "b = 1\n",
      "[" + repeat("a.", n) + "b]\n",
      "# comment [[[[\ny = \"[[[[\"\nx = " + repeat("[", n) + "\n",
  };
  for (const std::string& text : deep) {
    std::string message = TomlError(text);
    EXPECT_NE(message.find("nested too deeply"), std::string::npos) << message.substr(0, 200);
  }
  // Brackets inside strings and comments are not nesting.
  std::string strings = "a = \"" + repeat("[", n) + "\"\nb = '" + repeat("{", n) + "'\n# " + repeat("[", n) +
                        "\nc = \"\"\"\n" + repeat("[", n) + "\"\"\"\nd = 3.14\n";
  EXPECT_EQ(TomlError(strings), "");
  EXPECT_EQ(
      TomlError(
          "[[job]]\nname = \"a\"\n[job.source]\nenv = { A = \"1\" }\n[[job.target]]\nx = [[1, 2], [3]]\n"),
      "");
  SetLanguage(Language::kJapanese);
}

TEST(PasswordFileTest, ByteOrderMarkAndCrlfAreNotPartOfThePassword) {
  testing::TempDir dir;
  const std::string password = "ケア記録 2026!";
  for (const std::string& prefix : {std::string(""), std::string("\xEF\xBB\xBF")}) {
    for (const std::string& ending :
         {std::string(""), std::string("\n"), std::string("\r\n"), std::string("\r\n\r\n")}) {
      std::string path = dir.Sub("pw");
      testing::WriteFile(path, prefix + password + ending);
      bool had_bom = false;
      auto pw = ReadPasswordFile(path, &had_bom);
      ASSERT_TRUE(pw.ok()) << pw.status().ToString();
      EXPECT_EQ(*pw, password);
      EXPECT_EQ(had_bom, !prefix.empty());
    }
  }
  testing::WriteFile(dir.Sub("empty"), "\xEF\xBB\xBF\r\n");
  EXPECT_EQ(ReadPasswordFile(dir.Sub("empty")).status().code(), Code::kInvalidArgument);
  testing::WriteFile(dir.Sub("spaces"), " pass word \n");
  EXPECT_EQ(*ReadPasswordFile(dir.Sub("spaces")), " pass word ") << "spaces are part of a password";
}

// Regression (issue 6 §7): the 8-character rule counted bytes, so 3 kana (9 bytes) passed.
TEST(PasswordFileTest, LengthIsCountedInCharactersNotBytes) {
  EXPECT_FALSE(CheckNewPassword("あいう").ok());
  EXPECT_FALSE(CheckNewPassword("パスワード12").ok());  // 7 characters, 17 bytes
  EXPECT_TRUE(CheckNewPassword("パスワード123").ok());
  EXPECT_FALSE(CheckNewPassword("1234567").ok());
  EXPECT_TRUE(CheckNewPassword("12345678").ok());
  EXPECT_FALSE(CheckNewPassword("😀😀😀😀").ok());  // 4 characters, 16 bytes
  // Any mix of 1- to 4-byte characters: characters, not bytes, decide.
  const std::vector<std::string> chars = {"a", "é", "あ", "漢", "😀"};
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    size_t count = rng() % 12;
    std::string pw;
    for (size_t i = 0; i < count; ++i) pw += chars[rng() % chars.size()];
    EXPECT_EQ(Utf8Length(pw), count) << pw;
    EXPECT_EQ(CheckNewPassword(pw).ok(), count >= kMinPasswordChars) << pw;
  }
}

TEST(PasswordFileTest, ReadableByOthersIsDetected) {
  testing::TempDir dir;
  std::string path = dir.Sub("key");
  testing::WriteFile(path, "0123456789abcdef0123");
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(ReadableByOthers(path));
  ::chmod(path.c_str(), 0644);
  EXPECT_TRUE(ReadableByOthers(path));
  ::chmod(path.c_str(), 0640);
  EXPECT_TRUE(ReadableByOthers(path));
}

}  // namespace
}  // namespace kura
