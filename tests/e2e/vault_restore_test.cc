// The vendor restores through a restore grant (issue 7 §3 "Restore", docs/vault-api.md §5):
// the real kura and kura-vault over real HTTPS on 127.0.0.1. A site backs up a tree with
// Japanese and odd names and sends it to the vault; an operator writes a grant file; on
// another "machine" (a fresh home and cache, nothing of the site's) kura restores the
// vault's copy with the recovery key alone, and verifies it; used, expired and forged
// grants are refused and audited; the grant token never shows in argv, output or logs.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/vault_read_store.h"
#include "crypto/crypto.h"
#include "objstore/local_store.h"
#include "support/job_harness.h"
#include "support/repo_testing.h"
#include "support/vault_process.h"
#include "util/hex.h"
#include "util/process.h"
#include "vault/catalog.h"

namespace kura::testing {
namespace {

using nlohmann::json;

// The exit codes of docs/exit-codes.md, spelled out so a renumbering breaks this test.
constexpr int kExitUsage = 2, kExitUnauthorized = 4, kExitDamaged = 8, kExitPermission = 12;

std::string KuraBin() {
  if (const char* bin = std::getenv("KURA_BIN"); bin != nullptr && *bin != '\0') return bin;
  char self[PATH_MAX] = {0};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string("./x");
  return dir.substr(0, dir.find_last_of('/')) + "/kura";
}

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Names people and old systems make: Japanese, spaces, a tab, a backslash, a leading
// dash, Shift_JIS bytes that are not UTF-8, a newline.
const std::vector<std::pair<std::string, std::string>>& OddFiles() {
  static const std::vector<std::pair<std::string, std::string>> files = {
      {"カルテ/山田 太郎 (2026年度).txt", "主訴: 頭痛\n処方: なし\n"},
      {"カルテ/スキャン/紹介状.pdf",
       [] {
         Bytes b = SeededBytes(3, 300000);  // incompressible: a pack of about 300 KB
         return std::string(b.begin(), b.end());
       }()},
      {"odd/tab\there", "tab"},
      {"odd/back\\slash", "backslash"},
      {"odd/-leading dash", "dash"},
      {"odd/\x83\x65\x83\x58\x83\x67.txt", "Shift_JIS name"},
      {"odd/new\nline", "newline"},
      {"odd/ trailing space ", "space"},
  };
  return files;
}

class VaultRestoreE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(sb_.Path("vendor").c_str(), 0700);
    vault_ = std::make_unique<VaultProcess>(sb_.Path("vendor"));
    sb_.WriteFile("enrol.txt", vault_->EnrolSite("honin") + "\n");
    vault_->Start();
    url_ = vault_->url();

    ::mkdir(sb_.Path("data").c_str(), 0755);
    for (const auto& [name, content] : OddFiles()) {
      std::string path = sb_.Path("data/" + name);
      for (size_t at = sb_.Path("data/").size(); (at = path.find('/', at)) != std::string::npos; ++at) {
        ::mkdir(path.substr(0, at).c_str(), 0755);
      }
      sb_.WriteFile("data/" + name, content, 0644);
    }
    WriteVaultJobConfig(sb_, url_);
    KuraRun init = sb_.Kura({"init", "--vault", url_, "--enroll", sb_.Path("enrol.txt"), "--job", "care",
                             "-r", sb_.Path("local")});
    ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
    KuraRun backup = sb_.Kura(
        {"--json", "backup", "-r", sb_.Path("local"), "--vault", url_, "--job", "care", sb_.Path("data")});
    ASSERT_EQ(backup.exit_code, 0) << backup.out << backup.err;
    auto doc = json::parse(backup.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << backup.out;
    snapshot_ = doc["snapshot"].get<std::string>();
    ASSERT_EQ(snapshot_.size(), 64u) << backup.out;
  }
  void TearDown() override { vault_->Stop(); }

  ProcessOutput Vault(const std::vector<std::string>& args) {
    return vault_->Vault(args, VaultProcess::kAnyExit);
  }

