// Initial passwords, tokens and enrolment codes: enough entropy, strict parsing, and only
// hashes kept.
#include <gtest/gtest.h>

#include <set>

#include "vault/catalog_fixture.h"
#include "vault/password.h"
#include "vault/tokens.h"

namespace kura::vault::testing {
namespace {

// G-AUTH-06: an issued initial password has letters, digits and symbols and 8+ characters.
TEST(InitialPasswordTest, HasEveryClassAndNeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string p = RandomInitialPassword();
    EXPECT_EQ(p.size(), 20u);
    EXPECT_NE(p.find_first_of("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"), std::string::npos);
    EXPECT_NE(p.find_first_of("23456789"), std::string::npos);
    EXPECT_NE(p.find_first_of("!#%+-=?@_"), std::string::npos);
    EXPECT_EQ(p.find_first_of("0O1lI"), std::string::npos) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(RandomInitialPassword(4).size(), 12u);
}

TEST(PasswordHashTest, RefusesAnOutOfRangeCostAndForeignHashes) {
  crypto::Argon2Params bad;
  bad.ops_limit = 0;
  EXPECT_EQ(HashPassword("x", bad).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(CheckPassword("", "x"));
  EXPECT_FALSE(CheckPassword("plaintext", "plaintext"));
  EXPECT_FALSE(CheckPassword("$argon2i$v=19$m=8192,t=1,p=1$c29tZXNhbHQ$aGFzaA", "x"));
}

TEST(TokenTest, RoundTripsAndRejectsAnythingElse) {
  SplitToken t = NewToken(kSiteTokenPrefix, 32);
  EXPECT_EQ(t.text.size(), 4u + 1 + 16 + 1 + 64);
  auto p = ParseToken(t.text, kSiteTokenPrefix, 32);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->selector, t.selector);
  EXPECT_EQ(p->secret, t.secret);
  EXPECT_EQ(TokenSecretHash(*p, kSiteTokenPrefix), TokenSecretHash(t, kSiteTokenPrefix));
  // The same secret under the other prefix hashes differently (a code is never a token).
  EXPECT_NE(TokenSecretHash(t, kEnrolmentPrefix), TokenSecretHash(t, kSiteTokenPrefix));
  EXPECT_FALSE(ParseToken(t.text, kEnrolmentPrefix, 32));
  EXPECT_FALSE(ParseToken(t.text, kSiteTokenPrefix, 16));
  EXPECT_FALSE(ParseToken(t.text + " ", kSiteTokenPrefix, 32));
  EXPECT_FALSE(ParseToken(t.text.substr(1), kSiteTokenPrefix, 32));
  std::string dots = t.text;
  dots[4] = '.';
  EXPECT_FALSE(ParseToken(dots, kSiteTokenPrefix, 32));
  std::string upper = t.text;
  upper.back() = 'G';
  EXPECT_FALSE(ParseToken(upper, kSiteTokenPrefix, 32));
  EXPECT_FALSE(ParseToken("", kSiteTokenPrefix, 32));
  EXPECT_NE(NewToken(kSiteTokenPrefix, 32).text, t.text);
}

// Random bytes as tokens never crash the parser and never parse unless well-formed.
TEST(TokenTest, RandomInputNeverParsesByAccident) {
  for (int i = 0; i < 2000; ++i) {
    Bytes junk = crypto::RandomBytes(static_cast<size_t>(i % 120));
    EXPECT_FALSE(ParseToken(AsString(junk), kEnrolmentPrefix, 16));
  }
}

}  // namespace
}  // namespace kura::vault::testing
