#include "engine/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "engine/restore_target.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/sparse.h"
#include "util/text.h"
#include "util/thread_pool.h"

namespace kura {

namespace {

// Reads one entry's blobs in order, decoding up to kWindow of them ahead on a thread pool.
class EntryStream : public ByteReader {
 public:
  static constexpr size_t kWindow = 8;

  EntryStream(Repository& repo, const SnapshotEntry& entry, ThreadPool& pool)
      : repo_(repo), entry_(entry), pool_(pool) {
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
      const crypto::Hash& id = entry_.blobs[next_index_++];
      // The stream's SHA-256 is checked at the end, so the per-blob ID check is not repeated.
      window_.push_back(pool_.Submit([this, id] { return repo_.ReadBlob(id, /*check_id=*/false); }));
    }
  }

  // A blob that cannot be read means this file cannot be restored: say which file. A blob
  // the snapshot references but no pack holds is damage too, not "no such repository".
  Status FileError(const Status& st) const {
    Code code = st.code() == Code::kNotFound ? Code::kCorruption : st.code();
    return Status(code,
                  Tr("{} を復元できません: {}", "cannot restore {}: {}", entry_.meta.path, st.message()));
  }

  Result<size_t> Finish() {
    if (finished_) return size_t{0};
    finished_ = true;
    std::string got = ToHex(sha_.Finish());
    if (produced_ != entry_.size || got != entry_.sha256) {
      return Status::Corruption(Tr("{} の復元結果がバックアップ時と一致しません (SHA-256 不一致)",
                                   "{} does not match what was backed up (SHA-256 mismatch)",
                                   entry_.meta.path));
    }
    return size_t{0};
  }

  Repository& repo_;
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

Status CopyEntry(Repository& repo, const SnapshotEntry& entry, ByteWriter& out, ThreadPool& pool,
                 ProgressSink* progress, uint64_t* bytes_done) {
  EntryStream in(repo, entry, pool);
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

// "/a/b/" -> "a/b": entry paths are relative.
std::string NormaliseInclude(std::string p) {
  while (!p.empty() && p.front() == '/') p.erase(0, 1);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

bool Beneath(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

bool Included(const std::string& path, const std::vector<std::string>& include) {
  if (include.empty()) return true;
  for (const std::string& p : include) {
    if (path == p || Beneath(path, p)) return true;
    // Parents of an included path are restored too, so the path has somewhere to live.
    if (Beneath(p, path)) return true;
  }
  return false;
}

// The snapshot's entries, streamed: a version 3 snapshot from its pages (whatever `meta`
// holds besides its head), versions 1 and 2 from `meta` itself.
std::unique_ptr<EntryReader> ReadEntries(Repository& repo, const Snapshot& snapshot,
                                         const SnapshotMeta& meta) {
  SnapshotMeta head;
  head.version = meta.version;
  head.pages = meta.pages;
  head.entry_count = meta.entry_count;
  if (meta.version < 3) head.entries = meta.entries;
  return repo.OpenEntries(snapshot.id, head);
}

// Every include must name an entry or a directory with entries: a --path that matches
// nothing is a mistake (a typo, the wrong snapshot), not "0 files restored".
// A path may be given as `kura ls` shows it (util/text.h EscapeName: `\xNN` for bytes of a
// legacy encoding or control characters, `\\` for a backslash): when the literal path
// matches nothing and its unescaped form matches, the include becomes that form.
Status CheckIncludes(EntryReader& entries, std::vector<std::string>& include) {
  std::vector<bool> found(include.size(), false), found_unescaped(include.size(), false);
  std::vector<std::optional<std::string>> unescaped(include.size());
  for (size_t i = 0; i < include.size(); ++i) {
    unescaped[i] = UnescapeName(include[i]);
    if (unescaped[i] && *unescaped[i] == include[i]) unescaped[i].reset();
  }
  auto matches = [](const std::string& path, const std::string& p) { return path == p || Beneath(path, p); };
  SnapshotEntry e;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool more, entries.Next(&e));
    if (!more) break;
    for (size_t i = 0; i < include.size(); ++i) {
      if (!found[i] && matches(e.meta.path, include[i])) found[i] = true;
      if (!found_unescaped[i] && unescaped[i] && matches(e.meta.path, *unescaped[i]))
        found_unescaped[i] = true;
    }
  }
  for (size_t i = 0; i < include.size(); ++i) {
    if (!found[i] && found_unescaped[i]) {
      include[i] = *unescaped[i];
    } else if (!found[i]) {
      return Status::NotFound(
                 Tr("--path {} に一致するものがスナップショットにありません "
                    "(パスはバックアップ時の絶対パスです)",
                    "--path {} matches nothing in the snapshot (paths are the absolute paths at backup time)",
                    "/" + EscapeName(include[i])))
          .WithAdvice(Advice::kListPaths);
    }
  }
  return Status::Ok();
}

// The directories that blocked a restore (a link or file in their place), so everything
// beneath them is counted against that problem instead of being tried again.
class Blocked {
 public:
  // The problem index of a blocked ancestor of `path`, if any.
  std::optional<size_t> Find(const std::string& path) const {
    for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
      auto it = dirs_.find(path.substr(0, pos));
      if (it != dirs_.end()) return it->second;
    }
    auto it = dirs_.find(path);
    if (it != dirs_.end()) return it->second;
    return std::nullopt;
  }
  void Add(const std::string& dir, size_t problem) { dirs_.emplace(dir, problem); }

 private:
  std::map<std::string, size_t> dirs_;
};

RestoreProblem::Kind KindOfWriteError(const Status& st) {
  return st.code() == Code::kAlreadyExists ? RestoreProblem::Kind::kConflict : RestoreProblem::Kind::kFailed;
}

class DirectoryRestore {
 public:
  DirectoryRestore(Repository& repo, const RestoreOptions& options, RestoreTarget& target)
      : repo_(repo), options_(options), target_(target), pool_(options.threads) {}

