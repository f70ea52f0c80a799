// Someone who can write the catalog file changes the audit trail behind the catalog's back
// (raw SQLite, the append-only triggers dropped first): every edit of any field of any
// record, every removal, swap, insertion, cut-off tail and wholesale replacement of a
// record is found by `Verify`, which names the first record that cannot be trusted.
// (docs/audit-trail.md; G-AUD-05, seed 002 §3.2(5).)
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <random>

#include "util/hex.h"
#include "vault/catalog_fixture.h"

namespace kura::vault::testing {
namespace {

constexpr int kRecords = 40;

class AuditTamperPropertyTest : public CatalogTest {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(42);
    const char* words[] = {"さくら", "診療所", "a,b", "say \"hi\"", "line\nbreak", "", "x", "介護"};
    for (int i = 0; i < kRecords; ++i) {
      clock_.Advance(static_cast<int64_t>(rng() % 90));
      AuditEvent e{
          {"operator", words[rng() % 8], "192.0.2." + std::to_string(rng() % 255), words[rng() % 8], ""},
          "test.event",
          std::string("target:") + words[rng() % 8],
          rng() % 2 ? "success" : "refused",
          "n=" + std::to_string(i)};
      ASSERT_TRUE(catalog_->Audit(e).ok());
    }
    original_ = Records(*catalog_);
    ASSERT_EQ(original_.size(), static_cast<size_t>(kRecords));
    catalog_.reset();  // checkpoints the WAL into the file
    base_ = kura::testing::ReadFileString(path_);
  }

  // A fresh copy of the intact catalog, without its append-only triggers.
  void Restore() {
    for (const char* suffix : {"-wal", "-shm"}) ::unlink((path_ + suffix).c_str());
    kura::testing::WriteFile(path_, base_);
    RawSql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
  }

  AuditVerifyReport VerifyNow() {
    auto c = Reopen();
    if (!c) return {};
    auto r = c->VerifyAudit();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AuditVerifyReport{};
  }

  // An UPDATE of one record's `column` to a value that differs from the stored one.
  static std::string EditSql(const std::string& column, const AuditRecord& original, std::mt19937_64& rng) {
    std::string where = " WHERE seq = " + std::to_string(original.seq);
    if (column == "seq") return "UPDATE audit_log SET seq = seq + 1000" + where;
    if (column == "at_ms") {
      return "UPDATE audit_log SET at_ms = at_ms + " +
             std::to_string(1 + static_cast<int64_t>(rng() % 5000)) + where;
    }
    if (column == "prev_hash" || column == "hash") {
      crypto::Hash h = column == "hash" ? original.hash : original.prev_hash;
      switch (rng() % 3) {
        case 0:  // one bit flipped
          h[rng() % h.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
          return "UPDATE audit_log SET " + column + " = X'" + ToHex(h) + "'" + where;
        case 1:  // the wrong length
          return "UPDATE audit_log SET " + column + " = substr(" + column + ", 1, 16)" + where;
        default:  // an empty blob where a hash belongs
          return "UPDATE audit_log SET " + column + " = X''" + where;
      }
    }
    switch (rng() % 3) {
      case 0:
        return "UPDATE audit_log SET " + column + " = " + column + " || 'x'" + where;
      case 1:
        return "UPDATE audit_log SET " + column + " = '改ざん' || " + column + where;
      default:  // same length, one character changed (or an empty field made non-empty)
        return "UPDATE audit_log SET " + column + " = CASE WHEN length(" + column +
               ") = 0 THEN 'z' WHEN substr(" + column + ", 1, 1) = 'Q' THEN 'R' || substr(" + column +
               ", 2) ELSE 'Q' || substr(" + column + ", 2) END" + where;
    }
  }

  std::string base_;
  std::vector<AuditRecord> original_;
};

TEST_F(AuditTamperPropertyTest, IntactTrailVerifies) {
  Restore();
  AuditVerifyReport r = VerifyNow();
  EXPECT_TRUE(r.ok()) << r.Message();
  EXPECT_EQ(r.records, kRecords);
}

TEST_F(AuditTamperPropertyTest, AnyFieldEditOfAnyRecordIsFoundAtThatRecord) {
  const char* columns[] = {"seq",    "at_ms",  "actor_kind", "actor_id", "source_ip", "site", "terminal",
                           "action", "target", "result",     "detail",   "prev_hash", "hash"};
  std::mt19937_64 rng(7);
  for (int round = 0; round < 60; ++round) {
    std::string column = columns[rng() % 13];
    int64_t seq = 1 + static_cast<int64_t>(rng() % kRecords);
    std::string sql = EditSql(column, original_[static_cast<size_t>(seq - 1)], rng);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + sql);
    Restore();
    RawSql(sql);
    AuditVerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.first_bad_seq, seq) << r.Message();
  }
}

