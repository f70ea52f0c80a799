#include "sources/source_factory.h"

#include "sources/command.h"
#include "sources/files.h"
#include "sources/mysql.h"
#include "sources/postgresql.h"
#include "sources/sqlite.h"
#include "sources/sqlserver.h"
#include "util/i18n.h"

namespace kura {

namespace {

Status Missing(const std::string& kind, const std::string& field) {
  return Status::InvalidArgument(
      Tr("{} ソースには {} の設定が必要です", "a {} source needs `{}`", kind, field));
}

bool IsMysql(const std::string& kind) {
  return kind == "mysql" || kind == "mariadb";
}

SqlServerOptions SqlServerOf(const SourceConfig& c) {
  SqlServerOptions s;
  s.conn = c.conn;
  s.server_backup_dir = c.server_backup_dir;
  s.local_backup_dir = c.local_backup_dir;
  s.trust_server_certificate = c.trust_server_certificate;
  s.query_timeout_seconds = c.query_timeout_seconds;
  return s;
}

// A Source that reports the configured label as its name.
class NamedSource : public Source {
 public:
  NamedSource(std::unique_ptr<Source> inner, std::string name)
      : inner_(std::move(inner)), name_(std::move(name)) {}
  std::string Kind() const override { return inner_->Kind(); }
  std::string Name() const override { return name_; }
  Status Backup(SnapshotWriter& out) override { return inner_->Backup(out); }

 private:
  std::unique_ptr<Source> inner_;
  std::string name_;
};

Result<std::unique_ptr<Source>> Make(const SourceConfig& c) {
  if (c.kind == "files") {
    if (c.paths.empty()) return Missing(c.kind, "paths");
    return NewFilesSource({c.paths, c.exclude, c.one_file_system});
  }
  if (c.kind == "command") {
    if (c.command.empty() == c.shell.empty()) return Missing(c.kind, "command | shell");
    CommandSourceOptions o;
    o.argv = c.command;
    o.shell = c.shell;
    if (!c.stream.empty()) o.stream = c.stream;
    o.env = c.env;
    o.cwd = c.cwd;
    o.allow_empty = c.allow_empty;
    return NewCommandSource(std::move(o));
  }
  if (c.kind == "postgresql") {
    if (c.database.empty() && !c.cluster) return Missing(c.kind, "database");
    PostgresSourceOptions o;
    o.conn = c.conn;
    o.database = c.database;
    o.cluster = c.cluster;
    o.maintenance_db = c.maintenance_db;
    return NewPostgresSource(std::move(o));
  }
  if (IsMysql(c.kind)) {
    if (c.database.empty()) return Missing(c.kind, "database");
    return NewMysqlSource({c.conn, c.database, c.temp_dir});
  }
  if (c.kind == "sqlite") {
    if (c.path.empty()) return Missing(c.kind, "path");
    SqliteSourceOptions o;
    o.path = c.path;
    o.temp_dir = c.temp_dir;
    o.pages_per_step = c.pages_per_step;
    o.busy_timeout_ms = c.busy_timeout_ms;
    return NewSqliteSource(std::move(o));
  }
  if (c.kind == "sqlserver") {
    if (c.database.empty()) return Missing(c.kind, "database");
    return NewSqlServerSource({SqlServerOf(c), c.database});
  }
  return Status::InvalidArgument(
      Tr("不明なソースの種類 {} (files, command, postgresql, mysql, sqlite, sqlserver のいずれか)",
         "unknown source kind {} (one of files, command, postgresql, mysql, sqlite, sqlserver)", c.kind));
}

}  // namespace

Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config) {
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<Source> s, Make(config));
  if (config.name.empty()) return s;
  std::unique_ptr<Source> named = std::make_unique<NamedSource>(std::move(s), config.name);
  return named;
}

Status RestoreFromConfig(SnapshotReader& in, const SourceConfig& c, const DbRestoreOptions& o,
                         RestoreReport* report) {
  if (o.target.empty()) return Missing("restore", "target");
  if (c.kind == "postgresql") {
    PgRestoreTarget t;
    t.conn = c.conn;
    t.database = o.target;
    t.stream = o.stream;
    t.clean = o.replace;
    t.no_owner = o.no_owner;
    if (!c.maintenance_db.empty()) t.maintenance_db = c.maintenance_db;
    return RestorePostgres(in, t, report);
  }
  if (IsMysql(c.kind)) {
    MysqlRestoreTarget t;
    t.conn = c.conn;
    t.database = o.target;
    t.stream = o.stream;
    t.clean = o.replace;
    t.temp_dir = c.temp_dir;
    return RestoreMysql(in, t, report);
  }
  if (c.kind == "sqlite") {
    SqliteRestoreTarget t;
    t.path = o.target;
    t.stream = o.stream;
    t.force = o.replace;
    return RestoreSqlite(in, t, report);
  }
  if (c.kind == "sqlserver") {
    SqlServerRestoreTarget t;
    t.server = SqlServerOf(c);
    t.database = o.target;
    t.stream = o.stream;
    t.clean = o.replace;
    t.data_dir = o.data_dir;
    t.log_dir = o.log_dir;
    return RestoreSqlServer(in, t, report);
  }
  return Status::Unsupported(
      Tr("{} ソースのスナップショットはファイルとして取り出してください (データベースの復元はありません)",
         "snapshots of a {} source are restored as files (there is no database restore)", c.kind));
}

}  // namespace kura
