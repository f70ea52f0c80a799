#include "support/db_servers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "util/process.h"

namespace kura::testing {

namespace {

const char kSetupHint[] = "run scripts/setup.sh (as root) to install the database servers the tests need";

std::string ReadTail(const std::string& path, size_t max = 3000) {
  std::ifstream f(path);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return s.size() > max ? s.substr(s.size() - max) : s;
}

Result<std::string> Run(const ProcessOptions& o, const std::string& what) {
  auto r = RunProcess(o, 64 << 20);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return Status::Internal(what + " failed (exit " + std::to_string(r->exit_code) + "): " + r->err + r->out);
  }
  return r->out;
}

bool IsExecutable(const std::string& p) {
  return ::access(p.c_str(), X_OK) == 0;
}

// The newest /usr/lib/postgresql/NN/bin that has initdb.
std::string FindPgBinDir() {
  if (const char* env = std::getenv("KURA_PG_BIN"); env != nullptr && *env != '\0') return env;
  std::vector<int> versions;
  if (DIR* d = ::opendir("/usr/lib/postgresql")) {
    while (struct dirent* e = ::readdir(d)) {
      int v = std::atoi(e->d_name);
      if (v > 0 && IsExecutable("/usr/lib/postgresql/" + std::string(e->d_name) + "/bin/initdb"))
        versions.push_back(v);
    }
    ::closedir(d);
  }
  if (versions.empty()) {
    std::string initdb = FindInPath("initdb");
    return initdb.empty() ? "" : initdb.substr(0, initdb.rfind('/'));
  }
  return "/usr/lib/postgresql/" + std::to_string(*std::max_element(versions.begin(), versions.end())) +
         "/bin";
}

class PgInstance {
 public:
  ~PgInstance() { Stop(); }

  Status Start() {
    info_.bin_dir = FindPgBinDir();
    if (info_.bin_dir.empty()) {
      return Status::NotFound(std::string("PostgreSQL server binaries (initdb, postgres) not found: ") +
                              kSetupHint);
    }
    info_.dir = MakeTempDir("kura-pgtest-");
    if (info_.dir.empty()) return Status::IOError("cannot create a temporary directory");
    info_.password = "kura-test-パス'word";
    info_.superuser_password = "kura-super-pw";
    as_root_ = ::geteuid() == 0;
    std::string data = info_.dir + "/data";
    std::string sock = info_.dir + "/sock";
    std::string pwfile = info_.dir + "/pwfile";
    {
      std::ofstream f(pwfile);
      f << info_.superuser_password << "\n";
    }
    ::mkdir(data.c_str(), 0700);
    ::mkdir(sock.c_str(), 0755);
    if (as_root_) {
      // initdb refuses to run as root: the cluster belongs to the `postgres` user.
      struct passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) return Status::NotFound(std::string("no `postgres` user: ") + kSetupHint);
      for (const auto& p : {info_.dir, data, sock, pwfile}) {
        if (::chown(p.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::IOError("chown " + p);
      }
    }
    ProcessOptions init;
    init.argv = AsPostgres({info_.bin_dir + "/initdb", "-D", data, "-U", info_.superuser,
                            "--pwfile=" + pwfile, "--auth-host=scram-sha-256", "--auth-local=trust", "-E",
                            "UTF8", "--no-locale", "--no-sync"});
    init.env = {{"LC_ALL", "C"}};
    auto r = Run(init, "initdb");
    if (!r.ok()) return r.status();

    info_.port = FreeLoopbackPort();
    ProcessOptions start;
    start.argv =
        AsPostgres({info_.bin_dir + "/pg_ctl", "-D", data, "-w", "-t", "60", "-l", info_.dir + "/log", "-o",
                    "-c listen_addresses=127.0.0.1 -p " + std::to_string(info_.port) + " -k " + sock +
                        " -c fsync=off -c full_page_writes=off -c synchronous_commit=off",
                    "start"});
    start.pipe_stdout = false;
    start.env = {{"LC_ALL", "C"}};
    r = Run(start, "pg_ctl start");
    if (!r.ok())
      return Status::Internal(r.status().message() + "\nserver log:\n" + ReadTail(info_.dir + "/log"));
    started_ = true;
    std::string role_pw;
    for (char c : info_.password) role_pw += (c == '\'') ? std::string("''") : std::string(1, c);
    auto created = info_.PsqlAdmin(
        "postgres", "CREATE ROLE " + info_.user + " LOGIN CREATEDB PASSWORD '" + role_pw + "'");
    if (!created.ok()) return created.status();
    created = info_.PsqlAdmin("postgres", "CREATE DATABASE kura_test OWNER " + info_.user);
    if (!created.ok()) return created.status();
    return Status::Ok();
  }

  void Stop() {
    if (started_) {
      ProcessOptions stop;
      stop.argv =
          AsPostgres({info_.bin_dir + "/pg_ctl", "-D", info_.dir + "/data", "-m", "immediate", "-w", "stop"});
      stop.pipe_stdout = false;
      (void)RunProcess(stop);
      started_ = false;
    }
    if (!info_.dir.empty()) RemoveAll(info_.dir);
    info_.dir.clear();
  }

  const PgServer& info() const { return info_; }

 private:
  std::vector<std::string> AsPostgres(std::vector<std::string> argv) const {
    if (as_root_) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
    return argv;
  }

  PgServer info_;
  bool as_root_ = false;
  bool started_ = false;
};

std::string FindFirst(std::initializer_list<const char*> names) {
  for (const char* n : names) {
    std::string p = FindInPath(n);
    if (!p.empty()) return p;
    for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/usr/local/sbin/", "/usr/local/bin/"}) {
      if (IsExecutable(dir + std::string(n))) return dir + std::string(n);
    }
  }
  return "";
}

class MariaDbInstance {
 public:
  ~MariaDbInstance() { Stop(); }

