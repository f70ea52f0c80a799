#include "vault/metrics.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstring>

namespace kura::vault {

namespace {

// Latency buckets (seconds): a blobs/missing answer takes milliseconds, a 1 GiB pack minutes.
constexpr std::array<double, 13> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                             1,     2.5,  5,     10,   30,  120};

struct Help {
  std::string_view name;
  std::string_view text;
};

// Every family kura-vault exports (docs/vault-http.md "Metrics").
constexpr std::array<Help, 21> kHelp = {{
    {"kura_vault_http_requests_total", "HTTP requests answered, by method, route pattern and status code"},
    {"kura_vault_http_request_duration_seconds", "Time from request head to response written, by route"},
    {"kura_vault_pack_uploads_total", "Pack uploads by result (stored, duplicate, refused)"},
    {"kura_vault_received_bytes_total", "Request body bytes received on pack and snapshot uploads"},
    {"kura_vault_open_connections", "TLS connections accepted and not yet closed"},
    {"kura_vault_connections_accepted_total", "TLS connections ever accepted"},
    {"kura_vault_connections_refused_total",
     "Connections closed at accept because max_connections were open"},
    {"kura_vault_connection_timeouts_total", "Connections cut by a handshake, header, body or write timeout"},
    {"kura_vault_sites",
     "Sites with a repository, by state (ok, overdue, failed, incomplete, damaged, anomalous)"},
    {"kura_vault_tenant_stored_bytes", "Unique bytes stored per tenant (packs, quarantined included)"},
    {"kura_vault_tenant_packs", "Packs stored per tenant"},
    {"kura_vault_tenant_snapshots", "Snapshots per tenant by state"},
    {"kura_vault_tenant_pending_reclaim_bytes",
     "Quarantined bytes per tenant that garbage collection will delete"},
    {"kura_vault_gc_last_run_timestamp_seconds", "When garbage collection last finished (Unix time)"},
    {"kura_vault_scrub_last_run_timestamp_seconds", "When a scrub last finished (Unix time)"},
    {"kura_vault_scrub_damaged_objects", "Objects scrub found damaged (recorded in the catalog)"},
    {"kura_vault_scrub_last_run_damaged_objects", "Objects the last scrub found damaged"},
    {"kura_vault_scrub_checked_bytes_total", "Bytes scrub re-hashed since kura-vault serve started"},
    {"kura_vault_gc_deleted_bytes_total", "Bytes garbage collection deleted since kura-vault serve started"},
    {"kura_vault_gc_quarantined_packs_total",
     "Packs garbage collection quarantined since kura-vault serve started"},
    {"kura_vault_alarms_active", "Active alarms by kind"},
}};

std::string_view HelpFor(std::string_view name) {
  for (const Help& h : kHelp) {
    if (h.name == name) return h.text;
  }
  return "kura-vault metric";
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

// `{a="x"}` + `le` merged into the same braces.
std::string WithLe(const std::string& labels, std::string_view le) {
  std::string le_pair = fmt::format("le=\"{}\"", le);
  if (labels.empty()) return "{" + le_pair + "}";
  return labels.substr(0, labels.size() - 1) + "," + le_pair + "}";
}

bool ParseAddress(std::string_view text, std::array<uint8_t, 16>* bytes, int* bits) {
  std::string s(text);
  in6_addr v6{};
  in_addr v4{};
  if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    // IPv4 as its IPv4-mapped IPv6 form, so "127.0.0.1" matches "::ffff:127.0.0.1".
    bytes->fill(0);
    (*bytes)[10] = 0xff;
    (*bytes)[11] = 0xff;
    std::memcpy(bytes->data() + 12, &v4, 4);
    *bits = 128;
    return true;
  }
  if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(bytes->data(), &v6, 16);
    *bits = 128;
    return true;
  }
  return false;
}

bool ParseRange(std::string_view text, std::array<uint8_t, 16>* bytes, int* prefix) {
  size_t slash = text.find('/');
  int bits = 0;
  if (!ParseAddress(text.substr(0, slash), bytes, &bits)) return false;
  *prefix = 128;
  if (slash == std::string_view::npos) return true;
  std::string_view p = text.substr(slash + 1);
  if (p.empty() || p.size() > 3) return false;
  int n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  if (v4) n += 96;
  if (n > 128) return false;
  *prefix = n;
  return true;
}

}  // namespace

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  return out + "}";
}

