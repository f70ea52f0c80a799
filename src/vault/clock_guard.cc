#include "vault/clock_guard.h"

#include <algorithm>

#include "util/i18n.h"

namespace kura::vault {

std::string_view ClockJumpName(ClockJump jump) {
  switch (jump) {
    case ClockJump::kNone:
      return "none";
    case ClockJump::kBackward:
      return "backward";
    case ClockJump::kForward:
      return "forward";
  }
  return "none";
}

ClockObservation ObserveClock(const ClockGuardState& state, const ClockReading& reading,
                              const ClockGuardPolicy& policy) {
  ClockObservation obs;
  obs.state = state;
  // Frozen stays frozen until an operator acknowledges, even once the clock is back.
  if (state.frozen) return obs;
  if (state.last_seen_ms == 0) {
    obs.state.last_seen_ms = reading.wall_ms;
    return obs;
  }
  const int64_t delta = reading.wall_ms - state.last_seen_ms;
  ClockJump jump = ClockJump::kNone;
  if (delta < -policy.backward_tolerance_ms) {
    jump = ClockJump::kBackward;
  } else if (delta > policy.max_forward_ms) {
    const bool confirmed = reading.steady_elapsed_ms &&
                           std::abs(*reading.steady_elapsed_ms - delta) <= policy.steady_tolerance_ms;
    if (!confirmed) jump = ClockJump::kForward;
  }
  if (jump == ClockJump::kNone) {
    obs.state.last_seen_ms = std::max(state.last_seen_ms, reading.wall_ms);
    return obs;
  }
  obs.state.frozen = true;
  obs.state.jump = jump;
  obs.state.jump_from_ms = state.last_seen_ms;
  obs.state.jump_to_ms = reading.wall_ms;
  obs.alarm_raised = true;
  return obs;
}

ClockGuardState AcknowledgeClock(const ClockGuardState& state, int64_t wall_ms) {
  if (!state.frozen) return state;
  ClockGuardState next;
  next.last_seen_ms = wall_ms;
  return next;
}

std::string DescribeClockGuard(const ClockGuardState& state, const FixedZone& zone, Language lang) {
  if (!state.frozen) return TrIn(lang, "時計は正常です", "the clock is steady");
  const std::string from = FormatLocalMinute(state.jump_from_ms, zone);
  const std::string to = FormatLocalMinute(state.jump_to_ms, zone);
  const int64_t hours = std::abs(state.jump_to_ms - state.jump_from_ms) / kMillisPerHour;
  if (state.jump == ClockJump::kBackward) {
    return TrIn(
        lang,
        "サーバーの時計が {} から {} へ約 {} 時間戻りました。保持と削除を止めています。NTP "
        "の同期を確認し、オペレーターが確認 (acknowledge) してください",
        "the server clock went back about {2} h, from {0} to {1}; retention and deletion are frozen; check "
        "NTP, then an operator acknowledges",
        from, to, hours);
  }
  return TrIn(
      lang,
      "サーバーの時計が {} から {} へ約 {} 時間進みました。保持と削除を止めています。停止期間と合っているか "
      "NTP "
      "とともに確認し、オペレーターが確認 (acknowledge) してください",
      "the server clock moved forward about {2} h, from {0} to {1}; retention and deletion are frozen; if "
      "this matches a known downtime and NTP is in sync, an operator acknowledges",
      from, to, hours);
}

}  // namespace kura::vault
