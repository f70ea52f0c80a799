// RunSqlHook: one statement against the host application's database with every value
// bound as a parameter. Passwords come from password_file (or .pgpass / pgpassfile) and
// never appear in a message.
#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>

#include <cstring>
#include <memory>

#include "agent/hooks.h"
#include "sources/db_common.h"
#include "sources/mysql.h"
#include "sources/postgresql.h"
#include "util/i18n.h"

namespace kura {

namespace {

// A connection that failed is retryable (the post is queued: agent/post_queue.h) unless
// the server answered that the settings are wrong; retrying those would never succeed.
Status ConnectFailure(Code cause, const std::string& message) {
  if (cause == Code::kUnauthorized || cause == Code::kNotFound || cause == Code::kPermissionDenied) {
    return Status(cause, message);
  }
  return Status::Retryable(message);
}

Status PostgresHook(const SqlHookConfig& c, const BoundStatement& b) {
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(c.conn));
  std::string port = c.conn.port > 0 ? std::to_string(c.conn.port) : "";
  std::string timeout = std::to_string(c.conn.connect_timeout_seconds);
  std::vector<const char*> keys, values;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) {
      keys.push_back(k);
      values.push_back(v.c_str());
    }
  };
  add("host", c.conn.host);
  add("port", port);
  add("user", c.conn.user);
  add("dbname", c.database);
  add("password", password);
  add("passfile", c.conn.pgpassfile);
  add("connect_timeout", timeout);
  const std::string encoding = "UTF8", application = "kura-hook";
  add("client_encoding", encoding);
  add("application_name", application);
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys.data(), values.data(), 0),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn.get());
    return ConnectFailure(
        ExplainPostgresError(err, c.conn, c.database).code,
        Tr("SQL フック: PostgreSQL ({}) に接続できません: {}",
           "SQL hook: cannot connect to PostgreSQL ({}): {}", c.database, LastLines(err, 3)));
  }
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);  // the agent's stderr is its log
  std::vector<const char*> params;
  for (const std::string& v : b.values) params.push_back(v.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexecParams(conn.get(), b.sql.c_str(), static_cast<int>(params.size()), nullptr, params.data(),
                   nullptr, nullptr, 0),
      &PQclear);
  ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return Status::IOError(Tr("SQL フックの文が失敗しました (PostgreSQL): {}",
                              "the SQL hook statement failed (PostgreSQL): {}",
                              LastLines(PQerrorMessage(conn.get()), 3)));
  }
  return Status::Ok();
}

