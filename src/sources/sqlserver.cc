#include "sources/sqlserver.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

namespace {

constexpr char kToolPackage[] = "mssql-tools18";

bool Contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

std::string ServerName(const DbConnection& conn) {
  std::string host = conn.host.empty() ? "localhost" : conn.host;
  return conn.port != 0 ? host + "," + std::to_string(conn.port) : host;
}

std::string DefaultTempDir() {
  const char* t = std::getenv("TMPDIR");
  return (t != nullptr && *t != '\0') ? t : "/tmp";
}

std::string ServerDir(const SqlServerOptions& s) {
  if (!s.server_backup_dir.empty()) return s.server_backup_dir;
  if (!s.local_backup_dir.empty()) return s.local_backup_dir;
  return DefaultTempDir();
}

std::string LocalDir(const SqlServerOptions& s) {
  if (!s.local_backup_dir.empty()) return s.local_backup_dir;
  if (!s.server_backup_dir.empty()) return s.server_backup_dir;
  return DefaultTempDir();
}

// Joins with the separator the server's path already uses (Windows "D:\x" or Linux "/x").
std::string JoinServerPath(const std::string& dir, const std::string& name) {
  bool windows = dir.find('\\') != std::string::npos || (dir.size() >= 2 && dir[1] == ':');
  char sep = windows ? '\\' : '/';
  if (!dir.empty() && (dir.back() == '\\' || dir.back() == '/')) return dir + name;
  return dir + sep + name;
}

// A file name part made only of safe characters.
std::string Sanitize(const std::string& name) {
  std::string out;
  for (unsigned char c : name) out += (std::isalnum(c) || c == '-' || c == '_') ? static_cast<char>(c) : '_';
  return out.substr(0, 64);
}

std::string UniqueBakName(const std::string& database) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t r = rng();
  Bytes b(reinterpret_cast<uint8_t*>(&r), reinterpret_cast<uint8_t*>(&r) + sizeof r);
  return "kura-" + Sanitize(database) + "-" + std::to_string(::getpid()) + "-" + ToHex(b) + ".bak";
}

// Deletes the temporary .bak on every path out of a backup or restore.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() { ::unlink(path.c_str()); }
};

FailureCause ExplainSqlServer(const std::string& output, const SqlServerOptions& s,
                              const std::string& database, const std::string& bak_path) {
  FailureCause c;
  for (const auto& m : ParseSqlServerMessages(output)) {
    if (m.level < 11) continue;
    switch (m.number) {
      case 18456:
        c.code = Code::kUnauthorized;
        c.text = Tr("SQL Server へのログインに失敗しました (ユーザー {})。パスワードを確認してください",
                    "login to SQL Server failed (user {}). Check the password", s.conn.user);
        return c;
      case 911:
      case 4060:
        c.code = Code::kNotFound;
        c.text = Tr("データベース {} が SQL Server {} に存在しません",
                    "database {} does not exist on SQL Server {}", database, ServerName(s.conn));
        return c;
      case 3201:
        c.code = Code::kPermissionDenied;
        c.text =
            Tr("SQL Server がバックアップファイル {} を開けません。SQL Server のサービスアカウントが "
               "server_backup_dir に書き込めるか確認してください (Msg 3201: {})",
               "SQL Server cannot open the backup file {}. Check that the SQL Server service account can "
               "write to server_backup_dir (Msg 3201: {})",
               bak_path, m.text);
        return c;
      case 229:
      case 262:
        c.code = Code::kPermissionDenied;
        c.text = Tr("ユーザー {} に権限がありません (Msg {}: {})", "user {} lacks a permission (Msg {}: {})",
                    s.conn.user, m.number, m.text);
        return c;
      default:
        if (c.text.empty()) {
          c.text = Tr("SQL Server エラー {} (レベル {}): {}", "SQL Server error {} (level {}): {}", m.number,
                      m.level, m.text);
        }
    }
  }
  if (!c.text.empty()) return c;
  if (Contains(output, "Login failed")) {
    c.code = Code::kUnauthorized;
    c.text = Tr("SQL Server へのログインに失敗しました (ユーザー {})。パスワードを確認してください",
                "login to SQL Server failed (user {}). Check the password", s.conn.user);
  } else if (Contains(output, "Login timeout expired") || Contains(output, "network-related") ||
             Contains(output, "TCP Provider") || Contains(output, "server was not found") ||
             Contains(output, "Unable to complete login")) {
    c.code = Code::kRetryable;
    c.text = Tr("SQL Server {} に接続できません。サーバーが起動しているか、host と port を確認してください",
                "cannot connect to SQL Server {}. Check that it is running and that host and port are right",
                ServerName(s.conn));
  }
  return c;
}

