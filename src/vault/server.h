// kura-vault's HTTPS server: the agent API (vault/api.h) on net::HttpServer with the
// listener, certificate and limits of vault.toml (docs/vault-config.md).
//
// Start sweeps every repository area for temporary files an earlier process left (a pack
// upload cut by SIGKILL or a power loss): none of them is an object, and no upload of
// this process can be running yet. Stop is graceful (net/http_server.h): uploads in
// flight finish within stop_grace or are cut, and a cut upload leaves no object.
//
// Thread safety: Start and Stop from one thread; the catalog and clock are shared with
// the request handlers and must outlive the server.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "kura/status.h"
#include "net/http_server.h"
#include "util/clock.h"
#include "vault/api.h"
#include "vault/catalog.h"
#include "vault/config.h"
#include "vault/metrics.h"

namespace kura::vault {

class VaultServer {
 public:
  // Errors: those of TlsServerContext::Load (a missing or world-readable key: chmod 600)
  // and HttpServer::Start (address in use).
  static Result<std::unique_ptr<VaultServer>> Start(const VaultConfig& config, Catalog& catalog,
                                                    const Clock& clock);
  ~VaultServer();
  VaultServer(const VaultServer&) = delete;
  VaultServer& operator=(const VaultServer&) = delete;

  uint16_t port() const { return http_->port(); }
  // What /metrics shows; also for tests and the periodic tasks (GC, scrub) to report into.
  MetricsRegistry& metrics() { return metrics_; }
  const net::Fingerprint& fingerprint() const { return deps_.fingerprint; }
  void Stop();

 private:
  VaultServer() = default;
  ApiDeps deps_;
  MetricsRegistry metrics_;
  // Set once Start has the server; read by the /metrics collector on worker threads.
  std::atomic<net::HttpServer*> http_ready_{nullptr};
  std::unique_ptr<net::HttpServer> http_;
};

// Removes ".tmp-" files from every repository area under `objects_dir`. Returns how many
// repository areas were swept; logs what it could not remove.
int SweepUploadLeftovers(const std::string& objects_dir, int64_t cutoff_unix);

}  // namespace kura::vault
