#include "vault/audit.h"

#include "util/clock.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/text.h"

namespace kura::vault {

namespace {

// Cuts valid UTF-8 to at most `max` bytes at a character boundary, marking the cut.
std::string Cut(std::string text, size_t max) {
  if (text.size() <= max) return text;
  static constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …
  size_t end = max - kEllipsis.size();
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  text += kEllipsis;
  return text;
}

std::string Clean(std::string_view text, size_t max) {
  return Cut(EscapeText(text, /*keep_newlines=*/false), max);
}

void PutField(Bytes& out, std::string_view field) {
  PutU32(out, static_cast<uint32_t>(field.size()));
  Append(out, AsBytes(field));
}

crypto::Hash HashFromBlob(const Bytes& blob) {
  crypto::Hash h{};
  if (blob.size() == h.size()) std::copy(blob.begin(), blob.end(), h.begin());
  return h;
}

// Whole constant statements (no SQL is assembled at run time); the columns are the ones
// ReadRecord reads, in its order.
constexpr std::string_view kSelectTrail =
    "SELECT seq, at_ms, actor_kind, actor_id, source_ip, site, terminal, action, target, result, detail,"
    " prev_hash, hash FROM audit_log ORDER BY seq";
constexpr std::string_view kSelectPeriod =
    "SELECT seq, at_ms, actor_kind, actor_id, source_ip, site, terminal, action, target, result, detail,"
    " prev_hash, hash FROM audit_log WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY seq";

AuditRecord ReadRecord(const SqlStmt& q) {
  AuditRecord r;
  r.seq = q.Int(0);
  r.at_ms = q.Int(1);
  r.event.actor.kind = q.Text(2);
  r.event.actor.id = q.Text(3);
  r.event.actor.source_ip = q.Text(4);
  r.event.actor.site = q.Text(5);
  r.event.actor.terminal = q.Text(6);
  r.event.action = q.Text(7);
  r.event.target = q.Text(8);
  r.event.result = q.Text(9);
  r.event.detail = q.Text(10);
  // A blob of the wrong length (an edit) becomes a hash that matches nothing.
  Bytes prev = q.Blob(11), hash = q.Blob(12);
  r.prev_hash = HashFromBlob(prev);
  r.hash = HashFromBlob(hash);
  if (prev.size() != r.prev_hash.size()) r.prev_hash[0] ^= 0xff;
  if (hash.size() != r.hash.size()) r.hash[0] ^= 0xff;
  return r;
}

Result<AuditAnchor> ReadAnchor(SqlDb& db) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q,
                        db.Prepare("SELECT record_count, head_hash FROM audit_anchor WHERE id = 1"));
  KURA_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    return Status::Corruption(Tr("カタログ {} の監査ログのアンカーがありません",
                                 "the audit trail anchor of the catalog {} is missing", db.path()));
  }
  AuditAnchor a;
  a.count = q.Int(0);
  if (!q.IsNull(1)) {
    Bytes head = q.Blob(1);
    a.head = HashFromBlob(head);
    if (head.size() != a.head.size()) a.head[0] ^= 0xff;
  }
  return a;
}

}  // namespace

AuditEvent NormalizeAuditEvent(const AuditEvent& e) {
  AuditEvent n;
  n.actor.kind = Clean(e.actor.kind, kAuditMaxField);
  n.actor.id = Clean(e.actor.id, kAuditMaxField);
  n.actor.source_ip = Clean(e.actor.source_ip, kAuditMaxField);
  n.actor.site = Clean(e.actor.site, kAuditMaxField);
  n.actor.terminal = Clean(e.actor.terminal, kAuditMaxField);
  n.action = Clean(e.action, kAuditMaxField);
  n.target = Clean(e.target, kAuditMaxField);
  n.result = Clean(e.result, kAuditMaxField);
  n.detail = Clean(e.detail, kAuditMaxDetail);
  return n;
}

Bytes AuditCanonicalEncoding(const AuditRecord& r) {
  Bytes out;
  Append(out, AsBytes(kAuditMagic));
  out.push_back(kAuditEncodingVersion);
  PutU64(out, static_cast<uint64_t>(r.seq));
  PutU64(out, static_cast<uint64_t>(r.at_ms));
  const AuditEvent& e = r.event;
  for (const std::string* f : {&e.actor.kind, &e.actor.id, &e.actor.source_ip, &e.actor.site,
                               &e.actor.terminal, &e.action, &e.target, &e.result, &e.detail}) {
    PutField(out, *f);
  }
  Append(out, ByteView(r.prev_hash.data(), r.prev_hash.size()));
  return out;
}

