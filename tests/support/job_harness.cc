#include "support/job_harness.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/db_servers.h"

namespace kura::testing {

static std::string KuraBin() {
  const char* bin = std::getenv("KURA_BIN");
  return bin != nullptr ? bin : "build/bin/kura";
}

JobSandbox::JobSandbox() : dir_(MakeTempDir("kura-job-e2e")) {
  WriteFile("repo.pw", "e2e-password-1234\n");
}

JobSandbox::~JobSandbox() {
  if (std::getenv("KURA_KEEP_TEST_DIRS") == nullptr) RemoveAll(dir_);
}

std::vector<std::pair<std::string, std::string>> JobSandbox::Env() const {
  return {{"KURA_ARGON2_MEM_KIB", "8192"},         {"KURA_ARGON2_OPS", "1"},
          {"KURA_CACHE_DIR", Path("cache")},       {"KURA_AGENT_CONFIG", Path("agent.toml")},
          {"KURA_PASSWORD_FILE", password_file()}, {"KURA_LANG", "ja"}};
}

KuraRun JobSandbox::Kura(const std::vector<std::string>& args) const {
  ProcessOptions o;
  o.argv = {KuraBin()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = Env();
  o.unset_env = {"KURA_REPOSITORY", "KURA_CONFIG", "KURA_KEY_FILE"};
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
  return run;
}

std::unique_ptr<Process> JobSandbox::StartKura(const std::vector<std::string>& args) const {
  ProcessOptions o;
  o.argv = {"sh", "-c", "exec \"$0\" \"$@\" >>" + Path("agent.out") + " 2>&1", KuraBin()};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = Env();
  o.pipe_stdout = false;
  auto p = Process::Start(o);
  return p.ok() ? std::move(*p) : nullptr;
}

std::string JobSandbox::InitRepo(const std::string& name) const {
  std::string path = Path(name);
  KuraRun r = Kura({"init", "-r", path, "-q"});
  if (r.exit_code != 0) std::fprintf(stderr, "kura init failed: %s\n", r.err.c_str());
  return path;
}

void JobSandbox::WriteConfig(const std::string& toml) const {
  WriteFile("agent.toml", toml, 0644);
}

void JobSandbox::WriteFile(const std::string& name, const std::string& text, int mode) const {
  std::string path = Path(name);
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::vector<std::string> JobSandbox::Snapshots(const std::string& repo) const {
  KuraRun r = Kura({"snapshots", "-r", Path(repo), "--json"});
  std::vector<std::string> ids;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return ids;
  const nlohmann::json& list = j.is_array() ? j : j.value("snapshots", nlohmann::json::array());
  for (const auto& s : list) {
    if (s.contains("id")) ids.push_back(s["id"].get<std::string>());
  }
  return ids;
}

}  // namespace kura::testing
