#include <sqlite3.h>

#include <limits>

#include "vault/catalog_fixture.h"

namespace kura::vault::testing {

CatalogOptions TestOptions(bool create) {
  CatalogOptions o;
  o.create = create;
  o.password_cost.mem_limit = 8u << 20;
  o.password_cost.ops_limit = 1;
  return o;
}

AuditActor TestActor(const std::string& id) {
  return AuditActor{"operator", id, "192.0.2.7", "", "pts/3"};
}

CatalogTest::CatalogTest() : path_(dir_.Sub("catalog.db")) {
  catalog_ = Reopen();
}

std::unique_ptr<Catalog> CatalogTest::Reopen() {
  auto c = Catalog::Open(path_, clock_, TestOptions());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

void CatalogTest::RawSql(const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::vector<std::string> CatalogTest::RawColumn(const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::vector<AuditRecord> CatalogTest::Records(Catalog& catalog) {
  std::vector<AuditRecord> out;
  Status st = catalog.ForEachAudit(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                                   [&](const AuditRecord& r) {
                                     out.push_back(r);
                                     return Status::Ok();
                                   });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

}  // namespace kura::vault::testing
