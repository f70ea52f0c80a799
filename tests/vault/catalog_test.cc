// The catalog as the vault's operators and sites meet it: tenants, sites, repositories,
// accounts, enrolment and credentials, each change with its audit record (G-AUD-01).
#include "vault/catalog.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "util/i18n.h"
#include "vault/catalog_fixture.h"
#include "vault/password.h"

namespace kura::vault::testing {
namespace {

class CatalogApiTest : public CatalogTest {};

TEST_F(CatalogApiTest, MissingCatalogIsNotFoundUnlessCreating) {
  auto c = Catalog::Open(dir_.Sub("nope.db"), clock_, TestOptions(/*create=*/false));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_NE(c.status().message().find("kura-vault init"), std::string::npos);
  EXPECT_FALSE(kura::testing::Exists(dir_.Sub("nope.db")));
}

TEST_F(CatalogApiTest, CatalogFileIsPrivate) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CatalogApiTest, ForeignSqliteFileIsRefused) {
  std::string other = dir_.Sub("other.db");
  kura::testing::WriteFile(other, std::string());
  auto c = Catalog::Open(other, clock_, TestOptions(/*create=*/false));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
}

TEST_F(CatalogApiTest, TenantsAreAddedListedAndUnique) {
  auto a = catalog_->AddTenant("さくら診療所", TestActor());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  clock_.Advance(60);
  auto b = catalog_->AddTenant("Aoba Care, Inc.", TestActor());
  ASSERT_TRUE(b.ok());
  auto dup = catalog_->AddTenant("さくら診療所", TestActor());
  EXPECT_EQ(dup.status().code(), Code::kAlreadyExists);
  EXPECT_NE(dup.status().message().find("さくら診療所"), std::string::npos);

  auto list = Reopen()->ListTenants();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "さくら診療所");
  EXPECT_EQ((*list)[0].created_at, kStart);
  EXPECT_EQ((*list)[1].name, "Aoba Care, Inc.");
  EXPECT_EQ((*list)[1].created_at, kStart + 60);
  auto found = catalog_->FindTenant("Aoba Care, Inc.");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, b->id);
  EXPECT_EQ(catalog_->FindTenant("nobody").status().code(), Code::kNotFound);
}

TEST_F(CatalogApiTest, BadNamesAreRefusedWithAReason) {
  for (std::string bad : {std::string(), std::string(" padded"), std::string("tab\there"),
                          std::string("esc\x1b[2J"), std::string("\xff\xfe"), std::string(129, 'x')}) {
    auto t = catalog_->AddTenant(bad, TestActor());
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(t.status().message().find('\x1b'), std::string::npos);
  }
  EXPECT_TRUE(catalog_->AddTenant(std::string(128, 'x'), TestActor()).ok());
}

TEST_F(CatalogApiTest, SitesAndRepositoriesBelongToTheirParent) {
  auto t = catalog_->AddTenant("t1", TestActor());
  ASSERT_TRUE(t.ok());
  auto s = catalog_->AddSite(t->id, "本院", TestActor());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(catalog_->AddSite(t->id, "本院", TestActor()).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(catalog_->AddSite(t->id + 100, "x", TestActor()).status().code(), Code::kNotFound);
  auto t2 = catalog_->AddTenant("t2", TestActor());
  ASSERT_TRUE(t2.ok());
  EXPECT_TRUE(catalog_->AddSite(t2->id, "本院", TestActor()).ok());  // same name, other tenant

  auto r1 = catalog_->AddRepository(s->id, "karte-db", TestActor());
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(catalog_->AddRepository(s->id, "files", TestActor()).ok());
  EXPECT_EQ(catalog_->AddRepository(s->id, "karte-db", TestActor()).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(catalog_->AddRepository(s->id + 100, "x", TestActor()).status().code(), Code::kNotFound);
  auto repos = catalog_->ListRepositories(s->id);
  ASSERT_TRUE(repos.ok());
  ASSERT_EQ(repos->size(), 2u);
  EXPECT_EQ((*repos)[0].job, "karte-db");
  auto sites = catalog_->ListSites(t->id);
  ASSERT_TRUE(sites.ok());
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].name, "本院");
}

