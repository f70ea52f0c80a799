#include "engine/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "kura/version.h"
#include "repo/blob.h"
#include "sources/stream_guard.h"
#include "util/bounded_queue.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/signals.h"
#include "util/thread_pool.h"

namespace kura {

std::string LocalHostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

namespace {

struct HashHasher {
  size_t operator()(const crypto::Hash& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);  // the ID is a MAC output: already uniform
    return v;
  }
};

struct ChunkJob {
  uint32_t entry = 0;  // entry index, or the page number for an entry page
  uint32_t seq = 0;
  bool page = false;
  Bytes data;
};

// "a/b" before "a/b/c" before "a/b-c": the order a depth-first walk with sorted names
// produces (each component compared as bytes, a shorter component first).
bool WalkLess(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto ca = static_cast<unsigned char>(a[i] == '/' ? 0 : a[i]);
    auto cb = static_cast<unsigned char>(b[i] == '/' ? 0 : b[i]);
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

// The parent snapshot's entries, read alongside the walk: both come in walk order, so one
// page at a time is enough. A path before the last one asked (several roots in a different
// order, a source that does not walk in order) restarts the reading, a bounded number of
// times; after that the parent is no longer used and files are simply read.
class ParentCursor {
 public:
  static constexpr int kMaxRestarts = 64;

  ParentCursor(Repository& repo, std::string id, SnapshotMeta head)
      : repo_(repo), id_(std::move(id)), head_(std::move(head)) {
    Restart();
  }

  // The parent's file entry at `path`, valid until the next call; nullptr when there is none.
  const SnapshotEntry* Find(const std::string& path) {
    if (!reader_) return nullptr;
    if (asked_ && WalkLess(path, last_)) {
      if (++restarts_ > kMaxRestarts) {
        reader_.reset();
        return nullptr;
      }
      Restart();
      if (!reader_) return nullptr;
    }
    asked_ = true;
    last_ = path;
    while (has_ && WalkLess(current_.meta.path, path)) Advance();
    if (!has_ || current_.meta.path != path || current_.meta.type != EntryType::kFile) return nullptr;
    return &current_;
  }

 private:
  void Restart() {
    SnapshotMeta head = head_;  // OpenEntries takes the entries of versions 1 and 2
    reader_ = repo_.OpenEntries(id_, head);
    has_ = false;
    if (reader_) Advance();
  }
  void Advance() {
    auto next = reader_->Next(&current_);
    has_ = next.ok() && *next;
    if (!next.ok()) reader_.reset();  // a damaged parent: read every file instead
  }

  Repository& repo_;
  std::string id_;
  SnapshotMeta head_;
  std::unique_ptr<EntryReader> reader_;
  SnapshotEntry current_;
  bool has_ = false;
  bool asked_ = false;
  std::string last_;
  int restarts_ = 0;
};

// An entry on its way into the entry pages: written once its last chunk has an ID.
struct PendingEntry {
  SnapshotEntry entry;
  uint32_t queued = 0;  // chunks handed to the workers
  uint32_t done = 0;    // chunks whose ID is known
  bool closed = false;  // every chunk is queued
  bool dropped = false;
};

// A finished pack on its way to the store.
struct SealedPack {
  std::string name;
  Bytes bytes;
  std::vector<PackEntry> entries;
};

// Warnings kept in one snapshot; beyond that they are counted (a tree with a million
// unreadable files must not grow the metadata without bound).
constexpr size_t kMaxWarnings = 10000;

// Implements SnapshotWriter for one backup run. The calling thread reads and chunks;
// `threads` workers hash, dedup, compress, encrypt and store packs. Entries go into entry
// pages (repo/entry_pages.h) as soon as their chunks are hashed, so memory holds only the
// entries in flight, never the whole list.
class BackupWriter : public SnapshotWriter {
 public:
  BackupWriter(Repository& repo, IndexCache& cache, const BackupOptions& options,
               std::unique_ptr<ParentCursor> parent)
      : repo_(repo),
        cache_(cache),
        options_(options),
        queue_(2 * Threads() + 2),
        pages_(repo.keys()),
        parent_(std::move(parent)) {
    for (size_t i = 0; i < Threads(); ++i) workers_.emplace_back([this] { WorkerLoop(); });
    // Storing (write + fsync) runs on its own thread so the workers keep compressing and
    // encrypting while the disk catches up; one pack may wait, bounding memory.
    store_thread_ = std::thread([this] { StoreLoop(); });
  }
  ~BackupWriter() override { Abort(); }

  Status AddFile(const EntryMeta& meta, ByteReader& content) override;
  Status AddEntry(const EntryMeta& meta) override;
  Status Warn(const std::string& path, const Status& problem) override {
    if (!options_.skip_unreadable) {
      return Status::SourceFailed(
          Tr("{} を読めません ({})。バックアップを中止しました。対象から除外する (--exclude) か、"
             "読めるようにしてから再実行してください (読めないものを飛ばすには --skip-unreadable)",
             "cannot read {} ({}); the backup was stopped. Exclude it (--exclude) or make it "
             "readable, then run again (--skip-unreadable skips what cannot be read)",
             path, problem.message()));
    }
    AddWarning(path, problem);
    return Status::Ok();
  }
  Status Note(const std::string& path, const Status& problem) override {
    AddWarning(path, problem);
    return Status::Ok();
  }
  std::vector<OwnDirectory> OwnDirectories() const override { return own_dirs_; }
  void SetOwnDirectories(std::vector<OwnDirectory> dirs) { own_dirs_ = std::move(dirs); }

  // Stops the workers and the store thread and drops queued work.
  void Abort() {
    queue_.Abort();
    {
      std::lock_guard lock(refs_mu_);
      aborted_ = true;
    }
    done_cv_.notify_all();
    JoinWorkers();
    packs_.Abort();
    if (store_thread_.joinable()) store_thread_.join();
  }
  // Writes the remaining entries and pages, drains the pipeline and stores the last pack;
  // then the snapshot can be built.
  Status Finish();
  // The snapshot object; its blob list (SnapshotBlobIds) is the sorted, distinct IDs it
  // references.
  Bytes BuildSnapshot(SnapshotPlain& plain, SnapshotMeta& meta);

  const BackupStats& stats() const { return stats_; }
  std::vector<SnapshotWarning>& warnings() { return warnings_; }

 private:
  size_t Threads() const { return options_.threads ? options_.threads : ThreadPool::DefaultThreads(); }
  void JoinWorkers() {
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }
  void AddWarning(const std::string& path, const Status& problem) {
    if (warnings_.size() < kMaxWarnings) {
      warnings_.push_back({path, problem.message()});
    } else {
      ++warnings_dropped_;
    }
  }
  void WorkerLoop();
  void StoreLoop();
  Status StorePack(SealedPack& pack);
  Status ProcessChunk(ChunkJob& job);
  Status FlushPack(PackBuilder& builder);
  bool ReuseFromParent(const EntryMeta& meta);
  // Index of a new pending entry. Caller holds refs_mu_.
  uint32_t NewPendingLocked(SnapshotEntry entry, bool closed) {
    auto index = static_cast<uint32_t>(pending_base_ + pending_.size());
    pending_.push_back({std::move(entry), 0, 0, closed, false});
    return index;
  }
  PendingEntry& PendingAt(uint32_t index) { return pending_[index - pending_base_]; }
  // Moves the completed entries at the front into the pages and queues finished pages.
  Status EmitReady();
  Status QueuePages();
  void NoteIdLocked(const crypto::Hash& id) {
    // A deque grows in blocks, never by copying itself into a buffer twice its size (which
    // made the peak three times the list at a million files). Compacted when it doubles,
    // so duplicates (a blob many files share) never double it either.
    ids_.push_back(id);
    if (ids_.size() >= compact_at_) {
      std::sort(ids_.begin(), ids_.end());
      ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
      ids_.shrink_to_fit();
      compact_at_ = std::max<size_t>(2 * ids_.size(), size_t{1} << 16);
    }
  }
  void SetError(const Status& st) {
    {
      std::lock_guard lock(error_mu_);
      if (error_.ok()) error_ = st;
      failed_.store(true);
    }
    // Through the mutex the waiter checks under, so Finish cannot miss the wake-up.
    { std::lock_guard lock(refs_mu_); }
    done_cv_.notify_all();
  }
  Status Error() {
    std::lock_guard lock(error_mu_);
    return error_;
  }

  Repository& repo_;
  IndexCache& cache_;
  const BackupOptions& options_;
  BoundedQueue<ChunkJob> queue_;
  std::vector<std::thread> workers_;
  BoundedQueue<SealedPack> packs_{1};
  std::thread store_thread_;

  std::mutex error_mu_;
  Status error_;
  std::atomic<bool> failed_{false};

  // Blobs claimed in this run that are not yet in a stored pack (then the cache knows them).
  std::mutex claimed_mu_;
  std::unordered_set<crypto::Hash, HashHasher> claimed_;

  std::mutex pack_mu_;
  PackBuilder pack_;

  // Entries in flight, page IDs and the referenced IDs, under refs_mu_.
  std::mutex refs_mu_;
  std::condition_variable done_cv_;
  std::deque<PendingEntry> pending_;
  uint64_t pending_base_ = 0;
  std::vector<crypto::Hash> page_ids_;
  uint32_t pages_queued_ = 0;
  uint32_t pages_done_ = 0;
  std::deque<crypto::Hash> ids_;
  size_t compact_at_ = size_t{1} << 16;
  bool aborted_ = false;

  std::mutex stats_mu_;
  BackupStats stats_;
  std::atomic<uint64_t> stored_{0};

  EntryPageWriter pages_;  // the calling thread's
  Bytes chunk_buf_;        // the calling thread's read buffer (AddFile)
  std::vector<SnapshotWarning> warnings_;
  uint64_t warnings_dropped_ = 0;
  std::vector<OwnDirectory> own_dirs_;
  std::unique_ptr<ParentCursor> parent_;
};

bool BackupWriter::ReuseFromParent(const EntryMeta& meta) {
  if (meta.change_key.empty() || !parent_) return false;
  const SnapshotEntry* p = parent_->Find(meta.path);
  if (p == nullptr || p->meta.change_key != meta.change_key) return false;
  // Only when every blob is still stored (a prune or a damaged pack may have removed one).
  for (const crypto::Hash& id : p->blobs) {
    auto loc = cache_.Find(id);
    if (!loc.ok() || !*loc) return false;  // a failed lookup: read the file again
  }
  SnapshotEntry entry;
  entry.meta = meta;
  entry.meta.type = EntryType::kFile;
  entry.size = p->size;
  entry.sha256 = p->sha256;
  entry.blobs = p->blobs;
  {
    std::lock_guard lock(refs_mu_);
    NewPendingLocked(std::move(entry), /*closed=*/true);
  }
  ++stats_.files;
  ++stats_.files_unchanged;
  stats_.bytes_read += p->size;
  return true;
}

void BackupWriter::WorkerLoop() {
  while (auto job = queue_.Pop()) {
    if (failed_.load()) continue;  // drain quickly after an error
    Status st = ProcessChunk(*job);
    if (!st.ok()) {
      SetError(st);
      queue_.Abort();
    }
  }
}

Status BackupWriter::ProcessChunk(ChunkJob& job) {
  crypto::Hash id = ComputeBlobId(repo_.keys(), job.data);
  {
    std::lock_guard lock(refs_mu_);
    if (job.page) {
      page_ids_[job.entry] = id;
      ++pages_done_;
      NoteIdLocked(id);
    } else {
      PendingEntry& p = PendingAt(job.entry);
      p.entry.blobs[job.seq] = id;
      ++p.done;
    }
  }
  done_cv_.notify_all();
  bool is_new = false;
  {
    std::lock_guard lock(claimed_mu_);
    if (!claimed_.count(id)) {
      auto loc = cache_.Find(id);
      // A failed lookup stores the blob again: a duplicate costs space, never data.
      if (!loc.ok() || !*loc) {
        claimed_.insert(id);
        is_new = true;
      }
    }
  }
  if (!is_new) return Status::Ok();
  EncodedBlob blob = EncodeBlob(repo_.keys(), id, job.data, options_.zstd_level);
  if (!job.page) {
    std::lock_guard lock(stats_mu_);
    ++stats_.chunks_new;
    stats_.bytes_new += job.data.size();
  }
  PackBuilder full;
  {
    std::lock_guard lock(pack_mu_);
    pack_.Add(blob.id, blob.compression, blob.raw_length, std::move(blob.sealed));
    if (pack_.size_bytes() < repo_.config().pack_target_size) return Status::Ok();
    std::swap(full, pack_);
  }
  // Stored outside the lock so the other worker keeps filling the next pack meanwhile.
  return FlushPack(full);
}

Status BackupWriter::FlushPack(PackBuilder& builder) {
  if (builder.empty()) return Status::Ok();
  SealedPack pack;
  pack.bytes = builder.Finish(&pack.entries);
  pack.name = ToHex(crypto::Sha256(pack.bytes));
  if (!packs_.Push(std::move(pack))) return Error();
  return Status::Ok();
}

void BackupWriter::StoreLoop() {
  while (auto pack = packs_.Pop()) {
    if (failed_.load()) continue;
    Status st = StorePack(*pack);
    if (!st.ok()) {
      SetError(st);
      queue_.Abort();
    }
  }
}

Status BackupWriter::StorePack(SealedPack& pack) {
  KURA_RETURN_IF_ERROR(repo_.store().Put(ObjectType::kPack, pack.name, pack.bytes));
  // Only a durably stored pack enters the dedup index; from then on the cache answers for
  // its blobs, so they leave the claimed set (which stays as small as the packs in flight).
  KURA_RETURN_IF_ERROR(cache_.AddPack(pack.name, pack.entries));
  {
    std::lock_guard lock(claimed_mu_);
    for (const PackEntry& e : pack.entries) claimed_.erase(e.id);
  }
  stored_.fetch_add(pack.bytes.size());
  std::lock_guard lock(stats_mu_);
  stats_.bytes_stored += pack.bytes.size();
  ++stats_.packs_written;
  return Status::Ok();
}

Status BackupWriter::EmitReady() {
  {
    std::lock_guard lock(refs_mu_);
    while (!pending_.empty()) {
      PendingEntry& p = pending_.front();
      if (!p.closed || p.done < p.queued) break;
      if (!p.dropped) {
        for (const crypto::Hash& id : p.entry.blobs) NoteIdLocked(id);
        pages_.Add(p.entry);
      }
      pending_.pop_front();
      ++pending_base_;
    }
  }
  return QueuePages();
}

Status BackupWriter::QueuePages() {
  while (std::optional<std::string> page = pages_.TakeReady()) {
    ChunkJob job;
    job.page = true;
    job.data.assign(page->begin(), page->end());
    {
      std::lock_guard lock(refs_mu_);
      job.entry = pages_queued_++;
      page_ids_.emplace_back();
    }
    if (!queue_.Push(std::move(job))) return Error();
  }
  return Status::Ok();
}

Status BackupWriter::AddEntry(const EntryMeta& meta) {
  if (failed_.load()) return Error();
  KURA_RETURN_IF_ERROR(CheckStop());
  SnapshotEntry e;
  e.meta = meta;
  {
    std::lock_guard lock(refs_mu_);
    NewPendingLocked(std::move(e), /*closed=*/true);
  }
  ++stats_.other_entries;
  return EmitReady();
}

Status BackupWriter::AddFile(const EntryMeta& meta, ByteReader& content) {
  if (failed_.load()) return Error();
  if (ReuseFromParent(meta)) return EmitReady();
  SnapshotEntry first;
  first.meta = meta;
  first.meta.type = EntryType::kFile;
  uint32_t entry_index = 0;
  {
    std::lock_guard lock(refs_mu_);
    entry_index = NewPendingLocked(std::move(first), /*closed=*/false);
  }
  const Chunker& chunker = repo_.chunker();
  const size_t max = chunker.params().max_size;
  // Holds at least one maximal chunk ahead of the cut point. Refilled only when less than
  // that is left, so the tail moved to the front is small against what is read after it.
  // One buffer for the whole run: a new one per file cost a 2 MiB clear per small file.
  if (chunk_buf_.size() != 4 * max) chunk_buf_.assign(4 * max, 0);
  Bytes& buf = chunk_buf_;
  size_t start = 0, end = 0;
  bool eof = false;
  uint32_t seq = 0;
  uint64_t size = 0;
  crypto::Sha256Stream sha;
  Progress progress;
  auto close = [&](bool dropped, std::string sha256) {
    std::lock_guard lock(refs_mu_);
    PendingEntry& p = PendingAt(entry_index);
    p.closed = true;
    p.dropped = dropped;
    p.entry.size = size;
    p.entry.sha256 = std::move(sha256);
  };
  while (true) {
    if (!eof && end - start < max) {
      if (start > 0) {
        std::memmove(buf.data(), buf.data() + start, end - start);
        end -= start;
        start = 0;
      }
      while (!eof && end < buf.size()) {
        auto n = content.Read(buf.data() + end, buf.size() - end);
        if (!n.ok()) {
          // Chunks already queued still complete; the entry itself is left out (the source
          // may try the file again as a new entry).
          close(/*dropped=*/true, "");
          return n.status();
        }
        if (*n == 0) {
          eof = true;
        } else {
          sha.Update(ByteView(buf.data() + end, *n));
          end += *n;
          size += *n;
        }
      }
    }
    if (start == end) break;
    size_t len = chunker.Cut(ByteView(buf.data() + start, end - start));
    ChunkJob job{entry_index, seq++, false,
                 Bytes(buf.begin() + static_cast<long>(start), buf.begin() + static_cast<long>(start + len))};
    start += len;
    stats_.bytes_read += len;
    ++stats_.chunks;
    if (Status st = CheckStop(); !st.ok()) {  // SIGINT/SIGTERM: stop here, commit nothing
      close(/*dropped=*/true, "");
      return st;
    }
    {
      std::lock_guard lock(refs_mu_);
      PendingEntry& p = PendingAt(entry_index);
      p.entry.blobs.emplace_back();
      ++p.queued;
    }
    if (!queue_.Push(std::move(job))) {
      close(/*dropped=*/true, "");
      return Error();
    }
    if (options_.progress) {
      progress.bytes_done = stats_.bytes_read;
      progress.bytes_stored = stored_.load();
      progress.items_done = stats_.files;
      progress.current = meta.path;
      options_.progress->Update(progress);
    }
  }
  close(/*dropped=*/false, ToHex(sha.Finish()));
  ++stats_.files;
  if (failed_.load()) return Error();
  return EmitReady();
}

Status BackupWriter::Finish() {
  // Every entry waits for its last chunk's ID, then goes into the pages.
  for (;;) {
    KURA_RETURN_IF_ERROR(Error());
    KURA_RETURN_IF_ERROR(EmitReady());
    std::unique_lock lock(refs_mu_);
    if (pending_.empty()) break;
    done_cv_.wait(lock, [&] {
      const PendingEntry& p = pending_.front();
      return aborted_ || failed_.load() || (p.closed && p.done >= p.queued);
    });
    if (aborted_) return Status::Internal("backup aborted");
  }
  pages_.Finish();
  KURA_RETURN_IF_ERROR(QueuePages());
  queue_.Close();
  JoinWorkers();
  if (Error().ok()) {
    PackBuilder last;
    std::swap(last, pack_);
    Status st = FlushPack(last);
    if (!st.ok()) SetError(st);
  }
  packs_.Close();
  if (store_thread_.joinable()) store_thread_.join();
  return Error();
}

Bytes BackupWriter::BuildSnapshot(SnapshotPlain& plain, SnapshotMeta& meta) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  plain.bytes = stats_.bytes_read;
  plain.entries = pages_.entries();
  plain.stored_new = stats_.bytes_stored;
  meta.pages = std::move(page_ids_);
  meta.entry_count = pages_.entries();
  meta.warnings = warnings_;
  if (warnings_dropped_ > 0) {
    meta.warnings.push_back(
        {"", Tr("ほかに {} 件の警告がありました (記録は最初の {} 件まで)",
                "{} more warnings were left out (the first {} are kept)", warnings_dropped_, kMaxWarnings)});
  }
  Bytes out = EncodeSnapshot(repo_.keys(), plain, ids_, meta);
  std::deque<crypto::Hash>().swap(ids_);
  return out;
}

class StreamSource : public Source {
 public:
  StreamSource(int fd, std::string name, std::string kind, bool allow_empty)
      : fd_(fd), name_(std::move(name)), kind_(std::move(kind)), allow_empty_(allow_empty) {}
  std::string Kind() const override { return kind_; }
  std::string Name() const override { return name_; }
  Status Backup(SnapshotWriter& out) override {
    KURA_RETURN_IF_ERROR(ValidateStreamName(name_, "--stdin-name"));
    FdReader fd_reader(fd_, /*owns=*/false, name_);
    CountingReader reader(fd_reader);
    EntryMeta meta;
    meta.path = name_;
    meta.mode = 0600;
    meta.mtime = SystemClock().NowUnix();
    KURA_RETURN_IF_ERROR(out.AddFile(meta, reader));
    if (reader.count() == 0 && !allow_empty_) return EmptyStreamRefused(name_, "--allow-empty");
    return Status::Ok();
  }

