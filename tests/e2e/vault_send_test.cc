// The agent and the real kura-vault over real HTTPS on 127.0.0.1: enrolment with a code
// (pinned certificate, credential 0600, recovery slot added), a job whose second target
// is the vault, a re-send that uploads nothing, the vault killed (SIGKILL) in the middle
// of a send and started again while the agent's retries finish it, and the vendor
// restoring the vault's copy with the recovery key alone.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/vault_site.h"
#include "crypto/crypto.h"
#include "engine/send_packs.h"
#include "objstore/local_store.h"
#include "repo/repository.h"
#include "support/job_harness.h"
#include "support/repo_testing.h"
#include "support/vault_process.h"
#include "util/hex.h"
#include "util/i18n.h"
#include "util/process.h"

namespace kura::testing {
namespace {

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class VaultSendE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    vault_ = std::make_unique<VaultProcess>(sb_.dir());
    code_ = vault_->EnrolSite("honin");
    vault_->Start();
    url_ = vault_->url();
    sb_.WriteFile("enrol.txt", code_ + "\n");
    ::mkdir(sb_.Path("data").c_str(), 0755);
    sb_.WriteFile("data/karte.pdf", std::string(AsString(SeededBytes(1, 3000000))), 0644);
    sb_.WriteFile("data/notes.txt", std::string(AsString(TextBytes(200000))), 0644);
  }
  void TearDown() override { vault_->Stop(); }

  static std::string AsString(const Bytes& b) { return std::string(b.begin(), b.end()); }

  void WriteAgentConfig() { WriteVaultJobConfig(sb_, url_); }
  // The agent config first: enrolment finds the state directory there (state_dir).
  KuraRun Enrol() {
    WriteAgentConfig();
    return sb_.Kura({"init", "--vault", url_, "--enroll", sb_.Path("enrol.txt"), "--job", "care", "-r",
                     sb_.Path("local")});
  }
  std::string RepoId() {
    auto store = LocalStore::Open(sb_.Path("local"), false);
    auto cfg = (*store)->Get(ObjectType::kConfig, "config");
    return nlohmann::json::parse(std::string(cfg->begin(), cfg->end()))["id"].get<std::string>();
  }
  size_t VaultCount(ObjectType type) {
    auto store = LocalStore::Open(vault_->data_dir() + "/objects/" + RepoId(), false);
    if (!store.ok()) return 0;
    auto l = (*store)->List(type);
    return l.ok() ? l->size() : 0;
  }
  std::unique_ptr<Repository> OpenLocal() {
    ::setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    ::setenv("KURA_CACHE_DIR", sb_.Path("cache").c_str(), 1);
    Credentials c;
    c.password = "e2e-password-1234";
    auto store = OpenObjectStore(sb_.Path("local"), false);
    auto repo = Repository::Open(std::move(*store), c);
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return repo.ok() ? std::move(*repo) : nullptr;
  }

  JobSandbox sb_;
  std::unique_ptr<VaultProcess> vault_;
  std::string code_, url_;
};

