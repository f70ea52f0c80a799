#include "cli/restore_report.h"

#include "util/i18n.h"
#include "util/text.h"

namespace kura::cli {

std::string FormatRestoreReport(const RestoreReport& r) {
  std::string out = Tr("復元先: {} (ストリーム {})\n", "restored into: {} (stream {})\n", r.target, r.stream);
  out +=
      Tr("テーブル {} 個、合計 {} 行:\n", "{} tables, {} rows in total:\n", r.tables.size(), r.TotalRows());
  for (const TableCount& t : r.tables) out += fmt::format("  {:<40} {:>12}\n", t.table, t.rows);
  out += r.integrity_checked ? L("整合性チェック: 合格\n", "integrity check: passed\n")
                             : L("整合性チェック: この種類では行数の確認のみ\n",
                                 "integrity check: row counts only for this kind\n");
  for (const std::string& n : r.notes) out += "  " + n + "\n";
  return out;
}

nlohmann::json RestoreReportJson(const RestoreReport& r) {
  nlohmann::json tables = nlohmann::json::array();
  for (const TableCount& t : r.tables) tables.push_back({{"table", t.table}, {"rows", t.rows}});
  return {{"target", r.target},
          {"stream", r.stream},
          {"tables", tables},
          {"total_rows", r.TotalRows()},
          {"integrity_checked", r.integrity_checked},
          {"notes", r.notes}};
}

namespace {

std::string_view ProblemName(RestoreProblem::Kind kind) {
  switch (kind) {
    case RestoreProblem::Kind::kDamaged:
      return "damaged";
    case RestoreProblem::Kind::kConflict:
      return "conflict";
    case RestoreProblem::Kind::kFailed:
      return "failed";
  }
  return "failed";
}

std::string ProblemLabel(RestoreProblem::Kind kind) {
  switch (kind) {
    case RestoreProblem::Kind::kDamaged:
      return L("損傷", "damaged");
    case RestoreProblem::Kind::kConflict:
      return L("衝突", "conflict");
    case RestoreProblem::Kind::kFailed:
      return L("失敗", "failed");
  }
  return "";
}

}  // namespace

std::string FormatRestoreProblems(const RestoreResult& result) {
  if (result.problems.empty()) return "";
  std::string out = Tr("復元できなかったもの ({} 件):\n", "not restored ({}):\n", result.problems.size());
  for (const RestoreProblem& p : result.problems) {
    out += fmt::format("  {}  {}\n      {}\n", ProblemLabel(p.kind), EscapeName(p.path),
                       EscapeText(p.status.message(), /*keep_newlines=*/false));
    if (p.skipped_beneath > 0) {
      out += Tr("      (この下の {} 件も復元していません)\n",
                "      ({} entries beneath it were not restored either)\n", p.skipped_beneath);
    }
  }
  return out;
}

nlohmann::json RestoreProblemsJson(const RestoreResult& result) {
  nlohmann::json out = nlohmann::json::array();
  for (const RestoreProblem& p : result.problems) {
    out.push_back({{"path", p.path},
                   {"problem", ProblemName(p.kind)},
                   {"code", CodeName(p.status.code())},
                   {"message", p.status.message()},
                   {"skipped_beneath", p.skipped_beneath}});
  }
  return out;
}

}  // namespace kura::cli
