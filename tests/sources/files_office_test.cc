// What every office tree has, met by the files source: files that vanish or change while
// the walk reads them, FIFOs and sockets, symlinked directories on the command line, and
// kura's own repository inside the tree. The writer here is strict as the real engine
// without --skip-unreadable: Warn() fails the backup, Note() only records.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>

#include "sources/files.h"
#include "support/memory_snapshot.h"
#include "support/repo_testing.h"
#include "util/i18n.h"

namespace kura {
namespace {

namespace fs = std::filesystem;
using testing::MemorySnapshot;
using testing::TempDir;

// Calls `hook(path, bytes_read_so_far)` after every read of a file's content.
class HookedReader : public ByteReader {
 public:
  HookedReader(ByteReader& inner, std::function<void(uint64_t)> hook)
      : inner_(inner), hook_(std::move(hook)) {}
  Result<size_t> Read(uint8_t* buf, size_t n) override {
    auto r = inner_.Read(buf, std::min<size_t>(n, 4096));
    if (r.ok() && *r > 0) {
      done_ += *r;
      if (hook_) hook_(done_);
    }
    return r;
  }

 private:
  ByteReader& inner_;
  std::function<void(uint64_t)> hook_;
  uint64_t done_ = 0;
};

class StrictWriter : public MemorySnapshot {
 public:
  Status AddFile(const EntryMeta& meta, ByteReader& content) override {
    ++add_file_calls[meta.path];
    HookedReader hooked(content, [&](uint64_t done) {
      if (on_read) on_read(meta.path, done);
    });
    return MemorySnapshot::AddFile(meta, hooked);
  }
  Status Warn(const std::string& path, const Status& problem) override {
    fatal.push_back(path);
    return Status::SourceFailed("fatal warning: " + path + ": " + problem.message());
  }
  Status Note(const std::string& path, const Status& problem) override {
    return MemorySnapshot::Warn(path, problem);
  }
  std::vector<OwnDirectory> OwnDirectories() const override { return own; }

  bool Noted(const std::string& path, const std::string& words) const {
    return std::any_of(warnings().begin(), warnings().end(), [&](const auto& w) {
      return w.first == path && w.second.message().find(words) != std::string::npos;
    });
  }

  std::function<void(const std::string&, uint64_t)> on_read;
  std::vector<OwnDirectory> own;
  std::vector<std::string> fatal;
  std::map<std::string, int> add_file_calls;
};

class FilesOfficeTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLanguage(Language::kEnglish); }
  void TearDown() override { SetLanguage(Language::kJapanese); }
  std::string P(const std::string& rel) const { return dir_.Sub(rel); }
  std::string R(const std::string& rel) const { return dir_.Sub(rel).substr(1); }  // entry path
  void Write(const std::string& rel, const std::string& text) { testing::WriteFile(P(rel), text); }
  Status Run(std::vector<std::string> paths, StrictWriter& w) {
    FilesSourceOptions o;
    o.paths = std::move(paths);
    return NewFilesSource(std::move(o))->Backup(w);
  }

  TempDir dir_{"kura-office"};
};

TEST_F(FilesOfficeTest, FileDeletedDuringTheWalkIsANoteNotAFailedBackup) {
  Write("tree/a.txt", "first");
  Write("tree/b.lock", "lock");
  Write("tree/c.txt", "third");
  ASSERT_EQ(::mkdir(P("tree/d.tmp").c_str(), 0755), 0);
  StrictWriter w;
  // Reading a.txt removes what the walk listed but has not reached yet.
  w.on_read = [&](const std::string& path, uint64_t) {
    if (path == R("tree/a.txt")) {
      ::unlink(P("tree/b.lock").c_str());
      ::rmdir(P("tree/d.tmp").c_str());
    }
  };
  Status st = Run({P("tree")}, w);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(w.fatal.empty());
  EXPECT_TRUE(w.Noted(R("tree/b.lock"), "deleted during the backup")) << "vanished file is recorded";
  EXPECT_TRUE(w.Noted(R("tree/d.tmp"), "deleted during the backup")) << "vanished directory is recorded";
  ASSERT_NE(w.Find(R("tree/c.txt")), nullptr);
  EXPECT_EQ(w.Find(R("tree/c.txt"))->content, "third");
}

