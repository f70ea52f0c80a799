#include "agent/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
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
  uint32_t entry = 0;
  uint32_t seq = 0;
  Bytes data;
};

struct ChunkRef {
  uint32_t entry;
  uint32_t seq;
  crypto::Hash id;
};

// What the parent snapshot recorded for one file, for reuse when it has not changed.
struct ParentFile {
  std::string change_key;
  std::string sha256;
  uint64_t size = 0;
  std::vector<crypto::Hash> blobs;
};

using ParentFiles = std::unordered_map<std::string, ParentFile>;

// A finished pack on its way to the store.
struct SealedPack {
  std::string name;
  Bytes bytes;
  std::vector<PackEntry> entries;
};

// Implements SnapshotWriter for one backup run. The calling thread reads and chunks;
// `threads` workers hash, dedup, compress, encrypt and store packs.
class BackupWriter : public SnapshotWriter {
 public:
  BackupWriter(Repository& repo, IndexCache& cache, const BackupOptions& options, ParentFiles parent)
      : repo_(repo), cache_(cache), options_(options), queue_(2 * Threads() + 2), parent_(std::move(parent)) {
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
    warnings_.push_back({path, problem.message()});
    return Status::Ok();
  }
  Status Note(const std::string& path, const Status& problem) override {
    warnings_.push_back({path, problem.message()});
    return Status::Ok();
  }
  std::vector<OwnDirectory> OwnDirectories() const override { return own_dirs_; }
  void SetOwnDirectories(std::vector<OwnDirectory> dirs) { own_dirs_ = std::move(dirs); }

  // Stops the workers and the store thread and drops queued work.
  void Abort() {
    queue_.Abort();
    JoinWorkers();
    packs_.Abort();
    if (store_thread_.joinable()) store_thread_.join();
  }
  // Drains the pipeline and stores the last pack; then the snapshot can be built.
  Status Finish();
  // `blobs` receives the sorted, distinct blob IDs the snapshot references.
  Bytes BuildSnapshot(SnapshotPlain& plain, SnapshotMeta& meta, std::vector<crypto::Hash>& blobs);

  const BackupStats& stats() const { return stats_; }
  std::vector<SnapshotWarning>& warnings() { return warnings_; }