  // `grant issue --output vendor/NAME`; the grant's ID.
  int64_t IssueGrant(const std::string& name, int hours = 2, bool require_approval = false) {
    std::vector<std::string> args = {"--json",      "grant",
                                     "issue",       "sakura-clinic",
                                     "honin",       snapshot_.substr(0, 12),
                                     "--purpose",   "本院からの依頼 #42: カルテ復元",
                                     "--expires",   std::to_string(hours),
                                     "--output",    sb_.Path("vendor/" + name),
                                     "--vault-url", url_};
    if (require_approval) args.push_back("--require-approval");
    ProcessOutput issued = Vault(args);
    EXPECT_EQ(issued.exit_code, 0) << issued.err;
    seen_ += issued.out + issued.err;
    auto j = json::parse(issued.out, nullptr, false);
    return j.is_object() && j.contains("grant_id") ? j["grant_id"].get<int64_t>() : -1;
  }
  std::string Token(const std::string& name) {
    auto j = json::parse(Slurp(sb_.Path("vendor/" + name)), nullptr, false);
    return j.is_object() ? j.value("grant", "") : "";
  }

  // kura on the vendor's machine: its own home and cache, none of the site's settings.
  // `stdin_file`: the file given on standard input.
  KuraRun Vendor(const std::vector<std::string>& args, const std::string& stdin_file = "") {
    ::mkdir(sb_.Path("vendor/home").c_str(), 0700);
    ProcessOptions o;
    o.argv = {"sh",      "-c",     "exec \"$0\" \"$@\" <" + (stdin_file.empty() ? "/dev/null" : stdin_file),
              KuraBin(), "--lang", "en"};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {{"HOME", sb_.Path("vendor/home")}, {"KURA_CACHE_DIR", sb_.Path("vendor/cache")}};
    o.unset_env = {"KURA_REPOSITORY", "KURA_CONFIG",       "KURA_PASSWORD",         "KURA_PASSWORD_FILE",
                   "KURA_KEY_FILE",   "KURA_AGENT_CONFIG", "KURA_STATE_DIR",        "KURA_GRANT_FILE",
                   "KURA_LANG",       "XDG_CACHE_HOME",    "KURA_RECOVERY_KEY_FILE"};
    o.stderr_tail_bytes = 1 << 16;
    KuraRun run;
    auto r = RunProcess(o, 16 << 20);
    if (!r.ok()) {
      run.err = r.status().ToString();
      return run;
    }
    run.exit_code = r->exit_code;
    run.out = r->out;
    run.err = r->err;
    seen_ += run.out + run.err;
    return run;
  }
  std::vector<std::string> RecoveryKey() { return {"--recovery-key-file", sb_.Path("vendor/recovery.key")}; }