Status MysqlHook(const SqlHookConfig& c, const BoundStatement& b) {
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(c.conn));
  std::unique_ptr<MYSQL, decltype(&mysql_close)> db(mysql_init(nullptr), &mysql_close);
  if (!db) return Status::Internal("mysql_init failed");
  unsigned int timeout = static_cast<unsigned int>(c.conn.connect_timeout_seconds);
  mysql_options(db.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(db.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  if (mysql_real_connect(db.get(), opt(c.conn.host), opt(c.conn.user), opt(password), c.database.c_str(),
                         static_cast<unsigned int>(c.conn.port), opt(c.conn.socket), 0) == nullptr) {
    std::string err = mysql_error(db.get());
    return ConnectFailure(ExplainMysqlError(err, c.conn, c.database).code,
                          Tr("SQL フック: MySQL/MariaDB ({}) に接続できません: {}",
                             "SQL hook: cannot connect to MySQL/MariaDB ({}): {}", c.database, err));
  }
  std::unique_ptr<MYSQL_STMT, decltype(&mysql_stmt_close)> stmt(mysql_stmt_init(db.get()), &mysql_stmt_close);
  auto fail = [&](MYSQL_STMT* s) {
    return Status::IOError(Tr("SQL フックの文が失敗しました (MySQL/MariaDB): {}",
                              "the SQL hook statement failed (MySQL/MariaDB): {}",
                              s ? mysql_stmt_error(s) : mysql_error(db.get())));
  };
  if (!stmt) return fail(nullptr);
  if (mysql_stmt_prepare(stmt.get(), b.sql.c_str(), b.sql.size()) != 0) return fail(stmt.get());
  if (mysql_stmt_param_count(stmt.get()) != b.values.size()) {
    return Status::InvalidArgument(
        L("SQL フックの文の ? の数がパラメータと合いません。値は :名前 で指定してください",
          "the SQL hook statement's ? count does not match; use :name parameters"));
  }
  std::vector<MYSQL_BIND> binds(b.values.size());
  std::vector<unsigned long> lengths(b.values.size());
  for (size_t i = 0; i < b.values.size(); ++i) {
    std::memset(&binds[i], 0, sizeof(MYSQL_BIND));
    lengths[i] = b.values[i].size();
    binds[i].buffer_type = MYSQL_TYPE_STRING;
    binds[i].buffer = const_cast<char*>(b.values[i].data());
    binds[i].buffer_length = lengths[i];
    binds[i].length = &lengths[i];
  }
  if (!binds.empty() && mysql_stmt_bind_param(stmt.get(), binds.data()) != 0) return fail(stmt.get());
  if (mysql_stmt_execute(stmt.get()) != 0) return fail(stmt.get());
  return Status::Ok();
}

Status SqliteHook(const SqlHookConfig& c, const BoundStatement& b) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(c.path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    // A missing file or folder (a share not mounted yet) or a locked file is the host
    // application's database being unavailable, like a refused connection: retryable, so
    // the post is queued (agent/post_queue.h). Nothing ran.
    std::string detail = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    int primary = rc & 0xff;
    if (primary == SQLITE_CANTOPEN || primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return Status::Retryable(Tr("SQL フック: SQLite データベース {} を開けません: {}",
                                  "SQL hook: cannot open SQLite database {}: {}", c.path, detail));
    }
    return Status::IOError(Tr("SQL フック: SQLite データベース {} を開けません: {}",
                              "SQL hook: cannot open SQLite database {}: {}", c.path, detail));
  }
  sqlite3_busy_timeout(db.get(), 10000);
  sqlite3_stmt* raw_stmt = nullptr;
  auto fail = [&] {
    return Status::IOError(Tr("SQL フックの文が失敗しました (SQLite): {}",
                              "the SQL hook statement failed (SQLite): {}", sqlite3_errmsg(db.get())));
  };
  rc = sqlite3_prepare_v2(db.get(), b.sql.c_str(), static_cast<int>(b.sql.size()), &raw_stmt, nullptr);
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Status::Retryable(Tr("SQL フック: SQLite データベース {} がロックされています: {}",
                                "SQL hook: SQLite database {} is locked: {}", c.path,
                                sqlite3_errmsg(db.get())));
  }
  if (rc != SQLITE_OK) return fail();
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
  for (size_t i = 0; i < b.values.size(); ++i) {
    if (sqlite3_bind_text(stmt.get(), static_cast<int>(i + 1), b.values[i].data(),
                          static_cast<int>(b.values[i].size()), SQLITE_TRANSIENT) != SQLITE_OK) {
      return fail();
    }
  }
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
  }
  // SQLITE_BUSY from the first step: the write lock was never taken, nothing was written.
  if ((rc & 0xff) == SQLITE_BUSY) {
    return Status::Retryable(Tr("SQL フック: SQLite データベース {} がロックされています: {}",
                                "SQL hook: SQLite database {} is locked: {}", c.path,
                                sqlite3_errmsg(db.get())));
  }
  if (rc != SQLITE_DONE) return fail();
  return Status::Ok();
}

}  // namespace

Status RunSqlHook(const SqlHookConfig& sql, const std::vector<std::pair<std::string, std::string>>& params) {
  PlaceholderStyle style = sql.kind == "postgresql" ? PlaceholderStyle::kDollar : PlaceholderStyle::kQuestion;
  KURA_ASSIGN_OR_RETURN(BoundStatement b, BindNamedParameters(sql.statement, style, params));
  if (sql.kind == "postgresql") return PostgresHook(sql, b);
  if (sql.kind == "mysql" || sql.kind == "mariadb") return MysqlHook(sql, b);
  if (sql.kind == "sqlite") return SqliteHook(sql, b);
  return Status::InvalidArgument(Tr("不明な SQL フックの種類 {}", "unknown SQL hook kind {}", sql.kind));
}

}  // namespace kura
