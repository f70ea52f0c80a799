// [gc] and [scrub] in vault.toml (docs/vault-config.md): defaults, values, ranges, and
// misspelt keys refused.
#include <gtest/gtest.h>

#include "vault/config.h"

namespace kura::vault {
namespace {

TEST(GcConfigTest, DefaultsValuesRangesAndUnknownKeys) {
  auto defaults = ParseVaultConfig(DefaultVaultToml(), "vault.toml", "/srv/vault");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->gc_scrub.gc_grace_days, 7);
  EXPECT_EQ(defaults->gc_scrub.gc_upload_lease_seconds, 21600);
  EXPECT_EQ(defaults->gc_scrub.scrub_budget_seconds, 600);
  EXPECT_EQ(defaults->gc_scrub.scrub_period_days, 30);

  auto set = ParseVaultConfig(
      "version = 1\n[gc]\ngrace_days = 0\nupload_lease_seconds = 60\n[scrub]\nbudget_seconds = 30\n"
      "period_days = 7\n",
      "vault.toml", "/srv/vault");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->gc_scrub.gc_grace_days, 0);
  EXPECT_EQ(set->gc_scrub.gc_upload_lease_seconds, 60);
  EXPECT_EQ(set->gc_scrub.scrub_budget_seconds, 30);
  EXPECT_EQ(set->gc_scrub.scrub_period_days, 7);

  auto range = ParseVaultConfig("version = 1\n[scrub]\nperiod_days = 0\n", "vault.toml", "/srv/vault");
  EXPECT_EQ(range.status().code(), Code::kInvalidArgument);
  EXPECT_NE(range.status().message().find("period_days"), std::string::npos);
  auto typo = ParseVaultConfig("version = 1\n[gc]\ngrace_day = 3\n", "vault.toml", "/srv/vault");
  EXPECT_EQ(typo.status().code(), Code::kInvalidArgument);
  EXPECT_NE(typo.status().message().find("grace_day"), std::string::npos);
}

}  // namespace
}  // namespace kura::vault