  std::string RepoId() {
    auto store = LocalStore::Open(sb_.Path("local"), false);
    auto cfg = (*store)->Get(ObjectType::kConfig, "config");
    return json::parse(std::string(cfg->begin(), cfg->end()))["id"].get<std::string>();
  }
  // The audit trail as JSON lines.
  std::vector<json> Audit() {
    ProcessOutput out = Vault({"audit", "export", "--format", "json"});
    EXPECT_EQ(out.exit_code, 0) << out.err;
    seen_ += out.out;
    std::vector<json> records;
    std::istringstream in(out.out);
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object()) records.push_back(std::move(j));
    }
    return records;
  }
  size_t Count(const std::string& action, const std::string& result) {
    size_t n = 0;
    for (const json& r : Audit()) {
      if (r.value("action", "") == action && r.value("result", "") == result) ++n;
    }
    return n;
  }
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((vault_->data_dir() + "/catalog.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // Every grant token issued so far is absent from everything kura and kura-vault showed.
  void ExpectNoTokenShown(const std::vector<std::string>& tokens) {
    std::string logs = seen_ + vault_->StderrTail() + Slurp(sb_.Path("kura.log"));
    EXPECT_EQ(logs.find("kgr1_"), std::string::npos);
    EXPECT_EQ(logs.find("krs1_"), std::string::npos);
    for (const std::string& t : tokens) {
      ASSERT_GT(t.size(), 20u);
      EXPECT_EQ(logs.find(t.substr(5)), std::string::npos) << "a grant token was shown";
    }
  }

  JobSandbox sb_;
  std::unique_ptr<VaultProcess> vault_;
  std::string url_, snapshot_, seen_;
};

// G-BAK-10, G-ACL-06, G-AUD-01, G-ENC-07: the vendor restores the vault's copy through a
// grant file with the recovery key alone, on a machine with nothing of the site's; every
// byte and odd name comes back; the grant works once (a second use exits 12 with
// grant_used) and every redeem and read is audited with the grant.
TEST_F(VaultRestoreE2ETest, TheVendorRestoresThroughAGrantOnAnotherMachine) {
  const int64_t grant_id = IssueGrant("grant.json");
  ASSERT_GT(grant_id, 0);
  EXPECT_EQ(Mode(sb_.Path("vendor/grant.json")), 0600);
  json file = json::parse(Slurp(sb_.Path("vendor/grant.json")));
  EXPECT_EQ(file["version"], 1);
  EXPECT_EQ(file["vault"], url_);
  EXPECT_EQ(file["snapshot"], snapshot_);
  EXPECT_EQ(file["repository"], RepoId());
  EXPECT_EQ(file["fingerprint"].get<std::string>().size(), 64u);

  KuraRun restore = Vendor({"restore", "--grant", sb_.Path("vendor/grant.json"), RecoveryKey()[0],
                            RecoveryKey()[1], "latest", "--target", sb_.Path("vendor/restored")});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_NE(restore.out.find("every file matched its SHA-256"), std::string::npos) << restore.out;
  std::map<std::string, std::string> orig = ReadTree(sb_.Path("data"));
  std::map<std::string, std::string> back = ReadTree(sb_.Path("vendor/restored") + sb_.Path("data"));
  EXPECT_GE(orig.size(), OddFiles().size());
  EXPECT_EQ(back, orig) << "the vendor's restore differs from the site's tree";

  KuraRun again = Vendor({"restore", "--grant", sb_.Path("vendor/grant.json"), RecoveryKey()[0],
                          RecoveryKey()[1], "latest", "--target", sb_.Path("vendor/again")});
  EXPECT_EQ(again.exit_code, kExitPermission) << again.err;
  EXPECT_NE(again.err.find("grant_used"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("already redeemed"), std::string::npos) << again.err;

  EXPECT_EQ(Count("grant.redeem", "success"), 1u);
  EXPECT_EQ(Count("grant.redeem", "refused") + Count("grant.redeem", "failure"), 1u);
  size_t reads = 0;
  for (const json& r : Audit()) {
    if (r.value("action", "") == "restore.read") {
      ++reads;
      EXPECT_EQ(r.value("actor_id", ""), "grant:" + std::to_string(grant_id));
    }
  }
  EXPECT_GE(reads, 4u);  // config, keys, a key slot, the snapshot list, the snapshot, packs
  ExpectNoTokenShown({Token("grant.json")});
}

// G-BAK-07, G-INT-08: `kura verify --read-data` through a grant (given on standard input)
// passes; after one pack is corrupted on the vault's disk a second grant's verify exits 8
// and names the damaged pack.
TEST_F(VaultRestoreE2ETest, VerifyReadDataThroughAGrantFindsACorruptedPack) {
  IssueGrant("verify.json");
  KuraRun ok = Vendor({"verify", "--read-data", "--grant", "-", RecoveryKey()[0], RecoveryKey()[1]},
                      sb_.Path("vendor/verify.json"));
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("No problems found."), std::string::npos) << ok.out;

  auto area = LocalStore::Open(vault_->data_dir() + "/objects/" + RepoId(), false);
  ASSERT_TRUE(area.ok());
  auto packs = (*area)->List(ObjectType::kPack);
  ASSERT_TRUE(packs.ok() && !packs->empty());
  const ObjectInfo& victim = packs->front();
  std::string path = (*area)->ObjectPath(ObjectType::kPack, victim.name);
  std::string bytes = Slurp(path);
  ASSERT_EQ(bytes.size(), victim.size);
  bytes[bytes.size() / 2] ^= 0x5a;
  ::chmod(path.c_str(), 0644);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  IssueGrant("verify2.json");
  KuraRun bad = Vendor({"verify", "--read-data", "--grant", sb_.Path("vendor/verify2.json"), RecoveryKey()[0],
                        RecoveryKey()[1]});
  EXPECT_EQ(bad.exit_code, kExitDamaged) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("damaged pack " + victim.name.substr(0, 16)), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("DAMAGED  " + snapshot_.substr(0, 8)), std::string::npos) << bad.out;
  ExpectNoTokenShown({Token("verify.json"), Token("verify2.json")});
}

