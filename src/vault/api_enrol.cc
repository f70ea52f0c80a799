// POST /v1/enrol (docs/vault-api.md §3): an enrolment code for a site credential.
#include "kura/version.h"
#include "util/hex.h"
#include "vault/api.h"
#include "vault/api_bodies.h"
#include "vault/log.h"
#include "vault/tokens.h"

namespace kura::vault {

using nlohmann::json;

static const Msg kInvalid{
    "登録コードが正しくないか、使用済みか、期限切れです。販売元に新しい登録コードを発行してもらってください",
    "the enrolment code is unknown, used or expired; ask the vendor for a new one"};

static net::Response Enrol(ApiDeps& deps, net::Request& req) {
  AuditActor actor = AnonymousActor(req);
  auto refuse = [&](int status, std::string_view code, const Msg& msg, const std::string& target,
                    const std::string& detail) {
    (void)deps.catalog->Audit({actor, "enrolment.redeem", target,
                               std::string(status == 401 ? kAuditRefused : kAuditFailure),
                               std::string(code) + ": " + detail});
    return ApiError(req, status, code, msg);
  };
  Result<std::string> text = net::ReadAll(*req.body, 16384);
  if (!text.ok()) {
    return refuse(400, "bad_request",
                  {"リクエストの本文を読めませんでした", "the request body could not be read"}, "enrolment:?",
                  text.status().ToString());
  }
  Result<EnrolRequest> body = ParseEnrolRequest(*text);
  if (!body.ok()) {
    return refuse(400, "bad_request",
                  {"本文は {\"code\": \"KURA1-…\", \"host\": …} の JSON にしてください",
                   "the body must be JSON {\"code\": \"KURA1-…\", \"host\": …}"},
                  "enrolment:?", "malformed request: " + body.status().message());
  }
  const std::string& host = body->host;
  const std::string& version = body->kura_version;
  actor.terminal = host.substr(0, 128);
  std::optional<EnrolmentCodeParts> code = ParseEnrolmentCode(body->code);
  if (!code) return refuse(401, "enrolment_invalid", kInvalid, "enrolment:?", "malformed code");
  // The agent pinned the fingerprint of the code before it connected; a code naming
  // another certificate was made for another vault (or forged).
  if (code->fingerprint != ToHex(ByteView(deps.fingerprint.bytes.data(), deps.fingerprint.bytes.size()))) {
    return refuse(401, "enrolment_invalid", kInvalid, "enrolment:?", "code names another certificate");
  }
  Result<int64_t> tenant_id = deps.catalog->EnrolmentTenant(code->secret);
  if (tenant_id.ok()) {
    Result<Tenant> tenant = deps.catalog->GetTenant(*tenant_id);
    if (tenant.ok() && tenant->recovery_public_key.empty()) {
      return refuse(409, "no_recovery_key",
                    {"このテナントには復旧用の公開鍵がまだ登録されていません。販売元が kura-vault tenant "
                     "set-recovery-key で登録してから、もう一度登録してください",
                     "this tenant has no recovery public key yet; the vendor must set one (kura-vault tenant "
                     "set-recovery-key) before the site can enrol"},
                    "tenant:" + std::to_string(*tenant_id), "no recovery public key");
    }
  }
  Result<SiteCredential> cred = deps.catalog->RedeemEnrolment(code->secret, actor);  // audits both ways
  if (!cred.ok()) {
    if (cred.status().code() == Code::kUnauthorized) return ApiError(req, 401, "enrolment_invalid", kInvalid);
    LogError("enrolment: {}", cred.status().ToString());
    return ApiError(req, 500, "internal",
                    {"保管庫の内部エラーです。時間をおいて再試行してください",
                     "internal error of the vault; retry later"});
  }
  Result<Site> site = deps.catalog->GetSite(cred->site_id);
  Result<Tenant> tenant = deps.catalog->GetTenant(cred->tenant_id);
  if (!site.ok() || !tenant.ok()) {
    return ApiError(req, 500, "internal",
                    {"保管庫の内部エラーです。時間をおいて再試行してください",
                     "internal error of the vault; retry later"});
  }
  LogInfo("site {} of tenant {} enrolled from {} (host {}, kura {})", site->id, tenant->id, req.peer_ip,
          EscapeForLog(host), EscapeForLog(version));
  return ApiJson(201, {{"api", kApiVersion},
                       {"tenant", tenant->name},
                       {"site", site->name},
                       {"site_id", site->id},
                       {"credential", cred->token},
                       {"recovery_public_key", tenant->recovery_public_key},
                       {"vault_time", FormatUtc(deps.clock->NowUnix())}});
}

void AddEnrolRoutes(net::Router& router, ApiDeps& deps) {
  router.Add(
      "POST", "/v1/enrol", [&deps](net::Request& req) { return Enrol(deps, req); }, net::RouteOptions{16384});
  router.Add("GET", "/v1/health", [](net::Request&) {
    return ApiJson(200, {{"status", "ok"}, {"api", kApiVersion}, {"version", kKuraVersion}});
  });
}

}  // namespace kura::vault
