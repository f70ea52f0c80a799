#include "sources/postgresql.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>

#include "util/bytes.h"
#include "util/i18n.h"

namespace kura {

namespace {

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

std::string ServerName(const DbConnection& conn) {
  std::string host = conn.host.empty() ? "localhost" : conn.host;
  return host + ":" + std::to_string(conn.port != 0 ? conn.port : 5432);
}

std::string UserName(const DbConnection& conn) {
  return conn.user.empty() ? "(default)" : conn.user;
}

// A libpq conninfo value in single quotes, so a database name can never add options.
std::string ConnInfoDbname(const std::string& db) {
  std::string out = "dbname='";
  for (char c : db) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Environment for pg_dump / pg_restore. LC_ALL=C keeps the client's own messages in English
// so ExplainPostgresError can recognise them (server messages follow the server's
// lc_messages; Japanese ones are recognised too).
std::vector<std::pair<std::string, std::string>> PgEnv(const DbConnection& conn,
                                                       const std::string& password) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"LC_ALL", "C"},
      {"PGCONNECT_TIMEOUT", std::to_string(std::max(1, conn.connect_timeout_seconds))},
      {"PGAPPNAME", "kura"},
  };
  if (!password.empty()) env.emplace_back("PGPASSWORD", password);
  if (!conn.pgpassfile.empty()) env.emplace_back("PGPASSFILE", conn.pgpassfile);
  if (!conn.sslmode.empty()) env.emplace_back("PGSSLMODE", conn.sslmode);
  return env;
}

std::vector<std::string> PgConnArgs(const DbConnection& conn) {
  std::vector<std::string> args = {"--no-password"};  // never prompt: fail with a message instead
  if (!conn.host.empty()) args.push_back("--host=" + conn.host);
  if (conn.port != 0) args.push_back("--port=" + std::to_string(conn.port));
  if (!conn.user.empty()) args.push_back("--username=" + conn.user);
  return args;
}

class PgConn {
 public:
  explicit PgConn(PGconn* c) : c_(c) {}
  ~PgConn() { PQfinish(c_); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  PGconn* get() const { return c_; }

 private:
  PGconn* c_;
};

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

Result<std::unique_ptr<PgConn>> Connect(const DbConnection& conn, const std::string& password,
                                        const std::string& dbname) {
  std::string port = conn.port != 0 ? std::to_string(conn.port) : "";
  std::string timeout = std::to_string(std::max(1, conn.connect_timeout_seconds));
  std::vector<const char*> keys, values;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    keys.push_back(k);
    values.push_back(v.c_str());
  };
  add("host", conn.host);
  add("port", port);
  add("user", conn.user);
  add("password", password);
  add("passfile", conn.pgpassfile);
  add("sslmode", conn.sslmode);
  add("dbname", dbname);
  add("connect_timeout", timeout);
  static const std::string kAppName = "kura";  // values must outlive PQconnectdbParams
  add("application_name", kAppName);
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 0: the database name is a name, never a connection string.
  auto c = std::make_unique<PgConn>(PQconnectdbParams(keys.data(), values.data(), 0));
  if (c->get() == nullptr) return Status::Internal("PQconnectdbParams returned null");
  if (PQstatus(c->get()) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c->get());
    FailureCause cause = ExplainPostgresError(err, conn, dbname);
    return ToolFailure("PostgreSQL", ServerName(conn) + "/" + dbname, 1, cause, err, /*for_restore=*/true);
  }
  // The server's NOTICEs ("database ... does not exist, skipping") would go to stderr ahead
  // of kura's own message; kura reports what matters itself.
  PQsetNoticeProcessor(
      c->get(), [](void*, const char*) {}, nullptr);
  return c;
}

// Runs `sql` with text parameters; returns the rows as strings (NULL as "").
Result<std::vector<std::vector<std::string>>> Query(PgConn& c, const std::string& sql,
                                                    const std::vector<std::string>& params = {}) {
  std::vector<const char*> p;
  for (const auto& s : params) p.push_back(s.c_str());
  PgResult r(
      PQexecParams(c.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(), nullptr, nullptr, 0));
  ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    return Status::SourceFailed(Tr("PostgreSQL のクエリが失敗しました: {}", "PostgreSQL query failed: {}",
                                   LastLines(PQerrorMessage(c.get()))));
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r.get()); ++j) row.emplace_back(PQgetvalue(r.get(), i, j));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> QuoteIdent(PgConn& c, const std::string& name) {
  char* q = PQescapeIdentifier(c.get(), name.c_str(), name.size());
  if (q == nullptr) return Status::InvalidArgument(Tr("名前 {} を使えません", "invalid name {}", name));
  std::string out = q;
  PQfreemem(q);
  return out;
}

