#include "engine/snapshot_copy.h"

#include <algorithm>

#include "engine/backup.h"
#include "engine/prune.h"
#include "engine/restore.h"
#include "util/i18n.h"

namespace kura {

std::string JobTag(const std::string& job) {
  return "kura-job:" + job;
}
std::string CopyOfTag(const std::string& snapshot_id) {
  return "kura-copy-of:" + snapshot_id;
}

namespace {

bool HasTag(const SnapshotMeta& meta, const std::string& tag) {
  return std::find(meta.tags.begin(), meta.tags.end(), tag) != meta.tags.end();
}

// Replays a stored snapshot's entries into the backup engine, streaming them from the
// entry pages (one page and one file's read-ahead in memory).
class ReplaySource : public Source {
 public:
  ReplaySource(Repository& repo, std::string snapshot_id, SnapshotMeta head)
      : repo_(repo), id_(std::move(snapshot_id)), head_(std::move(head)), pool_(0) {}
  std::string Kind() const override { return head_.source_kind; }
  std::string Name() const override { return head_.source_name; }
  Status Backup(SnapshotWriter& out) override {
    KURA_RETURN_IF_ERROR(repo_.Cache().status());
    std::unique_ptr<EntryReader> entries = repo_.OpenEntries(id_, head_);
    SnapshotEntry e;
    for (;;) {
      KURA_ASSIGN_OR_RETURN(bool more, entries->Next(&e));
      if (!more) break;
      if (e.meta.type == EntryType::kFile) {
        std::unique_ptr<ByteReader> content = OpenEntryContent(repo_, e, pool_);
        KURA_RETURN_IF_ERROR(out.AddFile(e.meta, *content));
      } else {
        KURA_RETURN_IF_ERROR(out.AddEntry(e.meta));
      }
    }
    return Status::Ok();
  }

 private:
  Repository& repo_;
  std::string id_;
  SnapshotMeta head_;
  ThreadPool pool_;
};

}  // namespace

Result<std::vector<Snapshot>> JobSnapshots(Repository& repo, const std::string& job) {
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots(nullptr, /*with_blobs=*/false));
  std::vector<Snapshot> out;
  std::string tag = JobTag(job);
  for (Snapshot& s : all) {
    auto meta = repo.LoadHead(s.id);
    if (!meta.ok()) continue;  // a damaged snapshot belongs to nobody; verify reports it
    if (HasTag(*meta, tag)) out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> FindCopy(Repository& repo, const std::string& source_id) {
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots(nullptr, /*with_blobs=*/false));
  std::string tag = CopyOfTag(source_id);
  // Newest first: a just-made copy is found after reading one or two metadata objects.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto meta = repo.LoadHead(it->id);
    if (meta.ok() && HasTag(*meta, tag)) return it->id;
  }
  return std::string();
}

Result<CopyResult> CopySnapshot(Repository& from, const std::string& snapshot_id, Repository& to,
                                const Clock& clock, ProgressSink* progress) {
  CopyResult result;
  KURA_ASSIGN_OR_RETURN(result.snapshot_id, FindCopy(to, snapshot_id));
  if (!result.snapshot_id.empty()) {
    result.already_present = true;
    return result;
  }
  KURA_ASSIGN_OR_RETURN(Snapshot snap, from.FindSnapshot(snapshot_id));
  KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, from.LoadHead(snap.id));
  BackupOptions options;
  options.kind = snap.plain.kind;
  options.tags = meta.tags;
  options.tags.push_back(CopyOfTag(snap.id));
  options.host = meta.host;
  options.clock = &clock;
  options.progress = progress;
  ReplaySource source(from, snap.id, std::move(meta));
  KURA_ASSIGN_OR_RETURN(BackupResult br, RunBackup(to, source, options));
  result.snapshot_id = br.snapshot_id;
  result.bytes = br.stats.bytes_read;
  result.bytes_stored = br.stats.bytes_stored;
  return result;
}

}  // namespace kura
