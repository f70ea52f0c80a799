// The "garbage collection and scrub" migration from the schema before it, with data in it:
// packs (one already quarantined) and snapshots are kept, and the new tables work.
#include <gtest/gtest.h>

#include "vault/catalog_fixture.h"
#include "vault/migrations.h"

namespace kura::vault::testing {
namespace {

int GcMigrationVersion() {
  for (const Migration& m : Migrations()) {
    if (m.name == "garbage collection and scrub") return m.version;
  }
  return -1;
}

TEST(GcMigrationTest, FromThePreviousSchemaKeepsPacksAndAddsLeasesIntentsAndScrubTables) {
  kura::testing::TempDir dir("kura-vault-gc-migration");
  std::string path = dir.Sub("catalog.db");
  FakeClock clock(kStart);
  int version = GcMigrationVersion();
  ASSERT_GT(version, 1);
  {
    auto db = SqlDb::OpenSqlite(path, 10000);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, kStart, version - 1).ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'さくら診療所', 0);"
                           "INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, '本院', 0);"
                           "INSERT INTO repositories (id, site_id, job, created_at, repo_id, config_sha256)"
                           " VALUES (1, 1, 'nightly', 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'cc');"
                           "INSERT INTO packs (id, repository_id, name, size, blob_count, state, received_at,"
                           " quarantined_at_ms) VALUES (1, 1, 'p1', 10, 0, 'stored', 0, NULL),"
                           " (2, 1, 'p2', 20, 0, 'quarantined', 0, 5)")
                    .ok());
    EXPECT_FALSE((*db)->TableExists("upload_leases").value());
  }
  auto c = Catalog::Open(path, clock, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto packs = (*c)->ListGcPacks(1);
  ASSERT_TRUE(packs.ok());
  ASSERT_EQ(packs->size(), 2u);
  EXPECT_FALSE((*packs)[0].quarantined);
  EXPECT_TRUE((*packs)[1].quarantined);
  EXPECT_EQ((*packs)[1].quarantined_at_ms, 5);
  EXPECT_FALSE((*c)->UploadLeaseLive(1, 60).value());
  ASSERT_TRUE((*c)->RenewUploadLease(1).ok());
  EXPECT_TRUE((*c)->UploadLeaseLive(1, 60).value());
  auto pending = (*c)->PendingReclaimBytes();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].second, 20u);
  EXPECT_FALSE((*c)->GetScrubCursor().value().has_value());
  EXPECT_TRUE((*c)->ListDeletionIntents().value().empty());
}

}  // namespace
}  // namespace kura::vault::testing
