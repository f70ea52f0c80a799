// Helpers for tests of the repository layer and the backup/restore/verify/prune engine:
// an in-memory source, a store adapter that lets a test keep its (fault) store while a
// Repository owns "a" store, and reading a snapshot back into memory.
//
// Header-only on purpose: kura_testsupport links only kura_util, and these helpers need the
// repository and agent layers, which the test binaries that include this file link.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backup.h"
#include "engine/restore.h"
#include "objstore/object_store.h"
#include "repo/repository.h"
#include "support/repo_testing.h"
#include "util/clock.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura::testing {

// Forwards every call to a store the test owns, so a Repository can own this adapter while
// the test keeps injecting faults into (or looking at) the real store. Opening a second
// Repository over another adapter is what a second kura process would see.
class BorrowedStore : public ObjectStore {
 public:
  explicit BorrowedStore(ObjectStore* base) : base_(base) {}
  Status Put(ObjectType t, const std::string& n, ByteView d) override { return base_->Put(t, n, d); }
  Result<Bytes> Get(ObjectType t, const std::string& n) override { return base_->Get(t, n); }
  Result<Bytes> GetRange(ObjectType t, const std::string& n, uint64_t o, uint64_t l) override {
    return base_->GetRange(t, n, o, l);
  }
  Result<std::vector<ObjectInfo>> List(ObjectType t) override { return base_->List(t); }
  Status Delete(ObjectType t, const std::string& n) override { return base_->Delete(t, n); }
  Status PutIfAbsent(ObjectType t, const std::string& n, ByteView d) override {
    return base_->PutIfAbsent(t, n, d);
  }
  Status MoveAside(ObjectType t, const std::string& n) override { return base_->MoveAside(t, n); }
  Status RemoveStaleTemporaryFiles(int64_t cutoff) override {
    return base_->RemoveStaleTemporaryFiles(cutoff);
  }
  Result<std::unique_ptr<StoreLock>> Lock(LockMode m, int ms) override { return base_->Lock(m, ms); }
  std::string Location() const override { return base_->Location(); }

 private:
  ObjectStore* base_;
};

// One entry of a MemorySource.
struct MemEntry {
  std::string path;
  Bytes data;
  EntryType type = EntryType::kFile;
  std::string target;  // symlinks
  uint32_t mode = 0644;
  int64_t mtime = 1763700000;
};

inline MemEntry File(std::string path, Bytes data) {
  return MemEntry{std::move(path), std::move(data)};
}
inline MemEntry Dir(std::string path) {
  MemEntry e{std::move(path), {}};
  e.type = EntryType::kDirectory;
  e.mode = 0755;
  return e;
}

// A Source over entries held in memory. Optionally reports some paths as unreadable
// (through SnapshotWriter::Warn, as the files source does) or fails after some entries
// (as a dump whose tool dies does).
class MemorySource : public Source {
 public:
  explicit MemorySource(std::vector<MemEntry> entries) : entries_(std::move(entries)) {}
  std::string Kind() const override { return "files"; }
  std::string Name() const override { return "memory"; }
  void SetUnreadable(std::vector<std::string> paths) { unreadable_ = std::move(paths); }
  void FailAfterEntries(size_t n) { fail_after_ = n; }
  // Files carry a change key derived from their bytes, as the files source's would, so a
  // backup reuses the parent's data for unchanged ones.
  void SetChangeKeys(bool on) { change_keys_ = on; }

  Status Backup(SnapshotWriter& out) override {
    size_t done = 0;
    for (const MemEntry& e : entries_) {
      if (fail_after_ && done == *fail_after_) {
        return Status::SourceFailed(L("ダンプが途中で失敗しました", "the dump failed midway"));
      }
      ++done;
      if (std::find(unreadable_.begin(), unreadable_.end(), e.path) != unreadable_.end()) {
        KURA_RETURN_IF_ERROR(out.Warn(e.path, Status::PermissionDenied("permission denied: " + e.path)));
        continue;
      }
      EntryMeta m;
      m.path = e.path;
      m.type = e.type;
      m.mode = e.mode;
      m.mtime = e.mtime;
      m.symlink_target = e.target;
      if (e.type != EntryType::kFile) {
        KURA_RETURN_IF_ERROR(out.AddEntry(m));
        continue;
      }
      if (change_keys_) m.change_key = "ck:" + ToHex(crypto::Sha256(e.data)).substr(0, 16);
      BytesReader reader(e.data);
      KURA_RETURN_IF_ERROR(out.AddFile(m, reader));
    }
    return Status::Ok();
  }

