// Key slots: the right secret opens the master key, a wrong one is "wrong password"
// (kUnauthorized), never "damaged"; damaged slots are errors, not crashes.
#include "repo/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/repo_testing.h"
#include "util/hex.h"

namespace kura {
namespace {

using testing::TempDir;

const KeySlotInfo kInfo{"00112233445566778899aabbccddeeff", "desk", "reception-pc", "2026-11-21T05:53:14Z"};

class KeySlotTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::UseCheapKdf(); }
  KeySlot Parse(const Bytes& bytes) {
    auto slot = ParseKeySlot("slot", bytes);
    EXPECT_TRUE(slot.ok()) << slot.status().ToString();
    return *slot;
  }
  crypto::SecretKey master_ = crypto::SecretKey::Random();
  TempDir dir_;
};

bool SameKey(const crypto::SecretKey& a, const crypto::SecretKey& b) {
  return std::equal(a.data(), a.data() + crypto::kKeySize, b.data());
}

TEST_F(KeySlotTest, PasswordOpensWithTheRightPasswordOnly) {
  KeySlot slot = Parse(*MakeSecretSlot(master_, KeySlotKind::kPassword, "correct horse", kInfo));
  EXPECT_EQ(slot.kind, KeySlotKind::kPassword);
  EXPECT_EQ(slot.label, "desk");
  EXPECT_EQ(slot.host, "reception-pc");
  // The secret must never be stored in the clear.
  EXPECT_EQ(slot.doc.dump().find("correct horse"), std::string::npos);

  Credentials right;
  right.password = "correct horse";
  auto key = UnwrapSlot(slot, kInfo.repository_id, right);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(SameKey(*key, master_));

  Credentials wrong;
  wrong.password = "correct horsf";
  EXPECT_EQ(UnwrapSlot(slot, kInfo.repository_id, wrong).status().code(), Code::kUnauthorized);
  // The slot is bound to its repository: copied into another one it does not open.
  EXPECT_EQ(UnwrapSlot(slot, "ffeeddccbbaa99887766554433221100", right).status().code(), Code::kUnauthorized);
  // Nothing offered for this kind of slot.
  Credentials none;
  none.key_file = dir_.Sub("unused");
  EXPECT_EQ(UnwrapSlot(slot, kInfo.repository_id, none).status().code(), Code::kNotFound);
}

