#include "agent/vault_read_store.h"

#include <algorithm>

#include "util/i18n.h"

namespace kura {

namespace {

class NoLock : public StoreLock {};

}  // namespace

VaultReadStore::VaultReadStore(VaultReadOptions options) : options_(std::move(options)) {}

VaultReadStore::~VaultReadStore() {
  std::fill(options_.session.begin(), options_.session.end(), '\0');
}

Result<std::unique_ptr<VaultReadStore>> VaultReadStore::Open(VaultReadOptions options) {
  if (options.connections == 0) options.connections = 1;
  if (options.max_request_bytes == 0) options.max_request_bytes = uint64_t{8} << 20;
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  auto store = std::unique_ptr<VaultReadStore>(new VaultReadStore(std::move(options)));
  // The first connection now: a bad URL or session fails here, not in the middle of a restore.
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> first, store->Acquire());
  store->Release(std::move(first), 0);
  return store;
}

Result<std::unique_ptr<VaultClient>> VaultReadStore::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.connections; });
  if (!idle_.empty()) {
    std::unique_ptr<VaultClient> c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  VaultOptions vo;
  vo.url = options_.url;
  vo.pin = options_.pin;
  vo.session = options_.session;
  vo.repository = options_.repository;
  vo.retry = options_.retry;
  vo.connect_timeout = options_.connect_timeout;
  vo.idle_timeout = options_.idle_timeout;
  Result<std::unique_ptr<VaultClient>> made = VaultClient::Create(std::move(vo));
  if (!made.ok()) {
    std::lock_guard<std::mutex> relock(mu_);
    --open_;
    idle_cv_.notify_one();
  }
  return made;
}

void VaultReadStore::Release(std::unique_ptr<VaultClient> client, uint64_t requests_before) {
  requests_ += client->requests() - requests_before;
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(client));
  idle_cv_.notify_one();
}

uint64_t VaultReadStore::requests() const {
  return requests_.load();
}

std::string VaultReadStore::Location() const {
  return options_.url + "/v1/repos/" + options_.repository;
}

Status VaultReadStore::ReadOnly(std::string_view what) const {
  return Status::PermissionDenied(Tr("保管庫 {} への復元の許可は読み取り専用です ({} はできません)",
                                     "a restore grant of the vault {} only reads ({} is not allowed)",
                                     options_.url, what));
}

Status VaultReadStore::Put(ObjectType, const std::string&, ByteView) {
  return ReadOnly(L("書き込み", "writing"));
}
Status VaultReadStore::PutIfAbsent(ObjectType, const std::string&, ByteView) {
  return ReadOnly(L("書き込み", "writing"));
}
Status VaultReadStore::Delete(ObjectType, const std::string&) {
  return ReadOnly(L("削除", "deleting"));
}
Status VaultReadStore::MoveAside(ObjectType, const std::string&) {
  return ReadOnly(L("損傷したオブジェクトの移動", "moving a damaged object aside"));
}

Result<std::unique_ptr<StoreLock>> VaultReadStore::Lock(LockMode mode, int) {
  if (mode == LockMode::kExclusive) return ReadOnly(L("排他ロック", "an exclusive lock"));
  return std::unique_ptr<StoreLock>(new NoLock());
}

Result<Bytes> VaultReadStore::ReadPart(ObjectType type, const std::string& name, ByteRange range,
                                       uint64_t* total) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> client, Acquire());
  const uint64_t before = client->requests();
  Result<Bytes> part = client->ReadObject(type, name, range, total);
  const bool past_end = !part.ok() && client->last_error_code() == "range_not_satisfiable";
  Release(std::move(client), before);
  if (past_end) {
    return Status::Corruption(Tr("保管庫 {} の {} {} が途中で切れています (位置 {} より短い)",
                                 "{1} {2} in the vault {0} is cut short (shorter than offset {3})",
                                 options_.url, ObjectTypeName(type), name, range.offset));
  }
  return part;
}