  Status Start() {
    std::string install = FindFirst({"mariadb-install-db", "mysql_install_db"});
    std::string server = FindFirst({"mariadbd", "mysqld"});
    client_ = FindFirst({"mariadb", "mysql"});
    if (install.empty() || server.empty() || client_.empty()) {
      return Status::NotFound(
          std::string("MariaDB server binaries (mariadb-install-db, mariadbd, mariadb) not found: ") +
          kSetupHint);
    }
    info_.dir = MakeTempDir("kura-mariadbtest-");
    if (info_.dir.empty()) return Status::IOError("cannot create a temporary directory");
    info_.password = "kura-test-パス\"word";
    info_.root_password = "kura-root-pw";
    info_.socket = info_.dir + "/mysqld.sock";
    std::string data = info_.dir + "/data";
    // A private tmpdir: concurrent test binaries sharing /tmp collide on temporary table names.
    std::string tmp = info_.dir + "/tmp";
    ::mkdir(tmp.c_str(), 0700);
    std::string user = ::geteuid() == 0 ? "root" : "";
    ProcessOptions init;
    init.argv = {install,
                 "--no-defaults",
                 "--datadir=" + data,
                 "--tmpdir=" + tmp,
                 "--auth-root-authentication-method=normal",
                 "--skip-test-db"};
    if (!user.empty()) init.argv.push_back("--user=" + user);
    auto r = Run(init, "mariadb-install-db");
    if (!r.ok()) return r.status();

    info_.port = FreeLoopbackPort();
    ProcessOptions srv;
    srv.argv = {server,
                "--no-defaults",
                "--datadir=" + data,
                "--tmpdir=" + tmp,
                "--port=" + std::to_string(info_.port),
                "--bind-address=127.0.0.1",
                "--socket=" + info_.socket,
                "--pid-file=" + info_.dir + "/mysqld.pid",
                "--log-error=" + info_.dir + "/error.log",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=32M",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"};
    if (!user.empty()) srv.argv.push_back("--user=" + user);
    srv.pipe_stdout = false;
    auto p = Process::Start(srv);
    if (!p.ok()) return p.status();
    server_ = std::move(*p);

    std::string last_error;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      ProcessOptions ping;
      ping.argv = {client_, "--no-defaults", "-uroot", "--socket=" + info_.socket, "-e", "SELECT 1"};
      auto pr = RunProcess(ping);
      if (pr.ok() && pr->exit_code == 0) break;
      last_error = pr.ok() ? pr->err : pr.status().ToString();
      if (std::chrono::steady_clock::now() > deadline) {
        return Status::Internal("MariaDB did not start: " + last_error + "\nerror log:\n" +
                                ReadTail(info_.dir + "/error.log"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    auto quote = [](const std::string& s) {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    };
    std::string setup =
        "CREATE USER '" + info_.user + "'@'127.0.0.1' IDENTIFIED BY " + quote(info_.password) +
        "; GRANT ALL PRIVILEGES ON *.* TO '" + info_.user + "'@'127.0.0.1' WITH GRANT OPTION;" +
        "CREATE USER '" + info_.user + "'@'localhost' IDENTIFIED BY " + quote(info_.password) +
        "; GRANT ALL PRIVILEGES ON *.* TO '" + info_.user + "'@'localhost' WITH GRANT OPTION;" +
        "ALTER USER 'root'@'localhost' IDENTIFIED BY " + quote(info_.root_password) + ";";
    ProcessOptions admin;
    admin.argv = {client_, "--no-defaults", "-uroot", "--socket=" + info_.socket, "-e", setup};
    auto s = Run(admin, "MariaDB user setup");
    if (!s.ok()) return s.status();
    return Status::Ok();
  }

  void Stop() {
    if (server_) {
      server_->Kill();  // a throwaway server: no need for a clean shutdown
      (void)server_->Wait();
      server_.reset();
    }
    if (!info_.dir.empty()) RemoveAll(info_.dir);
    info_.dir.clear();
  }

  const MariaDbServer& info() const { return info_; }

 private:
  MariaDbServer info_;
  std::string client_;
  std::unique_ptr<Process> server_;
};

std::mutex g_mu;
std::unique_ptr<PgInstance> g_pg;
Status g_pg_status;
std::unique_ptr<MariaDbInstance> g_maria;
Status g_maria_status;

class DbServersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard<std::mutex> lock(g_mu);
    g_pg.reset();
    g_maria.reset();
    g_pg_status = Status();
    g_maria_status = Status();
  }
};

[[maybe_unused]] ::testing::Environment* const g_env =
    ::testing::AddGlobalTestEnvironment(new DbServersEnvironment);

}  // namespace

Result<std::string> PgServer::Psql(const std::string& db, const std::string& sql) const {
  ProcessOptions o;
  o.argv = {bin_dir + "/psql",
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-p",
            std::to_string(port),
            "-U",
            user,
            "-d",
            db,
            "-c",
            sql};
  o.env = {{"PGPASSWORD", password}, {"LC_ALL", "C.UTF-8"}};
  return Run(o, "psql");
}

Result<std::string> PgServer::PsqlAdmin(const std::string& db, const std::string& sql) const {
  ProcessOptions o;
  o.argv = {bin_dir + "/psql",
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-p",
            std::to_string(port),
            "-U",
            superuser,
            "-d",
            db,
            "-c",
            sql};
  o.env = {{"PGPASSWORD", superuser_password}, {"LC_ALL", "C.UTF-8"}};
  return Run(o, "psql (superuser)");
}

Result<std::string> MariaDbServer::Sql(const std::string& db, const std::string& sql) const {
  ProcessOptions o;
  o.argv = {FindFirst({"mariadb", "mysql"}),
            "--no-defaults",
            "--protocol=TCP",
            "-h",
            host,
            "-P",
            std::to_string(port),
            "-u",
            user,
            "--batch",
            "--skip-column-names",
            "--default-character-set=utf8mb4",
            "-e",
            sql};
  if (!db.empty()) o.argv.push_back(db);
  o.env = {{"MYSQL_PWD", password}};
  return Run(o, "mariadb");
}

Result<const PgServer*> TestPostgres() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_pg_status.ok()) return g_pg_status;
  if (!g_pg) {
    auto pg = std::make_unique<PgInstance>();
    Status s = pg->Start();
    if (!s.ok()) {
      g_pg_status = s;
      return s;
    }
    g_pg = std::move(pg);
  }
  return &g_pg->info();
}

Result<const MariaDbServer*> TestMariaDb() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_maria_status.ok()) return g_maria_status;
  if (!g_maria) {
    auto m = std::make_unique<MariaDbInstance>();
    Status s = m->Start();
    if (!s.ok()) {
      g_maria_status = s;
      return s;
    }
    g_maria = std::move(m);
  }
  return &g_maria->info();
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* t = std::getenv("TMPDIR");
  std::string templ = std::string((t != nullptr && *t != '\0') ? t : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return "";
  ::chmod(templ.c_str(), 0755);
  return templ;
}

void RemoveAll(const std::string& path) {
  if (path.empty() || path == "/") return;
  ProcessOptions o;
  o.argv = {"rm", "-rf", "--", path};
  o.pipe_stdout = false;
  (void)RunProcess(o);
}

}  // namespace kura::testing
