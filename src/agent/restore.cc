#include "agent/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <future>

#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/thread_pool.h"

namespace kura {

namespace {

// Reads one entry's blobs in order, decoding up to kWindow of them ahead on a thread pool.
class EntryStream : public ByteReader {
 public:
  static constexpr size_t kWindow = 8;

  EntryStream(Repository& repo, const Snapshot& snapshot, const SnapshotEntry& entry, ThreadPool& pool)
      : repo_(repo), snapshot_(snapshot), entry_(entry), pool_(pool) {
    Refill();
  }
  ~EntryStream() override {
    for (auto& f : window_) f.wait();  // the tasks reference this object's members
  }

  // The next piece of the stream without copying it: valid until the next call; empty at
  // the end (after the SHA-256 check passed).
  Result<ByteView> NextBlock() {
    KURA_RETURN_IF_ERROR(Advance());
    if (pos_ == current_.size()) return ByteView();
    ByteView out(current_.data() + pos_, current_.size() - pos_);
    pos_ = current_.size();
    return out;
  }

  Result<size_t> Read(uint8_t* buf, size_t n) override {
    KURA_RETURN_IF_ERROR(Advance());
    if (pos_ == current_.size()) return size_t{0};
    size_t k = std::min(n, current_.size() - pos_);
    std::memcpy(buf, current_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  // Makes current_ hold unread bytes, or leaves it exhausted at the end of the stream.
  Status Advance() {
    while (pos_ == current_.size()) {
      if (window_.empty()) return Finish().status();
      Result<Bytes> next = window_.front().get();
      window_.pop_front();
      Refill();
      if (!next.ok()) return FileError(next.status());
      current_ = std::move(*next);
      pos_ = 0;
      sha_.Update(current_);
      produced_ += current_.size();
    }
    return Status::Ok();
  }

  void Refill() {
    while (window_.size() < kWindow && next_index_ < entry_.blobs.size()) {
      const crypto::Hash& id = snapshot_.blobs[entry_.blobs[next_index_++]];
      // The stream's SHA-256 is checked at the end, so the per-blob ID check is not repeated.
      window_.push_back(pool_.Submit([this, id] { return repo_.ReadBlob(id, /*check_id=*/false); }));
    }
  }

  // A blob that cannot be read means this file cannot be restored: say which file. A blob
  // the snapshot references but no pack holds is damage too, not "no such repository".
  Status FileError(const Status& st) const {
    Code code = st.code() == Code::kNotFound ? Code::kCorruption : st.code();
    return Status(code, Tr("{} を復元できません: {}", "cannot restore {}: {}", entry_.meta.path, st.message()));
  }

  Result<size_t> Finish() {
    if (finished_) return size_t{0};
    finished_ = true;
    std::string got = ToHex(sha_.Finish());
    if (produced_ != entry_.size || got != entry_.sha256) {
      return Status::Corruption(Tr("{} の復元結果がバックアップ時と一致しません (SHA-256 不一致)",
                                   "{} does not match what was backed up (SHA-256 mismatch)", entry_.meta.path));
    }
    return size_t{0};
  }

  Repository& repo_;
  const Snapshot& snapshot_;
  const SnapshotEntry& entry_;
  ThreadPool& pool_;
  std::deque<std::future<Result<Bytes>>> window_;
  size_t next_index_ = 0;
  Bytes current_;
  size_t pos_ = 0;
  uint64_t produced_ = 0;
  crypto::Sha256Stream sha_;
  bool finished_ = false;
};

Status CopyEntry(Repository& repo, const Snapshot& snapshot, const SnapshotEntry& entry, ByteWriter& out,
                 ThreadPool& pool, ProgressSink* progress, uint64_t* bytes_done) {
  EntryStream in(repo, snapshot, entry, pool);
  Progress p;
  p.current = entry.meta.path;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(ByteView block, in.NextBlock());
    if (block.empty()) return Status::Ok();
    KURA_RETURN_IF_ERROR(out.Write(block.data(), block.size()));
    if (bytes_done) *bytes_done += block.size();
    if (progress) {
      p.bytes_done = bytes_done ? *bytes_done : 0;
      progress->Update(p);
    }
  }
}

bool Included(const std::string& path, const std::vector<std::string>& include) {
  if (include.empty()) return true;
  for (const std::string& inc : include) {
    std::string p = inc;
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/')) {
      return true;
    }
    // Parents of an included path are restored too, so the path has somewhere to live.
    if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '/') return true;
  }
  return false;
}

void ApplyMeta(const std::string& path, const EntryMeta& meta, bool is_link) {
  if (::geteuid() == 0) {
    if (::lchown(path.c_str(), meta.uid, meta.gid) != 0) { /* best effort */
    }
  }
  if (!is_link) ::chmod(path.c_str(), meta.mode & 07777);
  struct timespec times[2];
  times[0].tv_sec = meta.mtime;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

std::string Parent(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? "." : path.substr(0, pos);
}

}  // namespace

Status RestoreEntry(Repository& repo, const Snapshot& snapshot, const SnapshotEntry& entry, ByteWriter& out,
                    ProgressSink* progress, uint64_t* bytes_done) {
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  ThreadPool pool(0);
  return CopyEntry(repo, snapshot, entry, out, pool, progress, bytes_done);
}

Result<RestoreResult> RestoreToDirectory(Repository& repo, const Snapshot& snapshot, const SnapshotMeta& meta,
                                         const RestoreOptions& options) {
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  KURA_RETURN_IF_ERROR(MakeDirs(options.target_dir, 0700));
  ThreadPool pool(options.threads);
  RestoreResult result;
  uint64_t bytes_done = 0;
  std::vector<const SnapshotEntry*> dirs, links;
  for (const SnapshotEntry& e : meta.entries) {
    if (!Included(e.meta.path, options.include)) continue;
    std::string path = options.target_dir + "/" + e.meta.path;
    switch (e.meta.type) {
      case EntryType::kDirectory:
        KURA_RETURN_IF_ERROR(MakeDirs(path, 0700));
        dirs.push_back(&e);
        break;
      case EntryType::kSymlink:
        links.push_back(&e);  // last: no restored file may be written through a restored link
        break;
      case EntryType::kFile: {
        KURA_RETURN_IF_ERROR(MakeDirs(Parent(path), 0700));
        if (!options.overwrite && PathExists(path)) {
          return Status::AlreadyExists(Tr("{} は既に存在します。別の復元先を指定するか --overwrite を付けてください",
                                          "{} already exists; choose another target or use --overwrite", path));
        }
        std::string tmp = path + ".kura-restore";
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return ErrnoStatus(errno, L("復元先の作成", "creating restore target"), tmp);
        Status st;
        // One allocation for the whole file instead of one per write (best effort: not every
        // file system supports it, and a failure here only costs speed).
        if (e.size > 0) (void)::posix_fallocate(fd, 0, static_cast<off_t>(e.size));
        {
          FdWriter writer(fd, /*owns=*/false, tmp);
          st = CopyEntry(repo, snapshot, e, writer, pool, options.progress, &bytes_done);
        }
        if (st.ok() && options.sync && ::fsync(fd) != 0) st = ErrnoStatus(errno, L("書き込み", "write"), tmp);
        ::close(fd);
        if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
          st = ErrnoStatus(errno, L("書き込み", "write"), path);
        }
        if (!st.ok()) {
          ::unlink(tmp.c_str());  // a file that failed its check is not left behind
          return st;
        }
        ApplyMeta(path, e.meta, false);
        ++result.files;
        result.bytes += e.size;
        result.verified.push_back(e.meta.path);
        break;
      }
    }
  }
  for (const SnapshotEntry* e : links) {
    std::string path = options.target_dir + "/" + e->meta.path;
    KURA_RETURN_IF_ERROR(MakeDirs(Parent(path), 0700));
    if (options.overwrite) ::unlink(path.c_str());
    if (::symlink(e->meta.symlink_target.c_str(), path.c_str()) != 0) {
      return ErrnoStatus(errno, L("シンボリックリンクの作成", "creating symlink"), path);
    }
    ApplyMeta(path, e->meta, true);
    ++result.other_entries;
  }
  // Directory times and modes last, deepest first, so writing into them does not change them.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    ApplyMeta(options.target_dir + "/" + (*it)->meta.path, (*it)->meta, false);
    ++result.other_entries;
  }
  if (options.progress) options.progress->Done();
  return result;
}

