#include "repo/repository.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "repo/blob.h"
#include "repo/format.h"
#include "repo/retention.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

static std::string ObjectName(ByteView bytes) {
  return ToHex(crypto::Sha256(bytes));
}

static Status NoCredentials() {
  return Status::InvalidArgument(
      L("パスワードまたは鍵ファイルが指定されていません。KURA_PASSWORD_FILE、KURA_PASSWORD または "
        "--key-file で指定してください",
        "no password or key file given; set KURA_PASSWORD_FILE or KURA_PASSWORD, or use --key-file"));
}

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<ObjectStore> store,
                                                     const Credentials& creds, const InitOptions& options,
                                                     const Clock& clock) {
  if (!creds.password && !creds.key_file) return NoCredentials();
  auto existing = store->Get(ObjectType::kConfig, "config");
  if (existing.ok()) {
    return Status::AlreadyExists(
        Tr("{} には既にリポジトリがあります", "{} already holds a repository", store->Location()));
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  if (!options.chunker.Valid()) {
    return Status::InvalidArgument(
        L("チャンクサイズの指定が正しくありません", "invalid chunk size parameters"));
  }
  std::unique_ptr<Repository> repo(new Repository());
  repo->config_.version = format::kRepositoryVersion;
  repo->config_.id = ToHex(crypto::RandomBytes(16));
  repo->config_.created = FormatUtc(clock.NowUnix());
  repo->config_.chunker = options.chunker;
  repo->config_.pack_target_size =
      options.pack_target_size ? options.pack_target_size : format::kDefaultPackTargetSize;
  crypto::SecretKey master = crypto::SecretKey::Random();
  KeySlotInfo info{repo->config_.id, options.label, options.host, repo->config_.created};
  Result<Bytes> slot = creds.password ? MakeSecretSlot(master, KeySlotKind::kPassword, *creds.password, info)
                                      : Status::NotFound("");
  if (!creds.password) {
    KURA_ASSIGN_OR_RETURN(std::string secret, ReadKeyFile(*creds.key_file));
    slot = MakeSecretSlot(master, KeySlotKind::kKeyFile, secret, info);
    SecureZero(secret.data(), secret.size());
  }
  if (!slot.ok()) return slot.status();
  // The key slot goes first: a config without a key would be a repository nobody can open.
  repo->opened_slot_ = ObjectName(*slot);
  KURA_RETURN_IF_ERROR(store->Put(ObjectType::kKey, repo->opened_slot_, *slot));
  // Exclusive creation: of two `kura init` racing on one directory exactly one gets here
  // first; the other must not report success with an ID nobody can open.
  Status created = store->PutIfAbsent(ObjectType::kConfig, "config", repo->config_.Serialize());
  if (!created.ok()) {
    (void)store->Delete(ObjectType::kKey, repo->opened_slot_);  // a slot for an ID that never was
    if (created.code() == Code::kAlreadyExists) {
      return Status::AlreadyExists(
          Tr("{} には既にリポジトリがあります (同時に実行された別の初期化が作成しました)。"
             "このリポジトリを使うか、別のパスを指定してください",
             "{} already holds a repository (another initialisation created it at the same "
             "time); use that repository or give another path",
             store->Location()));
    }
    return created;
  }
  repo->keys_ = RepoKeys::Derive(master);
  repo->chunker_ = std::make_unique<Chunker>(repo->keys_.chunker, repo->config_.chunker);
  repo->store_ = std::move(store);
  return repo;
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<ObjectStore> store,
                                                     const Credentials& creds) {
  auto config_bytes = store->Get(ObjectType::kConfig, "config");
  if (!config_bytes.ok()) {
    if (config_bytes.status().code() == Code::kNotFound) {
      return Status::NotFound(Tr("{} は kura のリポジトリではありません。パスを確認してください",
                                 "{} is not a kura repository; check the path", store->Location()))
          .WithAdvice(Advice::kCreateRepository);
    }
    return config_bytes.status();
  }
  auto parsed = RepoConfig::Parse(*config_bytes, store->Location());
  if (!parsed.ok() && parsed.status().code() == Code::kNotFound &&
      AsString(*config_bytes).find_first_not_of(" \t\r\n") == std::string_view::npos) {
    // An empty config beside key slots is kura's, cut to nothing (a crash before fsync).
    auto keys = store->List(ObjectType::kKey);
    if (keys.ok() && !keys->empty()) return RepoConfig::Damaged(store->Location());
  }
  if (!parsed.ok()) return parsed.status();
  RepoConfig config = std::move(*parsed);
  if (creds.empty()) return NoCredentials();
  // A key file that cannot be read is a problem with the file, not a wrong key: say so,
  // whoever opens the repository (the command line or a job's target).
  for (const std::optional<std::string>* file : {&creds.key_file, &creds.recovery_secret_key_file}) {
    if (!*file) continue;
    auto secret = ReadKeyFile(**file);
    if (!secret.ok()) {
      return Status::InvalidArgument(
          Tr("鍵ファイルを読めません。--key-file、KURA_KEY_FILE または設定の key_file を確認してください: {}",
             "cannot read the key file; check --key-file, KURA_KEY_FILE or the key_file setting: {}",
             secret.status().message()));
    }
    SecureZero(secret->data(), secret->size());
  }
  std::unique_ptr<Repository> repo(new Repository());
  repo->config_ = std::move(config);
  std::vector<std::string> damaged_names;
  KURA_ASSIGN_OR_RETURN(std::vector<KeySlot> slots, repo->ListKeysFrom(*store, &damaged_names));
  std::vector<std::string> damaged_slots;
  for (const std::string& name : damaged_names) damaged_slots.push_back(ShortId(name));
  std::optional<crypto::SecretKey> master;
  bool refused = false;  // an intact slot of the offered kind did not open: a wrong secret
  for (const KeySlot& slot : slots) {
    auto key = UnwrapSlot(slot, repo->config_.id, creds);
    if (key.ok()) {
      master = *key;
      repo->opened_slot_ = slot.id;
      break;
    }
    Code c = key.status().code();
    // A damaged slot must not lock out the others (nor should its position in the list
    // decide whether the repository opens): try the rest, and say so if nothing opened.
    // A slot whose bytes no longer match its SHA-256 name is damaged, whatever it says.
    if (c == Code::kCorruption || (c == Code::kUnauthorized && !slot.intact)) {
      damaged_slots.push_back(ShortId(slot.id));
      continue;
    }
    if (c == Code::kUnauthorized) {
      refused = true;
      continue;
    }
    // A key file or recovery key that cannot be read is the user's problem to hear about.
    if (c != Code::kNotFound) return key.status();
  }
  if (!master) {
    if (slots.empty() && damaged_slots.empty()) {
      return Status::Corruption(Tr(
          "{} のリポジトリには鍵スロットがありません (keys/ が空か、ありません)。このままでは誰も開けません。"
          "リポジトリのコピー (別の保存先や保管庫) から keys/ を戻してください",
          "the repository at {} has no key slot (keys/ is empty or missing), so nobody can open "
          "it. Restore keys/ from a copy of the repository (another target or the vault)",
          store->Location()));
    }
    if (!refused && !damaged_slots.empty()) {
      return Status::Corruption(
          Tr("{} の鍵スロットが壊れています ({}): 内容が名前 (SHA-256) と一致しないか、読めません。"
             "パスワードや鍵ファイルの問題ではありません。リポジトリのコピー (別の保存先や保管庫) から "
             "keys/ の該当ファイルを戻すか、別のパスワードや鍵ファイルがあればそれで開いてください",
             "the key slot of {} is damaged ({}): its content does not match its name (SHA-256) or "
             "cannot be read; the password or key file is not the problem. Restore that file in keys/ "
             "from a copy of the repository (another target or the vault), or open it with another "
             "password or key file if you have one",
             store->Location(), fmt::join(damaged_slots, ", ")));
    }
    std::string msg = L("パスワードまたは鍵ファイルが正しくありません。リポジトリを開けませんでした",
                        "wrong password or key file: the repository could not be opened");
    if (!damaged_slots.empty()) {
      msg +=
          Tr(" (壊れた鍵スロットもあります: {}。それがこのパスワードの鍵だった場合は、リポジトリのコピーから "
             "keys/ の該当ファイルを戻してください)",
             " (there are also damaged key slots: {}; if one of them was this password's, restore it in "
             "keys/ from a "
             "copy of the repository)",
             fmt::join(damaged_slots, ", "));
    }
    return Status::Unauthorized(msg);
  }
  repo->keys_ = RepoKeys::Derive(*master);
  repo->chunker_ = std::make_unique<Chunker>(repo->keys_.chunker, repo->config_.chunker);
  repo->store_ = std::move(store);
  return repo;
}

Result<IndexCache*> Repository::Cache() {
  if (!cache_) {
    KURA_ASSIGN_OR_RETURN(cache_, IndexCache::Open(DefaultCacheRoot() + "/" + config_.id));
  }
  if (!cache_synced_) KURA_RETURN_IF_ERROR(Resync().status());
  return cache_.get();
}

Result<SyncStats> Repository::Resync() {
  if (!cache_) {
    KURA_ASSIGN_OR_RETURN(cache_, IndexCache::Open(DefaultCacheRoot() + "/" + config_.id));
  }
  KURA_ASSIGN_OR_RETURN(SyncStats stats, cache_->Sync(*store_));
  cache_synced_ = true;
  return stats;
}

Result<std::vector<Snapshot>> Repository::ListSnapshots(std::vector<std::string>* damaged, bool with_blobs) {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, store_->List(ObjectType::kSnapshot));
  std::vector<Snapshot> out;
  for (const ObjectInfo& o : objs) {
    auto bytes = store_->Get(ObjectType::kSnapshot, o.name);
    if (!bytes.ok()) {
      if (bytes.status().code() == Code::kNotFound) continue;  // removed meanwhile
      return bytes.status();
    }
    auto snap = ParseSnapshot(o.name, *bytes, with_blobs);
    if (!snap.ok() || ObjectName(*bytes) != o.name) {
      if (damaged) damaged->push_back(o.name);
      continue;
    }
    out.push_back(std::move(*snap));
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.plain.OrderKey() != b.plain.OrderKey() ? a.plain.OrderKey() < b.plain.OrderKey() : a.id < b.id;
  });
  return out;
}