TEST_F(FilesOfficeTest, FifoSocketAndDeviceAreNotesWithAMessageThatDoesNotContradictItself) {
  Write("tree/ok.txt", "ok");
  ASSERT_EQ(::mkfifo(P("tree/pipe").c_str(), 0600), 0);
  int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string sock_path = P("tree/sock");
  ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, sock_path.c_str());
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  bool device = ::geteuid() == 0 && ::mknod(P("tree/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0;
  StrictWriter w;
  Status st = Run({P("tree")}, w);
  ::close(sock);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(w.fatal.empty());
  std::vector<std::string> special = {"pipe", "sock"};
  if (device) special.push_back("null");
  for (const std::string& name : special) {
    EXPECT_EQ(w.Find(R("tree/" + name)), nullptr) << name;
    EXPECT_TRUE(w.Noted(R("tree/" + name), "is not stored")) << name;
  }
  for (const auto& [path, problem] : w.warnings()) {
    EXPECT_EQ(problem.message().find("stopped"), std::string::npos) << "a note never says the backup stopped";
  }
  EXPECT_EQ(w.warnings().size(), special.size());
  EXPECT_NE(w.Find(R("tree/ok.txt")), nullptr);
}

TEST_F(FilesOfficeTest, FileTruncatedWhileReadIsReadAgainAndStoredAsItNowIs) {
  std::string big(200000, 'x');
  Write("tree/journal.db", big);
  StrictWriter w;
  bool done = false;
  w.on_read = [&](const std::string& path, uint64_t) {
    if (path == R("tree/journal.db") && !done) {
      done = true;
      ASSERT_EQ(::truncate(P("tree/journal.db").c_str(), 1000), 0);
    }
  };
  ASSERT_TRUE(Run({P("tree")}, w).ok());
  const auto* e = w.Find(R("tree/journal.db"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->content, std::string(1000, 'x')) << "the version that exists, not a mix of two";
  EXPECT_EQ(w.add_file_calls[R("tree/journal.db")], 2) << "read once more after the change";
  EXPECT_TRUE(w.warnings().empty()) << "a stable second read needs no warning";
  EXPECT_FALSE(e->meta.change_key.empty());
}

TEST_F(FilesOfficeTest, GrowingLogIsNotChasedAndAFileThatKeepsChangingIsNamedInAWarning) {
  Write("tree/app.log", std::string(50000, 'a'));
  StrictWriter w;
  uint64_t size_at_second_open = 0;
  w.on_read = [&](const std::string& path, uint64_t done) {
    if (path != R("tree/app.log")) return;
    if (done == 4096) {  // once per attempt: the application appends while kura reads
      if (w.add_file_calls[path] == 2) size_at_second_open = fs::file_size(P("tree/app.log"));
      std::ofstream(P("tree/app.log"), std::ios::app) << std::string(30000, 'b');
    }
  };
  ASSERT_TRUE(Run({P("tree")}, w).ok());
  const auto* e = w.Find(R("tree/app.log"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(w.add_file_calls[R("tree/app.log")], 2);
  EXPECT_EQ(e->content.size(), size_at_second_open) << "never read past the size seen at open";
  std::string now = testing::ReadFileString(P("tree/app.log"));
  EXPECT_EQ(now.compare(0, e->content.size(), e->content), 0) << "what was stored is a prefix of the file";
  EXPECT_TRUE(w.Noted(R("tree/app.log"), "kept changing"));
  struct stat now_st {};
  ASSERT_EQ(::stat(P("tree/app.log").c_str(), &now_st), 0);
  EXPECT_EQ(e->meta.change_key.find(std::to_string(now_st.st_size) + ":"), std::string::npos)
      << "the recorded state is not the file's state now, so the next backup reads it again";
}

TEST_F(FilesOfficeTest, PathBelowASymlinkedDirectoryIsBackedUpWhereItReallyIs) {
  Write("real/sub/f.txt", "患者");
  Write("real/other.txt", "other");
  Write("top/own.txt", "own");
  ASSERT_EQ(::symlink(P("real").c_str(), P("top/link").c_str()), 0);
  StrictWriter w;
  // The parent is listed too: before, its walk stored "link" and the path below was dropped.
  ASSERT_TRUE(Run({P("top"), P("top/link/sub")}, w).ok());
  ASSERT_NE(w.Find(R("real/sub/f.txt")), nullptr) << "the given path is not dropped";
  EXPECT_EQ(w.Find(R("real/sub/f.txt"))->content, "患者");
  EXPECT_EQ(w.Find(R("real/other.txt")), nullptr) << "only what was given";
  const auto* link = w.Find(R("top/link"));
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->meta.type, EntryType::kSymlink);
  EXPECT_NE(w.Find(R("top/own.txt")), nullptr);
  auto paths = w.Paths();
  EXPECT_EQ(std::set<std::string>(paths.begin(), paths.end()).size(), paths.size()) << "no entry twice";
}

TEST_F(FilesOfficeTest, TrailingSlashFollowsTheLinkAndNoSlashStoresTheLink) {
  Write("real/a.txt", "a");
  ASSERT_EQ(::symlink("real", P("link").c_str()), 0);
  StrictWriter follow;
  ASSERT_TRUE(Run({P("link") + "/"}, follow).ok());
  ASSERT_NE(follow.Find(R("real/a.txt")), nullptr) << "link/ means the directory it points to";
  ASSERT_NE(follow.Find(R("link")), nullptr);
  EXPECT_EQ(follow.Find(R("link"))->meta.symlink_target, "real");

  StrictWriter plain;
  ASSERT_TRUE(Run({P("link")}, plain).ok());
  ASSERT_NE(plain.Find(R("link")), nullptr);
  EXPECT_EQ(plain.Find(R("link"))->meta.type, EntryType::kSymlink);
  EXPECT_EQ(plain.Find(R("real/a.txt")), nullptr) << "link without a slash is the link itself";
}

// Random trees of directories, files and directory symlinks, backed up through random given
// paths (some through links, some with a trailing slash). Whatever is given: every file
// the given path reaches is stored at its real place with its bytes, no entry appears
// twice, and no entry lies below a stored symlink (a restore could not create it).
TEST_F(FilesOfficeTest, RandomTreesWithSymlinksNeverDropAGivenPathOrStoreBelowALink) {
  for (int seed = 1; seed <= 25; ++seed) {
    std::mt19937 rng(seed);
    std::string root = P("t" + std::to_string(seed));
    ASSERT_TRUE(fs::create_directories(root));
    std::vector<std::string> dirs = {root};
    for (int i = 0; i < 8; ++i) {
      std::string d = dirs[rng() % dirs.size()] + "/d" + std::to_string(i);
      ASSERT_TRUE(fs::create_directory(d));
      dirs.push_back(d);
    }
    for (int i = 0; i < 12; ++i)
      testing::WriteFile(dirs[rng() % dirs.size()] + "/f" + std::to_string(i), "file " + std::to_string(i));
    std::vector<std::string> links;
    for (int i = 0; i < 4; ++i) {
      std::string l = dirs[rng() % dirs.size()] + "/l" + std::to_string(i);
      fs::create_directory_symlink(dirs[1 + rng() % (dirs.size() - 1)], l);
      links.push_back(l);
    }
    // Given paths: directories reached through a link (link/dN...), links with a slash, dirs.
    std::vector<std::string> given;
    for (int i = 0; i < 3; ++i) {
      std::string l = links[rng() % links.size()];
      switch (rng() % 3) {
        case 0:
          given.push_back(l + "/");
          break;
        case 1:
          given.push_back(dirs[rng() % dirs.size()]);
          break;
        default: {
          std::string target = fs::canonical(l).string();
          for (const auto& e : fs::directory_iterator(target)) {
            if (e.is_directory() && !e.is_symlink()) {
              given.push_back(l + "/" + e.path().filename().string());
              break;
            }
          }
          if (given.size() <= static_cast<size_t>(i)) given.push_back(l + "/");
        }
      }
    }
    StrictWriter w;
    Status st = Run(given, w);
    ASSERT_TRUE(st.ok()) << "seed " << seed << ": " << st.message();
    auto paths = w.Paths();
    std::set<std::string> unique(paths.begin(), paths.end());
    EXPECT_EQ(unique.size(), paths.size()) << "seed " << seed << ": an entry appears twice";
    std::set<std::string> link_entries;
    for (const EntryMeta& m : w.Entries()) {
      if (m.type == EntryType::kSymlink) link_entries.insert(m.path);
    }
    for (const std::string& p : paths) {
      for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
        EXPECT_EQ(link_entries.count(p.substr(0, slash)), 0u)
            << "seed " << seed << ": " << p << " is below a link";
      }
    }
    for (const std::string& g : given) {
      std::string real = fs::canonical(g).string();
      for (auto it = fs::recursive_directory_iterator(real); it != fs::recursive_directory_iterator(); ++it) {
        if (!it->is_regular_file() || it->is_symlink()) continue;
        const auto* e = w.Find(it->path().string().substr(1));
        ASSERT_NE(e, nullptr) << "seed " << seed << ": given " << g << " lost " << it->path();
        EXPECT_EQ(e->content, testing::ReadFileString(it->path().string()));
      }
    }
  }
}

TEST_F(FilesOfficeTest, RepositoryAndCacheInsideTheTreeAreLeftOutByIdentityWithANote) {
  Write("tree/data.txt", "data");
  Write("tree/backups/repo/config", "repository config");
  Write("tree/.cache/kura/index.db", "cache");
  // Named through a symlink: identity, not the name, is what counts.
  ASSERT_EQ(::symlink(P("tree/backups/repo").c_str(), P("repo-link").c_str()), 0);
  auto identity = [](const std::string& path, const char* what) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return OwnDirectory{st.st_dev, st.st_ino, path, what};
  };
  StrictWriter w;
  w.own = {identity(P("repo-link"), "repository"), identity(P("tree/.cache/kura"), "cache")};
  ASSERT_TRUE(Run({P("tree")}, w).ok());
  EXPECT_NE(w.Find(R("tree/data.txt")), nullptr);
  for (const std::string& p : w.Paths()) {
    EXPECT_EQ(p.find("backups/repo"), std::string::npos) << p;
    EXPECT_EQ(p.find(".cache/kura"), std::string::npos) << p;
  }
  EXPECT_NE(w.Find(R("tree/backups")), nullptr) << "only kura's own directory is left out";
  EXPECT_TRUE(w.Noted(R("tree/backups/repo"), "kura's repository"));
  EXPECT_TRUE(w.Noted(R("tree/.cache/kura"), "kura's cache"));
}

}  // namespace
}  // namespace kura
