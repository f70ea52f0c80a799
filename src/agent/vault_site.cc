#include "agent/vault_site.h"

#include <nlohmann/json.hpp>

#include "engine/send_packs.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/json_read.h"

namespace kura {

using nlohmann::json;

std::string VaultStateDir(const std::string& state_dir) {
  return state_dir + "/vault";
}
std::string VaultCredentialPath(const std::string& state_dir) {
  return VaultStateDir(state_dir) + "/credential";
}

static std::string EnrolmentPath(const std::string& state_dir) {
  return VaultStateDir(state_dir) + "/enrolment.json";
}

Status SaveEnrolment(const std::string& state_dir, const VaultEnrolment& e) {
  KURA_RETURN_IF_ERROR(MakeDirs(VaultStateDir(state_dir), 0700));
  json j = {{"version", kVaultEnrolmentVersion},
            {"url", e.url},
            {"fingerprint", e.fingerprint},
            {"tenant", e.tenant},
            {"site", e.site},
            {"site_id", e.site_id},
            {"recovery_public_key", e.recovery_public_key},
            {"enrolled", FormatUtc(e.enrolled)}};
  std::string text = DumpStateJson(j);
  return WriteFileAtomic(EnrolmentPath(state_dir), AsBytes(text), 0600);
}

Result<VaultEnrolment> LoadEnrolment(const std::string& state_dir) {
  const std::string path = EnrolmentPath(state_dir);
  auto text = ReadTextFile(path);
  if (!text.ok() && text.status().code() == Code::kNotFound) {
    return Status::NotFound(
        Tr("この拠点は保管庫に登録されていません ({} がありません)。kura init --vault URL --enroll "
           "で登録してください",
           "this site is not enrolled with a vault ({} is missing); enrol with kura init --vault URL "
           "--enroll",
           path));
  }
  KURA_RETURN_IF_ERROR(text.status());
  json j = json::parse(*text, nullptr, false);
  std::string problem;
  JsonView v(&j, "", &problem);
  if (j.is_discarded() || !j.is_object()) problem = "not a JSON object";
  VaultEnrolment e;
  if (problem.empty()) {
    if (v.Int("version", 0) > kVaultEnrolmentVersion) {
      return Status::Unsupported(
          Tr("{} はこの kura より新しい形式です", "{} has a newer format than this kura", path));
    }
    for (const char* key : {"url", "fingerprint", "recovery_public_key"}) v.Require(key);
    e.url = v.String("url");
    e.fingerprint = v.String("fingerprint");
    e.tenant = v.String("tenant");
    e.site = v.String("site");
    e.site_id = v.Int("site_id");
    e.recovery_public_key = v.String("recovery_public_key");
    ParseUtc(v.String("enrolled"), &e.enrolled);
  }
  if (!problem.empty()) {
    return Status::Corruption(
        Tr("保管庫の登録情報 {} が壊れています ({})。kura init --vault で登録し直してください",
           "the vault enrolment file {} is damaged ({}); enrol again with kura init --vault", path, problem));
  }
  return e;
}

static bool SameUrl(std::string a, std::string b) {
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return a == b;
}

Result<std::unique_ptr<VaultClient>> OpenVault(const std::string& state_dir, const std::string& url,
                                               const std::string& repo_id, const std::string& job,
                                               RetryOptions retry) {
  KURA_ASSIGN_OR_RETURN(VaultEnrolment e, LoadEnrolment(state_dir));
  if (!SameUrl(e.url, url)) {
    return Status::InvalidArgument(
        Tr("この拠点は保管庫 {} に登録されています ({} ではありません)。設定の vault を確認するか、kura init "
           "--vault で登録し直してください",
           "this site is enrolled with the vault {}, not {}; check `vault` in the config or "
           "enrol again with kura init --vault",
           e.url, url));
  }
  KURA_ASSIGN_OR_RETURN(net::Fingerprint pin, net::Fingerprint::Parse(e.fingerprint));
  VaultOptions o;
  o.url = e.url;
  o.pin = pin;
  o.credential_file = VaultCredentialPath(state_dir);
  o.repository = repo_id;
  o.job = job;
  o.retry = std::move(retry);
  return VaultClient::Create(std::move(o));
}

Result<EnrolResult> EnrolSite(const std::string& state_dir, const std::string& url, const EnrolmentCode& code,
                              const std::string& host, Repository& repo, const std::string& job,
                              const RetryOptions& retry) {
  EnrolResult out;
  {
    VaultOptions o;
    o.url = url;
    o.pin = code.fingerprint;  // pinned before the code is sent: no trust on first use
    o.retry = retry;
    KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> anonymous, VaultClient::Create(std::move(o)));
    KURA_ASSIGN_OR_RETURN(EnrolAnswer answer, anonymous->Enrol(code, host));
    KURA_RETURN_IF_ERROR(MakeDirs(VaultStateDir(state_dir), 0700));
    KURA_RETURN_IF_ERROR(StoreCredential(VaultCredentialPath(state_dir), answer.credential));
    std::fill(answer.credential.begin(), answer.credential.end(), '\0');
    out.enrolment.url = url;
    while (!out.enrolment.url.empty() && out.enrolment.url.back() == '/') out.enrolment.url.pop_back();
    out.enrolment.fingerprint = code.fingerprint.ToString();
    out.enrolment.tenant = answer.tenant;
    out.enrolment.site = answer.site;
    out.enrolment.site_id = answer.site_id;
    out.enrolment.recovery_public_key = ToHex(answer.recovery_public_key);
    out.enrolment.enrolled = answer.vault_time;
    KURA_RETURN_IF_ERROR(SaveEnrolment(state_dir, out.enrolment));
  }
  KURA_ASSIGN_OR_RETURN(std::vector<KeySlot> slots, repo.ListKeys());
  for (const KeySlot& s : slots) {
    if (s.kind == KeySlotKind::kRecovery && s.intact &&
        s.doc.value("recovery_public_key", "") == out.enrolment.recovery_public_key) {
      out.recovery_slot = s.id;
    }
  }
  if (out.recovery_slot.empty()) {
    KeySlotInfo info;
    info.label = "vault recovery (" + out.enrolment.tenant + ")";
    info.host = host;
    info.created = FormatUtc(SystemClock().NowUnix());
    Bytes key = FromHex(out.enrolment.recovery_public_key).value_or(Bytes{});
    KURA_ASSIGN_OR_RETURN(out.recovery_slot, repo.AddRecoveryKey(key, info));
    out.slot_added = true;
  }
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<VaultClient> client,
                        OpenVault(state_dir, url, repo.id(), job, retry));
  KURA_RETURN_IF_ERROR(RegisterRepository(repo, *client));
  return out;
}

}  // namespace kura