// G-ACL-06, G-AUD-01: a grant on the command line (exit 2), a grant file others may read
// (exit 12), a forged token and an expired grant (exit 4, unauthorized) are refused with a
// clear message; the vault audits each refused redeem; nothing is restored.
TEST_F(VaultRestoreE2ETest, ForgedExpiredAndExposedGrantsAreRefused) {
  IssueGrant("real.json");
  const std::string real = Token("real.json");
  ASSERT_TRUE(real.starts_with("kgr1_"));

  KuraRun argv = Vendor({"restore", "--vault", url_, "--grant", real, RecoveryKey()[0], RecoveryKey()[1],
                         "latest", "--target", sb_.Path("vendor/x")});
  EXPECT_EQ(argv.exit_code, kExitUsage) << argv.err;
  EXPECT_NE(argv.err.find("do not put the restore grant on the command line"), std::string::npos) << argv.err;
  seen_.clear();  // that output quoted nothing, but the argv held the token on purpose

  ::chmod(sb_.Path("vendor/real.json").c_str(), 0644);
  KuraRun open = Vendor({"restore", "--grant", sb_.Path("vendor/real.json"), RecoveryKey()[0],
                         RecoveryKey()[1], "latest", "--target", sb_.Path("vendor/x")});
  EXPECT_EQ(open.exit_code, kExitPermission) << open.err;
  EXPECT_NE(open.err.find("chmod 600"), std::string::npos) << open.err;

  EXPECT_NE(open.err.find("restore grant file"), std::string::npos) << open.err;
  ::chmod(sb_.Path("vendor/real.json").c_str(), 0600);
  KuraRun still = Vendor(
      {"restore", "--grant", sb_.Path("vendor/real.json"), "latest", "--target", sb_.Path("vendor/x")});
  EXPECT_EQ(still.exit_code, kExitUsage) << still.err;
  EXPECT_NE(still.err.find("--recovery-key-file"), std::string::npos) << still.err;

  // Forged: the real grant's selector with another secret.
  json forged = json::parse(Slurp(sb_.Path("vendor/real.json")));
  std::string token = real;
  token.back() = token.back() == 'a' ? 'b' : 'a';
  forged["grant"] = token;
  sb_.WriteFile("vendor/forged.json", forged.dump());
  KuraRun f = Vendor({"restore", "--grant", sb_.Path("vendor/forged.json"), RecoveryKey()[0],
                      RecoveryKey()[1], "latest", "--target", sb_.Path("vendor/x")});
  EXPECT_EQ(f.exit_code, kExitUnauthorized) << f.err;
  EXPECT_NE(f.err.find("unauthorized"), std::string::npos) << f.err;
  EXPECT_NE(f.err.find("ask the vault's operator for a new grant"), std::string::npos) << f.err;

  // Expired: its time has passed on the vault's clock.
  const int64_t expiring = IssueGrant("expired.json", 1);
  RawSql("UPDATE grants SET expires_at = 0 WHERE id = " + std::to_string(expiring));
  KuraRun e = Vendor({"verify", "--read-data", "--grant", sb_.Path("vendor/expired.json"), RecoveryKey()[0],
                      RecoveryKey()[1]});
  EXPECT_EQ(e.exit_code, kExitUnauthorized) << e.err;
  EXPECT_NE(e.err.find("expired"), std::string::npos) << e.err;

  EXPECT_NE(::access(sb_.Path("vendor/x").c_str(), F_OK), 0) << "something was restored";
  EXPECT_EQ(Count("grant.redeem", "success"), 0u);
  EXPECT_GE(Count("grant.redeem", "refused"), 2u);
  // The real grant is still unused: the refusals before the vault was asked cost nothing.
  KuraRun real_use =
      Vendor({"verify", "--grant", sb_.Path("vendor/real.json"), RecoveryKey()[0], RecoveryKey()[1]});
  EXPECT_EQ(real_use.exit_code, 0) << real_use.out << real_use.err;
  ExpectNoTokenShown({real, Token("expired.json")});
}

