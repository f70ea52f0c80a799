// kura-vault's metrics in the Prometheus text exposition format 0.0.4 (docs/vault-http.md
// "Metrics"): request counts and latencies by route, uploads and bytes received, and the
// gauges a scrape asks the catalog for (sites by state, bytes per tenant, GC and scrub).
//
// Counters and histograms are fed as requests finish; gauges are set by the collectors
// that run at each scrape (SetGauge, after ClearGauges). Label values are escaped as the
// format requires; label names and metric names are this file's own constants.
//
// Thread-safety: every member is safe to call from any thread (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_server.h"

namespace kura::vault {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  MetricsRegistry();

  // Adds `delta` (>= 0) to a counter.
  void Count(std::string_view name, const MetricLabels& labels, double delta = 1);
  // Records one observation (seconds) in a latency histogram.
  void Observe(std::string_view name, const MetricLabels& labels, double seconds);
  void SetGauge(std::string_view name, const MetricLabels& labels, double value);
  // A gauge that scrapes do not clear: the result of the last garbage collection or scrub,
  // set when that run ends.
  void SetKeptGauge(std::string_view name, const MetricLabels& labels, double value);
  // Sets a counter kept elsewhere (the HTTP server's own totals) to its current value.
  void SetCounter(std::string_view name, const MetricLabels& labels, double value);
  // Drops every gauge sample (the collectors set them again).
  void ClearGauges();

  // What a finished request adds: kura_vault_http_requests_total{method,route,code},
  // kura_vault_http_request_duration_seconds{route}, and for an upload of a pack
  // kura_vault_pack_uploads_total{result} and kura_vault_received_bytes_total.
  void ObserveRequest(const net::AccessRecord& record);

  // The whole exposition, families in name order, each with its # HELP and # TYPE.
  std::string Render() const;
  // One scrape: clears the gauges, lets `collect` set them, renders. Scrapes run one at a
  // time, so two at once never see each other's half-set gauges.
  std::string Scrape(const std::function<void(MetricsRegistry&)>& collect);

 private:
  enum class Type { kCounter, kGauge, kKeptGauge, kHistogram };
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<std::string, double> values;         // rendered labels → value
    std::map<std::string, Histogram> histograms;  // rendered labels → histogram
  };
  Family& FamilyLocked(std::string_view name, Type type);

  std::mutex scrape_mu_;  // held for a whole Scrape, before mu_
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
};

// `{a="x",b="y"}` with the values escaped (\\, \", \n); "" for no labels.
std::string RenderLabels(const MetricLabels& labels);

// Whether `peer_ip` may read /metrics: an exact IPv4 or IPv6 literal of `allow`, or inside
// one of its CIDR ranges ("10.0.0.0/8", "fd00::/8"). Unparsable entries match nothing.
bool MetricsPeerAllowed(std::string_view peer_ip, const std::vector<std::string>& allow);
// Whether `entry` is an IP literal or CIDR range MetricsPeerAllowed understands.
bool MetricsRangeValid(std::string_view entry);

}  // namespace kura::vault