 private:
  int fd_;
  std::string name_;
  std::string kind_;
  bool allow_empty_;
};

Status DataVanished(uint64_t missing) {
  return Status::Retryable(
      Tr("バックアップ中に、このスナップショットが使うデータ {} 個がリポジトリから消えました "
         "(ロックが効かない状態で"
         "prune "
         "が同時に実行された可能性があります)"
         "。スナップショットは作成していません。もう一度バックアップしてください",
         "{} blobs this snapshot uses vanished from the repository during the backup (a prune probably ran "
         "at the "
         "same time without a working lock); no snapshot was made. Run the backup again",
         missing));
}

// Without a working lock (a lock file removed by hand, SMB where flock does not exclude)
// a prune may delete packs this backup wrote or reuses. Right before the commit the cache
// is synced with the store again and must still hold every referenced blob; the packs
// holding them are returned for the check after the commit.
// `blobs`: 32-byte IDs back to back (the snapshot object's own list, not a copy of it).
Result<std::set<std::string>> CheckDataStillStored(Repository& repo, ByteView blobs) {
  KURA_RETURN_IF_ERROR(repo.Resync().status());
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
  std::set<std::string> packs;
  uint64_t missing = 0;
  for (size_t k = 0; k + 32 <= blobs.size(); k += 32) {
    crypto::Hash id;
    std::memcpy(id.data(), blobs.data() + k, 32);
    KURA_ASSIGN_OR_RETURN(std::optional<BlobLocation> loc, cache->Find(id));
    if (loc)
      packs.insert(loc->pack);
    else
      ++missing;
  }
  if (missing > 0) return DataVanished(missing);
  return packs;
}

// After the commit: a prune that deleted a pack between the check and the commit would
// have left a snapshot that refers to data that is gone. The packs are listed once more;
// a pack gone since may have been repacked (the blobs live on in a new pack), anything
// else is missing and the snapshot is withdrawn.
Status CheckCommitted(Repository& repo, const std::set<std::string>& packs, ByteView blobs) {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed, repo.store().List(ObjectType::kPack));
  std::set<std::string> present;
  for (const ObjectInfo& o : listed) present.insert(o.name);
  bool all_there =
      std::all_of(packs.begin(), packs.end(), [&](const std::string& p) { return present.count(p) > 0; });
  if (all_there) return Status::Ok();
  return CheckDataStillStored(repo, blobs).status();
}