class PostgresSource : public Source {
 public:
  explicit PostgresSource(PostgresSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "postgresql"; }
  std::string Name() const override { return o_.cluster ? "cluster" : o_.database; }

  Status Backup(SnapshotWriter& out) override {
    if (!o_.cluster && o_.database.empty()) {
      return Status::InvalidArgument(std::string(L("PostgreSQL ソースに database が設定されていません",
                                                   "the PostgreSQL source has no database set")));
    }
    KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(o_.conn));
    ProcessOptions p;
    std::string tool = o_.cluster ? "pg_dumpall" : "pg_dump";
    p.argv = {ToolPath(o_.conn, tool)};
    for (auto& a : PgConnArgs(o_.conn)) p.argv.push_back(std::move(a));
    std::string stream;
    if (o_.cluster) {
      if (!o_.maintenance_db.empty()) p.argv.push_back("--dbname=" + ConnInfoDbname(o_.maintenance_db));
      stream = "cluster.sql";
    } else {
      p.argv.insert(p.argv.end(),
                    {"--format=custom", "--compress=0", "--dbname=" + ConnInfoDbname(o_.database)});
      stream = PostgresStreamName(o_.database);
    }
    p.env = PgEnv(o_.conn, password);
    SecureZero(password.data(), password.size());
    std::string target = ServerName(o_.conn) + "/" + Name();
    Status s = StreamProcessOutput(out, p, StreamMeta(stream), [&](int code, const std::string& tail) {
      return ToolFailure(tool, target, code, ExplainPostgresError(tail, o_.conn, Name()), tail);
    });
    return ToolMissing(s, tool, "postgresql-client");
  }

 private:
  PostgresSourceOptions o_;
};

}  // namespace

std::string PostgresStreamName(const std::string& database) {
  std::string name = database;
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".pgdump";
}

std::unique_ptr<Source> NewPostgresSource(PostgresSourceOptions options) {
  return std::make_unique<PostgresSource>(std::move(options));
}

FailureCause ExplainPostgresError(const std::string& text, const DbConnection& conn,
                                  const std::string& database) {
  FailureCause c;
  if (Contains(text, "password authentication failed") || Contains(text, "パスワード認証に失敗") ||
      Contains(text, "no password supplied") || Contains(text, "authentication failed")) {
    c.code = Code::kUnauthorized;
    c.text =
        Tr("ユーザー {} の認証に失敗しました。パスワード (password / password_file / pgpassfile) "
           "を確認してください",
           "authentication failed for user {}. Check the password (password / password_file / pgpassfile)",
           UserName(conn));
  } else if ((Contains(text, "role \"") && Contains(text, "does not exist")) ||
             (Contains(text, "ロール") && Contains(text, "存在しません"))) {
    c.code = Code::kUnauthorized;
    c.text = Tr("ユーザー (ロール) {} がサーバー {} に存在しません",
                "user (role) {} does not exist on server {}", UserName(conn), ServerName(conn));
  } else if ((Contains(text, "database \"") && Contains(text, "does not exist")) ||
             (Contains(text, "データベース") && Contains(text, "存在しません"))) {
    c.code = Code::kNotFound;
    c.text = Tr("データベース {} がサーバー {} に存在しません。設定の database を確認してください",
                "database {} does not exist on server {}. Check `database` in the configuration", database,
                ServerName(conn));
  } else if (Contains(text, "Connection refused") || Contains(text, "could not connect") ||
             Contains(text, "timeout expired") || Contains(text, "could not translate host name") ||
             Contains(text, "No route to host") || Contains(text, "Network is unreachable") ||
             Contains(text, "No such file or directory")) {
    c.code = Code::kRetryable;
    c.text = Tr(
        "PostgreSQL サーバー {} に接続できません。サーバーが起動しているか、host と port を確認してください",
        "cannot connect to PostgreSQL server {}. Check that it is running and that host and port are right",
        ServerName(conn));
  } else if (Contains(text, "permission denied") || Contains(text, "権限がありません")) {
    c.code = Code::kPermissionDenied;
    c.text = Tr("ユーザー {} に必要な権限がありません", "user {} lacks a required privilege", UserName(conn));
  }
  return c;
}

