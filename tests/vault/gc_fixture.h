// A bound repository with real objects for the GC and scrub tests: a catalog file, an
// objects directory whose area is a LocalStore, packs of random bytes named by their
// SHA-256 and recorded with blob IDs, and real snapshot objects (EncodeSnapshot with a
// throwaway key) whose plaintext blob lists the vault reads without a key.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "objstore/local_store.h"
#include "repo/keys.h"
#include "repo/snapshot.h"
#include "util/hex.h"
#include "vault/catalog_fixture.h"

namespace kura::vault::testing {

inline std::string HexOf(const crypto::Hash& h) {
  return ToHex(ByteView(h.data(), h.size()));
}

class GcFixture : public CatalogTest {
 protected:
  void SetUp() override {
    auto t = catalog_->AddTenant("さくら診療所", TestActor());
    ASSERT_TRUE(t.ok());
    tenant_ = t->id;
    auto s = catalog_->AddSite(t->id, "本院", TestActor());
    ASSERT_TRUE(s.ok());
    objects_ = dir_.Sub("objects");
    ASSERT_EQ(::mkdir(objects_.c_str(), 0700), 0);
    repo_id_ = std::string(32, 'a');
    auto store = LocalStore::Open(objects_ + "/" + repo_id_, true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    area_ = std::move(*store);
    std::string text = "{\"id\": \"" + repo_id_ + "\"}";
    Bytes config(text.begin(), text.end());
    ASSERT_TRUE(area_->Put(ObjectType::kConfig, "config", config).ok());
    auto bound =
        catalog_->BindRepository(s->id, "nightly", repo_id_, HexOf(crypto::Sha256(config)), TestActor());
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    repo_ = catalog_->FindBoundRepository(repo_id_)->id;
  }

  // A pack file holding `blobs` new random blob IDs; returns its name, sets *ids.
  std::string AddPack(int blobs, std::vector<crypto::Hash>* ids = nullptr, size_t size = 4096) {
    Bytes bytes = crypto::RandomBytes(size);
    std::string name = HexOf(crypto::Sha256(bytes));
    EXPECT_TRUE(area_->Put(ObjectType::kPack, name, bytes).ok());
    std::vector<crypto::Hash> list;
    for (int i = 0; i < blobs; ++i) {
      crypto::Hash h{};
      Bytes r = crypto::RandomBytes(32);
      std::copy(r.begin(), r.end(), h.begin());
      list.push_back(h);
    }
    auto rec = catalog_->RecordPack(repo_, name, bytes.size(), list, TestActor());
    EXPECT_TRUE(rec.ok()) << rec.status().ToString();
    if (ids != nullptr) *ids = list;
    return name;
  }

  // A committed snapshot referring to `blobs`.
  std::string AddSnapshot(std::vector<crypto::Hash> blobs) {
    std::sort(blobs.begin(), blobs.end());
    blobs.erase(std::unique(blobs.begin(), blobs.end()), blobs.end());
    SnapshotPlain plain;
    plain.repository = repo_id_;
    plain.kind = SnapshotKind::kDaily;
    plain.time = clock_.NowUnix();
    plain.time_ms = clock_.NowUnixMillis() + (++snapshots_);
    SnapshotMeta meta;
    meta.host = "reception-pc";
    Bytes bytes = EncodeSnapshot(keys_, plain, blobs, meta);
    std::string name = HexOf(crypto::Sha256(bytes));
    EXPECT_TRUE(area_->Put(ObjectType::kSnapshot, name, bytes).ok());
    SnapshotRecord rec;
    rec.name = name;
    rec.kind = "daily";
    rec.client_time = plain.time;
    rec.received_at_ms = clock_.NowUnixMillis();
    rec.size = bytes.size();
    rec.blob_count = blobs.size();
    EXPECT_TRUE(catalog_->RecordSnapshot(repo_, rec, TestActor()).ok());
    return name;
  }

  // What retention does (its own session's code): the snapshot evicted, now.
  void QuarantineSnapshot(const std::string& name) {
    RawSql("UPDATE snapshots SET state = 'quarantined', quarantined_at_ms = " +
           std::to_string(clock_.NowUnixMillis()) + " WHERE name = '" + name + "'");
  }

  std::string PackState(const std::string& name) {
    auto v = RawColumn("SELECT state FROM packs WHERE name = '" + name + "'");
    return v.empty() ? "gone" : v[0];
  }
  bool PackFile(const std::string& name) { return area_->Get(ObjectType::kPack, name).ok(); }
  bool SnapshotFile(const std::string& name) { return area_->Get(ObjectType::kSnapshot, name).ok(); }
  size_t AuditCount(const std::string& action) {
    size_t n = 0;
    for (const AuditRecord& r : Records(*catalog_)) n += r.event.action == action ? 1 : 0;
    return n;
  }

  int64_t tenant_ = 0;
  int64_t repo_ = 0;
  std::string repo_id_;
  std::string objects_;
  std::unique_ptr<LocalStore> area_;
  RepoKeys keys_ = RepoKeys::Derive(crypto::SecretKey::Random());
  int snapshots_ = 0;
};

}  // namespace kura::vault::testing