bool MetricsRangeValid(std::string_view entry) {
  std::array<uint8_t, 16> net{};
  int prefix = 0;
  return ParseRange(entry, &net, &prefix);
}

bool MetricsPeerAllowed(std::string_view peer_ip, const std::vector<std::string>& allow) {
  std::array<uint8_t, 16> peer{};
  int bits = 0;
  if (!ParseAddress(peer_ip, &peer, &bits)) return false;
  for (const std::string& entry : allow) {
    std::array<uint8_t, 16> net{};
    int prefix = 0;
    if (!ParseRange(entry, &net, &prefix)) continue;
    bool match = true;
    for (int i = 0; i < prefix && match; ++i) {
      auto bit = [i](const std::array<uint8_t, 16>& a) { return (a[i / 8] >> (7 - i % 8)) & 1; };
      match = bit(peer) == bit(net);
    }
    if (match) return true;
  }
  return false;
}

MetricsRegistry::MetricsRegistry() {
  // The families every scrape shows, even before their first sample.
  std::lock_guard lock(mu_);
  FamilyLocked("kura_vault_http_requests_total", Type::kCounter);
  FamilyLocked("kura_vault_pack_uploads_total", Type::kCounter);
  FamilyLocked("kura_vault_received_bytes_total", Type::kCounter).values.emplace("", 0);
}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(std::string_view name, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{}).first;
    it->second.type = type;
    it->second.help = std::string(HelpFor(name));
  }
  return it->second;
}

void MetricsRegistry::Count(std::string_view name, const MetricLabels& labels, double delta) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, Type::kCounter).values[RenderLabels(labels)] += delta;
}

void MetricsRegistry::Observe(std::string_view name, const MetricLabels& labels, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = FamilyLocked(name, Type::kHistogram).histograms[RenderLabels(labels)];
  if (h.counts.empty()) h.counts.assign(kBuckets.size(), 0);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void MetricsRegistry::SetGauge(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, Type::kGauge).values[RenderLabels(labels)] = value;
}

void MetricsRegistry::SetKeptGauge(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, Type::kKeptGauge).values[RenderLabels(labels)] = value;
}

void MetricsRegistry::SetCounter(std::string_view name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, Type::kCounter).values[RenderLabels(labels)] = value;
}

void MetricsRegistry::ClearGauges() {
  std::lock_guard lock(mu_);
  for (auto& [name, family] : families_) {
    if (family.type == Type::kGauge) family.values.clear();
  }
}

void MetricsRegistry::ObserveRequest(const net::AccessRecord& r) {
  Count("kura_vault_http_requests_total",
        {{"method", r.method}, {"route", r.route}, {"code", std::to_string(r.status)}});
  Observe("kura_vault_http_request_duration_seconds", {{"route", r.route}},
          std::chrono::duration<double>(r.duration).count());
  bool pack = r.method == "PUT" && r.route == "/v1/repos/{repo}/packs/{id}";
  bool snapshot = r.method == "PUT" && r.route == "/v1/repos/{repo}/snapshots/{id}";
  if (pack || snapshot) Count("kura_vault_received_bytes_total", {}, static_cast<double>(r.body_bytes_in));
  if (pack) {
    std::string result = r.status == 201 ? "stored" : r.status == 200 ? "duplicate" : "refused";
    Count("kura_vault_pack_uploads_total", {{"result", result}});
  }
}

std::string MetricsRegistry::Scrape(const std::function<void(MetricsRegistry&)>& collect) {
  std::lock_guard scrape(scrape_mu_);
  ClearGauges();
  collect(*this);
  return Render();
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::kCounter     ? "counter"
                       : family.type == Type::kHistogram ? "histogram"
                                                         : "gauge";
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, type);
    for (const auto& [labels, value] : family.values) {
      out += fmt::format("{}{} {}\n", name, labels, FormatValue(value));
    }
    for (const auto& [labels, h] : family.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{} {}\n", name, WithLe(labels, FormatValue(kBuckets[i])), cumulative);
      }
      out += fmt::format("{}_bucket{} {}\n", name, WithLe(labels, "+Inf"), h.count);
      out += fmt::format("{}_sum{} {}\n", name, labels, FormatValue(h.sum));
      out += fmt::format("{}_count{} {}\n", name, labels, h.count);
    }
  }
  return out;
}

}  // namespace kura::vault
