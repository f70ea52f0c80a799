#include <set>

#include "cli/clock_warning.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/output.h"
#include "cli/vault_grant.h"
#include "engine/forget_rules.h"
#include "engine/prune.h"
#include "engine/verify.h"
#include "util/clock.h"
#include "util/i18n.h"

namespace kura::cli {

using nlohmann::json;

namespace {

// `grant` requested: the vault's copy through a restore grant, checking the granted
// snapshot and the packs holding its data (the session lists every pack of the
// repository, most of them other snapshots').
int RunVerify(Context& ctx, bool read_data, const std::vector<std::string>& refs, const GrantFlags& grant) {
  Result<std::unique_ptr<Repository>> repo = Status::Internal("unset");
  VerifyOptions options;
  if (grant.requested()) {
    if (!ctx.opts.repo.empty()) {
      return Fail(ctx, Status::InvalidArgument(L("--vault/--grant と --repo は同時に使えません",
                                                 "--vault/--grant cannot be combined with --repo")));
    }
    auto granted = OpenGrantedRepository(ctx, grant);
    if (!granted.ok()) return Fail(ctx, granted.status());
    if (refs.empty()) options.snapshots.push_back(granted->snapshot);
    repo = std::move(granted->repo);
  } else {
    repo = ctx.OpenRepository();
  }
  if (!repo.ok()) return Fail(ctx, repo.status());
  ProgressLine progress(L("検査中", "verifying"), ctx.ShowProgress());
  for (const std::string& ref : refs) {
    auto snap = (*repo)->FindSnapshot(ref);
    if (!snap.ok()) return Fail(ctx, snap.status());
    options.snapshots.push_back(snap->id);
  }
  options.read_data = read_data;
  options.progress = &progress;
  auto report = Verify(**repo, options);
  progress.Done();
  if (!report.ok()) return Fail(ctx, report.status());
  const VerifyReport& r = *report;
  if (ctx.opts.json) {
    json snaps = json::array();
    for (const SnapshotCheck& s : r.snapshots) {
      snaps.push_back({{"id", s.id},
                       {"kind", KindName(s.kind)},
                       {"time", FormatUtc(s.time)},
                       {"ok", s.ok},
                       {"problem", s.problem},
                       {"missing_blobs", s.missing_blobs}});
    }
    json packs = json::array();
    for (const DamagedObject& d : r.damaged_packs)
      packs.push_back({{"name", d.name}, {"problem", d.problem}});
    json bad_snaps = json::array();
    for (const DamagedObject& d : r.damaged_snapshots)
      bad_snaps.push_back({{"id", d.name}, {"problem", d.problem}});
    PrintJson({{"ok", r.ok()},
               {"read_data", read_data},
               {"packs", r.packs},
               {"pack_bytes", r.pack_bytes},
               {"blobs_checked", r.blobs_checked},
               {"unreferenced_packs", r.unreferenced_packs},
               {"damaged_packs", packs},
               {"damaged_snapshots", bad_snaps},
               {"snapshots", snaps}});
  }
  ctx.Say(Tr(
      "パック {} 個 ({}) を検査しました{}。", "checked {} packs ({}){}.", r.packs, FormatBytes(r.pack_bytes),
      read_data ? Tr("、データ {} 個を復号して確認", ", decrypted and checked {} blobs", r.blobs_checked)
                : ""));
  for (const DamagedObject& d : r.damaged_packs) {
    ctx.Say(Tr("  壊れたパック {}: {}", "  damaged pack {}: {}", d.name.substr(0, 16), d.problem));
  }
  for (const DamagedObject& d : r.damaged_snapshots) {
    ctx.Say(Tr("  壊れたスナップショット {}: {}", "  damaged snapshot {}: {}", ShortId(d.name), d.problem));
  }
  for (const SnapshotCheck& s : r.snapshots) {
    ctx.Say(s.ok ? Tr("  正常  {} {} {}", "  ok       {} {} {}", ShortId(s.id), FormatLocal(s.time),
                      KindLabel(s.kind))
                 : Tr("  損傷  {} {} {}: {}", "  DAMAGED  {} {} {}: {}", ShortId(s.id), FormatLocal(s.time),
                      KindLabel(s.kind), s.problem));
  }
  if (r.unreferenced_packs > 0) {
    ctx.Say(
        Tr("  どのスナップショットからも使われていないパックが {} 個あります "
           "(中断されたバックアップの残りです。kura prune で削除できます)",
           "  {} packs are used by no snapshot (left by an interrupted backup; kura prune removes them)",
           r.unreferenced_packs));
  }
  if (r.ok()) {
    ctx.Say(L("問題は見つかりませんでした。", "No problems found."));
    return kExitOk;
  }
  if (!r.damaged_packs.empty()) {
    ctx.Say(L("  次回のバックアップでは、損傷したデータを参照せず元データから保存し直します。",
              "  The next backup stores the damaged data anew from the source instead of referring to it."));
  }
  std::fputs(L("kura: "
               "損傷が見つかりました。上の「損傷」のスナップショットは復元できない可能性があります。販売元へ"
               "ご連絡ください。\n",
               "kura: damage found: the snapshots marked DAMAGED may not restore; contact your vendor.\n")
                 .c_str(),
             stderr);
  return kExitDamaged;
}

struct ForgetFlags {
  std::vector<std::string> keep_last, keep_days, keep_months, snapshots;
  std::vector<std::string> hosts, sources, tags;
  std::string group_by = "host,source";
  std::string grace;
  bool prune = false;
  bool dry_run = false;
};

// Every value is checked before anything is read or deleted: `--keep-last manual=l` once
// meant 0 and forgot every manual generation.
Status ApplyRuleFlags(std::string_view flag, const std::vector<std::string>& values, int KindRule::*field,
                      RetentionPolicy& policy, std::set<SnapshotKind>& touched) {
  std::set<SnapshotKind> seen;
  for (const std::string& v : values) {
    SnapshotKind kind = SnapshotKind::kDaily;
    int n = 0;
    KURA_RETURN_IF_ERROR(ParseRuleValue(flag, v, &kind, &n));
    if (!seen.insert(kind).second) {
      return Status::InvalidArgument(Tr("{} {}: 種類 {} が 2 回指定されています。1 回だけ指定してください",
                                        "{} {}: kind {} is given twice; give it once", flag, v,
                                        KindName(kind)));
    }
    if (!touched.count(kind)) {
      policy.For(kind) = KindRule{};
      touched.insert(kind);
    }
    policy.For(kind).*field = n;
  }
  return Status::Ok();
}

void WarnLine(const std::string& message) {
  std::fputs((std::string(L("kura: 警告: ", "kura: warning: ")) + message + "\n").c_str(), stderr);
}

// "1h", "30m", "90s", "2d" or a number of seconds; 0 switches the grace off.
Result<int64_t> ParseGrace(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string unit = text.substr(digits);
  int64_t scale = unit.empty() || unit == "s" ? 1
                  : unit == "m"               ? 60
                  : unit == "h"               ? 3600
                  : unit == "d"               ? 86400
                                              : 0;
  if (digits == 0 || digits > 9 || scale == 0) {
    return Status::InvalidArgument(Tr("--grace の値 {} が正しくありません (例: 1h、30m、0)",
                                      "bad --grace value {} (examples: 1h, 30m, 0)", text));
  }
  return std::stoll(text.substr(0, digits)) * scale;
}

int RunPrune(Context& ctx, Repository& repo, bool dry_run, const std::string& grace) {
  PruneOptions options;
  options.dry_run = dry_run;
  if (!grace.empty()) {
    auto g = ParseGrace(grace);
    if (!g.ok()) return Fail(ctx, g.status());
    options.grace_seconds = *g;
  }
  auto r = Prune(repo, options);
  if (!r.ok()) return Fail(ctx, r.status());
  if (ctx.opts.json) {
    json unreadable = json::array();
    for (const auto& [name, problem] : r->unreadable_packs)
      unreadable.push_back({{"name", name}, {"problem", problem}});
    json out{{"ok", r->repack_status.ok()},
             {"dry_run", dry_run},
             {"packs_deleted", r->packs_deleted},
             {"packs_repacked", r->packs_repacked},
             {"packs_written", r->packs_written},
             {"bytes_freed", r->bytes_freed},
             {"packs_young", r->packs_young},
             {"grace_seconds", options.grace_seconds},
             {"duplicate_blobs", r->duplicate_blobs},
             {"unreadable_packs", unreadable},
             {"damaged_snapshots", r->damaged_snapshots}};
    if (!r->repack_status.ok()) {
      out["error"] = {{"code", CodeName(r->repack_status.code())}, {"message", r->repack_status.message()}};
    }
    PrintJson(out);
  }
  ctx.Say(Tr("{}不要なデータ {} を削除しました (パック削除 {}、再構成 {})。",
             "{}freed {} (packs deleted {}, repacked {}).", dry_run ? L("[試行] ", "[dry run] ") : "",
             FormatBytes(r->bytes_freed), r->packs_deleted, r->packs_repacked));
  if (r->packs_young > 0) {
    ctx.Say(
        Tr("  作成から {} 秒以内のパック {} 個は、実行中のバックアップが使っている可能性があるため残しました "
           "(バックアップが動いていないことが確かなら --grace 0)。",
           "  kept packs younger than {} seconds ({} of them): a running backup may still need them "
           "(--grace 0 when no backup can be running).",
           options.grace_seconds, r->packs_young));
  }
  for (const auto& [name, problem] : r->unreadable_packs) {
    WarnLine(Tr("パック {} を読めないため、削除も再構成もしていません: {}",
                "pack {} cannot be read, so it was neither deleted nor repacked: {}", name.substr(0, 16),
                problem));
  }
  for (const std::string& id : r->damaged_snapshots) {
    WarnLine(Tr(
        "スナップショット {} は壊れています。読める範囲でそのデータは残しました。kura forget {} "
        "で退避できます",
        "snapshot {} is damaged; its data was kept as far as it can be read. kura forget {} moves it aside",
        ShortId(id), ShortId(id)));
  }
  if (!r->temp_cleanup_status.ok()) WarnLine(r->temp_cleanup_status.message());
  if (!r->repack_status.ok()) {
    PrintError(r->repack_status);
    return ExitCodeFor(r->repack_status);
  }
  return kExitOk;
}

std::string GroupLabel(const RetentionGroup& g) {
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : "  ") + part; };
  if (!g.host.empty()) add(Tr("ホスト {}", "host {}", g.host));
  if (!g.source_kind.empty() || !g.source_name.empty()) {
    add(Tr("対象 {}:{}", "source {}:{}", g.source_kind, g.source_name));
  }
  if (!g.tags.empty()) {
    std::string t;
    for (const std::string& tag : g.tags) t += (t.empty() ? "" : ",") + tag;
    add(Tr("タグ {}", "tags {}", t));
  }
  return out.empty() ? L("(すべてのスナップショット)", "(all snapshots)") : out;
}

