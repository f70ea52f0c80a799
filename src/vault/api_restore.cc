// Restore (docs/vault-api.md §5): POST /v1/grants/redeem and the read-only calls of a
// restore session. A site credential reaching these reads is refused 403 (§1); a session
// reads only its grant's repository and snapshot; every call is audited with the grant.
#include <strings.h>
#include <sys/stat.h>

#include "objstore/local_store.h"
#include "util/hex.h"
#include "vault/api.h"
#include "vault/api_bodies.h"
#include "vault/log.h"
#include "vault/tokens.h"

namespace kura::vault {

using nlohmann::json;

static const Msg kForbidden{"この認証情報ではこの操作はできません",
                            "this credential does not allow this call"};
static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};
static const Msg kNotFound{"そのオブジェクトはありません", "there is no such object"};

static std::string Bearer(const net::Request& req) {
  auto v = req.headers.Get("Authorization");
  if (!v || v->size() < 7 || ::strncasecmp(v->data(), "Bearer ", 7) != 0) return {};
  std::string t(v->substr(7));
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

static net::Response Redeem(ApiDeps& deps, net::Request& req) {
  AuditActor actor = AnonymousActor(req);
  Result<std::string> text = net::ReadAll(*req.body, 4096);
  json body = text.ok() ? json::parse(*text, nullptr, false) : json();
  if (!body.is_object() || !body.contains("grant") || !body["grant"].is_string()) {
    (void)deps.catalog->Audit({actor, "grant.redeem", "grant:?", std::string(kAuditFailure), "bad_request"});
    return ApiError(req, 400, "bad_request",
                    {"本文は {\"grant\": \"kgr1_…\"} の JSON にしてください",
                     "the body must be {\"grant\": \"kgr1_…\"}"});
  }
  std::string refusal;
  Result<RestoreSession> s =
      deps.catalog->RedeemGrant(body["grant"].get<std::string>(), actor, &refusal);  // audited
  if (!s.ok()) {
    if (s.status().code() == Code::kPermissionDenied && refusal == "grant_not_approved") {
      return ApiError(
          req, 403, "grant_not_approved",
          {"この復元の許可はサイトの管理者に承認されていません (承認待ちか却下)。承認後にやり直してください",
           "the site's administrator has not approved this restore grant (pending or denied); try "
           "again once it is approved"});
    }
    if (s.status().code() == Code::kPermissionDenied) {
      return ApiError(req, 403, "grant_used",
                      {"この復元の許可はすでに使われています。新しい許可を発行してもらってください",
                       "this restore grant was already redeemed; ask for a new one"});
    }
    if (s.status().code() == Code::kUnauthorized) {
      return ApiError(
          req, 401, "unauthorized",
          {"復元の許可が正しくないか期限切れです", "the restore grant is not valid or has expired"});
    }
    LogError("grant redeem: {}", s.status().ToString());
    return ApiError(req, 500, "internal", kInternal);
  }
  return ApiJson(201, {{"session", s->token},
                       {"repository", s->repo_id},
                       {"snapshot", s->snapshot},
                       {"expires", FormatUtc(s->expires_at)}});
}

enum class ReadKind { kConfig, kKeyList, kKey, kSnapshotList, kSnapshot, kPackList, kPack };

struct Range {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// "bytes=a-b", "bytes=a-", "bytes=-n" against `size`. nullopt: no (usable) Range, answer
// the whole object; `*unsatisfiable` for a range outside the object (416).
static std::optional<Range> ParseRange(std::string_view v, uint64_t size, bool* unsatisfiable) {
  *unsatisfiable = false;
  if (!v.starts_with("bytes=") || v.find(',') != std::string_view::npos) return std::nullopt;
  v.remove_prefix(6);
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = n;
    return true;
  };
  uint64_t a = 0;
  uint64_t b = 0;
  std::string_view first = v.substr(0, dash);
  std::string_view last = v.substr(dash + 1);
  if (first.empty()) {  // the last n bytes
    if (!num(last, &b) || b == 0) return std::nullopt;
    b = std::min(b, size);
    if (size == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    return Range{size - b, b};
  }
  if (!num(first, &a)) return std::nullopt;
  if (a >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  if (last.empty()) return Range{a, size - a};
  if (!num(last, &b) || b < a) return std::nullopt;
  return Range{a, std::min(b, size - 1) - a + 1};
}

static net::Response ServeFile(net::Request& req, const std::string& path, bool ranges) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return ApiError(req, 404, "not_found", kNotFound);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  net::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "application/octet-stream");
  r.headers.Set("Cache-Control", "no-store");
  r.file_path = path;
  if (!ranges) return r;
  r.headers.Set("Accept-Ranges", "bytes");
  auto header = req.headers.Get("Range");
  if (!header) return r;
  bool unsatisfiable = false;
  std::optional<Range> range = ParseRange(*header, size, &unsatisfiable);
  if (unsatisfiable) {
    net::Response e =
        ApiError(req, 416, "range_not_satisfiable",
                 {"指定された範囲はオブジェクトの外です", "the requested range is outside the object"});
    e.headers.Set("Content-Range", "bytes */" + std::to_string(size));
    return e;
  }
  if (!range) return r;
  r.status = 206;
  r.file_offset = range->offset;
  r.file_length = range->length;
  r.headers.Set("Content-Range", "bytes " + std::to_string(range->offset) + "-" +
                                     std::to_string(range->offset + range->length - 1) + "/" +
                                     std::to_string(size));
  return r;
}

static net::Response ServeList(LocalStore& store, ObjectType type, const char* member,
                               const std::string& only) {
  Result<std::vector<ObjectInfo>> list = store.List(type);
  json out = json::array();
  if (list.ok()) {
    for (const ObjectInfo& o : *list) {
      if (only.empty() || o.name == only) out.push_back({{"id", o.name}, {"size", o.size}});
    }
  }
  return ApiJson(200, {{member, out}});
}

static net::Response SessionRead(ApiDeps& deps, net::Request& req, const RestoreSession& s, ReadKind kind,
                                 const std::string& action) {
  AuditActor actor = AnonymousActor(req);
  actor.kind = "restore";
  actor.id = "grant:" + std::to_string(s.grant_id);
  std::string repo = req.params["repo"];
  std::string id = req.params.count("id") ? req.params["id"] : "";
  std::string target = "repository:" + repo + (id.empty() ? "" : "/" + id);
  auto audit = [&](std::string_view result, const std::string& detail) {
    (void)deps.catalog->Audit({actor, action, target, std::string(result), detail});
  };
  bool snapshot_ok = kind != ReadKind::kSnapshot || id == s.snapshot;
  if (repo != s.repo_id || !snapshot_ok) {
    audit(kAuditRefused, "forbidden: outside the grant");
    return ApiError(req, 403, "forbidden", kForbidden);
  }
  if (!id.empty() && !IsLowerHex(id, 64)) {
    audit(kAuditFailure, "not_found");
    return ApiError(req, 404, "not_found", kNotFound);
  }
  Result<std::unique_ptr<LocalStore>> area = LocalStore::Open(deps.objects_dir + "/" + repo, false);
  if (!area.ok()) {
    audit(kAuditFailure, area.status().ToString());
    return ApiError(req, 500, "internal", kInternal);
  }
  net::Response r;
  switch (kind) {
    case ReadKind::kConfig:
      r = ServeFile(req, (*area)->ObjectPath(ObjectType::kConfig, "config"), false);
      break;
    case ReadKind::kKeyList:
      r = ServeList(**area, ObjectType::kKey, "keys", "");
      break;
    case ReadKind::kKey:
      r = ServeFile(req, (*area)->ObjectPath(ObjectType::kKey, id), false);
      break;
    case ReadKind::kSnapshotList:
      r = ServeList(**area, ObjectType::kSnapshot, "snapshots", s.snapshot);
      break;
    case ReadKind::kSnapshot:
      r = ServeFile(req, (*area)->ObjectPath(ObjectType::kSnapshot, id), true);
      break;
    case ReadKind::kPackList:
      r = ServeList(**area, ObjectType::kPack, "packs", "");
      break;
    case ReadKind::kPack:
      r = ServeFile(req, (*area)->ObjectPath(ObjectType::kPack, id), true);
      break;
  }
  audit(r.status < 400 ? kAuditSuccess : kAuditFailure, "status=" + std::to_string(r.status));
  return r;
}

// A read: a restore session reads within its grant; anyone else is refused.
static net::Handler ReadRoute(ApiDeps& deps, ReadKind kind) {
  net::Handler refuse = ForbiddenRoute(deps, "object.read");
  return [&deps, kind, refuse](net::Request& req) {
    std::string token = Bearer(req);
    if (!token.starts_with(std::string(kSessionPrefix) + "_")) return refuse(req);
    Result<RestoreSession> s =
        deps.catalog->AuthenticateSession(token, AnonymousActor(req));  // audits refusals
    if (!s.ok()) {
      return ApiError(
          req, 401, "unauthorized",
          {"復元のセッションが正しくないか期限切れです", "the restore session is not valid or has expired"});
    }
    return SessionRead(deps, req, *s, kind, "restore.read");
  };
}

void AddRestoreRoutes(net::Router& router, ApiDeps& deps) {
  router.Add(
      "POST", "/v1/grants/redeem", [&deps](net::Request& req) { return Redeem(deps, req); },
      net::RouteOptions{4096});
  router.Add("GET", "/v1/repos/{repo}/config", ReadRoute(deps, ReadKind::kConfig));
  router.Add("GET", "/v1/repos/{repo}/keys", ReadRoute(deps, ReadKind::kKeyList));
  router.Add("GET", "/v1/repos/{repo}/keys/{id}", ReadRoute(deps, ReadKind::kKey));
  router.Add("GET", "/v1/repos/{repo}/snapshots", ReadRoute(deps, ReadKind::kSnapshotList));
  router.Add("GET", "/v1/repos/{repo}/snapshots/{id}", ReadRoute(deps, ReadKind::kSnapshot));
  router.Add("GET", "/v1/repos/{repo}/packs", ReadRoute(deps, ReadKind::kPackList));
  router.Add("GET", "/v1/repos/{repo}/packs/{id}", ReadRoute(deps, ReadKind::kPack));
}

}  // namespace kura::vault
