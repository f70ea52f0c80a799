// The real kura-vault binary as the vendor's operator runs it: init, tenants, and the
// audit trail's verify and export, with every command leaving its audit record.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "support/repo_testing.h"
#include "util/clock.h"
#include "vault/catalog.h"
#include "vault_e2e/vault_run.h"

namespace kura::vault::testing {
namespace {

// kura-vault's exit codes (docs/vault-exit-codes.md), spelled out so a renumbering breaks
// these tests.
constexpr int kOk = 0, kUsage = 2, kNotFound = 3, kDamaged = 8, kUnsupported = 13, kAlreadyExists = 15;

int Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class VaultCliTest : public ::testing::Test {
 protected:
  VaultCliTest() {
    data_ = dir_.Sub("vault");
    env_ = {{"KURA_VAULT_DATA_DIR", data_}, {"KURA_ARGON2_MEM_KIB", "8192"}, {"KURA_ARGON2_OPS", "1"}};
  }
  VaultRun Vault(const std::vector<std::string>& args, const Env& extra = {}) {
    Env env = env_;
    for (const auto& [k, v] : extra) env[k] = v;
    return RunVault(args, env);
  }
  // `kura-vault init --json`; returns the initial password.
  std::string Init() {
    VaultRun r = Vault({"--json", "init", "--operator", "suzuki.ichiro"});
    EXPECT_EQ(r.exit_code, kOk) << r.err;
    auto j = r.Json();
    if (j.is_discarded() || !j.contains("initial_password")) {
      ADD_FAILURE() << r.out;
      return {};
    }
    return j["initial_password"];
  }
  std::unique_ptr<Catalog> OpenCatalog() {
    auto c = Catalog::Open(data_ + "/catalog.db", clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ + "/catalog.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  std::vector<std::string> Actions() {
    VaultRun r = Vault({"audit", "export", "--format", "json"});
    EXPECT_EQ(r.exit_code, kOk) << r.err;
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) {
        ADD_FAILURE() << line;
        continue;
      }
      out.push_back(j["action"].get<std::string>() + ":" + j["result"].get<std::string>());
    }
    return out;
  }

  kura::testing::TempDir dir_{"kura-vault-e2e"};
  std::string data_;
  Env env_;
  FakeClock clock_{1796169600};
};

// G-AUTH-02, G-AUTH-04: the only account after init is the one the installer named, its
// password is random, shown once, stored only as a hash, and must be changed.
TEST_F(VaultCliTest, InitMakesAPrivateVaultWithOneMustChangeOperator) {
  for (const char* reserved : {"admin", "Administrator", "root"}) {
    VaultRun refused = Vault({"init", "--operator", reserved});
    EXPECT_EQ(refused.exit_code, 2) << reserved << ": " << refused.err;
    EXPECT_NE(refused.err.find("既定の管理者名"), std::string::npos) << refused.err;
  }
  EXPECT_NE(Vault({"init"}).exit_code, kOk) << "no default account: the installer names it";
  VaultRun r = Vault({"init", "--operator", "sato.hanako"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  EXPECT_NE(r.out.find("最初のオペレーター \"sato.hanako\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("この一度だけ表示します"), std::string::npos);
  EXPECT_EQ(Mode(data_), 0700);
  EXPECT_EQ(Mode(data_ + "/vault.toml"), 0600);
  EXPECT_EQ(Mode(data_ + "/catalog.db"), 0600);
  EXPECT_EQ(Mode(data_ + "/objects"), 0700);
  // The password: the indented line of the message.
  std::string password;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  ", 0) == 0) password = line.substr(2);
  }
  ASSERT_EQ(password.size(), 20u) << r.out;
  EXPECT_EQ(r.err.find(password), std::string::npos);
  DIR* d = ::opendir(data_.c_str());
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == "objects") continue;
    EXPECT_EQ(kura::testing::ReadFileString(data_ + "/" + name).find(password), std::string::npos) << name;
  }
  ::closedir(d);
  auto c = OpenCatalog();
  ASSERT_TRUE(c);
  auto ops = c->ListOperators();
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].login, "sato.hanako");
  EXPECT_TRUE((*ops)[0].must_change_password);
  EXPECT_TRUE(c->CheckOperatorLogin("sato.hanako", password, AuditActor{"test", "e2e", "", "", ""}).ok());
  EXPECT_FALSE(c->CheckOperatorLogin("sato.hanako", "admin", AuditActor{"test", "e2e", "", "", ""}).ok());
  for (const char* name : {"admin", "administrator", "root"}) {
    EXPECT_FALSE(c->CheckOperatorLogin(name, password, AuditActor{"test", "e2e", "", "", ""}).ok()) << name;
  }
}

