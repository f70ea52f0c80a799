// The repository config: what `kura` says when it meets a config it cannot use.
#include "repo/config.h"

#include <gtest/gtest.h>

#include "repo/format.h"
#include "util/i18n.h"

namespace kura {
namespace {

RepoConfig Valid() {
  RepoConfig c;
  c.id = "0123456789abcdef0123456789abcdef";
  c.created = "2026-11-21T05:53:14Z";
  c.chunker = DefaultChunkerParams();
  c.pack_target_size = format::kDefaultPackTargetSize;
  return c;
}

Result<RepoConfig> ParseText(const std::string& text) {
  return RepoConfig::Parse(AsBytes(text), "/mnt/nas/kura");
}

TEST(ConfigTest, SerializeParseRoundTrip) {
  RepoConfig c = Valid();
  auto parsed = RepoConfig::Parse(c.Serialize(), "/x");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->version, 1u);
  EXPECT_EQ(parsed->id, c.id);
  EXPECT_EQ(parsed->created, c.created);
  EXPECT_EQ(parsed->chunker.min_size, c.chunker.min_size);
  EXPECT_EQ(parsed->chunker.avg_size, c.chunker.avg_size);
  EXPECT_EQ(parsed->chunker.max_size, c.chunker.max_size);
  EXPECT_EQ(parsed->pack_target_size, c.pack_target_size);
}

TEST(ConfigTest, NewerVersionIsUnsupportedAndSaysToUpdate) {
  SetLanguage(Language::kEnglish);
  std::string text = std::string(AsString(Valid().Serialize()));
  text.replace(text.find("\"version\": 1"), 12,
               "\"version\": " + std::to_string(format::kRepositoryVersion + 1));
  auto parsed = ParseText(text);
  ASSERT_EQ(parsed.status().code(), Code::kUnsupported) << parsed.status().ToString();
  EXPECT_NE(parsed.status().message().find("update kura"), std::string::npos) << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("/mnt/nas/kura"), std::string::npos);
  SetLanguage(Language::kJapanese);
  EXPECT_NE(ParseText(text).status().message().find("kura を更新してください"), std::string::npos);
}

// Something that is not a kura config at all (a git directory's config, a text file) means
// "this is not a kura repository" (exit 3), not "your repository is damaged" (exit 8).
TEST(ConfigTest, ForeignFileIsNotARepository) {
  SetLanguage(Language::kEnglish);
  for (std::string text :
       {std::string("[core]\n\trepositoryformatversion = 0\n"), std::string(""),
        std::string("{\"format\": \"restic\"}"), std::string("[1,2,3]"), std::string("\xff\xfe")}) {
    auto parsed = ParseText(text);
    EXPECT_EQ(parsed.status().code(), Code::kNotFound) << text;
    EXPECT_NE(parsed.status().message().find("is not a kura repository"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(ConfigTest, DamagedKuraConfigIsCorruption) {
  std::string good = std::string(AsString(Valid().Serialize()));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    size_t pos = t.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return t.replace(pos, from.size(), to);
  };
  for (std::string text :
       {with("\"version\": 1", "\"version\": 0"), with("0123456789abcdef0123456789abcdef", "0123"),
        with("fastcdc-gear-v1", "rabin"), with("\"min\": 32768", "\"min\": 5000000"),
        with("aes-256-gcm", "rot13"), with("\"pack_target_size\": 8388608", "\"pack_target_size\": 10")}) {
    EXPECT_EQ(ParseText(text).status().code(), Code::kCorruption) << text;
  }
}

// nlohmann::json throws on a field of the wrong type; a parser of untrusted bytes must not.
TEST(ConfigTest, WrongFieldTypesAreErrorsNotCrashes) {
  for (std::string text :
       {std::string(R"({"format": 7})"), std::string(R"({"format": "kura-repository", "version": "1"})"),
        std::string(R"({"format": "kura-repository", "version": 1, "id": 5})"),
        std::string(R"({"format": "kura-repository", "version": 1, "chunker": "x"})"),
        std::string(R"({"format": "kura-repository", "version": -1})"),
        std::string(R"({"format": "kura-repository", "version": 1,
                              "id": "0123456789abcdef0123456789abcdef",
                              "chunker": {"algorithm": "fastcdc-gear-v1", "min": "a"}})")}) {
    Result<RepoConfig> parsed = Status::Internal("not run");
    EXPECT_NO_THROW(parsed = ParseText(text)) << text;
    EXPECT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.status().code(), Code::kInternal) << text;
  }
}

}  // namespace
}  // namespace kura
