// The agent API of the real kura-vault over real HTTPS on 127.0.0.1 (docs/vault-api.md):
// enrolment, uploading what a real backup made, every refusal with its code and its audit
// record, malformed requests, and stopping or killing the server in the middle of an upload.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/net_support.h"
#include "net/tls.h"
#include "objstore/local_store.h"
#include "repo/pack.h"
#include "repo/repository.h"
#include "support/repo_engine.h"
#include "support/repo_testing.h"
#include "util/hex.h"
#include "vault/catalog.h"
#include "vault_e2e/vault_server.h"

namespace kura::vault::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A repository made by the real repository and backup code, as a site's local one is.
struct SiteRepo {
  std::string id;
  std::string root;
  Bytes config;
  std::vector<std::pair<std::string, Bytes>> keys;
  std::vector<std::pair<std::string, Bytes>> packs;
  std::vector<std::pair<std::string, Bytes>> snapshots;
  std::vector<std::string> blob_ids;  // every blob of every pack header
};

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::pair<std::string, Bytes>> FilesUnder(const std::string& dir) {
  std::vector<std::pair<std::string, Bytes>> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.path().filename().string().starts_with(".")) {
      out.emplace_back(e.path().filename().string(), ReadBytes(e.path().string()));
    }
  }
  return out;
}

SiteRepo MakeSiteRepo(const std::string& root, const Bytes& recovery_public, uint64_t seed) {
  kura::testing::UseCheapKdf();
  SiteRepo out;
  out.root = root;
  auto store = LocalStore::Open(root, true);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  Credentials creds;
  creds.password = "site-passphrase";
  auto repo = Repository::Init(std::move(*store), creds, InitOptions{}, SystemClock());
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  if (!recovery_public.empty()) {
    KeySlotInfo info;
    info.repository_id = (*repo)->id();
    info.label = "vendor recovery";
    EXPECT_TRUE((*repo)->AddRecoveryKey(recovery_public, info).ok());
  }
  kura::testing::MemorySource source(
      {kura::testing::Dir("karte"),
       kura::testing::File("karte/a.bin", kura::testing::SeededBytes(seed, 900000)),
       kura::testing::File("karte/b.txt", kura::testing::TextBytes(50000))});
  BackupOptions bo;
  bo.kind = SnapshotKind::kDaily;
  bo.threads = 2;
  auto r = RunBackup(**repo, source, bo);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  out.id = (*repo)->id();
  out.config = ReadBytes(root + "/config");
  out.keys = FilesUnder(root + "/keys");
  out.packs = FilesUnder(root + "/data");
  out.snapshots = FilesUnder(root + "/snapshots");
  for (const auto& [name, bytes] : out.packs) {
    auto count = ParsePackPrefix(ByteView(bytes).first(16), name);
    EXPECT_TRUE(count.ok());
    auto header = ParsePackHeader(ByteView(bytes).first(PackHeaderSize(*count)), name);
    EXPECT_TRUE(header.ok());
    for (const PackEntry& e : header->entries)
      out.blob_ids.push_back(ToHex(ByteView(e.id.data(), e.id.size())));
  }
  return out;
}

std::string Sha(ByteView b) {
  crypto::Hash h = crypto::Sha256(b);
  return ToHex(ByteView(h.data(), h.size()));
}

class VaultApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    code_ = vault_.EnrolmentCode();
    ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();
    client_ = vault_.Client();
    ASSERT_NE(client_, nullptr);
  }
  void TearDown() override {
    if (vault_.running()) {
      client_.reset();
      EXPECT_EQ(vault_.Stop(SIGTERM), 0) << vault_.stderr_text();
    }
  }

  net::ClientResponse Call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& token, std::vector<net::Header> headers = {}) {
    return CallVault(*client_, method, path, body, token, std::move(headers));
  }
  static json Body(const net::ClientResponse& r) { return json::parse(r.body, nullptr, false); }
  static std::string CodeOf(const net::ClientResponse& r) {
    json j = Body(r);
    return j.is_object() && j.contains("code") ? j["code"].get<std::string>() : "";
  }

  std::string Enrol(const std::string& code) {
    auto r = Call("POST", "/v1/enrol",
                  json{{"code", code}, {"host", "reception-pc"}, {"kura_version", "0.1.0"}}.dump(), "");
    EXPECT_EQ(r.status, 201) << r.body;
    json j = Body(r);
    return j.is_object() && j.contains("credential") ? j["credential"].get<std::string>() : "";
  }

  std::string Bin(const Bytes& b) { return std::string(b.begin(), b.end()); }

  // Uploads everything of `repo` but its snapshots; returns the pack answers' statuses.
  void UploadObjects(const SiteRepo& repo, const std::string& token, const std::string& job = "nightly") {
    std::string base = "/v1/repos/" + repo.id;
    auto r = Call("PUT", base + "/config?job=" + job, Bin(repo.config), token);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    for (const auto& [name, bytes] : repo.keys) {
      r = Call("PUT", base + "/keys/" + name, Bin(bytes), token);
      ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    }
    r = Call("POST", base + "/blobs/missing", json{{"ids", repo.blob_ids}}.dump(), token);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r)["missing"].size(), repo.blob_ids.size());
    for (const auto& [name, bytes] : repo.packs) {
      r = Call("PUT", base + "/packs/" + name, Bin(bytes), token);
      ASSERT_EQ(r.status, 201) << r.body;
      EXPECT_TRUE(Body(r)["stored"].get<bool>());
    }
    r = Call("POST", base + "/blobs/missing", json{{"ids", repo.blob_ids}}.dump(), token);
    EXPECT_TRUE(Body(r)["missing"].empty()) << r.body;
  }

  std::vector<AuditRecord> Audit() {
    FakeClock clock(0);
    auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    std::vector<AuditRecord> out;
    if (!c.ok()) return out;
    EXPECT_TRUE((*c)->ForEachAudit(0, INT64_MAX,
                                   [&](const AuditRecord& r) {
                                     out.push_back(r);
                                     return Status::Ok();
                                   })
                    .ok());
    return out;
  }
  // Audit records of `action` with `result` whose detail starts with `code`.
  size_t Refusals(const std::string& action, const std::string& result, const std::string& code) {
    size_t n = 0;
    for (const AuditRecord& r : Audit()) {
      if (r.event.action == action && r.event.result == result && r.event.detail.starts_with(code)) ++n;
    }
    return n;
  }
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((vault_.data_dir() + "/catalog.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  std::string Area(const std::string& repo_id) { return vault_.data_dir() + "/objects/" + repo_id; }
  // Objects and temporary files in a repository area, by file name.
  std::vector<std::string> AreaFiles(const std::string& repo_id, const std::string& sub) {
    std::vector<std::string> out;
    std::string dir = Area(repo_id) + "/" + sub;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
    }
    return out;
  }

  VaultServerEnv vault_;
  std::string code_;
  std::unique_ptr<net::HttpClient> client_;
  kura::testing::TempDir site_dir_{"kura-site"};
};

