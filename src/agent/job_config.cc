#include "agent/job_config.h"

#include <cstdlib>
#include <set>
#include <sstream>
#include <toml.hpp>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/toml_text.h"

namespace kura {

bool ParseTimeOfDay(const std::string& text, TimeOfDay* out) {
  int h = 0, m = 0;
  char tail = 0;
  if (text.size() < 4 || text.size() > 5 || std::sscanf(text.c_str(), "%d:%d%c", &h, &m, &tail) != 2)
    return false;
  if (h < 0 || h > 23 || m < 0 || m > 59) return false;
  *out = {h, m};
  return true;
}

std::string FormatTimeOfDay(const TimeOfDay& t) {
  return fmt::format("{:02d}:{:02d}", t.hour, t.minute);
}

bool JobConfig::AllowsKind(SnapshotKind kind) const {
  for (SnapshotKind k : kinds) {
    if (k == kind) return true;
  }
  return false;
}

const TargetConfig* JobConfig::FindTarget(const std::string& target_name) const {
  for (const TargetConfig& t : targets) {
    if (t.name == target_name) return &t;
  }
  return nullptr;
}

const JobConfig* AgentConfig::FindJob(const std::string& job_name) const {
  for (const JobConfig& j : jobs) {
    if (j.name == job_name) return &j;
  }
  return nullptr;
}

std::string AgentConfigPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("KURA_AGENT_CONFIG");
  if (env != nullptr && *env != '\0') return env;
  return "/etc/kura/agent.toml";
}

