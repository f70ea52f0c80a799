// The site administrator's approval of restore grants (catalog_grant_approvals.cc,
// docs/vault-api.md §5.3): a grant issued with require_approval redeems only once a tenant
// admin of the site's tenant approved it; a pending or denied grant is refused without
// being used up; the vendor's operators and other tenants' admins cannot decide; one
// decision per grant; every decision and refusal is audited.
#include <gtest/gtest.h>

#include "vault/catalog_fixture.h"
#include "vault/migrations.h"

namespace kura::vault::testing {
namespace {

class GrantApprovalTest : public CatalogTest {
 protected:
  void SetUp() override {
    auto t = catalog_->AddTenant("さくら診療所", TestActor());
    auto other = catalog_->AddTenant("あおば介護", TestActor());
    ASSERT_TRUE(t.ok() && other.ok());
    tenant_ = t->id;
    auto site = catalog_->AddSite(t->id, "本院", TestActor());
    ASSERT_TRUE(site.ok());
    site_ = site->id;
    ASSERT_TRUE(
        catalog_->BindRepository(site_, "care", std::string(32, 'a'), std::string(64, 'c'), TestActor())
            .ok());
    auto repo = catalog_->FindBoundRepository(std::string(32, 'a'));
    ASSERT_TRUE(repo.ok());
    SnapshotRecord s;
    s.name = snapshot_;
    s.kind = "daily";
    s.client_time = kStart;
    s.received_at_ms = clock_.NowUnixMillis();
    ASSERT_TRUE(catalog_->RecordSnapshot(repo->id, s, TestActor()).ok());
    admin_ = Account("yamada.admin", OperatorRole::kTenantAdmin, tenant_);
    other_admin_ = Account("aoba.admin", OperatorRole::kTenantAdmin, other->id);
    vendor_ = Account("sato.vendor", OperatorRole::kOperator, std::nullopt);
  }
  OperatorAccount Account(const std::string& login, OperatorRole role, std::optional<int64_t> tenant) {
    NewOperator n;
    n.login = login;
    n.role = role;
    n.tenant_id = tenant;
    n.must_change_password = false;
    auto a = catalog_->AddOperator(n, "correct horse battery", TestActor());
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : OperatorAccount{};
  }
  IssuedGrant Issue(bool require_approval) {
    auto g = catalog_->IssueGrant(site_, snapshot_.substr(0, 10), "依頼 #7", 3600, TestActor("sato.vendor"),
                                  require_approval);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : IssuedGrant{};
  }
  size_t Audited(const std::string& action, const std::string& result) {
    size_t n = 0;
    for (const AuditRecord& r : Records(*catalog_)) {
      if (r.event.action == action && r.event.result == result) ++n;
    }
    return n;
  }

