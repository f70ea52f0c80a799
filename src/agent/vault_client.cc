#include "agent/vault_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "kura/version.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/json_read.h"
#include "util/text.h"

namespace kura {

using nlohmann::json;

namespace {

constexpr std::string_view kCredentialPrefix = "kst1_";
constexpr size_t kSecretChars = 32;
constexpr size_t kFingerprintHex = 64;
// A Retry-After beyond this is capped: the send queue's own backoff takes over then.
constexpr std::chrono::milliseconds kMaxRetryAfter{std::chrono::minutes(5)};

std::string AcceptLanguage() {
  return CurrentLanguage() == Language::kEnglish ? "en" : "ja";
}

// 507 (quota_exceeded) is the vault's decision, not a passing fault: never retried.
bool RetryableStatus(int status) {
  return status == 408 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Retry-After in seconds (the vault sends delta-seconds, never a date).
std::optional<std::chrono::milliseconds> RetryAfter(const net::Headers& headers) {
  auto v = headers.Get("Retry-After");
  if (!v || v->empty() || v->size() > 6) return std::nullopt;
  int64_t s = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    s = s * 10 + (c - '0');
  }
  return std::min<std::chrono::milliseconds>(std::chrono::seconds(s), kMaxRetryAfter);
}

std::chrono::milliseconds Backoff(const RetryOptions& r, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double base = static_cast<double>(r.first_delay.count());
  for (int i = 1; i < attempt && base < static_cast<double>(r.max_delay.count()); ++i) base *= 2;
  base = std::min(base, static_cast<double>(r.max_delay.count()));
  // "Equal jitter": half fixed, half random, so agents cut off together spread out.
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
}

Result<json> ParseJsonBody(const std::string& url, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::IOError(Tr("保管庫 {} の応答を読めません (JSON ではありません)",
                              "cannot read the answer of the vault {} (not JSON)", url));
  }
  return j;
}

std::string JsonString(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
int64_t JsonInt(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
int64_t JsonTime(const json& j, const char* key) {
  std::string text = JsonString(j, key);
  // The vault writes "2026-12-02T05:00:00Z"; fractions of a second are dropped.
  if (size_t dot = text.find('.'); dot != std::string::npos && !text.empty() && text.back() == 'Z') {
    text = text.substr(0, dot) + "Z";
  }
  int64_t t = 0;
  return ParseUtc(text, &t) ? t : 0;
}

std::string JsonBody(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The advice for the one who restores through a grant: the site's advice (enrol again)
// would send a vendor's engineer the wrong way.
std::string RestoreAdvice(const std::string& code) {
  if (code == "unauthorized") {
    return L(
        "復元の許可かそのセッションが無効か期限切れです。保管庫の運用者に新しい許可を発行してもらってくださ"
        "い",
        "the restore grant or its session is not valid or has expired; ask the vault's operator for a new "
        "grant");
  }
  if (code == "forbidden") {
    return L("復元の許可はこのリポジトリとスナップショットにしか使えません",
             "a restore grant reads only its own repository and snapshot");
  }
  if (code == "grant_not_approved") {
    return L("サイトの管理者の承認が済むまでこの許可は使えません (使われずに残っています)",
             "the grant cannot be used until the site's administrator approves it (it is not used up)");
  }
  return "";
}

// The advice kura adds to a code whose vault message may not say what to do on the site.
std::string SiteAdvice(const std::string& code, bool restore) {
  if (restore) return RestoreAdvice(code);
  if (code == "quota_exceeded") {
    return L("保管庫の容量の上限に達しました。販売店に連絡してください",
             "the vault's storage quota is used up; contact the vendor");
  }
  if (code == "unauthorized" || code == "forbidden") {
    return L(
        "この拠点の資格情報が使えません。販売店に新しい登録コードを依頼し、kura init --vault "
        "で登録し直してください",
        "this site's credential is not accepted; ask the vendor for a new enrolment code and enrol again "
        "with kura init --vault");
  }
  if (code == "recovery_slot_missing") {
    return L("リポジトリに復旧用の鍵がありません。kura init --vault で登録し直してください",
             "the repository has no recovery key slot; enrol again with kura init --vault");
  }
  return "";
}

}  // namespace

Status VaultStatus(const std::string& url, int status, const std::string& code, const std::string& message,
                   bool restore) {
  std::string text = Tr("保管庫 {} が要求を断りました ({}, HTTP {}): {}",
                        "the vault {} refused the request ({}, HTTP {}): {}", url, code.empty() ? "?" : code,
                        status, message);
  if (std::string advice = SiteAdvice(code, restore);
      !advice.empty() && message.find(advice) == std::string::npos) {
    text += CurrentLanguage() == Language::kEnglish ? "; " + advice : "。" + advice;
  }
  if (code == "quota_exceeded" || status == 507) return Status::NoSpace(text);
  if (code == "unauthorized" || code == "enrolment_invalid" || status == 401)
    return Status::Unauthorized(text);
  if (code == "forbidden" || code == "grant_used" || code == "grant_not_approved" || status == 403)
    return Status::PermissionDenied(text);
  if (code == "missing_blobs" || code == "not_found" || status == 404) return Status::NotFound(text);
  if (code == "conflict") return Status::AlreadyExists(text);
  if (code == "held" || status == 423) return Status::Locked(text);
  if (code == "digest_mismatch" || code == "bad_pack" || code == "bad_object")
    return Status::Corruption(text);
  if (RetryableStatus(status)) return Status::Retryable(text);
  return Status::InvalidArgument(text);
}

Result<EnrolmentCode> ParseEnrolmentCode(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  const std::string code(text);
  const auto bad = [](std::string_view why_ja, std::string_view why_en) {
    return Status::InvalidArgument(
        Tr("登録コードの形が正しくありません ({})。販売店から届いた KURA1-… の文字列をそのまま渡してください",
           "the enrolment code is malformed ({}); give the KURA1-… text from the vendor as it is",
           CurrentLanguage() == Language::kEnglish ? why_en : why_ja));
  };
  const std::string prefix = "KURA1-";
  if (code.size() < prefix.size() ||
      !std::equal(prefix.begin(), prefix.end(), code.begin(),
                  [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); })) {
    return bad("KURA1- で始まりません", "it does not start with KURA1-");
  }
  if (code.size() != prefix.size() + kSecretChars + 1 + kFingerprintHex ||
      code[prefix.size() + kSecretChars] != '-') {
    return bad("長さが違います", "wrong length");
  }
  for (size_t i = prefix.size(); i < prefix.size() + kSecretChars; ++i) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(code[i])));
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
      return bad("秘密の部分に使えない文字があります", "bad character in the secret part");
  }
  std::string hex = code.substr(prefix.size() + kSecretChars + 1);
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto fp = net::Fingerprint::Parse(hex);
  if (!fp.ok()) return bad("証明書の指紋が読めません", "the certificate fingerprint does not parse");
  // Sent to the vault as given: the vault decides how it compares the secret.
  EnrolmentCode out;
  out.text = code;
  out.fingerprint = *fp;
  return out;
}