// The plan's reason for people; JSON keeps the stable English token.
std::string ReasonLabel(const std::string& reason) {
  if (reason.rfind("last ", 0) == 0) return Tr("最新 {} 件", "last {}", reason.substr(5));
  if (reason.rfind("day ", 0) == 0) return Tr("日 {}", "day {}", reason.substr(4));
  if (reason.rfind("month ", 0) == 0) return Tr("月 {}", "month {}", reason.substr(6));
  if (reason == "no rule") return L("規則なし", "no rule");
  if (reason == "newest non-empty") return L("空でない最新の世代", "newest non-empty");
  if (reason == "newest intact")
    return L("新しい世代が損傷しているため、検査で正常だった最後の世代",
             "last found intact; newer ones are damaged");
  if (reason == "future time") return L("時刻が未来", "time in the future");
  if (reason == "protected") return L("送信待ち", "still to be sent");
  return reason;
}

json SnapshotLine(const RetentionCandidate& c, const RetentionPlan& plan) {
  const Snapshot& s = *c.snapshot;
  json j = {{"id", s.id},
            {"kind", KindName(s.plain.kind)},
            {"time", FormatUtc(s.plain.time)},
            {"bytes", s.plain.bytes}};
  if (auto it = plan.reason.find(s.id); it != plan.reason.end()) j["reason"] = it->second;
  if (c.integrity != IntegrityState::kUnknown) j["integrity"] = IntegrityStateName(c.integrity);
  return j;
}

