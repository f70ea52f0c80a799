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

// docs/vault-api.md §3: KURA1-<32 base32>-<64 hex>; the secret is read as people type it.
TEST(TokenTest, EnrolmentCodesHaveTheContractsShape) {
  SplitToken secret = NewEnrolmentSecret();
  EXPECT_EQ(secret.text.size(), 32u);
  EXPECT_EQ(secret.selector.size(), 16u);
  EXPECT_NE(NewEnrolmentSecret().text, secret.text);
  std::string fp(64, 'c');
  std::string code = FormatEnrolmentCode(secret.text, fp);
  auto parts = ParseEnrolmentCode("  " + code + "\n");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->secret, secret.text);
  EXPECT_EQ(parts->fingerprint, fp);
  std::string lower = secret.text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto typed = ParseEnrolmentSecret(lower);
  ASSERT_TRUE(typed.has_value());
  EXPECT_EQ(typed->selector, secret.selector);  // same row
  EXPECT_EQ(TokenSecretHash(*typed, kEnrolmentPrefix), TokenSecretHash(secret, kEnrolmentPrefix));
  EXPECT_FALSE(ParseEnrolmentCode("KURA2-" + code.substr(6)));
  EXPECT_FALSE(ParseEnrolmentCode(code.substr(0, code.size() - 1)));
  EXPECT_FALSE(ParseEnrolmentCode(FormatEnrolmentCode(secret.text, std::string(64, 'C'))));
  EXPECT_FALSE(
      ParseEnrolmentCode(FormatEnrolmentCode(secret.text.substr(0, 31) + "1", fp)));  // 1 is no base32
  EXPECT_FALSE(ParseEnrolmentSecret(secret.text + "A"));
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