// Runs one query; fails when sqlcmd exits non-zero (-b) or reports an error of level >= 11.
// `database` is where the query runs; `subject` the database the operation is about (for
// the error message).
Result<std::string> RunSqlcmd(const SqlServerOptions& s, const std::string& database,
                              const std::string& query, const std::string& subject, const std::string& target,
                              const std::string& bak_path, bool for_restore) {
  KURA_ASSIGN_OR_RETURN(std::string password, ResolvePassword(s.conn));
  ProcessOptions p;
  p.argv = SqlcmdArgs(s, database, query);
  if (!password.empty()) p.env.emplace_back("SQLCMDPASSWORD", password);
  SecureZero(password.data(), password.size());
  auto r = RunProcess(p, 16 << 20);
  if (!r.ok()) return ToolMissing(r.status(), "sqlcmd", kToolPackage);
  std::string all = r->out + "\n" + r->err;
  auto messages = ParseSqlServerMessages(all);
  bool error_message =
      std::any_of(messages.begin(), messages.end(), [](const SqlServerMessage& m) { return m.level >= 11; });
  if (r->exit_code != 0 || error_message) {
    return ToolFailure("sqlcmd", target, r->exit_code, ExplainSqlServer(all, s, subject, bak_path), all,
                       for_restore);
  }
  return r->out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.push_back(line);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

class SqlServerSource : public Source {
 public:
  explicit SqlServerSource(SqlServerSourceOptions o) : o_(std::move(o)) {}
  std::string Kind() const override { return "sqlserver"; }
  std::string Name() const override { return o_.database; }

  Status Backup(SnapshotWriter& out) override {
    if (o_.database.empty()) {
      return Status::InvalidArgument(std::string(L("SQL Server ソースに database が設定されていません",
                                                   "the SQL Server source has no database set")));
    }
    std::string file = UniqueBakName(o_.database);
    std::string server_path = JoinServerPath(ServerDir(o_.server), file);
    RemoveOnExit cleanup{LocalDir(o_.server) + "/" + file};
    std::string target = ServerName(o_.server.conn) + "/" + o_.database;
    KURA_RETURN_IF_ERROR(RunSqlcmd(o_.server, "master", SqlServerBackupStatement(o_.database, server_path),
                                   o_.database, target, server_path, /*for_restore=*/false)
                             .status());
    int fd = ::open(cleanup.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return Status::SourceFailed(
          Tr("SQL Server はバックアップを完了しましたが、kura からファイル {} が見えません。"
             "local_backup_dir に server_backup_dir と同じ場所を設定してください",
             "SQL Server finished the backup but kura cannot see the file {}. Set "
             "local_backup_dir to where kura sees server_backup_dir",
             cleanup.path));
    }
    FdReader reader(fd, /*owns=*/true, cleanup.path);
    return out.AddFile(StreamMeta(Sanitize(o_.database) + ".bak"), reader);
  }

 private:
  SqlServerSourceOptions o_;
};

}  // namespace

std::string SqlServerQuoteIdentifier(const std::string& name) {
  std::string out = "[";
  for (char c : name) {
    out += c;
    if (c == ']') out += ']';
  }
  return out + "]";
}