void WarnFuture(const std::vector<Snapshot>& considered,
                const std::vector<const RetentionCandidate*>& future) {
  WarnIfClockBehind(considered, SystemClock());
  for (const RetentionCandidate* c : future) {
    std::fputs(Tr("kura: 警告: スナップショット {} の時刻 {} "
                  "は未来です。最新の世代として扱わず、規則では削除しません (不要なら kura forget {} "
                  "で削除できます)\n",
                  "kura: warning: snapshot {} has a time in the future ({}); it does not count as the newest "
                  "generation and rules never remove it (kura forget {} removes it if unwanted)\n",
                  ShortId(c->snapshot->id), FormatLocal(c->snapshot->plain.time), ShortId(c->snapshot->id))
                   .c_str(),
               stderr);
  }
}

int RunForgetByRules(Context& ctx, const ForgetFlags& f) {
  ForgetRulesOptions options;
  std::set<SnapshotKind> touched;
  Status st = ApplyRuleFlags("--keep-last", f.keep_last, &KindRule::keep_last, options.policy, touched);
  if (st.ok()) st = ApplyRuleFlags("--keep-days", f.keep_days, &KindRule::keep_days, options.policy, touched);
  if (st.ok())
    st = ApplyRuleFlags("--keep-months", f.keep_months, &KindRule::keep_months, options.policy, touched);
  if (!st.ok()) return Fail(ctx, st);
  auto group_by = ParseGroupBy(f.group_by);
  if (!group_by.ok()) return Fail(ctx, group_by.status());
  options.group_by = *group_by;
  options.filter = {f.hosts, f.sources, f.tags};
  options.dry_run = f.dry_run;
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto result = ForgetByRules(**repo, options);
  if (!result.ok()) return Fail(ctx, result.status());
  const ForgetRulesReport& r = **result;
  const RetentionPlan& plan = r.plan;
  size_t kept = plan.unreadable.size(), forgotten = 0;
  for (const RetentionGroup& g : plan.groups) {
    kept += g.keep.size();
    forgotten += g.forget.size();
  }
  if (ctx.opts.json && !f.prune) {
    json groups = json::array(), all_kept = json::array(), all_forgotten = json::array();
    for (const RetentionGroup& g : plan.groups) {
      json gk = json::array(), gf = json::array();
      for (const RetentionCandidate* c : g.keep) gk.push_back(SnapshotLine(*c, plan));
      for (const RetentionCandidate* c : g.forget) gf.push_back(SnapshotLine(*c, plan));
      all_kept.insert(all_kept.end(), gk.begin(), gk.end());
      all_forgotten.insert(all_forgotten.end(), gf.begin(), gf.end());
      groups.push_back({{"host", g.host},
                        {"source", {{"kind", g.source_kind}, {"name", g.source_name}}},
                        {"tags", g.tags},
                        {"kept", gk},
                        {"forgotten", gf}});
    }
    json unreadable = json::array(), future = json::array();
    for (size_t i = 0; i < plan.unreadable.size(); ++i) {
      unreadable.push_back({{"id", plan.unreadable[i]->snapshot->id}, {"problem", r.unreadable_problems[i]}});
    }
    for (const RetentionCandidate* c : plan.future) future.push_back(c->snapshot->id);
    PrintJson({{"ok", true},
               {"dry_run", f.dry_run},
               {"groups", groups},
               {"kept", all_kept},
               {"forgotten", all_forgotten},
               {"unreadable", unreadable},
               {"future", future},
               {"clock_behind", r.newest_future != nullptr}});
  }
  std::string prefix = f.dry_run ? L("[試行] ", "[dry run] ") : "";
  for (const RetentionGroup& g : plan.groups) {
    ctx.Say(Tr("{}グループ {}: 保持 {} 件、削除 {} 件", "{}group {}: keep {}, remove {}", prefix,
               GroupLabel(g), g.keep.size(), g.forget.size()));
    for (const RetentionCandidate* c : g.keep) {
      const Snapshot& s = *c->snapshot;
      ctx.Say(Tr("  保持  {} {} {} ({})", "  keep    {} {} {} ({})", ShortId(s.id), FormatLocal(s.plain.time),
                 KindLabel(s.plain.kind), ReasonLabel(plan.reason.at(s.id))));
    }
    for (const RetentionCandidate* c : g.forget) {
      const Snapshot& s = *c->snapshot;
      ctx.Say(Tr("  削除  {} {} {}", "  remove  {} {} {}", ShortId(s.id), FormatLocal(s.plain.time),
                 KindLabel(s.plain.kind)));
    }
  }
  for (size_t i = 0; i < plan.unreadable.size(); ++i) {
    std::fputs(Tr("kura: 警告: スナップショット {} の内容情報を開けないため、規則では削除しません ({})。kura "
                  "verify で確認してください\n",
                  "kura: warning: snapshot {}: its metadata cannot be opened, so rules never remove it ({}); "
                  "run kura verify\n",
                  ShortId(plan.unreadable[i]->snapshot->id), r.unreadable_problems[i])
                   .c_str(),
               stderr);
  }
  for (const std::string& id : r.damaged_objects) {
    std::fputs(
        Tr("kura: 警告: スナップショット {} は壊れているため対象外です (kura verify で確認してください)\n",
           "kura: warning: snapshot {} is damaged and was not considered (run kura verify)\n", ShortId(id))
            .c_str(),
        stderr);
  }
  if (r.newest_future) WarnFuture(r.snapshots, plan.future);
  ctx.Say(Tr("{}保持 {} 件、削除 {} 件", "{}kept {}, forgot {}", prefix, kept, forgotten));
  if (f.prune) return RunPrune(ctx, **repo, f.dry_run, f.grace);
  return kExitOk;
}

