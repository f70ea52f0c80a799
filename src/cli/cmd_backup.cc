#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "cli/clock_warning.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/vault_commands.h"
#include "engine/backup.h"
#include "sources/command.h"
#include "sources/files.h"
#include "sources/stream_guard.h"
#include "util/clock.h"
#include "util/i18n.h"
#include "util/signals.h"
#include "util/text.h"

namespace kura::cli {

using nlohmann::json;

namespace {

struct BackupFlags {
  BackupVaultFlags vault;
  std::vector<std::string> paths;
  std::vector<std::string> excludes;
  std::vector<std::string> tags;
  std::string kind = "manual";
  bool from_stdin = false;
  std::string stdin_name;
  std::string from_command;
  bool skip_unreadable = false;
  bool allow_empty = false;
  bool stdin_name_given = false;  // "--stdin-name ''" is refused, not taken as the default
  std::string host;
};

uint64_t g_walk_total = 0;
int SumSizes(const char*, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_F && S_ISREG(st->st_mode)) g_walk_total += static_cast<uint64_t>(st->st_size);
  return 0;
}

// Sum of regular file sizes under `paths`, for the progress line's percentage and ETA.
uint64_t EstimateTotal(const std::vector<std::string>& paths) {
  g_walk_total = 0;
  for (const std::string& p : paths) ::nftw(p.c_str(), SumSizes, 32, FTW_PHYS);
  return g_walk_total;
}

std::string Absolute(const std::string& path) {
  if (!path.empty() && path.front() == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  std::string out = std::string(cwd) + "/" + path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::vector<std::pair<std::string, std::string>> LabelFlags(const BackupFlags& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& t : f.tags) out.emplace_back("--tag", t);
  if (!f.host.empty()) out.emplace_back("--host", f.host);
  return out;
}

json ResultJson(const BackupResult& r) {
  json warnings = json::array();
  for (const SnapshotWarning& w : r.warnings) {
    json j{{"message", EscapeText(w.message)}};
    PutNameJson(j, "path", w.path);
    warnings.push_back(std::move(j));
  }
  return json{{"ok", true},
              {"snapshot", r.snapshot_id},
              {"short_id", ShortId(r.snapshot_id)},
              {"kind", KindName(r.plain.kind)},
              {"time", FormatUtc(r.plain.time)},
              {"files", r.stats.files},
              {"files_unchanged", r.stats.files_unchanged},
              {"parent", r.parent_id},
              {"bytes_read", r.stats.bytes_read},
              {"chunks", r.stats.chunks},
              {"chunks_new", r.stats.chunks_new},
              {"bytes_new", r.stats.bytes_new},
              {"bytes_stored", r.stats.bytes_stored},
              {"seconds", r.seconds},
              {"warnings", warnings}};
}

int Run(Context& ctx, const BackupFlags& f) {
  auto kind = ParseKind(f.kind);
  if (!kind) {
    return Fail(ctx, Status::InvalidArgument(Tr("--kind は daily、monthly、manual のいずれかです (指定: {})",
                                                "--kind must be daily, monthly or manual (got {})", f.kind)));
  }
  int modes = (f.from_stdin ? 1 : 0) + (!f.from_command.empty() ? 1 : 0) + (!f.paths.empty() ? 1 : 0);
  if (modes != 1) {
    return Fail(ctx, Status::InvalidArgument(L(
                         "バックアップ対象を 1 つ指定してください: パス、--stdin、--from-command のいずれか",
                         "give exactly one thing to back up: paths, --stdin or --from-command")));
  }
  if (f.stdin_name_given) {
    // Checked before the repository is opened and before a byte of stdin is read.
    if (!f.paths.empty()) {
      return Fail(ctx, Status::InvalidArgument(L("--stdin-name は --stdin か --from-command と一緒に使います",
                                                 "--stdin-name goes with --stdin or --from-command")));
    }
    Status name = ValidateStreamName(f.stdin_name, "--stdin-name");
    if (!name.ok()) return Fail(ctx, name);
  }
  if (f.allow_empty && !f.paths.empty()) {
    return Fail(ctx, Status::InvalidArgument(L("--allow-empty は --stdin か --from-command と一緒に使います",
                                               "--allow-empty goes with --stdin or --from-command")));
  }
  // Tags and the host are labels for people and for filters, shown by the host
  // application: they must be text (file and stream names may be any bytes).
  for (const auto& [flag, value] : LabelFlags(f)) {
    if (!IsValidUtf8(value) || EscapeText(value, false) != value) {
      return Fail(
          ctx, Status::InvalidArgument(
                   Tr("{} は UTF-8 の文字列で、制御文字を含まないものにしてください (指定: {})",
                      "{} must be UTF-8 text without control characters (got {})", flag, EscapeName(value))));
    }
  }
  std::unique_ptr<Source> source;
  if (f.from_stdin) {
    source =
        MakeStreamSource(STDIN_FILENO, f.stdin_name_given ? f.stdin_name : "stdin", "stdin", f.allow_empty);
  } else if (!f.from_command.empty()) {
    CommandSourceOptions o;
    o.shell = f.from_command;
    o.stream = f.stdin_name_given ? f.stdin_name : "stdout";
    o.allow_empty = f.allow_empty;
    o.empty_hint = "--allow-empty";
    source = NewCommandSource(std::move(o));
  } else {
    FilesSourceOptions o;
    for (const std::string& p : f.paths) o.paths.push_back(Absolute(p));
    o.exclude = f.excludes;
    source = NewFilesSource(std::move(o));
  }
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  StopOnSignals stop_on_signals;  // SIGINT/SIGTERM: stop the command, commit nothing, exit 130/143
  ProgressLine progress(L("バックアップ中", "backing up"), ctx.ShowProgress());
  if (ctx.ShowProgress() && StderrIsTerminal() && !f.paths.empty())
    progress.set_total_hint(EstimateTotal(f.paths));
  BackupOptions options;
  options.kind = *kind;
  options.tags = f.tags;
  options.host = f.host;
  options.skip_unreadable = f.skip_unreadable;
  options.progress = &progress;
  auto result = RunBackup(**repo, *source, options);
  progress.Done();
  if (!result.ok()) {
    return Fail(
        ctx, result.status().WithContext(L("バックアップに失敗しました (スナップショットは作成していません)",
                                           "backup failed (no snapshot was made)")));
  }
  if (auto all = (*repo)->ListSnapshots(nullptr, /*with_blobs=*/false); all.ok())
    WarnIfClockBehind(*all, SystemClock());
  json doc = ResultJson(*result);
  if (!f.vault.url.empty()) {
    // The local repository stays the first target; the vault gets the snapshot after it.
    Status sent = SendBackupToVault(ctx, **repo, result->snapshot_id, *kind, f.vault, &doc);
    if (!sent.ok()) return Fail(ctx, sent);
  }
  if (ctx.opts.json) PrintJson(doc);
  const BackupStats& s = result->stats;
  ctx.Say(Tr("スナップショット {} を作成しました ({}): {} 件、読込 {}、新規データ {} (保存 {})、{:.1f} 秒",
             "snapshot {} saved ({}): {} files, read {}, new data {} (stored {}), {:.1f} s",
             ShortId(result->snapshot_id), KindLabel(*kind), s.files, FormatBytes(s.bytes_read),
             FormatBytes(s.bytes_new), FormatBytes(s.bytes_stored), result->seconds));
  // The message says what happened (vanished, not a regular file, changed while read,
  // unreadable, kura's own repository); the prefix must not claim more than that.
  for (const SnapshotWarning& w : result->warnings) {
    PrintWarning(Tr("{}: {}", "{}: {}", w.path.empty() ? "/" : EscapeName(w.path), w.message));
  }
  if (!result->warnings.empty()) {
    std::fputs(Tr("kura: スナップショットは作成しましたが、警告が {} 件あります (終了コード 11)\n",
                  "kura: the snapshot was saved with {} warning(s) (exit code 11)\n", result->warnings.size())
                   .c_str(),
               stderr);
  }
  return result->warnings.empty() ? kExitOk : kExitPartial;
}

}  // namespace

void AddBackupCommand(CLI::App& app, Context& ctx, int* exit_code) {
  BackupFlags& f = ctx.NewFlags<BackupFlags>();
  CLI::App* b = app.add_subcommand("backup", L("バックアップを作成", "make a backup"));
  b->add_option("PATH", f.paths,
                L("バックアップするファイルやディレクトリ", "files and directories to back up"));
  // allow_extra_args(false): each --exclude/--tag takes one value, so `--tag night /srv` keeps
  // /srv as the path to back up instead of swallowing it as a second tag.
  b->add_option("--exclude", f.excludes,
                L("除外するパターン (複数可)", "glob pattern to exclude (repeatable)"))
      ->allow_extra_args(false);
  b->add_option("--kind", f.kind,
                L("世代の種類: daily | monthly | manual (既定 manual)",
                  "generation kind: daily | monthly | manual (default manual)"));
  b->add_option("--tag", f.tags, L("タグ (複数可)", "tag (repeatable)"))->allow_extra_args(false);
  b->add_option("--host", f.host,
                L("記録するホスト名 (既定はこの PC)", "host name to record (default: this machine)"));
  b->add_flag("--stdin", f.from_stdin,
              L("標準入力を 1 つのストリームとして保存", "store standard input as one stream"));
  b->add_option("--stdin-name", f.stdin_name,
                L("ストリームの名前 (相対名: db.dump、daily/db.sql)",
                  "name of the stream (relative: db.dump, daily/db.sql)"))
      ->each([&f](const std::string&) { f.stdin_name_given = true; });
  b->add_flag("--allow-empty", f.allow_empty,
              L("--stdin / --from-command の空の入力も保存する (既定では空なら失敗)",
                "store an empty --stdin / --from-command stream too (by default empty fails)"));
  b->add_option("--from-command", f.from_command,
                L("コマンド (sh -c) の標準出力を保存。失敗したらスナップショットを作りません",
                  "store a command's stdout (sh -c); no snapshot if it fails"));
  b->add_flag("--skip-unreadable", f.skip_unreadable,
              L("読めないファイルを飛ばして警告として記録 (終了コード 11)",
                "skip unreadable files, recording warnings (exit 11)"));
  AddBackupVaultOptions(b, &f.vault);
  OnRun(b, ctx, exit_code, [&ctx, &f] { return Run(ctx, f); });
}

}  // namespace kura::cli