TEST_F(VaultCliTest, InitNamesTheOperatorAndNeverOverwrites) {
  VaultRun r = Vault({"--json", "init", "--operator", "yamada.taro"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  auto j = r.Json();
  EXPECT_EQ(j["operator"]["login"], "yamada.taro");
  EXPECT_EQ(j["operator"]["must_change_password"], true);
  std::string before = kura::testing::ReadFileString(data_ + "/catalog.db");
  VaultRun again = Vault({"--lang", "en", "init", "--operator", "yamada.taro"});
  EXPECT_EQ(again.exit_code, kAlreadyExists);
  EXPECT_NE(again.err.find("already holds kura-vault data"), std::string::npos) << again.err;
  EXPECT_TRUE(again.out.empty());
  EXPECT_EQ(kura::testing::ReadFileString(data_ + "/catalog.db"), before);

  std::string other = dir_.Sub("busy");
  kura::testing::WriteFile(other + "/somebody-elses.txt", "x");
  VaultRun busy = Vault({"init", "--operator", "yamada.taro"}, {{"KURA_VAULT_DATA_DIR", other}});
  EXPECT_EQ(busy.exit_code, kUsage);
  EXPECT_NE(busy.err.find("空ではありません"), std::string::npos) << busy.err;
}

TEST_F(VaultCliTest, TenantsAreAddedAndListedInJapaneseOrEnglish) {
  Init();
  VaultRun add = Vault({"tenant", "add", "さくら診療所"});
  ASSERT_EQ(add.exit_code, kOk) << add.err;
  EXPECT_NE(add.out.find("テナント \"さくら診療所\" を追加しました"), std::string::npos) << add.out;
  VaultRun en = Vault({"--lang", "en", "tenant", "add", "Aoba Care"});
  ASSERT_EQ(en.exit_code, kOk) << en.err;
  EXPECT_NE(en.out.find("Added tenant \"Aoba Care\""), std::string::npos) << en.out;

  VaultRun dup = Vault({"tenant", "add", "さくら診療所"});
  EXPECT_EQ(dup.exit_code, kAlreadyExists);
  EXPECT_NE(dup.err.find("すでにあります"), std::string::npos) << dup.err;
  VaultRun bad = Vault({"tenant", "add", " spaced "});
  EXPECT_EQ(bad.exit_code, kUsage);

  VaultRun list = Vault({"tenant", "list", "--json"});
  ASSERT_EQ(list.exit_code, kOk) << list.err;
  auto j = list.Json();
  ASSERT_TRUE(j.contains("tenants")) << list.out;
  ASSERT_EQ(j["tenants"].size(), 2u);
  EXPECT_EQ(j["tenants"][0]["name"], "さくら診療所");
  EXPECT_EQ(j["tenants"][1]["name"], "Aoba Care");
  VaultRun human = Vault({"tenant", "list"});
  EXPECT_NE(human.out.find("さくら診療所"), std::string::npos);
  EXPECT_NE(human.out.find("名前"), std::string::npos);
}

TEST_F(VaultCliTest, MissingVaultAndBadUsageHaveTheirExitCodes) {
  VaultRun none = Vault({"tenant", "list"});
  EXPECT_EQ(none.exit_code, kNotFound);
  EXPECT_NE(none.err.find("kura-vault init"), std::string::npos) << none.err;
  VaultRun none_json = Vault({"--json", "tenant", "list"});
  auto j = none_json.Json();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["exit_code"], kNotFound);
  EXPECT_EQ(Vault({"--lang", "fr", "tenant", "list"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"tenant"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"frobnicate"}).exit_code, kUsage);
}

TEST_F(VaultCliTest, CatalogFromANewerVaultIsRefused) {
  Init();
  RawSql("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)");
  VaultRun r = Vault({"--lang", "en", "tenant", "list"});
  EXPECT_EQ(r.exit_code, kUnsupported);
  EXPECT_NE(r.err.find("update kura-vault"), std::string::npos) << r.err;
}

// G-AUD-01: each command leaves exactly its record, the refused one included.
TEST_F(VaultCliTest, EveryCommandIsAudited) {
  Init();
  ASSERT_EQ(Vault({"tenant", "add", "t1"}).exit_code, kOk);
  ASSERT_EQ(Vault({"tenant", "add", "t1"}).exit_code, kAlreadyExists);
  ASSERT_EQ(Vault({"tenant", "list"}).exit_code, kOk);
  ASSERT_EQ(Vault({"audit", "verify"}).exit_code, kOk);
  // The export is on record before its data leaves, so it lists itself last.
  std::vector<std::string> expected = {"vault.init:success",  "operator.add:success", "tenant.add:success",
                                       "tenant.add:failure",  "tenant.list:success",  "audit.verify:success",
                                       "audit.export:success"};
  EXPECT_EQ(Actions(), expected);
  auto rec = Vault({"audit", "export", "--format", "csv"});
  EXPECT_NE(rec.out.find("os_user"), std::string::npos);
  EXPECT_NE(rec.out.find("(uid "), std::string::npos);
}

TEST_F(VaultCliTest, ExportIsRfc4180CsvOrJsonLinesByPeriod) {
  Init();
  ASSERT_EQ(Vault({"tenant", "add", "Tanaka, Suzuki & \"Partners\""}).exit_code, kOk);
  VaultRun csv = Vault({"audit", "export", "--from", "2000-01-01", "--to", "2999-12-31"});
  ASSERT_EQ(csv.exit_code, kOk) << csv.err;
  EXPECT_TRUE(
      csv.out.starts_with("seq,time,actor_kind,actor_id,source_ip,site,terminal,action,target,result,"
                          "detail,prev_hash,hash\r\n"));
  EXPECT_NE(csv.out.find("\"tenant:Tanaka, Suzuki & \"\"Partners\"\"\""), std::string::npos) << csv.out;
  size_t rows = 0;
  for (size_t p = 0; (p = csv.out.find("\r\n", p)) != std::string::npos; p += 2) ++rows;
  EXPECT_EQ(rows, 1u + 4u);  // header, init, operator, tenant, this export
  VaultRun past = Vault({"audit", "export", "--to", "2000-01-01", "--format", "json"});
  ASSERT_EQ(past.exit_code, kOk) << past.err;
  EXPECT_TRUE(past.out.empty()) << past.out;
  std::string file = dir_.Sub("export.jsonl");
  VaultRun to_file = Vault({"audit", "export", "--format", "json", "-o", file});
  ASSERT_EQ(to_file.exit_code, kOk) << to_file.err;
  EXPECT_EQ(Mode(file), 0600);
  EXPECT_NE(kura::testing::ReadFileString(file).find("\"action\":\"tenant.add\""), std::string::npos);
  for (const auto& [name, content] : kura::testing::ReadTree(dir_.path())) {
    EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;  // no temporary file left behind
  }
  EXPECT_EQ(Vault({"audit", "export", "-o", dir_.Sub("no/such/dir/x.csv")}).exit_code, kNotFound);
  EXPECT_EQ(Vault({"audit", "export", "--from", "yesterday"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"audit", "export", "--from", "2026-12-02", "--to", "2026-12-01"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"audit", "export", "--format", "xml"}).exit_code, kUsage);
}

TEST_F(VaultCliTest, VerifyFindsTamperingAndSaysWhere) {
  Init();
  for (const char* name : {"t1", "t2", "t3"}) ASSERT_EQ(Vault({"tenant", "add", name}).exit_code, kOk);
  VaultRun good = Vault({"--json", "audit", "verify"});
  ASSERT_EQ(good.exit_code, kOk) << good.err;
  EXPECT_EQ(good.Json()["ok"], true);
  EXPECT_EQ(good.Json()["records"], 5);
  RawSql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor_id = 'someone else' WHERE seq = 4;");
  VaultRun bad = Vault({"audit", "verify"});
  EXPECT_EQ(bad.exit_code, kDamaged);
  EXPECT_NE(bad.out.find("記録 4 が改変されています"), std::string::npos) << bad.out;
  VaultRun json = Vault({"--json", "audit", "verify"});
  EXPECT_EQ(json.exit_code, kDamaged);
  EXPECT_EQ(json.Json()["problem"], "edited");
  EXPECT_EQ(json.Json()["first_bad_seq"], 4);
  // An export still comes out, with the warning, for the auditor to see what is there.
  VaultRun exp = Vault({"audit", "export"});
  EXPECT_EQ(exp.exit_code, kDamaged);
  EXPECT_NE(exp.out.find("someone else"), std::string::npos);
  EXPECT_NE(exp.err.find("警告"), std::string::npos) << exp.err;
}

// The head an auditor notes from one verify is checked by the next: still in the chain
// after more records, gone after the tail is cut and the anchor forged to match.
TEST_F(VaultCliTest, VerifyChecksAHeadNotedEarlier) {
  Init();
  ASSERT_EQ(Vault({"tenant", "add", "t1"}).exit_code, kOk);
  VaultRun first = Vault({"--json", "audit", "verify"});
  ASSERT_EQ(first.exit_code, kOk);
  std::string head = first.Json()["head"];
  EXPECT_TRUE(head.starts_with("3:")) << head;
  // The human form prints it too (one record later: the first verify is on record now).
  EXPECT_NE(Vault({"audit", "verify"}).out.find("先頭 4:"), std::string::npos);
  ASSERT_EQ(Vault({"tenant", "add", "t2"}).exit_code, kOk);
  EXPECT_EQ(Vault({"audit", "verify", "--expect-head", head}).exit_code, kOk);
  RawSql(
      "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 3;"
      "UPDATE audit_anchor SET record_count = 2, head_hash = (SELECT hash FROM audit_log WHERE seq = 2);");
  EXPECT_EQ(Vault({"audit", "verify"}).exit_code, kOk);  // nothing inside the catalog can tell
  VaultRun r = Vault({"--json", "audit", "verify", "--expect-head", head});
  EXPECT_EQ(r.exit_code, kDamaged);
  EXPECT_EQ(r.Json()["problem"], "rewritten");
  EXPECT_EQ(Vault({"audit", "verify", "--expect-head", "3:nothex"}).exit_code, kUsage);
}

TEST_F(VaultCliTest, VerifyFindsACutOffTail) {
  Init();
  for (const char* name : {"t1", "t2", "t3"}) ASSERT_EQ(Vault({"tenant", "add", name}).exit_code, kOk);
  RawSql("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 4;");
  VaultRun r = Vault({"--lang", "en", "audit", "verify"});
  EXPECT_EQ(r.exit_code, kDamaged);
  EXPECT_NE(r.out.find("records 4 to 5 are missing"), std::string::npos) << r.out;
}

// Several kura-vault processes changing the catalog at once: every change lands, and the
// trail is one valid chain.
TEST_F(VaultCliTest, ConcurrentProcessesKeepOneChain) {
  Init();
  std::vector<pid_t> pids;
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 5; ++i) {
      pids.push_back(StartVault({"tenant", "add", "p" + std::to_string(p) + "-" + std::to_string(i)}, env_,
                                dir_.path()));
    }
  }
  for (pid_t pid : pids) EXPECT_EQ(WaitVault(pid), kOk);
  VaultRun v = Vault({"--json", "audit", "verify"});
  EXPECT_EQ(v.exit_code, kOk) << v.out;
  EXPECT_EQ(v.Json()["records"], 2 + 20);
  auto j = Vault({"tenant", "list", "--json"}).Json();
  EXPECT_EQ(j["tenants"].size(), 20u);
}

