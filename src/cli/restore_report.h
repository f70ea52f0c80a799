// How restores are reported: a database restore's RestoreReport (kura restore --to-database,
// kura drill), and the paths a directory restore could not restore (kura restore --target).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/restore.h"
#include "sources/source.h"

namespace kura::cli {

// "復元先: …", one line per table with its row count, the integrity check, notes.
std::string FormatRestoreReport(const RestoreReport& report);
nlohmann::json RestoreReportJson(const RestoreReport& report);

// One line per path that could not be restored: what kind of problem, the path (control
// characters escaped) and the reason; empty when there were none.
std::string FormatRestoreProblems(const RestoreResult& result);
// [{"path", "problem": "damaged" | "conflict" | "failed", "code", "message", "skipped_beneath"}]
nlohmann::json RestoreProblemsJson(const RestoreResult& result);

}  // namespace kura::cli
