// The vault under a vendor's night (issue 7 §1, §6), with the real binaries over real HTTPS
// on 127.0.0.1: 20 sites' agents backing up to one kura-vault at once while 300 idle TLS
// connections and a slow-header client are held against it, and the same with the vault
// SIGKILLed and restarted four times during the uploads. Every agent must finish, and
// nothing the vault committed may refer to a pack it does not hold whole.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "net/net_support.h"
#include "support/job_harness.h"
#include "support/repo_testing.h"
#include "support/vault_process.h"

namespace kura::testing {
namespace {

namespace fs = std::filesystem;
namespace nt = kura::net::testing;

constexpr int kAgents = 20;

std::string AsString(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

// One site: its sandbox (own cache and config), a local repository enrolled with the vault
// and a few MiB of data of its own.
struct Site {
  std::unique_ptr<JobSandbox> sb = std::make_unique<JobSandbox>();
  std::string repo, state, data;
};

class VaultLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nt::RaiseFileLimit();
    vault_ = std::make_unique<VaultProcess>(dir_.path());
    std::vector<std::string> codes;
    for (int i = 0; i < kAgents; ++i) codes.push_back(vault_->EnrolSite(fmt::format("site-{:02}", i)));
    vault_->Start();
    for (int i = 0; i < kAgents; ++i) {
      Site s;
      s.repo = s.sb->InitRepo("local");
      s.state = s.sb->Path("state");
      s.data = s.sb->Path("data");
      ::mkdir(s.data.c_str(), 0755);
      s.sb->WriteFile("data/dump.sql", AsString(TextBytes(600000 + 1000 * i)), 0644);
      s.sb->WriteFile("data/scan.pdf", AsString(SeededBytes(100 + i, 1500000)), 0644);
      s.sb->WriteFile("enrol.txt", codes[i] + "\n");
      KuraRun init = s.sb->Kura({"init", "--vault", vault_->url(), "--enroll", s.sb->Path("enrol.txt"),
                                 "--job", "nightly", "-r", s.repo, "--state-dir", s.state});
      ASSERT_EQ(init.exit_code, 0) << init.err;
      sites_.push_back(std::move(s));
    }
  }

  // Every agent's `kura backup --vault` at once; their runs by site.
  std::vector<KuraRun> BackUpAll() {
    std::vector<KuraRun> runs(sites_.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < sites_.size(); ++i) {
      threads.emplace_back([this, i, &runs] {
        const Site& s = sites_[i];
        runs[i] = s.sb->Kura({"backup", "-r", s.repo, "--kind", "daily", "--vault", vault_->url(), "--job",
                              "nightly", "--state-dir", s.state, s.data});
      });
    }
    for (std::thread& t : threads) t.join();
    return runs;
  }

  // What the catalog says is committed and stored, checked against the objects on disk:
  // every pack row's file exists with its size; returns the committed snapshot count.
  int CheckCommittedAgainstDisk() {
    sqlite3* db = nullptr;
    EXPECT_EQ(
        sqlite3_open_v2((vault_->data_dir() + "/catalog.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
        SQLITE_OK);
    std::map<std::string, uintmax_t> on_disk;
    for (const auto& e : fs::recursive_directory_iterator(vault_->data_dir() + "/objects")) {
      if (e.is_regular_file()) on_disk[e.path().filename().string()] = e.file_size();
    }
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT name, size FROM packs WHERE state = 'stored'", -1, &q, nullptr),
              SQLITE_OK);
    int packs = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      std::string name(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
      auto size = static_cast<uintmax_t>(sqlite3_column_int64(q, 1));
      auto it = on_disk.find(name);
      EXPECT_TRUE(it != on_disk.end()) << "the catalog has pack " << name << " but the disk does not";
      if (it != on_disk.end()) {
        EXPECT_EQ(it->second, size) << "pack " << name << " is not whole";
      }
      ++packs;
    }
    sqlite3_finalize(q);
    EXPECT_GT(packs, 0);
    // Every blob a committed snapshot needs is in a stored pack: the commit checked it, and
    // no pack row may have vanished since.
    EXPECT_EQ(sqlite3_prepare_v2(
                  db,
                  "SELECT COUNT(*) FROM snapshots s WHERE s.state != 'quarantined' AND"
                  " s.blob_count > (SELECT COUNT(DISTINCT b.blob_id) FROM blobs b JOIN packs p"
                  " ON p.id = b.pack_id WHERE b.repository_id = s.repository_id AND p.state = 'stored')",
                  -1, &q, nullptr),
              SQLITE_OK);
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(q, 0), 0) << "a committed snapshot needs more blobs than its packs hold";
    sqlite3_finalize(q);
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM snapshots", -1, &q, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
    int snapshots = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return snapshots;
  }

