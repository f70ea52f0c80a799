#include "engine/backup_sink.h"

#include <cstdlib>
#include <cstring>

#include "repo/config.h"
#include "repo/format.h"
#include "repo/pack.h"
#include "repo/snapshot.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

MirrorSink::MirrorSink(std::unique_ptr<ObjectStore> store, std::string cache_dir, const Clock& clock)
    : store_(std::move(store)), cache_dir_(std::move(cache_dir)), clock_(clock) {}

std::string MirrorSink::DefaultCacheDir(const std::string& location) {
  return DefaultCacheRoot() + "/mirror-" + ToHex(crypto::Sha256(AsBytes(location))).substr(0, 32);
}

Result<IndexCache*> MirrorSink::Cache() {
  if (!cache_) {
    KURA_ASSIGN_OR_RETURN(cache_, IndexCache::Open(cache_dir_));
    KURA_RETURN_IF_ERROR(cache_->Sync(*store_).status());
  }
  return cache_.get();
}

Status MirrorSink::PutConfig(ByteView config) {
  Status s = store_->PutIfAbsent(ObjectType::kConfig, "config", config);
  if (s.code() != Code::kAlreadyExists) return s;
  KURA_ASSIGN_OR_RETURN(Bytes stored, store_->Get(ObjectType::kConfig, "config"));
  if (stored.size() == config.size() && std::memcmp(stored.data(), config.data(), config.size()) == 0) {
    return Status::Ok();
  }
  return Status::AlreadyExists(Tr("{} には別のリポジトリがあります。送り先を確認してください",
                                  "{} holds another repository; check the target", store_->Location()));
}

Status MirrorSink::PutKey(const std::string& id, ByteView slot) {
  return store_->Put(ObjectType::kKey, id, slot);
}

Result<std::vector<crypto::Hash>> MirrorSink::MissingBlobs(const std::vector<crypto::Hash>& ids) {
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, Cache());
  std::vector<crypto::Hash> missing;
  for (const crypto::Hash& id : ids) {
    KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(id));
    if (!loc) missing.push_back(id);
  }
  return missing;
}

Status MirrorSink::PutPack(const std::string& name, ByteView pack) {
  if (ToHex(crypto::Sha256(pack)) != name) {
    return Status::Corruption(
        Tr("パック {} の内容が名前と一致しません", "pack {} does not match its name", name));
  }
  if (pack.size() < format::kPackHeaderFixed) {
    return Status::Corruption(Tr("パック {} が短すぎます", "pack {} is too short", name));
  }
  KURA_ASSIGN_OR_RETURN(uint32_t count, ParsePackPrefix(pack.subspan(0, format::kPackHeaderFixed), name));
  const uint64_t header_size = PackHeaderSize(count);
  if (pack.size() < header_size) {
    return Status::Corruption(
        Tr("パック {} のヘッダーが途中で切れています", "pack {} has a truncated header", name));
  }
  KURA_ASSIGN_OR_RETURN(PackHeader header, ParsePackHeader(pack.subspan(0, header_size), name));
  if (header.total_size != pack.size()) {
    return Status::Corruption(Tr("パック {} の大きさがヘッダーと一致しません",
                                 "pack {} does not have the size its header gives", name));
  }
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, Cache());
  KURA_RETURN_IF_ERROR(store_->Put(ObjectType::kPack, name, pack));
  return cache->AddPack(name, header.entries);
}

Result<CommitAnswer> MirrorSink::CommitSnapshot(const std::string& id, ByteView snapshot) {
  if (ToHex(crypto::Sha256(snapshot)) != id) {
    return Status::Corruption(Tr("スナップショット {} の内容が名前と一致しません",
                                 "snapshot {} does not match its name", id.substr(0, 8)));
  }
  KURA_ASSIGN_OR_RETURN(Snapshot snap, ParseSnapshot(id, snapshot, /*with_blobs=*/false));
  KURA_ASSIGN_OR_RETURN(ByteView ids, SnapshotBlobIds(id, snapshot));
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, Cache());
  uint64_t missing = 0;
  for (size_t off = 0; off + crypto::kHashSize <= ids.size(); off += crypto::kHashSize) {
    crypto::Hash h;
    std::memcpy(h.data(), ids.data() + off, h.size());
    KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(h));
    if (!loc) ++missing;
  }
  if (missing != 0) {
    return Status::NotFound(
        Tr("スナップショット {} が参照するデータ {} 個が {} にありません。送り直してください",
           "{1} blobs snapshot {0} refers to are not in {2}; send it again", id.substr(0, 8), missing,
           store_->Location()));
  }
  CommitAnswer answer;
  answer.received = clock_.NowUnix();
  answer.clock_warning = std::llabs(snap.plain.time - answer.received) > kClockWarningSeconds;
  auto existing = store_->GetRange(ObjectType::kSnapshot, id, 0, 0);
  answer.created = !existing.ok();
  if (answer.created) KURA_RETURN_IF_ERROR(store_->Put(ObjectType::kSnapshot, id, snapshot));
  return answer;
}

}  // namespace kura
