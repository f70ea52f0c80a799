// Garbage collection and scrub with the real kura-vault over real HTTPS and the real
// agent (`kura backup --vault`): backups race `kura-vault gc` runs (short lease, no grace,
// retention's quarantine played by SQL) and nothing committed ends up referring to a
// missing pack; a byte flipped in a stored pack is found by `kura-vault scrub --all`
// together with the snapshot it affects.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "objstore/local_store.h"
#include "repo/snapshot.h"
#include "support/job_harness.h"
#include "support/repo_testing.h"
#include "support/vault_process.h"
#include "util/hex.h"
#include "vault/catalog.h"
#include "vault_e2e/vault_server.h"

namespace kura::vault::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void Replace(const std::string& path, const std::string& from, const std::string& to) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;
}

std::string Bin(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

class GcScrubE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    kura::testing::UseCheapKdf();
    std::string toml = vault_.data_dir() + "/vault.toml";
    Replace(toml, "grace_days = 7", "grace_days = 0");
    Replace(toml, "upload_lease_seconds = 21600", "upload_lease_seconds = 1");
    sb_.WriteFile("enrol.txt", vault_.EnrolmentCode() + "\n");
    ASSERT_TRUE(vault_.Start()) << vault_.stderr_text();
    url_ = "https://127.0.0.1:" + std::to_string(vault_.port());
    ::mkdir(sb_.Path("data").c_str(), 0755);
    sb_.WriteFile("data/karte.pdf", Bin(kura::testing::SeededBytes(1, 2000000)), 0644);
    kura::testing::WriteVaultJobConfig(sb_, url_);
    kura::testing::KuraRun init = sb_.Kura({"init", "--vault", url_, "--enroll", sb_.Path("enrol.txt"),
                                            "--job", "care", "-r", sb_.Path("local")});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  }
  void TearDown() override {
    if (vault_.running()) {
      EXPECT_EQ(vault_.Stop(SIGTERM), 0) << vault_.stderr_text();
    }
  }

  kura::testing::KuraRun Backup() {
    return sb_.Kura(
        {"--json", "backup", "-r", sb_.Path("local"), "--vault", url_, "--job", "care", sb_.Path("data")});
  }
  std::string RepoId() {
    auto store = LocalStore::Open(sb_.Path("local"), false);
    auto cfg = (*store)->Get(ObjectType::kConfig, "config");
    return json::parse(Bin(*cfg))["id"].get<std::string>();
  }
  std::string Area() { return vault_.data_dir() + "/objects/" + RepoId(); }
  // The path and name of a stored pack of the vault's area (the first of over 1000 bytes).
  void FirstStoredPack(std::string* path, std::string* name) {
    for (const auto& e : fs::recursive_directory_iterator(Area() + "/data")) {
      if (e.is_regular_file() && !e.path().filename().string().starts_with(".") && e.file_size() > 1000) {
        *path = e.path().string();
        *name = e.path().filename().string();
        return;
      }
    }
  }
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((vault_.data_dir() + "/catalog.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  // Every snapshot the vault keeps (not quarantined) has every blob it lists in a stored
  // pack whose file is there. Returns how many snapshots were checked.
  size_t CheckNothingCommittedIsMissing() {
    FakeClock clock(0);
    auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return 0;
    auto bound = (*c)->FindBoundRepository(RepoId());
    EXPECT_TRUE(bound.ok());
    if (!bound.ok()) return 0;
    auto area = LocalStore::Open(Area(), false);
    EXPECT_TRUE(area.ok());
    size_t checked = 0;
    auto snaps = (*c)->ListSnapshotRecords(bound->id);
    EXPECT_TRUE(snaps.ok());
    if (!snaps.ok()) return 0;
    for (const SnapshotRecord& s : *snaps) {
      if (s.state == "quarantined") continue;
      auto bytes = (*area)->Get(ObjectType::kSnapshot, s.name);
      EXPECT_TRUE(bytes.ok()) << s.name;
      if (!bytes.ok()) continue;
      auto ids = SnapshotBlobIds(s.name, *bytes);
      EXPECT_TRUE(ids.ok());
      auto missing = (*c)->CountMissingBlobs(bound->id, *ids, 0, nullptr);
      EXPECT_TRUE(missing.ok());
      EXPECT_EQ(*missing, 0u) << "snapshot " << s.name << " refers to blobs of no stored pack";
      ++checked;
    }
    auto packs = (*c)->ListGcPacks(bound->id);
    EXPECT_TRUE(packs.ok());
    if (!packs.ok()) return checked;
    for (const Catalog::GcPack& p : *packs) {
      if (!p.quarantined) {
        EXPECT_TRUE((*area)->Get(ObjectType::kPack, p.name).ok()) << "pack " << p.name;
      }
    }
    return checked;
  }

  VaultServerEnv vault_;
  kura::testing::JobSandbox sb_;
  std::string url_;
};

// §6 "GC racing uploads": backups with new data go on while `kura-vault gc` runs again and
// again, and older snapshots are evicted (quarantined, as retention does) so their packs
// are collected with no grace. A backup may be refused and retried; nothing committed ever
// refers to a missing pack, and a final full scrub finds nothing damaged.
TEST_F(GcScrubE2ETest, GcRacingUploadsLeavesNoCommittedSnapshotWithAMissingPack) {
  std::atomic<bool> done{false};
  std::atomic<int> gc_runs{0}, gc_failures{0}, packs_deleted{0}, packs_quarantined{0};
  std::thread gc([&] {
    while (!done) {
      VaultRun r = vault_.Vault({"--json", "gc"});
      ++gc_runs;
      if (r.exit_code != 0) {
        ++gc_failures;
        ADD_FAILURE() << "kura-vault gc exited " << r.exit_code << ": " << r.out << r.err;
      }
      json j = r.Json();
      if (j.is_object() && j.contains("packs_deleted")) {
        packs_deleted += j["packs_deleted"].get<int>();
        packs_quarantined += j["packs_quarantined"].get<int>();
      }
    }
  });
  int ok = 0;
  for (int round = 0; round < 6; ++round) {
    sb_.WriteFile("data/round.bin", Bin(kura::testing::SeededBytes(100 + round, 700000)), 0644);
    kura::testing::KuraRun r = Backup();
    if (r.exit_code == 0) ++ok;
    // Retention's part, played here: every snapshot but the newest leaves, and every
    // other round all of them, so gc takes packs the next backup dedups against and the
    // agent must send them again (blobs/missing answers them missing).
    RawSql(round % 2 == 1
               ? "UPDATE snapshots SET state = 'quarantined', quarantined_at_ms = 0 WHERE state = 'kept'"
               : "UPDATE snapshots SET state = 'quarantined', quarantined_at_ms = 0 WHERE state = 'kept'"
                 " AND id NOT IN (SELECT id FROM snapshots ORDER BY received_at_ms DESC LIMIT 1)");
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 2 == 1 ? 1500 : 0));  // past the lease
  }
  done = true;
  gc.join();
  EXPECT_GE(ok, 4) << "most backups should get through the races";
  EXPECT_GE(gc_runs.load(), 3);
  EXPECT_EQ(gc_failures.load(), 0);
  EXPECT_GE(packs_quarantined.load(), 1);
  EXPECT_GE(packs_deleted.load(), 1);
  // Once the lease is over, gc collects the evicted snapshots and their packs.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  VaultRun last = vault_.Vault({"--json", "gc"});
  ASSERT_EQ(last.exit_code, 0) << last.out << last.err;
  EXPECT_GE(last.Json()["repositories"].get<int>(), 1);
  CheckNothingCommittedIsMissing();  // the last round evicted everything: none may be kept
  VaultRun scrub = vault_.Vault({"--json", "scrub", "--all"});
  EXPECT_EQ(scrub.exit_code, 0) << scrub.out << scrub.err;
  EXPECT_TRUE(scrub.Json()["damage"].empty()) << scrub.out;
  // And the next backup still goes through, re-sending whatever gc took.
  kura::testing::KuraRun again = Backup();
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_GE(CheckNothingCommittedIsMissing(), 1u);
}

