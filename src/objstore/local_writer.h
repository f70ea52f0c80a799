// A put whose bytes arrive in pieces: the vault streams an upload (a pack of up to 1 GiB)
// into a LocalStore without holding it in memory (docs/objstore.md, "Streaming puts").
//
// The bytes go to a temporary file ".tmp-put-<pid>-<random>" in the type's directory; only
// Commit publishes them under a name, with link() so an existing object is never replaced
// (immutable objects: an existing name is kept and Commit reports it). A writer destroyed
// without Commit removes its file, and one left by a killed process is an ordinary stale
// temporary file for LocalStore::RemoveStaleTemporaryFiles: never an object.
//
// Thread safety: one writer is used by one thread; writers of one store are independent.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kura/status.h"
#include "objstore/object_store.h"
#include "util/bytes.h"

namespace kura {

class LocalStore;

class LocalObjectWriter {
 public:
  ~LocalObjectWriter();  // Abort() unless committed
  LocalObjectWriter(const LocalObjectWriter&) = delete;
  LocalObjectWriter& operator=(const LocalObjectWriter&) = delete;

  // Appends bytes. Errors: kNoSpace (disk full), kIOError; the file is then removed.
  Status Write(ByteView data);
  uint64_t bytes_written() const { return written_; }
  // The temporary file (for readers that must look at the bytes before Commit).
  const std::string& temp_path() const { return temp_path_; }

  enum class Committed { kStored, kAlreadyThere };
  // kNoReplace: an existing object is left as it was (kAlreadyThere). kReplaceDamaged: the
  // new file atomically takes the name's place, for an object found damaged whose new
  // bytes the caller has verified against the name (the vault's repair by re-upload,
  // docs/vault-gc-scrub.md §2); never for anything else.
  enum class Publish { kNoReplace, kReplaceDamaged };
  // fsyncs the file and publishes it as (type, name), then fsyncs the directory. Either
  // way the temporary file is gone afterwards. REQUIRES: not committed or aborted yet.
  // Errors: kInvalidArgument (bad name), kNoSpace, kIOError.
  Result<Committed> Commit(const std::string& name, Publish how = Publish::kNoReplace);
  // Removes the temporary file. Idempotent.
  void Abort();

 private:
  friend class LocalStore;
  LocalObjectWriter(const LocalStore& store, ObjectType type, int fd, std::string temp_path);

  const LocalStore& store_;
  ObjectType type_;
  int fd_;
  std::string temp_path_;
  uint64_t written_ = 0;
  bool done_ = false;
};

}  // namespace kura
