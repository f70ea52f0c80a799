#include "cli/clock_warning.h"

#include <cstdio>

#include "repo/repository.h"
#include "repo/retention.h"
#include "util/i18n.h"

namespace kura::cli {

bool WarnIfClockBehind(const std::vector<Snapshot>& snapshots, const Clock& clock) {
  int64_t now = clock.NowUnix();
  const Snapshot* newest = NewestFutureSnapshot(snapshots, now);
  if (!newest) return false;
  size_t count = 0;
  for (const Snapshot& s : snapshots) count += IsFutureSnapshot(s.plain, now) ? 1 : 0;
  std::fputs(Tr("kura: 警告: この PC の時計 ({}) がスナップショット {} の時刻 ({}) より前です "
                "(未来の時刻のスナップショット {} 件)。"
                "時計が正しいか確認してください。未来の時刻のスナップショットは latest "
                "や最新の世代として扱わず、世代の規則では削除しません\n",
                "kura: warning: this computer's clock ({}) is behind snapshot {} ({}; {} snapshot(s) in the "
                "future). "
                "Check the clock. Snapshots in the future are never latest nor the newest generation, and "
                "rules never "
                "remove them\n",
                FormatLocal(now), ShortId(newest->id), FormatLocal(newest->plain.time), count)
                 .c_str(),
             stderr);
  return true;
}

}  // namespace kura::cli