namespace {

class RepoSnapshotReader : public SnapshotReader {
 public:
  RepoSnapshotReader(Repository& repo, Snapshot snapshot, SnapshotMeta meta)
      : repo_(repo), snapshot_(std::move(snapshot)), meta_(std::move(meta)), pool_(0) {}

  std::vector<EntryMeta> Entries() const override {
    std::vector<EntryMeta> out;
    for (const SnapshotEntry& e : meta_.entries) out.push_back(e.meta);
    return out;
  }

  Result<std::unique_ptr<ByteReader>> Open(const std::string& path) override {
    KURA_RETURN_IF_ERROR(repo_.Cache().status());
    for (const SnapshotEntry& e : meta_.entries) {
      if (e.meta.path == path && e.meta.type == EntryType::kFile) {
        return std::unique_ptr<ByteReader>(new EntryStream(repo_, snapshot_, e, pool_));
      }
    }
    return Status::NotFound(Tr("スナップショットに {} がありません", "the snapshot has no {}", path));
  }

 private:
  Repository& repo_;
  Snapshot snapshot_;
  SnapshotMeta meta_;
  ThreadPool pool_;
};

}  // namespace

std::unique_ptr<SnapshotReader> MakeSnapshotReader(Repository& repo, Snapshot snapshot, SnapshotMeta meta) {
  return std::make_unique<RepoSnapshotReader>(repo, std::move(snapshot), std::move(meta));
}

}  // namespace kura
