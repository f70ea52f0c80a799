#include "vault/generation.h"

namespace kura::vault {

std::string_view GenerationStateName(GenerationState state) {
  switch (state) {
    case GenerationState::kPendingCheck:
      return "pending_check";
    case GenerationState::kAccepted:
      return "accepted";
    case GenerationState::kAnomalous:
      return "anomalous";
    case GenerationState::kDamaged:
      return "damaged";
  }
  return "pending_check";
}

std::optional<GenerationState> ParseGenerationState(std::string_view name) {
  for (GenerationState s : {GenerationState::kPendingCheck, GenerationState::kAccepted,
                            GenerationState::kAnomalous, GenerationState::kDamaged}) {
    if (GenerationStateName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace kura::vault
