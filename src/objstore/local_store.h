// An ObjectStore in a local directory (a disk, or a NAS share mounted on the host).
// The on-disk layout, atomicity and locking are specified in docs/objstore.md:
//
//   <root>/config                 the repository config (replaced atomically)
//   <root>/keys/<name>            key slots
//   <root>/data/<name[0:2]>/<name> packs
//   <root>/snapshots/<name>       snapshots
//   <root>/lock, <root>/lock.info the repository lock and who holds it exclusively
//
// Directories are created 0700 and files 0600 whatever the umask: a repository holds
// medical data, encrypted or not, and no other local user has any business reading it.
//
// Thread-safe: every method may be called from several threads. Several processes may
// use one directory at once; Lock() is how they keep out of each other's way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "objstore/local_writer.h"
#include "objstore/object_store.h"

namespace kura {

class LocalStore : public ObjectStore {
 public:
  // Opens the store rooted at `root` (a path, not a URL; see OpenObjectStore for URLs).
  // With `create`, a missing `root` is created 0700 together with keys/, data/ and
  // snapshots/; its parent must exist. An existing `root` is accepted when it is empty or
  // holds only what kura itself puts there (docs/objstore.md; `lost+found` too), and is
  // then set to 0700 whatever its mode was; a non-empty directory that is not a kura
  // repository is kInvalidArgument. Without `create` a missing `root` gives kNotFound with
  // a message that names the path and suggests `kura init` or checking the NAS mount.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& root, bool create);

  // Writes a temporary file ".tmp-<pid>-<random>" in the object's directory, fsyncs it,
  // renames it to the final name and fsyncs the directory. A Put that fails (disk full,
  // ...) removes its temporary file. Put of an existing immutable object does nothing,
  // even when the existing file is damaged: Delete it first to replace it.
  Status Put(ObjectType type, const std::string& name, ByteView data) override;
  Result<Bytes> Get(ObjectType type, const std::string& name) override;
  // Uses pread, so only the requested bytes are read.
  Result<Bytes> GetRange(ObjectType type, const std::string& name, uint64_t offset, uint64_t length) override;
  // Skips temporary files and anything whose name is not valid for `type`.
  Result<std::vector<ObjectInfo>> List(ObjectType type) override;
  Status Delete(ObjectType type, const std::string& name) override;
  // Writes a temporary file, then link()s it to the final name, which fails if the name
  // exists; on a filesystem without hard links (some NAS shares), O_CREAT|O_EXCL.
  Status PutIfAbsent(ObjectType type, const std::string& name, ByteView data) override;
  // rename() into <root>/damaged/<type dir>/<name>.
  Status MoveAside(ObjectType type, const std::string& name) override;
  // flock() on <root>/lock (see docs/objstore.md). An exclusive holder also writes its
  // pid, host and start time to <root>/lock.info so a waiter's kLocked message can name
  // it; that file is best effort and removed on release.
  Result<std::unique_ptr<StoreLock>> Lock(LockMode mode, int timeout_ms) override;
  std::string Location() const override { return root_; }

  // Removes temporary files (".tmp-*") last modified before `cutoff_unix`, left behind by
  // a process killed in the middle of a Put. A Put in progress keeps writing to its file,
  // so pick a cutoff no live Put can reach (an hour ago is plenty; prune uses its grace).
  Status RemoveStaleTemporaryFiles(int64_t cutoff_unix) override;

  // The file that holds (type, name). Does not check the name; for tests and tools that
  // need to look at or damage the file itself.
  std::string ObjectPath(ObjectType type, const std::string& name) const;

  // Starts a streaming put of an immutable object (objstore/local_writer.h): its bytes go
  // to a temporary file in the type's directory until LocalObjectWriter::Commit names them.
  // REQUIRES: type != kConfig. Errors: kNoSpace, kPermissionDenied, kIOError.
  Result<std::unique_ptr<LocalObjectWriter>> BeginPut(ObjectType type);

 private:
  friend class LocalObjectWriter;
  explicit LocalStore(std::string root) : root_(std::move(root)) {}

  std::string TypeDir(ObjectType type) const;
  std::string ObjectDir(ObjectType type, const std::string& name) const;
  Status CheckEmptyOrKura() const;
  Result<std::vector<ObjectInfo>> ListDir(ObjectType type, const std::string& dir,
                                          const std::string& required_prefix);

  const std::string root_;  // without a trailing '/'
};

}  // namespace kura
