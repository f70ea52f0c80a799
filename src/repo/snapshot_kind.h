#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kura {

// Generation kinds (seed 000): nightly, monthly closing, and made by a person.
enum class SnapshotKind { kDaily, kMonthly, kManual };

std::string_view KindName(SnapshotKind kind);  // "daily" | "monthly" | "manual"
std::optional<SnapshotKind> ParseKind(std::string_view name);
// "日次" / "daily" ... for people.
std::string KindLabel(SnapshotKind kind);

}  // namespace kura
