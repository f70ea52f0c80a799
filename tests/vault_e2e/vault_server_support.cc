#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "crypto/crypto.h"
#include "util/hex.h"
#include "vault_e2e/vault_server.h"

namespace kura::vault::testing {

static std::string ReadAllText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ReplaceInFile(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = ReadAllText(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;
}

net::ClientResponse CallVault(net::HttpClient& client, const std::string& method, const std::string& path,
                              const std::string& body, const std::string& token,
                              std::vector<net::Header> headers) {
  net::ClientRequest req;
  req.method = method;
  req.path = path;
  req.body = body;
  req.headers = std::move(headers);
  if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
  if (method == "POST" && !body.empty()) req.headers.push_back({"Content-Type", "application/json"});
  auto r = client.Send(req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::ClientResponse{};
}

VaultServerEnv::VaultServerEnv() {
  data_ = dir_.Sub("vault");
  env_ = {{"KURA_VAULT_DATA_DIR", data_}, {"KURA_ARGON2_MEM_KIB", "8192"}, {"KURA_ARGON2_OPS", "1"}};
  ::mkdir(scratch().c_str(), 0700);
  VaultRun r = Vault({"--json", "init", "--operator", "suzuki.ichiro"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ReplaceInFile(data_ + "/vault.toml", "stop_grace_seconds = 30", "stop_grace_seconds = 2");
  ReplaceInFile(data_ + "/vault.toml", "body_timeout_seconds = 30", "body_timeout_seconds = 5");
  r = Vault({"tenant", "add", "sakura-clinic"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Vault({"site", "add", "sakura-clinic", "honin"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  crypto::BoxKeyPair pair = crypto::GenerateBoxKeyPair();
  recovery_public_ = pair.public_key;
  SecureZero(pair.secret_key.data(), pair.secret_key.size());
  kura::testing::WriteFile(dir_.Sub("recovery.pub"), ToHex(recovery_public_) + "\n");
  r = Vault({"tenant", "set-recovery-key", "sakura-clinic", "--public-key-file", dir_.Sub("recovery.pub")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

VaultServerEnv::~VaultServerEnv() {
  if (pid_ > 0) Stop(SIGKILL);
}

VaultRun VaultServerEnv::Vault(const std::vector<std::string>& args) const {
  return RunVault(args, env_);
}

std::string VaultServerEnv::EnrolmentCode(const std::string& tenant, const std::string& site) {
  VaultRun r = Vault({"--json", "site", "enroll", tenant, site});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = r.Json();
  if (j.is_discarded() || !j.contains("code")) {
    ADD_FAILURE() << r.out << r.err;
    return {};
  }
  return j["code"];
}

bool VaultServerEnv::Start() {
  out_path_ = scratch() + "/serve-" + std::to_string(starts_) + ".out";
  err_path_ = scratch() + "/serve-" + std::to_string(starts_++) + ".err";
  pid_ = StartVaultTo({"--json", "serve", "--listen", "127.0.0.1:0"}, env_, out_path_, err_path_);
  if (pid_ <= 0) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = ReadAllText(out_path_);
    size_t nl = out.find('\n');
    if (nl != std::string::npos) {
      auto j = nlohmann::json::parse(out.substr(0, nl), nullptr, false);
      if (j.is_discarded() || !j.contains("port")) return false;
      port_ = j["port"].get<uint16_t>();
      auto fp = net::Fingerprint::Parse(j["certificate_fingerprint"].get<std::string>());
      if (!fp.ok()) return false;
      fingerprint_ = *fp;
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int VaultServerEnv::Stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int code = WaitVault(pid_);
  pid_ = -1;
  return code;
}

std::string VaultServerEnv::stderr_text() const {
  return ReadAllText(err_path_);
}

std::unique_ptr<net::HttpClient> VaultServerEnv::Client() const {
  net::ClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(port_);
  o.pin = fingerprint_;
  o.idle_timeout = std::chrono::seconds(20);
  auto c = net::HttpClient::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

}  // namespace kura::vault::testing
