#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "agent/job_config.h"
#include "agent/vault_site.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/vault_commands.h"
#include "engine/backup.h"
#include "engine/send_packs.h"
#include "util/i18n.h"
#include "util/secret_file.h"

namespace kura::cli {

using nlohmann::json;

std::shared_ptr<VaultInitFlags> AddVaultInitOptions(CLI::App* init) {
  auto f = std::make_shared<VaultInitFlags>();
  init->add_option(
      "--vault", f->url,
      L("登録する保管庫の URL (https://ホスト:ポート)", "the vault to enrol with (https://host:port)"));
  init->add_option("--enroll", f->enroll,
                   L("登録コードのファイル (- で標準入力)。コード自体はコマンド行に書かないでください",
                     "file holding the enrolment code (- for standard input); never the code itself"));
  init->add_option("--job", f->job,
                   L("このリポジトリのジョブ名 (agent.toml の [[job]] name、既定 default)",
                     "the job this repository is for (agent.toml [[job]] name, default: default)"));
  init->add_option(
      "--state-dir", f->state_dir,
      L("状態ディレクトリ (環境変数 KURA_STATE_DIR、既定は agent.toml の state_dir か /var/lib/kura)",
        "state directory (env KURA_STATE_DIR, default: agent.toml's state_dir or /var/lib/kura)"));
  init->add_option("--agent-config", f->agent_config,
                   L("エージェント設定ファイル (state_dir を読む)", "agent config file (for its state_dir)"));
  return f;
}

std::string ResolveStateDir(const std::string& flag, const std::string& agent_config_flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KURA_STATE_DIR"); env != nullptr && *env != '\0') return env;
  auto config = LoadAgentConfig(AgentConfigPath(agent_config_flag));
  if (config.ok()) return config->state_dir;
  return AgentConfig{}.state_dir;
}

void AddBackupVaultOptions(CLI::App* backup, BackupVaultFlags* f) {
  backup->add_option("--vault", f->url,
                     L("保存後にスナップショットを送る保管庫 (登録済みの URL)",
                       "after saving, send the snapshot to this vault (the enrolled URL)"));
  backup->add_option("--job", f->job,
                     L("保管庫でのジョブ名 (kura init --vault の --job、既定 default)",
                       "job name at the vault (kura init --vault's --job, default: default)"));
  backup->add_option("--state-dir", f->state_dir,
                     L("状態ディレクトリ (登録情報の場所)", "state directory (where the enrolment is)"));
}

Status SendBackupToVault(const Context& ctx, Repository& repo, const std::string& snapshot_id,
                         SnapshotKind kind, const BackupVaultFlags& f, nlohmann::json* json_out) {
  const int64_t started = SystemClock().NowUnix();
  KURA_ASSIGN_OR_RETURN(auto vault, OpenVault(ResolveStateDir(f.state_dir, ""), f.url, repo.id(), f.job));
  auto sent = SendSnapshot(repo, snapshot_id, *vault);
  RunReport run;
  run.kind = kind;
  run.started = started;
  run.finished = SystemClock().NowUnix();
  run.success = sent.ok();
  run.snapshot = sent.ok() ? sent->snapshot_id : "";
  run.message = sent.ok() ? "" : sent.status().message();
  (void)vault->ReportRun(run);  // best effort: the snapshot is what matters
  if (!sent.ok()) {
    return sent.status().WithContext(
        L("スナップショットはローカルに保存しましたが、保管庫への送信に失敗しました",
          "the snapshot was saved locally, but sending it to the vault failed"));
  }
  if (json_out != nullptr) {
    (*json_out)["vault"] = {{"url", vault->Location()},
                            {"packs_uploaded", sent->packs_uploaded},
                            {"bytes_uploaded", sent->bytes_uploaded},
                            {"already_present", !sent->commit.created},
                            {"received", FormatUtc(sent->commit.received)},
                            {"clock_warning", sent->commit.clock_warning}};
  }
  ctx.Say(Tr("保管庫 {} に送りました: パック {} 個 ({})", "sent to the vault {}: {} packs ({})",
             vault->Location(), sent->packs_uploaded, FormatBytes(sent->bytes_uploaded)));
  if (sent->commit.clock_warning) {
    PrintWarning(L("この PC の時計が保管庫の時刻と 1 時間以上ずれています。時刻を合わせてください",
                   "this computer's clock is more than an hour off the vault's; set the clock right"));
  }
  return Status::Ok();
}

namespace {

bool LooksLikeCode(const std::string& text) {
  return text.size() >= 6 && (text.rfind("KURA1-", 0) == 0 || text.rfind("kura1-", 0) == 0);
}

// The code from a file, standard input or a terminal prompt: never from argv.
Result<std::string> ReadCode(const std::string& source) {
  if (LooksLikeCode(source)) {
    return Status::InvalidArgument(
        L("登録コードをコマンド行に書かないでください (ほかの利用者に見えます)。ファイルに保存して --enroll "
          "ファイル名 とするか、--enroll - で標準入力から渡してください",
          "do not put the enrolment code on the command line (other users can see it); save it in a file and "
          "give --enroll FILE, or pass it on standard input with --enroll -"));
  }
  if (source == "-") {
    std::string line;
    if (!std::getline(std::cin, line)) {
      return Status::InvalidArgument(
          L("標準入力に登録コードがありません", "no enrolment code on standard input"));
    }
    return line;
  }
  if (!source.empty()) {
    WarnIfReadableByOthers(source, "登録コードのファイル", "enrolment code file");
    return ReadPasswordFile(source);
  }
  if (const char* env = std::getenv("KURA_ENROLL_FILE"); env != nullptr && *env != '\0') {
    return ReadPasswordFile(env);
  }
  if (!::isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(
        L("登録コードが指定されていません。--enroll ファイル名 か --enroll - を指定してください",
          "no enrolment code given; use --enroll FILE or --enroll -"));
  }
  return PromptSecret(L("登録コード: ", "Enrolment code: "));
}

}  // namespace

int VaultInit(Context& ctx, const VaultInitFlags& f) {
  if (f.url.rfind("https://", 0) != 0) {
    return Fail(ctx, Status::InvalidArgument(Tr("保管庫の URL \"{}\" は https:// で始めてください",
                                                "the vault URL \"{}\" must start with https://", f.url)));
  }
  auto text = ReadCode(f.enroll);
  if (!text.ok()) return Fail(ctx, text.status());
  auto code = ParseEnrolmentCode(*text);
  std::fill(text->begin(), text->end(), '\0');
  if (!code.ok()) return Fail(ctx, code.status());

  auto location = ctx.RepositoryLocation();
  if (!location.ok()) return Fail(ctx, location.status());
  auto probe = OpenObjectStore(*location, /*create=*/true);
  if (!probe.ok()) return Fail(ctx, probe.status());
  const bool exists = (*probe)->GetRange(ObjectType::kConfig, "config", 0, 0).ok();
  auto creds = ctx.LoadCredentials(/*confirm=*/!exists);
  if (!creds.ok()) return Fail(ctx, creds.status());
  std::unique_ptr<Repository> repo;
  if (exists) {
    auto opened = Repository::Open(std::move(*probe), *creds);
    if (!opened.ok()) return Fail(ctx, opened.status());
    repo = std::move(*opened);
  } else {
    InitOptions options;
    options.host = LocalHostname();
    auto made = Repository::Init(std::move(*probe), *creds, options, SystemClock());
    if (!made.ok()) return Fail(ctx, made.status());
    repo = std::move(*made);
  }

  const std::string state_dir = ResolveStateDir(f.state_dir, f.agent_config);
  auto enrolled = EnrolSite(state_dir, f.url, *code, LocalHostname(), *repo, f.job);
  if (!enrolled.ok()) return Fail(ctx, enrolled.status());
  const VaultEnrolment& e = enrolled->enrolment;
  if (ctx.opts.json) {
    PrintJson({{"ok", true},
               {"repository", *location},
               {"id", repo->id()},
               {"created", !exists},
               {"vault", e.url},
               {"fingerprint", e.fingerprint},
               {"tenant", e.tenant},
               {"site", e.site},
               {"job", f.job},
               {"recovery_slot", enrolled->recovery_slot},
               {"recovery_slot_added", enrolled->slot_added},
               {"state_dir", state_dir}});
  }
  if (!exists) ctx.Say(Tr("リポジトリ {} を作成しました。", "Created repository {}.", *location));
  ctx.Say(Tr(
      "リポジトリ {} (ID {}) を保管庫 {} に登録しました (テナント {}、拠点 {}、ジョブ {})。\n"
      "販売元の復旧用鍵を鍵として追加しました。資格情報は {} に保存しました (所有者のみ読み取り可)。\n"
      "agent.toml のジョブの送り先に vault = \"{}\" を加えると、毎回のバックアップが保管庫へ送られます。",
      "Repository {} (ID {}) is enrolled with the vault {} (tenant {}, site {}, job {}).\n"
      "The vendor's recovery key was added as a key slot. The credential is in {} (readable by its owner "
      "only).\nAdd vault = \"{}\" as a target of the job in agent.toml to send every backup to the vault.",
      *location, ShortId(repo->id()), e.url, e.tenant, e.site, f.job, VaultCredentialPath(state_dir), e.url));
  return kExitOk;
}

}  // namespace kura::cli
