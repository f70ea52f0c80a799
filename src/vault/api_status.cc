// POST blobs/missing, POST runs, GET generations (docs/vault-api.md §4.3, §4.6, §4.7) and
// the calls no site credential may make (§1).
#include "util/hex.h"
#include "vault/api.h"
#include "vault/api_bodies.h"
#include "vault/log.h"

namespace kura::vault {

using nlohmann::json;

static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};

static net::Response BadMember(SiteCall& call, std::string_view member) {
  if (member.empty()) {
    return call.Refuse(
        400, "bad_request",
        {"リクエストの本文が JSON のオブジェクトではありません", "the request body is not a JSON object"},
        "malformed JSON");
  }
  return call.Refuse(400, "bad_request",
                     {fmt::format("本文の \"{}\" がないか、型が正しくありません", member),
                      fmt::format("the body's \"{}\" is missing or of the wrong type", member)},
                     "bad member " + std::string(member));
}

// The body, whole (bounded by the route); nullopt after answering.
static std::optional<std::string> SmallBody(SiteCall& call, net::Response* error) {
  Result<std::string> text = net::ReadAll(*call.req.body, kMaxJsonBytes);
  if (text.ok()) return *text;
  *error = call.Refuse(400, "bad_request",
                       {"リクエストの本文を読めませんでした", "the request body could not be read"},
                       text.status().ToString());
  return std::nullopt;
}

static net::Response MissingBlobs(SiteCall& call) {
  // An upload session starts with this question: the lease keeps GC off the repository
  // until its commit (vault/gc.h), so the blobs answered present stay present.
  if (Status lease = call.deps.catalog->RenewUploadLease(call.repo.id); !lease.ok())
    return call.Refuse(500, "internal", kInternal, lease.ToString());
  net::Response error;
  std::optional<std::string> text = SmallBody(call, &error);
  if (!text) return error;
  Result<Bytes> raw = ParseMissingRequest(*text, kMaxMissingIds);
  if (!raw.ok()) return BadMember(call, raw.status().message());
  std::vector<size_t> missing;
  Result<uint64_t> n = call.deps.catalog->CountMissingBlobs(call.repo.id, *raw, raw->size() / 32, &missing);
  if (!n.ok()) return call.Refuse(500, "internal", kInternal, n.status().ToString());
  json out = json::array();
  for (size_t i : missing) out.push_back(ToHex(ByteView(*raw).subspan(i * 32, 32)));
  return ApiJson(200, {{"missing", out}});
}

static net::Response ReportRun(SiteCall& call) {
  net::Response error;
  std::optional<std::string> text = SmallBody(call, &error);
  if (!text) return error;
  Result<RunReport> run = ParseRunReport(*text);
  if (!run.ok()) return BadMember(call, run.status().message());
  Status st = call.deps.catalog->RecordRun(call.repo.id, *run);
  if (!st.ok()) return call.Refuse(500, "internal", kInternal, st.ToString());
  net::Response r;
  r.status = 204;
  return r;
}

static net::Response Generations(SiteCall& call) {
  Result<std::vector<SnapshotRecord>> list = call.deps.catalog->ListKeptSnapshots(call.repo.id);
  if (!list.ok()) return call.Refuse(500, "internal", kInternal, list.status().ToString());
  Result<Catalog::Capacity> capacity = call.deps.catalog->TenantCapacity(call.repo.tenant_id);
  if (!capacity.ok()) return call.Refuse(500, "internal", kInternal, capacity.status().ToString());
  json gens = json::array();
  for (const SnapshotRecord& s : *list) {
    gens.push_back({{"snapshot", s.name},
                    {"kind", s.kind},
                    {"received", FormatUtc(s.received_at_ms / 1000)},
                    {"bytes", s.bytes},
                    {"state", s.state}});
  }
  // 0 means "no quota set" (§4.7); the site sees its tenant's total, never other figures.
  json quota = {{"used", capacity->used},
                {"soft", capacity->soft},
                {"hard", capacity->hard},
                {"remaining", capacity->Remaining()}};
  if (capacity->soft != 0 && capacity->used > capacity->soft) {
    Msg warning{fmt::format("保管庫の使用量が警告値を超えています ({} / {} バイト)。販売元にご相談ください",
                            capacity->used, capacity->soft),
                fmt::format("the vault's usage is above the soft quota ({} of {} bytes); talk to the vendor",
                            capacity->used, capacity->soft)};
    quota["warning"] = PrefersEnglish(call.req) ? warning.en : warning.ja;
    quota["warning_ja"] = warning.ja;
    quota["warning_en"] = warning.en;
  }
  return ApiJson(200, {{"generations", gens}, {"quota", quota}});
}

void AddStatusRoutes(net::Router& router, ApiDeps& deps) {
  router.Add("POST", "/v1/repos/{repo}/blobs/missing",
             SiteRoute(deps, "blobs.missing", RepoCheck::kBound, MissingBlobs),
             net::RouteOptions{kMaxJsonBytes});
  router.Add("POST", "/v1/repos/{repo}/runs", SiteRoute(deps, "run.report", RepoCheck::kBound, ReportRun),
             net::RouteOptions{kMaxJsonBytes});
  router.Add("GET", "/v1/repos/{repo}/generations",
             SiteRoute(deps, "generations.list", RepoCheck::kBound, Generations));
}

// Deletes, locks and listings nobody may make, registered so that a site credential gets
// 403 (audited), not 404 or 405. The reads are api_restore.cc's: a restore session's.
void AddForbiddenRoutes(net::Router& router, ApiDeps& deps) {
  for (const char* path :
       {"/v1/repos/{repo}/keys/{id}", "/v1/repos/{repo}/snapshots/{id}", "/v1/repos/{repo}/packs/{id}"}) {
    router.Add("DELETE", path, ForbiddenRoute(deps, "object.delete"));
  }
  router.Add("DELETE", "/v1/repos/{repo}/config", ForbiddenRoute(deps, "object.delete"));
  router.Add("DELETE", "/v1/repos/{repo}", ForbiddenRoute(deps, "repository.delete"));
  router.Add("GET", "/v1/repos/{repo}", ForbiddenRoute(deps, "repository.read"));
  router.Add("GET", "/v1/repos", ForbiddenRoute(deps, "repository.list"));
  router.Add("POST", "/v1/repos/{repo}/lock", ForbiddenRoute(deps, "repository.lock"));
}

}  // namespace kura::vault
