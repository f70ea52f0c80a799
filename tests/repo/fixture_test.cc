// A repository written by kura 0.1.0 (format version 1), kept in tests/fixtures/repo-v1,
// must stay readable by every later kura: password "kura-fixture-password", one snapshot of
// the stream "karte.txt" (tests/fixtures/repo-v1.karte.txt).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "objstore/local_store.h"
#include "repo/repository.h"
#include "support/repo_testing.h"

namespace kura {
namespace {

namespace fs = std::filesystem;

TEST(FixtureTest, Version1RepositoryStillOpensAndReadsBack) {
  testing::UseCheapKdf();
  testing::TempDir dir;
  ::setenv("KURA_CACHE_DIR", dir.Sub("cache").c_str(), 1);
  const char* src = std::getenv("KURA_SOURCE_DIR");
  std::string root = std::string(src && *src ? src : ".") + "/tests/fixtures";
  // A copy, so nothing (a lock file) is ever written into the source tree.
  fs::copy(root + "/repo-v1", dir.Sub("repo"), fs::copy_options::recursive);
  auto store = LocalStore::Open(dir.Sub("repo"), /*create=*/false);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Credentials creds;
  creds.password = "kura-fixture-password";
  auto repo = Repository::Open(std::move(*store), creds);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();

  auto snap = (*repo)->FindSnapshot("latest");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->plain.kind, SnapshotKind::kManual);
  auto meta = (*repo)->LoadMeta(snap->id);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  ASSERT_EQ(meta->entries.size(), 1u);
  const SnapshotEntry& e = meta->entries[0];
  EXPECT_EQ(e.meta.path, "karte.txt");
  EXPECT_EQ(meta->source_kind, "stdin");
  std::string content;
  for (const crypto::Hash& id : e.blobs) {
    auto blob = (*repo)->ReadBlob(id);
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    content.append(blob->begin(), blob->end());
  }
  EXPECT_EQ(content, testing::ReadFileString(root + "/repo-v1.karte.txt"));
  crypto::Hash sha = crypto::Sha256(AsBytes(content));
  EXPECT_EQ(e.sha256.size(), 64u);
  std::string hex;
  for (uint8_t b : sha) hex += fmt::format("{:02x}", b);
  EXPECT_EQ(hex, e.sha256);

  Credentials wrong;
  wrong.password = "not-the-fixture-password";
  auto store2 = LocalStore::Open(dir.Sub("repo"), false);
  ASSERT_TRUE(store2.ok());
  EXPECT_EQ(Repository::Open(std::move(*store2), wrong).status().code(), Code::kUnauthorized);
}

}  // namespace
}  // namespace kura
