#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/restore_report.h"
#include "cli/vault_grant.h"
#include "engine/db_restore.h"
#include "engine/restore.h"
#include "util/i18n.h"
#include "util/text.h"

namespace kura::cli {

using nlohmann::json;

namespace {

struct RestoreFlags {
  std::string snapshot;
  std::string target;
  bool to_stdout = false;
  std::vector<std::string> include;
  bool overwrite = false;
  bool sync = false;
  // --to-database KIND and its connection (secrets only through a file or the environment).
  std::string to_database;
  std::string db_host;
  int db_port = 0;
  std::string db_user;
  std::string db_name;  // the database to restore into; sqlite: the file
  std::string db_password_file;
  std::string db_socket;
  std::string db_client_dir;
  std::string stream;
  bool replace = false;
  bool no_owner = false;
  GrantFlags grant;  // --vault URL --grant FILE: the vault's copy through a restore grant
};

// The local repository, or the vault's copy through a restore grant (redeemed here).
Result<std::unique_ptr<Repository>> OpenSource(Context& ctx, const RestoreFlags& f) {
  if (!f.grant.requested()) return ctx.OpenRepository();
  if (!ctx.opts.repo.empty()) {
    return Status::InvalidArgument(
        L("--vault/--grant と --repo は同時に使えません", "--vault/--grant cannot be combined with --repo"));
  }
  KURA_ASSIGN_OR_RETURN(GrantedRepository granted, OpenGrantedRepository(ctx, f.grant));
  return std::move(granted.repo);
}

// kura restore SNAPSHOT --to-database KIND ...: the kind's restore with its check, then
// the report (tables and row counts, integrity check) for the operator.
int RunToDatabase(Context& ctx, const RestoreFlags& f) {
  if (!f.target.empty() || f.to_stdout) {
    return Fail(ctx,
                Status::InvalidArgument(L("--to-database は --target や --stdout と同時に使えません",
                                          "--to-database cannot be combined with --target or --stdout")));
  }
  DbRestoreTarget t;
  t.kind = f.to_database;
  t.conn.host = f.db_host;
  t.conn.port = f.db_port;
  t.conn.user = f.db_user;
  t.conn.socket = f.db_socket;
  t.conn.client_dir = f.db_client_dir;
  t.conn.password_file = f.db_password_file;
  if (t.conn.password_file.empty()) {
    if (const char* pw = std::getenv("KURA_DB_PASSWORD"); pw != nullptr && *pw != '\0') t.conn.password = pw;
  }
  if (t.kind == "sqlite")
    t.path = f.db_name;
  else
    t.database = f.db_name;
  t.stream = f.stream;
  t.replace = f.replace;
  t.no_owner = f.no_owner;
  auto repo = OpenSource(ctx, f);
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto snap = (*repo)->FindSnapshot(f.snapshot);
  if (!snap.ok()) return Fail(ctx, snap.status());
  RestoreReport report;
  Status st = RestoreSnapshotToDatabase(**repo, *snap, t, &report);
  if (!st.ok()) {
    return Fail(ctx,
                st.WithContext(Tr("スナップショット {} をデータベースに復元できませんでした",
                                  "could not restore snapshot {} into the database", ShortId(snap->id))));
  }
  if (ctx.opts.json) {
    PrintJson(
        {{"ok", true}, {"snapshot", snap->id}, {"kind", t.kind}, {"restore", RestoreReportJson(report)}});
  }
  ctx.Say(Tr("スナップショット {} を復元しました。", "restored snapshot {}.", ShortId(snap->id)));
  ctx.Say(FormatRestoreReport(report));
  return kExitOk;
}

int Run(Context& ctx, const RestoreFlags& f) {
  if (!f.to_database.empty()) return RunToDatabase(ctx, f);
  if (f.target.empty() == !f.to_stdout) {
    return Fail(ctx, Status::InvalidArgument(L("--target DIR か --stdout のどちらか一方を指定してください",
                                               "give exactly one of --target DIR and --stdout")));
  }
  auto repo = OpenSource(ctx, f);
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto snap = (*repo)->FindSnapshot(f.snapshot);
  if (!snap.ok()) return Fail(ctx, snap.status());
  auto meta = (*repo)->LoadHead(snap->id);
  if (!meta.ok()) return Fail(ctx, meta.status());
  ProgressLine progress(L("復元中", "restoring"), ctx.ShowProgress());

  if (f.to_stdout) {
    if (auto cache = (*repo)->Cache(); !cache.ok()) return Fail(ctx, cache.status());
    // One stream: the first match is kept, the rest only counted.
    std::vector<SnapshotEntry> files;
    size_t matches = 0;
    std::unique_ptr<EntryReader> entries = (*repo)->OpenEntries(snap->id, *meta);
    SnapshotEntry e;
    for (;;) {
      auto more = entries->Next(&e);
      if (!more.ok()) return Fail(ctx, more.status());
      if (!*more) break;
      if (e.meta.type != EntryType::kFile) continue;
      // A path as given or as `kura ls` shows it (EscapeName: legacy-encoded names).
      bool wanted = f.include.empty();
      if (!wanted) {
        const std::string shown = EscapeName(e.meta.path);
        wanted = std::any_of(f.include.begin(), f.include.end(),
                             [&](const std::string& p) { return p == e.meta.path || p == shown; });
      }
      if (wanted) {
        if (++matches == 1) files.push_back(std::move(e));
      }
    }
    if (files.empty() && !f.include.empty()) {
      return Fail(
          ctx,
          Status::NotFound(Tr(
              "--path {} に一致するファイルがスナップショットにありません。kura ls でパスを確認してください",
              "--path {} matches no file in the snapshot; check the path with kura ls", f.include.front())));
    }
    if (matches != 1) {
      return Fail(
          ctx, Status::InvalidArgument(Tr(
                   "--stdout は 1 つのストリームだけを出力できます (該当 {} 件)。--path で指定してください",
                   "--stdout writes exactly one stream ({} match); choose one with --path", matches)));
    }
    FdWriter out(STDOUT_FILENO, false, "stdout");
    uint64_t done = 0;
    Status st = RestoreEntry(**repo, files[0], out, &progress, &done);
    progress.Done();
    if (!st.ok()) return Fail(ctx, st);
    return kExitOk;
  }

  RestoreOptions options;
  options.target_dir = f.target;
  options.include = f.include;
  options.overwrite = f.overwrite;
  options.sync = f.sync;
  options.progress = &progress;
  auto result = RestoreToDirectory(**repo, *snap, *meta, options);
  progress.Done();
  if (!result.ok()) return Fail(ctx, result.status());
  Status outcome = result->Outcome();
  if (ctx.opts.json) {
    json doc{{"ok", outcome.ok()},
             {"snapshot", snap->id},
             {"target", f.target},
             {"files", result->files},
             {"bytes", result->bytes},
             {"verified", result->files},
             {"not_restored", RestoreProblemsJson(*result)}};
    if (!outcome.ok()) {
      doc["error"] = {{"code", CodeName(outcome.code())}, {"message", outcome.message()}};
      doc["exit_code"] = ExitCodeFor(outcome);
    }
    PrintJson(doc);
  }
  if (!outcome.ok()) {
    // What was restored, then exactly what was not (on stderr, with the error), and the
    // code of the worst problem: damage before conflicts.
    ctx.Say(Tr(
        "スナップショット {} を {} に復元しました: {} 件 {} (SHA-256 確認済み)。一部は復元できませんでした。",
        "restored snapshot {} to {}: {} files, {} (SHA-256 checked); some paths could not be restored.",
        ShortId(snap->id), f.target, result->files, FormatBytes(result->bytes)));
    std::string list = FormatRestoreProblems(*result);
    std::fwrite(list.data(), 1, list.size(), stderr);
    PrintError(outcome);
    return ExitCodeFor(outcome);
  }
  ctx.Say(
      Tr("スナップショット {} を {} に復元しました: {} 件 {}。すべてのファイルがバックアップ時の SHA-256 "
         "と一致しました。",
         "restored snapshot {} to {}: {} files, {}; every file matched its SHA-256 from the backup.",
         ShortId(snap->id), f.target, result->files, FormatBytes(result->bytes)));
  return kExitOk;
}

}  // namespace

void AddRestoreCommand(CLI::App& app, Context& ctx, int* exit_code) {
  RestoreFlags& f = ctx.NewFlags<RestoreFlags>();
  CLI::App* r = app.add_subcommand("restore", L("スナップショットを復元", "restore a snapshot"));
  r->add_option("SNAPSHOT", f.snapshot,
                L("ID、ID の先頭部分、または latest", "an ID, a unique ID prefix, or latest"))
      ->required();
  r->add_option("--target", f.target, L("復元先ディレクトリ", "directory to restore into"));
  r->add_flag("--stdout", f.to_stdout,
              L("1 つのストリームを標準出力へ", "write one stream to standard output"));
  r->add_option("--path", f.include, L("復元するパス (複数可)", "path to restore (repeatable)"))
      ->allow_extra_args(false);
  r->add_flag("--overwrite", f.overwrite, L("既存のファイルを上書き", "replace existing files"));
  r->add_flag("--sync", f.sync,
              L("復元した各ファイルをディスクへ確実に書き込んでから完了とする (fsync)",
                "force every restored file to disk before finishing (fsync)"));
  r->add_option("--to-database", f.to_database,
                L("データベースへ復元: postgresql | mysql | sqlite | sqlserver (復元後に行数などを確認)",
                  "restore into a database: postgresql | mysql | sqlite | sqlserver (checked afterwards)"));
  r->add_option("--db-host", f.db_host, L("DB サーバーのホスト", "database server host"));
  r->add_option("--db-port", f.db_port, L("DB サーバーのポート", "database server port"));
  r->add_option("--db-user", f.db_user, L("DB のユーザー", "database user"));
  r->add_option(
      "--db-name", f.db_name,
      L("復元先のデータベース名 (sqlite はファイル)", "database to restore into (sqlite: the file)"));
  r->add_option("--db-password-file", f.db_password_file,
                L("DB パスワードのファイル (または環境変数 KURA_DB_PASSWORD、.pgpass)",
                  "file with the database password (or env KURA_DB_PASSWORD, .pgpass)"));
  r->add_option("--db-socket", f.db_socket, L("MySQL/MariaDB のソケット", "MySQL/MariaDB socket"));
  r->add_option("--db-client-dir", f.db_client_dir,
                L("pg_restore などのあるディレクトリ", "directory of pg_restore etc."));
  r->add_option("--stream", f.stream,
                L("復元するストリーム (既定: 唯一のもの)", "stream to restore (default: the only one)"));
  r->add_flag("--replace", f.replace, L("既存のデータベースを置き換える", "replace an existing database"));
  r->add_flag("--no-owner", f.no_owner,
              L("PostgreSQL: 所有者を復元しない", "PostgreSQL: do not restore ownership"));
  AddGrantOptions(r, &f.grant);
  OnRun(r, ctx, exit_code, [&ctx, &f] { return Run(ctx, f); });
}

}  // namespace kura::cli