// Issue 7 §4 "kura-vault status", G-MON-07: the real binary lists every site in one row
// with its state by precedence (failed before overdue), last success, bytes, the
// tenant's quota and its open alarms; quota and retention are set through the CLI and
// audited; a hold is cleared only with a reason.
TEST_F(VaultCliTest, StatusJsonShowsEverySiteWithStateBytesQuotaAndAlarms) {
  Init();
  ASSERT_EQ(Vault({"tenant", "add", "さくら診療所"}).exit_code, kOk);
  ASSERT_EQ(Vault({"site", "add", "さくら診療所", "本院"}).exit_code, kOk);
  ASSERT_EQ(Vault({"site", "add", "さくら診療所", "分院"}).exit_code, kOk);
  ASSERT_EQ(Vault({"tenant", "set-quota", "さくら診療所", "--soft", "1K", "--hard", "2KiB"}).exit_code, kOk);
  EXPECT_EQ(Vault({"tenant", "set-quota", "さくら診療所", "--soft", "3K", "--hard", "2K"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"tenant", "set-quota", "さくら診療所", "--soft", "lots", "--hard", "2K"}).exit_code,
            kUsage);
  ASSERT_EQ(
      Vault({"tenant", "set-retention", "さくら診療所", "--daily", "5", "--monthly", "2", "--manual", "1"})
          .exit_code,
      kOk);
  {
    auto c = OpenCatalog();
    ASSERT_NE(c, nullptr);
    auto t = c->FindTenant("さくら診療所");
    auto site = c->FindSite(t->id, "本院");
    ASSERT_TRUE(site.ok());
    AuditActor actor{"operator", "test", "local", "", ""};
    ASSERT_TRUE(
        c->BindRepository(site->id, "nightly", std::string(32, 'a'), std::string(64, 'c'), actor).ok());
    auto repo = c->FindBoundRepository(std::string(32, 'a'));
    ASSERT_TRUE(c->RecordPack(repo->id, std::string(64, '1'), 1500, {}, actor).ok());
    RunReport fail;
    fail.result = "failure";
    fail.kind = "daily";
    fail.message = "pg_dump: connection refused";
    ASSERT_TRUE(c->RecordRun(repo->id, fail).ok());
    ASSERT_TRUE(c->RaiseAlarm({"failed", t->id, site->id, repo->id}, "失敗\nfailed", actor).ok());
  }
  VaultRun r = Vault({"--lang", "en", "status", "--json"});
  ASSERT_EQ(r.exit_code, kOk) << r.err;
  auto j = r.Json();
  ASSERT_TRUE(j.contains("sites")) << r.out;
  ASSERT_EQ(j["sites"].size(), 2u);
  nlohmann::json honin, bunin;
  for (const auto& s : j["sites"]) (s["site"] == "本院" ? honin : bunin) = s;
  EXPECT_EQ(honin["tenant"], "さくら診療所");
  EXPECT_EQ(honin["state"], "failed");
  EXPECT_EQ(honin["bytes"], 1500);
  EXPECT_EQ(honin["quota"]["used"], 1500);
  EXPECT_EQ(honin["quota"]["soft"], 1024);
  EXPECT_EQ(honin["quota"]["hard"], 2048);
  EXPECT_EQ(honin["quota"]["remaining"], 548);
  ASSERT_EQ(honin["alarms"].size(), 1u);
  EXPECT_EQ(honin["alarms"][0]["kind"], "failed");
  EXPECT_EQ(honin["alarms"][0]["detail"], "failed");
  EXPECT_NE(honin["summary"].get<std::string>().find("connection refused"), std::string::npos) << honin;
  EXPECT_EQ(bunin["state"], "ok");
  EXPECT_EQ(bunin["bytes"], 0);
  EXPECT_EQ(j["clock"]["frozen"], false);

  VaultRun human = Vault({"status"});
  ASSERT_EQ(human.exit_code, kOk) << human.err;
  EXPECT_NE(human.out.find("本院"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("状態"), std::string::npos) << human.out;

  VaultRun show = Vault({"--lang", "en", "retention", "show", "さくら診療所", "本院"});
  ASSERT_EQ(show.exit_code, kOk) << show.err;
  EXPECT_NE(show.out.find("daily 5"), std::string::npos) << show.out;
  EXPECT_EQ(Vault({"retention", "show", "さくら診療所", "分院"}).exit_code, kNotFound);
  VaultRun holds = Vault({"hold", "list", "--json"});
  ASSERT_EQ(holds.exit_code, kOk) << holds.err;
  EXPECT_TRUE(holds.Json()["holds"].empty());
  EXPECT_EQ(Vault({"hold", "clear", "さくら診療所", "本院"}).exit_code, kUsage);  // --reason is required
  EXPECT_EQ(Vault({"hold", "clear", "さくら診療所", "本院", "--reason", "checked"}).exit_code, kNotFound);
  ASSERT_EQ(Vault({"clock", "acknowledge"}).exit_code, kOk);

  std::vector<std::string> actions = Actions();
  for (const char* want : {"tenant.set_quota:success", "tenant.set_quota:failure",
                           "tenant.set_retention:success", "status.show:success", "retention.show:success",
                           "hold.list:success", "hold.clear:failure", "clock.acknowledge:success"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), want), actions.end()) << want;
  }
}

