// The agent's schedule state parser over arbitrary bytes, then a scheduling decision over
// what it accepted. A damaged schedule.json once made the systemd agent fail every tick.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = kura::ParseScheduleState(text, "schedule.json");
  if (!state.ok()) {
    if (state.status().code() != kura::Code::kCorruption &&
        state.status().code() != kura::Code::kUnsupported) {
      std::abort();
    }
    return 0;
  }
  static const kura::AgentConfig config = [] {
    kura::AgentConfig c;
    kura::JobConfig job;
    job.name = "careapp";
    job.schedule.daily = kura::TimeOfDay{2, 0};
    job.schedule.monthly_day = 0;
    c.jobs.push_back(job);
    return c;
  }();
  kura::Decision d = kura::Decide(config, *state, {}, 1763700000);
  for (const kura::AgentAction& a : d.actions) {
    if (a.job != "careapp") std::abort();  // only configured jobs ever run
  }
  return 0;
}
