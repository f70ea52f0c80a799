// Names are bytes: the escaping helper must show any byte string safely and reversibly,
// and the UTF-8 check must agree with the standard on every byte sequence.
#include "util/text.h"

#include <gtest/gtest.h>
#include <iconv.h>

#include <random>

namespace kura {
namespace {

std::string RandomBytes(std::mt19937_64& rng, size_t max_len) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len(rng), '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

// glibc's iconv as the reference for "is this well-formed UTF-8".
bool IconvAcceptsUtf8(const std::string& s) {
  iconv_t cd = ::iconv_open("UTF-32LE", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string in = s;
  std::string out(4 * s.size() + 8, '\0');
  char* ip = in.data();
  char* op = out.data();
  size_t il = in.size(), ol = out.size();
  size_t r = ::iconv(cd, &ip, &il, &op, &ol);
  ::iconv_close(cd);
  return r != static_cast<size_t>(-1) && il == 0;
}

TEST(TextTest, Utf8CheckAgreesWithIconvOnRandomAndTrickyBytes) {
  std::vector<std::string> cases = {"",
                                    "abc",
                                    "患者/記録.txt",
                                    "\xC0\x80",
                                    "\xE0\x80\x80",
                                    "\xED\xA0\x80" /* surrogate */,
                                    "\xF4\x90\x80\x80" /* > U+10FFFF */,
                                    "\xF0\x9F\x98\x80",
                                    "\xE3\x81",
                                    "\x80",
                                    "\xFF\xFE",
                                    "\x83\x65\x83\x58\x83\x67" /* テスト in Shift_JIS */,
                                    "\xA5\xC6\xA5\xB9\xA5\xC8" /* テスト in EUC-JP */};
  std::mt19937_64 rng(20261201);
  for (int i = 0; i < 3000; ++i) cases.push_back(RandomBytes(rng, 12));
  // Random valid UTF-8 made from code points, so both answers are exercised.
  std::uniform_int_distribution<uint32_t> cp(1, 0x10FFFF);
  for (int i = 0; i < 1000; ++i) {
    std::string s;
    for (int k = 0; k < 4; ++k) {
      uint32_t c = cp(rng);
      if (c >= 0xD800 && c <= 0xDFFF) continue;
      if (c < 0x80)
        s += static_cast<char>(c);
      else if (c < 0x800)
        s += {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
      else if (c < 0x10000)
        s += {static_cast<char>(0xE0 | (c >> 12)), static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
              static_cast<char>(0x80 | (c & 0x3F))};
      else
        s += {static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
              static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
    }
    cases.push_back(s);
  }
  for (const std::string& s : cases) {
    EXPECT_EQ(IsValidUtf8(s), IconvAcceptsUtf8(s)) << "bytes: " << EscapeName(s);
  }
}

TEST(TextTest, EscapedNameIsPrintableUtf8AndUnescapesToTheSameBytes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string name = RandomBytes(rng, 40);
    std::string shown = EscapeName(name);
    ASSERT_TRUE(IsValidUtf8(shown)) << shown;
    for (unsigned char c : shown) ASSERT_FALSE(c < 0x20 || c == 0x7F) << "raw control byte in " << shown;
    auto back = UnescapeName(shown);
    ASSERT_TRUE(back.has_value()) << shown;
    ASSERT_EQ(*back, name);
  }
}

TEST(TextTest, TerminalControlsAreNeverPrintedRaw) {
  EXPECT_EQ(EscapeName("a\x1b[2Jb\rc\nd"), "a\\x1B[2Jb\\x0Dc\\x0Ad");
  EXPECT_EQ(EscapeName("\xC2\x9B"
                       "31m"),
            "\\xC2\\x9B31m");                                                      // C1 CSI
  EXPECT_EQ(EscapeName("evil\xE2\x80\xAEtxt.exe"), "evil\\xE2\\x80\\xAEtxt.exe");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(EscapeName("C:\\temp"), "C:\\\\temp");
  EXPECT_EQ(EscapeName("患者/\x83\x65"), "患者/\\x83e");
  // Messages keep backslashes and newlines, but not ESC or CR.
  EXPECT_EQ(EscapeText("C:\\temp\n\x1b]0;x\x07"), "C:\\temp\n\\x1B]0;x\\x07");
  EXPECT_EQ(EscapeText("a\nb", /*keep_newlines=*/false), "a\\x0Ab");
}

TEST(TextTest, UnescapeRefusesWhatEscapeNeverMakes) {
  EXPECT_FALSE(UnescapeName("a\\").has_value());
  EXPECT_FALSE(UnescapeName("a\\q").has_value());
  EXPECT_FALSE(UnescapeName("a\\x4").has_value());
  EXPECT_FALSE(UnescapeName("a\\xZZ").has_value());
}

TEST(TextTest, Base64RoundTripsEveryLengthAndRefusesNonCanonicalText) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) {
    std::string b = RandomBytes(rng, 50);
    auto back = Base64Decode(Base64Encode(b));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, b);
  }
  for (const char* bad :
       {"Zg=", "Zg", "Z===", "Zh==" /* padding bits set */, "Zm9v!A==", "=Zg=", "Zg==Zg==", "Zm 9"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace kura
