// Every text field of a snapshot's metadata holds bytes: names in any encoding (Shift_JIS,
// EUC-JP, random bytes, control characters) are stored and read back byte for byte, a
// snapshot that needs it is version 2, and one that does not stays version 1.
#include <gtest/gtest.h>
#include <zstd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "repo/format.h"
#include "repo/snapshot.h"
#include "util/text.h"

namespace kura {
namespace {

// A name component of 1..max random bytes from 1..255 without '/', or one of the samples.
std::string RandomComponent(std::mt19937_64& rng, size_t max) {
  static const std::vector<std::string> kSamples = {
      "\x83\x65\x83\x58\x83\x67",  // テスト, Shift_JIS
      "\x8A\xB3\x8E\xD2\x83\x5C",  // 患者ソ, Shift_JIS (0x5C '\' as a trail byte)
      "\xA5\xC6\xA5\xB9\xA5\xC8",  // テスト, EUC-JP
      "a\x1b[31mred\rb",           // terminal control
      "\xff\xfe",                  // never UTF-8
      "記録.txt",                  // UTF-8
      "\xE2\x80\xAEtxt.exe",       // RIGHT-TO-LEFT OVERRIDE
  };
  std::uniform_int_distribution<int> pick(0, 3);
  if (pick(rng) == 0) return kSamples[rng() % kSamples.size()];
  std::uniform_int_distribution<size_t> len(1, max);
  std::uniform_int_distribution<int> byte(1, 255);
  std::string s(len(rng), 'x');
  for (char& c : s) {
    do c = static_cast<char>(byte(rng));
    while (c == '/');
  }
  if (s == "." || s == "..") s += "x";
  return s;
}

uint32_t VersionOf(const Bytes& b) {
  return GetU32(b.data() + 8);
}

class SnapshotNamesTest : public ::testing::Test {
 protected:
  RepoKeys keys_ = RepoKeys::Derive(crypto::SecretKey::Random());
  SnapshotPlain plain_{
      "00112233445566778899aabbccddeeff", SnapshotKind::kDaily, 1763700000, 1763700000123, 1, 1, 1};
  std::vector<crypto::Hash> blobs_{crypto::Hash{}};