std::string SqlServerQuoteString(const std::string& text) {
  std::string out = "N'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string SqlServerBackupStatement(const std::string& database, const std::string& server_path) {
  return "BACKUP DATABASE " + SqlServerQuoteIdentifier(database) +
         " TO DISK = " + SqlServerQuoteString(server_path) + " WITH COPY_ONLY, CHECKSUM, INIT";
}

std::vector<SqlServerMessage> ParseSqlServerMessages(const std::string& output) {
  std::vector<SqlServerMessage> out;
  SqlServerMessage* current = nullptr;
  for (const auto& line : Lines(output)) {
    SqlServerMessage m;
    if (std::sscanf(line.c_str(), "Msg %d, Level %d", &m.number, &m.level) == 2) {
      out.push_back(m);
      current = &out.back();
      continue;
    }
    if (current != nullptr) {
      if (!current->text.empty()) current->text += " ";
      current->text += line;
      if (current->text.size() > 500) current = nullptr;  // the rest is query output
    }
  }
  return out;
}

std::vector<std::string> SqlcmdArgs(const SqlServerOptions& s, const std::string& database,
                                    const std::string& query) {
  std::vector<std::string> a = {ToolPath(s.conn, "sqlcmd"), "-S", ServerName(s.conn), "-d", database,
                                // -b: exit non-zero on an error; -I: quoted identifiers; bare '|' output
                                "-b", "-I", "-h", "-1", "-W", "-s", "|", "-l",
                                std::to_string(std::max(1, s.conn.connect_timeout_seconds))};
  if (s.query_timeout_seconds > 0) a.insert(a.end(), {"-t", std::to_string(s.query_timeout_seconds)});
  if (s.trust_server_certificate) a.push_back("-C");
  if (s.conn.user.empty()) {
    a.push_back("-E");
  } else {
    a.insert(a.end(), {"-U", s.conn.user});
  }
  a.insert(a.end(), {"-Q", query});
  return a;
}

std::unique_ptr<Source> NewSqlServerSource(SqlServerSourceOptions options) {
  return std::make_unique<SqlServerSource>(std::move(options));
}