Result<Snapshot> Repository::LoadSnapshot(const std::string& id) {
  KURA_ASSIGN_OR_RETURN(Bytes bytes, store_->Get(ObjectType::kSnapshot, id));
  if (ObjectName(bytes) != id) {
    return Status::Corruption(Tr("スナップショット {} が壊れています (ハッシュ不一致)",
                                 "snapshot {} is damaged (hash mismatch)", ShortId(id)));
  }
  return ParseSnapshot(id, bytes, /*with_blobs=*/true);
}

Result<Snapshot> Repository::FindSnapshot(const std::string& ref, const Clock& clock) {
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, ListSnapshots(nullptr, /*with_blobs=*/false));
  if (ref == "latest") {
    if (all.empty()) {
      return Status::NotFound(L("スナップショットがまだありません", "the repository has no snapshots yet"));
    }
    // A snapshot stamped by a clock set to 2036 must not stay `latest` for ten years.
    return *LatestSnapshot(all, clock.NowUnix());
  }
  const Snapshot* found = nullptr;
  if (ref.size() >= 4) {
    for (const Snapshot& s : all) {
      if (s.id.compare(0, ref.size(), ref) != 0) continue;
      if (found) {
        return Status::InvalidArgument(
            Tr("{} に当てはまるスナップショットが複数あります。もっと長く指定してください",
               "{} matches more than one snapshot; give more digits", ref));
      }
      found = &s;
    }
  }
  if (!found) {
    return Status::NotFound(Tr("スナップショット {} が見つかりません", "snapshot {} not found", ref))
        .WithAdvice(Advice::kListSnapshots);
  }
  return *found;
}

