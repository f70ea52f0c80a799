// Junk-flood detection: is a newly committed generation far from its repository's own
// history (docs/retention.md, "Anomaly checks"; issue 7 §4)? Pure functions; thread-safe.
//
// A compromised site can send encrypted junk that looks like backups. Junk does not
// deduplicate (new-data ratio jumps), does not compress (the client-declared compression
// ratio collapses), is often of another size or chunk count, and comes fast. Each check
// compares the candidate with the median of the newest `history_window` *accepted*
// generations received before it (anomalous ones never become the baseline). With fewer
// than `min_history` of them the content checks are `lenient_factor` times looser, and
// with none they are skipped; the flood checks always apply (a flood is still a flood).
// An anomalous verdict marks the generation anomalous and puts the site on hold; only an
// operator clears a hold (the server does both, not this file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/i18n.h"
#include "vault/generation.h"

namespace kura::vault {

struct AnomalyThresholds {
  // Baseline: the median of the newest this many accepted generations. Default: 10.
  int history_window = 10;
  // Fewer accepted generations than this: lenient (factors times lenient_factor). Default: 3.
  int min_history = 3;
  double lenient_factor = 2.0;  // Default: 2
  // New-data ratio (new_bytes / bytes) above factor × median and above floor. Defaults:
  // 3 and 0.5 (a database dump that dedups to 10 % new data is flagged at 50 %).
  double new_data_factor = 3.0;
  double new_data_floor = 0.5;
  // Total bytes above factor × median or below median / factor, by more than the slack.
  // Defaults: 4 and 1 MiB.
  double size_factor = 4.0;
  uint64_t size_slack_bytes = 1 << 20;
  // Chunk count, the same way. Defaults: 4 and 64 chunks.
  double chunk_factor = 4.0;
  uint64_t chunk_slack = 64;
  // Compression: the saving 1 − 1/ratio falls below keep_fraction × the median saving,
  // when the median saving is at least min_saving. Defaults: 0.25 and 0.2 (a dump that
  // compresses 3:1 saves 67 %; encrypted junk saves nothing).
  double compression_keep_fraction = 0.25;
  double compression_min_saving = 0.2;
  // Flood: more than this many generations (any kind or state, the candidate included)
  // received within one hour / 24 hours up to the candidate. Defaults: 6 and 24 (a night's
  // daily, a monthly closing and a few manual runs stay well below).
  int max_per_hour = 6;
  int max_per_day = 24;
};

enum class AnomalyCheck {
  kNewDataRatio,
  kSizeFar,
  kChunksFar,
  kCompressionCollapse,
  kFloodHour,
  kFloodDay,
};

// "new_data_ratio", "size_far", "chunks_far", "compression_collapse", "flood_hour", "flood_day".
std::string_view AnomalyCheckCode(AnomalyCheck check);

struct AnomalyFinding {
  AnomalyCheck check;
  double observed = 0;  // the candidate's value (ratio, bytes, chunks, saving, count)
  double baseline = 0;  // the history's median (0 for floods)
  double limit = 0;     // the threshold that was crossed
};

struct AnomalyVerdict {
  bool anomalous = false;
  std::vector<AnomalyFinding> findings;  // in AnomalyCheck order
  size_t history_used = 0;               // accepted generations in the baseline
  bool lenient = false;                  // too little history: looser content checks
  // On a flood: the other generations received within the flooded window that are not yet
  // anomalous (pending or accepted). The server marks them anomalous too, so the first
  // few of a flood do not count either. Newest first.
  std::vector<std::string> flood_members;
};

// Judges `candidate` against `repository` (every generation of its repository, any kind or
// state, in any order; the candidate itself may be in it and is then skipped by ID).
// Only generations received at or before the candidate count, so re-judging later gives
// the same answer.
AnomalyVerdict AssessGeneration(const Generation& candidate, const std::vector<Generation>& repository,
                                const AnomalyThresholds& thresholds = {});

// One finding for people, with the numbers and what to do.
std::string DescribeFinding(const AnomalyFinding& finding, Language lang);
// One line: "異常なし" / "no anomaly", or the findings joined, ending with the hold advice.
std::string DescribeVerdict(const AnomalyVerdict& verdict, Language lang);

}  // namespace kura::vault
