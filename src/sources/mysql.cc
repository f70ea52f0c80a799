#include "sources/mysql.h"

#include <mysql.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "util/bytes.h"
#include "util/i18n.h"

namespace kura {

namespace {

constexpr unsigned kErrUnknownDatabase = 1049;  // ER_BAD_DB_ERROR

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

std::string ServerName(const DbConnection& conn) {
  if (conn.host.empty() || conn.host == "localhost") {
    return "localhost" + (conn.socket.empty() ? std::string() : " (" + conn.socket + ")");
  }
  return conn.host + ":" + std::to_string(conn.port != 0 ? conn.port : 3306);
}

std::string UserName(const DbConnection& conn) {
  return conn.user.empty() ? "(default)" : conn.user;
}

// The first of `names` present in client_dir (or PATH); the first name when none is, so the
// "not found" message names the preferred tool.
std::string PickTool(const DbConnection& conn, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    std::string p = ToolPath(conn, n);
    if (conn.client_dir.empty() ? !FindInPath(p).empty() : ::access(p.c_str(), X_OK) == 0) return p;
  }
  return ToolPath(conn, *names.begin());
}

std::string ToolName(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// Connection arguments after --defaults-extra-file (which must come first).
std::vector<std::string> ConnArgs(const DbConnection& conn) {
  std::vector<std::string> args;
  if (!conn.host.empty()) args.push_back("--host=" + conn.host);
  if (conn.port != 0) args.push_back("--port=" + std::to_string(conn.port));
  if (!conn.socket.empty()) args.push_back("--socket=" + conn.socket);
  if (!conn.user.empty()) args.push_back("--user=" + conn.user);
  args.push_back("--default-character-set=utf8mb4");
  return args;
}

// The password goes into a 0600 option file in a private directory that is removed with
// this object; MYSQL_PWD is unset so an inherited one cannot override it.
struct Credentials {
  std::unique_ptr<PrivateTempDir> dir;
  std::string option_file;

  static Result<Credentials> Make(const DbConnection& conn, const std::string& temp_dir,
                                  std::string* password_out) {
    Credentials c;
    KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(conn));
    if (!password.empty()) {
      KURA_ASSIGN_OR_RETURN(c.dir, PrivateTempDir::Create(temp_dir));
      c.option_file = c.dir->path() + "/client.cnf";
      std::string contents = MysqlOptionFile(password);
      Status s = WriteSecretFile(c.option_file, contents);
      SecureZero(contents.data(), contents.size());
      if (!s.ok()) return s;
    }
    if (password_out != nullptr) *password_out = password;
    SecureZero(password.data(), password.size());
    return c;
  }

  void Apply(ProcessOptions& p) const {
    if (!option_file.empty()) p.argv.insert(p.argv.begin() + 1, "--defaults-extra-file=" + option_file);
    p.unset_env.push_back("MYSQL_PWD");
  }
};

class MysqlConn {
 public:
  MysqlConn() : m_(mysql_init(nullptr)) {}
  ~MysqlConn() {
    if (m_ != nullptr) mysql_close(m_);
  }
  MysqlConn(const MysqlConn&) = delete;
  MysqlConn& operator=(const MysqlConn&) = delete;
  MYSQL* get() const { return m_; }

