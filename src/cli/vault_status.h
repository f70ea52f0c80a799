// What `kura status -v` and `kura status --json` say about the vault targets: the newest
// generation the vault keeps for each job (GET generations, one try), so the office can
// see that last night's backup arrived offsite (seed 001 §5.2(3)②).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "agent/job_config.h"

namespace kura::cli {

// One entry per (job, vault target): {"job", "target", "vault", "generations",
// "latest": {"snapshot", "kind", "received"} | null, "error": null | "..."}.
nlohmann::json OffsiteStatus(const AgentConfig& config);
// The same for people, one line per target ("" when no job has a vault target).
std::string OffsiteLines(const nlohmann::json& offsite);

}  // namespace kura::cli
