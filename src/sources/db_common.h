// Pieces shared by the database sources (postgresql, mysql, sqlite, sqlserver) and the
// command source: connection settings, password handling, private temporary files, and
// running a dump tool whose stdout becomes one snapshot stream (or whose stdin is fed from
// one on restore). See docs/sources.md.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kura/status.h"
#include "sources/source.h"
#include "util/process.h"

namespace kura {

// How to reach a database server. Secrets (password, the contents of password_file) are
// handed to client tools only through the environment or a 0600 file, never argv, and
// never appear in a Status message.
struct DbConnection {
  std::string host;      // Default: the client's default (a local socket)
  int port = 0;          // Default (0): the client's default (5432, 3306, 1433)
  std::string user;      // Default: the client's default (the OS user name)
  std::string password;  // Default: none (rely on .pgpass / option files / trust)
  // A file whose first line is the password (keep it 0600). Read at backup/restore time.
  // Ignored when `password` is set.
  std::string password_file;
  // PostgreSQL only: a libpq password file (PGPASSFILE format, host:port:db:user:password).
  std::string pgpassfile;
  // PostgreSQL only: libpq sslmode ("disable", "prefer", "require", "verify-full", ...).
  std::string sslmode;
  // MySQL/MariaDB only: the server's Unix socket (used when host is empty or "localhost").
  std::string socket;
  // Directory holding the client tools (pg_dump, mariadb-dump, sqlcmd, ...).
  // Default: found through PATH.
  std::string client_dir;
  int connect_timeout_seconds = 15;
};

// The password from DbConnection: `password`, else the first line of `password_file`,
// else "". Fails when password_file is set but unreadable.
Result<std::string> ResolvePassword(const DbConnection& conn);

// `tool` inside conn.client_dir when that is set, else `tool` (looked up in PATH).
std::string ToolPath(const DbConnection& conn, const std::string& tool);

// The metadata recorded for a dump stream: a 0600 regular file owned by the current user,
// timestamped now.
EntryMeta StreamMeta(const std::string& name);

// Picks the stream to restore: `wanted` when set (must exist), else the only file entry
// whose name ends with `suffix` (an error when there are none or several).
Result<std::string> FindStream(const SnapshotReader& in, const std::string& wanted,
                               const std::string& suffix);

// The last `max_lines` non-empty lines of a tool's stderr, for an error message.
std::string LastLines(const std::string& text, size_t max_lines = 6);

// Turns a kNotFound from Process::Start into one that also names the package to install.
Status ToolMissing(const Status& status, const std::string& tool, const std::string& package);

// Why a client tool or a database connection failed, in the user's language, and the code a
// restore should report for it (a failed backup is always kSourceFailed).
struct FailureCause {
  Code code = Code::kSourceFailed;  // kUnauthorized, kNotFound, kRetryable (unreachable), ...
  std::string text;                 // empty when the cause is not recognised
};

// The Status for a tool that exited with `exit_code`: names the tool and what it worked on,
// the cause (or the exit code / signal), and the last lines of its stderr (which never
// contain the password: it is passed through the environment or a file).
// `for_restore` selects cause.code instead of kSourceFailed.
Status ToolFailure(const std::string& tool, const std::string& target, int exit_code,
                   const FailureCause& cause, const std::string& stderr_tail, bool for_restore = false);

// Explains why a tool failed: gets the exit code (128+signal when killed) and the stderr
// tail, returns the Status to report (normally kSourceFailed with the cause in words).
using FailureExplainer = std::function<Status(int exit_code, const std::string& stderr_tail)>;

// Runs `options` (stdout piped) and stores its stdout as stream `meta`. The stream's last
// Read() waits for the tool and fails when it exited non-zero or was killed, so a failed
// or truncated dump aborts the snapshot. Returns OK only when the tool exited 0 and the
// writer accepted the whole stream.
Status StreamProcessOutput(SnapshotWriter& out, const ProcessOptions& options, const EntryMeta& meta,
                           const FailureExplainer& explain);

// Feeds snapshot stream `stream` into the stdin of `options` (restore). Returns OK only when
// the whole stream was read (its SHA-256 checked) and the tool exited 0.
Status FeedStreamToProcess(SnapshotReader& in, const std::string& stream, ProcessOptions options,
                           const FailureExplainer& explain);

// A private directory (0700) under `parent` (Default: $TMPDIR or /tmp), removed with all of
// its contents when the object is destroyed.
class PrivateTempDir {
 public:
  static Result<std::unique_ptr<PrivateTempDir>> Create(const std::string& parent = "");
  ~PrivateTempDir();
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit PrivateTempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Creates `path` with `contents` and mode 0600 (O_EXCL: never reuses an existing file).
Status WriteSecretFile(const std::string& path, const std::string& contents);

// Removes a file or a directory tree; errors are ignored (best-effort cleanup).
void RemoveTree(const std::string& path);

}  // namespace kura