TEST_F(AuditTamperPropertyTest, RemovingAnyRecordIsFound) {
  std::mt19937_64 rng(8);
  for (int round = 0; round < 20; ++round) {
    int64_t seq = 1 + static_cast<int64_t>(rng() % kRecords);
    SCOPED_TRACE("delete " + std::to_string(seq));
    Restore();
    RawSql("DELETE FROM audit_log WHERE seq = " + std::to_string(seq));
    AuditVerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.first_bad_seq, seq) << r.Message();
    EXPECT_EQ(r.problem, seq == kRecords ? AuditProblem::kTruncated : AuditProblem::kMissing);
  }
}

TEST_F(AuditTamperPropertyTest, SwappingAnyTwoRecordsIsFound) {
  std::mt19937_64 rng(9);
  for (int round = 0; round < 20; ++round) {
    int64_t a = 1 + static_cast<int64_t>(rng() % kRecords), b = 1 + static_cast<int64_t>(rng() % kRecords);
    if (a == b) continue;
    SCOPED_TRACE("swap " + std::to_string(a) + " and " + std::to_string(b));
    Restore();
    RawSql("UPDATE audit_log SET seq = -1 WHERE seq = " + std::to_string(a) + ";" +
           "UPDATE audit_log SET seq = " + std::to_string(a) + " WHERE seq = " + std::to_string(b) + ";" +
           "UPDATE audit_log SET seq = " + std::to_string(b) + " WHERE seq = -1;");
    AuditVerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.first_bad_seq, std::min(a, b)) << r.Message();
  }
}

// The tail holds no successor that could point back at it: only the anchor, updated in the
// same transaction as every append, tells that records are gone.
TEST_F(AuditTamperPropertyTest, CuttingOffTheTailIsFoundByTheAnchor) {
  std::mt19937_64 rng(10);
  for (int round = 0; round < 12; ++round) {
    int64_t keep = static_cast<int64_t>(rng() % kRecords);  // 0 .. kRecords-1 records left
    SCOPED_TRACE("keep " + std::to_string(keep));
    Restore();
    RawSql("DELETE FROM audit_log WHERE seq > " + std::to_string(keep));
    AuditVerifyReport r = VerifyNow();
    EXPECT_EQ(r.problem, AuditProblem::kTruncated) << r.Message();
    EXPECT_EQ(r.first_bad_seq, keep + 1);
    EXPECT_EQ(r.records, keep);
  }
}

// A forged record that is chained correctly to its predecessor, with its own hash right.
std::string ForgedInsert(const AuditRecord& prev, int64_t seq, int64_t at_ms) {
  AuditRecord f;
  f.seq = seq;
  f.at_ms = at_ms;
  f.event = AuditEvent{{"operator", "mallory", "203.0.113.9", "", ""}, "hold.clear", "site:1", "success", ""};
  f.prev_hash = prev.hash;
  f.hash = AuditRecordHash(f);
  return "INSERT INTO audit_log VALUES (" + std::to_string(f.seq) + ", " + std::to_string(f.at_ms) +
         ", 'operator', 'mallory', '203.0.113.9', '', '', 'hold.clear', 'site:1', 'success', '', X'" +
         ToHex(f.prev_hash) + "', X'" + ToHex(f.hash) + "')";
}

TEST_F(AuditTamperPropertyTest, InsertedRecordsAreFound) {
  // At the end, properly chained: the anchor does not count it.
  Restore();
  RawSql(ForgedInsert(original_.back(), kRecords + 1, original_.back().at_ms + 1));
  AuditVerifyReport end = VerifyNow();
  EXPECT_EQ(end.problem, AuditProblem::kExtra) << end.Message();
  EXPECT_EQ(end.first_bad_seq, kRecords + 1);
  // In the middle, the later records renumbered to make room: the first renumbered record
  // no longer matches its hash. The forgery itself matches its predecessor, so the report
  // names it or the record right after it.
  std::mt19937_64 rng(11);
  for (int round = 0; round < 10; ++round) {
    int64_t at = 2 + static_cast<int64_t>(rng() % (kRecords - 1));
    SCOPED_TRACE("insert at " + std::to_string(at));
    Restore();
    RawSql("UPDATE audit_log SET seq = seq + 100000 WHERE seq >= " + std::to_string(at) +
           "; UPDATE audit_log SET seq = seq - 100000 + 1 WHERE seq >= 100000;" +
           ForgedInsert(original_[static_cast<size_t>(at - 2)], at,
                        original_[static_cast<size_t>(at - 2)].at_ms));
    AuditVerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok());
    EXPECT_GE(r.first_bad_seq, at) << r.Message();
    EXPECT_LE(r.first_bad_seq, at + 1) << r.Message();
  }
}