// G-AUTH-03, G-AUD-01: the code is exchanged once for an append credential; a used, an
// expired and a forged code are refused 401 enrolment_invalid and audited.
TEST_F(VaultApiTest, EnrolmentCodeWorksOnceAndBadCodesAreRefusedAndAudited) {
  auto r = Call("POST", "/v1/enrol", json{{"code", code_}, {"host", "reception-pc"}}.dump(), "",
                {{"Accept-Language", "en"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["api"], 1);
  EXPECT_EQ(j["tenant"], "sakura-clinic");
  EXPECT_EQ(j["site"], "honin");
  EXPECT_TRUE(j["credential"].get<std::string>().starts_with("kst1_"));
  EXPECT_EQ(j["recovery_public_key"], ToHex(vault_.recovery_public_key()));
  EXPECT_FALSE(j["vault_time"].get<std::string>().empty());

  r = Call("POST", "/v1/enrol", json{{"code", code_}}.dump(), "", {{"Accept-Language", "en"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(CodeOf(r), "enrolment_invalid");
  EXPECT_NE(Body(r)["message"].get<std::string>().find("ask the vendor"), std::string::npos);
  EXPECT_FALSE(Body(r)["message_ja"].get<std::string>().empty());

  std::string forged = vault_.EnrolmentCode();
  forged[8] = forged[8] == 'A' ? 'B' : 'A';
  r = Call("POST", "/v1/enrol", json{{"code", forged}}.dump(), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(CodeOf(r), "enrolment_invalid");

  std::string expiring = vault_.EnrolmentCode();
  RawSql("UPDATE enrolments SET expires_at = 0 WHERE used_at IS NULL");  // their time has passed
  r = Call("POST", "/v1/enrol", json{{"code", expiring}}.dump(), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(CodeOf(r), "enrolment_invalid");
  r = Call("POST", "/v1/enrol", "{\"code\": 7}", "");
  EXPECT_EQ(r.status, 400);

  size_t refused = 0;
  for (const AuditRecord& rec : Audit()) {
    if (rec.event.action == "enrolment.redeem" && rec.event.result == "refused") {
      ++refused;
      EXPECT_EQ(rec.event.actor.source_ip, "127.0.0.1");
    }
  }
  EXPECT_EQ(refused, 3u);
}

// A tenant without a recovery public key cannot enrol sites: the vendor could not restore.
TEST_F(VaultApiTest, EnrolmentWithoutRecoveryKeyIsRefused) {
  ASSERT_EQ(vault_.Vault({"tenant", "add", "kaigo-office"}).exit_code, 0);
  ASSERT_EQ(vault_.Vault({"site", "add", "kaigo-office", "main"}).exit_code, 0);
  std::string code = vault_.EnrolmentCode("kaigo-office", "main");
  auto r = Call("POST", "/v1/enrol", json{{"code", code}}.dump(), "");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(CodeOf(r), "no_recovery_key");
  EXPECT_EQ(Refusals("enrolment.redeem", "failure", "no_recovery_key"), 1u);
}

// G-INT-01, G-BAK-08: what a real backup made is uploaded and committed; the vault records
// its own receive time; re-sends are idempotent; the area reads back as a repository.
TEST_F(VaultApiTest, RealBackupUploadsCommitsAndResendsAreIdempotent) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 1);
  ASSERT_FALSE(repo.packs.empty());
  ASSERT_EQ(repo.snapshots.size(), 1u);
  UploadObjects(repo, token);
  std::string base = "/v1/repos/" + repo.id;
  const auto& [snap_id, snap_bytes] = repo.snapshots[0];
  int64_t before = ::time(nullptr);
  auto r = Call("PUT", base + "/snapshots/" + snap_id, Bin(snap_bytes), token);
  ASSERT_EQ(r.status, 201) << r.body;
  json commit = Body(r);
  EXPECT_EQ(commit["snapshot"], snap_id);
  EXPECT_EQ(commit["kind"], "daily");
  EXPECT_FALSE(commit["clock_warning"].get<bool>());
  int64_t received = 0;
  ASSERT_TRUE(ParseUtc(commit["received"].get<std::string>(), &received));
  EXPECT_GE(received, before - 1);
  EXPECT_LE(received, ::time(nullptr) + 1);

  // Re-sends: the same answers, nothing replaced.
  r = Call("PUT", base + "/config?job=nightly", Bin(repo.config), token);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(Body(r)["created"].get<bool>());
  r = Call("PUT", base + "/packs/" + repo.packs[0].first, Bin(repo.packs[0].second), token);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(Body(r)["stored"].get<bool>());
  r = Call("PUT", base + "/keys/" + repo.keys[0].first, Bin(repo.keys[0].second), token);
  EXPECT_EQ(r.status, 200);
  r = Call("PUT", base + "/snapshots/" + snap_id, Bin(snap_bytes), token);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r), commit);

  r = Call("GET", base + "/generations", "", token);
  ASSERT_EQ(r.status, 200) << r.body;
  json gens = Body(r)["generations"];
  ASSERT_EQ(gens.size(), 1u);
  EXPECT_EQ(gens[0]["snapshot"], snap_id);
  EXPECT_EQ(gens[0]["received"], commit["received"]);
  EXPECT_EQ(gens[0]["state"], "kept");
  EXPECT_TRUE(Body(r)["quota"].contains("remaining"));

  r = Call("POST", base + "/runs",
           json{{"result", "failure"},
                {"kind", "daily"},
                {"message", "ディスクがいっぱいです"},
                {"started", "2026-12-02T02:00:00+09:00"},
                {"finished", "2026-12-02T02:05:00+09:00"},
                {"schedule", {{"time", "02:00"}, {"timezone", "Asia/Tokyo"}, {"days", "daily"}}}}
               .dump(),
           token);
  EXPECT_EQ(r.status, 204) << r.body;
  r = Call("POST", base + "/runs",
           json{{"result", "success"}, {"kind", "daily"}, {"snapshot", snap_id}}.dump(), token);
  EXPECT_EQ(r.status, 204) << r.body;
  {
    FakeClock clock(0);
    auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
    ASSERT_TRUE(c.ok());
    auto bound = (*c)->FindBoundRepository(repo.id);
    ASSERT_TRUE(bound.ok());
    auto st = (*c)->GetRepoStatus(bound->id);
    ASSERT_TRUE(st.ok());
    EXPECT_FALSE(st->warning_active);  // the success cleared the failure's warning
    EXPECT_EQ(st->last_failure_message, "ディスクがいっぱいです");
    EXPECT_EQ(st->last_success_snapshot, snap_id);
    EXPECT_EQ(st->schedule_timezone, "Asia/Tokyo");
  }

  // The vault's area is a repository the repository code opens with the site's key.
  Credentials creds;
  creds.password = "site-passphrase";
  auto area = LocalStore::Open(Area(repo.id), false);
  ASSERT_TRUE(area.ok());
  auto opened = Repository::Open(std::move(*area), creds);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto snaps = (*opened)->ListSnapshots();
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  auto meta = (*opened)->LoadMeta(snap_id);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  for (const SnapshotEntry& e : meta->entries) {
    for (const crypto::Hash& blob : e.blobs) EXPECT_TRUE((*opened)->ReadBlob(blob).ok());
  }
}

// G-INT-04, G-AUD-01: a digest mismatch, a truncated body, a bad pack header, a snapshot
// with a missing blob and a repository without the recovery slot are each refused with
// their code, store nothing and are audited.
TEST_F(VaultApiTest, BadUploadsAreRefusedStoreNothingAndAreAudited) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 2);
  std::string base = "/v1/repos/" + repo.id;
  auto r = Call("PUT", base + "/config?job=nightly", Bin(repo.config), token);
  ASSERT_EQ(r.status, 201) << r.body;
  for (const auto& [name, bytes] : repo.keys)
    ASSERT_EQ(Call("PUT", base + "/keys/" + name, Bin(bytes), token).status, 201);

  // A snapshot before its packs: missing_blobs, with the IDs.
  const auto& [snap_id, snap_bytes] = repo.snapshots[0];
  r = Call("PUT", base + "/snapshots/" + snap_id, Bin(snap_bytes), token);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(CodeOf(r), "missing_blobs");
  EXPECT_GT(Body(r)["missing_count"].get<uint64_t>(), 0u);
  EXPECT_FALSE(Body(r)["missing"].empty());

  // One flipped byte: the name no longer matches.
  const auto& [pack_id, pack_bytes] = repo.packs[0];
  std::string flipped = Bin(pack_bytes);
  flipped[flipped.size() / 2] ^= 0x01;
  r = Call("PUT", base + "/packs/" + pack_id, flipped, token);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(CodeOf(r), "digest_mismatch");

  // Bytes named by their own SHA-256 that are no pack.
  std::string junk(70000, 'x');
  r = Call("PUT", base + "/packs/" + Sha(AsBytes(junk)), junk, token);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(CodeOf(r), "bad_pack");
  // A real pack cut short, named by the SHA-256 of what is sent: the header does not match.
  std::string cut = Bin(pack_bytes).substr(0, pack_bytes.size() - 100);
  r = Call("PUT", base + "/packs/" + Sha(AsBytes(cut)), cut, token);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(CodeOf(r), "bad_pack");

  // A body that ends before its Content-Length (the client goes away).
  {
    net::testing::RawTlsClient raw(net::testing::PermissiveClientContext());
    ASSERT_TRUE(raw.Connect(vault_.port()));
    std::string head = "PUT " + base + "/packs/" + pack_id +
                       " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                       "\r\nContent-Length: " + std::to_string(pack_bytes.size()) + "\r\n\r\n";
    ASSERT_TRUE(raw.Write(head + Bin(pack_bytes).substr(0, 5000)));
    ::shutdown(raw.fd(), SHUT_WR);
    raw.ReadResponse(std::chrono::seconds(10));
  }
  EXPECT_TRUE(AreaFiles(repo.id, "data").empty());  // nothing stored, no temporary file left
  EXPECT_TRUE(AreaFiles(repo.id, "snapshots").empty());

  // A repository without the vendor's recovery slot: its snapshots are refused.
  SiteRepo bare = MakeSiteRepo(site_dir_.Sub("bare"), {}, 3);
  UploadObjects(bare, token, "weekly");
  r = Call("PUT", "/v1/repos/" + bare.id + "/snapshots/" + bare.snapshots[0].first,
           Bin(bare.snapshots[0].second), token);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(CodeOf(r), "recovery_slot_missing");
  EXPECT_TRUE(AreaFiles(bare.id, "snapshots").empty());

  EXPECT_EQ(Refusals("snapshot.commit", "failure", "missing_blobs"), 1u);
  EXPECT_EQ(Refusals("pack.upload", "failure", "digest_mismatch"), 1u);
  EXPECT_EQ(Refusals("pack.upload", "failure", "bad_pack"), 2u);
  EXPECT_EQ(Refusals("pack.upload", "failure", "bad_request"), 1u);  // the truncated one
  EXPECT_EQ(Refusals("snapshot.commit", "failure", "recovery_slot_missing"), 1u);

  // After all that the real upload still succeeds.
  UploadObjects(repo, token);
  r = Call("PUT", base + "/snapshots/" + snap_id, Bin(snap_bytes), token);
  EXPECT_EQ(r.status, 201) << r.body;
}

// G-ACL-01, G-ACL-02, G-INT-01: what a site credential may never do, each refused 403 (a
// bad token 401) and audited; another site's repository answers like a missing one.
TEST_F(VaultApiTest, ForbiddenCallsAreRefusedAndAudited) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 4);
  UploadObjects(repo, token);
  std::string base = "/v1/repos/" + repo.id;
  const auto& [pack_id, pack_bytes] = repo.packs[0];
  const std::vector<std::pair<std::string, std::string>> reads = {{"GET", base + "/packs/" + pack_id},
                                                                  {"GET", base + "/packs"},
                                                                  {"GET", base + "/config"},
                                                                  {"GET", base + "/keys"},
                                                                  {"GET", base + "/snapshots"},
                                                                  {"DELETE", base + "/packs/" + pack_id},
                                                                  {"DELETE", base + "/config"},
                                                                  {"DELETE", base},
                                                                  {"GET", "/v1/repos"}};
  for (const auto& [method, path] : reads) {
    auto r = Call(method, path, "", token);
    EXPECT_EQ(r.status, 403) << method << " " << path;
    EXPECT_EQ(CodeOf(r), "forbidden");
  }
  // Other bytes under a stored pack's name: never a replacement.
  std::string other = Bin(pack_bytes);
  other[100] ^= 0x20;
  auto r = Call("PUT", base + "/packs/" + pack_id, other, token);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(ReadBytes(Area(repo.id) + "/data/" + pack_id.substr(0, 2) + "/" + pack_id), pack_bytes);

  // Another tenant's site, enrolled for real: its credential cannot touch this repository,
  // and the answer is the same as for an ID that exists nowhere.
  ASSERT_EQ(vault_.Vault({"tenant", "add", "other-clinic"}).exit_code, 0);
  ASSERT_EQ(vault_.Vault({"site", "add", "other-clinic", "main"}).exit_code, 0);
  ASSERT_EQ(vault_
                .Vault({"tenant", "set-recovery-key", "other-clinic", "--public-key-file",
                        vault_.data_dir() + "/../recovery.pub"})
                .exit_code,
            0);
  std::string other_token = Enrol(vault_.EnrolmentCode("other-clinic", "main"));
  auto foreign = Call("POST", base + "/blobs/missing", json{{"ids", repo.blob_ids}}.dump(), other_token);
  auto nowhere = Call("POST", "/v1/repos/" + std::string(32, 'e') + "/blobs/missing",
                      json{{"ids", repo.blob_ids}}.dump(), other_token);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(nowhere.status, 403);
  EXPECT_EQ(foreign.body, nowhere.body);
  r = Call("PUT", base + "/config?job=nightly", Bin(repo.config), other_token);
  EXPECT_EQ(r.status, 403);
  r = Call("PUT", base + "/snapshots/" + repo.snapshots[0].first, Bin(repo.snapshots[0].second), other_token);
  EXPECT_EQ(r.status, 403);

  // Forged, malformed and missing tokens.
  std::string forged = token;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  for (const std::string& t : {forged, std::string("kst1_nonsense"), std::string()}) {
    r = Call("POST", base + "/blobs/missing", json{{"ids", json::array()}}.dump(), t);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(CodeOf(r), "unauthorized");
    EXPECT_EQ(r.headers.Get("WWW-Authenticate").value_or(""), "Bearer");
  }

  size_t forbidden = 0, unauthorized = 0;
  for (const AuditRecord& rec : Audit()) {
    if (rec.event.result != "refused") continue;
    if (rec.event.action != "credential.check" && !rec.event.detail.starts_with("unauthorized")) {
      ++forbidden;
      EXPECT_FALSE(rec.event.actor.site.empty());
      EXPECT_EQ(rec.event.actor.source_ip, "127.0.0.1");
    }
    if (rec.event.action == "credential.check" || rec.event.detail.starts_with("unauthorized"))
      ++unauthorized;
  }
  EXPECT_EQ(forbidden, reads.size() + 1 + 4);  // reads, the overwrite, four from the other site
  EXPECT_EQ(unauthorized, 3u);
  for (const auto& [name, bytes] : repo.packs) {
    EXPECT_EQ(ReadBytes(Area(repo.id) + "/data/" + name.substr(0, 2) + "/" + name), bytes);
  }
}

