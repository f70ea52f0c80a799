#include "engine/db_restore.h"

#include <libpq-fe.h>
#include <mysql.h>
#include <unistd.h>

#include <memory>

#include "engine/restore.h"
#include "sources/source_factory.h"
#include "sources/sqlserver.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/process.h"

namespace kura {

namespace {

SqlServerOptions ServerOf(const DbRestoreTarget& t) {
  SqlServerOptions s;
  s.conn = t.conn;
  s.server_backup_dir = t.server_backup_dir;
  s.local_backup_dir = t.local_backup_dir;
  s.trust_server_certificate = t.trust_server_certificate;
  return s;
}

Status NeedDatabase(const DbRestoreTarget& t) {
  if (t.kind == "sqlite" ? t.path.empty() : t.database.empty()) {
    return Status::InvalidArgument(
        t.kind == "sqlite"
            ? L("復元先の SQLite ファイルを指定してください", "give the SQLite file to restore into")
            : L("復元先のデータベース名を指定してください", "give the database to restore into"));
  }
  return Status::Ok();
}

Status DropPostgres(const DbRestoreTarget& t) {
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(t.conn));
  std::string port = t.conn.port > 0 ? std::to_string(t.conn.port) : "";
  std::string db = t.maintenance_db.empty() ? "postgres" : t.maintenance_db;
  std::vector<std::pair<const char*, std::string>> kv = {
      {"host", t.conn.host},       {"port", port},
      {"user", t.conn.user},       {"dbname", db},
      {"password", password},      {"passfile", t.conn.pgpassfile},
      {"sslmode", t.conn.sslmode}, {"connect_timeout", std::to_string(t.conn.connect_timeout_seconds)}};
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kv) {
    if (v.empty()) continue;
    keys.push_back(k);
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys.data(), values.data(), 0),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Retryable(Tr("PostgreSQL に接続できません: {}", "cannot connect to PostgreSQL: {}",
                                LastLines(PQerrorMessage(conn.get()), 3)));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);  // no "NOTICE: ... skipping" on stderr
  char* quoted = PQescapeIdentifier(conn.get(), t.database.c_str(), t.database.size());
  if (quoted == nullptr) return Status::InvalidArgument(t.database);
  std::string sql = std::string("DROP DATABASE IF EXISTS ") + quoted + " WITH (FORCE)";
  PQfreemem(quoted);
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return Status::IOError(Tr("データベース {} を削除できません: {}", "cannot drop database {}: {}",
                              t.database, LastLines(PQerrorMessage(conn.get()), 3)));
  }
  return Status::Ok();
}

Status DropMysql(const DbRestoreTarget& t) {
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(t.conn));
  std::unique_ptr<MYSQL, decltype(&mysql_close)> db(mysql_init(nullptr), &mysql_close);
  if (!db) return Status::Internal("mysql_init failed");
  unsigned int timeout = static_cast<unsigned int>(t.conn.connect_timeout_seconds);
  mysql_options(db.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  if (mysql_real_connect(db.get(), opt(t.conn.host), opt(t.conn.user), opt(password), nullptr,
                         static_cast<unsigned int>(t.conn.port), opt(t.conn.socket), 0) == nullptr) {
    return Status::Retryable(Tr("MySQL/MariaDB に接続できません: {}", "cannot connect to MySQL/MariaDB: {}",
                                mysql_error(db.get())));
  }
  std::string quoted = "`";
  for (char c : t.database) quoted += c == '`' ? std::string("``") : std::string(1, c);
  quoted += "`";
  std::string sql = "DROP DATABASE IF EXISTS " + quoted;
  if (mysql_real_query(db.get(), sql.c_str(), sql.size()) != 0) {
    return Status::IOError(Tr("データベース {} を削除できません: {}", "cannot drop database {}: {}",
                              t.database, mysql_error(db.get())));
  }
  return Status::Ok();
}

Status DropSqlServer(const DbRestoreTarget& t) {
  ProcessOptions o;
  SqlServerOptions server = ServerOf(t);
  std::string quoted = SqlServerQuoteIdentifier(t.database);
  o.argv = SqlcmdArgs(
      server, "master",
      "ALTER DATABASE " + quoted + " SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE " + quoted);
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(t.conn));
  if (!password.empty()) o.env.emplace_back("SQLCMDPASSWORD", password);
  KURA_ASSIGN_OR_RETURN(ProcessOutput out, RunProcess(o));
  if (out.exit_code != 0) {
    return Status::IOError(Tr("データベース {} を削除できません: {}", "cannot drop database {}: {}",
                              t.database, LastLines(out.out + out.err, 4)));
  }
  return Status::Ok();
}

}  // namespace

Status RestoreSnapshotToDatabase(Repository& repo, const Snapshot& snapshot, const DbRestoreTarget& t,
                                 RestoreReport* report) {
  std::string kind = t.kind == "mariadb" ? "mysql" : t.kind;
  if (kind != "postgresql" && kind != "mysql" && kind != "sqlite" && kind != "sqlserver") {
    return Status::InvalidArgument(
        Tr("データベースの種類 {} は復元できません (postgresql、mysql、sqlite、sqlserver)",
           "cannot restore into a database of kind {} (postgresql, mysql, sqlite, sqlserver)", t.kind));
  }
  KURA_RETURN_IF_ERROR(NeedDatabase(t));
  KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, repo.LoadHead(snapshot.id));
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader, MakeSnapshotReader(repo, snapshot, meta));
  // The kind's restore and its checks live with the sources; this only maps the target.
  SourceConfig c;
  c.kind = kind;
  c.conn = t.conn;
  c.maintenance_db = t.maintenance_db;
  c.temp_dir = t.temp_dir;
  c.server_backup_dir = t.server_backup_dir;
  c.local_backup_dir = t.local_backup_dir;
  c.trust_server_certificate = t.trust_server_certificate;
  DbRestoreOptions o;
  o.target = kind == "sqlite" ? t.path : t.database;
  o.stream = t.stream;
  o.replace = t.replace;
  o.no_owner = t.no_owner;
  o.data_dir = t.data_dir;
  o.log_dir = t.log_dir;
  return RestoreFromConfig(*reader, c, o, report);
}

Status DropRestoredDatabase(const DbRestoreTarget& t) {
  std::string kind = t.kind == "mariadb" ? "mysql" : t.kind;
  if (kind == "postgresql") return DropPostgres(t);
  if (kind == "mysql") return DropMysql(t);
  if (kind == "sqlserver") return DropSqlServer(t);
  if (kind == "sqlite") {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((t.path + suffix).c_str());
    return Status::Ok();
  }
  return Status::InvalidArgument(t.kind);
}

Result<DirRestoreCounts> RestoreSnapshotToDirectory(Repository& repo, const Snapshot& snapshot,
                                                    const std::string& dir) {
  KURA_ASSIGN_OR_RETURN(SnapshotMeta meta, repo.LoadHead(snapshot.id));
  RestoreOptions options;
  options.target_dir = dir;
  KURA_ASSIGN_OR_RETURN(RestoreResult r, RestoreToDirectory(repo, snapshot, meta, options));
  KURA_RETURN_IF_ERROR(r.Outcome());  // a damaged file fails the drill
  return DirRestoreCounts{r.files, r.bytes};
}

}  // namespace kura
