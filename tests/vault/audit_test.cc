// The audit trail's canonical encoding (docs/audit-trail.md), its checker and its export
// formats, without a database.
#include "vault/audit.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/hex.h"
#include "util/i18n.h"
#include "util/text.h"
#include "vault/audit_export.h"
#include "vault/catalog_fixture.h"

namespace kura::vault::testing {
namespace {

AuditRecord Sample() {
  AuditRecord r;
  r.seq = 7;
  r.at_ms = 1796169600123;  // 2026-12-02T00:00:00.123Z
  r.event = AuditEvent{{"operator", "alice", "192.0.2.7", "本院", "pts/3"},
                       "tenant.add",
                       "tenant:さくら診療所",
                       "success",
                       "id=1"};
  r.prev_hash.fill(0xab);
  r.hash = AuditRecordHash(r);
  return r;
}

// The encoding is a persistent format: this vector is the spec's example, computed
// independently from docs/audit-trail.md. If it changes, the version must change too.
TEST(AuditEncodingTest, MatchesTheSpecExample) {
  AuditRecord r = Sample();
  Bytes enc = AuditCanonicalEncoding(r);
  ASSERT_GE(enc.size(), 11u + 16u);
  EXPECT_EQ(AsString(ByteView(enc.data(), 10)), "kura-audit");
  EXPECT_EQ(enc[10], 1);
  EXPECT_EQ(GetU64(enc.data() + 11), 7u);
  EXPECT_EQ(GetU64(enc.data() + 19), 1796169600123u);
  EXPECT_EQ(GetU32(enc.data() + 27), 8u);  // "operator"
  EXPECT_EQ(ToHex(r.hash), "45ba39a039b1a7633b201f036e3f61f0c16c99a13c2e2de248fe358230bd482e");
}

TEST(AuditEncodingTest, EveryFieldIsBound) {
  AuditRecord base = Sample();
  crypto::Hash h = AuditRecordHash(base);
  std::vector<std::function<void(AuditRecord&)>> edits = {
      [](AuditRecord& r) { r.seq++; },
      [](AuditRecord& r) { r.at_ms++; },
      [](AuditRecord& r) { r.event.actor.kind += "x"; },
      [](AuditRecord& r) { r.event.actor.id += "x"; },
      [](AuditRecord& r) { r.event.actor.source_ip += "x"; },
      [](AuditRecord& r) { r.event.actor.site += "x"; },
      [](AuditRecord& r) { r.event.actor.terminal += "x"; },
      [](AuditRecord& r) { r.event.action += "x"; },
      [](AuditRecord& r) { r.event.target += "x"; },
      [](AuditRecord& r) { r.event.result += "x"; },
      [](AuditRecord& r) { r.event.detail += "x"; },
      [](AuditRecord& r) { r.prev_hash[31] ^= 1; },
      // Moving a byte from one field to the next keeps the concatenation: the length
      // prefixes must still tell them apart.
      [](AuditRecord& r) {
        r.event.action = "tenant.ad";
        r.event.target = "dtenant:さくら診療所";
      },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    AuditRecord r = base;
    edits[i](r);
    EXPECT_NE(AuditRecordHash(r), h) << "edit " << i;
  }
}

TEST(AuditEncodingTest, FieldsAreStoredEscapedAndBounded) {
  AuditEvent e;
  e.actor.id = "bad\xff\xfe";
  e.target = "line1\nline2\x1b[2J";
  e.detail = std::string(kAuditMaxDetail * 2, 'x');
  e.action = std::string(kAuditMaxField / 3 + 10, 'a') + std::string(600, '\0') + "あいう";
  AuditEvent n = NormalizeAuditEvent(e);
  EXPECT_TRUE(IsValidUtf8(n.actor.id));
  EXPECT_EQ(n.actor.id, "bad\\xFF\\xFE");
  EXPECT_EQ(n.target.find('\n'), std::string::npos);
  EXPECT_EQ(n.target.find('\x1b'), std::string::npos);
  EXPECT_LE(n.detail.size(), kAuditMaxDetail);
  EXPECT_TRUE(n.detail.ends_with("\xE2\x80\xA6"));
  EXPECT_LE(n.action.size(), kAuditMaxField);
  EXPECT_TRUE(IsValidUtf8(n.action));
  EXPECT_EQ(NormalizeAuditEvent(n).detail, n.detail);  // stable
}

std::vector<AuditRecord> Chain(int n) {
  std::vector<AuditRecord> out;
  crypto::Hash prev{};
  for (int i = 1; i <= n; ++i) {
    AuditRecord r = Sample();
    r.seq = i;
    r.at_ms += i;
    r.event.detail = "n=" + std::to_string(i);
    r.prev_hash = prev;
    r.hash = AuditRecordHash(r);
    prev = r.hash;
    out.push_back(r);
  }
  return out;
}

AuditVerifyReport Check(const std::vector<AuditRecord>& records, AuditAnchor anchor) {
  AuditChainChecker c;
  for (const AuditRecord& r : records) c.Feed(r);
  return c.Finish(anchor);
}

AuditAnchor AnchorOf(const std::vector<AuditRecord>& records) {
  return records.empty() ? AuditAnchor{}
                         : AuditAnchor{static_cast<int64_t>(records.size()), records.back().hash};
}

TEST(AuditCheckerTest, IntactChainAndEmptyTrailAreOk) {
  auto chain = Chain(5);
  auto r = Check(chain, AnchorOf(chain));
  EXPECT_TRUE(r.ok()) << r.Message();
  EXPECT_EQ(r.records, 5);
  EXPECT_EQ(r.head, chain.back().hash);
  EXPECT_TRUE(Check({}, AuditAnchor{}).ok());
}

TEST(AuditCheckerTest, EachKindOfDamageIsNamedWithTheFirstBadRecord) {
  auto chain = Chain(6);
  AuditAnchor anchor = AnchorOf(chain);
  {
    auto c = chain;
    c[2].event.detail = "edited";
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kEdited);
    EXPECT_EQ(r.first_bad_seq, 3);
  }
  {
    auto c = chain;  // record 3 replaced by a self-consistent forgery
    c[2].event.detail = "forged";
    c[2].hash = AuditRecordHash(c[2]);
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kBrokenLink);
    EXPECT_EQ(r.first_bad_seq, 3);
  }
  {
    auto c = chain;
    c.erase(c.begin() + 3);
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kMissing);
    EXPECT_EQ(r.first_bad_seq, 4);
  }
  {
    auto c = chain;
    std::swap(c[1], c[4]);
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kMissing);
    EXPECT_EQ(r.first_bad_seq, 2);
  }
  {
    auto c = chain;
    c.resize(4);
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kTruncated);
    EXPECT_EQ(r.first_bad_seq, 5);
    SetLanguage(Language::kEnglish);
    EXPECT_NE(r.Message().find("records 5 to 6"), std::string::npos) << r.Message();
    SetLanguage(Language::kJapanese);
  }
  {
    auto c = Chain(7);  // one more, properly chained, that the anchor never counted
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kExtra);
    EXPECT_EQ(r.first_bad_seq, 7);
  }
  {
    auto c = chain;  // the last record replaced wholesale: only the anchor knows
    c[5].event.detail = "forged";
    c[5].hash = AuditRecordHash(c[5]);
    auto r = Check(c, anchor);
    EXPECT_EQ(r.problem, AuditProblem::kAnchorMismatch);
    EXPECT_EQ(r.first_bad_seq, 6);
  }
}