// Malformed requests get 4xx and the server goes on serving.
TEST_F(VaultApiTest, MalformedRequestsAreAnsweredAndTheServerGoesOn) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 5);
  std::string base = "/v1/repos/" + repo.id;
  ASSERT_EQ(Call("PUT", base + "/config?job=nightly", Bin(repo.config), token).status, 201);
  auto r = Call("POST", base + "/blobs/missing", "{\"ids\": [", token);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(CodeOf(r), "bad_request");
  r = Call("POST", base + "/blobs/missing", json{{"ids", {"not-hex"}}}.dump(), token);
  EXPECT_EQ(r.status, 400);
  r = Call("POST", base + "/runs", json{{"result", "maybe"}}.dump(), token);
  EXPECT_EQ(r.status, 400);
  r = Call("PUT", base + "/config?job=bad%20job", Bin(repo.config), token);
  EXPECT_EQ(r.status, 400);
  r = Call("PUT", "/v1/repos/" + std::string(32, 'f') + "/config?job=nightly", Bin(repo.config), token);
  EXPECT_EQ(r.status, 400);  // the config names another repository
  EXPECT_EQ(CodeOf(r), "bad_object");
  r = Call("GET", "/v1/health", "", "", {{"X-Huge", std::string(40000, 'h')}});
  EXPECT_EQ(r.status, 431);
  {
    // Content-Length larger than the body, then silence: 408 after the body timeout.
    net::testing::RawTlsClient raw(net::testing::PermissiveClientContext());
    ASSERT_TRUE(raw.Connect(vault_.port()));
    ASSERT_TRUE(raw.Write("POST " + base + "/blobs/missing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          token + "\r\nContent-Length: 100\r\n\r\n{\"ids\": []}"));
    std::string answer = raw.ReadResponse(std::chrono::seconds(15));
    EXPECT_EQ(net::testing::StatusOf(answer), 408);
  }
  r = Call("GET", "/v1/health", "", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["status"], "ok");
}