// The read-only store itself over a real session: objects come in Range requests of at
// most max_request_bytes, equal to the vault's files; small reads share their pack's window
// (one request per window, eight concurrent readers one request); a range past the end is corruption;
// every write, delete and exclusive lock is refused without a request; four threads share
// the pool; a vault killed mid-restore is retried with backoff until it is back.
TEST_F(VaultRestoreE2ETest, VaultReadStoreReadsInRangesRefusesWritesAndRetriesAKilledVault) {
  ::signal(SIGPIPE, SIG_IGN);  // net/http_client.h REQUIRES
  IssueGrant("store.json");
  json file = json::parse(Slurp(sb_.Path("vendor/store.json")));
  auto pin = net::Fingerprint::Parse(file["fingerprint"].get<std::string>());
  ASSERT_TRUE(pin.ok());
  VaultOptions vo;
  vo.url = url_;
  vo.pin = *pin;
  auto client = VaultClient::Create(vo);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto session = (*client)->RedeemGrant(file["grant"].get<std::string>());
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_EQ(session->snapshot, snapshot_);

  std::atomic<int> restarts{0};
  std::atomic<bool> killed{false};
  VaultReadOptions ro;
  ro.url = url_;
  ro.pin = *pin;
  ro.session = session->session;
  ro.repository = session->repository;
  ro.max_request_bytes = 64 * 1024;
  ro.retry.first_delay = std::chrono::milliseconds(50);
  ro.retry.sleep = [&](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    if (killed.exchange(false)) {
      vault_->Start();
      ++restarts;
    }
  };
  auto store = VaultReadStore::Open(ro);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  VaultReadStore& s = **store;

  auto area = LocalStore::Open(vault_->data_dir() + "/objects/" + session->repository, false);
  ASSERT_TRUE(area.ok());
  auto packs = s.List(ObjectType::kPack);
  ASSERT_TRUE(packs.ok()) << packs.status().ToString();
  ASSERT_FALSE(packs->empty());
  ObjectInfo big = *std::max_element(
      packs->begin(), packs->end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.size < b.size; });
  ASSERT_GT(big.size, 3 * ro.max_request_bytes) << "the test tree makes a pack of about 300 KB";
  std::string on_disk = Slurp((*area)->ObjectPath(ObjectType::kPack, big.name));
  const uint64_t before = s.requests();
  auto whole = s.Get(ObjectType::kPack, big.name);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(std::string(whole->begin(), whole->end()), on_disk);
  EXPECT_EQ(s.requests() - before, (big.size + ro.max_request_bytes - 1) / ro.max_request_bytes);
  auto part = s.GetRange(ObjectType::kPack, big.name, 10, 100000);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(std::string(part->begin(), part->end()), on_disk.substr(10, 100000));
  EXPECT_EQ(s.GetRange(ObjectType::kPack, big.name, big.size - 5, 10).status().code(), Code::kCorruption);
  EXPECT_EQ(s.GetRange(ObjectType::kPack, big.name, big.size + 5, 10).status().code(), Code::kCorruption);
  EXPECT_EQ(s.Get(ObjectType::kPack, std::string(64, '0')).status().code(), Code::kNotFound);
  EXPECT_EQ(s.Get(ObjectType::kSnapshot, std::string(64, '9')).status().code(), Code::kPermissionDenied);
  auto snaps = s.List(ObjectType::kSnapshot);
  ASSERT_TRUE(snaps.ok());
  ASSERT_EQ(snaps->size(), 1u);
  EXPECT_EQ(snaps->front().name, snapshot_);

  const uint64_t no_writes = s.requests();
  const Bytes junk = {1, 2, 3};
  EXPECT_EQ(s.Put(ObjectType::kPack, std::string(64, 'a'), junk).code(), Code::kPermissionDenied);
  EXPECT_EQ(s.PutIfAbsent(ObjectType::kConfig, "config", junk).code(), Code::kPermissionDenied);
  EXPECT_EQ(s.Delete(ObjectType::kPack, big.name).code(), Code::kPermissionDenied);
  EXPECT_EQ(s.MoveAside(ObjectType::kPack, big.name).code(), Code::kPermissionDenied);
  EXPECT_EQ(s.Lock(LockMode::kExclusive, 0).status().code(), Code::kPermissionDenied);
  EXPECT_NE(s.Put(ObjectType::kPack, std::string(64, 'a'), junk).message().find("読み取り専用"),
            std::string::npos);
  EXPECT_TRUE(s.Lock(LockMode::kShared, 0).ok());
  EXPECT_EQ(s.requests(), no_writes);
  EXPECT_EQ(Slurp((*area)->ObjectPath(ObjectType::kPack, big.name)), on_disk);

  // A restore's small reads (one blob each) come from the pack's windows: one request per
  // window however many blobs it holds, equal to the file; an evicted window is asked again.
  {
    const uint64_t w = ro.max_request_bytes;
    const uint64_t windows = (big.size + w - 1) / w;
    const uint64_t start = s.requests();
    size_t slices = 0;
    for (uint64_t at = 0; at + 1000 <= big.size; at += 1000) {
      if (at / w != (at + 999) / w) continue;  // a read across two windows goes straight through
      auto slice = s.GetRange(ObjectType::kPack, big.name, at, 1000);
      ASSERT_TRUE(slice.ok()) << at << ": " << slice.status().ToString();
      ASSERT_EQ(std::string(slice->begin(), slice->end()), on_disk.substr(at, 1000)) << at;
      ++slices;
    }
    EXPECT_GT(slices, 10 * windows);
    EXPECT_EQ(s.requests() - start, windows);
    ASSERT_TRUE(s.GetRange(ObjectType::kPack, big.name, 0, 1000).ok());
    EXPECT_EQ(s.requests() - start, windows + (windows > ro.pack_windows ? 1 : 0));

    auto fresh = VaultReadStore::Open(ro);
    ASSERT_TRUE(fresh.ok());
    std::vector<std::thread> many;
    std::atomic<int> right{0};
    for (int i = 0; i < 8; ++i) {
      many.emplace_back([&, i] {
        auto got = (*fresh)->GetRange(ObjectType::kPack, big.name, 100 * static_cast<uint64_t>(i), 500);
        if (got.ok() && std::string(got->begin(), got->end()) == on_disk.substr(100 * i, 500)) ++right;
      });
    }
    for (std::thread& t : many) t.join();
    EXPECT_EQ(right, 8);
    EXPECT_EQ((*fresh)->requests(), 1u);  // eight readers of one window: one request
  }

  std::vector<std::thread> readers;
  std::atomic<int> same{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      auto got = s.Get(ObjectType::kPack, big.name);
      if (got.ok() && std::string(got->begin(), got->end()) == on_disk) ++same;
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(same, 4);

  vault_->Kill();
  killed = true;
  auto after = s.Get(ObjectType::kPack, big.name);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(std::string(after->begin(), after->end()), on_disk);
  EXPECT_EQ(restarts, 1);
}

