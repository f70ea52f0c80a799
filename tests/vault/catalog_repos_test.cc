// The agent API's records in the catalog (catalog_repos.cc): a repository ID is bound to
// one site and job for good, blobs count as held only in stored packs, a snapshot commit
// is recorded with the vault's time, and run reports keep the per-repository status.
#include <gtest/gtest.h>

#include "util/hex.h"
#include "vault/api_bodies.h"
#include "vault/catalog_fixture.h"

namespace kura::vault::testing {
namespace {

class CatalogReposTest : public CatalogTest {
 protected:
  void SetUp() override {
    auto t = catalog_->AddTenant("さくら診療所", TestActor());
    ASSERT_TRUE(t.ok());
    auto a = catalog_->AddSite(t->id, "本院", TestActor());
    auto b = catalog_->AddSite(t->id, "分院", TestActor());
    ASSERT_TRUE(a.ok() && b.ok());
    site_a_ = a->id;
    site_b_ = b->id;
  }
  int64_t site_a_ = 0, site_b_ = 0;
  std::string repo_id_ = std::string(32, 'a');
  std::string config_ = std::string(64, 'c');
};

TEST_F(CatalogReposTest, RepositoryIdIsBoundToOneSiteAndJob) {
  auto first = catalog_->BindRepository(site_a_, "nightly", repo_id_, config_, TestActor());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  auto again = catalog_->BindRepository(site_a_, "nightly", repo_id_, config_, TestActor());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(catalog_->BindRepository(site_a_, "nightly", repo_id_, std::string(64, 'd'), TestActor())
                .status()
                .code(),
            Code::kAlreadyExists);  // other config bytes
  EXPECT_EQ(catalog_->BindRepository(site_a_, "nightly", std::string(32, 'b'), config_, TestActor())
                .status()
                .code(),
            Code::kAlreadyExists);  // the job has its repository
  EXPECT_EQ(catalog_->BindRepository(site_b_, "nightly", repo_id_, config_, TestActor()).status().code(),
            Code::kPermissionDenied);  // another site
  size_t binds = 0, refused = 0;
  for (const AuditRecord& r : Records(*catalog_)) {
    if (r.event.action != "repository.bind") continue;
    ++binds;
    if (r.event.result == "refused") ++refused;
  }
  EXPECT_EQ(binds, 5u);
  EXPECT_EQ(refused, 1u);
}

TEST_F(CatalogReposTest, BlobsAreHeldOnlyByRecordedPacksAndSnapshotsKeepReceiveTime) {
  ASSERT_TRUE(catalog_->BindRepository(site_a_, "nightly", repo_id_, config_, TestActor()).ok());
  auto repo = catalog_->FindBoundRepository(repo_id_);
  ASSERT_TRUE(repo.ok());
  crypto::Hash a = crypto::Sha256(AsBytes(std::string_view("a")));
  crypto::Hash b = crypto::Sha256(AsBytes(std::string_view("b")));
  std::string pack(64, '1');
  auto rec = catalog_->RecordPack(repo->id, pack, 1000, {a}, TestActor());
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_TRUE(*rec);
  EXPECT_FALSE(*catalog_->RecordPack(repo->id, pack, 1000, {a}, TestActor()));  // idempotent
  EXPECT_TRUE(*catalog_->PackStored(repo->id, pack));
  Bytes ids;
  ids.insert(ids.end(), b.begin(), b.end());
  ids.insert(ids.end(), a.begin(), a.end());
  std::vector<size_t> first;
  auto missing = catalog_->CountMissingBlobs(repo->id, ids, 10, &first);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, 1u);
  EXPECT_EQ(first, std::vector<size_t>{0});
  RawSql("UPDATE packs SET state = 'quarantined'");
  EXPECT_EQ(*catalog_->CountMissingBlobs(repo->id, ids, 10, nullptr),
            2u);  // a quarantined pack holds nothing