int RunForget(Context& ctx, const ForgetFlags& f) {
  if (f.snapshots.empty()) return RunForgetByRules(ctx, f);
  if (!f.keep_last.empty() || !f.keep_days.empty() || !f.keep_months.empty() || !f.hosts.empty() ||
      !f.sources.empty() || !f.tags.empty()) {
    return Fail(ctx, Status::InvalidArgument(L(
                         "削除するスナップショットの ID と世代規則 (--keep-*、--host、--source、--tag) "
                         "は同時に指定できません",
                         "give either snapshot IDs or rules (--keep-*, --host, --source, --tag), not both")));
  }
  auto repo = ctx.OpenRepository();
  if (!repo.ok()) return Fail(ctx, repo.status());
  auto result = ForgetSnapshots(**repo, f.snapshots, f.dry_run);
  if (!result.ok()) return Fail(ctx, result.status());
  if (ctx.opts.json && !f.prune) {
    json kept = json::array(), forgotten = json::array();
    for (const Snapshot& s : result->kept) {
      kept.push_back({{"id", s.id},
                      {"kind", KindName(s.plain.kind)},
                      {"time", FormatUtc(s.plain.time)},
                      {"reason", result->reason.count(s.id) ? result->reason.at(s.id) : ""}});
    }
    for (const Snapshot& s : result->forgotten) {
      forgotten.push_back(
          {{"id", s.id}, {"kind", KindName(s.plain.kind)}, {"time", FormatUtc(s.plain.time)}});
    }
    PrintJson({{"ok", true},
               {"dry_run", f.dry_run},
               {"kept", kept},
               {"forgotten", forgotten},
               {"moved_aside", result->moved_aside}});
  }
  for (const Snapshot& s : result->forgotten) {
    ctx.Say(Tr("{}削除: {} {} {}", "{}forget: {} {} {}", f.dry_run ? L("[試行] ", "[dry run] ") : "",
               ShortId(s.id), FormatLocal(s.plain.time), KindLabel(s.plain.kind)));
  }
  for (const std::string& id : result->moved_aside) {
    ctx.Say(Tr("{}壊れたスナップショット {} を damaged/snapshots/ に退避しました (削除はしていません)",
               "{}moved damaged snapshot {} aside into damaged/snapshots/ (not deleted)",
               f.dry_run ? L("[試行] ", "[dry run] ") : "", ShortId(id)));
  }
  ctx.Say(Tr("保持 {} 件、削除 {} 件", "kept {}, forgot {}", result->kept.size(), result->forgotten.size()));
  if (f.prune) return RunPrune(ctx, **repo, f.dry_run, f.grace);
  return kExitOk;
}

}  // namespace

