// kura-vault audit verify|export (docs/audit-trail.md).
#include <limits>

#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "vault/audit_export.h"
#include "vault_cli/commands.h"
#include "vault_cli/exit_codes.h"
#include "vault_cli/export_sink.h"
#include "vault_cli/period.h"

namespace kura::vault_cli {

using nlohmann::json;

static json ReportJson(const vault::AuditVerifyReport& r) {
  json j{{"ok", r.ok()},
         {"records", r.records},
         {"problem", vault::AuditProblemName(r.problem)},
         {"head", vault::FormatAuditHead(vault::AuditAnchor{r.records, r.head})},
         {"anchor", {{"count", r.anchor.count}, {"head", ToHex(r.anchor.head)}}},
         {"message", r.Message()}};
  if (!r.ok()) j["first_bad_seq"] = r.first_bad_seq;
  return j;
}

static int Verify(Context& ctx, const std::string& expect_head) {
  std::optional<vault::AuditAnchor> expect;
  if (!expect_head.empty()) {
    expect = vault::ParseAuditHead(expect_head);
    if (!expect) {
      return Fail(ctx,
                  Status::InvalidArgument(
                      Tr("--expect-head は audit verify が表示する \"件数:ハッシュ\" の形で指定してください",
                         "--expect-head takes \"count:hash\" as audit verify prints it")));
    }
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  auto report = v->catalog->VerifyAudit(expect);
  if (!report.ok()) return Fail(ctx, report.status());
  vault::AuditEvent event{ConsoleActor(), "audit.verify", "audit",
                          std::string(report->ok() ? vault::kAuditSuccess : vault::kAuditFailure),
                          fmt::format("records={} problem={} first_bad_seq={}", report->records,
                                      vault::AuditProblemName(report->problem), report->first_bad_seq)};
  // A damaged trail may refuse the append (its anchor no longer fits); the report is what
  // matters then, and says so.
  auto rec = v->catalog->Audit(event);
  if (ctx.opts.json) {
    PrintJson(ReportJson(*report));
  } else {
    PrintLine(report->Message());
  }
  if (!report->ok()) return kExitDamaged;
  if (!rec.ok()) return Fail(ctx, rec.status());
  return kExitOk;
}

struct ExportArgs {
  std::string from, to, format = "csv", output;
};

static int Export(Context& ctx, const ExportArgs& args) {
  int64_t from = std::numeric_limits<int64_t>::min(), to = std::numeric_limits<int64_t>::max();
  if (!args.from.empty()) {
    auto b = ParsePeriodBound(args.from, /*end=*/false);
    if (!b.ok()) return Fail(ctx, b.status());
    from = *b;
  }
  if (!args.to.empty()) {
    auto b = ParsePeriodBound(args.to, /*end=*/true);
    if (!b.ok()) return Fail(ctx, b.status());
    to = *b;
  }
  if (from >= to) {
    return Fail(
        ctx, Status::InvalidArgument(L("--from は --to より前にしてください", "--from must be before --to")));
  }
  auto v = Open(ctx);
  if (!v.ok()) return Fail(ctx, v.status());
  // Verified first, so a damaged trail is said with the export; exported even then, for
  // the auditor to see what is there.
  auto report = v->catalog->VerifyAudit();
  if (!report.ok()) return Fail(ctx, report.status());
  auto sink = ExportSink::Open(args.output);
  if (!sink.ok()) return Fail(ctx, sink.status());
  // The export is on record before anything leaves (and so is part of an open period).
  auto rec = v->catalog->Audit({ConsoleActor(), "audit.export", args.output.empty() ? "stdout" : args.output,
                                std::string(vault::kAuditSuccess),
                                fmt::format("from={} to={} format={}", args.from.empty() ? "-" : args.from,
                                            args.to.empty() ? "-" : args.to, args.format)});
  if (!rec.ok() && report->ok()) return Fail(ctx, rec.status());
  bool csv = args.format == "csv";
  Status st = csv ? sink->Write(vault::AuditCsvHeader()) : Status::Ok();
  if (st.ok()) {
    st = v->catalog->ForEachAudit(from, to, [&](const vault::AuditRecord& r) {
      return sink->Write(csv ? vault::AuditCsvRow(r) : vault::AuditJsonLine(r));
    });
  }
  if (st.ok()) st = sink->Finish();
  if (!st.ok()) return Fail(ctx, st);
  if (!report->ok()) {
    PrintWarning(report->Message());
    return kExitDamaged;
  }
  return kExitOk;
}

void AddAuditCommands(CLI::App& app, Context& ctx, int* exit_code) {
  auto* audit =
      app.add_subcommand("audit", L("監査ログの検証と書き出し", "verify and export the audit trail"));
  audit->require_subcommand(1);
  auto* verify =
      audit->add_subcommand("verify", L("監査ログの改ざんを検査 (改変・削除・挿入・並べ替え・末尾の欠落)",
                                        "check the audit trail for edits, removals, insertions, "
                                        "reordering and a lost tail"));
  verify->add_flag("--json", ctx.opts.json, L("結果を JSON で出力", "print results as JSON"));
  auto expect_head = std::make_shared<std::string>();
  verify->add_option(
      "--expect-head", *expect_head,
      L("以前の verify が表示した先頭 (件数:ハッシュ) が今もログにあることも確かめる",
        "also check that a head printed by an earlier verify (count:hash) is still in the trail"));
  verify->callback([&ctx, exit_code, expect_head] { *exit_code = Verify(ctx, *expect_head); });
  auto args = std::make_shared<ExportArgs>();
  auto* exp = audit->add_subcommand("export", L("期間の監査ログを CSV か JSON Lines で書き出す",
                                                "export a period of the audit trail as CSV or JSON lines"));
  exp->add_option("--from", args->from,
                  L("開始 (2026-12-01 は日本時間のその日の始まり、または 2026-12-01T00:00:00Z)",
                    "start (2026-12-01 is the start of that day in Japan, or 2026-12-01T00:00:00Z)"));
  exp->add_option("--to", args->to,
                  L("終了 (日付ならその日を含む、時刻ならその時刻を含まない)",
                    "end (a day is included; an instant is not)"));
  exp->add_option("--format", args->format, L("csv (既定) か json", "csv (default) or json"))
      ->check(CLI::IsMember({"csv", "json"}));
  exp->add_option(
      "-o,--output", args->output,
      L("書き出すファイル (0600 で作成、既定は標準出力)", "file to write (created 0600; default stdout)"));
  exp->callback([&ctx, exit_code, args] { *exit_code = Export(ctx, *args); });
}

}  // namespace kura::vault_cli
