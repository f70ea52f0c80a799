// GET /metrics (docs/vault-http.md "Metrics"): the Prometheus text format for the vendor's
// monitoring, to the peers of [server] metrics_allow only (loopback by default). A refused
// peer is answered 403 and audited ("metrics.read"); an allowed read is not (scrapes come
// every few seconds and say nothing about anyone's data).
#include "vault/api.h"
#include "vault/metrics.h"

namespace kura::vault {

namespace {

void CollectCatalog(ApiDeps& deps, MetricsRegistry& m) {
  Result<CatalogCounts> counts = deps.catalog->Counts();
  if (!counts.ok()) return;
  for (const auto& [state, n] : counts->sites_by_state) {
    m.SetGauge("kura_vault_sites", {{"state", state}}, static_cast<double>(n));
  }
  for (const TenantCounts& t : counts->tenants) {
    MetricLabels tenant = {{"tenant", t.name}};
    m.SetGauge("kura_vault_tenant_stored_bytes", tenant, static_cast<double>(t.stored_bytes));
    m.SetGauge("kura_vault_tenant_packs", tenant, static_cast<double>(t.packs));
    m.SetGauge("kura_vault_tenant_pending_reclaim_bytes", tenant, static_cast<double>(t.quarantined_bytes));
    for (const auto& [state, n] : t.snapshots) {
      m.SetGauge("kura_vault_tenant_snapshots", {{"tenant", t.name}, {"state", state}},
                 static_cast<double>(n));
    }
  }
}

}  // namespace

void AddMetricsRoutes(net::Router& router, ApiDeps& deps) {
  router.Add("GET", "/metrics", [&deps](net::Request& req) {
    if (deps.metrics == nullptr) {
      return ApiError(req, 404, "not_found", {"メトリクスは無効です", "metrics are disabled"});
    }
    if (!MetricsPeerAllowed(req.peer_ip, deps.metrics_allow)) {
      AuditActor actor = AnonymousActor(req);
      (void)deps.catalog->Audit({actor, "metrics.read", "metrics", std::string(kAuditRefused),
                                 "peer not in [server] metrics_allow"});
      return ApiError(req, 403, "forbidden",
                      {"このアドレスからはメトリクスを読めません (vault.toml の [server] metrics_allow)",
                       "metrics may not be read from this address ([server] metrics_allow in vault.toml)"});
    }
    std::string text = deps.metrics->Scrape([&deps](MetricsRegistry& m) {
      CollectCatalog(deps, m);
      for (const auto& collect : deps.metric_collectors) collect(m);
    });
    net::Response resp;
    resp.status = 200;
    resp.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    resp.headers.Set("Cache-Control", "no-store");
    resp.body = std::move(text);
    return resp;
  });
}

}  // namespace kura::vault