namespace {

// toml11 reports its own errors with the file and line in what(); ours say where too.
std::string Where(const toml::value& v) {
  auto loc = v.location();
  return fmt::format("{}:{}", loc.file_name(), loc.line());
}

Status Invalid(const toml::value& at, const std::string& text) {
  return Status::InvalidArgument(Tr("設定ファイル {}: {}", "config file {}: {}", Where(at), text));
}

// Unknown keys are errors: a misspelt `daly = "02:00"` must not silently mean "never".
Status CheckKeys(const toml::value& table, const std::set<std::string>& allowed) {
  for (const auto& [key, value] : table.as_table()) {
    if (key == "password") {
      return Invalid(value,
                     L("パスワードを設定ファイルに直接書くことはできません。password_file (0600 のファイル) "
                       "を使ってください",
                       "a password may not be written in the config file; use password_file (a 0600 file)"));
    }
    if (allowed.count(key) == 0) {
      return Invalid(value, Tr("不明な項目 \"{}\" です (綴りを確認してください)",
                               "unknown field \"{}\" (check the spelling)", key));
    }
  }
  return Status::Ok();
}

template <typename T>
T Opt(const toml::value& table, const std::string& key, T def) {
  if (!table.contains(key)) return def;
  return toml::get<T>(table.at(key));
}

Status ParseTime(const toml::value& table, const char* key, TimeOfDay* out, bool* present) {
  *present = false;
  if (!table.contains(key)) return Status::Ok();
  std::string text = toml::find<std::string>(table, key);
  if (!ParseTimeOfDay(text, out)) {
    return Invalid(table.at(key), Tr("{} は \"HH:MM\" の形式で書いてください (指定: \"{}\")",
                                     "{} must be \"HH:MM\" (got \"{}\")", key, text));
  }
  *present = true;
  return Status::Ok();
}

Status ParseSource(const toml::value& t, SourceConfig* s) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"kind",
                                     "name",
                                     "paths",
                                     "exclude",
                                     "one_file_system",
                                     "command",
                                     "shell",
                                     "stream",
                                     "env",
                                     "cwd",
                                     "allow_empty",
                                     "host",
                                     "port",
                                     "user",
                                     "password_file",
                                     "pgpassfile",
                                     "sslmode",
                                     "socket",
                                     "client_dir",
                                     "connect_timeout_seconds",
                                     "database",
                                     "cluster",
                                     "maintenance_db",
                                     "path",
                                     "pages_per_step",
                                     "busy_timeout_ms",
                                     "server_backup_dir",
                                     "local_backup_dir",
                                     "trust_server_certificate",
                                     "query_timeout_seconds",
                                     "temp_dir"}));
  if (!t.contains("kind")) return Invalid(t, L("source.kind がありません", "source.kind is missing"));
  s->kind = toml::find<std::string>(t, "kind");
  s->name = Opt<std::string>(t, "name", "");
  s->paths = Opt<std::vector<std::string>>(t, "paths", {});
  s->exclude = Opt<std::vector<std::string>>(t, "exclude", {});
  s->one_file_system = Opt<bool>(t, "one_file_system", false);
  s->command = Opt<std::vector<std::string>>(t, "command", {});
  s->shell = Opt<std::string>(t, "shell", "");
  s->stream = Opt<std::string>(t, "stream", "");
  if (t.contains("env")) {
    for (const auto& [k, v] : toml::find(t, "env").as_table()) s->env.emplace_back(k, v.as_string().str);
  }
  s->cwd = Opt<std::string>(t, "cwd", "");
  s->allow_empty = Opt<bool>(t, "allow_empty", false);
  s->conn.host = Opt<std::string>(t, "host", "");
  s->conn.port = Opt<int>(t, "port", 0);
  s->conn.user = Opt<std::string>(t, "user", "");
  s->conn.password_file = Opt<std::string>(t, "password_file", "");
  s->conn.pgpassfile = Opt<std::string>(t, "pgpassfile", "");
  s->conn.sslmode = Opt<std::string>(t, "sslmode", "");
  s->conn.socket = Opt<std::string>(t, "socket", "");
  s->conn.client_dir = Opt<std::string>(t, "client_dir", "");
  s->conn.connect_timeout_seconds = Opt<int>(t, "connect_timeout_seconds", 15);
  s->database = Opt<std::string>(t, "database", "");
  s->cluster = Opt<bool>(t, "cluster", false);
  s->maintenance_db = Opt<std::string>(t, "maintenance_db", "");
  s->path = Opt<std::string>(t, "path", "");
  s->pages_per_step = Opt<int>(t, "pages_per_step", 256);
  s->busy_timeout_ms = Opt<int>(t, "busy_timeout_ms", 60000);
  s->server_backup_dir = Opt<std::string>(t, "server_backup_dir", "");
  s->local_backup_dir = Opt<std::string>(t, "local_backup_dir", "");
  s->trust_server_certificate = Opt<bool>(t, "trust_server_certificate", false);
  s->query_timeout_seconds = Opt<int>(t, "query_timeout_seconds", 0);
  s->temp_dir = Opt<std::string>(t, "temp_dir", "");
  return Status::Ok();
}

Status ParseKindRule(const toml::value& t, KindRule* rule) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"keep_last", "keep_days", "keep_months"}));
  *rule = KindRule{};
  rule->keep_last = Opt<int>(t, "keep_last", -1);
  rule->keep_days = Opt<int>(t, "keep_days", -1);
  rule->keep_months = Opt<int>(t, "keep_months", -1);
  return Status::Ok();
}

Status ParseRetention(const toml::value& t, TargetConfig* target) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"enabled", "daily", "monthly", "manual"}));
  target->apply_retention = Opt<bool>(t, "enabled", true);
  for (SnapshotKind kind : {SnapshotKind::kDaily, SnapshotKind::kMonthly, SnapshotKind::kManual}) {
    std::string key(KindName(kind));
    if (t.contains(key))
      KURA_RETURN_IF_ERROR(ParseKindRule(toml::find(t, key), &target->retention.For(kind)));
  }
  return Status::Ok();
}