// G-AUD-01: each change writes exactly one record, in its own transaction's order, with
// who, from where, when, what and the result; a refused change writes a failure record.
TEST_F(CatalogApiTest, EveryChangeAndEveryFailureIsAudited) {
  auto t = catalog_->AddTenant("t1", TestActor("alice"));
  ASSERT_TRUE(t.ok());
  clock_.Advance(5);
  ASSERT_FALSE(catalog_->AddTenant("t1", TestActor("bob")).ok());
  clock_.Advance(5);
  ASSERT_TRUE(catalog_->AddSite(t->id, "s1", TestActor("alice")).ok());
  auto records = Records(*catalog_);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].event.action, "tenant.add");
  EXPECT_EQ(records[0].event.actor.id, "alice");
  EXPECT_EQ(records[0].event.actor.source_ip, "192.0.2.7");
  EXPECT_EQ(records[0].event.actor.terminal, "pts/3");
  EXPECT_EQ(records[0].event.target, "tenant:t1");
  EXPECT_EQ(records[0].event.result, "success");
  EXPECT_EQ(records[0].at_ms, kStart * 1000);
  EXPECT_EQ(records[1].event.actor.id, "bob");
  EXPECT_EQ(records[1].event.result, "failure");
  EXPECT_NE(records[1].event.detail.find("already_exists"), std::string::npos);
  EXPECT_EQ(records[1].at_ms, (kStart + 5) * 1000);
  EXPECT_EQ(records[2].event.action, "site.add");
  EXPECT_EQ(records[2].seq, 3);
  auto report = catalog_->VerifyAudit();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->Message();
}

// G-AUTH-13: no plaintext; the same password gives different salted hashes that each
// verify with Argon2id.
TEST_F(CatalogApiTest, OperatorPasswordsAreStoredOnlyAsSaltedArgon2id) {
  const std::string password = "Kura-pass-2026!";
  NewOperator a{"alice", OperatorRole::kOperator, std::nullopt, true};
  NewOperator b{"bob", OperatorRole::kOperator, std::nullopt, true};
  ASSERT_TRUE(catalog_->AddOperator(a, password, TestActor()).ok());
  ASSERT_TRUE(catalog_->AddOperator(b, password, TestActor()).ok());
  catalog_.reset();
  std::string file = kura::testing::ReadFileString(path_);
  std::string wal =
      kura::testing::Exists(path_ + "-wal") ? kura::testing::ReadFileString(path_ + "-wal") : "";
  EXPECT_EQ(file.find(password), std::string::npos);
  EXPECT_EQ(wal.find(password), std::string::npos);
  std::vector<std::string> hashes = RawColumn("SELECT password_hash FROM operators ORDER BY id");
  ASSERT_EQ(hashes.size(), 2u);
  EXPECT_NE(hashes[0], hashes[1]);
  for (const std::string& h : hashes) {
    EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
    EXPECT_TRUE(CheckPassword(h, password));
    EXPECT_FALSE(CheckPassword(h, "Kura-pass-2026?"));
  }
  catalog_ = Reopen();
  auto ok_a = catalog_->CheckOperatorLogin("alice", password, TestActor());
  ASSERT_TRUE(ok_a.ok()) << ok_a.status().ToString();
  EXPECT_TRUE(ok_a->must_change_password);
}

