// The audit trail's export formats for auditors (docs/audit-trail.md "Export").
#pragma once

#include <cstdint>
#include <string>

#include "vault/audit.h"

namespace kura::vault {

// Export formats (docs/audit-trail.md "Export"): CSV as RFC 4180 (CRLF, quoted when
// needed) and JSON lines, both UTF-8, with the same columns.
std::string AuditCsvHeader();
std::string AuditCsvRow(const AuditRecord& record);
std::string AuditJsonLine(const AuditRecord& record);
// "2026-12-01T03:04:05.678Z"
std::string FormatUtcMillis(int64_t at_ms);

}  // namespace kura::vault
