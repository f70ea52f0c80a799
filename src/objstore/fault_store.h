// An ObjectStore that wraps another and injects I/O faults, for tests of what kura does
// when the disk fills up, a Put fails, a write tears or stored bytes rot (the role of
// LevelDB's FaultInjectionTestEnv). Without faults every call goes straight to the base
// store. See docs/objstore.md, "Fault store".
//
//   MemoryStore base;
//   FaultStore store(&base);
//   store.SetPutByteBudget(1 << 20);  // the "disk" fills after 1 MiB
//   store.TearNextPut(100);           // the next Put leaves a 100-byte torn object
//
// Thread-safe: faults may be set from one thread while others call the store. Each
// one-shot fault (FailNthPut, TearNextPut) fires exactly once.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "objstore/object_store.h"

namespace kura {

class FaultStore : public ObjectStore {
 public:
  // `base` is not owned and must outlive this store. Tests usually keep the base to look
  // at what was really stored.
  explicit FaultStore(ObjectStore* base) : base_(base) {}

  // A disk with `bytes` free: each successful Put uses data.size() of it, and a Put that
  // does not fit fails with kNoSpace (the same message as a real full disk) and stores
  // nothing. std::nullopt removes the limit. Default: no limit.
  void SetPutByteBudget(std::optional<uint64_t> bytes);

  // The `n`th Put from now (1 = the next one) fails with `status` and stores nothing.
  // REQUIRES: n >= 1, !status.ok()
  void FailNthPut(uint64_t n, Status status);

  // Every Put of `type` fails with `status` and stores nothing, until ClearFaults().
  // REQUIRES: !status.ok()
  void FailPutsOfType(ObjectType type, Status status);

  // The next Put stores only its first `keep_bytes` bytes (all of them if fewer) under the
  // final name in the base store and returns kIOError: what a crash in the middle of a
  // write leaves on a filesystem without atomic rename. The base's own Put is used, so
  // this works over any store; its result is indistinguishable from a real torn file.
  void TearNextPut(uint64_t keep_bytes);

  // Reads of (type, name) see the byte at object offset `offset` flipped (XOR 0xff), as
  // if it rotted on disk: Get when the object is longer than `offset`, GetRange when its
  // range covers `offset`. The stored bytes are not changed.
  void CorruptReads(ObjectType type, const std::string& name, uint64_t offset = 0);

  // Every Get and GetRange of (type, name) fails with `status`, as a file the operating
  // system refuses to open (EACCES) does. Tests run as root, which ignores mode bits, so
  // this is how they get a pack that really cannot be read. REQUIRES: !status.ok()
  void FailReads(ObjectType type, const std::string& name, Status status);

  // Removes every fault set above. Counters are kept.
  void ClearFaults();

  struct Counters {
    uint64_t puts = 0;         // Put calls, failed ones included
    uint64_t failed_puts = 0;  // Puts that returned an error (injected or from the base)
    uint64_t gets = 0;
    uint64_t get_ranges = 0;
    uint64_t lists = 0;
    uint64_t deletes = 0;
    uint64_t locks = 0;
    uint64_t bytes_put = 0;   // bytes of successful Puts
    uint64_t bytes_read = 0;  // bytes returned by Get and GetRange
  };
  Counters counters() const;
  void ResetCounters();

  Status Put(ObjectType type, const std::string& name, ByteView data) override;
  Result<Bytes> Get(ObjectType type, const std::string& name) override;
  Result<Bytes> GetRange(ObjectType type, const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(ObjectType type) override;
  Status Delete(ObjectType type, const std::string& name) override;
  Status PutIfAbsent(ObjectType type, const std::string& name, ByteView data) override;
  Status MoveAside(ObjectType type, const std::string& name) override;
  Status RemoveStaleTemporaryFiles(int64_t cutoff_unix) override {
    return base_->RemoveStaleTemporaryFiles(cutoff_unix);
  }
  Result<std::unique_ptr<StoreLock>> Lock(LockMode mode, int timeout_ms) override;
  std::string Location() const override { return base_->Location(); }

 private:
  std::optional<uint64_t> CorruptOffset(ObjectType type, const std::string& name) const;
  std::optional<Status> ReadFault(ObjectType type, const std::string& name) const;
  void CountRead(bool range, const Result<Bytes>& result);

  ObjectStore* const base_;
  mutable std::mutex mu_;
  // Everything below is guarded by mu_.
  std::optional<uint64_t> budget_;
  uint64_t put_seq_ = 0;  // Puts seen so far; FailNthPut counts against it
  std::optional<uint64_t> fail_put_at_;
  Status fail_put_status_;
  std::map<ObjectType, Status> fail_type_;
  std::optional<uint64_t> tear_keep_;
  std::map<std::pair<ObjectType, std::string>, uint64_t> corrupt_;
  std::map<std::pair<ObjectType, std::string>, Status> fail_reads_;
  Counters counters_;
};

}  // namespace kura
