#include "vault/config.h"

#include <sstream>
#include <toml.hpp>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/toml_text.h"
#include "vault/metrics.h"

namespace kura::vault {

std::string DefaultVaultToml(const std::string& certificate, const std::string& key) {
  std::string text = R"toml(# kura-vault configuration (docs/vault-config.md).
# Relative paths are relative to the directory holding this file.
version = 1

# The catalog: tenants, sites, accounts, credentials and the audit trail.
# "sqlite" is the embedded default; nothing else needs installing.
[catalog]
kind = "sqlite"
path = "catalog.db"

# Where backup objects are stored. "local" is a directory on this machine.
[objects]
kind = "local"
path = "objects"

# kura-vault serve: HTTPS only (TLS 1.2/1.3, AEAD suites). The sites' agents pin this
# certificate by its SHA-256, which every enrolment code carries: replacing it means
# enrolling the sites again.
[server]
listen = "0.0.0.0:8443"
certificate = "tls/server.crt"
key = "tls/server.key"
# Who may read GET /metrics (Prometheus): IP addresses or CIDR ranges. Default: loopback.
metrics_allow = ["127.0.0.1", "::1"]

# Limits against slow, idle or hostile clients (docs/vault-http.md).
[limits]
max_header_bytes = 16384
max_pack_bytes = 1073741824
max_connections = 2048
worker_threads = 16
header_timeout_seconds = 10
body_timeout_seconds = 30
idle_timeout_seconds = 60
stop_grace_seconds = 30

# Garbage collection: unreferenced packs and evicted snapshots wait this long in
# quarantine; an upload or commit keeps its repository out of collection this long.
[gc]
grace_days = 7
upload_lease_seconds = 21600

# Scrub: each run re-hashes a share of the objects within its budget, all of them
# within the period.
[scrub]
budget_seconds = 600
period_days = 30
)toml";
  auto replace = [&text](std::string_view from, const std::string& to) {
    size_t at = text.find(from);
    if (at != std::string::npos) text.replace(at, from.size(), to);
  };
  replace("certificate = \"tls/server.crt\"", "certificate = \"" + certificate + "\"");
  replace("key = \"tls/server.key\"", "key = \"" + key + "\"");
  return text;
}

namespace {

Status Invalid(const std::string& file, const std::string& what) {
  return Status::InvalidArgument(Tr("設定ファイル {}: {}", "config file {}: {}", file, what));
}

Status CheckKeys(const toml::value& table, std::initializer_list<const char*> allowed,
                 const std::string& file, const std::string& where) {
  for (const auto& [key, value] : table.as_table()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      return Invalid(file, Tr("{}不明な項目 \"{}\" です (綴りを確認してください)",
                              "{}unknown key \"{}\" (check the spelling)", where, key));
    }
  }
  return Status::Ok();
}

std::string Absolute(const std::string& data_dir, const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : data_dir + "/" + path;
}

Status ParseStore(const toml::value& doc, const char* table, const char* only_kind, std::string* kind,
                  std::string* path, const std::string& file, const std::string& data_dir) {
  if (!doc.contains(table)) return Status::Ok();
  const toml::value& t = toml::find(doc, table);
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"kind", "path"}, file, std::string("[") + table + "] "));
  if (t.contains("kind")) *kind = toml::find<std::string>(t, "kind");
  if (*kind != only_kind) {
    return Invalid(file, Tr("[{}] kind = \"{}\" はこの版では使えません (\"{}\" のみ)",
                            "[{}] kind = \"{}\" is not available in this version (only \"{}\")", table, *kind,
                            only_kind));
  }
  if (t.contains("path")) *path = Absolute(data_dir, toml::find<std::string>(t, "path"));
  if (path->empty() || path->back() == '/') {
    return Invalid(file, Tr("[{}] path が空です", "[{}] path is empty", table));
  }
  return Status::Ok();
}