TEST_F(CatalogApiTest, LoginFailuresLookAlikeAndAreAuditedAsRefused) {
  NewOperator a{"alice", OperatorRole::kOperator, std::nullopt, false};
  ASSERT_TRUE(catalog_->AddOperator(a, "Correct-horse-1", TestActor()).ok());
  auto wrong = catalog_->CheckOperatorLogin("alice", "wrong-password", TestActor("console"));
  auto unknown = catalog_->CheckOperatorLogin("mallory", "Correct-horse-1", TestActor("console"));
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnauthorized);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  clock_.Advance(30);
  auto good = catalog_->CheckOperatorLogin("alice", "Correct-horse-1", TestActor("console"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->last_login_at, kStart + 30);
  auto records = Records(*catalog_);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].event.action, "operator.login");
  EXPECT_EQ(records[1].event.result, "refused");
  EXPECT_EQ(records[2].event.target, "operator:mallory");
  EXPECT_EQ(records[2].event.result, "refused");
  EXPECT_EQ(records[3].event.result, "success");
  for (const AuditRecord& r : records) {
    EXPECT_EQ(r.event.detail.find("Correct-horse-1"), std::string::npos);
    EXPECT_EQ(r.event.detail.find("wrong-password"), std::string::npos);
  }
}

TEST_F(CatalogApiTest, OperatorRolesAndLoginsAreChecked) {
  auto t = catalog_->AddTenant("t1", TestActor());
  ASSERT_TRUE(t.ok());
  NewOperator admin{"clinic-admin", OperatorRole::kTenantAdmin, t->id, true};
  auto a = catalog_->AddOperator(admin, "Initial-pass-1", TestActor());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->tenant_id, t->id);
  NewOperator no_tenant{"x-admin", OperatorRole::kTenantAdmin, std::nullopt, true};
  EXPECT_EQ(catalog_->AddOperator(no_tenant, "Initial-pass-1", TestActor()).status().code(),
            Code::kInvalidArgument);
  NewOperator op_with_tenant{"op", OperatorRole::kOperator, t->id, true};
  EXPECT_EQ(catalog_->AddOperator(op_with_tenant, "Initial-pass-1", TestActor()).status().code(),
            Code::kInvalidArgument);
  NewOperator bad_login{"Alice Smith", OperatorRole::kOperator, std::nullopt, true};
  EXPECT_EQ(catalog_->AddOperator(bad_login, "Initial-pass-1", TestActor()).status().code(),
            Code::kInvalidArgument);
  NewOperator short_pw{"bob", OperatorRole::kOperator, std::nullopt, true};
  EXPECT_EQ(catalog_->AddOperator(short_pw, "short", TestActor()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(catalog_->AddOperator(admin, "Initial-pass-1", TestActor()).status().code(),
            Code::kAlreadyExists);
  auto list = catalog_->ListOperators();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].role, OperatorRole::kTenantAdmin);
  EXPECT_FALSE((*list)[0].has_second_factor);
}

class EnrolmentTest : public CatalogTest {
 protected:
  void SetUp() override {
    auto t = catalog_->AddTenant("t1", TestActor());
    ASSERT_TRUE(t.ok());
    tenant_ = t->id;
    auto s = catalog_->AddSite(tenant_, "site-a", TestActor());
    ASSERT_TRUE(s.ok());
    site_ = s->id;
  }
  int64_t tenant_ = 0, site_ = 0;
};

