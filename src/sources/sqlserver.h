// SQL Server source: `sqlcmd` runs BACKUP DATABASE ... WITH COPY_ONLY, CHECKSUM, INIT into a
// temporary .bak file that kura streams as "<database>.bak" and then deletes (also when the
// backup fails). Restore: the stream is written to a temporary .bak, RESTORE FILELISTONLY
// gives the logical file names, RESTORE DATABASE ... WITH REPLACE, MOVE ... puts the files
// under the server's data directory, then tables and rows are counted.
//
// UNTESTED against a live SQL Server: the tests use a stand-in `sqlcmd` script. See
// docs/sources.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sources/db_common.h"
#include "sources/source.h"

namespace kura {

struct SqlServerOptions {
  // conn.host: server name, "host\\INSTANCE" for a named instance (Default: "localhost");
  // conn.port: TCP port (Default: sqlcmd's); conn.user empty means Windows/Kerberos
  // authentication (-E); conn.password/password_file go to sqlcmd through SQLCMDPASSWORD.
  DbConnection conn;
  // Where SQL Server writes (backup) or reads (restore) the .bak file, as the SQL Server
  // service sees it ("D:\\kura-tmp", "/var/opt/mssql/backup"). The service account must be
  // able to write there. Default: local_backup_dir, else $TMPDIR or /tmp.
  std::string server_backup_dir;
  // The same directory as kura sees it (differs when the server is remote and the directory
  // is a share). Default: server_backup_dir.
  std::string local_backup_dir;
  bool trust_server_certificate = false;  // sqlcmd -C (self-signed server certificates)
  int query_timeout_seconds = 0;          // sqlcmd -t. Default (0): no limit
};

struct SqlServerSourceOptions {
  SqlServerOptions server;
  std::string database;  // REQUIRES: non-empty
};

// Stream: "<database>.bak". Thread-compatible.
std::unique_ptr<Source> NewSqlServerSource(SqlServerSourceOptions options);

struct SqlServerRestoreTarget {
  SqlServerOptions server;
  std::string database;  // REQUIRES: non-empty
  std::string stream;    // Default: the only "*.bak" stream of the snapshot
  // An existing database is refused unless clean is set (then RESTORE ... WITH REPLACE
  // overwrites it).
  bool clean = false;
  // Server-side directories for the restored data and log files.
  // Default: SERVERPROPERTY('InstanceDefaultDataPath') / ('InstanceDefaultLogPath').
  std::string data_dir;
  std::string log_dir;
};

Status RestoreSqlServer(SnapshotReader& in, const SqlServerRestoreTarget& target, RestoreReport* report);

// T-SQL quoting, exposed for tests: [name] with "]" doubled, and N'text' with "'" doubled.
std::string SqlServerQuoteIdentifier(const std::string& name);
std::string SqlServerQuoteString(const std::string& text);

// "BACKUP DATABASE [db] TO DISK = N'path' WITH COPY_ONLY, CHECKSUM, INIT"
std::string SqlServerBackupStatement(const std::string& database, const std::string& server_path);

// One "Msg 3201, Level 16, State 1, Server X, Line 1" error and the text after it.
struct SqlServerMessage {
  int number = 0;
  int level = 0;
  std::string text;
};
// Every "Msg NNNN, Level NN" error in sqlcmd's output (stdout and stderr together).
std::vector<SqlServerMessage> ParseSqlServerMessages(const std::string& output);

// sqlcmd's argv (without the password) for running `query` in `database`. Exposed for tests.
std::vector<std::string> SqlcmdArgs(const SqlServerOptions& server, const std::string& database,
                                    const std::string& query);

}  // namespace kura