// The newest snapshot made from the same host and source, read alongside the walk.
std::unique_ptr<ParentCursor> FindParent(Repository& repo, const SnapshotMeta& current,
                                         std::string* parent_id) {
  auto snaps = repo.ListSnapshots(nullptr, /*with_blobs=*/false);
  if (!snaps.ok()) return nullptr;
  int looked = 0;
  for (auto it = snaps->rbegin(); it != snaps->rend() && looked < 30; ++it, ++looked) {
    auto head = repo.LoadHead(it->id);
    if (!head.ok() || head->host != current.host || head->source_kind != current.source_kind ||
        head->source_name != current.source_name) {
      continue;
    }
    *parent_id = it->id;
    return std::make_unique<ParentCursor>(repo, it->id, std::move(*head));
  }
  return nullptr;
}

// The repository (when it is a local directory) and the cache root, by identity, so a files
// backup of a tree that holds them does not store kura's own data again every night.
std::vector<OwnDirectory> OwnDirectoriesOf(Repository& repo) {
  std::vector<OwnDirectory> out;
  const std::vector<std::pair<std::string, const char*>> dirs = {{repo.store().Location(), "repository"},
                                                                 {DefaultCacheRoot(), "cache"}};
  for (const auto& [location, what] : dirs) {
    std::string path = location.rfind("file://", 0) == 0 ? location.substr(7) : location;
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    out.push_back({static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), path, what});
  }
  return out;
}

}  // namespace