Result<SnapshotMeta> Repository::LoadHead(const std::string& snapshot_id) {
  KURA_ASSIGN_OR_RETURN(Bytes bytes, store_->Get(ObjectType::kSnapshot, snapshot_id));
  if (ObjectName(bytes) != snapshot_id) {
    return Status::Corruption(Tr("スナップショット {} が壊れています (ハッシュ不一致)",
                                 "snapshot {} is damaged (hash mismatch)", ShortId(snapshot_id)));
  }
  return OpenSnapshotMeta(keys_, snapshot_id, bytes);
}

Result<std::unique_ptr<EntryReader>> Repository::OpenEntries(const std::string& snapshot_id) {
  KURA_ASSIGN_OR_RETURN(SnapshotMeta head, LoadHead(snapshot_id));
  return OpenEntries(snapshot_id, head);
}

std::unique_ptr<EntryReader> Repository::OpenEntries(const std::string& snapshot_id, SnapshotMeta& head) {
  return MakeEntryReader(
      head, [this](const crypto::Hash& id) { return ReadBlob(id); }, snapshot_id);
}

Result<SnapshotMeta> Repository::LoadMeta(const std::string& snapshot_id) {
  KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, LoadHead(snapshot_id));
  if (meta.version < 3) return meta;
  if (!meta.pages.empty()) KURA_RETURN_IF_ERROR(Cache().status());
  SnapshotMeta copy = meta;
  std::unique_ptr<EntryReader> reader = OpenEntries(snapshot_id, copy);
  SnapshotEntry e;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool more, reader->Next(&e));
    if (!more) break;
    meta.entries.push_back(std::move(e));
  }
  return meta;
}