Status ParseTarget(const toml::value& t, TargetConfig* target) {
  KURA_RETURN_IF_ERROR(CheckKeys(
      t, {"name", "label", "repository", "vault", "password_file", "key_file", "send", "retention"}));
  target->name = Opt<std::string>(t, "name", "");
  target->label = Opt<std::string>(t, "label", "");
  target->repository = Opt<std::string>(t, "repository", "");
  target->vault = Opt<std::string>(t, "vault", "");
  target->password_file = Opt<std::string>(t, "password_file", "");
  target->key_file = Opt<std::string>(t, "key_file", "");
  if (target->name.empty()) return Invalid(t, L("target.name がありません", "target.name is missing"));
  if (!target->vault.empty()) {
    // The vault repository shares the first target's keys (docs/adr/0006): no repository,
    // password or key file of its own; the credential and pin come from enrolment.
    if (!target->repository.empty() || !target->password_file.empty() || !target->key_file.empty()) {
      return Invalid(
          t, Tr("保存先 {}: vault の保存先には repository、password_file、key_file を書きません "
                "(鍵は最初の保存先と同じです)",
                "target {}: a vault target takes no repository, password_file or key_file (it shares the "
                "first target's keys)",
                target->name));
    }
    if (target->vault.rfind("https://", 0) != 0) {
      return Invalid(
          t, Tr("保存先 {}: vault は https:// で始まる URL です (指定: \"{}\")",
                "target {}: vault must be an https:// URL (got \"{}\")", target->name, target->vault));
    }
    // Retention is the vault's, on its own receive time (issue 7 §4).
    target->apply_retention = false;
  } else if (target->repository.empty()) {
    return Invalid(
        t, Tr("保存先 {} の repository がありません", "target {}: repository is missing", target->name));
  }
  if (!target->is_vault() && target->password_file.empty() == target->key_file.empty()) {
    return Invalid(t, Tr("保存先 {} には password_file か key_file のどちらか一方を指定してください",
                         "target {}: give exactly one of password_file and key_file", target->name));
  }
  std::string send = Opt<std::string>(t, "send", "immediate");
  if (send == "immediate")
    target->send = SendMode::kImmediate;
  else if (send == "night")
    target->send = SendMode::kNight;
  else
    return Invalid(t, Tr("send は \"immediate\" か \"night\" です (指定: \"{}\")",
                         "send must be \"immediate\" or \"night\" (got \"{}\")", send));
  if (t.contains("retention")) KURA_RETURN_IF_ERROR(ParseRetention(toml::find(t, "retention"), target));
  return Status::Ok();
}

Status ParseSqlHook(const toml::value& t, SqlHookConfig* sql) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"kind", "host", "port", "user", "password_file", "pgpassfile", "socket",
                                     "database", "path", "statement", "connect_timeout_seconds"}));
  sql->kind = Opt<std::string>(t, "kind", "");
  if (sql->kind == "mariadb") sql->kind = "mysql";
  if (sql->kind != "postgresql" && sql->kind != "mysql" && sql->kind != "sqlite") {
    return Invalid(t, Tr("sql.kind は postgresql、mysql、sqlite のいずれかです (指定: \"{}\")",
                         "sql.kind must be postgresql, mysql or sqlite (got \"{}\")", sql->kind));
  }
  sql->conn.host = Opt<std::string>(t, "host", "");
  sql->conn.port = Opt<int>(t, "port", 0);
  sql->conn.user = Opt<std::string>(t, "user", "");
  sql->conn.password_file = Opt<std::string>(t, "password_file", "");
  sql->conn.pgpassfile = Opt<std::string>(t, "pgpassfile", "");
  sql->conn.socket = Opt<std::string>(t, "socket", "");
  sql->database = Opt<std::string>(t, "database", "");
  sql->path = Opt<std::string>(t, "path", "");
  sql->statement = Opt<std::string>(t, "statement", "");
  sql->conn.connect_timeout_seconds = Opt<int>(t, "connect_timeout_seconds", 15);
  if (sql->statement.empty()) return Invalid(t, L("sql.statement がありません", "sql.statement is missing"));
  if (sql->kind == "sqlite" && sql->path.empty())
    return Invalid(t, L("sqlite には sql.path が必要です", "sql.path is required for sqlite"));
  if (sql->kind != "sqlite" && sql->database.empty()) {
    return Invalid(t, L("sql.database がありません", "sql.database is missing"));
  }
  return Status::Ok();
}

