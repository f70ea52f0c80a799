#include "agent/snapshot_copy.h"

#include <algorithm>

#include "agent/backup.h"
#include "agent/prune.h"
#include "agent/restore.h"
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

// Replays a stored snapshot's entries into the backup engine.
class ReplaySource : public Source {
 public:
  ReplaySource(std::unique_ptr<SnapshotReader> reader, std::string kind, std::string name)
      : reader_(std::move(reader)), kind_(std::move(kind)), name_(std::move(name)) {}
  std::string Kind() const override { return kind_; }
  std::string Name() const override { return name_; }
  Status Backup(SnapshotWriter& out) override {
    for (const EntryMeta& e : reader_->Entries()) {
      if (e.type == EntryType::kFile) {
        KURA_ASSIGN_OR_RETURN(auto content, reader_->Open(e.path));
        KURA_RETURN_IF_ERROR(out.AddFile(e, *content));
      } else {
        KURA_RETURN_IF_ERROR(out.AddEntry(e));
      }
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<SnapshotReader> reader_;
  std::string kind_;
  std::string name_;
};

}  // namespace

Result<std::vector<Snapshot>> JobSnapshots(Repository& repo, const std::string& job) {
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots());
  std::vector<Snapshot> out;
  std::string tag = JobTag(job);
  for (Snapshot& s : all) {
    auto meta = repo.LoadMeta(s.id);
    if (!meta.ok()) continue;  // a damaged snapshot belongs to nobody; verify reports it
    if (HasTag(*meta, tag)) out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> FindCopy(Repository& repo, const std::string& source_id) {
  KURA_ASSIGN_OR_RETURN(std::vector<Snapshot> all, repo.ListSnapshots());
  std::string tag = CopyOfTag(source_id);
  // Newest first: a just-made copy is found after reading one or two metadata objects.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    auto meta = repo.LoadMeta(it->id);
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
  KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, from.LoadMeta(snap.id));
  BackupOptions options;
  options.kind = snap.plain.kind;
  options.tags = meta.tags;
  options.tags.push_back(CopyOfTag(snap.id));
  options.host = meta.host;
  options.clock = &clock;
  options.progress = progress;
  std::string kind = meta.source_kind, name = meta.source_name;
  ReplaySource source(MakeSnapshotReader(from, snap, std::move(meta)), kind, name);
  KURA_ASSIGN_OR_RETURN(BackupResult br, RunBackup(to, source, options));
  result.snapshot_id = br.snapshot_id;
  result.bytes = br.stats.bytes_read;
  result.bytes_stored = br.stats.bytes_stored;
  return result;
}

}  // namespace kura