  // The snapshot object with `meta_json` sealed as its metadata.
  Bytes WithMetaJson(const std::string& meta_json) {
    SnapshotMeta empty;
    Bytes valid = EncodeSnapshotV2(keys_, plain_, blobs_, empty);
    // Layout: 16 + P + 4 + 32M, then the sealed length and the sealed bytes.
    size_t p = GetU32(valid.data() + 12);
    size_t prefix = 16 + p + 4 + 32 * blobs_.size();
    Bytes out(valid.begin(), valid.begin() + static_cast<long>(prefix));
    Bytes z(ZSTD_compressBound(meta_json.size()));
    z.resize(ZSTD_compress(z.data(), z.size(), meta_json.data(), meta_json.size(), 1));
    Bytes sealed = crypto::Seal(keys_.snapshot, z, crypto::Sha256(out));
    PutU32(out, static_cast<uint32_t>(sealed.size()));
    Append(out, sealed);
    return out;
  }
};

TEST_F(SnapshotNamesTest, RandomByteNamesInEveryTextFieldRoundTripExactly) {
  std::mt19937_64 rng(20261201);
  int raw_snapshots = 0;
  for (int round = 0; round < 200; ++round) {
    SnapshotMeta m;
    m.host = RandomComponent(rng, 20);
    m.kura_version = "0.1.0";
    m.source_kind = "files";
    m.source_name = "/" + RandomComponent(rng, 20);
    m.tags = {RandomComponent(rng, 8), "daily", RandomComponent(rng, 8)};
    for (int i = 0; i < 6; ++i) {
      SnapshotEntry e;
      e.meta.path = RandomComponent(rng, 30) + "/" + RandomComponent(rng, 30);
      e.meta.type = i % 3 == 0 ? EntryType::kSymlink : i % 3 == 1 ? EntryType::kFile : EntryType::kDirectory;
      if (e.meta.type == EntryType::kSymlink)
        e.meta.symlink_target = RandomComponent(rng, 60) + "/../" + RandomComponent(rng, 5);
      if (e.meta.type == EntryType::kFile) {
        e.blobs = {crypto::Hash{}};
        e.sha256 = std::string(64, 'b');
        e.meta.change_key = "1:2.3:4.5:6:7";
      }
      m.entries.push_back(e);
    }
    m.warnings = {{m.entries[1].meta.path, "cannot read " + m.entries[1].meta.path}};
    bool all_text = IsValidUtf8(m.host) && IsValidUtf8(m.source_name);
    for (const std::string& t : m.tags) all_text = all_text && IsValidUtf8(t);
    for (const SnapshotEntry& e : m.entries)
      all_text = all_text && IsValidUtf8(e.meta.path) && IsValidUtf8(e.meta.symlink_target);

    Bytes b = EncodeSnapshotV2(keys_, plain_, blobs_, m);
    EXPECT_EQ(VersionOf(b), all_text ? 1u : 2u) << "version 2 only when a field is not UTF-8";
    raw_snapshots += all_text ? 0 : 1;
    ASSERT_TRUE(ParseSnapshot("x", b).ok());
    auto back = OpenSnapshotMeta(keys_, "x", b);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->host, m.host);
    EXPECT_EQ(back->source_name, m.source_name);
    EXPECT_EQ(back->tags, m.tags);
    ASSERT_EQ(back->entries.size(), m.entries.size());
    for (size_t i = 0; i < m.entries.size(); ++i) {
      EXPECT_EQ(back->entries[i].meta.path, m.entries[i].meta.path) << EscapeName(m.entries[i].meta.path);
      EXPECT_EQ(back->entries[i].meta.symlink_target, m.entries[i].meta.symlink_target);
      EXPECT_EQ(back->entries[i].meta.change_key, m.entries[i].meta.change_key);
    }
    ASSERT_EQ(back->warnings.size(), 1u);
    EXPECT_EQ(back->warnings[0].path, m.warnings[0].path);
    EXPECT_EQ(back->warnings[0].message, m.warnings[0].message);
  }
  EXPECT_GT(raw_snapshots, 100) << "the generator must produce names that are not UTF-8";
}

TEST_F(SnapshotNamesTest, Utf8OnlySnapshotIsVersionOneWithoutB64Fields) {
  SnapshotMeta m;
  m.host = "受付PC";
  SnapshotEntry e;
  e.meta.path = "患者/記録.txt";
  e.meta.type = EntryType::kDirectory;
  m.entries = {e};
  Bytes b = EncodeSnapshotV2(keys_, plain_, blobs_, m);
  EXPECT_EQ(VersionOf(b), format::kSnapshotVersionText);
}

TEST_F(SnapshotNamesTest, B64FieldWinsOverTheShownFormAndBadB64IsDamage) {
  auto ok = OpenSnapshotMeta(
      keys_, "x", WithMetaJson(R"({"entries":[{"type":"dir","path":"shown","path_b64":"/w=="}]})"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->entries[0].meta.path, "\xff");
  for (const char* bad :
       {R"({"entries":[{"type":"dir","path":"a","path_b64":"/w="}]})",
        R"({"entries":[{"type":"dir","path":"a","path_b64":5}]})", R"({"host":"a","host_b64":"!!!!"})",
        R"({"tags":["a"],"tags_b64":["YQ==","Yg=="]})", R"({"tags":["a"],"tags_b64":"YQ=="})",
        R"({"entries":[{"type":"dir","path":"a","path_b64":"Li4="}]})" /* ".." */}) {
    auto r = OpenSnapshotMeta(keys_, "x", WithMetaJson(bad));
    EXPECT_EQ(r.status().code(), Code::kCorruption) << bad;
  }
}

}  // namespace
}  // namespace kura