  TempDir dir_{"kura-vault-load"};
  std::unique_ptr<VaultProcess> vault_;
  std::vector<Site> sites_;
};

// Issue 7 §1: slow or idle clients must not starve the server — 300 idle connections held
// open (TLS done, no request) and a client sending its head one byte at a time while 20
// agents back up; every agent succeeds and the idle connections are still served.
TEST_F(VaultLoadTest, TwentyAgentsSucceedPast300IdleConnectionsAndASlowClient) {
  SSL_CTX* ctx = nt::PermissiveClientContext();
  auto port = static_cast<uint16_t>(vault_->port());
  std::vector<std::unique_ptr<nt::RawTlsClient>> idle;
  for (int i = 0; i < 300; ++i) {
    auto c = std::make_unique<nt::RawTlsClient>(ctx);
    ASSERT_TRUE(c->Connect(port)) << "idle connection " << i << " refused";
    idle.push_back(std::move(c));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> slow_cut{0};
  std::thread slowloris([&] {
    while (!stop.load()) {
      nt::RawTlsClient c(ctx);
      if (!c.Connect(port)) continue;
      std::string head = "GET /v1/health HTTP/1.1\r\nHost: vault\r\nX-Slow: ";
      for (size_t i = 0; !stop.load(); ++i) {
        if (!c.Write(std::string(1, i < head.size() ? head[i] : 'a'))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      ++slow_cut;
    }
  });

  std::vector<KuraRun> runs = BackUpAll();
  stop = true;
  slowloris.join();
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_EQ(runs[i].exit_code, 0) << "site " << i << ": " << runs[i].err;
  EXPECT_EQ(CheckCommittedAgainstDisk(), kAgents);

  // The idle connections were held, not dropped, and are answered now.
  int answered = 0;
  for (auto& c : idle) {
    if (!c->Write("GET /v1/health HTTP/1.1\r\nHost: vault\r\n\r\n")) continue;
    if (nt::StatusOf(c->ReadResponse(std::chrono::seconds(10))) == 200) ++answered;
  }
  EXPECT_EQ(answered, 300);
  SSL_CTX_free(ctx);
}

// Issue 7 §6: the vault killed (SIGKILL) during uploads, repeatedly: the agents retry with
// backoff and finish, and nothing committed refers to a missing or partial pack.
TEST_F(VaultLoadTest, AgentsFinishThroughFourVaultKillsDuringUploadsChurn) {
  std::atomic<bool> done{false};
  std::atomic<int> kills{0};
  std::thread churn([&] {
    for (int i = 0; i < 4 && !done.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      vault_->Kill();
      ++kills;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      vault_->Start();
    }
  });
  std::vector<KuraRun> runs = BackUpAll();
  done = true;
  churn.join();
  EXPECT_GE(kills.load(), 1);
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_EQ(runs[i].exit_code, 0) << "site " << i << ": " << runs[i].err;
  EXPECT_EQ(CheckCommittedAgainstDisk(), kAgents);

  // A second night: every site sends again; the vault has all it had.
  std::vector<KuraRun> again = BackUpAll();
  for (size_t i = 0; i < again.size(); ++i)
    EXPECT_EQ(again[i].exit_code, 0) << "site " << i << ": " << again[i].err;
  EXPECT_EQ(CheckCommittedAgainstDisk(), 2 * kAgents);

  // The vendor reads back what went up through the kills: `kura verify --read-data` through
  // a restore grant, with the recovery key only, on a machine of its own (G-BAK-10).
  JobSandbox vendor;
  for (int i : {0, kAgents / 2, kAgents - 1}) {
    std::vector<std::string> snaps = sites_[i].sb->Snapshots("local");
    ASSERT_FALSE(snaps.empty());
    std::string grant = vendor.Path(fmt::format("grant-{}.json", i));
    vault_->Vault({"grant", "issue", "sakura-clinic", fmt::format("site-{:02}", i), snaps.back(), "--purpose",
                   "load test: verify after four kills", "--output", grant, "--vault-url", vault_->url()});
    KuraRun verify = vendor.Kura(
        {"verify", "--read-data", "--grant", grant, "--recovery-key-file", vault_->recovery_key_file()});
    EXPECT_EQ(verify.exit_code, 0) << "site " << i << ": " << verify.out << verify.err;
  }
}

}  // namespace
}  // namespace kura::testing
