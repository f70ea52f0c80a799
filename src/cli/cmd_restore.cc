#include <unistd.h>

#include "agent/restore.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "util/i18n.h"

namespace kura::cli {

using nlohmann::json;

namespace {

struct RestoreFlags {
  std::string snapshot;
  std::string target;
  bool to_stdout = false;
  std::vector<std::string> include;
  bool overwrite = false;
};

int Run(Context& ctx, const RestoreFlags& f) {
  if (f.target.empty() == !f.to_stdout) {
    return Fail(ctx, Status::InvalidArgument(L("--target DIR か --stdout のどちらか一方を指定してください",
                                               "give exactly one of --target DIR and --stdout")));
  }
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto snap = (*repo)->FindSnapshot(f.snapshot);
  if (!snap.ok()) return Fail(ctx, snap.status());
  auto meta = (*repo)->LoadMeta(snap->id);
  if (!meta.ok()) return Fail(ctx, meta.status());
  ProgressLine progress(L("復元中", "restoring"), ctx.ShowProgress());

  if (f.to_stdout) {
    std::vector<const SnapshotEntry*> files;
    for (const SnapshotEntry& e : meta->entries) {
      if (e.meta.type != EntryType::kFile) continue;
      if (f.include.empty() || std::find(f.include.begin(), f.include.end(), e.meta.path) != f.include.end()) {
        files.push_back(&e);
      }
    }
    if (files.size() != 1) {
      return Fail(ctx, Status::InvalidArgument(Tr("--stdout は 1 つのストリームだけを出力できます (該当 {} 件)。--path で指定してください",
                                                  "--stdout writes exactly one stream ({} match); choose one with --path",
                                                  files.size())));
    }
    FdWriter out(STDOUT_FILENO, false, "stdout");
    uint64_t done = 0;
    Status st = RestoreEntry(**repo, *snap, *files[0], out, &progress, &done);
    progress.Done();
    if (!st.ok()) return Fail(ctx, st);
    return kExitOk;
  }

  RestoreOptions options;
  options.target_dir = f.target;
  options.include = f.include;
  options.overwrite = f.overwrite;
  options.progress = &progress;
  auto result = RestoreToDirectory(**repo, *snap, *meta, options);
  progress.Done();
  if (!result.ok()) return Fail(ctx, result.status());
  if (ctx.opts.json) {
    PrintJson({{"ok", true}, {"snapshot", snap->id}, {"target", f.target}, {"files", result->files},
               {"bytes", result->bytes}, {"verified", result->verified.size()}});
  }
  ctx.Say(Tr("スナップショット {} を {} に復元しました: {} 件 {}。すべてのファイルがバックアップ時の SHA-256 と一致しました。",
             "restored snapshot {} to {}: {} files, {}; every file matched its SHA-256 from the backup.",
             ShortId(snap->id), f.target, result->files, FormatBytes(result->bytes)));
  return kExitOk;
}

}  // namespace

void AddRestoreCommand(CLI::App& app, Context& ctx, int* exit_code) {
  static RestoreFlags f;
  CLI::App* r = app.add_subcommand("restore", L("スナップショットを復元", "restore a snapshot"));
  r->add_option("SNAPSHOT", f.snapshot, L("ID、ID の先頭部分、または latest", "an ID, a unique ID prefix, or latest"))->required();
  r->add_option("--target", f.target, L("復元先ディレクトリ", "directory to restore into"));
  r->add_flag("--stdout", f.to_stdout, L("1 つのストリームを標準出力へ", "write one stream to standard output"));
  r->add_option("--path", f.include, L("復元するパス (複数可)", "path to restore (repeatable)"));
  r->add_flag("--overwrite", f.overwrite, L("既存のファイルを上書き", "replace existing files"));
  OnRun(r, ctx, exit_code, [&ctx] { return Run(ctx, f); });
}

}  // namespace kura::cli