Status StoreCredential(const std::string& path, const std::string& credential) {
  return WriteFileAtomic(path, AsBytes(credential + "\n"), 0600);
}

Result<std::string> LoadCredential(const std::string& path) {
  KURA_RETURN_IF_ERROR(net::CheckKeyFileMode(path));
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.rfind(kCredentialPrefix, 0) != 0 || text.size() < kCredentialPrefix.size() + 16 ||
      text.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::InvalidArgument(
        Tr("{} に保管庫の資格情報がありません。kura init --vault で登録し直してください",
           "{} holds no vault credential; enrol again with kura init --vault", path));
  }
  return text;
}

VaultClient::VaultClient(VaultOptions options, std::string credential, std::unique_ptr<net::HttpClient> http)
    : options_(std::move(options)), credential_(std::move(credential)), http_(std::move(http)) {}

VaultClient::~VaultClient() {
  std::fill(credential_.begin(), credential_.end(), '\0');
}

Result<std::unique_ptr<VaultClient>> VaultClient::Create(VaultOptions options) {
  std::string credential;
  if (!options.session.empty()) {
    credential = options.session;
  } else if (!options.credential_file.empty()) {
    KURA_ASSIGN_OR_RETURN(credential, LoadCredential(options.credential_file));
  }
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  net::ClientOptions co;
  co.base_url = options.url;
  co.pin = options.pin;
  co.connect_timeout = options.connect_timeout;
  co.idle_timeout = options.idle_timeout;
  co.user_agent = std::string("kura/") + kKuraVersion;
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<net::HttpClient> http, net::HttpClient::Create(std::move(co)));
  if (!options.retry.sleep)
    options.retry.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  const bool restore = !options.session.empty();
  std::fill(options.session.begin(), options.session.end(), '\0');
  options.session.clear();  // one copy of the secret: credential_
  auto client = std::unique_ptr<VaultClient>(
      new VaultClient(std::move(options), std::move(credential), std::move(http)));
  client->restore_ = restore;
  return client;
}