 private:
  class BytesReader : public ByteReader {
   public:
    explicit BytesReader(const Bytes& b) : b_(b) {}
    // Short reads of odd sizes, as pipes give, so the engine's refill logic is exercised.
    Result<size_t> Read(uint8_t* buf, size_t n) override {
      size_t k = std::min({n, b_.size() - pos_, size_t{300000}});
      if (k == 0) return k;  // an empty vector's data() may be null: no memcpy from it
      std::memcpy(buf, b_.data() + pos_, k);
      pos_ += k;
      return k;
    }

   private:
    const Bytes& b_;
    size_t pos_ = 0;
  };

  std::vector<MemEntry> entries_;
  std::vector<std::string> unreadable_;
  std::optional<size_t> fail_after_;
  bool change_keys_ = false;
};

// Small chunks and packs, so a few MiB of test data spread over many packs.
inline ChunkerParams SmallChunks() {
  ChunkerParams p;
  p.min_size = 4096;
  p.avg_size = 16384;
  p.max_size = 65536;
  return p;
}

inline Credentials Password(const std::string& pw = "correct horse battery") {
  Credentials c;
  c.password = pw;
  return c;
}

// Gives each test its own index cache directory and a cheap KDF.
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UseCheapKdf();
    ::setenv("KURA_CACHE_DIR", cache_.path().c_str(), 1);
  }

  // A new repository in `store` (not owned).
  std::unique_ptr<Repository> Init(ObjectStore* store, bool small = true, uint32_t pack_target = 1u << 16) {
    InitOptions o;
    if (small) o.chunker = SmallChunks();
    o.pack_target_size = pack_target;
    o.host = "test-host";
    auto repo = Repository::Init(std::make_unique<BorrowedStore>(store), Password(), o, SystemClock());
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }
  // Opens the repository again, as a new process would (the cache is synced anew).
  std::unique_ptr<Repository> Reopen(ObjectStore* store) {
    auto repo = Repository::Open(std::make_unique<BorrowedStore>(store), Password());
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  static Result<BackupResult> Backup(Repository& repo, std::vector<MemEntry> entries,
                                     SnapshotKind kind = SnapshotKind::kManual) {
    MemorySource source(std::move(entries));
    BackupOptions o;
    o.kind = kind;
    o.threads = 2;
    o.host = "test-host";
    return RunBackup(repo, source, o);
  }

  // Every file of snapshot `ref` read back through the restore engine (which checks each
  // file's SHA-256), by path.
  static Result<std::map<std::string, Bytes>> ReadBack(Repository& repo, const std::string& ref) {
    KURA_ASSIGN_OR_RETURN(Snapshot snap, repo.FindSnapshot(ref));
    KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, repo.LoadMeta(snap.id));
    std::map<std::string, Bytes> out;
    for (const SnapshotEntry& e : meta.entries) {
      if (e.meta.type != EntryType::kFile) continue;
      class Sink : public ByteWriter {
       public:
        explicit Sink(Bytes& b) : b_(b) {}
        Status Write(const uint8_t* buf, size_t n) override {
          b_.insert(b_.end(), buf, buf + n);
          return Status::Ok();
        }
        Bytes& b_;
      };
      Bytes& data = out[e.meta.path];
      Sink sink(data);
      KURA_RETURN_IF_ERROR(RestoreEntry(repo, e, sink));
    }
    return out;
  }

  static std::map<std::string, Bytes> Expected(const std::vector<MemEntry>& entries) {
    std::map<std::string, Bytes> out;
    for (const MemEntry& e : entries) {
      if (e.type == EntryType::kFile) out[e.path] = e.data;
    }
    return out;
  }

  static size_t Count(ObjectStore& store, ObjectType type) {
    auto l = store.List(type);
    return l.ok() ? l->size() : 0;
  }

  TempDir cache_{"kura-cache"};
};

}  // namespace kura::testing