Status RestoreSqlServer(SnapshotReader& in, const SqlServerRestoreTarget& target, RestoreReport* report) {
  if (target.database.empty()) {
    return Status::InvalidArgument(
        std::string(L("復元先のデータベース名がありません", "no target database name")));
  }
  const SqlServerOptions& s = target.server;
  std::string where = ServerName(s.conn) + "/" + target.database;
  KURA_ASSIGN_OR_RETURN(std::string stream, FindStream(in, target.stream, ".bak"));

  KURA_ASSIGN_OR_RETURN(std::string exists,
                        RunSqlcmd(s, "master",
                                  "SET NOCOUNT ON; SELECT CASE WHEN DB_ID(" +
                                      SqlServerQuoteString(target.database) + ") IS NULL THEN 0 ELSE 1 END",
                                  target.database, where, "", true));
  auto lines = Lines(exists);
  if (!lines.empty() && lines.back() == "1" && !target.clean) {
    return Status::AlreadyExists(
        Tr("データベース {} は既に存在します。別の名前を指定するか、clean を指定して上書きしてください",
           "database {} already exists. Choose another name, or set clean to overwrite it", where));
  }

  // The .bak must be readable by the SQL Server service account, hence 0644 in a directory
  // the operator chose (server_backup_dir); it is removed on every path out.
  std::string file = UniqueBakName(target.database);
  std::string server_path = JoinServerPath(ServerDir(s), file);
  RemoveOnExit cleanup{LocalDir(s) + "/" + file};
  {
    KURA_ASSIGN_OR_RETURN(auto content, in.Open(stream));
    int fd = ::open(cleanup.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(errno, L("書き込み", "write"), cleanup.path);
    FdWriter w(fd, /*owns=*/true, cleanup.path);
    std::vector<uint8_t> buf(1 << 16);
    for (;;) {
      KURA_ASSIGN_OR_RETURN(size_t n, content->Read(buf.data(), buf.size()));
      if (n == 0) break;
      KURA_RETURN_IF_ERROR(w.Write(buf.data(), n));
    }
  }

  KURA_ASSIGN_OR_RETURN(std::string filelist, RunSqlcmd(s, "master",
                                                        "SET NOCOUNT ON; RESTORE FILELISTONLY FROM DISK = " +
                                                            SqlServerQuoteString(server_path),
                                                        target.database, where, server_path, true));
  std::string data_dir = target.data_dir, log_dir = target.log_dir;
  if (data_dir.empty() || log_dir.empty()) {
    KURA_ASSIGN_OR_RETURN(
        std::string dirs,
        RunSqlcmd(s, "master",
                  "SET NOCOUNT ON; SELECT CONVERT(nvarchar(4000), "
                  "SERVERPROPERTY('InstanceDefaultDataPath')) + N'|' + CONVERT(nvarchar(4000), "
                  "SERVERPROPERTY('InstanceDefaultLogPath'))",
                  target.database, where, server_path, true));
    auto parts = Lines(dirs).empty() ? std::vector<std::string>{} : Split(Lines(dirs).back(), '|');
    if (parts.size() != 2) {
      return Status::SourceFailed(
          Tr("SQL Server の既定のデータディレクトリを取得できません。data_dir を設定してください",
             "cannot get SQL Server's default data directory; set data_dir"));
    }
    if (data_dir.empty()) data_dir = parts[0];
    if (log_dir.empty()) log_dir = parts[1];
  }

  std::string moves;
  int data_files = 0;
  for (const auto& line : Lines(filelist)) {
    auto f = Split(line, '|');
    if (f.size() < 3 || f[0].empty() || (f[2] != "D" && f[2] != "L" && f[2] != "S")) continue;
    std::string ext = f[2] == "L" ? ".ldf" : (data_files++ == 0 ? ".mdf" : ".ndf");
    std::string dest =
        JoinServerPath(f[2] == "L" ? log_dir : data_dir,
                       Sanitize(target.database) + "_" + Sanitize(f[0]) + (f[2] == "S" ? "" : ext));
    moves += ", MOVE " + SqlServerQuoteString(f[0]) + " TO " + SqlServerQuoteString(dest);
  }
  if (moves.empty()) {
    return Status::Corruption(Tr("RESTORE FILELISTONLY がファイルを返しませんでした ({})",
                                 "RESTORE FILELISTONLY returned no files ({})", stream));
  }
  KURA_RETURN_IF_ERROR(RunSqlcmd(s, "master",
                                 "RESTORE DATABASE " + SqlServerQuoteIdentifier(target.database) +
                                     " FROM DISK = " + SqlServerQuoteString(server_path) +
                                     " WITH REPLACE, CHECKSUM" + moves,
                                 target.database, where, server_path, true)
                           .status());

  KURA_ASSIGN_OR_RETURN(
      std::string counts,
      RunSqlcmd(s, target.database,
                "SET NOCOUNT ON; SELECT s.name + N'.' + t.name, SUM(p.rows) FROM sys.tables t "
                "JOIN sys.schemas s ON s.schema_id = t.schema_id JOIN sys.partitions p ON "
                "p.object_id = t.object_id AND p.index_id IN (0, 1) GROUP BY s.name, t.name "
                "ORDER BY 1",
                target.database, where, server_path, true));
  RestoreReport r;
  r.target = where;
  r.stream = stream;
  r.integrity_checked = true;  // RESTORE ... WITH CHECKSUM verified the page checksums
  for (const auto& line : Lines(counts)) {
    auto f = Split(line, '|');
    if (f.size() == 2) r.tables.push_back({f[0], std::strtoll(f[1].c_str(), nullptr, 10)});
  }
  r.notes.push_back(Tr("行数は sys.partitions から取得しました", "row counts are from sys.partitions"));
  if (report != nullptr) *report = std::move(r);
  return Status::Ok();
}

}  // namespace kura