std::string VaultClient::RepoPath(std::string_view rest) const {
  return "/v1/repos/" + options_.repository + std::string(rest);
}

Status VaultClient::MappedError(const net::ClientResponse& response) {
  json j = json::parse(response.body, nullptr, false);
  std::string code;
  std::string message;
  if (j.is_object()) {
    code = JsonString(j, "code");
    message = JsonString(j, CurrentLanguage() == Language::kEnglish ? "message_en" : "message_ja");
    if (message.empty()) message = JsonString(j, "message");
    if (code == "missing_blobs") {
      message += Tr(" (足りないデータ {} 個)", " ({} blobs missing)", JsonInt(j, "missing_count"));
    }
  }
  if (message.empty()) message = L("理由は示されませんでした", "no reason given");
  last_code_ = code;
  return VaultStatus(options_.url, response.status, code, message, restore_);
}

Result<net::ClientResponse> VaultClient::Call(net::ClientRequest request, bool authorised, bool retry) {
  request.headers.push_back({"Accept-Language", AcceptLanguage()});
  request.headers.push_back({"Accept", "application/json"});
  if (authorised) {
    if (credential_.empty()) {
      return Status::Unauthorized(L("保管庫の資格情報がありません。kura init --vault で登録してください",
                                    "no vault credential; enrol with kura init --vault"));
    }
    request.headers.push_back({"Authorization", "Bearer " + credential_});
  }
  const RetryOptions& r = options_.retry;
  Status last;
  for (int attempt = 1;; ++attempt) {
    ++requests_;
    last_code_.clear();
    Result<net::ClientResponse> sent = http_->Send(request);
    std::optional<std::chrono::milliseconds> wait_hint;
    if (sent.ok()) {
      if (sent->status >= 200 && sent->status < 300) return sent;
      last = MappedError(*sent);
      const bool again = retry ? RetryableStatus(sent->status) : sent->status == 503;
      if (!again) return last;
      wait_hint = RetryAfter(sent->headers);
    } else {
      last = sent.status();
      if (!retry || last.code() != Code::kRetryable) return last;
    }
    if (attempt >= r.max_attempts) return last;
    std::chrono::milliseconds delay = Backoff(r, attempt);
    if (wait_hint) delay = std::max(delay, *wait_hint);
    r.sleep(delay);
  }
}

