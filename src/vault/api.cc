#include "vault/api.h"

#include <strings.h>

#include "objstore/local_store.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "vault/log.h"

namespace kura::vault {

using nlohmann::json;

bool PrefersEnglish(const net::Request& req) {
  auto v = req.headers.Get("Accept-Language");
  if (!v) return false;
  std::string_view s = *v;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s.size() >= 2 && ::strncasecmp(s.data(), "en", 2) == 0;
}

net::Response ApiJson(int status, const json& body) {
  net::Response r = net::Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

net::Response ApiError(const net::Request& req, int status, std::string_view code, const Msg& msg,
                       const json& extra) {
  json j = extra.is_object() ? extra : json::object();
  j["code"] = std::string(code);
  j["message"] = PrefersEnglish(req) ? msg.en : msg.ja;
  j["message_ja"] = msg.ja;
  j["message_en"] = msg.en;
  net::Response r = ApiJson(status, j);
  if (status == 401) r.headers.Set("WWW-Authenticate", "Bearer");
  return r;
}

AuditActor AnonymousActor(const net::Request& req) {
  std::string agent(req.headers.Get("User-Agent").value_or(""));
  return AuditActor{"site", "anonymous", req.peer_ip, "", agent.substr(0, 128)};
}

std::optional<net::Response> RefuseOtherBytes(SiteCall& call, const std::string& id,
                                              const Msg& never_replaced) {
  Result<BodyDigest> digest = StreamBody(*call.req.body, nullptr, {});
  if (!digest.ok()) {
    return call.Refuse(400, "bad_request", {"本文が途中で終わりました", "the body ended early"},
                       digest.status().ToString());
  }
  if (ToHex(ByteView(digest->sha256.data(), 32)) != id) {
    return call.Refuse(403, "forbidden", never_replaced, "overwrite attempt with other bytes");
  }
  return std::nullopt;
}

bool IsRepoId(std::string_view s) {
  return IsLowerHex(s, 32) || IsLowerHex(s, 64);
}

net::Response SiteCall::Refuse(int status, std::string_view code, const Msg& msg, const std::string& detail,
                               const json& extra) {
  AuditEvent event{actor, action, target,
                   std::string(status == 401 || status == 403 ? kAuditRefused : kAuditFailure),
                   std::string(code) + (detail.empty() ? "" : ": " + detail)};
  Result<AuditRecord> rec = deps.catalog->Audit(event);
  if (!rec.ok()) LogError("audit of a refused {} failed: {}", action, rec.status().ToString());
  LogInfo("refused {} {} from {} ({}): {} {}", req.method, req.path, req.peer_ip, actor.id, status, code);
  return ApiError(req, status, code, msg, extra);
}

Result<std::unique_ptr<LocalStore>> SiteCall::Area(bool create) const {
  return LocalStore::Open(deps.objects_dir + "/" + repo_id, create);
}

static const Msg kUnauthorized{
    "認証情報がないか正しくありません。サイトの登録をやり直すか、販売元に連絡してください",
    "no valid credential was presented; enrol the site again or contact the vendor"};

static const Msg kForbidden{"この認証情報ではこの操作はできません",
                            "this credential does not allow this call"};

// Bearer token from the Authorization header; empty when there is none.
static std::string BearerToken(const net::Request& req) {
  auto v = req.headers.Get("Authorization");
  if (!v) return {};
  std::string_view s = *v;
  if (s.size() < 7 || ::strncasecmp(s.data(), "Bearer ", 7) != 0) return {};
  s.remove_prefix(7);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

static std::string TargetOf(const net::Request& req) {
  auto it = req.params.find("repo");
  std::string t = it == req.params.end() ? req.path : "repository:" + it->second;
  auto id = req.params.find("id");
  if (id != req.params.end()) t += "/" + id->second;
  return t;
}

// Authenticates the caller; on failure answers 401 (audited) in `*error`.
static std::optional<SiteIdentity> Authenticate(ApiDeps& deps, net::Request& req, const std::string& action,
                                                net::Response* error) {
  AuditActor anon = AnonymousActor(req);
  std::string token = BearerToken(req);
  if (token.empty()) {
    (void)deps.catalog->Audit(
        {anon, action, TargetOf(req), std::string(kAuditRefused), "unauthorized: no bearer token"});
    *error = ApiError(req, 401, "unauthorized", kUnauthorized);
    return std::nullopt;
  }
  anon.terminal = anon.terminal.empty() ? action : anon.terminal;
  Result<SiteIdentity> who = deps.catalog->AuthenticateSite(token, anon);  // audits its refusals
  if (!who.ok()) {
    *error = ApiError(req, 401, "unauthorized", kUnauthorized);
    return std::nullopt;
  }
  return *who;
}

static AuditActor SiteActor(const net::Request& req, const SiteIdentity& who) {
  AuditActor a = AnonymousActor(req);
  a.id = "credential:" + std::to_string(who.credential_id);
  a.site = "site:" + std::to_string(who.site_id);
  return a;
}

net::Handler SiteRoute(ApiDeps& deps, std::string action, RepoCheck check, SiteHandler handler) {
  return [&deps, action = std::move(action), check, handler = std::move(handler)](net::Request& req) {
    net::Response error;
    std::optional<SiteIdentity> who = Authenticate(deps, req, action, &error);
    if (!who) return error;
    SiteCall call{req, deps, *who, SiteActor(req, *who), "", {}, action, TargetOf(req)};
    if (who->scope != "append") return call.Refuse(403, "forbidden", kForbidden, "scope " + who->scope);
    if (check != RepoCheck::kNone) {
      call.repo_id = req.params["repo"];
      // A malformed ID is refused like a foreign one: the answer tells nothing.
      if (!IsRepoId(call.repo_id))
        return call.Refuse(403, "forbidden", kForbidden, "malformed repository ID");
    }
    if (check == RepoCheck::kBound) {
      Result<BoundRepository> repo = deps.catalog->FindBoundRepository(call.repo_id);
      if (!repo.ok() && repo.status().code() != Code::kNotFound) {
        LogError("catalog: {}", repo.status().ToString());
        return ApiError(req, 500, "internal",
                        {"保管庫の内部エラーです。時間をおいて再試行してください",
                         "internal error of the vault; retry later"});
      }
      if (!repo.ok() || repo->site_id != who->site_id) {
        return call.Refuse(403, "forbidden", kForbidden,
                           repo.ok() ? "repository of another site" : "repository not registered");
      }
      call.repo = *repo;
    }
    return handler(call);
  };
}

net::Handler ForbiddenRoute(ApiDeps& deps, std::string action) {
  return [&deps, action = std::move(action)](net::Request& req) {
    net::Response error;
    std::optional<SiteIdentity> who = Authenticate(deps, req, action, &error);
    if (!who) return error;
    SiteCall call{req, deps, *who, SiteActor(req, *who), "", {}, action, TargetOf(req)};
    return call.Refuse(403, "forbidden", kForbidden, "not allowed for scope " + who->scope);
  };
}

Result<BodyDigest> StreamBody(net::BodyReader& body, LocalObjectWriter* writer,
                              const std::function<void(ByteView)>& observe) {
  crypto::Sha256Stream sha;
  BodyDigest out;
  // 1 MiB pieces: each Read is one hand-off from the connection's I/O thread, so larger
  // pieces mean fewer thread switches per GiB received (bench/vault.sh).
  std::vector<uint8_t> buf(size_t{1} << 20);
  for (;;) {
    KURA_ASSIGN_OR_RETURN(size_t n, body.Read(buf.data(), buf.size()));
    if (n == 0) break;
    ByteView piece(buf.data(), n);
    sha.Update(piece);
    if (observe) observe(piece);
    if (writer != nullptr) KURA_RETURN_IF_ERROR(writer->Write(piece));
    out.size += n;
  }
  out.sha256 = sha.Finish();
  return out;
}

}  // namespace kura::vault
