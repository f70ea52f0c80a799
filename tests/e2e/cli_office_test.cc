// A nightly backup is not failed by what every office has (issue 6 §5), with the real
// binary: lock and temporary files churning while kura walks the tree, FIFOs and sockets,
// an empty stdin from a failed pg_dump, bad stream names, symlinked directories on the
// command line, kura's own repository and cache inside the tree.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/e2e_kura.h"

namespace kura::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Binds (and leaves) a Unix socket at `path`; returns false when the path is too long.
bool MakeSocket(const std::string& path) {
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(sock);
    return false;
  }
  std::strcpy(addr.sun_path, path.c_str());
  bool ok = ::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(sock);
  return ok;
}

// Writes `text` with one write(2) (creating or truncating first).
void Put(const std::string& path, const std::string& text, int flags) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | flags, 0644);
  if (fd < 0) return;
  if (!text.empty()) (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

std::set<std::string> WarnedPaths(const json& backup) {
  std::set<std::string> out;
  for (const json& w : backup.value("warnings", json::array())) out.insert(w.value("path", ""));
  return out;
}

class CliOfficeTest : public KuraE2ETest {
 protected:
  size_t SnapshotCount() {
    json list = KuraJson({"snapshots"});
    return list.is_array() ? list.size() : 0;
  }
};

// Another thread creates, rewrites, truncates, appends and deletes *.lock and temporary
// files and makes FIFOs and sockets in the tree while kura backs it up, round after round.
// Every backup must end 0 or 11, every stored churning file must hold a version it really
// had (or be named in a warning), and the stable files must restore byte for byte.
TEST_F(CliOfficeTest, ChurningLockAndTempFilesNeverFailABackupOrStoreAVersionThatNeverExisted) {
  InitRepo();
  std::string tree = dir_.Sub("office");
  for (int i = 0; i < 20; ++i)
    WriteFile(tree + "/stable/doc" + std::to_string(i) + ".txt", SeededBytes(i, 1000 + 5000 * i));
  fs::create_directories(tree + "/work/tmp");

  std::mutex mu;
  std::map<std::string, std::set<std::string>> versions;  // every content each churn file had
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    std::mt19937 rng(6);
    std::map<std::string, std::string> now;  // what each file holds
    uint64_t v = 0;
    auto record = [&](const std::string& p) {
      std::lock_guard lock(mu);
      versions[p].insert(now[p]);
    };
    while (!stop.load()) {
      ++v;
      int k = static_cast<int>(rng() % 8);
      std::string lock_file = tree + "/work/app" + std::to_string(k) + ".lock";
      std::string temp = tree + "/work/tmp/~$doc" + std::to_string(k) + ".tmp";
      std::string special = tree + "/work/tmp/s" + std::to_string(k);
      std::string& p = (rng() % 2) ? lock_file : temp;
      // Every version has its own length, so any rewrite changes the size kura saw.
      std::string text = fmt::format("{:0{}d}\n", v, static_cast<int>(8 + v % 4000));
      switch (rng() % 6) {
        case 0:  // rewrite: O_TRUNC shows "" before the new content
          now[p] = "";
          record(p);
          now[p] = text;
          record(p);
          Put(p, text, O_TRUNC);
          break;
        case 1:  // append
          if (!fs::exists(p)) break;
          now[p] += text;
          record(p);
          Put(p, text, O_APPEND);
          break;
        case 2:  // truncate to half
          if (!fs::exists(p)) break;
          now[p] = now[p].substr(0, now[p].size() / 2);
          record(p);
          (void)!::truncate(p.c_str(), static_cast<off_t>(now[p].size()));
          break;
        case 3:
          ::unlink(p.c_str());
          now.erase(p);
          break;
        case 4:
          ::unlink(special.c_str());
          if (rng() % 2)
            ::mkfifo(special.c_str(), 0600);
          else
            MakeSocket(special);
          break;
        default:
          ::unlink(special.c_str());
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });

  for (int round = 0; round < 6; ++round) {
    KuraRun b = Kura({"--json", "backup", tree});
    ASSERT_TRUE(b.exit_code == 0 || b.exit_code == kExitPartial)
        << "round " << round << ": exit " << b.exit_code << ": " << b.err;
    json j = b.Json();
    std::set<std::string> warned = WarnedPaths(j);
    std::string snap = j.value("snapshot", "");
    ASSERT_EQ(snap.size(), 64u) << b.out;
    std::string out = dir_.Sub("out" + std::to_string(round));
    KuraRun r = Kura({"restore", snap, "--target", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadTree(out + tree + "/stable"), ReadTree(tree + "/stable")) << "round " << round;
    std::lock_guard lock(mu);
    for (const auto& e : fs::recursive_directory_iterator(out + tree + "/work")) {
      if (e.is_directory()) continue;
      ASSERT_TRUE(e.is_regular_file() && !e.is_symlink()) << "no FIFO or socket is restored: " << e.path();
      std::string orig = e.path().string().substr(out.size());
      std::string content = ReadFileString(e.path().string());
      bool existed = versions[orig].count(content) > 0;
      EXPECT_TRUE(existed || warned.count(orig.substr(1)) > 0)
          << "round " << round << ": " << orig << " was stored as " << content.size()
          << " bytes that it never held, without a warning";
    }
  }
  stop = true;
  churn.join();
}

TEST_F(CliOfficeTest, FifoAndSocketInTheTreeAreWarningsExit11NotAFailedBackup) {
  InitRepo();
  std::string src = dir_.Sub("src");
  WriteFile(src + "/ok.txt", "ok");
  ASSERT_EQ(::mkfifo((src + "/pipe").c_str(), 0600), 0);
  ASSERT_TRUE(MakeSocket(src + "/sock"));
  for (const char* lang : {"en", "ja"}) {
    KuraRun r = Kura({"--lang", lang, "--json", "backup", src});
    EXPECT_EQ(r.exit_code, kExitPartial) << r.err;
    json j = r.Json();
    EXPECT_EQ(j["warnings"].size(), 2u) << r.out;
    EXPECT_NE(r.err.find("pipe"), std::string::npos) << r.err;
    // Before: "cannot read … is skipped; the backup was stopped" — and it was stopped.
    EXPECT_EQ(r.err.find("stopped"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("中止"), std::string::npos) << r.err;
    if (std::string(lang) == "en") {
      EXPECT_NE(r.err.find("is not stored"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("exit code 11"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(SnapshotCount(), 2u);
  EXPECT_EQ(Kura({"restore", "latest", "--target", dir_.Sub("out")}).exit_code, 0);
  EXPECT_EQ(ReadFileString(dir_.Sub("out") + src + "/ok.txt"), "ok");
}

TEST_F(CliOfficeTest, EmptyStdinFromAFailedPgDumpIsRefusedUnlessAllowEmpty) {
  InitRepo();
  KuraRun empty = Kura({"--lang", "en", "backup", "--stdin", "--stdin-name", "careapp.pgdump"}, {}, "");
  EXPECT_EQ(empty.exit_code, kExitSourceFailed) << empty.err;
  EXPECT_NE(empty.err.find("was empty"), std::string::npos) << empty.err;
  EXPECT_NE(empty.err.find("--allow-empty"), std::string::npos) << "says what to do: " << empty.err;
  EXPECT_NE(empty.err.find("no snapshot was made"), std::string::npos) << empty.err;
  KuraRun ja = Kura({"backup", "--stdin"}, {}, "");
  EXPECT_EQ(ja.exit_code, kExitSourceFailed);
  EXPECT_NE(ja.err.find("空"), std::string::npos) << ja.err;
  KuraRun cmd = Kura({"backup", "--from-command", "true"});
  EXPECT_EQ(cmd.exit_code, kExitSourceFailed) << cmd.err;
  EXPECT_NE(cmd.err.find("--allow-empty"), std::string::npos) << cmd.err;
  EXPECT_EQ(SnapshotCount(), 0u);

  EXPECT_EQ(Kura({"backup", "--stdin", "--allow-empty"}, {}, "").exit_code, 0);
  EXPECT_EQ(Kura({"backup", "--from-command", "true", "--allow-empty"}).exit_code, 0);
  EXPECT_EQ(SnapshotCount(), 2u);
  KuraRun one = Kura({"backup", "--stdin"}, {}, "x");
  EXPECT_EQ(one.exit_code, 0) << "one byte is not empty: " << one.err;
  EXPECT_EQ(Kura({"backup", "--allow-empty", dir_.Sub("repo")}).exit_code, kExitUsage) << "only for streams";
}

TEST_F(CliOfficeTest, StdinNameThatCouldNeverBeReadBackIsRefusedBeforeAnythingRuns) {
  InitRepo();
  const std::vector<std::string> bad = {"/abs/path",
                                        "..",
                                        ".",
                                        "dir/",
                                        "a//b",
                                        "",
                                        "a/../b",
                                        "./a",
                                        "a/.",
                                        std::string("tab\there"),
                                        std::string("esc\x1b[31m"),
                                        std::string("nl\n")};
  for (const std::string& name : bad) {
    std::string marker = dir_.Sub("ran");
    KuraRun r = Kura(
        {"--lang", "en", "backup", "--stdin-name", name, "--from-command", "touch " + marker + "; echo x"});
    EXPECT_EQ(r.exit_code, kExitUsage) << "[" << name << "]: " << r.err;
    EXPECT_NE(r.err.find("--stdin-name"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("stream name"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "control characters are not echoed";
    EXPECT_FALSE(Exists(marker)) << "[" << name << "]: the command ran before the name was checked";
    KuraRun s = Kura({"backup", "--stdin", "--stdin-name", name}, {}, "data");
    EXPECT_EQ(s.exit_code, kExitUsage) << "[" << name << "]";
  }
  EXPECT_EQ(SnapshotCount(), 0u);
  for (std::string good : {"db.dump", "daily/db.sql", "ケアレンツ.bak", "a.b..c"}) {
    KuraRun r = Kura({"backup", "--stdin", "--stdin-name", good}, {}, "dump of " + good);
    ASSERT_EQ(r.exit_code, 0) << good << ": " << r.err;
    KuraRun back = Kura({"restore", "latest", "--stdout"});
    EXPECT_EQ(back.out, "dump of " + good) << "a name accepted can be read back";
  }
}

TEST_F(CliOfficeTest, PathsThroughSymlinkedDirectoriesBackUpWhatTheUserMeant) {
  InitRepo();
  std::string d = dir_.Sub("d");
  WriteFile(d + "/real/sub/kept.txt", "sub");
  WriteFile(d + "/real/top.txt", "top");
  WriteFile(d + "/home/own.txt", "own");
  fs::create_directory_symlink(d + "/real", d + "/home/share");
  // Listed below a link in a listed parent: before, silently dropped.
  KuraRun below = Kura({"--json", "backup", d + "/home", d + "/home/share/sub"});
  ASSERT_EQ(below.exit_code, 0) << below.err;
  ASSERT_EQ(Kura({"restore", "latest", "--target", dir_.Sub("o1")}).exit_code, 0);
  EXPECT_EQ(ReadFileString(dir_.Sub("o1") + d + "/real/sub/kept.txt"), "sub");
  EXPECT_EQ(ReadFileString(dir_.Sub("o1") + d + "/home/own.txt"), "own");
  EXPECT_TRUE(fs::is_symlink(dir_.Sub("o1") + d + "/home/share"));
  EXPECT_FALSE(fs::exists(dir_.Sub("o1") + d + "/real/top.txt")) << "only what was listed";
  // A trailing slash means the directory the link points to; before, only the link was stored.
  KuraRun slash = Kura({"--json", "backup", d + "/home/share/"});
  ASSERT_EQ(slash.exit_code, 0) << slash.err;
  EXPECT_EQ(slash.Json().value("files", 0), 2) << slash.out;
  ASSERT_EQ(Kura({"restore", "latest", "--target", dir_.Sub("o2")}).exit_code, 0);
  EXPECT_EQ(ReadFileString(dir_.Sub("o2") + d + "/real/top.txt"), "top");
  // Without the slash, the link itself.
  KuraRun link = Kura({"--json", "backup", d + "/home/share"});
  ASSERT_EQ(link.exit_code, 0) << link.err;
  EXPECT_EQ(link.Json().value("files", -1), 0) << link.out;
}

TEST_F(CliOfficeTest, RepositoryAndCacheInsideTheBackedUpTreeAreLeftOutWithANote) {
  std::string tree = dir_.Sub("srv");
  std::string repo = tree + "/kura-repo";
  std::string cache = tree + "/var/cache/kura";
  Env inside = {{"KURA_REPOSITORY", repo}, {"KURA_CACHE_DIR", cache}};
  fs::create_directories(tree);
  KuraRun init = Kura({"init"}, inside);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  WriteFile(tree + "/data/記録.txt", "記録");
  KuraRun first = Kura({"--lang", "en", "--json", "backup", tree}, inside);
  EXPECT_EQ(first.exit_code, kExitPartial) << first.err;
  EXPECT_NE(first.err.find("kura's repository"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("kura's cache"), std::string::npos) << first.err;
  std::set<std::string> warned = WarnedPaths(first.Json());
  EXPECT_EQ(warned.count(repo.substr(1)), 1u) << first.out;
  KuraRun ls = Kura({"--json", "ls", "latest"}, inside);
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  for (const json& e : ls.Json()["entries"]) {
    std::string p = e.value("path", "");
    EXPECT_EQ(p.find("kura-repo"), std::string::npos) << p;
    EXPECT_EQ(p.find("cache/kura"), std::string::npos) << p;
  }
  // The next night stores nothing of its own packs again.
  WriteFile(tree + "/data/b.txt", "b");
  json second = KuraJson({"backup", tree}, kExitPartial, inside);
  EXPECT_LT(second.value("bytes_new", uint64_t{1} << 40), 1000u)
      << "the repository is not backed up into itself";
}

}  // namespace
}  // namespace kura::testing
