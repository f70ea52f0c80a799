// The repository lock of a LocalStore (see docs/objstore.md, "Locking"). Internal to
// src/objstore; callers use LocalStore::Lock.
#pragma once

#include <memory>
#include <string>

#include "objstore/object_store.h"

namespace kura {

// flock() on <root>/lock, polled without blocking until `timeout_ms` has passed.
// An exclusive holder records itself in <root>/lock.info (best effort) and removes that
// file on release. The lock file itself is never removed: unlinking a file others may be
// waiting on would let two processes hold "the" lock on two different inodes.
Result<std::unique_ptr<StoreLock>> LockLocalDirectory(const std::string& root, LockMode mode, int timeout_ms);

}  // namespace kura