  // Files are written as the entries come; directories' metadata and symbolic links wait
  // for the end, so memory grows with the number of directories and links, not of files.
  Status Run(EntryReader& entries) {
    std::vector<EntryMeta> dirs, links;
    SnapshotEntry e;
    for (;;) {
      auto more = entries.Next(&e);
      if (!more.ok()) return more.status();  // the listing itself is damaged: stop here
      if (!*more) break;
      if (!Included(e.meta.path, options_.include) || SkippedBeneathBlocked(e.meta.path)) continue;
      switch (e.meta.type) {
        case EntryType::kDirectory: {
          std::string blocked;
          auto fd = target_.Dir(e.meta.path, &blocked);
          if (!fd.ok()) {
            Problem(blocked.empty() ? e.meta.path : blocked, KindOfWriteError(fd.status()), fd.status(),
                    /*blocks=*/!blocked.empty());
            break;
          }
          dirs.push_back(e.meta);
          break;
        }
        case EntryType::kSymlink:
          links.push_back(e.meta);  // last: no restored file may be written through a restored link
          break;
        case EntryType::kFile:
          RestoreFile(e);
          break;
      }
      if (!fatal_.ok()) return fatal_;
    }
    for (const EntryMeta& link : links) {
      if (SkippedBeneathBlocked(link.path)) continue;
      auto dir = ParentDir(link.path);
      if (!dir) continue;
      Status st = target_.PlaceSymlink(*dir, link.path, link);
      if (!st.ok()) {
        Problem(link.path, KindOfWriteError(st), st);
        if (!fatal_.ok()) return fatal_;
        continue;
      }
      ++result_.other_entries;
    }
    // Directory times and modes last, deepest first, so writing into them does not change
    // them. A directory that was already there keeps its own unless --overwrite.
    std::set<std::string> given_meta;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
      const EntryMeta& d = *it;
      if (SkippedBeneathBlocked(d.path)) continue;
      if (options_.overwrite || target_.Created(d.path)) {
        Status st = target_.ApplyDirMeta(d.path, d);
        if (!st.ok()) {
          Problem(d.path, RestoreProblem::Kind::kFailed, st);
          continue;
        }
        given_meta.insert(d.path);
      }
      ++result_.other_entries;
    }
    target_.RestoreKeptTimes(given_meta);
    return Status::Ok();
  }

  RestoreResult& result() { return result_; }

 private:
  bool SkippedBeneathBlocked(const std::string& path) {
    auto idx = blocked_.Find(path);
    if (!idx) return false;
    ++result_.problems[*idx].skipped_beneath;
    return true;
  }

