// Names in any encoding through the real binary. A file name, link target, --tag, --host
// or --stdin-name that was not UTF-8 made `kura backup`, `kura run` and `kura agent` abort
// (uncaught nlohmann type_error.316, exit 134); `kura ls` printed names raw, so a name
// holding ESC or CR drove the terminal; a wrong-typed status.json made `kura status` and
// `kura agent --once` exit 134.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "support/byte_names.h"
#include "support/e2e_kura.h"
#include "util/text.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliNamesTest : public KuraE2ETest {};

std::string MakeTree(const std::string& root, uint64_t seed, int count) {
  EXPECT_EQ(::mkdir(root.c_str(), 0755), 0);
  MakeRandomByteTree(root, seed, count);
  return root;
}

TEST_F(CliNamesTest, RandomByteNamesBackUpAndRestoreByteForByteNeverAbort) {
  InitRepo();
  for (uint64_t seed : {11, 12, 13}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::string src = MakeTree(dir_.Sub("src" + std::to_string(seed)), seed, 80);
    auto before = ReadByteTree(src);
    KuraRun b = Kura({"backup", src});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    std::string out = dir_.Sub("out" + std::to_string(seed));
    KuraRun r = Kura({"restore", "latest", "--target", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto after = ReadByteTree(out + src);
    EXPECT_EQ(after.size(), before.size());
    for (const auto& [path, e] : before) {
      auto it = after.find(path);
      ASSERT_NE(it, after.end()) << "not restored: " << EscapeName(path);
      EXPECT_TRUE(it->second == e) << "differs: " << EscapeName(path);
    }
  }
}

TEST_F(CliNamesTest, LsEscapesControlCharactersAndJsonIsLossless) {
  InitRepo();
  std::string src = MakeTree(dir_.Sub("src"), 21, 80);
  // Names that would drive a terminal: clear screen, carriage return, a C1 CSI, a title.
  for (std::string name :
       {std::string("clear\x1b[2J"), std::string("over\rwrite"),
        std::string("c1\xc2\x9b"
                    "31m"),
        std::string("title\x1b]0;owned\x07"), std::string("\x83\x65\x83\x58\x83\x67.txt")}) {
    WriteFile(src + "/" + name, "x");
  }
  auto tree = ReadByteTree(src);
  ASSERT_EQ(Kura({"backup", src}).exit_code, 0);

  KuraRun ls = Kura({"ls", "latest"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  for (unsigned char c : ls.out) {
    ASSERT_FALSE((c < 0x20 && c != '\n') || c == 0x7f)
        << "raw control byte " << int(c) << " in kura ls output";
  }
  EXPECT_TRUE(IsValidUtf8(ls.out));
  EXPECT_NE(ls.out.find("clear\\x1B[2J"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\\x83e\\x83X\\x83g.txt"), std::string::npos) << ls.out;
  // Every name is listed, in its escaped form, and unescapes to the exact bytes.
  for (const auto& [path, e] : tree) {
    std::string escaped = EscapeName(src.substr(1) + "/" + path);
    EXPECT_NE(ls.out.find(" " + escaped + (e.type == 'l' ? " -> " : "\n")), std::string::npos) << escaped;
  }

  json doc = KuraJson({"ls", "latest"});
  ASSERT_TRUE(doc.is_object());
  std::map<std::string, std::pair<std::string, std::string>> listed;  // path -> (type, target)
  for (const json& e : doc["entries"]) {
    std::string path = e.contains("path_b64") ? Base64Decode(e["path_b64"].get<std::string>()).value_or("?")
                                              : e.value("path", "");
    EXPECT_EQ(e.contains("path_b64"), !IsValidUtf8(path)) << "path_b64 exactly when the name is not UTF-8";
    std::string target = e.contains("target_b64")
                             ? Base64Decode(e["target_b64"].get<std::string>()).value_or("?")
                             : e.value("target", "");
    listed[path] = {e.value("type", ""), target};
  }
  for (const auto& [path, e] : tree) {
    auto it = listed.find(src.substr(1) + "/" + path);
    ASSERT_NE(it, listed.end()) << "not in ls --json: " << EscapeName(path);
    if (e.type == 'l') {
      EXPECT_EQ(it->second.second, e.data) << "link target of " << EscapeName(path);
    }
  }
}

TEST_F(CliNamesTest, StdinNameInAnyEncodingIsStoredAndTagOrHostThatIsNotTextIsRefused) {
  InitRepo();
  std::string name = "dump-\x83\x65\x83\x58\x83\x67.sql";
  KuraRun b = Kura({"backup", "--stdin", "--stdin-name", name}, {}, "SELECT 1;\n");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  json doc = KuraJson({"ls", "latest"});
  ASSERT_EQ(doc["entries"].size(), 1u);
  EXPECT_EQ(Base64Decode(doc["entries"][0].value("path_b64", "")).value_or(""), name);

  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--tag", "night\xff"}, {"--host", "pc\x1b[2J"}, {"--tag", "\x83\x65"}}) {
    KuraRun r = Kura({"backup", flag, value, "--stdin"}, {{"KURA_LANG", "en"}}, "x");
    EXPECT_EQ(r.exit_code, kExitUsage) << flag << ": " << r.err;
    EXPECT_NE(r.err.find(flag + " must be UTF-8 text"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "the refused value is shown escaped";
  }
}

}  // namespace
}  // namespace kura::testing