Status ParseHookAction(const toml::value& t, HookAction* action) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"command", "sql", "timeout_seconds"}));
  action->command = Opt<std::vector<std::string>>(t, "command", {});
  action->timeout_seconds = Opt<int>(t, "timeout_seconds", 60);
  if (t.contains("sql")) {
    SqlHookConfig sql;
    KURA_RETURN_IF_ERROR(ParseSqlHook(toml::find(t, "sql"), &sql));
    action->sql = std::move(sql);
  }
  return Status::Ok();
}

Status ParseHooks(const toml::value& t, HookSet* hooks) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"on_failure", "on_success", "on_clear"}));
  if (t.contains("on_failure"))
    KURA_RETURN_IF_ERROR(ParseHookAction(toml::find(t, "on_failure"), &hooks->on_failure));
  if (t.contains("on_success"))
    KURA_RETURN_IF_ERROR(ParseHookAction(toml::find(t, "on_success"), &hooks->on_success));
  if (t.contains("on_clear"))
    KURA_RETURN_IF_ERROR(ParseHookAction(toml::find(t, "on_clear"), &hooks->on_clear));
  return Status::Ok();
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return name != "." && name != "..";
}

Status ParseSchedule(const toml::value& t, JobSchedule* s) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"daily", "monthly_day", "monthly_time", "grace_hours"}));
  bool present = false;
  TimeOfDay daily;
  KURA_RETURN_IF_ERROR(ParseTime(t, "daily", &daily, &present));
  if (present) s->daily = daily;
  if (t.contains("monthly_day")) {
    const toml::value& d = toml::find(t, "monthly_day");
    if (d.is_string() && d.as_string().str == "last") {
      s->monthly_day = 0;
    } else if (d.is_integer() && d.as_integer() >= 1 && d.as_integer() <= 28) {
      s->monthly_day = static_cast<int>(d.as_integer());
    } else {
      return Invalid(
          d, L("monthly_day は 1〜28 の数か \"last\" (月末) です", "monthly_day must be 1..28 or \"last\""));
    }
  }
  s->monthly_time = s->daily.value_or(TimeOfDay{2, 0});
  TimeOfDay mt;
  KURA_RETURN_IF_ERROR(ParseTime(t, "monthly_time", &mt, &present));
  if (present) s->monthly_time = mt;
  s->grace_hours = Opt<int>(t, "grace_hours", 6);
  if (s->grace_hours < 0 || s->grace_hours > 24 * 31) {
    return Invalid(t.at("grace_hours"),
                   L("grace_hours は 0〜744 (時間) です", "grace_hours must be 0..744 (hours)"));
  }
  return Status::Ok();
}