 private:
  size_t Threads() const { return options_.threads ? options_.threads : ThreadPool::DefaultThreads(); }
  void JoinWorkers() {
    for (std::thread& t : workers_) {
      if (t.joinable()) t.join();
    }
  }
  void WorkerLoop();
  void StoreLoop();
  Status StorePack(SealedPack& pack);
  Status ProcessChunk(ChunkJob& job);
  Status FlushPack(PackBuilder& builder);
  bool ReuseFromParent(const EntryMeta& meta);
  void SetError(const Status& st) {
    std::lock_guard lock(error_mu_);
    if (error_.ok()) error_ = st;
    failed_.store(true);
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

  // Blobs claimed in this run (stored or on their way into a pack).
  std::mutex claimed_mu_;
  std::unordered_set<crypto::Hash, HashHasher> claimed_;

  std::mutex pack_mu_;
  PackBuilder pack_;

  std::mutex refs_mu_;
  std::vector<ChunkRef> refs_;

  std::mutex stats_mu_;
  BackupStats stats_;
  std::atomic<uint64_t> stored_{0};

  std::vector<SnapshotEntry> entries_;
  // Entries whose content failed to read (the source may retry the file): their index is
  // taken because chunks already queued refer to it; BuildSnapshot leaves them out.
  std::unordered_set<uint32_t> dropped_;
  std::vector<SnapshotWarning> warnings_;
  std::vector<OwnDirectory> own_dirs_;
  ParentFiles parent_;
};

bool BackupWriter::ReuseFromParent(const EntryMeta& meta) {
  if (meta.change_key.empty()) return false;
  auto it = parent_.find(meta.path);
  if (it == parent_.end() || it->second.change_key != meta.change_key) return false;
  const ParentFile& p = it->second;
  // Only when every blob is still stored (a prune or a damaged pack may have removed one).
  for (const crypto::Hash& id : p.blobs) {
    auto loc = cache_.Find(id);
    if (!loc.ok() || !*loc) return false;  // a failed lookup: read the file again
  }
  uint32_t entry_index = static_cast<uint32_t>(entries_.size());
  {
    std::lock_guard lock(refs_mu_);
    uint32_t seq = 0;
    for (const crypto::Hash& id : p.blobs) refs_.push_back({entry_index, seq++, id});
  }
  SnapshotEntry entry;
  entry.meta = meta;
  entry.meta.type = EntryType::kFile;
  entry.size = p.size;
  entry.sha256 = p.sha256;
  entries_.push_back(std::move(entry));
  ++stats_.files;
  ++stats_.files_unchanged;
  stats_.bytes_read += p.size;
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
    refs_.push_back({job.entry, job.seq, id});
  }
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
  {
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
  // Only a durably stored pack enters the dedup index.
  KURA_RETURN_IF_ERROR(cache_.AddPack(pack.name, pack.entries));
  stored_.fetch_add(pack.bytes.size());
  std::lock_guard lock(stats_mu_);
  stats_.bytes_stored += pack.bytes.size();
  ++stats_.packs_written;
  return Status::Ok();
}

Status BackupWriter::AddEntry(const EntryMeta& meta) {
  if (failed_.load()) return Error();
  KURA_RETURN_IF_ERROR(CheckStop());
  SnapshotEntry e;
  e.meta = meta;
  entries_.push_back(std::move(e));
  ++stats_.other_entries;
  return Status::Ok();
}

Status BackupWriter::AddFile(const EntryMeta& meta, ByteReader& content) {
  if (failed_.load()) return Error();
  if (ReuseFromParent(meta)) return Status::Ok();
  uint32_t entry_index = static_cast<uint32_t>(entries_.size());
  SnapshotEntry entry;
  entry.meta = meta;
  entry.meta.type = EntryType::kFile;
  const Chunker& chunker = repo_.chunker();
  const size_t max = chunker.params().max_size;
  // Holds at least one maximal chunk ahead of the cut point. Refilled only when less than
  // that is left, so the tail moved to the front is small against what is read after it.
  Bytes buf(4 * max);
  size_t start = 0, end = 0;
  bool eof = false;
  uint32_t seq = 0;
  crypto::Sha256Stream sha;
  Progress progress;
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
          dropped_.insert(entry_index);
          entries_.push_back(std::move(entry));
          return n.status();
        }
        if (*n == 0) {
          eof = true;
        } else {
          sha.Update(ByteView(buf.data() + end, *n));
          end += *n;
          entry.size += *n;
        }
      }
    }
    if (start == end) break;
    size_t len = chunker.Cut(ByteView(buf.data() + start, end - start));
    ChunkJob job{entry_index, seq++,
                 Bytes(buf.begin() + static_cast<long>(start), buf.begin() + static_cast<long>(start + len))};
    start += len;
    stats_.bytes_read += len;
    ++stats_.chunks;
    KURA_RETURN_IF_ERROR(CheckStop());  // SIGINT/SIGTERM: stop here, commit nothing
    if (!queue_.Push(std::move(job))) return Error();
    if (options_.progress) {
      progress.bytes_done = stats_.bytes_read;
      progress.bytes_stored = stored_.load();
      progress.items_done = stats_.files;
      progress.current = meta.path;
      options_.progress->Update(progress);
    }
  }
  crypto::Hash digest = sha.Finish();
  entry.sha256 = ToHex(digest);
  entries_.push_back(std::move(entry));
  ++stats_.files;
  return failed_.load() ? Error() : Status::Ok();
}

