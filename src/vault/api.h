// The agent API of docs/vault-api.md on net::Router: what every handler shares.
//
// Authentication, the scope check and the repository check happen here, once, before a
// handler runs (SiteRoute), so no handler can forget them: a handler gets a SiteCall whose
// caller is a valid site credential and, for routes naming a repository, a repository
// bound to that caller's site. Every refusal is answered with the contract's JSON error
// and recorded in the audit trail (who, peer IP, site, action, target, result).
//
// Handlers are thread-safe (they run on the server's workers); one file per resource.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/crypto.h"
#include "net/http_types.h"
#include "net/router.h"
#include "net/tls.h"
#include "objstore/local_store.h"
#include "util/clock.h"
#include "vault/catalog.h"
#include "vault/metrics.h"

namespace kura::vault {

// The API version of docs/vault-api.md.
inline constexpr int kApiVersion = 1;

// Default limits of docs/vault-api.md §4.
inline constexpr uint64_t kMaxPackBytes = uint64_t{1} << 30;
inline constexpr uint64_t kMaxSnapshotBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMaxKeyBytes = uint64_t{64} << 10;
inline constexpr uint64_t kMaxConfigBytes = uint64_t{64} << 10;
inline constexpr uint64_t kMaxJsonBytes = uint64_t{1} << 20;  // blobs/missing: 10,000 IDs fit
inline constexpr size_t kMaxMissingIds = 10000;
// The clock warning's threshold (§4.5).
inline constexpr int64_t kClockWarningMs = int64_t{3600} * 1000;

// What the handlers stand on. Owned by VaultServer; outlives every request.
struct ApiDeps {
  Catalog* catalog = nullptr;
  const Clock* clock = nullptr;
  std::string objects_dir;  // objects/<repository ID>/ is each repository's area
  net::Fingerprint fingerprint;
  uint64_t max_pack_bytes = kMaxPackBytes;
  // /metrics (api_metrics.cc): nullptr disables it; who may read it; what each scrape
  // adds to the catalog's gauges (the HTTP server's connections, GC, scrub, alarms).
  MetricsRegistry* metrics = nullptr;
  std::vector<std::string> metrics_allow;
  std::vector<std::function<void(MetricsRegistry&)>> metric_collectors;
};

// A bilingual message.
struct Msg {
  std::string ja;
  std::string en;
};

// True when Accept-Language's first preference is English.
bool PrefersEnglish(const net::Request& req);

// {"code", "message", "message_ja", "message_en", ...extra}, Cache-Control: no-store.
net::Response ApiError(const net::Request& req, int status, std::string_view code, const Msg& msg,
                       const nlohmann::json& extra = nlohmann::json::object());
net::Response ApiJson(int status, const nlohmann::json& body);

// The peer as the audit trail records it, before authentication.
AuditActor AnonymousActor(const net::Request& req);

// An authenticated site request.
struct SiteCall {
  net::Request& req;
  ApiDeps& deps;
  SiteIdentity who;
  AuditActor actor;
  std::string repo_id;   // the {repo} of the path, checked to be lowercase hex
  BoundRepository repo;  // set when the route needs a bound repository
  std::string action;    // the audit action of this route ("pack.upload", ...)
  std::string target;    // "repository:<id>/..." for audit records

  // Audits the refusal (result "refused" for 401/403, else "failure") and answers it.
  net::Response Refuse(int status, std::string_view code, const Msg& msg, const std::string& detail,
                       const nlohmann::json& extra = nlohmann::json::object());
  // The repository's area as a LocalStore; `create` on the first PUT config.
  Result<std::unique_ptr<LocalStore>> Area(bool create) const;
};

using SiteHandler = std::function<net::Response(SiteCall&)>;

enum class RepoCheck {
  kNone,    // no {repo} in the path
  kIdOnly,  // {repo} is checked for shape only (PUT config binds it)
  kBound,   // {repo} must be bound to the caller's site
};

// Wraps `handler` with authentication (401 `unauthorized`, WWW-Authenticate: Bearer),
// the append scope and the repository check (403 `forbidden`: a repository of another
// site or tenant is refused exactly like one that does not exist).
net::Handler SiteRoute(ApiDeps& deps, std::string action, RepoCheck check, SiteHandler handler);
// A call no site credential may make (reads, lists, deletes): 401 for a missing or bad
// token, else 403 `forbidden`; both audited.
net::Handler ForbiddenRoute(ApiDeps& deps, std::string action);

// A body streamed to its end: its SHA-256 and size.
struct BodyDigest {
  crypto::Hash sha256{};
  uint64_t size = 0;
};
// Reads the whole body in 1 MiB pieces into `writer` (nullptr: hashed and dropped),
// showing each piece to `observe` (may be empty). Errors: the body reader's (the server
// then answers with its own error: 400 truncated, 408, 413) and the writer's.
Result<BodyDigest> StreamBody(net::BodyReader& body, LocalObjectWriter* writer,
                              const std::function<void(ByteView)>& observe);

// A re-send under the name of an object already stored: reads the body to its end and
// compares its SHA-256 with `id`. nullopt when the bytes are the same (the caller answers
// 200); else the refusal: 400 for a body that ended early, 403 `never_replaced` for other
// bytes (an overwrite attempt), audited.
std::optional<net::Response> RefuseOtherBytes(SiteCall& call, const std::string& id,
                                              const Msg& never_replaced);

// A repository ID: the config's `id`, 32 (format 1-3) or 64 lowercase hex digits.
bool IsRepoId(std::string_view s);

// Registers every route of docs/vault-api.md on `router` (api_*.cc).
void AddEnrolRoutes(net::Router& router, ApiDeps& deps);
void AddObjectRoutes(net::Router& router, ApiDeps& deps);  // config, keys
void AddPackRoutes(net::Router& router, ApiDeps& deps);
void AddSnapshotRoutes(net::Router& router, ApiDeps& deps);
void AddStatusRoutes(net::Router& router, ApiDeps& deps);  // blobs/missing, runs, generations, health
void AddForbiddenRoutes(net::Router& router, ApiDeps& deps);
void AddRestoreRoutes(net::Router& router, ApiDeps& deps);  // grants/redeem and the session's reads
void AddMetricsRoutes(net::Router& router, ApiDeps& deps);  // GET /metrics

}  // namespace kura::vault