TEST_F(AuditTamperPropertyTest, ARecordReplacedWholesaleIsFound) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 12; ++round) {
    int64_t seq = 1 + static_cast<int64_t>(rng() % kRecords);
    SCOPED_TRACE("replace " + std::to_string(seq));
    AuditRecord f = original_[static_cast<size_t>(seq - 1)];
    f.event.detail = "nothing happened here";
    f.hash = AuditRecordHash(f);
    Restore();
    RawSql("UPDATE audit_log SET detail = 'nothing happened here', hash = X'" + ToHex(f.hash) +
           "' WHERE seq = " + std::to_string(seq));
    AuditVerifyReport r = VerifyNow();
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.first_bad_seq, seq) << r.Message();
    EXPECT_EQ(r.problem, seq == kRecords ? AuditProblem::kAnchorMismatch : AuditProblem::kBrokenLink);
  }
}

TEST_F(AuditTamperPropertyTest, EditingTheAnchorIsFound) {
  Restore();
  RawSql("UPDATE audit_anchor SET record_count = record_count + 3");
  EXPECT_EQ(VerifyNow().problem, AuditProblem::kTruncated);
  Restore();
  RawSql("UPDATE audit_anchor SET record_count = record_count - 1");
  EXPECT_EQ(VerifyNow().problem, AuditProblem::kExtra);
  Restore();
  RawSql("UPDATE audit_anchor SET head_hash = X'" + ToHex(crypto::RandomBytes(32)) + "'");
  EXPECT_EQ(VerifyNow().problem, AuditProblem::kAnchorMismatch);
}

// The limit of a chain kept inside the catalog: whoever can write the file can rewrite every
// record from some point on and the anchor with them, and the trail verifies again. A head
// written down outside the vault earlier (by an auditor, from `audit verify`) catches it.
TEST_F(AuditTamperPropertyTest, AWholesaleRewriteIsFoundOnlyAgainstAHeadKeptOutside) {
  AuditAnchor remembered{kRecords, original_.back().hash};
  std::string sql;
  crypto::Hash prev = original_[9].hash;
  for (int64_t seq = 11; seq <= kRecords; ++seq) {
    AuditRecord r = original_[static_cast<size_t>(seq - 1)];
    if (seq == 11) r.event.detail = "nothing to see";
    r.prev_hash = prev;
    r.hash = AuditRecordHash(r);
    prev = r.hash;
    sql += "UPDATE audit_log SET detail = '" + r.event.detail + "', prev_hash = X'" + ToHex(r.prev_hash) +
           "', hash = X'" + ToHex(r.hash) + "' WHERE seq = " + std::to_string(seq) + ";";
  }
  sql += "UPDATE audit_anchor SET head_hash = X'" + ToHex(prev) + "';";
  Restore();
  RawSql(sql);
  EXPECT_TRUE(VerifyNow().ok());  // the documented limit
  auto c = Reopen();
  auto r = c->VerifyAudit(remembered);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->problem, AuditProblem::kRewritten) << r->Message();
  EXPECT_EQ(r->first_bad_seq, kRecords);
  // A head from before the rewrite point still matches: it is only proof up to itself.
  auto early = c->VerifyAudit(AuditAnchor{10, original_[9].hash});
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->ok()) << early->Message();
  // Cut back to 20 records with the anchor made to match: the remembered head is gone.
  Restore();
  RawSql("DELETE FROM audit_log WHERE seq > 20; UPDATE audit_anchor SET record_count = 20, head_hash = X'" +
         ToHex(original_[19].hash) + "';");
  EXPECT_TRUE(VerifyNow().ok());
  auto cut = Reopen()->VerifyAudit(remembered);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->problem, AuditProblem::kRewritten);
}

// G-AUD-05: the trail refuses edits and removals even through SQL (the triggers), before
// any hash is needed.
TEST_F(AuditTamperPropertyTest, SchemaRefusesUpdateAndDelete) {
  kura::testing::WriteFile(path_, base_);
  auto db = SqlDb::OpenSqlite(path_, 1000);
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->Exec("UPDATE audit_log SET detail = 'x' WHERE seq = 1").ok());
  EXPECT_FALSE((*db)->Exec("DELETE FROM audit_log WHERE seq = 1").ok());
  db->reset();
  AuditVerifyReport r = VerifyNow();
  EXPECT_TRUE(r.ok()) << r.Message();
}

}  // namespace
}  // namespace kura::vault::testing
