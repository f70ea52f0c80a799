// GET /metrics (docs/vault-http.md "Metrics"): the Prometheus text format for the vendor's
// monitoring, to the peers of [server] metrics_allow only (loopback by default). A refused
// peer is answered 403 and audited ("metrics.read"); an allowed read is not (scrapes come
// every few seconds and say nothing about anyone's data).
#include <map>

#include "vault/api.h"
#include "vault/metrics.h"

namespace kura::vault {

namespace {

// Every site's state as `kura-vault status` shows it (the lowest precedence of its
// repositories, docs/retention.md §5), and sites with no repository yet as "never".
void CollectSites(ApiDeps& deps, MetricsRegistry& m) {
  Result<std::vector<Catalog::RepositoryFacts>> facts = deps.catalog->ListRepositoryFacts();
  if (!facts.ok()) return;
  int64_t now_ms = deps.clock->NowUnixMillis();
  std::map<int64_t, SiteState> site_state;
  for (const Catalog::RepositoryFacts& f : *facts) {
    SiteState st = EvaluateSite(f.facts, f.policy, now_ms).state;
    auto [it, inserted] = site_state.emplace(f.site_id, st);
    if (!inserted && SiteStatePrecedence(st) < SiteStatePrecedence(it->second)) it->second = st;
  }
  std::map<std::string, uint64_t> by_state;
  for (SiteState st : {SiteState::kOk, SiteState::kOverdue, SiteState::kFailed, SiteState::kIncomplete,
                       SiteState::kDamaged, SiteState::kAnomalous}) {
    by_state[std::string(SiteStateName(st))] = 0;
  }
  for (const auto& [site, st] : site_state) ++by_state[std::string(SiteStateName(st))];
  for (const auto& [state, n] : by_state)
    m.SetGauge("kura_vault_sites", {{"state", state}}, static_cast<double>(n));
  Result<std::vector<Catalog::Alarm>> alarms = deps.catalog->ListOpenAlarms();
  if (!alarms.ok()) return;
  std::map<std::string, uint64_t> by_kind;
  for (const char* kind : {"overdue", "failed", "incomplete", "damaged", "anomalous", "quota", "clock"})
    by_kind[kind] = 0;
  for (const Catalog::Alarm& a : *alarms) ++by_kind[a.key.kind];
  for (const auto& [kind, n] : by_kind)
    m.SetGauge("kura_vault_alarms_active", {{"kind", kind}}, static_cast<double>(n));
}

void CollectCatalog(ApiDeps& deps, MetricsRegistry& m) {
  CollectSites(deps, m);
  Result<CatalogCounts> counts = deps.catalog->Counts();
  if (!counts.ok()) return;
  for (const TenantCounts& t : counts->tenants) {
    MetricLabels tenant = {{"tenant", t.name}};
    m.SetGauge("kura_vault_tenant_stored_bytes", tenant, static_cast<double>(t.stored_bytes));
    m.SetGauge("kura_vault_tenant_packs", tenant, static_cast<double>(t.packs));
    m.SetGauge("kura_vault_tenant_pending_reclaim_bytes", tenant, static_cast<double>(t.quarantined_bytes));
    m.SetGauge("kura_vault_scrub_damaged_objects", tenant, static_cast<double>(t.damaged_objects));
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
