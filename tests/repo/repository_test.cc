// Opening a repository: the errors a user meets first (no repository there, wrong password,
// newer format) and key management (never lock the site out of its own backups).
#include "repo/repository.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "objstore/memory_store.h"
#include "repo/format.h"
#include "support/repo_engine.h"
#include "util/hex.h"

namespace kura {
namespace {

using testing::BorrowedStore;
using testing::Password;

class RepositoryTest : public testing::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    SetLanguage(Language::kEnglish);
  }
  void TearDown() override { SetLanguage(Language::kJapanese); }
  Result<std::unique_ptr<Repository>> Open(const Credentials& c) {
    return Repository::Open(std::make_unique<BorrowedStore>(&store_), c);
  }
  MemoryStore store_{"/mnt/nas/kura"};
};

TEST_F(RepositoryTest, OpensWithThePasswordItWasMadeWith) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  auto again = Open(Password());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->id(), repo->id());
  EXPECT_EQ((*again)->opened_slot(), repo->opened_slot());
  EXPECT_EQ(ToHex(crypto::HmacSha256((*again)->keys().blob_id, AsBytes("x"))),
            ToHex(crypto::HmacSha256(repo->keys().blob_id, AsBytes("x"))));
}

TEST_F(RepositoryTest, WrongPasswordIsUnauthorizedWithAClearMessage) {
  ASSERT_NE(Init(&store_), nullptr);
  auto repo = Open(Password("hunter2-guess"));
  ASSERT_EQ(repo.status().code(), Code::kUnauthorized);
  EXPECT_NE(repo.status().message().find("wrong password or key file"), std::string::npos)
      << repo.status().message();
  EXPECT_EQ(repo.status().message().find("hunter2"), std::string::npos)
      << "the message must not echo the password";
}

TEST_F(RepositoryTest, NoCredentialsIsInvalidArgument) {
  ASSERT_NE(Init(&store_), nullptr);
  auto repo = Open(Credentials{});
  ASSERT_EQ(repo.status().code(), Code::kInvalidArgument);
  EXPECT_NE(repo.status().message().find("KURA_PASSWORD_FILE"), std::string::npos);
}

TEST_F(RepositoryTest, EmptyStoreIsNotARepository) {
  auto repo = Open(Password());
  ASSERT_EQ(repo.status().code(), Code::kNotFound);
  EXPECT_NE(repo.status().message().find("/mnt/nas/kura"), std::string::npos);
  // The advice to create one is the program's to word (kura: "kura init").
  EXPECT_EQ(repo.status().advice(), Advice::kCreateRepository);
  EXPECT_EQ(repo.status().message().find("kura init"), std::string::npos);
}

TEST_F(RepositoryTest, InitRefusesAnExistingRepository) {
  ASSERT_NE(Init(&store_), nullptr);
  auto again =
      Repository::Init(std::make_unique<BorrowedStore>(&store_), Password(), InitOptions{}, SystemClock());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
}