Status RestorePostgres(SnapshotReader& in, const PgRestoreTarget& target, RestoreReport* report) {
  if (target.database.empty()) {
    return Status::InvalidArgument(
        std::string(L("復元先のデータベース名がありません", "no target database name")));
  }
  KURA_ASSIGN_OR_RETURN(std::string stream, FindStream(in, target.stream, ".pgdump"));
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(target.conn));
  std::string where = ServerName(target.conn) + "/" + target.database;

  KURA_ASSIGN_OR_RETURN(auto admin, Connect(target.conn, password, target.maintenance_db));
  KURA_ASSIGN_OR_RETURN(std::string ident, QuoteIdent(*admin, target.database));
  KURA_ASSIGN_OR_RETURN(auto found,
                        Query(*admin, "SELECT 1 FROM pg_database WHERE datname = $1", {target.database}));
  bool exists = !found.empty();
  bool created = false;
  if (exists) {
    KURA_ASSIGN_OR_RETURN(auto existing, Connect(target.conn, password, target.database));
    KURA_ASSIGN_OR_RETURN(
        auto objects, Query(*existing,
                            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"));
    bool empty = objects.empty() || objects[0][0] == "0";
    if (!empty && !target.clean) {
      return Status::AlreadyExists(
          Tr("データベース {} は既に存在し、空ではありません。別の名前を指定するか、"
             "clean を指定して作り直してください",
             "database {} already exists and is not empty. Choose another name, or set "
             "clean to drop and recreate it",
             where));
    }
    if (!empty) {
      KURA_RETURN_IF_ERROR(Query(*admin, "DROP DATABASE " + ident + " WITH (FORCE)").status());
      exists = false;
    }
  }
  if (!exists) {
    std::string sql = "CREATE DATABASE " + ident + " TEMPLATE template0";
    if (!target.encoding.empty()) {
      char* enc = PQescapeLiteral(admin->get(), target.encoding.c_str(), target.encoding.size());
      if (enc == nullptr) return Status::InvalidArgument("encoding");
      sql += std::string(" ENCODING ") + enc;
      PQfreemem(enc);
    }
    KURA_RETURN_IF_ERROR(Query(*admin, sql).status());
    created = true;
  }

  ProcessOptions p;
  p.argv = {ToolPath(target.conn, "pg_restore")};
  for (auto& a : PgConnArgs(target.conn)) p.argv.push_back(std::move(a));
  p.argv.insert(p.argv.end(),
                {"--dbname=" + ConnInfoDbname(target.database), "--exit-on-error", "--single-transaction"});
  if (target.no_owner) p.argv.push_back("--no-owner");
  p.env = PgEnv(target.conn, password);
  Status restored = FeedStreamToProcess(in, stream, p, [&](int code, const std::string& tail) {
    return ToolFailure("pg_restore", where, code, ExplainPostgresError(tail, target.conn, target.database),
                       tail,
                       /*for_restore=*/true);
  });
  if (!restored.ok()) {
    if (created) (void)Query(*admin, "DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)");
    SecureZero(password.data(), password.size());
    return ToolMissing(restored, "pg_restore", "postgresql-client");
  }

  KURA_ASSIGN_OR_RETURN(auto db, Connect(target.conn, password, target.database));
  SecureZero(password.data(), password.size());
  KURA_ASSIGN_OR_RETURN(
      auto tables,
      Query(*db,
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"));
  RestoreReport r;
  r.target = where;
  r.stream = stream;
  for (const auto& t : tables) {
    KURA_ASSIGN_OR_RETURN(std::string schema, QuoteIdent(*db, t[0]));
    KURA_ASSIGN_OR_RETURN(std::string table, QuoteIdent(*db, t[1]));
    KURA_ASSIGN_OR_RETURN(auto count, Query(*db, "SELECT count(*) FROM " + schema + "." + table));
    r.tables.push_back({t[0] + "." + t[1], std::strtoll(count.at(0).at(0).c_str(), nullptr, 10)});
  }
  r.notes.push_back(
      Tr("pg_restore は 1 トランザクションで完了しました", "pg_restore completed in one transaction"));
  if (report != nullptr) *report = std::move(r);
  return Status::Ok();
}

}  // namespace kura