Status ParseJob(const toml::value& t, JobConfig* job) {
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"name", "label", "source", "kinds", "schedule", "target", "hooks",
                                     "run_max_attempts", "skip_unreadable"}));
  job->name = Opt<std::string>(t, "name", "");
  if (!ValidName(job->name)) {
    return Invalid(t, Tr("job.name \"{}\" は英数字と _ - . だけで付けてください",
                         "job.name \"{}\" must use only letters, digits, _ - .", job->name));
  }
  job->label = Opt<std::string>(t, "label", "");
  if (!t.contains("source"))
    return Invalid(
        t, Tr("ジョブ {} に [job.source] がありません", "job {}: [job.source] is missing", job->name));
  KURA_RETURN_IF_ERROR(ParseSource(toml::find(t, "source"), &job->source));
  if (t.contains("kinds")) {
    job->kinds.clear();
    for (const std::string& k : toml::find<std::vector<std::string>>(t, "kinds")) {
      auto kind = ParseKind(k);
      if (!kind)
        return Invalid(toml::find(t, "kinds"), Tr("不明な種類 \"{}\" (daily、monthly、manual)",
                                                  "unknown kind \"{}\" (daily, monthly, manual)", k));
      job->kinds.push_back(*kind);
    }
  }
  if (t.contains("schedule")) KURA_RETURN_IF_ERROR(ParseSchedule(toml::find(t, "schedule"), &job->schedule));
  if (job->schedule.daily && !job->AllowsKind(SnapshotKind::kDaily)) {
    return Invalid(t, Tr("ジョブ {}: schedule.daily がありますが kinds に daily がありません",
                         "job {}: schedule.daily is set but kinds has no daily", job->name));
  }
  if (job->schedule.monthly_day && !job->AllowsKind(SnapshotKind::kMonthly)) {
    return Invalid(t, Tr("ジョブ {}: schedule.monthly_day がありますが kinds に monthly がありません",
                         "job {}: schedule.monthly_day is set but kinds has no monthly", job->name));
  }
  if (t.contains("target")) {
    for (const toml::value& tv : toml::find(t, "target").as_array()) {
      TargetConfig target;
      KURA_RETURN_IF_ERROR(ParseTarget(tv, &target));
      if (!ValidName(target.name))
        return Invalid(tv, Tr("target.name \"{}\" は英数字と _ - . だけで付けてください",
                              "target.name \"{}\" must use only letters, digits, _ - .", target.name));
      if (job->FindTarget(target.name) != nullptr)
        return Invalid(tv, Tr("保存先名 {} が重複しています", "duplicate target name {}", target.name));
      job->targets.push_back(std::move(target));
    }
  }
  if (job->targets.empty()) {
    return Invalid(t, Tr("ジョブ {} に [[job.target]] がありません", "job {}: no [[job.target]]", job->name));
  }
  if (job->targets.front().is_vault()) {
    return Invalid(
        t,
        Tr("ジョブ {}: 最初の保存先はローカルのリポジトリにしてください (保管庫へはその後に送られます)",
           "job {}: the first target must be a local repository (the vault receives the snapshot after it)",
           job->name));
  }
  if (t.contains("hooks")) KURA_RETURN_IF_ERROR(ParseHooks(toml::find(t, "hooks"), &job->hooks));
  job->run_max_attempts = Opt<int>(t, "run_max_attempts", 3);
  if (job->run_max_attempts < 1) job->run_max_attempts = 1;
  job->skip_unreadable = Opt<bool>(t, "skip_unreadable", false);
  return Status::Ok();
}

