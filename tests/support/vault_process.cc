#include "support/vault_process.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/job_harness.h"

namespace kura::testing {

std::string VaultBin() {
  if (const char* v = std::getenv("KURA_VAULT_BIN"); v != nullptr && *v != '\0') return v;
  std::string kura = std::getenv("KURA_BIN") != nullptr ? std::getenv("KURA_BIN") : "build/bin/kura";
  return kura.substr(0, kura.rfind('/') + 1) + "kura-vault";
}

void WriteVaultJobConfig(const JobSandbox& sb, const std::string& url) {
  sb.WriteConfig(fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"
[[job]]
name = "care"
[job.source]
kind = "files"
paths = ["{0}/data"]
[job.schedule]
daily = "02:00"
[[job.target]]
name = "local"
repository = "{0}/local"
password_file = "{1}"
[[job.target]]
name = "vault"
label = "保管庫"
vault = "{2}"
)T",
                             sb.dir(), sb.password_file(), url));
}

static std::string KuraBin() {
  const char* k = std::getenv("KURA_BIN");
  return k != nullptr && *k != '\0' ? k : "build/bin/kura";
}

VaultProcess::VaultProcess(std::string dir, std::string tenant)
    : dir_(std::move(dir)), data_(dir_ + "/vault"), tenant_(std::move(tenant)) {
  Vault({"init", "--operator", "sato.hanako"});
  Vault({"tenant", "add", tenant_});
  ProcessOptions o;
  o.argv = {KuraBin(),
            "key",
            "generate-recovery",
            "--secret-key-file",
            recovery_key_file(),
            "--public-key-file",
            dir_ + "/recovery.pub"};
  o.env = {{"KURA_LANG", "en"}};
  auto gen = RunProcess(o);
  EXPECT_TRUE(gen.ok() && gen->exit_code == 0) << (gen.ok() ? gen->err : gen.status().ToString());
  Vault({"tenant", "set-recovery-key", tenant_, "--public-key-file", dir_ + "/recovery.pub"});
}

VaultProcess::~VaultProcess() {
  Kill();
}

ProcessOutput VaultProcess::Vault(const std::vector<std::string>& args, int expect_exit) const {
  ProcessOptions o;
  o.argv = {VaultBin(), "--data-dir", data_};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {{"KURA_ARGON2_MEM_KIB", "8192"}, {"KURA_ARGON2_OPS", "1"}, {"KURA_LANG", "en"}};
  auto r = RunProcess(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return ProcessOutput{};
  if (expect_exit != kAnyExit) {
    EXPECT_EQ(r->exit_code, expect_exit) << fmt::format("kura-vault {}: {}", fmt::join(args, " "), r->err);
  }
  return *r;
}

std::string VaultProcess::EnrolSite(const std::string& site) {
  Vault({"site", "add", tenant_, site});
  ProcessOutput enrol = Vault({"--json", "site", "enroll", tenant_, site});
  auto j = nlohmann::json::parse(enrol.out, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("code")) << enrol.err;
  return j.is_object() && j.contains("code") ? j["code"].get<std::string>() : "";
}

void VaultProcess::Start(const std::string& listen) {
  std::string where = !listen.empty() ? listen
                      : port_ > 0     ? fmt::format("127.0.0.1:{}", port_)
                                      : "127.0.0.1:0";
  ProcessOptions o;
  o.argv = {VaultBin(), "--data-dir", data_, "--json", "serve", "--listen", where};
  o.env = {{"KURA_LANG", "en"}};
  o.stderr_tail_bytes = 1 << 16;
  auto p = Process::Start(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  serve_ = std::move(*p);
  std::string line;
  uint8_t c = 0;
  for (;;) {
    auto n = serve_->Stdout().Read(&c, 1);
    ASSERT_TRUE(n.ok() && *n == 1) << "kura-vault serve printed no address";
    if (c == '\n') break;
    line.push_back(static_cast<char>(c));
  }
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("port")) << line;
  port_ = j["port"].get<int>();
  url_ = fmt::format("https://127.0.0.1:{}", port_);
}

void VaultProcess::Kill() {
  if (!serve_) return;
  serve_->Kill();
  (void)serve_->Wait();
  serve_.reset();
}

std::string VaultProcess::StderrTail() const {
  return serve_ ? serve_->StderrTail() : "";
}

void VaultProcess::Stop() {
  if (!serve_) return;
  serve_->Signal(SIGTERM);
  (void)serve_->Wait();
  serve_.reset();
}

}  // namespace kura::testing