// G-ENC-01, G-BAK-08, G-BAK-07: enrol, back up locally, the job sends to the vault; the
// vendor restores the vault's copy with the recovery key only; the code works once and
// never goes on the command line.
TEST_F(VaultSendE2ETest, EnrolBackUpSendAndTheVendorRestores) {
  KuraRun inline_code = sb_.Kura({"init", "--vault", url_, "--enroll", code_, "-r", sb_.Path("local")});
  EXPECT_EQ(inline_code.exit_code, 2) << inline_code.err;
  EXPECT_NE(inline_code.err.find("コマンド行に書かないでください"), std::string::npos) << inline_code.err;

  KuraRun init = Enrol();
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  EXPECT_NE(init.out.find("保管庫 " + url_ + " に登録しました"), std::string::npos) << init.out;
  EXPECT_EQ(Mode(sb_.Path("state/vault/credential")), 0600);
  EXPECT_EQ(Mode(sb_.Path("state/vault/enrolment.json")), 0600);
  EXPECT_EQ(init.out.find("kst1_"), std::string::npos);
  EXPECT_EQ(init.err.find("kst1_"), std::string::npos);
  KuraRun again = Enrol();
  EXPECT_EQ(again.exit_code, 4) << again.err;  // the code is used
  EXPECT_NE(again.err.find("enrolment_invalid"), std::string::npos) << again.err;

  WriteAgentConfig();
  KuraRun run = sb_.Kura({"run", "care", "--kind", "daily"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto local = sb_.Snapshots("local");
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(VaultCount(ObjectType::kSnapshot), 1u);
  EXPECT_GE(VaultCount(ObjectType::kPack), 1u);

  // `kura backup --vault`: saved locally first, then sent.
  sb_.WriteFile("data/new.txt", "追加の記録\n", 0644);
  KuraRun manual = sb_.Kura(
      {"--json", "backup", "-r", sb_.Path("local"), "--vault", url_, "--job", "care", sb_.Path("data")});
  ASSERT_EQ(manual.exit_code, 0) << manual.out << manual.err;
  auto doc = nlohmann::json::parse(manual.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << manual.out;
  EXPECT_GE(doc["vault"]["packs_uploaded"].get<int>(), 1);
  EXPECT_EQ(VaultCount(ObjectType::kSnapshot), 2u);

  // The vendor: the vault's copy, the recovery secret key and nothing else.
  ProcessOptions o;
  o.argv = {std::getenv("KURA_BIN") != nullptr ? std::getenv("KURA_BIN") : "build/bin/kura",
            "restore",
            "-r",
            vault_->data_dir() + "/objects/" + RepoId(),
            "--recovery-key-file",
            sb_.Path("recovery.key"),
            "latest",
            "--target",
            sb_.Path("restored")};
  o.env = {{"KURA_CACHE_DIR", sb_.Path("vendor-cache")}};
  o.unset_env = {"KURA_PASSWORD", "KURA_PASSWORD_FILE", "KURA_REPOSITORY"};
  auto restore = RunProcess(o);
  ASSERT_TRUE(restore.ok());
  ASSERT_EQ(restore->exit_code, 0) << restore->err;
  std::map<std::string, std::string> back = ReadTree(sb_.Path("restored"));
  std::map<std::string, std::string> orig = ReadTree(sb_.Path("data"));
  size_t same = 0;
  for (const auto& [path, content] : orig) {
    for (const auto& [rpath, rcontent] : back) {
      if (rpath.size() >= path.size() && rpath.compare(rpath.size() - path.size(), path.size(), path) == 0 &&
          rcontent == content)
        ++same;
    }
  }
  EXPECT_EQ(same, orig.size()) << "the vendor's restore differs";
}

// A second send of the same snapshot uploads nothing; the vault killed in the middle of a
// send and started again on the same port: the agent's retries finish it.
TEST_F(VaultSendE2ETest, ResendUploadsNothingAndAKilledVaultIsRetriedToTheEnd) {
  ASSERT_EQ(Enrol().exit_code, 0);
  WriteAgentConfig();
  ASSERT_EQ(sb_.Kura({"run", "care", "--kind", "daily"}).exit_code, 0);
  auto repo = OpenLocal();
  ASSERT_NE(repo, nullptr);
  SetLanguage(Language::kEnglish);
  auto vault = OpenVault(sb_.Path("state"), url_, repo->id(), "care");
  ASSERT_TRUE(vault.ok()) << vault.status().ToString();
  auto resend = SendSnapshot(*repo, "latest", **vault);
  ASSERT_TRUE(resend.ok()) << resend.status().ToString();
  EXPECT_EQ(resend->packs_uploaded, 0u);
  EXPECT_EQ(resend->blobs_missing, 0u);
  EXPECT_FALSE(resend->commit.created);

  // New data: 24 MB that the vault lacks, in many packs.
  sb_.WriteFile("data/scan.tif", std::string(AsString(SeededBytes(7, 24000000))), 0644);
  KuraRun local_only = sb_.Kura({"backup", "-r", sb_.Path("local"), "--kind", "manual", sb_.Path("data")});
  ASSERT_EQ(local_only.exit_code, 0) << local_only.err;
  repo = OpenLocal();
  const size_t packs_before = VaultCount(ObjectType::kPack);
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (VaultCount(ObjectType::kPack) < packs_before + 1 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    vault_->Kill();
    killed = true;
  });
  int restarts = 0;
  RetryOptions retry;
  retry.first_delay = std::chrono::milliseconds(100);
  retry.sleep = [&](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    if (killed && !vault_->running() && restarts++ == 0) vault_->Start();
  };
  auto client = OpenVault(sb_.Path("state"), url_, repo->id(), "care", retry);
  ASSERT_TRUE(client.ok());
  auto sent = SendSnapshot(*repo, "latest", **client);
  killer.join();
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(killed);
  EXPECT_EQ(restarts, 1) << "the vault was not killed mid-send; use more data";
  EXPECT_TRUE(sent->commit.created);
  EXPECT_EQ(VaultCount(ObjectType::kSnapshot), 2u);
  SetLanguage(Language::kJapanese);
}

// Issue 7 §4 "Capacity" (G-MON-07): past the tenant's soft quota the office sees the
// vault's warning in `kura status`; past the hard quota a send is refused with exit 7, the
// local snapshot is kept, and the status file's warning says the vault is full and whom
// to call.
TEST_F(VaultSendE2ETest, SoftQuotaWarnsInStatusAndHardQuotaRefusesTheSendClearly) {
  ASSERT_EQ(Enrol().exit_code, 0);
  WriteAgentConfig();
  vault_->Vault({"tenant", "set-quota", "sakura-clinic", "--soft", "1K", "--hard", "0"});
  KuraRun run = sb_.Kura({"run", "care", "--kind", "daily"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  KuraRun status = sb_.Kura({"status", "-v"});
  EXPECT_NE(status.out.find("警告"), std::string::npos) << status.out << status.err;
  KuraRun json_status = sb_.Kura({"--json", "status"});
  auto j = nlohmann::json::parse(json_status.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << json_status.out;
  ASSERT_TRUE(j.contains("offsite") && !j["offsite"].empty()) << json_status.out;
  EXPECT_FALSE(j["offsite"][0]["quota"]["warning"].get<std::string>().empty()) << json_status.out;
  EXPECT_EQ(j["offsite"][0]["quota"]["soft"].get<uint64_t>(), 1024u);

  // Hard quota: the pack is refused, nothing is retried, the local snapshot stays.
  vault_->Vault({"tenant", "set-quota", "sakura-clinic", "--soft", "0", "--hard", "1K"});
  sb_.WriteFile("data/scan2.pdf", AsString(SeededBytes(9, 400000)), 0644);
  KuraRun full =
      sb_.Kura({"backup", "-r", sb_.Path("local"), "--vault", url_, "--job", "care", sb_.Path("data")});
  EXPECT_EQ(full.exit_code, 7) << full.out << full.err;
  EXPECT_NE(full.err.find("保管庫の容量の上限に達しました。販売店に連絡してください"), std::string::npos)
      << full.err;
  EXPECT_EQ(sb_.Snapshots("local").size(), 2u) << "the local snapshot must be kept";
}

}  // namespace
}  // namespace kura::testing