// §5, G-ACL-06: an operator's grant redeems once for a session that reads exactly the
// granted repository and snapshot (packs with Range), every read audited with the grant.
TEST_F(VaultApiTest, RestoreGrantRedeemsOnceForReadsOfItsSnapshotOnly) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 8);
  UploadObjects(repo, token);
  std::string base = "/v1/repos/" + repo.id;
  const auto& [snap_id, snap_bytes] = repo.snapshots[0];
  ASSERT_EQ(Call("PUT", base + "/snapshots/" + snap_id, Bin(snap_bytes), token).status, 201);

  VaultRun issued = vault_.Vault({"--json", "grant", "issue", "sakura-clinic", "honin", snap_id.substr(0, 12),
                                  "--purpose", "本院からの依頼 #42: カルテ復元", "--expires", "2"});
  ASSERT_EQ(issued.exit_code, 0) << issued.err;
  std::string grant = issued.Json()["grant"];
  EXPECT_TRUE(grant.starts_with("kgr1_"));
  EXPECT_EQ(issued.Json()["snapshot"], snap_id);

  auto r = Call("POST", "/v1/grants/redeem", json{{"grant", grant}}.dump(), "");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string session = Body(r)["session"];
  EXPECT_TRUE(session.starts_with("krs1_"));
  EXPECT_EQ(Body(r)["repository"], repo.id);
  r = Call("POST", "/v1/grants/redeem", json{{"grant", grant}}.dump(), "");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(CodeOf(r), "grant_used");

  EXPECT_EQ(Call("GET", base + "/config", "", session).body, Bin(repo.config));
  r = Call("GET", base + "/keys", "", session);
  EXPECT_EQ(Body(r)["keys"].size(), repo.keys.size());
  EXPECT_EQ(Call("GET", base + "/keys/" + repo.keys[0].first, "", session).body, Bin(repo.keys[0].second));
  r = Call("GET", base + "/snapshots", "", session);
  ASSERT_EQ(Body(r)["snapshots"].size(), 1u);
  EXPECT_EQ(Body(r)["snapshots"][0]["id"], snap_id);
  EXPECT_EQ(Call("GET", base + "/snapshots/" + snap_id, "", session).body, Bin(snap_bytes));
  EXPECT_EQ(Call("GET", base + "/snapshots/" + std::string(64, '9'), "", session).status, 403);
  r = Call("GET", base + "/packs", "", session);
  EXPECT_EQ(Body(r)["packs"].size(), repo.packs.size());
  const auto& [pack_id, pack_bytes] = repo.packs[0];
  EXPECT_EQ(Call("GET", base + "/packs/" + pack_id, "", session).body, Bin(pack_bytes));
  r = Call("GET", base + "/packs/" + pack_id, "", session, {{"Range", "bytes=10-1009"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, Bin(pack_bytes).substr(10, 1000));
  EXPECT_EQ(r.headers.Get("Content-Range").value_or(""),
            "bytes 10-1009/" + std::to_string(pack_bytes.size()));
  r = Call("GET", base + "/packs/" + pack_id, "", session, {{"Range", "bytes=-16"}});
  EXPECT_EQ(r.body, Bin(pack_bytes).substr(pack_bytes.size() - 16));
  r = Call("GET", base + "/packs/" + pack_id, "", session, {{"Range", "bytes=999999999-"}});
  EXPECT_EQ(r.status, 416);
  // A session writes nothing; the site credential still reads nothing.
  // (A small body: a refusal before the body is read closes the connection, and a client
  // still sending a large one may see its pipe break before it reads the answer.)
  EXPECT_EQ(Call("PUT", base + "/keys/" + std::string(64, '1'), "{}", session).status, 401);
  EXPECT_EQ(Call("GET", base + "/packs/" + pack_id, "", token).status, 403);

  // An expired grant and an expired session.
  VaultRun second = vault_.Vault({"--json", "grant", "issue", "sakura-clinic", "honin", snap_id, "--purpose",
                                  "drill", "--expires", "1"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  RawSql("UPDATE grants SET expires_at = 0");
  r = Call("POST", "/v1/grants/redeem", json{{"grant", second.Json()["grant"]}}.dump(), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Call("GET", base + "/config", "", session).status, 401);

  size_t reads = 0;
  for (const AuditRecord& rec : Audit()) {
    if (rec.event.action == "restore.read") {
      ++reads;
      EXPECT_TRUE(rec.event.actor.id.starts_with("grant:"));
    }
  }
  EXPECT_EQ(reads, 11u);
  EXPECT_EQ(Refusals("grant.redeem", "refused", "unauthorized"), 1u);
}

// The server against its OpenAPI file (docs/vault-api.yaml): every documented method and
// path is routed (never 404 or 405) and, without a token, refused 401 unless it is one of
// the two calls that need none.
TEST_F(VaultApiTest, EveryCallOfTheOpenApiFileIsServed) {
  const char* root = std::getenv("KURA_SOURCE_DIR");
  std::ifstream in(std::string(root != nullptr ? root : ".") + "/docs/vault-api.yaml");
  ASSERT_TRUE(in) << "run from the source tree or set KURA_SOURCE_DIR";
  std::string line, path;
  size_t calls = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("  /v1/") && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      continue;
    }
    std::string method;
    for (const char* m : {"get", "put", "post", "delete"}) {
      if (line == std::string("    ") + m + ":") method = m;
    }
    if (method.empty() || path.empty()) continue;
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string concrete = path;
    for (auto [from, to] : {std::pair<std::string, std::string>{"{repo}", std::string(32, 'a')},
                            std::pair<std::string, std::string>{"{id}", std::string(64, 'b')}}) {
      size_t at = concrete.find(from);
      if (at != std::string::npos) concrete.replace(at, from.size(), to);
    }
    auto r = Call(method, concrete, method == "PUT" || method == "POST" ? "{}" : "", "");
    ++calls;
    if (path == "/v1/health") {
      EXPECT_EQ(r.status, 200);
    } else if (path == "/v1/enrol" || path == "/v1/grants/redeem") {
      EXPECT_TRUE(r.status == 400 || r.status == 401) << path << " " << r.status;
    } else {
      EXPECT_EQ(r.status, 401) << method << " " << path << " " << r.body;
    }
    json j = Body(r);
    if (r.status >= 400) {
      EXPECT_TRUE(j.contains("code") && j.contains("message_ja") && j.contains("message_en")) << r.body;
    }
  }
  EXPECT_GE(calls, 20u);
}

// Starts a pack upload that stalls after `sent` bytes; returns the raw client.
std::unique_ptr<net::testing::RawTlsClient> StallingUpload(uint16_t port, const std::string& path,
                                                           const std::string& token, const Bytes& body,
                                                           size_t sent) {
  auto raw = std::make_unique<net::testing::RawTlsClient>(net::testing::PermissiveClientContext());
  if (!raw->Connect(port)) return nullptr;
  std::string head = "PUT " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  if (!raw->Write(head + std::string(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(sent))))
    return nullptr;
  return raw;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

// SIGTERM while an upload is in flight: serve stops within its grace and exits 0, and the
// cut upload leaves no object and no temporary file.
TEST_F(VaultApiTest, SigtermDuringUploadStopsGracefullyAndStoresNothing) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 6);
  std::string base = "/v1/repos/" + repo.id;
  ASSERT_EQ(Call("PUT", base + "/config?job=nightly", Bin(repo.config), token).status, 201);
  const auto& [pack_id, pack_bytes] = repo.packs[0];
  auto raw =
      StallingUpload(vault_.port(), base + "/packs/" + pack_id, token, pack_bytes, pack_bytes.size() / 2);
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(WaitFor([&] { return !AreaFiles(repo.id, "data").empty(); }));  // the temporary file
  client_.reset();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(vault_.Stop(SIGTERM), 0) << vault_.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_TRUE(AreaFiles(repo.id, "data").empty());
  EXPECT_NE(vault_.stderr_text().find("stopping on SIGTERM"), std::string::npos);
}