 private:
  MYSQL* m_;
};

Status ConnectionError(MYSQL* m, const DbConnection& conn, const std::string& db) {
  std::string err = mysql_error(m);
  FailureCause cause = ExplainMysqlError(err, conn, db);
  return ToolFailure("MariaDB/MySQL", ServerName(conn) + "/" + db, 1, cause, err, /*for_restore=*/true);
}

Result<std::unique_ptr<MysqlConn>> Connect(const DbConnection& conn, const std::string& password) {
  auto c = std::make_unique<MysqlConn>();
  if (c->get() == nullptr) return Status::Internal("mysql_init failed");
  unsigned timeout = static_cast<unsigned>(std::max(1, conn.connect_timeout_seconds));
  mysql_options(c->get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(c->get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const char* host = conn.host.empty() ? nullptr : conn.host.c_str();
  const char* user = conn.user.empty() ? nullptr : conn.user.c_str();
  const char* socket = conn.socket.empty() ? nullptr : conn.socket.c_str();
  if (mysql_real_connect(c->get(), host, user, password.c_str(), nullptr, static_cast<unsigned>(conn.port),
                         socket, 0) == nullptr) {
    return ConnectionError(c->get(), conn, "");
  }
  return c;
}

Result<std::vector<std::vector<std::string>>> Query(MysqlConn& c, const std::string& sql) {
  if (mysql_real_query(c.get(), sql.data(), sql.size()) != 0) {
    return Status::SourceFailed(Tr("MariaDB/MySQL のクエリが失敗しました: {}",
                                   "MariaDB/MySQL query failed: {}", mysql_error(c.get())));
  }
  std::vector<std::vector<std::string>> rows;
  MYSQL_RES* res = mysql_store_result(c.get());
  if (res == nullptr) return rows;  // a statement without a result set
  unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    std::vector<std::string> r;
    for (unsigned i = 0; i < n; ++i) r.emplace_back(row[i] != nullptr ? row[i] : "");
    rows.push_back(std::move(r));
  }
  mysql_free_result(res);
  return rows;
}

// `name` as a backquoted identifier (backquotes doubled).
std::string QuoteIdent(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

class MysqlSource : public Source {
 public:
  explicit MysqlSource(MysqlSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "mysql"; }
  std::string Name() const override { return o_.database; }

  Status Backup(SnapshotWriter& out) override {
    if (o_.database.empty()) {
      return Status::InvalidArgument(std::string(L("MySQL/MariaDB ソースに database が設定されていません",
                                                   "the MySQL/MariaDB source has no database set")));
    }
    KURA_ASSIGN_OR_RETURN(Credentials cred, Credentials::Make(o_.conn, o_.temp_dir, nullptr));
    std::string tool = PickTool(o_.conn, {"mariadb-dump", "mysqldump"});
    ProcessOptions p;
    p.argv = {tool};
    for (auto& a : ConnArgs(o_.conn)) p.argv.push_back(std::move(a));
    p.argv.insert(p.argv.end(), {"--single-transaction", "--routines", "--events", "--triggers", "--hex-blob",
                                 o_.database});
    cred.Apply(p);
    std::string target = ServerName(o_.conn) + "/" + o_.database;
    std::string name = ToolName(tool);
    Status s = StreamProcessOutput(
        out, p, StreamMeta(MysqlStreamName(o_.database)), [&](int code, const std::string& tail) {
          return ToolFailure(name, target, code, ExplainMysqlError(tail, o_.conn, o_.database), tail);
        });
    return ToolMissing(s, name, "mariadb-client");
  }

 private:
  MysqlSourceOptions o_;
};

}  // namespace

std::string MysqlStreamName(const std::string& database) {
  std::string name = database;
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".sql";
}

std::unique_ptr<Source> NewMysqlSource(MysqlSourceOptions options) {
  return std::make_unique<MysqlSource>(std::move(options));
}

std::string MysqlOptionFile(const std::string& password) {
  std::string out = "[client]\npassword=\"";
  for (char c : password) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out + "\"\n";
}

FailureCause ExplainMysqlError(const std::string& text, const DbConnection& conn,
                               const std::string& database) {
  FailureCause c;
  if (Contains(text, "Access denied for user") && Contains(text, "using password")) {
    c.code = Code::kUnauthorized;
    c.text = Tr(
        "ユーザー {} の認証に失敗しました。パスワード (password / password_file) "
        "とユーザーの接続元ホストを確認してください",
        "authentication failed for user {}. Check the password (password / password_file) and the host the "
        "user may connect from",
        UserName(conn));
  } else if (Contains(text, "Unknown database")) {
    c.code = Code::kNotFound;
    c.text = Tr("データベース {} がサーバー {} に存在しません。設定の database を確認してください",
                "database {} does not exist on server {}. Check `database` in the configuration", database,
                ServerName(conn));
  } else if (Contains(text, "Can't connect") || Contains(text, "Connection refused") ||
             Contains(text, "Unknown server host") || Contains(text, "Lost connection") ||
             Contains(text, "server has gone away") || Contains(text, "timed out")) {
    c.code = Code::kRetryable;
    c.text = Tr(
        "MariaDB/MySQL サーバー {} に接続できません。サーバーが起動しているか、host・port・socket "
        "を確認してください",
        "cannot connect to MariaDB/MySQL server {}. Check that it is running and that host, port and socket "
        "are right",
        ServerName(conn));
  } else if (Contains(text, "Access denied")) {
    c.code = Code::kPermissionDenied;
    c.text = Tr("ユーザー {} に必要な権限がありません (SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES など)",
                "user {} lacks a required privilege (SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, ...)",
                UserName(conn));
  }
  return c;
}

Status RestoreMysql(SnapshotReader& in, const MysqlRestoreTarget& target, RestoreReport* report) {
  if (target.database.empty()) {
    return Status::InvalidArgument(
        std::string(L("復元先のデータベース名がありません", "no target database name")));
  }
  KURA_ASSIGN_OR_RETURN(std::string stream, FindStream(in, target.stream, ".sql"));
  std::string password;
  KURA_ASSIGN_OR_RETURN(Credentials cred, Credentials::Make(target.conn, target.temp_dir, &password));
  auto connected = Connect(target.conn, password);
  SecureZero(password.data(), password.size());
  if (!connected.ok()) return connected.status();
  MysqlConn& db = **connected;
  std::string where = ServerName(target.conn) + "/" + target.database;
  std::string ident = QuoteIdent(target.database);

  bool exists = mysql_select_db(db.get(), target.database.c_str()) == 0;
  if (!exists && mysql_errno(db.get()) != kErrUnknownDatabase)
    return ConnectionError(db.get(), target.conn, target.database);
  if (exists) {
    KURA_ASSIGN_OR_RETURN(
        auto n, Query(db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"));
    bool empty = n.empty() || n[0][0] == "0";
    if (!empty && !target.clean) {
      return Status::AlreadyExists(
          Tr("データベース {} は既に存在し、空ではありません。別の名前を指定するか、"
             "clean を指定して作り直してください",
             "database {} already exists and is not empty. Choose another name, or set "
             "clean to drop and recreate it",
             where));
    }
    if (!empty) {
      KURA_RETURN_IF_ERROR(Query(db, "DROP DATABASE " + ident).status());
      exists = false;
    }
  }
  bool created = false;
  if (!exists) {
    KURA_RETURN_IF_ERROR(Query(db, "CREATE DATABASE " + ident + " CHARACTER SET utf8mb4").status());
    created = true;
  }

  std::string tool = PickTool(target.conn, {"mariadb", "mysql"});
  ProcessOptions p;
  p.argv = {tool};
  for (auto& a : ConnArgs(target.conn)) p.argv.push_back(std::move(a));
  // mariadb-dump has no --connect-timeout; the client has.
  p.argv.push_back("--connect-timeout=" + std::to_string(std::max(1, target.conn.connect_timeout_seconds)));
  p.argv.push_back(target.database);
  cred.Apply(p);
  std::string name = ToolName(tool);
  Status restored = FeedStreamToProcess(in, stream, p, [&](int code, const std::string& tail) {
    return ToolFailure(name, where, code, ExplainMysqlError(tail, target.conn, target.database), tail,
                       /*for_restore=*/true);
  });
  if (!restored.ok()) {
    if (created) (void)Query(db, "DROP DATABASE IF EXISTS " + ident);
    return ToolMissing(restored, name, "mariadb-client");
  }

  if (mysql_select_db(db.get(), target.database.c_str()) != 0) {
    return ConnectionError(db.get(), target.conn, target.database);
  }
  KURA_ASSIGN_OR_RETURN(auto tables,
                        Query(db,
                              "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                              "DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"));
  RestoreReport r;
  r.target = where;
  r.stream = stream;
  for (const auto& t : tables) {
    KURA_ASSIGN_OR_RETURN(auto count, Query(db, "SELECT COUNT(*) FROM " + QuoteIdent(t[0])));
    r.tables.push_back({t[0], std::strtoll(count.at(0).at(0).c_str(), nullptr, 10)});
  }
  if (report != nullptr) *report = std::move(r);
  return Status::Ok();
}

}  // namespace kura