crypto::Hash AuditRecordHash(const AuditRecord& r) {
  return crypto::Sha256(AuditCanonicalEncoding(r));
}

const char* AuditProblemName(AuditProblem p) {
  switch (p) {
    case AuditProblem::kNone:
      return "none";
    case AuditProblem::kEdited:
      return "edited";
    case AuditProblem::kBrokenLink:
      return "broken_link";
    case AuditProblem::kMissing:
      return "missing";
    case AuditProblem::kExtra:
      return "extra";
    case AuditProblem::kTruncated:
      return "truncated";
    case AuditProblem::kAnchorMismatch:
      return "anchor_mismatch";
    case AuditProblem::kRewritten:
      return "rewritten";
  }
  return "unknown";
}

std::string AuditVerifyReport::Message() const {
  switch (problem) {
    case AuditProblem::kNone:
      return Tr("監査ログは正常です ({} 件、先頭 {})", "the audit trail is intact ({} records, head {})",
                records, FormatAuditHead(AuditAnchor{records, head}));
    case AuditProblem::kEdited:
      return Tr("監査ログの記録 {} が改変されています (内容がハッシュと一致しません)",
                "audit record {} was altered (its fields do not match its hash)", first_bad_seq);
    case AuditProblem::kBrokenLink:
      return Tr(
          "監査ログの記録 {} と次の記録のつながりが切れています (記録 {} "
          "が差し替えられたか、次の記録が改変されています)",
          "the chain breaks after audit record {} (record {} was replaced or the next one altered)",
          first_bad_seq, first_bad_seq);
    case AuditProblem::kMissing:
      return Tr("監査ログの記録 {} がありません (削除されたか、順序が入れ替えられています)",
                "audit record {} is missing (removed, or records were reordered)", first_bad_seq);
    case AuditProblem::kExtra:
      return Tr("監査ログに記録 {} 以降の余分な記録があります (後から挿入されています)",
                "the audit trail holds records from {} on that it never wrote (inserted)", first_bad_seq);
    case AuditProblem::kTruncated:
      return Tr("監査ログの末尾が失われています: 記録 {} から {} までがありません",
                "the audit trail lost its tail: records {} to {} are missing", first_bad_seq, anchor.count);
    case AuditProblem::kRewritten:
      return Tr(
          "監査ログが書き換えられています: 以前に控えた先頭 (記録 {}) が今のログにありません "
          "(その記録かそれより前が書き換えられるか消されています)",
          "the audit trail was rewritten: the head recorded earlier (record {}) is not in it any more (it or "
          "an "
          "earlier record was rewritten or removed)",
          first_bad_seq);
    case AuditProblem::kAnchorMismatch:
      return Tr("監査ログの最後の記録 {} がアンカーと一致しません (差し替えられています)",
                "the last audit record {} does not match the anchor (replaced)", first_bad_seq);
  }
  return {};
}

void AuditChainChecker::Fail(AuditProblem problem, int64_t seq) {
  if (report_.problem != AuditProblem::kNone) return;
  report_.problem = problem;
  report_.first_bad_seq = seq;
}

void AuditChainChecker::Feed(const AuditRecord& r) {
  ++report_.records;
  if (report_.problem != AuditProblem::kNone) return;
  if (r.seq != expect_seq_) return Fail(AuditProblem::kMissing, expect_seq_);
  crypto::Hash computed = AuditRecordHash(r);
  // A record whose own fields (prev_hash included) disagree with its stored hash was
  // edited; one that is self-consistent but does not point at its predecessor means the
  // predecessor was replaced as a whole (or this one rewritten with a new hash).
  if (!crypto::ConstantTimeEqual(computed, r.hash)) return Fail(AuditProblem::kEdited, r.seq);
  if (!crypto::ConstantTimeEqual(r.prev_hash, prev_)) {
    return Fail(r.seq == 1 ? AuditProblem::kEdited : AuditProblem::kBrokenLink, r.seq == 1 ? 1 : r.seq - 1);
  }
  if (expect_ && r.seq == expect_->count) {
    expect_seen_ = true;
    if (!crypto::ConstantTimeEqual(computed, expect_->head)) return Fail(AuditProblem::kRewritten, r.seq);
  }
  prev_ = computed;
  report_.head = computed;
  ++expect_seq_;
}