// SIGKILL during an upload leaves only a temporary file, never an object; the restarted
// vault removes it and the re-upload succeeds.
TEST_F(VaultApiTest, SigkillDuringUploadThenRestartLeavesNoPartialObject) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 7);
  std::string base = "/v1/repos/" + repo.id;
  ASSERT_EQ(Call("PUT", base + "/config?job=nightly", Bin(repo.config), token).status, 201);
  for (const auto& [name, bytes] : repo.keys)
    ASSERT_EQ(Call("PUT", base + "/keys/" + name, Bin(bytes), token).status, 201);
  const auto& [pack_id, pack_bytes] = repo.packs[0];
  auto raw =
      StallingUpload(vault_.port(), base + "/packs/" + pack_id, token, pack_bytes, pack_bytes.size() / 2);
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(WaitFor([&] { return !AreaFiles(repo.id, "data").empty(); }));
  client_.reset();
  EXPECT_EQ(vault_.Stop(SIGKILL), 128 + SIGKILL);
  std::vector<std::string> left = AreaFiles(repo.id, "data");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_TRUE(left[0].starts_with(".tmp-"));  // no object under the pack's name
  raw.reset();

  ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();
  client_ = vault_.Client();
  EXPECT_TRUE(AreaFiles(repo.id, "data").empty());  // swept at start
  auto r = Call("POST", base + "/blobs/missing", json{{"ids", repo.blob_ids}}.dump(), token);
  EXPECT_EQ(Body(r)["missing"].size(), repo.blob_ids.size());
  UploadObjects(repo, token);
  r = Call("PUT", base + "/snapshots/" + repo.snapshots[0].first, Bin(repo.snapshots[0].second), token);
  EXPECT_EQ(r.status, 201) << r.body;
}