TEST_F(EnrolmentTest, CodeIsRedeemedOnceForAnAppendCredential) {
  auto code = catalog_->IssueEnrolment(site_, 3600, TestActor());
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(code->expires_at, kStart + 3600);
  EXPECT_EQ(code->code.size(), 32u);
  auto cred = catalog_->RedeemEnrolment(code->code, AuditActor{"site", "", "198.51.100.4", "", ""});
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  EXPECT_EQ(cred->site_id, site_);
  EXPECT_EQ(cred->tenant_id, tenant_);
  auto again = catalog_->RedeemEnrolment(code->code, TestActor());
  EXPECT_EQ(again.status().code(), Code::kUnauthorized);
  EXPECT_NE(again.status().message().find(L("すでに使われて", "already used")), std::string::npos);

  auto who = catalog_->AuthenticateSite(cred->token, TestActor());
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->site_id, site_);
  EXPECT_EQ(who->tenant_id, tenant_);
  EXPECT_EQ(who->scope, "append");
  EXPECT_EQ(who->credential_id, cred->id);

  // Neither the code's nor the token's secret is in the file or the audit trail.
  catalog_.reset();
  std::string secret = cred->token.substr(cred->token.rfind('_') + 1);
  std::string code_secret = code->code;
  for (const std::string& f : {path_, path_ + "-wal"}) {
    if (!kura::testing::Exists(f)) continue;
    std::string bytes = kura::testing::ReadFileString(f);
    EXPECT_EQ(bytes.find(secret), std::string::npos);
    EXPECT_EQ(bytes.find(code_secret), std::string::npos);
  }
  catalog_ = Reopen();
  for (const AuditRecord& r : Records(*catalog_)) {
    EXPECT_EQ(r.event.detail.find(secret), std::string::npos);
    EXPECT_EQ(r.event.detail.find(code_secret), std::string::npos);
  }
}

TEST_F(EnrolmentTest, ExpiredForgedAndMalformedCodesAreRefusedAndAudited) {
  auto code = catalog_->IssueEnrolment(site_, 600, TestActor());
  ASSERT_TRUE(code.ok());
  std::string forged = code->code;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(catalog_->RedeemEnrolment(forged, TestActor()).status().code(), Code::kUnauthorized);
  EXPECT_EQ(catalog_->RedeemEnrolment("kve1.nonsense", TestActor()).status().code(), Code::kUnauthorized);
  clock_.Advance(600);
  auto late = catalog_->RedeemEnrolment(code->code, TestActor());
  EXPECT_EQ(late.status().code(), Code::kUnauthorized);
  EXPECT_NE(late.status().message().find("2026-12-02T00:10:00Z"), std::string::npos);
  EXPECT_EQ(catalog_->IssueEnrolment(site_, 0, TestActor()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(catalog_->IssueEnrolment(site_ + 9, 60, TestActor()).status().code(), Code::kNotFound);
  int refused = 0;
  for (const AuditRecord& r : Records(*catalog_)) {
    if (r.event.action == "enrolment.redeem") {
      EXPECT_EQ(r.event.result, "refused");
      ++refused;
    }
  }
  EXPECT_EQ(refused, 3);
}

TEST_F(EnrolmentTest, ForgedMalformedAndRevokedTokensAreRefused) {
  auto code = catalog_->IssueEnrolment(site_, 3600, TestActor());
  ASSERT_TRUE(code.ok());
  auto cred = catalog_->RedeemEnrolment(code->code, TestActor());
  ASSERT_TRUE(cred.ok());
  std::string forged = cred->token;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'a' ? 'b' : 'a';
  EXPECT_EQ(catalog_->AuthenticateSite(forged, TestActor()).status().code(), Code::kUnauthorized);
  EXPECT_EQ(catalog_->AuthenticateSite(code->code, TestActor()).status().code(), Code::kUnauthorized);
  std::string upper = cred->token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(catalog_->AuthenticateSite(upper, TestActor()).status().code(), Code::kUnauthorized);
  ASSERT_TRUE(catalog_->RevokeCredential(cred->id, TestActor()).ok());
  auto revoked = catalog_->AuthenticateSite(cred->token, TestActor());
  EXPECT_EQ(revoked.status().code(), Code::kUnauthorized);
  EXPECT_EQ(revoked.status().message().find(cred->token), std::string::npos);
  EXPECT_EQ(catalog_->RevokeCredential(cred->id + 50, TestActor()).code(), Code::kNotFound);
  int refused = 0;
  for (const AuditRecord& r : Records(*catalog_)) {
    if (r.event.action == "credential.check") ++refused;
  }
  EXPECT_EQ(refused, 4);
}

}  // namespace
}  // namespace kura::vault::testing
