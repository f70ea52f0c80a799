// The Prometheus text kura-vault's /metrics answers (vault/metrics.h): a scraper must parse
// it, labels must not break it, histograms must be cumulative, and the peer allowlist must
// hold for IPv4, IPv6 and CIDR ranges. The e2e side (a real scrape, a refused peer audited)
// is in tests/vault_e2e/vault_api_test.cc.
#include "vault/metrics.h"

#include <gtest/gtest.h>

#include <sstream>

namespace kura::vault {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool Has(const std::string& text, const std::string& line) {
  for (const std::string& l : Lines(text)) {
    if (l == line) return true;
  }
  return false;
}

TEST(MetricsTest, RequestsAreCountedByRoutePatternNotByPath) {
  MetricsRegistry m;
  net::AccessRecord r;
  r.method = "PUT";
  r.path = "/v1/repos/0123abcd/packs/ffee";
  r.route = "/v1/repos/{repo}/packs/{id}";
  r.status = 201;
  r.body_bytes_in = 4096;
  r.duration = net::Millis(30);
  m.ObserveRequest(r);
  r.status = 200;
  m.ObserveRequest(r);
  std::string text = m.Render();
  EXPECT_TRUE(
      Has(text,
          R"(kura_vault_http_requests_total{method="PUT",route="/v1/repos/{repo}/packs/{id}",code="201"} 1)"))
      << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_pack_uploads_total{result="stored"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_pack_uploads_total{result="duplicate"} 1)")) << text;
  EXPECT_TRUE(Has(text, "kura_vault_received_bytes_total 8192")) << text;
  EXPECT_EQ(text.find("0123abcd"), std::string::npos) << "a repository ID leaked into a label";
  EXPECT_TRUE(Has(text, "# TYPE kura_vault_http_request_duration_seconds histogram"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndInInfinity) {
  MetricsRegistry m;
  for (double s : {0.001, 0.02, 0.02, 3.0, 500.0})
    m.Observe("kura_vault_http_request_duration_seconds", {{"route", "/x"}}, s);
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_bucket{route="/x",le="0.005"} 1)"))
      << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_bucket{route="/x",le="0.025"} 3)"))
      << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_bucket{route="/x",le="5"} 4)")) << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_bucket{route="/x",le="120"} 4)")) << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_bucket{route="/x",le="+Inf"} 5)"))
      << text;
  EXPECT_TRUE(Has(text, R"(kura_vault_http_request_duration_seconds_count{route="/x"} 5)")) << text;
}

// Tenant names are the operator's free text (Japanese, quotes, newlines): escaped, one
// sample per line, so a name cannot forge another sample.
TEST(MetricsTest, LabelValuesAreEscapedSoANameCannotForgeASample) {
  MetricsRegistry m;
  m.SetGauge("kura_vault_tenant_stored_bytes", {{"tenant", "さくら\"診療所\"\nkura_vault_sites 999"}}, 5);
  std::string text = m.Render();
  EXPECT_TRUE(
      Has(text, R"(kura_vault_tenant_stored_bytes{tenant="さくら\"診療所\"\nkura_vault_sites 999"} 5)"))
      << text;
  for (const std::string& line : Lines(text)) EXPECT_FALSE(line.starts_with("kura_vault_sites 999")) << text;
}

TEST(MetricsTest, EachScrapeSetsTheGaugesAfresh) {
  MetricsRegistry m;
  std::string first = m.Scrape([](MetricsRegistry& r) {
    r.SetGauge("kura_vault_sites", {{"state", "overdue"}}, 2);
  });
  EXPECT_TRUE(Has(first, R"(kura_vault_sites{state="overdue"} 2)")) << first;
  std::string second = m.Scrape([](MetricsRegistry& r) {
    r.SetGauge("kura_vault_sites", {{"state", "ok"}}, 3);
  });
  EXPECT_FALSE(Has(second, R"(kura_vault_sites{state="overdue"} 2)")) << "a stale gauge survived the scrape";
  EXPECT_TRUE(Has(second, R"(kura_vault_sites{state="ok"} 3)")) << second;
  // The last GC's result stays until the next GC sets it.
  m.SetKeptGauge("kura_vault_gc_last_run_timestamp_seconds", {}, 1764633600);
  std::string third = m.Scrape([](MetricsRegistry&) {});
  EXPECT_TRUE(Has(third, "kura_vault_gc_last_run_timestamp_seconds 1764633600")) << third;
  EXPECT_TRUE(Has(third, "# TYPE kura_vault_gc_last_run_timestamp_seconds gauge")) << third;
  EXPECT_TRUE(Has(second,
                  "# HELP kura_vault_sites Sites with a repository, by state (ok, overdue, failed, "
                  "incomplete, damaged, anomalous)"));
}

TEST(MetricsTest, PeerAllowlistTakesAddressesAndRanges) {
  std::vector<std::string> loopback = {"127.0.0.1", "::1"};
  EXPECT_TRUE(MetricsPeerAllowed("127.0.0.1", loopback));
  EXPECT_TRUE(MetricsPeerAllowed("::1", loopback));
  EXPECT_TRUE(MetricsPeerAllowed("::ffff:127.0.0.1", loopback));
  EXPECT_FALSE(MetricsPeerAllowed("127.0.0.2", loopback));
  EXPECT_FALSE(MetricsPeerAllowed("10.1.2.3", loopback));
  std::vector<std::string> ranges = {"10.0.0.0/8", "fd00::/8"};
  EXPECT_TRUE(MetricsPeerAllowed("10.255.0.1", ranges));
  EXPECT_FALSE(MetricsPeerAllowed("11.0.0.1", ranges));
  EXPECT_TRUE(MetricsPeerAllowed("fd12::1", ranges));
  EXPECT_FALSE(MetricsPeerAllowed("fe80::1", ranges));
  EXPECT_FALSE(MetricsPeerAllowed("not-an-ip", ranges));
  EXPECT_FALSE(MetricsPeerAllowed("127.0.0.1", {}));
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "host.example", "::1/129", "1.2.3.4/x"}) {
    EXPECT_FALSE(MetricsRangeValid(bad)) << bad;
  }
  EXPECT_TRUE(MetricsRangeValid("0.0.0.0/0"));
  EXPECT_TRUE(MetricsPeerAllowed("203.0.113.9", {"0.0.0.0/0"}));
}

}  // namespace
}  // namespace kura::vault