// Over the real API: a pack GC is deleting right now answers 503 retry_later (with
// Retry-After) and is left as it was; a quarantined pack sent again is stored again
// (201 revived) and its blobs are no longer missing.
TEST_F(GcScrubE2ETest, PackBeingDeletedAnswersRetryLaterAndAQuarantinedOneIsRevived) {
  kura::testing::KuraRun r = Backup();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  sb_.WriteFile("data/round.bin", Bin(kura::testing::SeededBytes(7, 700000)), 0644);
  r = Backup();  // a second pack
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ifstream cred_in(sb_.Path("state/vault/credential"));
  std::string token((std::istreambuf_iterator<char>(cred_in)), {});
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  ASSERT_TRUE(token.starts_with("kst1_"));
  std::vector<std::pair<std::string, std::string>> packs;  // name, bytes
  for (const auto& e : fs::recursive_directory_iterator(sb_.Path("local") + "/data")) {
    if (!e.is_regular_file() || e.path().filename().string().starts_with(".")) continue;
    std::ifstream in(e.path(), std::ios::binary);
    packs.emplace_back(e.path().filename().string(), std::string((std::istreambuf_iterator<char>(in)), {}));
  }
  ASSERT_GE(packs.size(), 2u);
  const auto& [deleting, deleting_bytes] = packs[0];
  const auto& [quarantined, quarantined_bytes] = packs[1];
  RawSql("UPDATE packs SET state = 'quarantined', quarantined_at_ms = 0 WHERE name IN ('" + deleting +
         "', '" + quarantined + "')");
  RawSql(
      "INSERT INTO gc_deletions (repository_id, kind, name, size, created_at_ms) SELECT repository_id,"
      " 'pack', name, size, 0 FROM packs WHERE name = '" +
      deleting + "'");
  auto client = vault_.Client();
  ASSERT_NE(client, nullptr);
  auto put = [&](const std::string& name, const std::string& body) {
    net::ClientRequest req;
    req.method = "PUT";
    req.path = "/v1/repos/" + RepoId() + "/packs/" + name;
    req.body = body;
    req.headers.push_back({"Authorization", "Bearer " + token});
    auto resp = client->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : net::ClientResponse{};
  };
  net::ClientResponse busy = put(deleting, deleting_bytes);
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(json::parse(busy.body, nullptr, false)["code"], "retry_later") << busy.body;
  EXPECT_TRUE(busy.headers.Has("Retry-After"));
  net::ClientResponse back = put(quarantined, quarantined_bytes);
  EXPECT_EQ(back.status, 201) << back.body;
  EXPECT_TRUE(json::parse(back.body, nullptr, false)["revived"].get<bool>()) << back.body;
  FakeClock clock(0);
  auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
  ASSERT_TRUE(c.ok());
  auto bound = (*c)->FindBoundRepository(RepoId());
  ASSERT_TRUE(bound.ok());
  EXPECT_TRUE((*c)->PackStored(bound->id, quarantined).value());
  EXPECT_FALSE((*c)->PackStored(bound->id, deleting).value());
  EXPECT_TRUE((*c)->DeletionPending(bound->id, "pack", deleting).value());
}

