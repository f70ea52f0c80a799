#include "cli/restore_report.h"

#include "util/i18n.h"

namespace kura::cli {

std::string FormatRestoreReport(const RestoreReport& r) {
  std::string out = Tr("復元先: {} (ストリーム {})\n", "restored into: {} (stream {})\n", r.target, r.stream);
  out += Tr("テーブル {} 個、合計 {} 行:\n", "{} tables, {} rows in total:\n", r.tables.size(), r.TotalRows());
  for (const TableCount& t : r.tables) out += fmt::format("  {:<40} {:>12}\n", t.table, t.rows);
  out += r.integrity_checked ? L("整合性チェック: 合格\n", "integrity check: passed\n")
                             : L("整合性チェック: この種類では行数の確認のみ\n", "integrity check: row counts only for this kind\n");
  for (const std::string& n : r.notes) out += "  " + n + "\n";
  return out;
}

nlohmann::json RestoreReportJson(const RestoreReport& r) {
  nlohmann::json tables = nlohmann::json::array();
  for (const TableCount& t : r.tables) tables.push_back({{"table", t.table}, {"rows", t.rows}});
  return {{"target", r.target}, {"stream", r.stream}, {"tables", tables}, {"total_rows", r.TotalRows()},
          {"integrity_checked", r.integrity_checked}, {"notes", r.notes}};
}

}  // namespace kura::cli