// Two `kura init` on one store both reported success with different IDs. The config is
// created exclusively: of several racing Inits exactly one succeeds, the others say why,
// and the store holds only the winner's key slot.
TEST(RepositoryInitRaceTest, OfConcurrentInitsOnOneStoreExactlyOneSucceeds) {
  testing::UseCheapKdf();
  for (int round = 0; round < 10; ++round) {
    MemoryStore store;
    std::atomic<int> won{0};
    std::vector<std::thread> threads;
    std::vector<Status> lost(3);
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        auto r = Repository::Init(std::make_unique<BorrowedStore>(&store), Password(), InitOptions{},
                                  SystemClock());
        if (r.ok()) {
          ++won;
        } else {
          lost[t] = r.status();
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(won.load(), 1) << "round " << round;
    for (const Status& st : lost) {
      if (!st.ok()) {
        EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
      }
    }
    EXPECT_EQ(store.List(ObjectType::kKey)->size(), 1u) << "a loser's key slot was left behind";
    EXPECT_TRUE(Repository::Open(std::make_unique<BorrowedStore>(&store), Password()).ok());
  }
}

TEST_F(RepositoryTest, NewerFormatIsUnsupported) {
  ASSERT_NE(Init(&store_), nullptr);
  std::string config(AsString(*store_.Get(ObjectType::kConfig, "config")));
  const std::string current = "\"version\": " + std::to_string(format::kRepositoryVersion);
  ASSERT_NE(config.find(current), std::string::npos) << "init writes the current repository version";
  config.replace(config.find(current), current.size(), "\"version\": 7");
  ASSERT_TRUE(store_.Put(ObjectType::kConfig, "config", AsBytes(config)).ok());
  auto repo = Open(Password());
  EXPECT_EQ(repo.status().code(), Code::kUnsupported) << repo.status().ToString();
}

TEST_F(RepositoryTest, TheLastPasswordOrKeyFileSlotCannotBeRemoved) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  std::string first = repo->opened_slot();
  Status st = repo->RemoveKey(first.substr(0, 8));
  ASSERT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("last password or key file"), std::string::npos);

  // A recovery slot does not count: it alone would lock the site out.
  crypto::BoxKeyPair vendor = crypto::GenerateBoxKeyPair();
  auto rec = repo->AddRecoveryKey(vendor.public_key, KeySlotInfo{"", "vendor", "h", "2026-11-21T00:00:00Z"});
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(repo->RemoveKey(first).code(), Code::kInvalidArgument);

  auto second = repo->AddSecretKey(KeySlotKind::kPassword, "second password",
                                   KeySlotInfo{"", "second", "h", "2026-11-22T00:00:00Z"});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(repo->RemoveKey(first).ok());
  EXPECT_EQ(Open(Password()).status().code(), Code::kUnauthorized)
      << "the removed password must stop working";
  EXPECT_TRUE(Open(Password("second password")).ok());
  EXPECT_EQ(repo->RemoveKey(*second).code(), Code::kInvalidArgument);
  EXPECT_TRUE(repo->RemoveKey(*rec).ok()) << "recovery slots may always be removed";
  EXPECT_EQ(repo->RemoveKey("0000").code(), Code::kNotFound);
}

TEST_F(RepositoryTest, RecoverySecretKeyAloneOpensTheRepository) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  crypto::BoxKeyPair vendor = crypto::GenerateBoxKeyPair();
  ASSERT_TRUE(
      repo->AddRecoveryKey(vendor.public_key, KeySlotInfo{"", "vendor", "h", "2026-11-21T00:00:00Z"}).ok());
  EXPECT_EQ(repo->AddRecoveryKey(Bytes(5, 1), KeySlotInfo{}).status().code(), Code::kInvalidArgument);

  testing::TempDir dir;
  testing::WriteFile(dir.Sub("vendor.sk"), ToHex(vendor.secret_key) + "\n");
  Credentials vendor_only;
  vendor_only.recovery_secret_key_file = dir.Sub("vendor.sk");
  auto opened = Open(vendor_only);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  // The same master key: what the site stored, the vendor can read.
  EXPECT_EQ(crypto::HmacSha256((*opened)->keys().blob_id, AsBytes("karte")),
            crypto::HmacSha256(repo->keys().blob_id, AsBytes("karte")));

  crypto::BoxKeyPair stranger = crypto::GenerateBoxKeyPair();
  testing::WriteFile(dir.Sub("stranger.sk"), ToHex(stranger.secret_key) + "\n");
  vendor_only.recovery_secret_key_file = dir.Sub("stranger.sk");
  EXPECT_EQ(Open(vendor_only).status().code(), Code::kUnauthorized);
}

TEST_F(RepositoryTest, KeyFileRepository) {
  testing::TempDir dir;
  ASSERT_TRUE(CreateKeyFile(dir.Sub("site.key")).ok());
  Credentials c;
  c.key_file = dir.Sub("site.key");
  auto repo = Repository::Init(std::make_unique<BorrowedStore>(&store_), c, InitOptions{}, SystemClock());
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_TRUE(Open(c).ok());
  EXPECT_EQ(Open(Password()).status().code(), Code::kUnauthorized);
  ASSERT_TRUE(CreateKeyFile(dir.Sub("other.key")).ok());
  c.key_file = dir.Sub("other.key");
  EXPECT_EQ(Open(c).status().code(), Code::kUnauthorized);
}

