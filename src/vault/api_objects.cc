// PUT /v1/repos/{repo}/config?job= and PUT /v1/repos/{repo}/keys/{id} (docs/vault-api.md
// §4.1, §4.2): small objects, read whole (they are bounded by their routes).
#include "objstore/local_store.h"
#include "repo/config.h"
#include "repo/keys.h"
#include "util/hex.h"
#include "vault/api.h"
#include "vault/log.h"

namespace kura::vault {

using nlohmann::json;

static bool IsJobName(std::string_view job) {
  if (job.empty() || job.size() > 64) return false;
  for (char c : job) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

static const Msg kInternal{"保管庫の内部エラーです。時間をおいて再試行してください",
                           "internal error of the vault; retry later"};

static net::Response StoreFailed(SiteCall& call, const Status& st) {
  LogError("{} {}: {}", call.action, call.target, st.ToString());
  int status = st.code() == Code::kNoSpace ? 507 : 500;
  return call.Refuse(status, status == 507 ? "insufficient_storage" : "internal",
                     status == 507 ? Msg{"保管庫の容量が足りません。販売元に連絡してください",
                                         "the vault is out of space; contact the vendor"}
                                   : kInternal,
                     st.ToString());
}

static net::Response PutConfig(SiteCall& call) {
  auto job_it = call.req.query.find("job");
  std::string job = job_it == call.req.query.end() ? "" : job_it->second;
  if (!IsJobName(job)) {
    return call.Refuse(400, "bad_request",
                       {"job には 1〜64 文字の英数字と . _ - を指定してください",
                        "job must be 1-64 characters of letters, digits, '.', '_' and '-'"},
                       "bad job name");
  }
  Result<std::string> text = net::ReadAll(*call.req.body, kMaxConfigBytes);
  if (!text.ok())
    return call.Refuse(400, "bad_request", {"本文を読めませんでした", "the body could not be read"},
                       text.status().ToString());
  ByteView bytes = AsBytes(*text);
  Result<RepoConfig> config = RepoConfig::Parse(bytes, "upload");
  if (!config.ok() || config->id != call.repo_id) {
    return call.Refuse(400, "bad_object",
                       {"リポジトリの設定として読めないか、別のリポジトリのものです",
                        "the body is not a repository config, or it names another repository"},
                       config.ok() ? "config id " + config->id : config.status().ToString());
  }
  crypto::Hash sha = crypto::Sha256(bytes);
  Result<bool> bound = call.deps.catalog->BindRepository(call.who.site_id, job, call.repo_id,
                                                         ToHex(ByteView(sha.data(), sha.size())), call.actor);
  if (!bound.ok()) {  // BindRepository audited the refusal
    if (bound.status().code() == Code::kPermissionDenied) {
      return ApiError(call.req, 403, "forbidden",
                      {"この認証情報ではこの操作はできません", "this credential does not allow this call"});
    }
    if (bound.status().code() == Code::kAlreadyExists) {
      return ApiError(
          call.req, 409, "conflict",
          {"このリポジトリまたはジョブは別の設定で登録済みです。設定は置き換えられません",
           "this repository or job is registered with another config; configs are never replaced"});
    }
    return StoreFailed(call, bound.status());
  }
  // The binding first, then the file: a repeat (same bytes) writes a config a crash lost.
  Result<std::unique_ptr<LocalStore>> area = call.Area(true);
  if (!area.ok()) return StoreFailed(call, area.status());
  Result<Bytes> existing = (*area)->Get(ObjectType::kConfig, "config");
  if (!existing.ok()) {
    Status st = (*area)->Put(ObjectType::kConfig, "config", bytes);
    if (!st.ok()) return StoreFailed(call, st);
  }
  return ApiJson(*bound ? 201 : 200, {{"repository", call.repo_id}, {"job", job}, {"created", *bound}});
}

static net::Response PutKey(SiteCall& call) {
  const std::string& id = call.req.params["id"];
  if (!IsLowerHex(id, 64)) {
    return call.Refuse(400, "bad_request",
                       {"鍵スロットの名前が正しくありません", "the key slot name is not valid"}, "bad name");
  }
  Result<std::string> text = net::ReadAll(*call.req.body, kMaxKeyBytes);
  if (!text.ok())
    return call.Refuse(400, "bad_request", {"本文を読めませんでした", "the body could not be read"},
                       text.status().ToString());
  ByteView bytes = AsBytes(*text);
  crypto::Hash sha = crypto::Sha256(bytes);
  if (ToHex(ByteView(sha.data(), sha.size())) != id) {
    return call.Refuse(400, "digest_mismatch",
                       {"本文の SHA-256 が名前と一致しません。もう一度送ってください",
                        "the body's SHA-256 is not its name; send it again"},
                       "sha256 mismatch");
  }
  Result<KeySlot> slot = ParseKeySlot(id, bytes);
  std::string slot_repo = slot.ok() && slot->doc.contains("repository") && slot->doc["repository"].is_string()
                              ? slot->doc["repository"].get<std::string>()
                              : "";
  if (!slot.ok() || slot_repo != call.repo_id) {
    return call.Refuse(400, "bad_object",
                       {"鍵スロットとして読めないか、別のリポジトリのものです",
                        "the body is not a key slot, or it belongs to another repository"},
                       slot.ok() ? "slot of repository " + slot_repo : slot.status().ToString());
  }
  KeySlotRecord rec{id, std::string(KeySlotKindName(slot->kind)), "", bytes.size()};
  if (slot->kind == KeySlotKind::kRecovery) {
    const json& pub = slot->doc["recovery_public_key"];
    if (!pub.is_string() || !IsLowerHex(pub.get<std::string>(), 64)) {
      return call.Refuse(400, "bad_object",
                         {"復旧用スロットに公開鍵がありません", "the recovery slot has no valid public key"},
                         "recovery slot without public key");
    }
    rec.recovery_public_key = pub.get<std::string>();
  }
  Result<std::unique_ptr<LocalStore>> area = call.Area(false);
  if (!area.ok()) return StoreFailed(call, area.status());
  Status st = (*area)->Put(ObjectType::kKey, id, bytes);  // a no-op when it is there
  if (!st.ok()) return StoreFailed(call, st);
  Result<bool> created = call.deps.catalog->RecordKeySlot(call.repo.id, rec, call.actor);
  if (!created.ok()) return StoreFailed(call, created.status());
  return ApiJson(*created ? 201 : 200, {{"key", id}, {"kind", rec.kind}, {"stored", *created}});
}

void AddObjectRoutes(net::Router& router, ApiDeps& deps) {
  router.Add("PUT", "/v1/repos/{repo}/config",
             SiteRoute(deps, "config.upload", RepoCheck::kIdOnly, PutConfig),
             net::RouteOptions{kMaxConfigBytes});
  router.Add("PUT", "/v1/repos/{repo}/keys/{id}", SiteRoute(deps, "key.upload", RepoCheck::kBound, PutKey),
             net::RouteOptions{kMaxKeyBytes});
}

}  // namespace kura::vault