// G-ACL-07, G-AUD-01 (seed 001 §6.5(2)②): a grant issued with --require-approval is refused
// (exit 12, grant_not_approved) and not used up until the site's tenant admin approves it
// with `kura-vault grant approve`; then the vendor restores; `grant list` shows who
// approved; the vendor's own operator cannot approve; a denied grant never works.
TEST_F(VaultRestoreE2ETest, AGrantThatNeedsApprovalWorksOnlyAfterTheSiteAdministratorApproves) {
  // The site's administrator: added by the vendor with a one-time password, which only
  // lets the account change it; an approval with it is refused.
  ProcessOutput added =
      Vault({"--json", "operator", "add", "yamada.admin", "--tenant-admin", "sakura-clinic"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  json account = json::parse(added.out, nullptr, false);
  ASSERT_TRUE(account.is_object() && account.contains("initial_password")) << added.out;
  EXPECT_EQ(account["operator"]["role"], "tenant_admin");
  sb_.WriteFile("admin.initial", account["initial_password"].get<std::string>() + "\n");
  sb_.WriteFile("admin.pw", "山田さんの長いパスワード\n");
  const int64_t id = IssueGrant("approval.json", 2, /*require_approval=*/true);
  ASSERT_GT(id, 0);
  ProcessOutput too_early = Vault({"grant", "approve", std::to_string(id), "--login", "yamada.admin",
                                   "--password-file", sb_.Path("admin.initial")});
  EXPECT_EQ(too_early.exit_code, kExitPermission) << too_early.err;
  EXPECT_NE(too_early.err.find("change it first"), std::string::npos) << too_early.err;
  ProcessOutput changed = Vault({"operator", "passwd", "yamada.admin", "--password-file",
                                 sb_.Path("admin.initial"), "--new-password-file", sb_.Path("admin.pw")});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  const std::vector<std::string> restore = {
      "restore", "--grant",  sb_.Path("vendor/approval.json"), RecoveryKey()[0], RecoveryKey()[1],
      "latest",  "--target", sb_.Path("vendor/approved")};
  KuraRun pending = Vendor(restore);
  EXPECT_EQ(pending.exit_code, kExitPermission) << pending.err;
  EXPECT_NE(pending.err.find("grant_not_approved"), std::string::npos) << pending.err;
  EXPECT_NE(pending.err.find("it is not used up"), std::string::npos) << pending.err;

  ProcessOutput wrong = Vault({"grant", "approve", std::to_string(id), "--login", "yamada.admin",
                               "--password-file", sb_.password_file()});
  EXPECT_EQ(wrong.exit_code, kExitUnauthorized) << wrong.err;  // a wrong password
  ProcessOutput approved =
      Vault({"grant", "approve", std::to_string(id), "--login", "yamada.admin", "--password-file",
             sb_.Path("admin.pw"), "--reason", "電話で確認 (受付 #42)"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err;
  EXPECT_NE(approved.out.find("approved restore grant"), std::string::npos) << approved.out;

  KuraRun done = Vendor(restore);
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_EQ(ReadTree(sb_.Path("vendor/approved") + sb_.Path("data")), ReadTree(sb_.Path("data")));

  const int64_t second = IssueGrant("denied.json", 2, true);
  ProcessOutput denied = Vault({"grant", "deny", std::to_string(second), "--login", "yamada.admin",
                                "--password-file", sb_.Path("admin.pw"), "--reason", "依頼の覚えがない"});
  ASSERT_EQ(denied.exit_code, 0) << denied.err;
  KuraRun refused =
      Vendor({"verify", "--grant", sb_.Path("vendor/denied.json"), RecoveryKey()[0], RecoveryKey()[1]});
  EXPECT_EQ(refused.exit_code, kExitPermission) << refused.err;
  EXPECT_NE(refused.err.find("grant_not_approved"), std::string::npos) << refused.err;

  ProcessOutput list = Vault({"grant", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  seen_ += list.out;
  json grants = json::parse(list.out)["grants"];
  ASSERT_EQ(grants.size(), 2u);
  EXPECT_EQ(grants[1]["id"], id);
  EXPECT_EQ(grants[1]["state"], "redeemed");
  EXPECT_EQ(grants[1]["decision"]["by"], "yamada.admin");
  EXPECT_EQ(grants[0]["state"], "denied");
  EXPECT_EQ(Count("operator.password", "success"), 1u);
  EXPECT_EQ(Count("grant.approve", "success"), 1u);
  EXPECT_EQ(Count("grant.deny", "success"), 1u);
  EXPECT_EQ(Count("grant.redeem", "success"), 1u);
  EXPECT_EQ(Count("grant.redeem", "refused"), 2u);
  ExpectNoTokenShown({Token("approval.json"), Token("denied.json")});
}

// G-BAK-10, G-INT-08: a SQLite database the site's job sent to the vault is restored by the
// vendor through a grant with --to-database, checked by the database's own integrity check.
TEST_F(VaultRestoreE2ETest, TheVendorRestoresADatabaseThroughAGrant) {
  const std::string src = sb_.Path("care.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(src.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(
                  db,
                  "CREATE TABLE patients(id INTEGER PRIMARY KEY, name TEXT NOT NULL, note TEXT);"
                  "INSERT INTO patients VALUES (1, '山田 太郎', '要介護3「週2回」'), (2, 'O''Brien', NULL),"
                  " (3, '佐藤 花子', '服薬: 朝夕');",
                  nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  sb_.WriteConfig(fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"
[[job]]
name = "care"
[job.source]
kind = "sqlite"
path = "{3}"
[[job.target]]
name = "local"
repository = "{0}/local"
password_file = "{1}"
[[job.target]]
name = "vault"
vault = "{2}"
)T",
                              sb_.dir(), sb_.password_file(), url_, src));
  KuraRun run = sb_.Kura({"run", "care", "--kind", "manual"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  snapshot_ = sb_.Snapshots("local").back();
  IssueGrant("db.json");
  const std::string out = sb_.Path("vendor/restored.db");
  KuraRun restore = Vendor({"restore", "--grant", sb_.Path("vendor/db.json"), RecoveryKey()[0],
                            RecoveryKey()[1], "latest", "--to-database", "sqlite", "--db-name", out});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(out.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT group_concat(name, '|') FROM patients ORDER BY id", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))),
            "山田 太郎|O'Brien|佐藤 花子");
  sqlite3_finalize(st);
  sqlite3_close(db);
  ExpectNoTokenShown({Token("db.json")});
}

}  // namespace
}  // namespace kura::testing