std::unique_ptr<Source> MakeStreamSource(int fd, std::string name, std::string kind, bool allow_empty) {
  return std::make_unique<StreamSource>(fd, std::move(name), std::move(kind), allow_empty);
}

Result<BackupResult> RunBackup(Repository& repo, Source& source, const BackupOptions& options) {
  const Clock& clock = options.clock ? *options.clock : SystemClock();
  auto started = std::chrono::steady_clock::now();
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<StoreLock> lock,
                        repo.store().Lock(LockMode::kShared, options.lock_timeout_ms));
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());

  BackupResult result;
  SnapshotPlain plain;
  plain.repository = repo.id();
  plain.kind = options.kind;
  plain.time_ms = clock.NowUnixMillis();
  plain.time = plain.time_ms / 1000;
  SnapshotMeta meta;
  meta.host = options.host.empty() ? LocalHostname() : options.host;
  meta.kura_version = kKuraVersion;
  meta.source_kind = source.Kind();
  meta.source_name = source.Name();
  meta.tags = options.tags;

  std::unique_ptr<ParentCursor> parent;
  if (options.use_parent) parent = FindParent(repo, meta, &result.parent_id);
  Bytes snapshot;
  {
    BackupWriter writer(repo, *cache, options, std::move(parent));
    writer.SetOwnDirectories(OwnDirectoriesOf(repo));
    Status st = source.Backup(writer);
    if (!st.ok()) {
      writer.Abort();
      // A child stopped because kura was asked to stop fails too; the stop is the cause.
      return StopRequested() ? StoppedStatus() : st;
    }
    KURA_RETURN_IF_ERROR(writer.Finish());
    snapshot = writer.BuildSnapshot(plain, meta);
    result.stats = writer.stats();
    result.warnings = writer.warnings();
  }
  // The snapshot is written last: until this Put succeeds there is no snapshot at all.
  KURA_RETURN_IF_ERROR(CheckStop());
  result.snapshot_id = ToHex(crypto::Sha256(snapshot));
  KURA_ASSIGN_OR_RETURN(ByteView blobs, SnapshotBlobIds(result.snapshot_id, snapshot));
  KURA_ASSIGN_OR_RETURN(std::set<std::string> packs, CheckDataStillStored(repo, blobs));
  KURA_RETURN_IF_ERROR(repo.store().Put(ObjectType::kSnapshot, result.snapshot_id, snapshot));
  if (Status after = CheckCommitted(repo, packs, blobs); !after.ok()) {
    (void)repo.store().Delete(ObjectType::kSnapshot, result.snapshot_id);
    return after;
  }
  result.plain = plain;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (options.progress) options.progress->Done();
  return result;
}

}  // namespace kura
