// The agent's vault client (agent/vault_client.h) over real HTTPS on 127.0.0.1 against a
// fault-injecting vault (fake_vault.h) that keeps what it gets in a real local
// repository: a snapshot sent through it restores with the site's password, a re-send
// uploads nothing, 5xx and a vault that went away are retried with backoff (Retry-After
// honoured), a 4xx never is, and each refusal comes back with the vault's code and message.
#include "agent/vault_client.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "agent/fake_vault.h"
#include "engine/send_packs.h"
#include "objstore/memory_store.h"
#include "support/repo_engine.h"
#include "util/fs.h"

namespace kura {
namespace {

using testing::File;
using testing::SeededBytes;
using testing::TempDir;
using testing::TextBytes;

class VaultClientTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    SetLanguage(Language::kEnglish);
    vault_ = std::make_unique<testing::FakeVault>(dir_.path());
    repo_ = Init(&source_);
    ASSERT_NE(repo_, nullptr);
    ASSERT_TRUE(StoreCredential(dir_.Sub("credential"), vault_->token()).ok());
  }
  void TearDown() override {
    vault_.reset();
    SetLanguage(Language::kJapanese);
  }

  std::unique_ptr<VaultClient> Client() {
    VaultOptions o;
    o.url = vault_->url();
    o.pin = vault_->fingerprint();
    o.credential_file = dir_.Sub("credential");
    o.repository = repo_->id();
    o.job = "nightly";
    o.retry.first_delay = std::chrono::milliseconds(1);
    o.retry.sleep = [this](std::chrono::milliseconds d) {
      sleeps_.push_back(d);
      if (on_sleep_) on_sleep_();
    };
    auto c = VaultClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string Snapshot(uint64_t seed) {
    auto b = Backup(*repo_, {File("karte/" + std::to_string(seed) + ".pdf", SeededBytes(seed, 400000)),
                             File("notes.txt", TextBytes(50000))});
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->snapshot_id : "";
  }

  TempDir dir_{"kura-vault-client"};
  TempDir restore_cache_{"kura-vault-cache"};
  MemoryStore source_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<testing::FakeVault> vault_;
  std::vector<std::chrono::milliseconds> sleeps_;
  std::function<void()> on_sleep_;
};

// G-ENC-01, G-BAK-08: the snapshot reaches the vault over pinned HTTPS, byte for byte, and
// the vault's copy restores with the site's password; sending again uploads nothing.
TEST_F(VaultClientTest, SendsOverHttpsAndTheCopyRestores) {
  std::string id = Snapshot(1);
  auto client = Client();
  auto sent = SendSnapshot(*repo_, id, *client);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_TRUE(sent->commit.created);
  EXPECT_GT(sent->commit.received, 0);
  EXPECT_EQ(vault_->Count("PUT", "/packs/"), static_cast<int>(sent->packs_uploaded));
  for (const auto& h : vault_->headers_seen()) {
    EXPECT_EQ(h.count("Accept-Language") ? h.at("Accept-Language") : "", "en");
  }

  ::setenv("KURA_CACHE_DIR", restore_cache_.path().c_str(), 1);
  auto store = OpenObjectStore(vault_->repo_dir(), false);
  ASSERT_TRUE(store.ok());
  auto copy = Repository::Open(std::move(*store), testing::Password());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto back = ReadBack(**copy, id);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto orig = ReadBack(*repo_, id);
  ASSERT_TRUE(orig.ok());
  EXPECT_TRUE(*back == *orig);

  const int packs_before = vault_->Count("PUT", "/packs/");
  auto again = SendSnapshot(*repo_, id, *Client());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->packs_uploaded, 0u);
  EXPECT_FALSE(again->commit.created);
  EXPECT_EQ(vault_->Count("PUT", "/packs/"), packs_before);
}

TEST_F(VaultClientTest, RetriesBusyVaultHonouringRetryAfter) {
  std::string id = Snapshot(2);
  vault_->AddFault({"/packs/", 2, 503, "busy", "3"});
  vault_->AddFault({"/snapshots/", 1, 500, "internal", ""});
  auto client = Client();
  auto sent = SendSnapshot(*repo_, id, *client);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_EQ(sleeps_.size(), 3u);
  EXPECT_GE(sleeps_[0], std::chrono::seconds(3));
  EXPECT_GE(sleeps_[1], std::chrono::seconds(3));
  EXPECT_LT(sleeps_[2], std::chrono::seconds(3));
}

// The vault killed in the middle of a send and started again: the client's retries find
// it back and the send completes.
TEST_F(VaultClientTest, VaultGoneAndBackIsRetriedUntilTheSendCompletes) {
  std::string id = Snapshot(3);
  vault_->Stop();
  int sleeps = 0;
  on_sleep_ = [&] {
    if (++sleeps == 3) vault_->Start();
  };
  auto sent = SendSnapshot(*repo_, id, *Client());
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sleeps, 3);
  // Delays grow.
  EXPECT_LE(sleeps_[0], sleeps_[2]);
}

TEST_F(VaultClientTest, GivesUpAfterMaxAttemptsWithARetryableError) {
  std::string id = Snapshot(4);
  vault_->Stop();
  auto sent = SendSnapshot(*repo_, id, *Client());
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), Code::kRetryable);
  EXPECT_EQ(sleeps_.size(), 7u);  // 8 attempts
  EXPECT_NE(sent.status().message().find("cannot reach the vault"), std::string::npos)
      << sent.status().message();
}