  // The parent directory's fd, or nullopt after recording why there is none.
  std::optional<int> ParentDir(const std::string& path) {
    std::string blocked;
    auto fd = target_.Dir(ParentOf(path), &blocked);
    if (fd.ok()) return *fd;
    if (blocked.empty()) {
      Problem(path, KindOfWriteError(fd.status()), fd.status());
    } else if (auto idx = blocked_.Find(blocked)) {
      ++result_.problems[*idx].skipped_beneath;
    } else {
      Problem(blocked, KindOfWriteError(fd.status()), fd.status(), /*blocks=*/true);
      if (!result_.problems.empty()) ++result_.problems.back().skipped_beneath;
    }
    return std::nullopt;
  }

  // Records a path that could not be restored. A full disk ends the restore (fatal_): every
  // later file would fail the same way.
  void Problem(const std::string& path, RestoreProblem::Kind kind, const Status& st, bool blocks = false) {
    if (st.code() == Code::kNoSpace) {
      if (fatal_.ok()) fatal_ = st;
      return;
    }
    result_.problems.push_back({path, kind, st, 0});
    if (blocks) blocked_.Add(path, result_.problems.size() - 1);
  }

  void RestoreFile(const SnapshotEntry& e) {
    auto dir = ParentDir(e.meta.path);
    if (!dir) return;
    bool read_failed = false;
    Status st = target_.PlaceFile(*dir, e.meta.path, e.meta,
                                  [&](int fd) -> Status { return WriteContent(e, fd, &read_failed); });
    if (!st.ok()) {
      Problem(e.meta.path, read_failed ? RestoreProblem::Kind::kDamaged : KindOfWriteError(st), st);
      return;
    }
    ++result_.files;
    result_.bytes += e.size;
    if (options_.on_verified) options_.on_verified(e.meta.path);
  }

  // The entry's bytes into the new file `fd`, checked against the backup's SHA-256.
  // `*read_failed`: the repository side failed (damage), not the target.
  Status WriteContent(const SnapshotEntry& e, int fd, bool* read_failed) {
    std::string shown = target_.Show(e.meta.path);
    SparseFdWriter sparse(fd, shown);
    FdWriter dense(fd, /*owns=*/false, shown);
    // Holes are recreated only for files that had them; the others get one allocation for
    // the whole file instead of one per write (best effort: not every file system supports
    // it, and a failure here only costs speed).
    if (!e.meta.sparse && e.size > 0) (void)::fallocate(fd, 0, 0, static_cast<off_t>(e.size));
    ByteWriter& out = e.meta.sparse ? static_cast<ByteWriter&>(sparse) : dense;
    EntryStream in(repo_, e, pool_);
    Progress p;
    p.current = e.meta.path;
    for (;;) {
      auto block = in.NextBlock();
      if (!block.ok()) {
        *read_failed = true;
        return block.status();
      }
      if (block->empty()) break;
      KURA_RETURN_IF_ERROR(out.Write(block->data(), block->size()));
      bytes_done_ += block->size();
      if (options_.progress) {
        p.bytes_done = bytes_done_;
        options_.progress->Update(p);
      }
    }
    if (e.meta.sparse) KURA_RETURN_IF_ERROR(sparse.Finish());
    if (options_.sync && ::fsync(fd) != 0) return ErrnoStatus(errno, L("書き込み", "write"), shown);
    return Status::Ok();
  }

  Repository& repo_;
  const RestoreOptions& options_;
  RestoreTarget& target_;
  ThreadPool pool_;
  RestoreResult result_;
  Blocked blocked_;
  Status fatal_;
  uint64_t bytes_done_ = 0;
};

}  // namespace