template <typename T>
Status ReadBounded(const toml::value& t, const char* key, T* out, int64_t lo, int64_t hi,
                   const std::string& file, const char* table) {
  if (!t.contains(key)) return Status::Ok();
  auto v = toml::find<int64_t>(t, key);
  if (v < lo || v > hi) {
    return Invalid(file, Tr("[{}] {} = {} は範囲外です ({}〜{})", "[{}] {} = {} is out of range ({}-{})",
                            table, key, v, lo, hi));
  }
  *out = static_cast<T>(v);
  return Status::Ok();
}

Status ParseGcScrub(const toml::value& doc, GcScrubConfig* g, const std::string& file) {
  if (doc.contains("gc")) {
    const toml::value& t = toml::find(doc, "gc");
    KURA_RETURN_IF_ERROR(CheckKeys(t, {"grace_days", "upload_lease_seconds"}, file, "[gc] "));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "grace_days", &g->gc_grace_days, 0, 3650, file, "gc"));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "upload_lease_seconds", &g->gc_upload_lease_seconds, 1,
                                     int64_t{30} * 86400, file, "gc"));
  }
  if (doc.contains("scrub")) {
    const toml::value& t = toml::find(doc, "scrub");
    KURA_RETURN_IF_ERROR(CheckKeys(t, {"budget_seconds", "period_days"}, file, "[scrub] "));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "budget_seconds", &g->scrub_budget_seconds, 1, 86400, file, "scrub"));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "period_days", &g->scrub_period_days, 1, 3650, file, "scrub"));
  }
  return Status::Ok();
}

Status ParseServer(const toml::value& doc, ServerConfig* s, const std::string& file,
                   const std::string& data_dir) {
  if (doc.contains("server")) {
    const toml::value& t = toml::find(doc, "server");
    KURA_RETURN_IF_ERROR(CheckKeys(t, {"listen", "certificate", "key", "metrics_allow"}, file, "[server] "));
    if (t.contains("metrics_allow")) {
      const toml::value& allow = toml::find(t, "metrics_allow");
      if (!allow.is_array())
        return Invalid(
            file, "[server] metrics_allow: " + std::string(Tr("配列で指定してください", "must be an array")));
      s->metrics_allow.clear();
      for (const toml::value& v : allow.as_array()) {
        if (!v.is_string() || !MetricsRangeValid(v.as_string().str)) {
          return Invalid(
              file,
              "[server] metrics_allow: " +
                  std::string(Tr("IP アドレスか CIDR 範囲 (例: \"10.0.0.0/8\") の文字列を並べてください",
                                 "each entry must be an IP address or CIDR range such as \"10.0.0.0/8\"")));
        }
        s->metrics_allow.emplace_back(v.as_string().str);
      }
    }
    if (t.contains("listen")) {
      Status st = ParseListen(toml::find<std::string>(t, "listen"), &s->listen_host, &s->listen_port);
      if (!st.ok()) return Invalid(file, "[server] listen: " + st.message());
    }
    if (t.contains("certificate"))
      s->certificate = Absolute(data_dir, toml::find<std::string>(t, "certificate"));
    if (t.contains("key")) s->key = Absolute(data_dir, toml::find<std::string>(t, "key"));
  }
  if (doc.contains("limits")) {
    const toml::value& t = toml::find(doc, "limits");
    KURA_RETURN_IF_ERROR(CheckKeys(
        t,
        {"max_header_bytes", "max_pack_bytes", "max_connections", "worker_threads", "header_timeout_seconds",
         "body_timeout_seconds", "idle_timeout_seconds", "stop_grace_seconds"},
        file, "[limits] "));
    const char* l = "limits";
    KURA_RETURN_IF_ERROR(ReadBounded(t, "max_header_bytes", &s->max_header_bytes, 1024, 1 << 20, file, l));
    KURA_RETURN_IF_ERROR(
        ReadBounded(t, "max_pack_bytes", &s->max_pack_bytes, 1 << 20, int64_t{1} << 30, file, l));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "max_connections", &s->max_connections, 1, 1000000, file, l));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "worker_threads", &s->worker_threads, 1, 1024, file, l));
    KURA_RETURN_IF_ERROR(
        ReadBounded(t, "header_timeout_seconds", &s->header_timeout_seconds, 1, 3600, file, l));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "body_timeout_seconds", &s->body_timeout_seconds, 1, 3600, file, l));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "idle_timeout_seconds", &s->idle_timeout_seconds, 1, 3600, file, l));
    KURA_RETURN_IF_ERROR(ReadBounded(t, "stop_grace_seconds", &s->stop_grace_seconds, 0, 3600, file, l));
  }
  return Status::Ok();
}

}  // namespace

