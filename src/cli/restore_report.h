// How a database restore's RestoreReport is shown (kura restore --to-database, kura drill).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sources/source.h"

namespace kura::cli {

// "復元先: …", one line per table with its row count, the integrity check, notes.
std::string FormatRestoreReport(const RestoreReport& report);
nlohmann::json RestoreReportJson(const RestoreReport& report);

}  // namespace kura::cli