Result<EnrolAnswer> VaultClient::Enrol(const EnrolmentCode& code, const std::string& host) {
  if (!code.fingerprint.Equals(options_.pin)) {
    return Status::InvalidArgument(L("登録コードの証明書の指紋が接続先と一致しません",
                                     "the enrolment code's certificate fingerprint is not the one pinned"));
  }
  net::ClientRequest req;
  req.method = "POST";
  req.path = "/v1/enrol";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = JsonBody({{"code", code.text}, {"host", host}, {"kura_version", kKuraVersion}});
  auto answer = Call(std::move(req), /*authorised=*/false, /*retry=*/false);
  KURA_RETURN_IF_ERROR(answer.status());
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, answer->body));
  EnrolAnswer out;
  out.tenant = JsonString(j, "tenant");
  out.site = JsonString(j, "site");
  out.site_id = JsonInt(j, "site_id");
  out.credential = JsonString(j, "credential");
  out.vault_time = JsonTime(j, "vault_time");
  std::optional<Bytes> key = FromHex(JsonString(j, "recovery_public_key"));
  if (out.credential.rfind(kCredentialPrefix, 0) != 0 || !key || key->size() != 32) {
    return Status::IOError(
        Tr("保管庫 {} の登録の応答に資格情報か復旧用公開鍵がありません。販売店に連絡してください",
           "the enrolment answer of the vault {} lacks the credential or the recovery public key; "
           "contact the vendor",
           options_.url));
  }
  out.recovery_public_key = std::move(*key);
  return out;
}

Status VaultClient::Health() {
  net::ClientRequest req;
  req.path = "/v1/health";
  return Call(std::move(req), /*authorised=*/false).status();
}

Status VaultClient::PutConfig(ByteView config) {
  net::ClientRequest req;
  req.method = "PUT";
  req.path = RepoPath("/config?job=" + options_.job);
  req.headers.push_back({"Content-Type", "application/octet-stream"});
  req.body.assign(reinterpret_cast<const char*>(config.data()), config.size());
  return Call(std::move(req)).status();
}

Status VaultClient::PutKey(const std::string& id, ByteView slot) {
  net::ClientRequest req;
  req.method = "PUT";
  req.path = RepoPath("/keys/" + id);
  req.headers.push_back({"Content-Type", "application/octet-stream"});
  req.body.assign(reinterpret_cast<const char*>(slot.data()), slot.size());
  return Call(std::move(req)).status();
}

Result<std::vector<crypto::Hash>> VaultClient::MissingBlobs(const std::vector<crypto::Hash>& ids) {
  json list = json::array();
  for (const crypto::Hash& h : ids) list.push_back(ToHex(h));
  net::ClientRequest req;
  req.method = "POST";
  req.path = RepoPath("/blobs/missing");
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = JsonBody({{"ids", std::move(list)}});
  KURA_ASSIGN_OR_RETURN(net::ClientResponse resp, Call(std::move(req)));
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, resp.body));
  std::vector<crypto::Hash> missing;
  auto it = j.find("missing");
  if (it == j.end() || !it->is_array()) {
    return Status::IOError(Tr("保管庫 {} の応答に missing がありません",
                              "the answer of the vault {} has no \"missing\"", options_.url));
  }
  for (const json& v : *it) {
    std::optional<Bytes> b = v.is_string() ? FromHex(v.get<std::string>()) : std::nullopt;
    if (!b || b->size() != crypto::kHashSize) {
      return Status::IOError(Tr("保管庫 {} の応答に読めない ID があります",
                                "the answer of the vault {} has an unreadable ID", options_.url));
    }
    crypto::Hash h;
    std::memcpy(h.data(), b->data(), h.size());
    missing.push_back(h);
  }
  return missing;
}

Status VaultClient::PutPack(const std::string& name, ByteView pack) {
  net::ClientRequest req;
  req.method = "PUT";
  req.path = RepoPath("/packs/" + name);
  req.headers.push_back({"Content-Type", "application/octet-stream"});
  // The body is a copy of the one pack in memory (two packs at most, 16 MiB by default).
  req.body.assign(reinterpret_cast<const char*>(pack.data()), pack.size());
  return Call(std::move(req)).status();
}

