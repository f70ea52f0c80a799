// Retention and quota through the real kura-vault over real HTTPS (docs/vault-api.md §4.4,
// §4.7; docs/retention.md): a hard quota refuses a pack with 507 quota_exceeded and stores
// nothing, and GET generations lists only what the vault keeps after the commit's retention.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

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

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::set<std::string> NamesUnder(const std::string& dir) {
  std::set<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && !e.path().filename().string().starts_with(".")) {
      out.insert(e.path().filename().string());
    }
  }
  return out;
}

std::string Bin(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

// A site repository made by the real repository and backup code, with the vendor's
// recovery slot; each Backup() makes one more daily from changed data.
class SiteRepo {
 public:
  SiteRepo(const std::string& root, const Bytes& recovery_public) : root_(root) {
    kura::testing::UseCheapKdf();
    auto store = LocalStore::Open(root, true);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    Credentials creds;
    creds.password = "site-passphrase";
    auto repo = Repository::Init(std::move(*store), creds, InitOptions{}, SystemClock());
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    KeySlotInfo info;
    info.repository_id = (*repo)->id();
    info.label = "vendor recovery";
    EXPECT_TRUE((*repo)->AddRecoveryKey(recovery_public, info).ok());
    repo_ = std::move(*repo);
  }
  // The new snapshot's name.
  std::string Backup(uint64_t seed) {
    std::set<std::string> before = NamesUnder(root_ + "/snapshots");
    kura::testing::MemorySource source(
        {kura::testing::Dir("karte"),
         kura::testing::File("karte/a.bin", kura::testing::SeededBytes(seed, 300000)),
         kura::testing::File("karte/b.txt", kura::testing::TextBytes(50000))});
    BackupOptions bo;
    bo.kind = SnapshotKind::kDaily;
    bo.threads = 2;
    auto r = RunBackup(*repo_, source, bo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    for (const std::string& n : NamesUnder(root_ + "/snapshots")) {
      if (!before.contains(n)) return n;
    }
    ADD_FAILURE() << "no new snapshot";
    return "";
  }
  std::string id() const { return repo_->id(); }
  Bytes File(const std::string& sub, const std::string& name) const {
    for (const auto& e : fs::recursive_directory_iterator(root_ + "/" + sub)) {
      if (e.path().filename() == name) return ReadBytes(e.path().string());
    }
    return {};
  }
  std::set<std::string> Names(const std::string& sub) const { return NamesUnder(root_ + "/" + sub); }
  Bytes Config() const { return ReadBytes(root_ + "/config"); }

 private:
  std::string root_;
  std::unique_ptr<Repository> repo_;
};

class VaultRetentionApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    code_ = vault_.EnrolmentCode();
    ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();
    client_ = vault_.Client();
    ASSERT_NE(client_, nullptr);
    auto r = Call("POST", "/v1/enrol", json{{"code", code_}, {"host", "reception-pc"}}.dump(), "");
    ASSERT_EQ(r.status, 201) << r.body;
    token_ = json::parse(r.body)["credential"].get<std::string>();
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
  void UploadConfigAndKeys(const SiteRepo& repo) {
    std::string base = "/v1/repos/" + repo.id();
    auto r = Call("PUT", base + "/config?job=nightly", Bin(repo.Config()), token_);
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    for (const std::string& name : repo.Names("keys")) {
      r = Call("PUT", base + "/keys/" + name, Bin(repo.File("keys", name)), token_);
      ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    }
  }
  void UploadPacks(const SiteRepo& repo) {
    for (const std::string& name : repo.Names("data")) {
      auto r = Call("PUT", "/v1/repos/" + repo.id() + "/packs/" + name, Bin(repo.File("data", name)), token_);
      ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
    }
  }
  void CommitSnapshot(const SiteRepo& repo, const std::string& name) {
    auto r = Call("PUT", "/v1/repos/" + repo.id() + "/snapshots/" + name, Bin(repo.File("snapshots", name)),
                  token_);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((vault_.data_dir() + "/catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
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

  VaultServerEnv vault_;
  std::string code_, token_;
  std::unique_ptr<net::HttpClient> client_;
  kura::testing::TempDir site_dir_{"kura-site"};
};

// G-MON-07, issue 7 §4 "Capacity": with the hard quota reached a pack is refused 507
// quota_exceeded with the used and quota figures in both languages, nothing of it is
// stored or recorded, and the refusal is audited; raising the quota lets it in.
TEST_F(VaultRetentionApiTest, HardQuotaRefusesThePackWith507AndStoresNothing) {
  SiteRepo repo(site_dir_.Sub("repo"), vault_.recovery_public_key());
  repo.Backup(1);
  UploadConfigAndKeys(repo);
  ASSERT_EQ(vault_.Vault({"tenant", "set-quota", "sakura-clinic", "--soft", "0", "--hard", "1K"}).exit_code,
            0);
  std::string pack = *repo.Names("data").begin();
  std::string path = "/v1/repos/" + repo.id() + "/packs/" + pack;
  auto r = Call("PUT", path, Bin(repo.File("data", pack)), token_, {{"Accept-Language", "en"}});
  EXPECT_EQ(r.status, 507) << r.body;
  json j = Body(r);
  EXPECT_EQ(j["code"], "quota_exceeded");
  EXPECT_NE(j["message"].get<std::string>().find("Ask the vendor"), std::string::npos) << r.body;
  EXPECT_NE(j["message"].get<std::string>().find("of 1.0 KiB"), std::string::npos) << r.body;
  EXPECT_NE(j["message_ja"].get<std::string>().find("販売元"), std::string::npos) << r.body;
  EXPECT_EQ(j["hard"], 1024);
  EXPECT_TRUE(NamesUnder(vault_.data_dir() + "/objects/" + repo.id() + "/data").empty());
  r = Call("GET", "/v1/repos/" + repo.id() + "/generations", "", token_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["quota"]["used"], 0);
  EXPECT_EQ(Body(r)["quota"]["hard"], 1024);
  EXPECT_EQ(Body(r)["quota"]["remaining"], 1024);
  size_t refused = 0;
  for (const AuditRecord& rec : Audit()) {
    if (rec.event.action == "pack.upload" && rec.event.result == "failure" &&
        rec.event.detail.starts_with("quota_exceeded: hard quota"))
      ++refused;
  }
  EXPECT_EQ(refused, 1u);

  ASSERT_EQ(vault_.Vault({"tenant", "set-quota", "sakura-clinic", "--soft", "1K", "--hard", "1G"}).exit_code,
            0);
  r = Call("PUT", path, Bin(repo.File("data", pack)), token_);
  EXPECT_EQ(r.status, 201) << r.body;
  r = Call("GET", "/v1/repos/" + repo.id() + "/generations", "", token_, {{"Accept-Language", "en"}});
  json quota = Body(r)["quota"];
  EXPECT_GT(quota["used"].get<uint64_t>(), 1024u);
  EXPECT_EQ(quota["remaining"], (uint64_t{1} << 30) - quota["used"].get<uint64_t>());
  EXPECT_NE(quota["warning"].get<std::string>().find("soft quota"), std::string::npos) << quota;
}

// Issue 7 §4, docs/vault-api.md §4.7: each commit is judged and retained on the vault's
// receive time; GET generations then lists only what the vault keeps. With one daily day,
// the older settled day is quarantined by the third commit and no longer listed.
TEST_F(VaultRetentionApiTest, GenerationsListOnlyWhatTheVaultKeeps) {
  ASSERT_EQ(vault_
                .Vault({"tenant", "set-retention", "sakura-clinic", "--daily", "1", "--monthly", "1",
                        "--manual", "1"})
                .exit_code,
            0);
  SiteRepo repo(site_dir_.Sub("repo"), vault_.recovery_public_key());
  std::string first = repo.Backup(1);
  std::string second = repo.Backup(2);
  std::string third = repo.Backup(3);
  UploadConfigAndKeys(repo);
  UploadPacks(repo);
  // Receive times two days and one day back, as if they had come on earlier nights: the
  // vault's own clock cannot be moved from here.
  const int64_t day_ms = 86'400'000;
  CommitSnapshot(repo, first);
  RawSql(fmt::format("UPDATE snapshots SET received_at_ms = received_at_ms - {} WHERE name = '{}'",
                     2 * day_ms, first));
  CommitSnapshot(repo, second);
  RawSql(fmt::format("UPDATE snapshots SET received_at_ms = received_at_ms - {} WHERE name = '{}'", day_ms,
                     second));
  CommitSnapshot(repo, third);

  auto r = Call("GET", "/v1/repos/" + repo.id() + "/generations", "", token_);
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<std::string> listed;
  json body = Body(r);
  for (const json& g : body["generations"]) listed.insert(g["snapshot"].get<std::string>());
  // The third is still settling (kept, not counted); the second is the counted day and the
  // last known-good; the first is older than the one day kept.
  EXPECT_EQ(listed, (std::set<std::string>{second, third})) << r.body;
  size_t evicted = 0, assessed = 0;
  for (const AuditRecord& rec : Audit()) {
    if (rec.event.action == "snapshot.evict" && rec.event.target.ends_with(first)) ++evicted;
    if (rec.event.action == "snapshot.assess" && rec.event.detail.starts_with("verdict=accepted")) ++assessed;
  }
  EXPECT_EQ(evicted, 1u);
  EXPECT_EQ(assessed, 3u);
  // Quarantined, not deleted: garbage collection removes its object after the grace.
  EXPECT_TRUE(NamesUnder(vault_.data_dir() + "/objects/" + repo.id() + "/snapshots").contains(first));
}

// Issue 7 §4, G-MON-01: kura-vault serve runs the alarm tick (at start, then each minute):
// a failure the site reported becomes an open "failed" alarm that kura-vault status shows,
// audited as alarm.raise by the system.
TEST_F(VaultRetentionApiTest, ServeRunsTheAlarmTickAndStatusShowsTheAlarm) {
  SiteRepo repo(site_dir_.Sub("repo"), vault_.recovery_public_key());
  repo.Backup(1);
  UploadConfigAndKeys(repo);
  auto r = Call("POST", "/v1/repos/" + repo.id() + "/runs",
                json{{"result", "failure"},
                     {"kind", "daily"},
                     {"message", "pg_dump: connection refused"},
                     {"started", "2026-12-02T02:00:00+09:00"},
                     {"finished", "2026-12-02T02:05:00+09:00"}}
                    .dump(),
                token_);
  ASSERT_EQ(r.status, 204) << r.body;
  client_.reset();
  ASSERT_EQ(vault_.Stop(SIGTERM), 0) << vault_.stderr_text();
  ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();  // the tick runs at start
  json site;
  for (int i = 0; i < 200; ++i) {
    VaultRun st = vault_.Vault({"--lang", "en", "status", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    json j = st.Json();
    ASSERT_TRUE(j.contains("sites")) << st.out;
    site = j["sites"][0];
    if (!site["alarms"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(site["state"], "failed") << site;
  ASSERT_FALSE(site["alarms"].empty()) << site;
  EXPECT_EQ(site["alarms"][0]["kind"], "failed");
  EXPECT_NE(site["alarms"][0]["detail"].get<std::string>().find("connection refused"), std::string::npos)
      << site;
  bool audited = false;
  for (const AuditRecord& rec : Audit()) {
    audited = audited || (rec.event.action == "alarm.raise" && rec.event.actor.kind == "system" &&
                          rec.event.target.starts_with("alarm:failed/"));
  }
  EXPECT_TRUE(audited);
  client_ = vault_.Client();
}

}  // namespace
}  // namespace kura::vault::testing
