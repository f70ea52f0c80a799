#include "vault/anomaly.h"

#include <algorithm>
#include <cmath>

#include "util/i18n.h"
#include "vault/calendar.h"

namespace kura::vault {
namespace {

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double NewDataRatio(const Generation& g) {
  return g.bytes == 0 ? 0 : static_cast<double>(g.new_bytes) / static_cast<double>(g.bytes);
}

// Fraction of the bytes compression saved; < 0 when the ratio is not declared.
double Saving(const Generation& g) {
  if (!(g.compression_ratio > 0)) return -1;
  return std::max(0.0, 1.0 - 1.0 / std::max(1.0, g.compression_ratio));
}

// Received before the candidate (ties broken by ID, so the order is total).
bool Before(const Generation& g, const Generation& candidate) {
  if (g.received_ms != candidate.received_ms) return g.received_ms < candidate.received_ms;
  return g.id < candidate.id;
}

bool Far(double value, double median, double factor, double slack) {
  if (median <= 0) return false;
  if (std::fabs(value - median) <= slack) return false;
  return value > median * factor || value * factor < median;
}

}  // namespace

std::string_view AnomalyCheckCode(AnomalyCheck check) {
  switch (check) {
    case AnomalyCheck::kNewDataRatio:
      return "new_data_ratio";
    case AnomalyCheck::kSizeFar:
      return "size_far";
    case AnomalyCheck::kChunksFar:
      return "chunks_far";
    case AnomalyCheck::kCompressionCollapse:
      return "compression_collapse";
    case AnomalyCheck::kFloodHour:
      return "flood_hour";
    case AnomalyCheck::kFloodDay:
      return "flood_day";
  }
  return "";
}

AnomalyVerdict AssessGeneration(const Generation& candidate, const std::vector<Generation>& repository,
                                const AnomalyThresholds& t) {
  AnomalyVerdict v;
  std::vector<const Generation*> earlier;
  for (const Generation& g : repository) {
    if (g.id != candidate.id && Before(g, candidate)) earlier.push_back(&g);
  }
  std::sort(earlier.begin(), earlier.end(), [](const Generation* a, const Generation* b) {
    if (a->received_ms != b->received_ms) return a->received_ms > b->received_ms;
    return a->id > b->id;
  });

  std::vector<const Generation*> history;
  for (const Generation* g : earlier) {
    if (static_cast<int>(history.size()) >= t.history_window) break;
    if (g->state == GenerationState::kAccepted) history.push_back(g);
  }
  v.history_used = history.size();
  if (!history.empty()) {
    v.lenient = static_cast<int>(history.size()) < t.min_history;
    const double loose = v.lenient ? t.lenient_factor : 1.0;
    std::vector<double> ratios;
    std::vector<double> sizes;
    std::vector<double> chunks;
    std::vector<double> savings;
    for (const Generation* g : history) {
      ratios.push_back(NewDataRatio(*g));
      sizes.push_back(static_cast<double>(g->bytes));
      chunks.push_back(static_cast<double>(g->chunks));
      if (Saving(*g) >= 0) savings.push_back(Saving(*g));
    }
    const double ratio = NewDataRatio(candidate);
    const double ratio_median = Median(ratios);
    const double ratio_limit = std::max(t.new_data_floor, ratio_median * t.new_data_factor * loose);
    if (ratio > ratio_limit)
      v.findings.push_back({AnomalyCheck::kNewDataRatio, ratio, ratio_median, ratio_limit});

    const double size_median = Median(sizes);
    const double size_factor = t.size_factor * loose;
    if (Far(static_cast<double>(candidate.bytes), size_median, size_factor,
            static_cast<double>(t.size_slack_bytes))) {
      v.findings.push_back(
          {AnomalyCheck::kSizeFar, static_cast<double>(candidate.bytes), size_median, size_factor});
    }
    const double chunk_median = Median(chunks);
    const double chunk_factor = t.chunk_factor * loose;
    if (Far(static_cast<double>(candidate.chunks), chunk_median, chunk_factor,
            static_cast<double>(t.chunk_slack))) {
      v.findings.push_back(
          {AnomalyCheck::kChunksFar, static_cast<double>(candidate.chunks), chunk_median, chunk_factor});
    }
    const double saving = Saving(candidate);
    if (saving >= 0 && !savings.empty()) {
      const double saving_median = Median(savings);
      const double saving_limit = saving_median * t.compression_keep_fraction / loose;
      if (saving_median >= t.compression_min_saving && saving < saving_limit) {
        v.findings.push_back({AnomalyCheck::kCompressionCollapse, saving, saving_median, saving_limit});
      }
    }
  }

  // The flood windows end at the candidate's receive time and include it.
  int in_hour = 1;
  int in_day = 1;
  for (const Generation* g : earlier) {
    const int64_t age = candidate.received_ms - g->received_ms;
    if (age < kMillisPerHour) ++in_hour;
    if (age < kMillisPerDay) ++in_day;
  }
  const bool flood_hour = in_hour > t.max_per_hour;
  const bool flood_day = in_day > t.max_per_day;
  if (flood_hour)
    v.findings.push_back(
        {AnomalyCheck::kFloodHour, static_cast<double>(in_hour), 0, static_cast<double>(t.max_per_hour)});
  if (flood_day)
    v.findings.push_back(
        {AnomalyCheck::kFloodDay, static_cast<double>(in_day), 0, static_cast<double>(t.max_per_day)});
  if (flood_hour || flood_day) {
    const int64_t window = flood_day ? kMillisPerDay : kMillisPerHour;
    for (const Generation* g : earlier) {
      if (candidate.received_ms - g->received_ms >= window) break;
      if (g->state == GenerationState::kAccepted || g->state == GenerationState::kPendingCheck) {
        v.flood_members.push_back(g->id);
      }
    }
  }
  v.anomalous = !v.findings.empty();
  return v;
}

std::string DescribeFinding(const AnomalyFinding& f, Language lang) {
  switch (f.check) {
    case AnomalyCheck::kNewDataRatio:
      return TrIn(lang, "新規データの割合 {:.0f}% (この拠点の中央値 {:.0f}%、上限 {:.0f}%)",
                  "new data {:.0f}% of the snapshot (the site's median {:.0f}%, limit {:.0f}%)",
                  f.observed * 100, f.baseline * 100, f.limit * 100);
    case AnomalyCheck::kSizeFar:
      return TrIn(lang, "全体サイズ {0:.0f} バイトが中央値 {1:.0f} バイトから {2:.0f} 倍以上離れています",
                  "total size {0:.0f} bytes is more than {2:.0f}× away from the median {1:.0f} bytes",
                  f.observed, f.baseline, f.limit);
    case AnomalyCheck::kChunksFar:
      return TrIn(lang, "チャンク数 {0:.0f} が中央値 {1:.0f} から {2:.0f} 倍以上離れています",
                  "chunk count {0:.0f} is more than {2:.0f}× away from the median {1:.0f}", f.observed,
                  f.baseline, f.limit);
    case AnomalyCheck::kCompressionCollapse:
      return TrIn(lang,
                  "圧縮による削減が {:.0f}% に低下 (中央値 {:.0f}%、下限 {:.0f}%): 暗号化されたデータの疑い",
                  "compression saves only {:.0f}% (median {:.0f}%, limit {:.0f}%): looks like encrypted data",
                  f.observed * 100, f.baseline * 100, f.limit * 100);
    case AnomalyCheck::kFloodHour:
      return TrIn(lang, "1 時間に {:.0f} 世代を受信 (上限 {:.0f})",
                  "{:.0f} generations received within an hour (limit {:.0f})", f.observed, f.limit);
    case AnomalyCheck::kFloodDay:
      return TrIn(lang, "24 時間に {:.0f} 世代を受信 (上限 {:.0f})",
                  "{:.0f} generations received within 24 hours (limit {:.0f})", f.observed, f.limit);
  }
  return "";
}

std::string DescribeVerdict(const AnomalyVerdict& v, Language lang) {
  if (!v.anomalous) return TrIn(lang, "異常なし", "no anomaly");
  std::string text = TrIn(lang, "異常を検出: ", "anomaly: ");
  for (size_t i = 0; i < v.findings.size(); ++i) {
    if (i > 0) text += TrIn(lang, "、", "; ");
    text += DescribeFinding(v.findings[i], lang);
  }
  text +=
      TrIn(lang,
           "。この拠点を保留にし、世代を削除しません。拠点に侵害がないか確認し、オペレーターが hold clear "
           "で解除してください",
           ". The site is on hold and nothing of it is removed; check the site for a compromise, then an "
           "operator clears the hold with hold clear");
  return text;
}

}  // namespace kura::vault