Status RestoreResult::Outcome() const {
  if (problems.empty()) return Status::Ok();
  size_t damaged = 0, conflicts = 0, failed = 0;
  const RestoreProblem* decisive = nullptr;
  for (const RestoreProblem& p : problems) {
    switch (p.kind) {
      case RestoreProblem::Kind::kDamaged:
        ++damaged;
        break;
      case RestoreProblem::Kind::kConflict:
        ++conflicts;
        break;
      case RestoreProblem::Kind::kFailed:
        ++failed;
        break;
    }
    if (p.kind == RestoreProblem::Kind::kDamaged && p.status.code() == Code::kCorruption &&
        (decisive == nullptr || decisive->status.code() != Code::kCorruption)) {
      decisive = &p;
    }
  }
  if (decisive == nullptr) {
    for (const RestoreProblem& p : problems) {
      if (p.kind == RestoreProblem::Kind::kDamaged) {
        decisive = &p;
        break;
      }
    }
  }
  if (decisive == nullptr) decisive = &problems.front();
  return Status(
      decisive->status.code(),
      Tr("{} 件を復元できませんでした (損傷 {} 件、復元先と衝突 {} 件、書き込み失敗 {} 件)。ほかは復元し、"
         "SHA-256 を確認しました。最初の問題: {}",
         "{} paths could not be restored ({} damaged, {} in conflict with the target, {} failed to "
         "write); everything else was restored and matched its SHA-256. First problem: {}",
         problems.size(), damaged, conflicts, failed, decisive->status.message()));
}

Status RestoreEntry(Repository& repo, const SnapshotEntry& entry, ByteWriter& out, ProgressSink* progress,
                    uint64_t* bytes_done) {
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  ThreadPool pool(0);
  return CopyEntry(repo, entry, out, pool, progress, bytes_done);
}

std::unique_ptr<ByteReader> OpenEntryContent(Repository& repo, const SnapshotEntry& entry, ThreadPool& pool) {
  return std::make_unique<EntryStream>(repo, entry, pool);
}

Result<RestoreResult> RestoreToDirectory(Repository& repo, const Snapshot& snapshot, const SnapshotMeta& meta,
                                         const RestoreOptions& options) {
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  RestoreOptions o = options;
  for (std::string& p : o.include) p = NormaliseInclude(p);
  o.include.erase(std::remove(o.include.begin(), o.include.end(), std::string()), o.include.end());
  if (o.include.empty() != options.include.empty()) o.include.clear();  // "--path /": everything
  if (!o.include.empty()) {
    std::unique_ptr<EntryReader> entries = ReadEntries(repo, snapshot, meta);
    KURA_RETURN_IF_ERROR(CheckIncludes(*entries, o.include));
  }
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<RestoreTarget> target,
                        RestoreTarget::Open(o.target_dir, o.overwrite));
  DirectoryRestore restore(repo, o, *target);
  std::unique_ptr<EntryReader> entries = ReadEntries(repo, snapshot, meta);
  KURA_RETURN_IF_ERROR(restore.Run(*entries));
  if (options.progress) options.progress->Done();
  return std::move(restore.result());
}

namespace {

// For database restores: a dump snapshot has a handful of entries, kept in memory.
class RepoSnapshotReader : public SnapshotReader {
 public:
  RepoSnapshotReader(Repository& repo, std::vector<SnapshotEntry> entries)
      : repo_(repo), entries_(std::move(entries)), pool_(0) {}

  std::vector<EntryMeta> Entries() const override {
    std::vector<EntryMeta> out;
    for (const SnapshotEntry& e : entries_) out.push_back(e.meta);
    return out;
  }

  Result<std::unique_ptr<ByteReader>> Open(const std::string& path) override {
    KURA_RETURN_IF_ERROR(repo_.Cache().status());
    for (const SnapshotEntry& e : entries_) {
      if (e.meta.path == path && e.meta.type == EntryType::kFile) {
        return std::unique_ptr<ByteReader>(new EntryStream(repo_, e, pool_));
      }
    }
    return Status::NotFound(Tr("スナップショットに {} がありません", "the snapshot has no {}", path));
  }

 private:
  Repository& repo_;
  std::vector<SnapshotEntry> entries_;
  ThreadPool pool_;
};

}  // namespace

Result<std::unique_ptr<SnapshotReader>> MakeSnapshotReader(Repository& repo, const Snapshot& snapshot,
                                                           const SnapshotMeta& meta) {
  KURA_RETURN_IF_ERROR(repo.Cache().status());
  std::unique_ptr<EntryReader> reader = ReadEntries(repo, snapshot, meta);
  std::vector<SnapshotEntry> entries;
  SnapshotEntry e;
  for (;;) {
    KURA_ASSIGN_OR_RETURN(bool more, reader->Next(&e));
    if (!more) break;
    entries.push_back(std::move(e));
  }
  return std::unique_ptr<SnapshotReader>(new RepoSnapshotReader(repo, std::move(entries)));
}

}  // namespace kura