AuditVerifyReport AuditChainChecker::Finish(const AuditAnchor& anchor) {
  report_.anchor = anchor;
  if (report_.problem != AuditProblem::kNone) return report_;
  int64_t good = expect_seq_ - 1;
  if (expect_ && expect_->count > 0 && !expect_seen_) {
    // The remembered head is beyond the trail: records the auditor saw are gone, whatever
    // the anchor (which may have been rewritten to match) says.
    Fail(AuditProblem::kRewritten, expect_->count);
  } else if (good < anchor.count) {
    Fail(AuditProblem::kTruncated, good + 1);
  } else if (good > anchor.count) {
    Fail(AuditProblem::kExtra, anchor.count + 1);
  } else if (!crypto::ConstantTimeEqual(report_.head, anchor.head)) {
    Fail(AuditProblem::kAnchorMismatch, good);
  }
  return report_;
}

Result<AuditRecord> AppendAuditRecord(SqlDb& db, const AuditEvent& event, int64_t at_ms) {
  // The anchor row is changed first: on PostgreSQL that row lock serialises appenders; on
  // SQLite the write transaction already does.
  KURA_ASSIGN_OR_RETURN(SqlStmt bump,
                        db.Prepare("UPDATE audit_anchor SET record_count = record_count + 1 WHERE id = 1"));
  KURA_RETURN_IF_ERROR(bump.Run());
  if (db.Changes() != 1) {
    return Status::Corruption(Tr("カタログ {} の監査ログのアンカーがありません",
                                 "the audit trail anchor of the catalog {} is missing", db.path()));
  }
  KURA_ASSIGN_OR_RETURN(AuditAnchor anchor, ReadAnchor(db));
  AuditRecord r;
  r.seq = anchor.count;
  r.at_ms = at_ms;
  r.event = NormalizeAuditEvent(event);
  r.prev_hash = anchor.head;
  r.hash = AuditRecordHash(r);
  KURA_ASSIGN_OR_RETURN(SqlStmt ins,
                        db.Prepare("INSERT INTO audit_log (seq, at_ms, actor_kind, actor_id, source_ip, site,"
                                   " terminal, action, target, result, detail, prev_hash, hash)"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  const AuditEvent& e = r.event;
  ins.Bind(1, r.seq).Bind(2, r.at_ms).Bind(3, e.actor.kind).Bind(4, e.actor.id).Bind(5, e.actor.source_ip);
  ins.Bind(6, e.actor.site).Bind(7, e.actor.terminal).Bind(8, e.action).Bind(9, e.target).Bind(10, e.result);
  ins.Bind(11, e.detail).BindBlob(12, r.prev_hash).BindBlob(13, r.hash);
  Status st = ins.Run();
  if (st.code() == Code::kAlreadyExists) {
    // The anchor counts fewer records than the table holds: the trail was tampered with.
    return Status::Corruption(
        Tr("カタログ {} の監査ログがアンカーと一致しません。kura-vault audit verify で確認してください",
           "the audit trail of the catalog {} does not match its anchor; run kura-vault audit verify",
           db.path()));
  }
  KURA_RETURN_IF_ERROR(st);
  KURA_ASSIGN_OR_RETURN(SqlStmt head, db.Prepare("UPDATE audit_anchor SET head_hash = ?1 WHERE id = 1"));
  KURA_RETURN_IF_ERROR(head.BindBlob(1, r.hash).Run());
  return r;
}

std::string FormatAuditHead(const AuditAnchor& head) {
  return std::to_string(head.count) + ":" + ToHex(head.head);
}

std::optional<AuditAnchor> ParseAuditHead(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 18) return std::nullopt;
  AuditAnchor a;
  for (char c : text.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    a.count = a.count * 10 + (c - '0');
  }
  auto hash = FromHex(text.substr(colon + 1));
  if (a.count < 1 || !hash || hash->size() != a.head.size()) return std::nullopt;
  std::copy(hash->begin(), hash->end(), a.head.begin());
  return a;
}

Result<AuditVerifyReport> VerifyAuditTrail(SqlDb& db, const std::optional<AuditAnchor>& expect) {
  KURA_ASSIGN_OR_RETURN(AuditAnchor anchor, ReadAnchor(db));
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare(kSelectTrail));
  AuditChainChecker checker;
  if (expect) checker.ExpectHead(*expect);
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    checker.Feed(ReadRecord(q));
  }
  return checker.Finish(anchor);
}

Status ForEachAuditRecord(SqlDb& db, int64_t from_ms, int64_t to_ms,
                          const std::function<Status(const AuditRecord&)>& fn) {
  KURA_ASSIGN_OR_RETURN(SqlStmt q, db.Prepare(kSelectPeriod));
  q.Bind(1, from_ms).Bind(2, to_ms);
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Ok();
    KURA_RETURN_IF_ERROR(fn(ReadRecord(q)));
  }
}

}  // namespace kura::vault