Result<CommitAnswer> VaultClient::CommitSnapshot(const std::string& id, ByteView snapshot) {
  net::ClientRequest req;
  req.method = "PUT";
  req.path = RepoPath("/snapshots/" + id);
  req.headers.push_back({"Content-Type", "application/octet-stream"});
  req.body.assign(reinterpret_cast<const char*>(snapshot.data()), snapshot.size());
  KURA_ASSIGN_OR_RETURN(net::ClientResponse resp, Call(std::move(req)));
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, resp.body));
  CommitAnswer out;
  out.created = resp.status == 201;
  out.received = JsonTime(j, "received");
  auto cw = j.find("clock_warning");
  out.clock_warning = cw != j.end() && cw->is_boolean() && cw->get<bool>();
  return out;
}

Status VaultClient::ReportRun(const RunReport& run) {
  json body = {{"result", run.success ? "success" : "failure"},
               {"kind", std::string(KindName(run.kind))},
               {"snapshot", run.snapshot},
               {"message", run.message.substr(0, 2000)},
               {"started", FormatUtc(run.started)},
               {"finished", FormatUtc(run.finished)}};
  if (!run.schedule_time.empty()) {
    body["schedule"] = {
        {"time", run.schedule_time}, {"timezone", run.schedule_timezone}, {"days", run.schedule_days}};
  }
  net::ClientRequest req;
  req.method = "POST";
  req.path = RepoPath("/runs");
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = JsonBody(body);
  return Call(std::move(req)).status();
}

Result<VaultGenerations> VaultClient::Generations() {
  net::ClientRequest req;
  req.path = RepoPath("/generations");
  KURA_ASSIGN_OR_RETURN(net::ClientResponse resp, Call(std::move(req)));
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, resp.body));
  VaultGenerations out;
  if (auto it = j.find("generations"); it != j.end() && it->is_array()) {
    for (const json& g : *it) {
      if (!g.is_object()) continue;
      VaultGeneration v;
      v.snapshot = JsonString(g, "snapshot");
      v.kind = JsonString(g, "kind");
      v.received = JsonTime(g, "received");
      v.bytes = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(g, "bytes")));
      v.state = JsonString(g, "state");
      out.generations.push_back(std::move(v));
    }
  }
  if (auto q = j.find("quota"); q != j.end() && q->is_object()) {
    out.used = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(*q, "used")));
    out.soft = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(*q, "soft")));
    out.hard = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(*q, "hard")));
    out.remaining = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(*q, "remaining")));
    out.quota_warning = JsonString(*q, CurrentLanguage() == Language::kEnglish ? "warning_en" : "warning_ja");
    if (out.quota_warning.empty()) out.quota_warning = JsonString(*q, "warning");
  }
  return out;
}

Result<RestoreSessionInfo> VaultClient::RedeemGrant(const std::string& grant) {
  restore_ = true;
  net::ClientRequest req;
  req.method = "POST";
  req.path = "/v1/grants/redeem";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = JsonBody({{"grant", grant}});
  auto answer = Call(std::move(req), /*authorised=*/false, /*retry=*/false);
  KURA_RETURN_IF_ERROR(answer.status());
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, answer->body));
  RestoreSessionInfo out;
  out.session = JsonString(j, "session");
  out.repository = JsonString(j, "repository");
  out.snapshot = JsonString(j, "snapshot");
  out.expires = JsonTime(j, "expires");
  if (out.session.rfind("krs1_", 0) != 0 || out.repository.empty() || !IsLowerHex(out.snapshot, 64)) {
    return Status::IOError(
        Tr("保管庫 {} の復元の許可の応答にセッションがありません。販売店に連絡してください",
           "the answer of the vault {} to the restore grant lacks a session; contact the "
           "vendor",
           options_.url));
  }
  return out;
}

