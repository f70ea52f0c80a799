// The vault's audit trail: an append-only, hash-chained record of every security-relevant
// event (docs/audit-trail.md, encoding version kAuditEncodingVersion).
//
// Each record carries the SHA-256 of the previous record's canonical encoding, and the
// catalog keeps an anchor (record count and head hash) that every append updates in the
// same transaction, so an edit, a removal, an insertion, a reordering or a cut-off tail is
// found by AuditChainChecker. What the chain does not protect against (someone who can
// write the catalog and rewrites the whole chain and the anchor) is said in the spec.
//
// Records are written through Catalog (vault/catalog.h), which appends a record in the
// same transaction as the change it describes. The functions here that take a SqlDb are
// the catalog's building blocks; nothing else calls them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/crypto.h"
#include "kura/status.h"
#include "util/bytes.h"
#include "vault/sql.h"

namespace kura::vault {

// docs/audit-trail.md "Canonical encoding".
inline constexpr uint8_t kAuditEncodingVersion = 1;
inline constexpr std::string_view kAuditMagic = "kura-audit";

// Longest stored value of a field, in bytes; a longer one is cut at a character boundary
// and ends in "…" (an attacker's 1 MiB header must not bloat the trail).
inline constexpr size_t kAuditMaxField = 1024;
inline constexpr size_t kAuditMaxDetail = 8192;

// Who acted, and from where.
struct AuditActor {
  std::string kind;       // "operator", "site", "os_user", "system"
  std::string id;         // operator login, site credential ID, "root (uid 0)", ...
  std::string source_ip;  // peer address, "local" for the console
  std::string site;       // the site the request came from, if any
  std::string terminal;   // tty or user agent, if known
};

inline constexpr std::string_view kAuditSuccess = "success";
inline constexpr std::string_view kAuditFailure = "failure";
inline constexpr std::string_view kAuditRefused = "refused";

struct AuditEvent {
  AuditActor actor;
  std::string action;  // "tenant.add", "enrolment.redeem", "audit.verify", ...
  std::string target;  // what was acted on: "tenant:さくら診療所", "site:12", ...
  std::string result;  // kAuditSuccess, kAuditFailure or kAuditRefused
  std::string detail;  // free text: the error, the counts, ...
};

struct AuditRecord {
  int64_t seq = 0;    // 1, 2, 3, ... without gaps
  int64_t at_ms = 0;  // Clock::NowUnixMillis() of the appending connection
  AuditEvent event;
  crypto::Hash prev_hash{};  // AuditRecordHash of record seq-1; zeros for seq 1
  crypto::Hash hash{};       // AuditRecordHash of this record
};

// Every field as it is stored: invalid UTF-8 and control characters escaped
// (util/text.h EscapeText, newlines too), cut to kAuditMaxField / kAuditMaxDetail.
AuditEvent NormalizeAuditEvent(const AuditEvent& event);

// The canonical encoding of a record (every field but `hash`), and its SHA-256.
Bytes AuditCanonicalEncoding(const AuditRecord& record);
crypto::Hash AuditRecordHash(const AuditRecord& record);

// The anchor: how many records the trail holds and the hash of the last one (zeros when
// empty).
struct AuditAnchor {
  int64_t count = 0;
  crypto::Hash head{};
};

enum class AuditProblem {
  kNone,
  kEdited,          // a record's fields do not match its hash
  kBrokenLink,      // a record's prev_hash is not the previous record's hash
  kMissing,         // a sequence number is missing (a removed record) or out of order
  kExtra,           // more records than the anchor counts (an inserted record)
  kTruncated,       // fewer records than the anchor counts (the tail was cut off)
  kAnchorMismatch,  // the count matches but the anchor's head hash does not
  kRewritten,       // a head recorded earlier (outside the vault) is no longer in the chain
};
// Stable name for --json ("edited", "broken_link", ...).
const char* AuditProblemName(AuditProblem problem);

struct AuditVerifyReport {
  int64_t records = 0;  // records read
  AuditProblem problem = AuditProblem::kNone;
  int64_t first_bad_seq = 0;  // the first record that cannot be trusted (0 when ok)
  AuditAnchor anchor;         // as stored
  crypto::Hash head{};        // hash of the last good record read
  bool ok() const { return problem == AuditProblem::kNone; }
  // What was found and what to do, in the user's language.
  std::string Message() const;
};

// Checks records fed in storage order against each other and, at the end, the anchor.
// Stops judging at the first problem (later records are counted, not judged).
class AuditChainChecker {
 public:
  // Also checks that record `head.count` still has hash `head.head`: a head an auditor
  // wrote down earlier (`kura-vault audit verify` prints it) catches a rewrite of the
  // whole chain and the anchor, which nothing inside the catalog can.
  void ExpectHead(const AuditAnchor& head) { expect_ = head; }
  void Feed(const AuditRecord& record);
  AuditVerifyReport Finish(const AuditAnchor& anchor);

 private:
  void Fail(AuditProblem problem, int64_t seq);
  AuditVerifyReport report_;
  std::optional<AuditAnchor> expect_;
  bool expect_seen_ = false;
  int64_t expect_seq_ = 1;
  crypto::Hash prev_{};
};

// Appends one record: seq and prev_hash from the anchor, which is updated to it.
// REQUIRES: a write transaction is open on `db` (SqlTxn::Mode::kWrite).
Result<AuditRecord> AppendAuditRecord(SqlDb& db, const AuditEvent& event, int64_t at_ms);

// Reads the whole trail in seq order through AuditChainChecker (with ExpectHead when
// `expect` is given). REQUIRES: a transaction is open on `db`, so the trail and the
// anchor agree.
Result<AuditVerifyReport> VerifyAuditTrail(SqlDb& db,
                                           const std::optional<AuditAnchor>& expect = std::nullopt);

// "17:9f86d0...": a head as `audit verify` prints it and --expect-head reads it.
std::string FormatAuditHead(const AuditAnchor& head);
std::optional<AuditAnchor> ParseAuditHead(std::string_view text);

// Calls `fn` for each record with from_ms <= at_ms < to_ms, in seq order; stops at the
// first error `fn` returns. REQUIRES: a transaction is open on `db`.
Status ForEachAuditRecord(SqlDb& db, int64_t from_ms, int64_t to_ms,
                          const std::function<Status(const AuditRecord&)>& fn);

}  // namespace kura::vault