// Issue 7 §5: the vendor's monitoring scrapes /metrics in the Prometheus text format —
// uploads and bytes received, request counts and latencies by route (never by path: the
// path carries repository IDs), bytes per tenant and sites by state; a peer outside
// [server] metrics_allow is refused 403 and the refusal is audited (G-AUD-01).
TEST_F(VaultApiTest, MetricsCountARealUploadAndRefuseAPeerOutsideTheAllowlist) {
  std::string token = Enrol(code_);
  SiteRepo repo = MakeSiteRepo(site_dir_.Sub("repo"), vault_.recovery_public_key(), 7);
  UploadObjects(repo, token);
  auto r = Call("PUT", "/v1/repos/" + repo.id + "/snapshots/" + repo.snapshots[0].first,
                Bin(repo.snapshots[0].second), token);
  ASSERT_EQ(r.status, 201) << r.body;

  r = Call("GET", "/metrics", "", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& text = r.body;
  auto line_with = [&text](const std::string& prefix) -> std::string {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with(prefix)) return line;
    }
    return "";
  };
  EXPECT_EQ(line_with("kura_vault_pack_uploads_total{result=\"stored\"}"),
            "kura_vault_pack_uploads_total{result=\"stored\"} " + std::to_string(repo.packs.size()))
      << text;
  uint64_t pack_bytes = 0;
  for (const auto& [name, bytes] : repo.packs) pack_bytes += bytes.size();
  EXPECT_EQ(line_with("kura_vault_tenant_stored_bytes{tenant=\"sakura-clinic\"}"),
            "kura_vault_tenant_stored_bytes{tenant=\"sakura-clinic\"} " + std::to_string(pack_bytes))
      << text;
  EXPECT_EQ(line_with("kura_vault_tenant_snapshots{tenant=\"sakura-clinic\",state=\"kept\"}"),
            "kura_vault_tenant_snapshots{tenant=\"sakura-clinic\",state=\"kept\"} 1")
      << text;
  EXPECT_FALSE(line_with("kura_vault_http_request_duration_seconds_bucket{route=\"/v1/repos/{repo}/packs/"
                         "{id}\",le=\"+Inf\"}")
                   .empty())
      << text;
  EXPECT_FALSE(line_with("kura_vault_open_connections ").empty()) << text;
  EXPECT_FALSE(line_with("kura_vault_sites{state=").empty()) << text;
  EXPECT_EQ(text.find(repo.id), std::string::npos) << "a repository ID leaked into the metrics";
  EXPECT_EQ(text.find(token), std::string::npos);
  EXPECT_EQ(Refusals("metrics.read", "refused", ""), 0u);

  // Only 10.0.0.0/8 may read: this test's 127.0.0.1 is refused and audited.
  client_.reset();
  ASSERT_EQ(vault_.Stop(SIGTERM), 0) << vault_.stderr_text();
  ReplaceInFile(vault_.data_dir() + "/vault.toml", R"(metrics_allow = ["127.0.0.1", "::1"])",
                R"(metrics_allow = ["10.0.0.0/8"])");
  ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();
  client_ = vault_.Client();
  r = Call("GET", "/metrics", "", "");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(CodeOf(r), "forbidden");
  EXPECT_EQ(r.body.find("kura_vault_"), std::string::npos);
  EXPECT_EQ(Refusals("metrics.read", "refused", "peer not in"), 1u);
}

}  // namespace
}  // namespace kura::vault::testing