// G-MON-01: the operator sets the overdue grace per tenant and per site (a PC switched off
// at night backs up at start-up); status shows the grace in effect and where it comes from.
TEST_F(VaultCliTest, OverdueGraceIsSetPerTenantAndSiteAndShown) {
  Init();
  ASSERT_EQ(Vault({"tenant", "add", "さくら診療所"}).exit_code, kOk);
  ASSERT_EQ(Vault({"site", "add", "さくら診療所", "本院"}).exit_code, kOk);
  ASSERT_EQ(Vault({"site", "add", "さくら診療所", "訪問看護"}).exit_code, kOk);
  {
    auto c = OpenCatalog();
    ASSERT_NE(c, nullptr);
    auto t = c->FindTenant("さくら診療所");
    AuditActor actor{"operator", "test", "local", "", ""};
    char id = 'a';
    for (const char* name : {"本院", "訪問看護"}) {
      auto site = c->FindSite(t->id, name);
      ASSERT_TRUE(site.ok());
      ASSERT_TRUE(
          c->BindRepository(site->id, "nightly", std::string(32, id++), std::string(64, 'c'), actor).ok());
    }
  }
  auto graces = [&]() {
    std::map<std::string, std::pair<int, std::string>> out;
    VaultRun r = Vault({"status", "--json"});
    EXPECT_EQ(r.exit_code, kOk) << r.err;
    nlohmann::json doc = r.Json();
    EXPECT_FALSE(doc["sites"].empty()) << r.out;
    for (const auto& s : doc["sites"]) {
      for (const auto& repo : s["repositories"]) {
        out[s["site"].get<std::string>()] = {repo["overdue_grace_hours"].get<int>(),
                                             repo["overdue_grace_from"].get<std::string>()};
      }
    }
    return out;
  };
  using Grace = std::pair<int, std::string>;
  EXPECT_EQ(graces()["本院"], Grace(4, "default"));

  VaultRun tenant = Vault({"--json", "tenant", "set-grace", "さくら診療所", "--hours", "8"});
  ASSERT_EQ(tenant.exit_code, kOk) << tenant.err;
  EXPECT_EQ(tenant.Json()["overdue_grace_hours"], 8);
  VaultRun site = Vault({"--lang", "en", "site", "set-grace", "さくら診療所", "訪問看護", "--hours", "72"});
  ASSERT_EQ(site.exit_code, kOk) << site.err;
  EXPECT_NE(site.out.find("72 h"), std::string::npos) << site.out;
  EXPECT_EQ(graces()["本院"], Grace(8, "tenant"));
  EXPECT_EQ(graces()["訪問看護"], Grace(72, "site"));
  VaultRun list = Vault({"site", "list", "さくら診療所", "--json"});
  ASSERT_EQ(list.exit_code, kOk) << list.err;
  nlohmann::json listed = list.Json();
  ASSERT_EQ(listed["sites"].size(), 2u) << list.out;
  for (const auto& s : listed["sites"]) {
    if (s["name"] == "訪問看護") {
      EXPECT_EQ(s["overdue_grace_hours"], 72);
    } else {
      EXPECT_TRUE(s["overdue_grace_hours"].is_null()) << s;
    }
  }

  VaultRun back = Vault({"--json", "site", "set-grace", "さくら診療所", "訪問看護", "--default"});
  ASSERT_EQ(back.exit_code, kOk) << back.err;
  EXPECT_EQ(back.Json()["overdue_grace_hours"], 8);
  EXPECT_EQ(back.Json()["from"], "tenant");
  EXPECT_EQ(graces()["訪問看護"], Grace(8, "tenant"));

  // Neither, both, out of range, an unknown site: a usage error or not found, nothing changed.
  EXPECT_EQ(Vault({"tenant", "set-grace", "さくら診療所"}).exit_code, kUsage);
  EXPECT_EQ(Vault({"tenant", "set-grace", "さくら診療所", "--hours", "3", "--default"}).exit_code, kUsage);
  VaultRun too_long = Vault({"--lang", "en", "tenant", "set-grace", "さくら診療所", "--hours", "745"});
  EXPECT_EQ(too_long.exit_code, kUsage);
  EXPECT_NE(too_long.err.find("0..744"), std::string::npos) << too_long.err;
  EXPECT_EQ(Vault({"site", "set-grace", "さくら診療所", "分院", "--hours", "5"}).exit_code, kNotFound);
  EXPECT_EQ(graces()["本院"], Grace(8, "tenant"));

  std::vector<std::string> actions = Actions();
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "tenant.set_overdue_grace:success"), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "site.set_overdue_grace:success"), 2);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "tenant.set_overdue_grace:failure"), 1);
}

}  // namespace
}  // namespace kura::vault::testing