TEST_F(VaultClientTest, NeverRetriesARefusalAndReportsItsCodeAndMessage) {
  std::string id = Snapshot(5);
  struct Case {
    std::string code;
    int status;
    Code expected;
  };
  for (const Case& c : std::vector<Case>{{"quota_exceeded", 507, Code::kNoSpace},
                                         {"forbidden", 403, Code::kPermissionDenied},
                                         {"missing_blobs", 409, Code::kNotFound},
                                         {"recovery_slot_missing", 409, Code::kInvalidArgument},
                                         {"unauthorized", 401, Code::kUnauthorized},
                                         {"conflict", 409, Code::kAlreadyExists}}) {
    SCOPED_TRACE(c.code);
    sleeps_.clear();
    vault_->AddFault({"/v1/repos/", 1, c.status, c.code, "1"});
    auto client = Client();
    auto sent = SendSnapshot(*repo_, id, *client);
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.status().code(), c.expected) << sent.status().ToString();
    EXPECT_TRUE(sleeps_.empty()) << "a 4xx is never retried";
    EXPECT_EQ(client->last_error_code(), c.code);
    EXPECT_NE(sent.status().message().find("(" + c.code + ", HTTP " + std::to_string(c.status) + ")"),
              std::string::npos)
        << sent.status().message();
    EXPECT_NE(sent.status().message().find("the vault says " + c.code), std::string::npos);
    EXPECT_EQ(sent.status().message().find(vault_->token()), std::string::npos);
  }
  EXPECT_EQ(vault_->Count("PUT", "/snapshots/"), 0);
}

TEST_F(VaultClientTest, JapaneseByDefault) {
  SetLanguage(Language::kJapanese);
  vault_->AddFault({"/config", 1, 507, "quota_exceeded", ""});
  auto sent = SendSnapshot(*repo_, Snapshot(6), *Client());
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.status().message().find("保管庫の応答 quota_exceeded"), std::string::npos)
      << sent.status().message();
  EXPECT_NE(sent.status().message().find("販売店に連絡してください"), std::string::npos);
  EXPECT_EQ(vault_->headers_seen().back().at("Accept-Language"), "ja");
}

TEST_F(VaultClientTest, WrongPinIsRefusedAndNotRetried) {
  VaultOptions o;
  o.url = vault_->url();
  o.pin = net::Fingerprint{};  // all zero: not the vault's
  o.credential_file = dir_.Sub("credential");
  o.repository = repo_->id();
  o.job = "nightly";
  o.retry.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
  auto client = VaultClient::Create(std::move(o));
  ASSERT_TRUE(client.ok());
  Status s = (*client)->Health();
  EXPECT_EQ(s.code(), Code::kUnauthorized) << s.ToString();
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(VaultClientTest, CredentialFileMustBePrivateAndNeverShows) {
  std::string path = dir_.Sub("credential");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = LoadCredential(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(loaded.status().message().find(vault_->token()), std::string::npos);
  testing::WriteFile(dir_.Sub("bad"), std::string("not a credential\n"));
  ASSERT_EQ(::chmod(dir_.Sub("bad").c_str(), 0600), 0);
  auto bad = LoadCredential(dir_.Sub("bad"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.status().message().find("not a credential"), std::string::npos);
}

TEST_F(VaultClientTest, ReportsRunsAndReadsGenerations) {
  auto client = Client();
  RunReport run;
  run.success = false;
  run.message = "pg_dump failed";
  run.started = 1764633600;
  run.finished = 1764633660;
  run.schedule_time = "02:00";
  run.schedule_timezone = "Asia/Tokyo";
  run.schedule_days = "daily";
  ASSERT_TRUE(client->ReportRun(run).ok());
  ASSERT_EQ(vault_->runs().size(), 1u);
  auto j = nlohmann::json::parse(vault_->runs()[0]);
  EXPECT_EQ(j["result"], "failure");
  EXPECT_EQ(j["message"], "pg_dump failed");
  EXPECT_EQ(j["started"], "2025-12-02T00:00:00Z");
  EXPECT_EQ(j["schedule"]["time"], "02:00");
  auto g = client->Generations();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->hard, 3u);
}

TEST(EnrolmentCodeTest, ParsesAndRefusesMalformedCodesWithoutEchoingThem) {
  SetLanguage(Language::kEnglish);
  const std::string fp(64, 'a');
  const std::string secret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  auto ok = ParseEnrolmentCode("  KURA1-" + secret + "-" + fp + "\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->text, "KURA1-" + secret + "-" + fp);
  EXPECT_EQ(ok->fingerprint.ToString(), "sha256:" + fp);
  for (const std::string& bad :
       {"KURA2-" + secret + "-" + fp, "KURA1-" + secret + fp, "KURA1-" + secret + "-" + fp + "0",
        "KURA1-" + std::string(32, '1') + "-" + fp, "KURA1-" + secret + "-" + std::string(64, 'g')}) {
    auto r = ParseEnrolmentCode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.status().message().find(secret), std::string::npos);
  }
  SetLanguage(Language::kJapanese);
}

}  // namespace
}  // namespace kura