Status BackupWriter::Finish() {
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

Bytes BackupWriter::BuildSnapshot(SnapshotPlain& plain, SnapshotMeta& meta,
                                  std::vector<crypto::Hash>& blobs) {
  if (!dropped_.empty()) {
    std::vector<uint32_t> remap(entries_.size());
    std::vector<SnapshotEntry> kept;
    for (uint32_t i = 0; i < entries_.size(); ++i) {
      remap[i] = static_cast<uint32_t>(kept.size());
      if (!dropped_.count(i)) kept.push_back(std::move(entries_[i]));
    }
    std::erase_if(refs_, [&](const ChunkRef& r) { return dropped_.count(r.entry) > 0; });
    for (ChunkRef& r : refs_) r.entry = remap[r.entry];
    entries_ = std::move(kept);
    dropped_.clear();
  }
  blobs.reserve(refs_.size());
  for (const ChunkRef& r : refs_) blobs.push_back(r.id);
  std::sort(blobs.begin(), blobs.end());
  blobs.erase(std::unique(blobs.begin(), blobs.end()), blobs.end());
  std::sort(refs_.begin(), refs_.end(), [](const ChunkRef& a, const ChunkRef& b) {
    return a.entry != b.entry ? a.entry < b.entry : a.seq < b.seq;
  });
  for (const ChunkRef& r : refs_) {
    auto it = std::lower_bound(blobs.begin(), blobs.end(), r.id);
    entries_[r.entry].blobs.push_back(static_cast<uint32_t>(it - blobs.begin()));
  }
  plain.bytes = stats_.bytes_read;
  plain.entries = entries_.size();
  plain.stored_new = stats_.bytes_stored;
  meta.entries = std::move(entries_);
  meta.warnings = warnings_;
  return EncodeSnapshot(repo_.keys(), plain, blobs, meta);
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
Result<std::set<std::string>> CheckDataStillStored(Repository& repo, const std::vector<crypto::Hash>& blobs) {
  KURA_RETURN_IF_ERROR(repo.Resync().status());
  KURA_ASSIGN_OR_RETURN(IndexCache * cache, repo.Cache());
  std::set<std::string> packs;
  uint64_t missing = 0;
  for (const crypto::Hash& id : blobs) {
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
Status CheckCommitted(Repository& repo, const std::set<std::string>& packs,
                      const std::vector<crypto::Hash>& blobs) {
  KURA_ASSIGN_OR_RETURN(std::vector<ObjectInfo> listed, repo.store().List(ObjectType::kPack));
  std::set<std::string> present;
  for (const ObjectInfo& o : listed) present.insert(o.name);
  bool all_there =
      std::all_of(packs.begin(), packs.end(), [&](const std::string& p) { return present.count(p) > 0; });
  if (all_there) return Status::Ok();
  return CheckDataStillStored(repo, blobs).status();
}

// The newest snapshot made from the same host and source, and its files by path.
ParentFiles FindParent(Repository& repo, const SnapshotMeta& current, std::string* parent_id) {
  ParentFiles files;
  auto snaps = repo.ListSnapshots();
  if (!snaps.ok()) return files;
  int looked = 0;
  for (auto it = snaps->rbegin(); it != snaps->rend() && looked < 30; ++it, ++looked) {
    auto meta = repo.LoadMeta(it->id);
    if (!meta.ok() || meta->host != current.host || meta->source_kind != current.source_kind ||
        meta->source_name != current.source_name) {
      continue;
    }
    for (SnapshotEntry& e : meta->entries) {
      if (e.meta.type != EntryType::kFile || e.meta.change_key.empty()) continue;
      ParentFile p{e.meta.change_key, e.sha256, e.size, {}};
      for (uint32_t idx : e.blobs) p.blobs.push_back(it->blobs[idx]);
      files.emplace(e.meta.path, std::move(p));
    }
    *parent_id = it->id;
    break;
  }
  return files;
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

  ParentFiles parent;
  if (options.use_parent) parent = FindParent(repo, meta, &result.parent_id);
  Bytes snapshot;
  std::vector<crypto::Hash> blobs;
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
    snapshot = writer.BuildSnapshot(plain, meta, blobs);
    result.stats = writer.stats();
    result.warnings = writer.warnings();
  }
  // The snapshot is written last: until this Put succeeds there is no snapshot at all.
  KURA_RETURN_IF_ERROR(CheckStop());
  result.snapshot_id = ToHex(crypto::Sha256(snapshot));
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