// Regression: a damaged key slot that sorted before the user's slot made Open fail with
// kCorruption, so one rotten slot on the NAS locked everybody out.
TEST_F(RepositoryTest, ADamagedKeySlotDoesNotLockOutTheOthers) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  std::string bad = R"({"format": "kura-key", "version": 1, "repository": ")" + repo->id() +
                    R"(", "kind": "password", "created": "0000", "wrapped": "00",
                        "kdf": {"algorithm": "argon2id", "salt": "short"}})";
  ASSERT_TRUE(store_.Put(ObjectType::kKey, ToHex(crypto::Sha256(AsBytes(bad))), AsBytes(bad)).ok());
  std::string no_kdf = R"({"format": "kura-key", "version": 1, "repository": ")" + repo->id() +
                       R"(", "kind": "password", "created": "0001", "wrapped": "00"})";
  ASSERT_TRUE(store_.Put(ObjectType::kKey, ToHex(crypto::Sha256(AsBytes(no_kdf))), AsBytes(no_kdf)).ok());
  auto opened = Open(Password());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Open(Password("wrong password")).status().code(), Code::kUnauthorized);
}

// Regression (issue 6 §7): a damaged key slot was reported as "wrong password" although its
// SHA-256 name proves the damage. Any single flipped byte of the only slot, and a missing
// slot, say "damaged"/"no key slot" (exit 8) with what to do — never "wrong password".
TEST_F(RepositoryTest, ADamagedOrMissingKeySlotIsDamageNotAWrongPassword) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  const std::string slot = repo->opened_slot();
  Bytes good = *store_.Get(ObjectType::kKey, slot);
  std::string text(AsString(good));
  size_t wrapped = text.find("\"wrapped\": \"") + 12, salt = text.find("\"salt\": \"") + 9;
  size_t repository = text.find("\"repository\": \"") + 15, kind = text.find("\"kind\": \"") + 9;
  ASSERT_LT(wrapped, text.size());
  for (size_t offset :
       {wrapped, wrapped + 40, text.rfind('"') - 1, salt + 3, repository + 5, kind + 1, size_t{0}}) {
    Bytes bad = good;
    bad[offset] ^= 0x01;
    ASSERT_TRUE(store_.Delete(ObjectType::kKey, slot).ok());
    ASSERT_TRUE(store_.Put(ObjectType::kKey, slot, bad).ok());
    auto opened = Open(Password());
    ASSERT_FALSE(opened.ok()) << "offset " << offset;
    EXPECT_EQ(opened.status().code(), Code::kCorruption) << opened.status().ToString();
    EXPECT_NE(opened.status().message().find("damaged"), std::string::npos) << opened.status().message();
    EXPECT_NE(opened.status().message().find(slot.substr(0, 8)), std::string::npos)
        << opened.status().message();
    EXPECT_EQ(opened.status().message().find("wrong password"), std::string::npos)
        << opened.status().message();
    EXPECT_NE(opened.status().message().find("Restore"), std::string::npos) << opened.status().message();
  }
  // Cut short.
  ASSERT_TRUE(store_.Delete(ObjectType::kKey, slot).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kKey, slot, Bytes(good.begin(), good.begin() + 40)).ok());
  EXPECT_EQ(Open(Password()).status().code(), Code::kCorruption) << Open(Password()).status().ToString();
  // Gone.
  ASSERT_TRUE(store_.Delete(ObjectType::kKey, slot).ok());
  auto none = Open(Password());
  EXPECT_EQ(none.status().code(), Code::kCorruption);
  EXPECT_NE(none.status().message().find("no key slot"), std::string::npos) << none.status().message();
  // Intact again: it opens, and a wrong password is still a wrong password.
  ASSERT_TRUE(store_.Put(ObjectType::kKey, slot, good).ok());
  EXPECT_TRUE(Open(Password()).ok());
  EXPECT_EQ(Open(Password("not the password")).status().code(), Code::kUnauthorized);
}