void AddMaintenanceCommands(CLI::App& app, Context& ctx, int* exit_code) {
  bool& read_data = ctx.NewFlags<bool>();
  std::vector<std::string>& verify_refs = ctx.NewFlags<std::vector<std::string>>();
  CLI::App* v = app.add_subcommand("verify", L("リポジトリを検査", "check the repository"));
  v->add_flag("--read-data", read_data,
              L("全データを読み出して復号・照合", "read, decrypt and check every blob"));
  v->add_option("SNAPSHOT", verify_refs,
                L("検査するスナップショット (ID、ID の先頭部分、latest。省略時はすべて)",
                  "snapshots to check (ID, unique prefix or latest; default all)"));
  GrantFlags& verify_grant = ctx.NewFlags<GrantFlags>();
  AddGrantOptions(v, &verify_grant);
  OnRun(v, ctx, exit_code, [&ctx, &read_data, &verify_refs, &verify_grant] {
    return RunVerify(ctx, read_data, verify_refs, verify_grant);
  });

  ForgetFlags& f = ctx.NewFlags<ForgetFlags>();
  CLI::App* forget = app.add_subcommand(
      "forget",
      L("世代規則に従って古いスナップショットを削除 (ホストと対象ごと。既定: 日次 30 日、月次 36 か月、手動 "
        "1 件)",
        "remove snapshots by generation rules, per host and source (default: daily 30 days, monthly 36 "
        "months, manual last 1)"));
  forget->add_option(
      "SNAPSHOT", f.snapshots,
      L("削除するスナップショット (規則の代わりに指定)", "snapshots to remove (instead of rules)"));
  forget->add_option("--keep-last", f.keep_last, L("種類=件数 (例: manual=1)", "KIND=N (e.g. manual=1)"));
  forget->add_option("--keep-days", f.keep_days,
                     L("種類=日数 (例: daily=30)", "KIND=N days (e.g. daily=30)"));
  forget->add_option("--keep-months", f.keep_months,
                     L("種類=月数 (例: monthly=36)", "KIND=N months (e.g. monthly=36)"));
  forget->add_option(
      "--group-by", f.group_by,
      L("グループ分け: host、source、tags の組み合わせ (既定 host,source、'' で分けない)",
        "group by a combination of host, source, tags (default host,source; '' for one group)"));
  forget
      ->add_option("--host", f.hosts,
                   L("このホストのスナップショットだけを対象にする (複数可)",
                     "consider only this host's snapshots (repeatable)"))
      ->allow_extra_args(false);
  forget
      ->add_option("--source", f.sources,
                   L("この対象 (名前、種類:名前、種類:) だけを対象にする (複数可)",
                     "consider only this source (NAME, KIND:NAME or KIND:; repeatable)"))
      ->allow_extra_args(false);
  forget
      ->add_option("--tag", f.tags,
                   L("このタグ (a,b はすべて) を持つものだけを対象にする (複数可)",
                     "consider only snapshots with this tag (a,b: all of them; repeatable)"))
      ->allow_extra_args(false);
  forget->add_flag("--prune", f.prune, L("続けて不要なデータを削除", "then prune unreferenced data"));
  forget->add_option("--grace", f.grace,
                     L("--prune の猶予 (prune --grace と同じ)", "grace for --prune (as prune --grace)"));
  forget->add_flag("--dry-run", f.dry_run,
                   L("削除せずに結果だけ表示", "show what would happen, change nothing"));
  OnRun(forget, ctx, exit_code, [&ctx, &f] { return RunForget(ctx, f); });

  bool& prune_dry_run = ctx.NewFlags<bool>();
  std::string& prune_grace = ctx.NewFlags<std::string>();
  CLI::App* prune = app.add_subcommand(
      "prune", L("どのスナップショットからも使われないデータを削除", "delete data no snapshot uses"));
  prune->add_flag("--dry-run", prune_dry_run,
                  L("削除せずに結果だけ表示", "show what would happen, change nothing"));
  prune->add_option(
      "--grace", prune_grace,
      L("これより新しいパックと一時ファイルは削除しない (既定 1h。例: 30m、2h、0 = 猶予なし)",
        "never delete packs or temporary files younger than this (default 1h; e.g. 30m, 2h, 0 = none)"));
  OnRun(prune, ctx, exit_code, [&ctx, &prune_dry_run, &prune_grace] {
    auto repo = ctx.OpenRepository();
    if (!repo.ok()) return Fail(ctx, repo.status());
    return RunPrune(ctx, **repo, prune_dry_run, prune_grace);
  });
}

}  // namespace kura::cli