Result<Bytes> VaultReadStore::Get(ObjectType type, const std::string& name) {
  if (type == ObjectType::kConfig || type == ObjectType::kKey) {
    // Small objects the vault serves whole.
    KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> client, Acquire());
    const uint64_t before = client->requests();
    Result<Bytes> whole = client->ReadObject(type, name, std::nullopt, nullptr);
    Release(std::move(client), before);
    return whole;
  }
  Bytes out;
  uint64_t total = 0;
  do {
    KURA_ASSIGN_OR_RETURN(Bytes part, ReadPart(type, name, {out.size(), options_.max_request_bytes}, &total));
    if (part.empty()) break;
    out.insert(out.end(), part.begin(), part.end());
  } while (out.size() < total);
  if (out.size() != total) {
    return Status::Corruption(Tr("保管庫 {} の {} {} の長さが読むうちに変わりました",
                                 "{1} {2} in the vault {0} changed its length while it was read",
                                 options_.url, ObjectTypeName(type), name));
  }
  return out;
}

Result<Bytes> VaultReadStore::GetRange(ObjectType type, const std::string& name, uint64_t offset,
                                       uint64_t length) {
  if (length == 0) {
    // Only whether the object reaches `offset`.
    uint64_t total = 0;
    KURA_RETURN_IF_ERROR(ReadPart(type, name, {offset == 0 ? 0 : offset - 1, 1}, &total).status());
    return Bytes{};
  }
  const uint64_t w = options_.max_request_bytes;
  if (type == ObjectType::kPack && options_.pack_windows > 0 && w > 0 &&
      offset / w == (offset + length - 1) / w) {
    KURA_ASSIGN_OR_RETURN(std::shared_ptr<const Bytes> window, PackWindow(name, offset / w));
    const uint64_t at = offset % w;
    if (at + length > window->size()) {
      return Status::Corruption(Tr("保管庫 {} の {} {} が途中で切れています ({} バイトで終わり、{} まで必要)",
                                   "{1} {2} in the vault {0} is cut short (it ends at {3} bytes, {4} needed)",
                                   options_.url, ObjectTypeName(type), name, offset - at + window->size(),
                                   offset + length));
    }
    return Bytes(window->begin() + static_cast<std::ptrdiff_t>(at),
                 window->begin() + static_cast<std::ptrdiff_t>(at + length));
  }
  Bytes out;
  out.reserve(static_cast<size_t>(std::min<uint64_t>(length, options_.max_request_bytes)));
  while (out.size() < length) {
    const uint64_t want = std::min<uint64_t>(length - out.size(), options_.max_request_bytes);
    uint64_t total = 0;
    KURA_ASSIGN_OR_RETURN(Bytes part, ReadPart(type, name, {offset + out.size(), want}, &total));
    if (part.size() != want) {
      return Status::Corruption(Tr("保管庫 {} の {} {} が途中で切れています ({} バイトで終わり、{} まで必要)",
                                   "{1} {2} in the vault {0} is cut short (it ends at {3} bytes, {4} needed)",
                                   options_.url, ObjectTypeName(type), name, total, offset + length));
    }
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Result<std::shared_ptr<const Bytes>> VaultReadStore::PackWindow(const std::string& name, uint64_t index) {
  const std::pair<std::string, uint64_t> key(name, index);
  std::promise<Result<std::shared_ptr<const Bytes>>> fetch;
  Window window;
  bool mine = false;
  {
    std::lock_guard lock(windows_mu_);
    auto it = std::find_if(windows_.begin(), windows_.end(), [&](const auto& e) { return e.first == key; });
    if (it != windows_.end()) {
      windows_.splice(windows_.begin(), windows_, it);  // most recent first
      window = it->second;
    } else {
      window = fetch.get_future().share();
      windows_.emplace_front(key, window);
      while (windows_.size() > options_.pack_windows) windows_.pop_back();  // waiters keep theirs
      mine = true;
    }
  }
  if (mine) {
    const uint64_t w = options_.max_request_bytes;
    uint64_t total = 0;
    Result<Bytes> part = ReadPart(ObjectType::kPack, name, {index * w, w}, &total);
    if (part.ok()) {
      fetch.set_value(std::make_shared<const Bytes>(std::move(*part)));
    } else {
      fetch.set_value(part.status());
      // A failed window is not kept: the next read asks the vault again.
      std::lock_guard lock(windows_mu_);
      windows_.remove_if([&](const auto& e) {
        return e.first == key && e.second.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
               !e.second.get().ok();
      });
    }
  }
  return window.get();
}

Result<std::vector<ObjectInfo>> VaultReadStore::List(ObjectType type) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> client, Acquire());
  const uint64_t before = client->requests();
  Result<std::vector<ObjectInfo>> listed = client->ListObjects(type);
  Release(std::move(client), before);
  return listed;
}

}  // namespace kura
