// Numbered schema migrations: applied in order on open, each from the previous schema,
// recorded in schema_version; a catalog from a newer kura-vault is refused untouched.
#include <gtest/gtest.h>

#include <thread>

#include "util/i18n.h"
#include "vault/catalog_fixture.h"
#include "vault/migrations.h"

namespace kura::vault::testing {
namespace {

class MigrationTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqlDb> Db() {
    auto db = SqlDb::OpenSqlite(path_, 10000);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  kura::testing::TempDir dir_{"kura-vault-migr"};
  std::string path_ = dir_.Sub("catalog.db");
  FakeClock clock_{kStart};
};

TEST_F(MigrationTest, VersionsAreNumberedWithoutGaps) {
  int expect = 1;
  for (const Migration& m : Migrations()) {
    EXPECT_EQ(m.version, expect++);
    EXPECT_FALSE(m.name.empty());
  }
  EXPECT_EQ(LatestSchemaVersion(), expect - 1);
}

TEST_F(MigrationTest, NewCatalogGetsEveryMigrationRecorded) {
  auto c = Catalog::Open(path_, clock_, TestOptions());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto db = Db();
  auto q = db->Prepare("SELECT version, name, applied_at FROM schema_version ORDER BY version");
  ASSERT_TRUE(q.ok());
  for (const Migration& m : Migrations()) {
    auto row = q->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(q->Int(0), m.version);
    EXPECT_EQ(q->Text(1), m.name);
    EXPECT_EQ(q->Int(2), kStart);
  }
}

// Each migration is tested from the one before: schema 1 with data in it, then opened by
// this binary, which adds the audit trail and keeps the data.
TEST_F(MigrationTest, FromSchemaOneKeepsTheDataAndAddsTheAuditTrail) {
  {
    auto db = Db();
    ASSERT_TRUE(Migrate(*db, kStart, /*target=*/1).ok());
    auto v = SchemaVersion(*db);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 1);
    auto ins = db->Prepare("INSERT INTO tenants (name, created_at) VALUES (?1, ?2)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, "古い診療所").Bind(2, kStart - 100).Run().ok());
    EXPECT_FALSE(db->TableExists("audit_log").value());
  }
  clock_.Advance(3600);
  auto c = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto tenants = (*c)->ListTenants();
  ASSERT_TRUE(tenants.ok());
  ASSERT_EQ(tenants->size(), 1u);
  EXPECT_EQ((*tenants)[0].name, "古い診療所");
  ASSERT_TRUE((*c)->AddTenant("新しい診療所", TestActor()).ok());
  auto report = (*c)->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records, 1);
  auto db = Db();
  auto q = db->Prepare("SELECT applied_at FROM schema_version WHERE version = 2");
  ASSERT_TRUE(q.ok() && q->Step().value());
  EXPECT_EQ(q->Int(0), kStart + 3600);
}

// Schema 2 with a tenant, a site and a repository an operator registered, then opened by
// this binary: the agent API's tables appear, the data is kept, and the old repository
// row can be bound by the agent's first PUT config.
TEST_F(MigrationTest, FromSchemaTwoKeepsTheDataAndAddsRepositoryObjects) {
  {
    auto db = Db();
    ASSERT_TRUE(Migrate(*db, kStart, /*target=*/2).ok());
    ASSERT_TRUE(
        db->Exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'さくら診療所', 0);"
                 "INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, '本院', 0);"
                 "INSERT INTO repositories (id, site_id, job, created_at) VALUES (1, 1, 'nightly', 0)")
            .ok());
    EXPECT_FALSE(db->TableExists("packs").value());
  }
  auto c = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto tenant = (*c)->FindTenant("さくら診療所");
  ASSERT_TRUE(tenant.ok());
  EXPECT_TRUE(tenant->recovery_public_key.empty());
  std::string repo_id(32, 'a');
  auto bound = (*c)->BindRepository(1, "nightly", repo_id, std::string(64, 'b'), TestActor());
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_TRUE(*bound);
  auto found = (*c)->FindBoundRepository(repo_id);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, 1);  // the operator's row, now bound
  EXPECT_EQ(found->tenant_id, 1);
  auto repos = (*c)->ListRepositories(1);
  ASSERT_TRUE(repos.ok());
  EXPECT_EQ(repos->size(), 1u);
}

