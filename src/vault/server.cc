#include "vault/server.h"

#include <dirent.h>

#include "objstore/local_store.h"
#include "vault/log.h"

namespace kura::vault {

int SweepUploadLeftovers(const std::string& objects_dir, int64_t cutoff_unix) {
  DIR* d = ::opendir(objects_dir.c_str());
  if (d == nullptr) return 0;
  std::vector<std::string> areas;
  // readdir is thread-safe when each stream has a single user, as this one does.
  while (struct dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    if (IsRepoId(e->d_name)) areas.emplace_back(e->d_name);
  }
  ::closedir(d);
  int swept = 0;
  for (const std::string& area : areas) {
    Result<std::unique_ptr<LocalStore>> store = LocalStore::Open(objects_dir + "/" + area, false);
    if (!store.ok()) {
      LogWarning("repository area {}: {}", area, store.status().ToString());
      continue;
    }
    Status st = (*store)->RemoveStaleTemporaryFiles(cutoff_unix);
    if (!st.ok()) LogWarning("repository area {}: {}", area, st.ToString());
    ++swept;
  }
  return swept;
}

Result<std::unique_ptr<VaultServer>> VaultServer::Start(const VaultConfig& config, Catalog& catalog,
                                                        const Clock& clock) {
  KURA_ASSIGN_OR_RETURN(std::shared_ptr<net::TlsServerContext> tls,
                        net::TlsServerContext::Load(config.server.certificate, config.server.key));
  std::unique_ptr<VaultServer> s(new VaultServer());
  s->deps_.catalog = &catalog;
  s->deps_.clock = &clock;
  s->deps_.objects_dir = config.objects_dir;
  s->deps_.fingerprint = tls->fingerprint();
  s->deps_.max_pack_bytes = config.server.max_pack_bytes;
  s->deps_.metrics = &s->metrics_;
  s->deps_.metrics_allow = config.server.metrics_allow;
  VaultServer* self = s.get();
  s->deps_.metric_collectors.emplace_back([self](MetricsRegistry& m) {
    net::HttpServer* http = self->http_ready_.load();
    if (http == nullptr) return;
    net::ServerStats st = http->stats();
    m.SetGauge("kura_vault_open_connections", {}, static_cast<double>(st.open_connections));
    m.SetCounter("kura_vault_connections_accepted_total", {}, static_cast<double>(st.accepted));
    m.SetCounter("kura_vault_connections_refused_total", {}, static_cast<double>(st.refused_at_accept));
    m.SetCounter("kura_vault_connection_timeouts_total", {}, static_cast<double>(st.timeouts));
  });
  SweepUploadLeftovers(config.objects_dir, clock.NowUnix() + 1);

  net::Router router;
  AddEnrolRoutes(router, s->deps_);
  AddObjectRoutes(router, s->deps_);
  AddPackRoutes(router, s->deps_);
  AddSnapshotRoutes(router, s->deps_);
  AddStatusRoutes(router, s->deps_);
  AddRestoreRoutes(router, s->deps_);
  AddMetricsRoutes(router, s->deps_);
  AddForbiddenRoutes(router, s->deps_);

  net::ServerOptions options;
  options.bind_address = config.server.listen_host;
  options.port = config.server.listen_port;
  options.tls = tls;
  const ServerConfig& c = config.server;
  options.limits.max_header_bytes = c.max_header_bytes;
  options.limits.max_connections = c.max_connections;
  options.limits.worker_threads = c.worker_threads;
  options.limits.header_timeout = std::chrono::seconds(c.header_timeout_seconds);
  options.limits.body_timeout = std::chrono::seconds(c.body_timeout_seconds);
  options.limits.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  options.limits.stop_grace = std::chrono::seconds(c.stop_grace_seconds);
  options.on_request = [self](const net::AccessRecord& r) {
    self->metrics_.ObserveRequest(r);
    LogInfo("{} {} {} {} in={} {}ms", r.peer_ip, r.method, r.path, r.status, r.body_bytes_in,
            r.duration.count());
  };
  KURA_ASSIGN_OR_RETURN(s->http_, net::HttpServer::Start(std::move(options), std::move(router)));
  s->http_ready_.store(s->http_.get());
  return s;
}

VaultServer::~VaultServer() {
  Stop();
}

void VaultServer::Stop() {
  if (http_) http_->Stop();
}

}  // namespace kura::vault
