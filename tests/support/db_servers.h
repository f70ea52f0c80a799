// Throwaway database servers for tests: a PostgreSQL cluster and a MariaDB server, each in a
// temporary directory, listening only on 127.0.0.1 on a free port, with password
// authentication for a test user. Each is started on first use (once per test binary) and
// stopped and removed when the test program ends (a gtest Environment's TearDown).
//
// A missing server binary is an error, never a skip: the Result carries a message that
// says to run scripts/setup.sh, and tests ASSERT on it.
#pragma once

#include <string>

#include "kura/status.h"

namespace kura::testing {

struct PgServer {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user = "kura_test";  // LOGIN CREATEDB, password auth (scram-sha-256)
  std::string password;
  std::string superuser = "postgres";
  std::string superuser_password;
  std::string bin_dir;  // /usr/lib/postgresql/NN/bin
  std::string dir;      // temporary directory holding data/, the socket and the log

  // Runs `sql` with psql as `user` in database `db` (-X -A -t -q, ON_ERROR_STOP); returns
  // stdout, or an error with psql's stderr.
  Result<std::string> Psql(const std::string& db, const std::string& sql) const;
  // The same as the superuser.
  Result<std::string> PsqlAdmin(const std::string& db, const std::string& sql) const;
};

struct MariaDbServer {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user = "kura_test";  // ALL PRIVILEGES on *.* from 127.0.0.1 and localhost
  std::string password;
  std::string root_password;
  std::string socket;
  std::string dir;

  // Runs `sql` with the mariadb client as `user` (--batch --skip-column-names) in database
  // `db` (may be empty); returns stdout.
  Result<std::string> Sql(const std::string& db, const std::string& sql) const;
};

// The shared servers, started on first call. Fail (with what to do) when a binary is
// missing or the server does not come up.
Result<const PgServer*> TestPostgres();
Result<const MariaDbServer*> TestMariaDb();

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeLoopbackPort();

// A fresh temporary directory (0755) under $TMPDIR or /tmp; the caller removes it.
std::string MakeTempDir(const std::string& prefix);
void RemoveAll(const std::string& path);

}  // namespace kura::testing
