// Pieces shared by the catalog's .cc files; not part of the catalog's contract.
#pragma once

#include <string>
#include <string_view>

#include "util/i18n.h"
#include "vault/catalog.h"

namespace kura::vault {

// Names of tenants, sites and jobs: 1-128 bytes of UTF-8, no control or bidirectional
// control characters, no leading or trailing space. `what` names the kind for the message.
Status CheckName(std::string_view name, std::string_view what_ja, std::string_view what_en);

// A site row: SELECT kSiteColumns FROM sites ..., read by SiteFromRow.
inline constexpr std::string_view kSiteColumns = "id, tenant_id, name, created_at, overdue_grace_hours";
Site SiteFromRow(const SqlStmt& q);

// A condition on `packs p`: scrub has not found it damaged (docs/vault-gc-scrub.md §2).
inline constexpr std::string_view kPackNotDamaged =
    "NOT EXISTS (SELECT 1 FROM scrub_damage d WHERE d.repository_id = p.repository_id"
    " AND d.kind = 'pack' AND d.name = p.name)";

// The audit result for a failed operation: "refused" for authorisation failures.
std::string_view FailureResult(const Status& why);

template <typename T, typename Body>
Result<T> Catalog::AuditedLocked(const AuditActor& actor, std::string_view action, std::string target,
                                 Body body) {
  AuditEvent event{actor, std::string(action), std::move(target), std::string(kAuditSuccess), ""};
  Status failed;
  {
    Result<SqlTxn> txn = SqlTxn::Begin(*db_, SqlTxn::Mode::kWrite);
    if (!txn.ok()) return txn.status();  // nothing could be written, the failure record neither
    Result<T> value = body(*db_, event);
    if (value.ok()) {
      Result<AuditRecord> rec = AppendAuditRecord(*db_, event, NowMs());
      Status st = rec.ok() ? txn->Commit() : rec.status();
      if (st.ok()) return value;
      return st;  // the change is rolled back with its record: nothing to audit
    }
    failed = value.status();
  }  // rolled back here
  AuditFailureLocked(actor, action, event.target, FailureResult(failed), failed);
  return failed;
}

}  // namespace kura::vault