namespace {

// The path of one object in a session's repository, or "" for a name that is no object's.
std::string ObjectPath(ObjectType type, const std::string& name) {
  if (type == ObjectType::kConfig) return name == "config" ? "/config" : "";
  if (!IsLowerHex(name, 64)) return "";
  switch (type) {
    case ObjectType::kKey:
      return "/keys/" + name;
    case ObjectType::kSnapshot:
      return "/snapshots/" + name;
    case ObjectType::kPack:
      return "/packs/" + name;
    case ObjectType::kConfig:
      break;
  }
  return "";
}

// "bytes a-b/size" → size; nullopt when absent or malformed.
std::optional<uint64_t> ContentRangeTotal(const net::Headers& headers) {
  auto v = headers.Get("Content-Range");
  if (!v) return std::nullopt;
  size_t slash = v->rfind('/');
  if (slash == std::string_view::npos || slash + 1 >= v->size() || v->size() - slash > 20)
    return std::nullopt;
  uint64_t n = 0;
  for (char c : v->substr(slash + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

Result<Bytes> VaultClient::ReadObject(ObjectType type, const std::string& name,
                                      std::optional<ByteRange> range, uint64_t* total) {
  std::string rest = ObjectPath(type, name);
  if (rest.empty()) {
    return Status::NotFound(Tr("保管庫 {} にオブジェクト {} はありません", "the vault {} has no object {}",
                               options_.url, EscapeName(name)));
  }
  net::ClientRequest req;
  req.path = RepoPath(rest);
  if (range) {
    req.headers.push_back({"Range", "bytes=" + std::to_string(range->offset) + "-" +
                                        std::to_string(range->offset + range->length - 1)});
  }
  KURA_ASSIGN_OR_RETURN(net::ClientResponse resp, Call(std::move(req)));
  Bytes out(resp.body.begin(), resp.body.end());
  if (total != nullptr) {
    std::optional<uint64_t> size = resp.status == 206 ? ContentRangeTotal(resp.headers) : std::nullopt;
    if (resp.status == 206 && !size) {
      return Status::IOError(Tr("保管庫 {} の部分応答に Content-Range がありません",
                                "the partial answer of the vault {} has no Content-Range", options_.url));
    }
    *total = size.value_or(out.size());
  }
  if (resp.status == 200 && range) {
    // The vault ignored the range (an object it serves whole): cut it here.
    if (range->offset >= out.size()) return Bytes{};
    Bytes part(out.begin() + static_cast<std::ptrdiff_t>(range->offset),
               out.begin() + static_cast<std::ptrdiff_t>(
                                 std::min<uint64_t>(out.size(), range->offset + range->length)));
    return part;
  }
  return out;
}

Result<std::vector<ObjectInfo>> VaultClient::ListObjects(ObjectType type) {
  const char* member = type == ObjectType::kKey        ? "keys"
                       : type == ObjectType::kSnapshot ? "snapshots"
                       : type == ObjectType::kPack     ? "packs"
                                                       : nullptr;
  if (member == nullptr) {
    uint64_t size = 0;
    KURA_ASSIGN_OR_RETURN(Bytes config, ReadObject(ObjectType::kConfig, "config", std::nullopt, &size));
    return std::vector<ObjectInfo>{{"config", config.size(), 0}};
  }
  net::ClientRequest req;
  req.path = RepoPath(std::string("/") + member);
  KURA_ASSIGN_OR_RETURN(net::ClientResponse resp, Call(std::move(req)));
  KURA_ASSIGN_OR_RETURN(json j, ParseJsonBody(options_.url, resp.body));
  auto it = j.find(member);
  if (it == j.end() || !it->is_array()) {
    return Status::IOError(Tr("保管庫 {} の応答に {} がありません",
                              "the answer of the vault {} has no \"{}\"", options_.url, member));
  }
  std::vector<ObjectInfo> out;
  for (const json& o : *it) {
    if (!o.is_object()) continue;
    std::string id = JsonString(o, "id");
    if (!IsLowerHex(id, 64)) continue;  // never a name that could leave the object namespace
    out.push_back({std::move(id), static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(o, "size"))), 0});
  }
  return out;
}

}  // namespace kura
