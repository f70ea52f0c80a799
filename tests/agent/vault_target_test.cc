// A job whose second target is a vault (agent.toml `vault = "https://…"`), against a real
// HTTPS server on 127.0.0.1 (fake_vault.h, faults only): enrolment stores the credential
// 0600 and adds the recovery slot; a run sends the snapshot and reports the run with the
// job's schedule; a refused send keeps the queue item and raises the warning exactly as
// for a local second target, and the next send clears it.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "agent/fake_vault.h"
#include "agent/job_runner.h"
#include "agent/run_log.h"
#include "agent/send_queue.h"
#include "agent/status_file.h"
#include "agent/vault_site.h"
#include "support/repo_testing.h"
#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {
namespace {

TEST(VaultTargetConfigTest, VaultTargetsAreParsedAndMisuseIsRefused) {
  SetLanguage(Language::kEnglish);
  const std::string head = R"([[job]]
name = "care"
[job.source]
kind = "files"
paths = ["/srv/data"]
)";
  const std::string local = R"([[job.target]]
name = "local"
repository = "/mnt/nas/kura"
password_file = "/etc/kura/repo.pw"
)";
  auto ok = ParseAgentConfig(
      head + local + "[[job.target]]\nname = \"vault\"\nvault = \"https://v.example.jp:8443\"\n",
      "agent.toml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const TargetConfig& v = ok->jobs[0].targets[1];
  EXPECT_TRUE(v.is_vault());
  EXPECT_EQ(v.vault, "https://v.example.jp:8443");
  EXPECT_FALSE(v.apply_retention);

  auto first = ParseAgentConfig(head + "[[job.target]]\nname = \"vault\"\nvault = \"https://v:1\"\n" + local,
                                "agent.toml");
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.status().message().find("the first target must be a local repository"), std::string::npos);
  auto mixed = ParseAgentConfig(
      head + local + "[[job.target]]\nname = \"v\"\nvault = \"https://v:1\"\npassword_file = \"/x\"\n",
      "agent.toml");
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("shares the first target's keys"), std::string::npos);
  auto plain =
      ParseAgentConfig(head + local + "[[job.target]]\nname = \"v\"\nvault = \"http://v:1\"\n", "agent.toml");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("https://"), std::string::npos);
  SetLanguage(Language::kJapanese);
}

class VaultTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLanguage(Language::kEnglish);
    setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
    setenv("KURA_ARGON2_OPS", "1", 1);
    setenv("TZ", "Asia/Tokyo", 1);
    tzset();
    clock_.Set(1795240800);  // 2026-11-21 12:00 in Tokyo: outside the send window
    setenv("KURA_CACHE_DIR", dir_.Sub("cache").c_str(), 1);
    ASSERT_TRUE(MakeDirs(dir_.Sub("data")).ok());
    std::ofstream(dir_.Sub("data/a.txt")) << "介護記録 1\n";
    std::ofstream(dir_.Sub("pw")) << "correct horse battery\n";
    ::chmod(dir_.Sub("pw").c_str(), 0600);
    auto store = OpenObjectStore(dir_.Sub("local"), true);
    ASSERT_TRUE(store.ok());
    Credentials c;
    c.password = "correct horse battery";
    auto repo = Repository::Init(std::move(*store), c, InitOptions{}, clock_);
    ASSERT_TRUE(repo.ok());
    repo_ = std::move(*repo);
    ASSERT_TRUE(MakeDirs(dir_.Sub("vault")).ok());
    vault_ = std::make_unique<testing::FakeVault>(dir_.Sub("vault"));
    recovery_ = crypto::GenerateBoxKeyPair();

    config_.state_dir = dir_.Sub("state");
    config_.status_file = dir_.Sub("state/status.json");
    config_.log_file = dir_.Sub("kura.log");
    JobConfig job;
    job.name = "care";
    job.source.kind = "files";
    job.source.paths = {dir_.Sub("data")};
    job.schedule.daily = TimeOfDay{2, 0};
    TargetConfig local;
    local.name = "local";
    local.repository = dir_.Sub("local");
    local.password_file = dir_.Sub("pw");
    TargetConfig vault;
    vault.name = "vault";
    vault.vault = vault_->url();
    vault.apply_retention = false;
    job.targets = {local, vault};
    config_.jobs.push_back(job);
    log_ = std::make_unique<RunLog>(config_.log_file, 1 << 20, 5, false);
  }
  void TearDown() override {
    vault_.reset();
    SetLanguage(Language::kJapanese);
  }

  Result<EnrolResult> Enrol() {
    vault_->set_enrol_answer(nlohmann::json{
        {"api", 1},
        {"tenant", "sakura-clinic"},
        {"site", "honin"},
        {"site_id", 7},
        {"credential", vault_->token()},
        {"recovery_public_key", ToHex(recovery_.public_key)},
        {"vault_time",
         "2026-11-21T03:00:00Z"}}.dump());
    auto code = ParseEnrolmentCode("KURA1-ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-" +
                                   vault_->fingerprint().ToString().substr(7));
    EXPECT_TRUE(code.ok()) << code.status().ToString();
    RetryOptions fast;
    fast.first_delay = std::chrono::milliseconds(1);
    return EnrolSite(config_.state_dir, vault_->url(), *code, "reception-pc", *repo_, "care", fast);
  }
  RunContext Ctx() {
    clock_.Advance(60);
    return RunContext{&config_, &clock_, log_.get(), nullptr};
  }

  testing::TempDir dir_{"kura-vault-target"};
  FakeClock clock_{0};
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<testing::FakeVault> vault_;
  crypto::BoxKeyPair recovery_;
  AgentConfig config_;
  std::unique_ptr<RunLog> log_;
};

