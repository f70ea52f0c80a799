// The fuzz targets' parsers over a small corpus of malformed inputs in the normal test run:
// every truncation and many bit flips of valid objects (the fixture repository's and fresh
// ones), plus inputs that once crashed. Each must give kCorruption/kUnsupported (config:
// also kNotFound), never crash or throw.
#include <gtest/gtest.h>

#include <filesystem>

#include "repo/config.h"
#include "repo/keys.h"
#include "repo/pack.h"
#include "repo/snapshot.h"
#include "support/repo_testing.h"

namespace kura {
namespace {

namespace fs = std::filesystem;

std::string FixtureRoot() {
  const char* src = std::getenv("KURA_SOURCE_DIR");
  return std::string(src && *src ? src : ".") + "/tests/fixtures/repo-v1";
}

Bytes FixtureObject(const std::string& sub) {
  for (const auto& e : fs::recursive_directory_iterator(FixtureRoot() + "/" + sub)) {
    if (e.is_regular_file()) {
      std::string s = testing::ReadFileString(e.path().string());
      return Bytes(s.begin(), s.end());
    }
  }
  ADD_FAILURE() << "no fixture object under " << sub;
  return {};
}

// Every prefix, and one bit flipped at each of up to ~600 positions (all of them for small
// inputs), plus some multi-byte garbage.
std::vector<Bytes> Mutations(const Bytes& valid) {
  std::vector<Bytes> out;
  for (size_t n = 0; n < valid.size(); n += std::max<size_t>(1, valid.size() / 400)) {
    out.emplace_back(valid.begin(), valid.begin() + static_cast<long>(n));
  }
  size_t step = std::max<size_t>(1, valid.size() / 600);
  for (size_t i = 0; i < valid.size(); i += step) {
    for (uint8_t bit : {0x01, 0x80}) {
      Bytes b = valid;
      b[i] ^= bit;
      out.push_back(std::move(b));
    }
  }
  Bytes longer = valid;
  longer.insert(longer.end(), 5, 0xff);
  out.push_back(longer);
  Bytes rnd = testing::SeededBytes(valid.size(), valid.size());
  out.push_back(rnd);
  return out;
}

void ExpectCode(const Status& st, std::initializer_list<Code> allowed, const std::string& what) {
  if (st.ok()) return;  // a flip in free text (a label, a time) may still parse
  for (Code c : allowed) {
    if (st.code() == c) return;
  }
  ADD_FAILURE() << what << ": unexpected " << st.ToString();
}

TEST(FuzzRegressionTest, PackHeaders) {
  Bytes pack = FixtureObject("data");
  auto good = ParsePackHeader(pack, "p");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->total_size, pack.size());
  size_t rejected = 0;
  for (const Bytes& b : Mutations(pack)) {
    Result<PackHeader> h = Status::Internal("not run");
    ASSERT_NO_THROW(h = ParsePackHeader(b, "p"));
    ExpectCode(h.status(), {Code::kCorruption, Code::kUnsupported}, "pack");
    if (!h.ok() || h->total_size != b.size()) ++rejected;
  }
  EXPECT_GT(rejected, 0u);
}

TEST(FuzzRegressionTest, Snapshots) {
  Bytes snap = FixtureObject("snapshots");
  ASSERT_TRUE(ParseSnapshot("s", snap).ok());
  RepoKeys keys = RepoKeys::Derive(crypto::SecretKey::Random());
  for (const Bytes& b : Mutations(snap)) {
    Result<Snapshot> s = Status::Internal("not run");
    ASSERT_NO_THROW(s = ParseSnapshot("s", b));
    ExpectCode(s.status(), {Code::kCorruption, Code::kUnsupported}, "snapshot");
    Result<SnapshotMeta> m = Status::Internal("not run");
    ASSERT_NO_THROW(m = OpenSnapshotMeta(keys, "s", b));
    EXPECT_FALSE(m.ok()) << "another key never opens it";
    ExpectCode(m.status(), {Code::kCorruption, Code::kUnsupported}, "snapshot meta");
  }
}

TEST(FuzzRegressionTest, Configs) {
  std::string text = testing::ReadFileString(FixtureRoot() + "/config");
  Bytes config(text.begin(), text.end());
  ASSERT_TRUE(RepoConfig::Parse(config, "x").ok());
  std::vector<Bytes> inputs = Mutations(config);
  for (std::string crash :
       {std::string(R"({"format":7})"), std::string(R"({"format":"kura-repository","version":"1"})"),
        std::string(R"({"format":"kura-repository","version":1,"chunker":[]})"),
        std::string("[[[[[[[[[[[[[[[[[[[["), std::string(10000, '[')}) {
    inputs.emplace_back(crash.begin(), crash.end());
  }
  for (const Bytes& b : inputs) {
    Result<RepoConfig> c = Status::Internal("not run");
    ASSERT_NO_THROW(c = RepoConfig::Parse(b, "x"));
    ExpectCode(c.status(), {Code::kCorruption, Code::kUnsupported, Code::kNotFound}, "config");
  }
}

TEST(FuzzRegressionTest, KeySlots) {
  testing::UseCheapKdf();
  std::string text;
  for (const auto& e : fs::directory_iterator(FixtureRoot() + "/keys"))
    text = testing::ReadFileString(e.path().string());
  Bytes slot(text.begin(), text.end());
  ASSERT_TRUE(ParseKeySlot("k", slot).ok());
  Credentials pw;
  pw.password = "kura-fixture-password";
  std::vector<Bytes> inputs = Mutations(slot);
  for (std::string crash :
       {R"({"format":"kura-key","version":1,"kind":"password","wrapped":"00"})",
        R"({"format":"kura-key","version":1,"kind":"password","wrapped":"00","kdf":[]})",
        R"({"format":"kura-key","version":1,"kind":"keyfile","wrapped":"00","label":{}})"}) {
    inputs.emplace_back(crash.begin(), crash.end());
  }
  for (const Bytes& b : inputs) {
    Result<KeySlot> s = Status::Internal("not run");
    ASSERT_NO_THROW(s = ParseKeySlot("k", b));
    ExpectCode(s.status(), {Code::kCorruption, Code::kUnsupported}, "key slot");
    if (!s.ok()) continue;
    Result<crypto::SecretKey> key = Status::Internal("not run");
    ASSERT_NO_THROW(key = UnwrapSlot(*s, "00112233445566778899aabbccddeeff", Credentials{}));
    EXPECT_FALSE(key.ok());
  }
}

}  // namespace
}  // namespace kura