  clock_.Advance(90);
  SnapshotRecord s;
  s.name = std::string(64, '5');
  s.kind = "daily";
  s.client_time = kStart;
  s.received_at_ms = clock_.NowUnixMillis();
  ASSERT_TRUE(catalog_->RecordSnapshot(repo->id, s, TestActor()).ok());
  EXPECT_EQ(catalog_->RecordSnapshot(repo->id, s, TestActor()).code(), Code::kAlreadyExists);
  auto found = catalog_->FindSnapshotRecord(repo->id, s.name);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->received_at_ms, (kStart + 90) * 1000);
  auto list = catalog_->ListSnapshotRecords(repo->id);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(CatalogReposTest, FailureRaisesTheWarningAndTheNextSuccessClearsIt) {
  ASSERT_TRUE(catalog_->BindRepository(site_a_, "nightly", repo_id_, config_, TestActor()).ok());
  auto repo = catalog_->FindBoundRepository(repo_id_);
  ASSERT_TRUE(repo.ok());
  auto fail = ParseRunReport(R"({"result": "failure", "message": "ダンプに失敗しました",
                                 "schedule": {"time": "02:00", "timezone": "Asia/Tokyo", "days": "daily"}})");
  ASSERT_TRUE(fail.ok());
  ASSERT_TRUE(catalog_->RecordRun(repo->id, *fail).ok());
  auto st = catalog_->GetRepoStatus(repo->id);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->warning_active);
  EXPECT_EQ(st->last_failure_message, "ダンプに失敗しました");
  EXPECT_FALSE(st->last_success_at.has_value());
  clock_.Advance(86400);
  auto ok = ParseRunReport(R"({"result": "success", "kind": "daily"})");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(catalog_->RecordRun(repo->id, *ok).ok());
  st = catalog_->GetRepoStatus(repo->id);
  EXPECT_FALSE(st->warning_active);
  EXPECT_EQ(st->last_success_at, kStart + 86400);
  EXPECT_EQ(st->last_failure_message, "ダンプに失敗しました");  // kept for the record
  EXPECT_EQ(st->schedule_time, "02:00");                        // kept: the success named none
}

// The request bodies: only the documented shapes parse; the refusal names the member.
TEST(ApiBodiesTest, OnlyDocumentedShapesParse) {
  EXPECT_EQ(ParseMissingRequest(R"({"ids": []})", 10000)->size(), 0u);
  std::string id(64, 'a');
  EXPECT_EQ(ParseMissingRequest(R"({"ids": [")" + id + R"("]})", 10000)->size(), 32u);
  EXPECT_EQ(ParseMissingRequest(R"({"ids": [")" + id + R"(", ")" + id + R"("]})", 1).status().message(),
            "ids");
  EXPECT_EQ(ParseMissingRequest(R"({"ids": ["AA"]})", 10).status().message(), "ids");
  EXPECT_EQ(ParseMissingRequest("[1, 2]", 10).status().message(), "");
  EXPECT_EQ(ParseMissingRequest("{\"ids\": [", 10).status().message(), "");
  EXPECT_EQ(ParseRunReport(R"({"result": "maybe"})").status().message(), "result");
  EXPECT_EQ(ParseRunReport(R"({"result": "success", "kind": "hourly"})").status().message(), "kind");
  EXPECT_EQ(ParseRunReport(R"({"result": "success", "message": 7})").status().message(), "message");
  EXPECT_EQ(ParseRunReport(R"({"result": "success", "message": ")" + std::string(2001, 'x') + R"("})")
                .status()
                .message(),
            "message");
  EXPECT_TRUE(
      ParseRunReport(R"({"result": "success", "message": ")" + std::string(2000, 'x') + R"("})").ok());
  EXPECT_EQ(ParseRunReport(R"({"result": "success", "schedule": "02:00"})").status().message(), "schedule");
  EXPECT_EQ(ParseEnrolRequest(R"({"host": "pc"})").status().message(), "code");
  EXPECT_EQ(ParseEnrolRequest(R"({"code": "x", "host": 5})").status().message(), "host");
  EXPECT_TRUE(ParseEnrolRequest(R"({"code": "KURA1-x"})").ok());
}

}  // namespace
}  // namespace kura::vault::testing
