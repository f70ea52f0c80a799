#include "repo/snapshot_kind.h"

#include "util/i18n.h"

namespace kura {

std::string_view KindName(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kDaily:
      return "daily";
    case SnapshotKind::kMonthly:
      return "monthly";
    case SnapshotKind::kManual:
      return "manual";
  }
  return "daily";
}

std::optional<SnapshotKind> ParseKind(std::string_view name) {
  if (name == "daily") return SnapshotKind::kDaily;
  if (name == "monthly") return SnapshotKind::kMonthly;
  if (name == "manual") return SnapshotKind::kManual;
  return std::nullopt;
}

std::string KindLabel(SnapshotKind kind) {
  switch (kind) {
    case SnapshotKind::kDaily:
      return L("日次", "daily");
    case SnapshotKind::kMonthly:
      return L("月次", "monthly");
    case SnapshotKind::kManual:
      return L("手動", "manual");
  }
  return "";
}

}  // namespace kura
