// An ObjectStore in memory, for tests. Same semantics as LocalStore (docs/objstore.md):
// names are checked the same way, Put of an existing immutable object does nothing,
// kConfig is replaced, a short GetRange is kCorruption, and Lock() gives shared/exclusive
// locks with the same timeout and kLocked behaviour (scoped to this store object, not to
// a process).
//
// Thread-safe. A StoreLock may outlive the store that issued it.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "objstore/object_store.h"
#include "util/clock.h"

namespace kura {

class MemoryStore : public ObjectStore {
 public:
  // `location` is what Location() returns and error messages name. Default: "memory:".
  explicit MemoryStore(std::string location = "memory:");

  Status Put(ObjectType type, const std::string& name, ByteView data) override;
  Result<Bytes> Get(ObjectType type, const std::string& name) override;
  Result<Bytes> GetRange(ObjectType type, const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(ObjectType type) override;
  Status Delete(ObjectType type, const std::string& name) override;
  Status PutIfAbsent(ObjectType type, const std::string& name, ByteView data) override;
  Status MoveAside(ObjectType type, const std::string& name) override;
  Result<std::unique_ptr<StoreLock>> Lock(LockMode mode, int timeout_ms) override;
  std::string Location() const override { return location_; }

  // Objects Put from now on get `clock`'s time as their ObjectInfo::mtime (not owned; must
  // outlive the store). Default: none, mtime 0 ("unknown").
  void SetClock(const Clock* clock);
  // Objects MoveAside() put away, by type. For tests.
  std::vector<std::string> MovedAside(ObjectType type) const;

  // Lock bookkeeping; shared with every StoreLock so a lock can be released after the
  // store is gone.
  struct LockState {
    std::mutex mu;
    std::condition_variable released;
    int shared = 0;          // guarded by mu
    bool exclusive = false;  // guarded by mu
  };

 private:
  using Key = std::pair<ObjectType, std::string>;

  // The stored bytes, shared so that Get copies outside the lock.
  std::shared_ptr<const Bytes> Find(ObjectType type, const std::string& name) const;

  const std::string location_;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<const Bytes>> objects_;  // guarded by mu_
  std::map<Key, int64_t> mtimes_;                        // guarded by mu_
  std::map<Key, std::shared_ptr<const Bytes>> aside_;    // guarded by mu_
  const Clock* clock_ = nullptr;                         // guarded by mu_
  std::shared_ptr<LockState> lock_state_;
};

}  // namespace kura