  std::string snapshot_ = std::string(64, '7');
  int64_t tenant_ = 0, site_ = 0;
  OperatorAccount admin_, other_admin_, vendor_;
};

// G-ACL-07, G-ACL-06, G-AUD-01: pending → refused (not used up); the vendor's operator and
// another tenant's admin cannot approve; the site's tenant admin approves; then it redeems
// once.
TEST_F(GrantApprovalTest, AnApprovedGrantRedeemsAndAPendingOneIsRefusedWithoutBeingUsed) {
  IssuedGrant g = Issue(true);
  std::string refusal;
  auto pending = catalog_->RedeemGrant(g.token, TestActor("vendor-pc"), &refusal);
  EXPECT_EQ(pending.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(refusal, "grant_not_approved");
  EXPECT_EQ(catalog_->DecideGrant(g.id, true, "", vendor_, TestActor()).code(), Code::kPermissionDenied);
  EXPECT_EQ(catalog_->DecideGrant(g.id, true, "", other_admin_, TestActor()).code(), Code::kPermissionDenied);
  EXPECT_EQ(catalog_->DecideGrant(g.id + 99, true, "", admin_, TestActor()).code(), Code::kNotFound);
  ASSERT_TRUE(catalog_->DecideGrant(g.id, true, "電話で確認済み", admin_, TestActor("yamada.admin")).ok());
  EXPECT_EQ(catalog_->DecideGrant(g.id, false, "やっぱり", admin_, TestActor()).code(), Code::kAlreadyExists);

  refusal.clear();
  auto session = catalog_->RedeemGrant(g.token, TestActor("vendor-pc"), &refusal);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(session->snapshot, snapshot_);
  EXPECT_EQ(catalog_->RedeemGrant(g.token, TestActor("vendor-pc"), &refusal).status().code(),
            Code::kPermissionDenied);
  EXPECT_EQ(refusal, "grant_used");

  auto list = catalog_->ListGrants(tenant_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE((*list)[0].requires_approval);
  EXPECT_EQ((*list)[0].decision, "approved");
  EXPECT_EQ((*list)[0].decided_by, "yamada.admin");
  EXPECT_EQ((*list)[0].reason, "電話で確認済み");
  EXPECT_TRUE((*list)[0].redeemed_at.has_value());
  EXPECT_EQ(catalog_->ListGrants(other_admin_.tenant_id)->size(), 0u);

  EXPECT_EQ(Audited("grant.approve", "success"), 1u);
  EXPECT_EQ(Audited("grant.approve", "refused"), 2u);  // the vendor, the other tenant's admin
  EXPECT_EQ(Audited("grant.redeem", "refused"), 2u);   // pending, then used
  EXPECT_EQ(Audited("grant.redeem", "success"), 1u);
}

// G-ACL-07: a denied grant never redeems; denying needs a reason; a grant that needs no
// approval cannot be decided on and redeems as before.
TEST_F(GrantApprovalTest, ADeniedGrantNeverRedeemsAndOrdinaryGrantsAreUnchanged) {
  IssuedGrant g = Issue(true);
  EXPECT_EQ(catalog_->DecideGrant(g.id, false, "", admin_, TestActor()).code(), Code::kInvalidArgument);
  ASSERT_TRUE(catalog_->DecideGrant(g.id, false, "依頼の覚えがない", admin_, TestActor()).ok());
  std::string refusal;
  auto denied = catalog_->RedeemGrant(g.token, TestActor(), &refusal);
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(refusal, "grant_not_approved");
  EXPECT_NE(denied.status().message().find("却下"), std::string::npos) << denied.status().message();
  EXPECT_EQ(catalog_->DecideGrant(g.id, true, "", admin_, TestActor()).code(), Code::kAlreadyExists);
  EXPECT_EQ(Audited("grant.deny", "success"), 1u);

  IssuedGrant plain = Issue(false);
  EXPECT_EQ(catalog_->DecideGrant(plain.id, true, "", admin_, TestActor()).code(), Code::kInvalidArgument);
  EXPECT_TRUE(catalog_->RedeemGrant(plain.token, TestActor()).ok());

  IssuedGrant late = Issue(true);
  clock_.Advance(3601);
  EXPECT_EQ(catalog_->DecideGrant(late.id, true, "", admin_, TestActor()).code(), Code::kInvalidArgument);
  EXPECT_EQ(catalog_->RedeemGrant(late.token, TestActor()).status().code(), Code::kUnauthorized);
}

// Migration 7 (grant approvals) from schema 6: grants issued before need no approval.
TEST(GrantApprovalMigrationTest, GrantsFromBeforeNeedNoApproval) {
  kura::testing::TempDir dir("kura-vault-migr");
  const std::string path = dir.Sub("catalog.db");
  {
    auto db = SqlDb::OpenSqlite(path, 10000);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(**db, kStart, /*target=*/6).ok());
    ASSERT_TRUE(
        (*db)
            ->Exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'さくら診療所', 0);"
                   "INSERT INTO sites (id, tenant_id, name, created_at) VALUES (1, 1, '本院', 0);"
                   "INSERT INTO repositories (id, site_id, job, created_at) VALUES (1, 1, 'care', 0);"
                   "INSERT INTO grants (repository_id, snapshot, purpose, selector, secret_hash,"
                   " issued_by, created_at, expires_at) VALUES (1, 'ab', 'old', 's', x'00', 'x', 0, 9)")
            .ok());
  }
  FakeClock clock(kStart);
  auto c = Catalog::Open(path, clock, TestOptions(/*create=*/false));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->schema_version(), LatestSchemaVersion());
  auto list = (*c)->ListGrants();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE((*list)[0].requires_approval);
  EXPECT_EQ((*list)[0].decision, "");
}

}  // namespace
}  // namespace kura::vault::testing
