// Windows only (run under Wine by ctest): kura's one conversion between its UTF-8 names
// and Windows' UTF-16 ones (src/util/win/wide.h, docs/windows-port.md "Paths and names").
#include "util/win/wide.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace kura::win {
namespace {

// Valid UTF-16 gives plain UTF-8: Japanese names read the same on Linux.
TEST(WindowsWideTest, JapaneseIsPlainUtf8) {
  EXPECT_EQ(NarrowName(L"\u65e5\u672c\u8a9e.txt"), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt");
  EXPECT_EQ(WideName("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt"), std::wstring(L"\u65e5\u672c\u8a9e.txt"));
  EXPECT_EQ(NarrowName(std::wstring(L"\xD83D\xDE00")), "\xf0\x9f\x98\x80");
}

// NTFS allows unpaired surrogates; every sequence of 16-bit units must survive the round
// trip (issue 8 §2: "convert losslessly, unpaired surrogates included").
TEST(WindowsWideTest, EveryUtf16SequenceRoundTrips) {
  std::mt19937 rng(8);
  // Biased towards surrogates so lone ones, pairs and reversed pairs all occur often.
  std::uniform_int_distribution<int> kind(0, 3);
  for (int round = 0; round < 2000; ++round) {
    std::wstring w;
    int len = static_cast<int>(rng() % 12);
    for (int i = 0; i < len; ++i) {
      switch (kind(rng)) {
        case 0:
          w += static_cast<wchar_t>(0xD800 + rng() % 0x400);
          break;
        case 1:
          w += static_cast<wchar_t>(0xDC00 + rng() % 0x400);
          break;
        case 2:
          w += static_cast<wchar_t>(0x20 + rng() % 0x60);
          break;
        default:
          w += static_cast<wchar_t>(0x3000 + rng() % 0x5000);
          break;
      }
    }
    auto back = WideName(NarrowName(w));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, w);
  }
}

// Bytes NarrowName never makes are refused, so a name has exactly one narrow spelling.
TEST(WindowsWideTest, RefusesWhatNarrowNameNeverMakes) {
  EXPECT_FALSE(WideName("\xed\xa0\xbd\xed\xb8\x80"));  // a pair spelled as two surrogates
  EXPECT_FALSE(WideName("\xc0\xaf"));                  // overlong '/'
  EXPECT_FALSE(WideName("\xe6\x97"));                  // truncated
  EXPECT_FALSE(WideName("\xf4\x90\x80\x80"));          // above U+10FFFF
  EXPECT_FALSE(WideName("\xff"));
  EXPECT_TRUE(WideName("\xed\xa0\x80"));  // a lone high surrogate is fine
}

TEST(WindowsWideTest, PathsGetTheVerbatimPrefix) {
  EXPECT_EQ(WidePath("C:/ProgramData/kura"), std::wstring(L"\\\\?\\C:\\ProgramData\\kura"));
  EXPECT_EQ(WidePath("\\\\nas\\backup\\kura"), std::wstring(L"\\\\?\\UNC\\nas\\backup\\kura"));
  EXPECT_EQ(WidePath("\\\\?\\D:\\x"), std::wstring(L"\\\\?\\D:\\x"));
  EXPECT_EQ(WidePath("state/log"), std::wstring(L"state\\log"));
}

}  // namespace
}  // namespace kura::win