// G-BAK-08: enrolment pins the vault, keeps the credential private and makes the vendor
// able to restore (a recovery slot for the tenant's key).
TEST_F(VaultTargetTest, EnrolmentStoresTheCredentialPrivatelyAndAddsTheRecoverySlot) {
  auto e = Enrol();
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_TRUE(e->slot_added);
  struct stat st {};
  ASSERT_EQ(::stat(VaultCredentialPath(config_.state_dir).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto saved = LoadEnrolment(config_.state_dir);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->tenant, "sakura-clinic");
  EXPECT_EQ(saved->fingerprint, vault_->fingerprint().ToString());
  auto text = ReadTextFile(config_.state_dir + "/vault/enrolment.json");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(vault_->token()), std::string::npos) << "the credential is only in its own file";
  auto keys = repo_->ListKeys();
  ASSERT_TRUE(keys.ok());
  int recovery = 0;
  for (const KeySlot& k : *keys) recovery += k.kind == KeySlotKind::kRecovery;
  EXPECT_EQ(recovery, 1);
  EXPECT_EQ(vault_->Count("PUT", "/config"), 1);
  EXPECT_EQ(vault_->Count("PUT", "/keys/"), 2);
  // The vendor's secret key opens the repository (and so the vault's copy of it).
  Credentials vendor;
  testing::WriteFile(dir_.Sub("recovery.key"), ToHex(recovery_.secret_key) + "\n");
  vendor.recovery_secret_key_file = dir_.Sub("recovery.key");
  auto opened = Repository::Open(OpenObjectStore(dir_.Sub("local"), false).value(), vendor);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
}

TEST_F(VaultTargetTest, RunSendsToTheVaultAndAFailedSendKeepsTheWarningUntilTheNextSucceeds) {
  ASSERT_TRUE(Enrol().ok());
  auto run = RunJob(Ctx(), config_.jobs[0], SnapshotKind::kDaily, false);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_TRUE(run->ok()) << run->targets.back().status.ToString();
  EXPECT_EQ(run->targets.back().state, "sent");
  EXPECT_EQ(run->targets.back().snapshot, run->snapshot) << "the vault keeps the same snapshot object";
  EXPECT_EQ(vault_->Count("PUT", "/snapshots/" + run->snapshot), 1);
  ASSERT_EQ(vault_->runs().size(), 1u);
  auto reported = nlohmann::json::parse(vault_->runs()[0]);
  EXPECT_EQ(reported["result"], "success");
  EXPECT_EQ(reported["snapshot"], run->snapshot);
  EXPECT_EQ(reported["schedule"]["time"], "02:00");
  EXPECT_EQ(reported["schedule"]["timezone"], "Asia/Tokyo");

  // The vault's quota is full: the send fails, is queued again and warns.
  std::ofstream(dir_.Sub("data/b.txt")) << "介護記録 2\n";
  vault_->AddFault({"/snapshots/", 1, 507, "quota_exceeded", ""});
  auto full = RunJob(Ctx(), config_.jobs[0], SnapshotKind::kDaily, false);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->targets.back().state, "failed");
  EXPECT_EQ(full->targets.back().status.code(), Code::kNoSpace);
  auto doc = LoadStatusFile(config_.status_file);
  ASSERT_TRUE(doc.ok());
  auto warnings = ActiveWarnings(*doc);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].target, "vault");
  SendQueue queue(config_.QueueDir());
  auto items = queue.List();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_NE((*items)[0].last_error.find("quota_exceeded"), std::string::npos) << (*items)[0].last_error;
  auto failure = nlohmann::json::parse(vault_->runs().back());
  EXPECT_EQ(failure["result"], "failure");

  auto resent = SendQueued(Ctx(), (*items)[0].id);
  ASSERT_TRUE(resent.ok());
  EXPECT_TRUE(resent->status.ok()) << resent->status.ToString();
  doc = LoadStatusFile(config_.status_file);
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(ActiveWarnings(*doc).empty());
  EXPECT_TRUE(queue.List()->empty());
}

}  // namespace
}  // namespace kura