// G-INT-02, G-INT-01: a byte flipped on disk in a stored pack is found by
// `kura-vault scrub --all` (exit 8), which names the pack and the snapshot it affects.
TEST_F(GcScrubE2ETest, FlippedByteInAStoredPackIsReportedWithTheAffectedSnapshot) {
  kura::testing::KuraRun r = Backup();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  VaultRun clean = vault_.Vault({"--json", "scrub", "--all"});
  ASSERT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  std::string pack_path, pack_name, snapshot;
  FirstStoredPack(&pack_path, &pack_name);
  ASSERT_FALSE(pack_path.empty());
  for (const auto& e : fs::directory_iterator(Area() + "/snapshots")) snapshot = e.path().filename().string();
  {
    std::fstream f(pack_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(700);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(700);
    f.write(&c, 1);
  }
  VaultRun scrub = vault_.Vault({"--json", "scrub", "--all"});
  EXPECT_EQ(scrub.exit_code, 8) << scrub.out << scrub.err;
  json j = scrub.Json();
  ASSERT_TRUE(j.is_object()) << scrub.out;
  ASSERT_EQ(j["damage"].size(), 1u) << scrub.out;
  EXPECT_EQ(j["damage"][0]["object"], pack_name);
  EXPECT_EQ(j["damage"][0]["kind"], "pack");
  EXPECT_EQ(j["damage"][0]["tenant"], "sakura-clinic");
  EXPECT_EQ(j["damage"][0]["affected_snapshots"], json::array({snapshot}));
  VaultRun human = vault_.Vault({"--lang", "en", "scrub", "--all"});
  EXPECT_EQ(human.exit_code, 8);
  EXPECT_NE(human.err.find(pack_name), std::string::npos) << human.out << human.err;
  EXPECT_NE(human.err.find(snapshot), std::string::npos) << human.err;
  VaultRun verify = vault_.Vault({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // On record: every run, the damage once, with the snapshot it affects.
  FakeClock clock(0);
  auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
  ASSERT_TRUE(c.ok());
  size_t runs = 0, damage = 0;
  ASSERT_TRUE((*c)->ForEachAudit(0, INT64_MAX,
                                 [&](const AuditRecord& rec) {
                                   if (rec.event.action == "scrub.run") ++runs;
                                   if (rec.event.action == "scrub.damage") {
                                     ++damage;
                                     EXPECT_EQ(rec.event.result, "failure");
                                     EXPECT_NE(rec.event.target.find(pack_name), std::string::npos);
                                     EXPECT_NE(rec.event.detail.find(snapshot), std::string::npos);
                                   }
                                   return Status::Ok();
                                 })
                  .ok());
  EXPECT_EQ(runs, 3u);
  EXPECT_EQ(damage, 1u);
}

// G-INT-02, G-INT-01: a pack damaged in the vault is repaired by the site's next backup.
// Until then the site shows "damaged"; a site cannot use the repair to put other bytes under
// the pack's name; the next `kura backup --vault` sends the pack again (blobs/missing calls
// its data missing), the vault checks it and replaces the damaged file, a full scrub finds
// everything whole, and the repair is on record.
TEST_F(GcScrubE2ETest, DamagedPackIsRepairedByTheSitesNextBackup) {
  kura::testing::KuraRun r = Backup();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string pack_path, pack_name;
  FirstStoredPack(&pack_path, &pack_name);
  ASSERT_FALSE(pack_path.empty());
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  const std::string whole = read(pack_path);
  std::string damaged = whole;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x10);
  std::ofstream(pack_path, std::ios::binary | std::ios::trunc) << damaged;
  ASSERT_EQ(vault_.Vault({"scrub", "--all"}).exit_code, 8);
  auto site_state = [&]() {
    VaultRun st = vault_.Vault({"status", "--json"});
    EXPECT_EQ(st.exit_code, 0) << st.err;
    json doc = st.Json();
    EXPECT_EQ(doc["sites"].size(), 1u) << st.out;
    return doc["sites"].empty() ? std::string() : doc["sites"][0]["state"].get<std::string>();
  };
  EXPECT_EQ(site_state(), "damaged");

  // Other bytes under the damaged pack's name: refused by the name check, nothing replaced.
  std::ifstream cred_in(sb_.Path("state/vault/credential"));
  std::string token((std::istreambuf_iterator<char>(cred_in)), {});
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  auto client = vault_.Client();
  ASSERT_NE(client, nullptr);
  net::ClientRequest forged;
  forged.method = "PUT";
  forged.path = "/v1/repos/" + RepoId() + "/packs/" + pack_name;
  forged.body = damaged;
  forged.headers.push_back({"Authorization", "Bearer " + token});
  auto refused = client->Send(forged);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_EQ(json::parse(refused->body, nullptr, false)["code"], "digest_mismatch") << refused->body;
  EXPECT_EQ(read(pack_path), damaged);

  r = Backup();  // the same data again: nothing new, but the damaged pack goes up
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(read(pack_path), whole);
  VaultRun scrub = vault_.Vault({"--json", "scrub", "--all"});
  EXPECT_EQ(scrub.exit_code, 0) << scrub.out << scrub.err;
  EXPECT_TRUE(scrub.Json()["damage"].empty()) << scrub.out;
  EXPECT_GE(CheckNothingCommittedIsMissing(), 1u);
  EXPECT_NE(site_state(), "damaged");
  FakeClock clock(0);
  auto c = Catalog::Open(vault_.data_dir() + "/catalog.db", clock);
  ASSERT_TRUE(c.ok());
  size_t repairs = 0;
  ASSERT_TRUE(
      (*c)->ForEachAudit(0, INT64_MAX,
                         [&](const AuditRecord& rec) {
                           if (rec.event.action != "scrub.repair") return Status::Ok();
                           ++repairs;
                           EXPECT_EQ(rec.event.result, "success");
                           EXPECT_NE(rec.event.target.find(pack_name), std::string::npos);
                           EXPECT_NE(rec.event.detail.find("re-uploaded by the site"), std::string::npos)
                               << rec.event.detail;
                           EXPECT_EQ(rec.event.actor.kind, "site");
                           return Status::Ok();
                         })
          .ok());
  EXPECT_EQ(repairs, 1u);
  EXPECT_EQ(vault_.Vault({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace kura::vault::testing
