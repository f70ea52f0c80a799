// The catalog's numbered schema migrations (docs/vault-catalog.md, "Migrations").
//
// Migration N turns schema N-1 into schema N. The list only grows: a migration that has
// been released is never edited, renumbered or removed; a change is a new migration. Each
// one runs in its own write transaction together with the row that records it in
// schema_version, so a catalog is always at exactly one version.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "kura/status.h"
#include "vault/sql.h"

namespace kura::vault {

struct Migration {
  int version;            // 1, 2, 3, ... without gaps
  std::string_view name;  // recorded in schema_version; identifies the migration
  std::string_view sql;   // constant DDL/DML, statements separated by ';'
};

// Every migration this binary knows, in order.
std::span<const Migration> Migrations();
// The schema version this binary writes: Migrations().back().version.
int LatestSchemaVersion();

// The version recorded in schema_version (0 for a catalog without one).
Result<int> SchemaVersion(SqlDb& db);

// Brings the catalog to `target` (Default: the latest) by applying, in order, every
// migration it lacks. Safe when several processes open the same new catalog at once (the
// version is read again inside each write transaction).
// Errors: kUnsupported when the catalog is newer than `target` knows (a newer kura-vault
// wrote it; nothing is changed), kCorruption when schema_version has gaps or a version
// whose name differs from this binary's migration of that number, and those of SqlDb.
// REQUIRES: 0 <= target <= LatestSchemaVersion(). `target` below the latest is for tests
// that migrate from an older schema.
Status Migrate(SqlDb& db, int64_t now_unix, int target = -1);

}  // namespace kura::vault