TEST(AuditCheckerTest, HeadsRoundTripAsTheyArePrinted) {
  AuditAnchor a{17, {}};
  a.head.fill(0x9f);
  std::string text = FormatAuditHead(a);
  EXPECT_TRUE(text.starts_with("17:9f9f"));
  auto back = ParseAuditHead(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count, 17);
  EXPECT_EQ(back->head, a.head);
  for (const char* bad : {"", "17", ":9f", "0:9f9f", "x:9f", "17:9f", "17:zz"})
    EXPECT_FALSE(ParseAuditHead(bad)) << bad;
}

TEST(AuditExportTest, CsvFollowsRfc4180) {
  AuditRecord r = Sample();
  r.event.detail = "he said \"no\", twice";
  std::string header = AuditCsvHeader();
  EXPECT_EQ(
      header,
      "seq,time,actor_kind,actor_id,source_ip,site,terminal,action,target,result,detail,prev_hash,hash\r\n");
  std::string row = AuditCsvRow(r);
  EXPECT_TRUE(
      row.starts_with("7,2026-12-02T00:00:00.123Z,operator,alice,192.0.2.7,本院,pts/3,tenant.add,"
                      "tenant:さくら診療所,success,\"he said \"\"no\"\", twice\","))
      << row;
  EXPECT_TRUE(row.ends_with(ToHex(r.hash) + "\r\n"));
}

TEST(AuditExportTest, JsonLinesCarryTheSameColumns) {
  AuditRecord r = Sample();
  std::string line = AuditJsonLine(r);
  ASSERT_TRUE(line.ends_with("\n"));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["at_ms"], 1796169600123);
  EXPECT_EQ(j["time"], "2026-12-02T00:00:00.123Z");
  EXPECT_EQ(j["site"], "本院");
  EXPECT_EQ(j["target"], "tenant:さくら診療所");
  EXPECT_EQ(j["hash"], ToHex(r.hash));
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  EXPECT_EQ(j["prev_hash"], ab);
}

TEST(AuditExportTest, MillisecondTimesAreExact) {
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(1796169600999), "2026-12-02T00:00:00.999Z");
  EXPECT_EQ(FormatUtcMillis(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace kura::vault::testing