TEST_F(KeySlotTest, KeyFileOpensWithItsFileOnly) {
  std::string path = dir_.Sub("site.key");
  ASSERT_TRUE(CreateKeyFile(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(CreateKeyFile(path).code(), Code::kAlreadyExists) << "must refuse to overwrite a key file";

  auto secret = ReadKeyFile(path);
  ASSERT_TRUE(secret.ok());
  KeySlot slot = Parse(*MakeSecretSlot(master_, KeySlotKind::kKeyFile, *secret, kInfo));
  Credentials right;
  right.key_file = path;
  auto key = UnwrapSlot(slot, kInfo.repository_id, right);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(SameKey(*key, master_));

  std::string other = dir_.Sub("other.key");
  ASSERT_TRUE(CreateKeyFile(other).ok());
  Credentials wrong;
  wrong.key_file = other;
  EXPECT_EQ(UnwrapSlot(slot, kInfo.repository_id, wrong).status().code(), Code::kUnauthorized);

  testing::WriteFile(dir_.Sub("short.key"), "abc\n");
  EXPECT_EQ(ReadKeyFile(dir_.Sub("short.key")).status().code(), Code::kInvalidArgument);
}

TEST_F(KeySlotTest, RecoverySlotOpensWithTheVendorSecretKeyOnly) {
  crypto::BoxKeyPair vendor = crypto::GenerateBoxKeyPair();
  KeySlot slot = Parse(*MakeRecoverySlot(master_, vendor.public_key, kInfo));
  EXPECT_EQ(slot.kind, KeySlotKind::kRecovery);
  EXPECT_FALSE(slot.doc.contains("kdf"));

  testing::WriteFile(dir_.Sub("vendor.sk"), ToHex(vendor.secret_key) + "\n");
  Credentials right;
  right.recovery_secret_key_file = dir_.Sub("vendor.sk");
  auto key = UnwrapSlot(slot, kInfo.repository_id, right);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(SameKey(*key, master_));

  crypto::BoxKeyPair other = crypto::GenerateBoxKeyPair();
  testing::WriteFile(dir_.Sub("other.sk"), ToHex(other.secret_key) + "\n");
  Credentials wrong;
  wrong.recovery_secret_key_file = dir_.Sub("other.sk");
  EXPECT_EQ(UnwrapSlot(slot, kInfo.repository_id, wrong).status().code(), Code::kUnauthorized);

  testing::WriteFile(dir_.Sub("garbage.sk"), "this is not a hex secret key at all\n");
  Credentials garbage;
  garbage.recovery_secret_key_file = dir_.Sub("garbage.sk");
  EXPECT_EQ(UnwrapSlot(slot, kInfo.repository_id, garbage).status().code(), Code::kInvalidArgument);
}

TEST_F(KeySlotTest, NewerSlotVersionIsUnsupported) {
  auto slot = ParseKeySlot("abcd", AsBytes(R"({"format": "kura-key", "version": 2, "kind": "password",
                                              "wrapped": "00"})"));
  EXPECT_EQ(slot.status().code(), Code::kUnsupported);
}

TEST_F(KeySlotTest, NotAKeySlotIsCorruption) {
  for (std::string text :
       {std::string(""), std::string("{}"), std::string("null"),
        std::string(R"({"format": "kura-key", "version": 1, "kind": "retina", "wrapped": "00"})"),
        std::string(R"({"format": "kura-key", "version": 1, "kind": "password"})"),
        std::string(R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": 5})")}) {
    EXPECT_EQ(ParseKeySlot("abcd", AsBytes(text)).status().code(), Code::kCorruption) << text;
  }
}

// Key slots sit on a NAS share; a damaged one must give an error, never crash kura
// (nlohmann::json throws on wrong types and asserts on missing keys of a const object).
TEST_F(KeySlotTest, DamagedSlotFieldsAreErrorsNotCrashes) {
  Credentials pw;
  pw.password = "correct horse";
  testing::WriteFile(dir_.Sub("vendor.sk"), std::string(64, 'a'));
  pw.recovery_secret_key_file = dir_.Sub("vendor.sk");
  std::vector<std::string> texts = {
      R"({"format": 1})",
      R"({"format": "kura-key", "version": "1", "kind": "password", "wrapped": "00"})",
      R"({"format": "kura-key", "version": 1, "kind": 3, "wrapped": "00"})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "00", "label": 5})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "00", "repository": []})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "00"})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "00", "kdf": "argon2id"})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "00",
          "kdf": {"algorithm": "argon2id", "salt": "00112233445566778899aabbccddeeff", "ops_limit": "x"}})",
      R"({"format": "kura-key", "version": 1, "kind": "password", "wrapped": "zz",
          "kdf": {"algorithm": "argon2id", "salt": "00112233445566778899aabbccddeeff"}})",
      R"({"format": "kura-key", "version": 1, "kind": "recovery", "wrapped": "00", "recovery_public_key": 7})",
  };
  for (const std::string& text : texts) {
    Result<KeySlot> slot = Status::Internal("not run");
    ASSERT_NO_THROW(slot = ParseKeySlot("abcd", AsBytes(text))) << text;
    if (!slot.ok()) {
      EXPECT_EQ(slot.status().code(), Code::kCorruption) << text;
      continue;
    }
    Result<crypto::SecretKey> key = Status::Internal("not run");
    ASSERT_NO_THROW(key = UnwrapSlot(*slot, kInfo.repository_id, pw)) << text;
    EXPECT_FALSE(key.ok()) << text;
    EXPECT_NE(key.status().code(), Code::kInternal) << text;
  }
}

TEST_F(KeySlotTest, CheapKdfFromEnvironmentIsRecordedInTheSlot) {
  KeySlot slot = Parse(*MakeSecretSlot(master_, KeySlotKind::kPassword, "pw-pw-pw-pw", kInfo));
  EXPECT_EQ(slot.doc["kdf"]["mem_limit"].get<uint64_t>(), 8192u * 1024);
  EXPECT_EQ(slot.doc["kdf"]["ops_limit"].get<uint64_t>(), 1u);
  // Values below the floor are ignored rather than weakening the KDF.
  ::setenv("KURA_ARGON2_MEM_KIB", "16", 1);
  EXPECT_GE(NewSlotArgon2Params().mem_limit, 8192u * 1024);
  testing::UseCheapKdf();
}

}  // namespace
}  // namespace kura
