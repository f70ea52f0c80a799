// Where a repository's objects live. The repository format (docs/format.md) is written only
// through this interface, so the same code runs on a local directory, the vault (later) and
// the in-memory and fault-injecting stores used by tests.
//
// Objects of every type except kConfig and kLock are immutable and named by the lowercase
// hex SHA-256 of their bytes; Put of an existing name is a no-op success. Implementations
// must make Put atomic: after a crash a reader sees either no object or the whole object.
//
// Implementations are thread-safe: Put/Get/List may be called from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kura/status.h"
#include "util/bytes.h"

namespace kura {

enum class ObjectType {
  kConfig,    // the repository's plaintext config (single object named "config")
  kKey,       // key slots
  kPack,      // packs of encrypted blobs
  kSnapshot,  // snapshots
};

const char* ObjectTypeName(ObjectType type);  // "config", "key", "pack", "snapshot"

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
  // When the store last wrote the object (Unix seconds, the store's own clock; for a local
  // directory the file's mtime). 0 when the store does not know (the in-memory test store
  // unless given a clock). Prune's grace period is measured against it.
  int64_t mtime = 0;
};

// A held repository lock; released when destroyed (and by the OS if the process dies).
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

enum class LockMode {
  kShared,     // backup, restore, verify: many may run together
  kExclusive,  // prune, forget, key changes: alone
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` under (type, name). Errors: kNoSpace (disk full), kPermissionDenied,
  // kIOError, kRetryable. On error nothing is left under `name`.
  virtual Status Put(ObjectType type, const std::string& name, ByteView data) = 0;

  // Errors: kNotFound when the object does not exist.
  virtual Result<Bytes> Get(ObjectType type, const std::string& name) = 0;

  // Reads `length` bytes at `offset`. Errors: kNotFound; kCorruption when the object is
  // shorter than offset+length (a truncated object).
  virtual Result<Bytes> GetRange(ObjectType type, const std::string& name, uint64_t offset,
                                 uint64_t length) = 0;

  // All objects of a type, in no particular order.
  virtual Result<std::vector<ObjectInfo>> List(ObjectType type) = 0;

  // Removes an object. Deleting a missing object is OK.
  virtual Status Delete(ObjectType type, const std::string& name) = 0;

  // Stores `data` under (type, name) only if nothing is there yet, atomically against
  // other processes doing the same: exactly one of two concurrent calls succeeds, the
  // other gets kAlreadyExists. Used for the config, so two `kura init` on one directory
  // cannot both succeed. Default: Get then Put (not race-free; stores override it).
  virtual Status PutIfAbsent(ObjectType type, const std::string& name, ByteView data);

  // Moves an object out of its type's namespace into the store's "damaged" area, where
  // List, Get and Put of that type no longer see it but the bytes are kept for the vendor
  // (docs/objstore.md, "Damaged objects"). Moving a missing object is kNotFound.
  // Default: kUnsupported.
  virtual Status MoveAside(ObjectType type, const std::string& name);

  // Removes temporary files a process killed in the middle of a Put left behind, when
  // they were last written before `cutoff_unix` (the store's clock). Returns the first
  // error met but still tries every file. Default: nothing to do (OK).
  virtual Status RemoveStaleTemporaryFiles(int64_t cutoff_unix);

  // Blocks up to `timeout_ms` for the lock; kLocked (message says who holds it when known)
  // after that. A lock held by a process that died is released by the OS, so a killed
  // backup never leaves the repository locked.
  virtual Result<std::unique_ptr<StoreLock>> Lock(LockMode mode, int timeout_ms) = 0;

  // A human-readable location ("/mnt/nas/kura", "memory:").
  virtual std::string Location() const = 0;
};

// Opens a store by location: a path or file:// URL is a local directory.
// With `create`, a missing directory is created (its parent must exist); without it a
// missing directory gives kNotFound ("リポジトリが見つかりません ..." with the path).
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& location, bool create);

}  // namespace kura