Status ParseListen(std::string_view text, std::string* host, uint16_t* port) {
  std::string_view h;
  std::string_view p;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::InvalidArgument(
          Tr("\"{}\" は HOST:PORT の形ではありません", "\"{}\" is not of the form HOST:PORT", text));
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return Status::InvalidArgument(Tr("\"{}\" は HOST:PORT の形ではありません (IPv6 は [::1]:8443)",
                                        "\"{}\" is not of the form HOST:PORT (IPv6: [::1]:8443)", text));
    }
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) {
    return Status::InvalidArgument(
        Tr("\"{}\" は HOST:PORT の形ではありません", "\"{}\" is not of the form HOST:PORT", text));
  }
  uint32_t v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument(
          Tr("ポート \"{}\" は数字ではありません", "port \"{}\" is not a number", p));
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return Status::InvalidArgument(Tr("ポート {} は範囲外です", "port {} is out of range", v));
  *host = std::string(h);
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

Result<VaultConfig> ParseVaultConfig(const std::string& text, const std::string& file,
                                     const std::string& data_dir) {
  VaultConfig c;
  c.data_dir = data_dir;
  c.catalog_path = data_dir + "/catalog.db";
  c.objects_dir = data_dir + "/objects";
  c.server.certificate = data_dir + "/tls/server.crt";
  c.server.key = data_dir + "/tls/server.key";
  KURA_RETURN_IF_ERROR(CheckTomlNesting(text, file));
  try {
    std::istringstream in(text);
    const toml::value doc = toml::parse(in, file);
    KURA_RETURN_IF_ERROR(
        CheckKeys(doc, {"version", "catalog", "objects", "server", "limits", "gc", "scrub"}, file, ""));
    if (!doc.contains("version")) return Invalid(file, L("version がありません", "version is missing"));
    auto version = toml::find<int64_t>(doc, "version");
    if (version > kVaultConfigVersion) {
      return Status::Unsupported(
          Tr("設定ファイル {} はより新しい kura-vault のものです (version {})。kura-vault を更新してください",
             "config file {} is for a newer kura-vault (version {}); update kura-vault", file, version));
    }
    if (version < 1)
      return Invalid(file, Tr("version {} は正しくありません", "version {} is not valid", version));
    KURA_RETURN_IF_ERROR(
        ParseStore(doc, "catalog", "sqlite", &c.catalog_kind, &c.catalog_path, file, data_dir));
    KURA_RETURN_IF_ERROR(
        ParseStore(doc, "objects", "local", &c.objects_kind, &c.objects_dir, file, data_dir));
    KURA_RETURN_IF_ERROR(ParseServer(doc, &c.server, file, data_dir));
    KURA_RETURN_IF_ERROR(ParseGcScrub(doc, &c.gc_scrub, file));
  } catch (const std::exception& e) {
    return TomlErrorStatus(e, file);  // never toml11's own text: it quotes the file
  }
  return c;
}

Result<VaultConfig> LoadVaultConfig(const std::string& data_dir) {
  std::string file = data_dir + "/" + kVaultConfigName;
  if (!PathExists(file)) {
    return Status::NotFound(
        Tr("{} に kura-vault のデータがありません ({} がありません)。--data-dir を確認するか、"
           "kura-vault init で作成してください",
           "there is no kura-vault data in {} (no {}); check --data-dir or create it with "
           "kura-vault init",
           data_dir, kVaultConfigName));
  }
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
  return ParseVaultConfig(text, file, data_dir);
}

}  // namespace kura::vault
