// POST blobs/missing, POST runs, GET generations (docs/vault-api.md §4.3, §4.6, §4.7) and
// the calls no site credential may make (§1).
#include "repo/snapshot_kind.h"
#include "util/hex.h"
#include "util/text.h"
#include "vault/api.h"
#include "vault/log.h"

namespace kura::vault {

using nlohmann::json;

static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};

static net::Response BadMember(SiteCall& call, std::string_view member) {
  return call.Refuse(400, "bad_request",
                     {fmt::format("本文の \"{}\" がないか、型が正しくありません", member),
                      fmt::format("the body's \"{}\" is missing or of the wrong type", member)},
                     "bad member " + std::string(member));
}

static net::Response MissingBlobs(SiteCall& call) {
  net::Response error;
  std::optional<json> body = ReadJsonBody(call, kMaxJsonBytes, &error);
  if (!body) return error;
  const json& ids = (*body)["ids"];
  if (!ids.is_array() || ids.size() > kMaxMissingIds) return BadMember(call, "ids");
  Bytes raw;
  raw.reserve(ids.size() * 32);
  for (const json& id : ids) {
    if (!id.is_string() || !IsHexId(id.get<std::string>(), 64)) return BadMember(call, "ids");
    std::optional<Bytes> b = FromHex(id.get<std::string>());
    if (!b) return BadMember(call, "ids");
    raw.insert(raw.end(), b->begin(), b->end());
  }
  std::vector<size_t> missing;
  Result<uint64_t> n = call.deps.catalog->CountMissingBlobs(call.repo.id, raw, ids.size(), &missing);
  if (!n.ok()) return call.Refuse(500, "internal", kInternal, n.status().ToString());
  json out = json::array();
  for (size_t i : missing) out.push_back(ids[i]);
  return ApiJson(200, {{"missing", out}});
}

// A short text member; absent is "".
static bool TextMember(const json& j, const char* key, size_t max_bytes, std::string* out) {
  if (!j.contains(key)) return true;
  if (!j[key].is_string()) return false;
  *out = j[key].get<std::string>();
  return out->size() <= max_bytes && IsValidUtf8(*out);
}

static size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

static net::Response ReportRun(SiteCall& call) {
  net::Response error;
  std::optional<json> body = ReadJsonBody(call, kMaxJsonBytes, &error);
  if (!body) return error;
  RunReport run;
  if (!TextMember(*body, "result", 16, &run.result) || (run.result != "success" && run.result != "failure")) {
    return BadMember(call, "result");
  }
  if (!TextMember(*body, "kind", 16, &run.kind) || (!run.kind.empty() && !ParseKind(run.kind))) {
    return BadMember(call, "kind");
  }
  if (!TextMember(*body, "snapshot", 64, &run.snapshot) ||
      (!run.snapshot.empty() && !IsHexId(run.snapshot, 64))) {
    return BadMember(call, "snapshot");
  }
  if (!TextMember(*body, "message", 8000, &run.message) || CodePoints(run.message) > 2000) {
    return BadMember(call, "message");
  }
  if (!TextMember(*body, "started", 64, &run.started)) return BadMember(call, "started");
  if (!TextMember(*body, "finished", 64, &run.finished)) return BadMember(call, "finished");
  if (body->contains("schedule")) {
    const json& s = (*body)["schedule"];
    if (!s.is_object() || !TextMember(s, "time", 64, &run.schedule_time) ||
        !TextMember(s, "timezone", 64, &run.schedule_timezone) ||
        !TextMember(s, "days", 64, &run.schedule_days)) {
      return BadMember(call, "schedule");
    }
  }
  Status st = call.deps.catalog->RecordRun(call.repo.id, run);
  if (!st.ok()) return call.Refuse(500, "internal", kInternal, st.ToString());
  net::Response r;
  r.status = 204;
  return r;
}

static net::Response Generations(SiteCall& call) {
  Result<std::vector<SnapshotRecord>> list = call.deps.catalog->ListSnapshotRecords(call.repo.id);
  if (!list.ok()) return call.Refuse(500, "internal", kInternal, list.status().ToString());
  json gens = json::array();
  for (const SnapshotRecord& s : *list) {
    gens.push_back({{"snapshot", s.name},
                    {"kind", s.kind},
                    {"received", FormatUtc(s.received_at_ms / 1000)},
                    {"bytes", s.bytes},
                    {"state", s.state}});
  }
  // Quotas come with the capacity work (issue 7 §4): 0 means "no quota set".
  return ApiJson(
      200, {{"generations", gens}, {"quota", {{"used", 0}, {"soft", 0}, {"hard", 0}, {"remaining", 0}}}});
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

// Reads, lists and deletes: the restore grant's calls (§5) and calls nobody may make.
// Registered so that a site credential gets 403 (audited), not 404 or 405.
void AddForbiddenRoutes(net::Router& router, ApiDeps& deps) {
  for (const char* path : {"/v1/repos/{repo}/config", "/v1/repos/{repo}/keys", "/v1/repos/{repo}/snapshots",
                           "/v1/repos/{repo}/packs"}) {
    router.Add("GET", path, ForbiddenRoute(deps, "object.read"));
  }
  for (const char* path :
       {"/v1/repos/{repo}/keys/{id}", "/v1/repos/{repo}/snapshots/{id}", "/v1/repos/{repo}/packs/{id}"}) {
    router.Add("GET", path, ForbiddenRoute(deps, "object.read"));
    router.Add("DELETE", path, ForbiddenRoute(deps, "object.delete"));
  }
  router.Add("DELETE", "/v1/repos/{repo}/config", ForbiddenRoute(deps, "object.delete"));
  router.Add("DELETE", "/v1/repos/{repo}", ForbiddenRoute(deps, "repository.delete"));
  router.Add("GET", "/v1/repos/{repo}", ForbiddenRoute(deps, "repository.read"));
  router.Add("GET", "/v1/repos", ForbiddenRoute(deps, "repository.list"));
  router.Add("POST", "/v1/repos/{repo}/lock", ForbiddenRoute(deps, "repository.lock"));
}

}  // namespace kura::vault
