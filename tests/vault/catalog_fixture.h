// A real catalog file in a temporary directory, a fake clock, a cheap password hash, and
// raw SQLite access for the tests that play the attacker who can write the file.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/repo_testing.h"
#include "util/clock.h"
#include "vault/catalog.h"

namespace kura::vault::testing {

inline constexpr int64_t kStart = 1796169600;  // 2026-12-02T00:00:00Z

// A cheap Argon2id cost: 8 MiB, 1 pass (the real default is 64 MiB, 3 passes).
CatalogOptions TestOptions(bool create = true);

AuditActor TestActor(const std::string& id = "tester");

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest();
  // Opens (another connection to) the catalog file; fails the test on error.
  std::unique_ptr<Catalog> Reopen();
  // Runs SQL on the file with a connection of its own, outside the catalog layer (the
  // attacker's view). Fails the test on error.
  void RawSql(const std::string& sql);
  // The first column of every row `sql` returns, as text, through such a connection.
  std::vector<std::string> RawColumn(const std::string& sql);
  // The audit trail's records, in seq order.
  std::vector<AuditRecord> Records(Catalog& catalog);

  kura::testing::TempDir dir_{"kura-vault"};
  std::string path_;
  FakeClock clock_{kStart};
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace kura::vault::testing
