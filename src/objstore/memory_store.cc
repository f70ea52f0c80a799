#include "objstore/memory_store.h"

#include <algorithm>
#include <chrono>

#include "objstore/object_name.h"
#include "objstore/store_status.h"
#include "util/i18n.h"

namespace kura {

namespace {

class MemoryLock : public StoreLock {
 public:
  MemoryLock(std::shared_ptr<MemoryStore::LockState> state, bool exclusive)
      : state_(std::move(state)), exclusive_(exclusive) {}
  ~MemoryLock() override {
    {
      std::lock_guard<std::mutex> guard(state_->mu);
      if (exclusive_) {
        state_->exclusive = false;
      } else {
        --state_->shared;
      }
    }
    state_->released.notify_all();
  }

 private:
  std::shared_ptr<MemoryStore::LockState> state_;
  bool exclusive_;
};

}  // namespace

MemoryStore::MemoryStore(std::string location)
    : location_(std::move(location)), lock_state_(std::make_shared<LockState>()) {}

std::shared_ptr<const Bytes> MemoryStore::Find(ObjectType type, const std::string& name) const {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = objects_.find({type, name});
  return it == objects_.end() ? nullptr : it->second;
}

Status MemoryStore::Put(ObjectType type, const std::string& name, ByteView data) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  auto bytes = std::make_shared<const Bytes>(data.begin(), data.end());
  std::lock_guard<std::mutex> guard(mu_);
  if (type == ObjectType::kConfig) {
    objects_[{type, name}] = std::move(bytes);
  } else if (!objects_.try_emplace({type, name}, std::move(bytes)).second) {
    return Status::Ok();  // an existing object is kept
  }
  mtimes_[{type, name}] = clock_ ? clock_->NowUnix() : 0;
  return Status::Ok();
}

Status MemoryStore::PutIfAbsent(ObjectType type, const std::string& name, ByteView data) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  auto bytes = std::make_shared<const Bytes>(data.begin(), data.end());
  std::lock_guard<std::mutex> guard(mu_);
  if (!objects_.try_emplace({type, name}, std::move(bytes)).second) {
    return Status::AlreadyExists(Tr("{} には既に {} があります", "{} already holds {}", location_, name));
  }
  mtimes_[{type, name}] = clock_ ? clock_->NowUnix() : 0;
  return Status::Ok();
}

Status MemoryStore::MoveAside(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  std::lock_guard<std::mutex> guard(mu_);
  auto it = objects_.find({type, name});
  if (it == objects_.end()) return ObjectNotFoundStatus(type, name, location_);
  aside_[it->first] = it->second;
  mtimes_.erase(it->first);
  objects_.erase(it);
  return Status::Ok();
}

void MemoryStore::SetClock(const Clock* clock) {
  std::lock_guard<std::mutex> guard(mu_);
  clock_ = clock;
}

std::vector<std::string> MemoryStore::MovedAside(ObjectType type) const {
  std::lock_guard<std::mutex> guard(mu_);
  std::vector<std::string> out;
  for (const auto& [key, bytes] : aside_) {
    if (key.first == type) out.push_back(key.second);
  }
  return out;
}

Result<Bytes> MemoryStore::Get(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  std::shared_ptr<const Bytes> bytes = Find(type, name);
  if (bytes == nullptr) return ObjectNotFoundStatus(type, name, location_);
  return *bytes;
}

Result<Bytes> MemoryStore::GetRange(ObjectType type, const std::string& name, uint64_t offset,
                                    uint64_t length) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  KURA_RETURN_IF_ERROR(CheckRange(location_, offset, length));
  std::shared_ptr<const Bytes> bytes = Find(type, name);
  if (bytes == nullptr) return ObjectNotFoundStatus(type, name, location_);
  if (bytes->size() < offset + length) {
    return TruncatedObjectStatus(type, name, location_, bytes->size(), offset + length);
  }
  auto begin = bytes->begin() + static_cast<ptrdiff_t>(offset);
  return Bytes(begin, begin + static_cast<ptrdiff_t>(length));
}

Result<std::vector<ObjectInfo>> MemoryStore::List(ObjectType type) {
  std::vector<ObjectInfo> out;
  std::lock_guard<std::mutex> guard(mu_);
  for (auto it = objects_.lower_bound({type, std::string()}); it != objects_.end() && it->first.first == type;
       ++it) {
    auto t = mtimes_.find(it->first);
    out.push_back({it->first.second, it->second->size(), t == mtimes_.end() ? 0 : t->second});
  }
  return out;
}

Status MemoryStore::Delete(ObjectType type, const std::string& name) {
  KURA_RETURN_IF_ERROR(CheckObjectName(type, name));
  std::lock_guard<std::mutex> guard(mu_);
  objects_.erase({type, name});
  mtimes_.erase({type, name});
  return Status::Ok();
}

Result<std::unique_ptr<StoreLock>> MemoryStore::Lock(LockMode mode, int timeout_ms) {
  const bool exclusive = mode == LockMode::kExclusive;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
  LockState& state = *lock_state_;
  std::unique_lock<std::mutex> guard(state.mu);
  auto available = [&] { return !state.exclusive && (!exclusive || state.shared == 0); };
  if (!state.released.wait_until(guard, deadline, available)) {
    return Status::Locked(
        Tr("別の kura の処理がこのリポジトリを使用中です ({})。{} 秒待っても解放されませんでした。"
           "その処理が終わるのを待ってから再実行してください",
           "another kura process is using this repository ({}); it was not released within {} "
           "seconds. Wait for it to finish, then run again",
           location_, timeout_ms / 1000.0));
  }
  if (exclusive) {
    state.exclusive = true;
  } else {
    ++state.shared;
  }
  return std::unique_ptr<StoreLock>(new MemoryLock(lock_state_, exclusive));
}

}  // namespace kura