// Schema 9 adds the overdue grace: a tenant policy and a site of schema 8 keep their rows
// and have none set (the default applies) until an operator sets one.
TEST_F(MigrationTest, FromSchemaEightKeepsPoliciesAndSitesWithTheDefaultGrace) {
  {
    auto db = Db();
    ASSERT_TRUE(Migrate(*db, kStart, /*target=*/8).ok());
    ASSERT_TRUE(
        db->Exec(
              "INSERT INTO tenants (id, name, created_at) VALUES (1, 'さくら診療所', 0);"
              "INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, '本院', 0);"
              "INSERT INTO tenant_policies (tenant_id, daily_days, monthly_months, manual_last, zone,"
              " soft_quota_bytes, hard_quota_bytes, updated_at) VALUES (1, 5, 2, 1, 'Asia/Tokyo', 10, 20, 0)")
            .ok());
  }
  auto c = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto policy = (*c)->GetTenantPolicy(1);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->retention.daily_days, 5);
  EXPECT_EQ(policy->hard_quota_bytes, 20u);
  EXPECT_FALSE(policy->overdue_grace_hours.has_value());
  auto site = (*c)->GetSite(1);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->name, "本院");
  EXPECT_FALSE(site->overdue_grace_hours.has_value());
  ASSERT_TRUE((*c)->SetSiteOverdueGrace(1, 10, TestActor()).ok());
  EXPECT_EQ((*c)->GetSite(1)->overdue_grace_hours, std::optional<int>(10));
}

TEST_F(MigrationTest, NewerCatalogIsRefusedAndLeftAlone) {
  ASSERT_TRUE(Catalog::Open(path_, clock_, TestOptions()).ok());
  {
    auto db = Db();
    auto ins = db->Prepare(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, 'from the future', 0)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, int64_t{LatestSchemaVersion() + 1}).Run().ok());
  }
  std::string before = kura::testing::ReadFileString(path_);
  SetLanguage(Language::kEnglish);
  auto c = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  SetLanguage(Language::kJapanese);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnsupported);
  EXPECT_NE(c.status().message().find("newer kura-vault"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("update kura-vault"), std::string::npos);
  EXPECT_NE(c.status().message().find(std::to_string(LatestSchemaVersion() + 1)), std::string::npos);
  EXPECT_EQ(kura::testing::ReadFileString(path_), before);
}

TEST_F(MigrationTest, ForeignOrGappedHistoryIsCorruption) {
  ASSERT_TRUE(Catalog::Open(path_, clock_, TestOptions()).ok());
  {
    auto db = Db();
    ASSERT_TRUE(db->Exec("UPDATE schema_version SET name = 'someone else''s' WHERE version = 2").ok());
  }
  auto renamed = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  EXPECT_EQ(renamed.status().code(), Code::kCorruption);
  {
    auto db = Db();
    ASSERT_TRUE(db->Exec("DELETE FROM schema_version WHERE version = 1").ok());
  }
  auto gapped = Catalog::Open(path_, clock_, TestOptions(/*create=*/false));
  EXPECT_EQ(gapped.status().code(), Code::kCorruption);
}

// Two processes opening a new catalog at the same moment: one migrates, the other sees
// the result; nobody applies a migration twice.
TEST_F(MigrationTest, ConcurrentFirstOpensMigrateOnce) {
  std::vector<std::thread> threads;
  std::vector<Status> results(4);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      FakeClock clock(kStart);
      auto c = Catalog::Open(path_, clock, TestOptions());
      results[i] = c.ok() ? Status::Ok() : c.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  auto db = Db();
  auto q = db->Prepare("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(q.ok() && q->Step().value());
  EXPECT_EQ(q->Int(0), LatestSchemaVersion());
}

}  // namespace
}  // namespace kura::vault::testing