Status ParseDocument(const toml::value& doc, AgentConfig* c) {
  KURA_RETURN_IF_ERROR(
      CheckKeys(doc, {"state_dir", "status_file", "log_file", "log_max_bytes", "log_keep", "send_window",
                      "retry", "guidance_ja", "guidance_en", "host", "hooks", "drill", "job"}));
  c->state_dir = Opt<std::string>(doc, "state_dir", c->state_dir);
  c->status_file = Opt<std::string>(doc, "status_file", c->state_dir + "/status.json");
  c->log_file = Opt<std::string>(doc, "log_file", c->log_file);
  int64_t log_max_bytes = Opt<int64_t>(doc, "log_max_bytes", 1 << 20);
  if (log_max_bytes < kMinLogMaxBytes || log_max_bytes > kMaxLogMaxBytes) {
    return Invalid(doc.at("log_max_bytes"), Tr("log_max_bytes は {} 〜 {} (バイト) にしてください (指定: {})",
                                               "log_max_bytes must be {} to {} (bytes) (got {})",
                                               kMinLogMaxBytes, kMaxLogMaxBytes, log_max_bytes));
  }
  c->log_max_bytes = static_cast<uint64_t>(log_max_bytes);
  int64_t log_keep = Opt<int64_t>(doc, "log_keep", 5);
  if (log_keep < kMinLogKeep || log_keep > kMaxLogKeep) {
    return Invalid(doc.at("log_keep"), Tr("log_keep は {} 〜 {} (残す古いログの数) にしてください (指定: {})",
                                          "log_keep must be {} to {} (old logs to keep) (got {})",
                                          kMinLogKeep, kMaxLogKeep, log_keep));
  }
  c->log_keep = static_cast<int>(log_keep);
  c->guidance_ja = Opt<std::string>(doc, "guidance_ja", c->guidance_ja);
  c->guidance_en = Opt<std::string>(doc, "guidance_en", c->guidance_en);
  c->host = Opt<std::string>(doc, "host", "");
  if (doc.contains("send_window")) {
    std::string w = toml::find<std::string>(doc, "send_window");
    auto dash = w.find('-');
    if (dash == std::string::npos || !ParseTimeOfDay(w.substr(0, dash), &c->send_window.start) ||
        !ParseTimeOfDay(w.substr(dash + 1), &c->send_window.end)) {
      return Invalid(doc.at("send_window"),
                     Tr("send_window は \"22:00-06:00\" の形式で書いてください (指定: \"{}\")",
                        "send_window must look like \"22:00-06:00\" (got \"{}\")", w));
    }
  }
  if (doc.contains("retry")) {
    const toml::value& r = toml::find(doc, "retry");
    KURA_RETURN_IF_ERROR(CheckKeys(r, {"initial_seconds", "max_seconds"}));
    c->retry.initial_seconds = std::max(1, Opt<int>(r, "initial_seconds", 60));
    c->retry.max_seconds = std::max(c->retry.initial_seconds, Opt<int>(r, "max_seconds", 3600));
  }
  if (doc.contains("hooks")) KURA_RETURN_IF_ERROR(ParseHooks(toml::find(doc, "hooks"), &c->hooks));
  c->drill.scratch_dir = c->state_dir + "/drill";
  if (doc.contains("drill")) {
    const toml::value& d = toml::find(doc, "drill");
    KURA_RETURN_IF_ERROR(CheckKeys(d, {"scratch_dir", "database_prefix"}));
    c->drill.scratch_dir = Opt<std::string>(d, "scratch_dir", c->drill.scratch_dir);
    c->drill.database_prefix = Opt<std::string>(d, "database_prefix", c->drill.database_prefix);
  }
  if (doc.contains("job")) {
    for (const toml::value& jv : toml::find(doc, "job").as_array()) {
      JobConfig job;
      KURA_RETURN_IF_ERROR(ParseJob(jv, &job));
      if (c->FindJob(job.name) != nullptr)
        return Invalid(jv, Tr("ジョブ名 {} が重複しています", "duplicate job name {}", job.name));
      c->jobs.push_back(std::move(job));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<AgentConfig> ParseAgentConfig(const std::string& text, const std::string& name) {
  AgentConfig config;
  config.path = name;
  // toml11 recurses per nesting level: refuse what would overflow the stack first.
  KURA_RETURN_IF_ERROR(CheckTomlNesting(text, name));
  try {
    std::istringstream in(text);
    const toml::value doc = toml::parse(in, name);
    KURA_RETURN_IF_ERROR(ParseDocument(doc, &config));
  } catch (const std::exception& e) {
    // Never toml11's own text: it quotes the line, which may be `password = "...`.
    return TomlErrorStatus(e, name);
  }
  return config;
}

Result<AgentConfig> LoadAgentConfig(const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    return Status(text.status().code(), Tr("エージェント設定ファイルを読めません: {}",
                                           "cannot read the agent config file: {}", text.status().message()));
  }
  return ParseAgentConfig(*text, path);
}

}  // namespace kura