Result<Bytes> Repository::ReadBlob(const crypto::Hash& id, bool check_id) {
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, Cache());
  KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(id));
  if (!loc) {
    return Status::NotFound(
        Tr("データ {} がどのパックにもありません", "blob {} is in no pack", ToHex(id).substr(0, 16)));
  }
  KURA_ASSIGN_OR_RETURN(Bytes sealed, store_->GetRange(ObjectType::kPack, loc->pack, loc->entry.offset,
                                                       loc->entry.stored_length));
  return DecodeBlob(keys_, loc->entry, sealed, check_id);
}

Result<std::vector<KeySlot>> Repository::ListKeysFrom(ObjectStore& store, std::vector<std::string>* damaged) {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> objs, store.List(ObjectType::kKey));
  std::vector<KeySlot> out;
  for (const ObjectInfo& o : objs) {
    auto bytes = store.Get(ObjectType::kKey, o.name);
    if (!bytes.ok() && bytes.status().code() == Code::kNotFound) {
      if (damaged) damaged->push_back(o.name);  // listed, then gone (or unreadable as such)
      continue;
    }
    if (!bytes.ok()) return bytes.status();
    auto slot = ParseKeySlot(o.name, *bytes);
    if (!slot.ok()) {  // a damaged slot (or one of a newer kura) must not lock out the others
      if (damaged && slot.status().code() == Code::kCorruption) damaged->push_back(o.name);
      continue;
    }
    slot->intact = ObjectName(*bytes) == o.name;
    if (slot->doc.value("repository", "") != config_.id) {
      if (!slot->intact && damaged) damaged->push_back(o.name);  // the damage may be in the ID
      continue;
    }
    out.push_back(std::move(*slot));
  }
  std::sort(out.begin(), out.end(), [](const KeySlot& a, const KeySlot& b) { return a.created < b.created; });
  return out;
}

Result<std::vector<KeySlot>> Repository::ListKeys() {
  return ListKeysFrom(*store_);
}

Result<std::string> Repository::AddSecretKey(KeySlotKind kind, std::string_view secret,
                                             const KeySlotInfo& info) {
  KeySlotInfo i = info;
  i.repository_id = config_.id;
  KURA_ASSIGN_OR_RETURN(Bytes slot, MakeSecretSlot(keys_.master, kind, secret, i));
  std::string name = ObjectName(slot);
  KURA_RETURN_IF_ERROR(store_->Put(ObjectType::kKey, name, slot));
  return name;
}

Result<std::string> Repository::AddRecoveryKey(ByteView public_key, const KeySlotInfo& info) {
  if (public_key.size() != crypto::kBoxPublicKeySize) {
    return Status::InvalidArgument(L("復旧用公開鍵は 32 バイト (16 進 64 文字) である必要があります",
                                     "a recovery public key is 32 bytes (64 hex digits)"));
  }
  KeySlotInfo i = info;
  i.repository_id = config_.id;
  KURA_ASSIGN_OR_RETURN(Bytes slot, MakeRecoverySlot(keys_.master, public_key, i));
  std::string name = ObjectName(slot);
  KURA_RETURN_IF_ERROR(store_->Put(ObjectType::kKey, name, slot));
  return name;
}

Status Repository::RemoveKey(const std::string& id_or_prefix) {
  KURA_ASSIGN_OR_RETURN(std::vector<KeySlot> slots, ListKeys());
  const KeySlot* target = nullptr;
  for (const KeySlot& s : slots) {
    if (id_or_prefix.size() >= 4 && s.id.compare(0, id_or_prefix.size(), id_or_prefix) == 0) {
      if (target) {
        return Status::InvalidArgument(
            Tr("{} に当てはまる鍵が複数あります", "{} matches more than one key", id_or_prefix));
      }
      target = &s;
    }
  }
  if (!target) return Status::NotFound(Tr("鍵 {} が見つかりません", "key {} not found", id_or_prefix));
  if (target->kind != KeySlotKind::kRecovery) {
    size_t usable = std::count_if(slots.begin(), slots.end(),
                                  [](const KeySlot& s) { return s.kind != KeySlotKind::kRecovery; });
    if (usable <= 1) {
      return Status::InvalidArgument(
          L("最後のパスワード/鍵ファイルは削除できません。先に別の鍵を追加してください",
            "refusing to remove the last password or key file; add another key first"));
    }
  }
  return store_->Delete(ObjectType::kKey, target->id);
}

}  // namespace kura
