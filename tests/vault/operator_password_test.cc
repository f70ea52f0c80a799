// Changing an operator's password (Catalog::ChangeOperatorPassword, `kura-vault operator
// passwd`): the one-time password of a new account must be replaced before the account may
// do anything (G-AUTH-02), only by someone who knows the current one, never by a weak one,
// and every attempt is on record (G-AUD-01).
#include <gtest/gtest.h>

#include "vault/catalog_fixture.h"
#include "vault/password.h"

namespace kura::vault::testing {
namespace {

using OperatorPasswordTest = CatalogTest;

TEST_F(OperatorPasswordTest, TheOneTimePasswordIsReplacedOnlyWithTheCurrentOneAndAStrongNewOne) {
  auto tenant = catalog_->AddTenant("さくら診療所", TestActor());
  ASSERT_TRUE(tenant.ok());
  NewOperator admin;
  admin.login = "yamada.hanako";
  admin.role = OperatorRole::kTenantAdmin;
  admin.tenant_id = tenant->id;
  std::string initial = RandomInitialPassword();
  ASSERT_TRUE(catalog_->AddOperator(admin, initial, TestActor()).ok());

  Status wrong = catalog_->ChangeOperatorPassword("yamada.hanako", "not the password",
                                                  "新しい長いパスワード 2026", TestActor());
  EXPECT_EQ(wrong.code(), Code::kUnauthorized) << wrong.ToString();
  Status weak = catalog_->ChangeOperatorPassword("yamada.hanako", initial, "short", TestActor());
  EXPECT_EQ(weak.code(), Code::kInvalidArgument) << weak.ToString();
  Status same = catalog_->ChangeOperatorPassword("yamada.hanako", initial, initial, TestActor());
  EXPECT_EQ(same.code(), Code::kInvalidArgument) << same.ToString();
  auto still = catalog_->CheckOperatorLogin("yamada.hanako", initial, TestActor());
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(still->must_change_password) << "a refused change changed something";

  ASSERT_TRUE(
      catalog_->ChangeOperatorPassword("yamada.hanako", initial, "新しい長いパスワード 2026", TestActor())
          .ok());
  EXPECT_EQ(catalog_->CheckOperatorLogin("yamada.hanako", initial, TestActor()).status().code(),
            Code::kUnauthorized);
  auto now = catalog_->CheckOperatorLogin("yamada.hanako", "新しい長いパスワード 2026", TestActor());
  ASSERT_TRUE(now.ok());
  EXPECT_FALSE(now->must_change_password);

  size_t changed = 0, failed = 0;
  for (const AuditRecord& r : Records(*catalog_)) {
    if (r.event.action != "operator.password") continue;
    (r.event.result == kAuditSuccess ? changed : failed) += 1;
    EXPECT_EQ(r.event.detail.find("長いパスワード 2026"), std::string::npos)
        << "a password reached the audit trail";
    EXPECT_EQ(r.event.detail.find(initial), std::string::npos) << "a password reached the audit trail";
  }
  EXPECT_EQ(changed, 1u);
  EXPECT_EQ(failed, 2u);  // weak and same; the wrong one is an operator.login refusal
}

}  // namespace
}  // namespace kura::vault::testing