// Regression (issue 6 §7): a truncated config was "not a kura repository, check the path".
TEST_F(RepositoryTest, ATruncatedConfigIsADamagedConfigWithAdviceOtherThanVerify) {
  ASSERT_NE(Init(&store_), nullptr);
  Bytes config = *store_.Get(ObjectType::kConfig, "config");
  for (size_t len : {size_t{0}, size_t{1}, config.size() / 3, config.size() / 2, config.size() - 3}) {
    ASSERT_TRUE(store_.Delete(ObjectType::kConfig, "config").ok());
    ASSERT_TRUE(store_.Put(ObjectType::kConfig, "config", Bytes(config.begin(), config.begin() + len)).ok());
    auto opened = Open(Password());
    ASSERT_EQ(opened.status().code(), Code::kCorruption) << len << ": " << opened.status().ToString();
    EXPECT_NE(opened.status().message().find("config of repository /mnt/nas/kura is damaged"),
              std::string::npos)
        << opened.status().message();
    EXPECT_NE(opened.status().message().find("Restore the file config from a copy"), std::string::npos);
    EXPECT_EQ(opened.status().message().find("not a kura repository"), std::string::npos);
    EXPECT_EQ(opened.status().message().find("verify"), std::string::npos)
        << "verify cannot run without a config";
  }
}

// Regression (issue 6 §7): a password file with a UTF-8 BOM was silently a different
// password. kura now strips the mark; a slot made before (with the mark) still opens.
TEST_F(RepositoryTest, ASlotMadeFromAPasswordFileWithItsBomStillOpens) {
  const std::string bom = "\xEF\xBB\xBF";
  auto made = Repository::Init(std::make_unique<BorrowedStore>(&store_),
                               Password(bom + "correct horse battery"), InitOptions{}, SystemClock());
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(Open(Password()).status().code(), Code::kUnauthorized)
      << "a different password without the fallback";
  Credentials c = Password();
  c.password_with_bom = bom + "correct horse battery";
  EXPECT_TRUE(Open(c).ok());
}

TEST_F(RepositoryTest, FindSnapshotByLatestPrefixAndFullId) {
  auto repo = Init(&store_);
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(repo->FindSnapshot("latest").status().code(), Code::kNotFound);
  auto put = [&](int64_t ms) {
    SnapshotPlain plain;
    plain.repository = repo->id();
    plain.time = ms / 1000;
    plain.time_ms = ms;
    Bytes bytes = EncodeSnapshot(repo->keys(), plain, std::vector<crypto::Hash>{}, SnapshotMeta{});
    std::string id = ToHex(crypto::Sha256(bytes));
    EXPECT_TRUE(store_.Put(ObjectType::kSnapshot, id, bytes).ok());
    return id;
  };
  // Made within one second: milliseconds order them.
  std::string b = put(1763700000900);
  std::string a = put(1763700000100);
  EXPECT_EQ(repo->FindSnapshot("latest")->id, b);
  EXPECT_EQ(repo->FindSnapshot(a)->id, a);
  EXPECT_EQ(repo->FindSnapshot(a.substr(0, 8))->id, a);
  EXPECT_EQ(repo->FindSnapshot("abc").status().code(), Code::kNotFound) << "prefixes under 4 digits";
  EXPECT_EQ(repo->FindSnapshot("zzzzzzzz").status().code(), Code::kNotFound);
  auto list = repo->ListSnapshots();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, a) << "oldest first";
  EXPECT_TRUE(repo->LoadMeta(a).ok());
  // A snapshot object whose bytes do not match its name is damaged, and listed as such.
  Bytes bytes = *store_.Get(ObjectType::kSnapshot, a);
  bytes.back() ^= 1;
  ASSERT_TRUE(store_.Delete(ObjectType::kSnapshot, a).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kSnapshot, a, bytes).ok());
  std::vector<std::string> damaged;
  ASSERT_EQ(repo->ListSnapshots(&damaged)->size(), 1u);
  EXPECT_EQ(damaged, std::vector<std::string>{a});
  EXPECT_EQ(repo->LoadMeta(a).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace kura
