#include "support/hostile_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>

#include "support/repo_testing.h"

namespace kura::testing {

namespace {

const std::vector<std::string> kNames = {"a", "b", "tmp", "x", "カルテ", "sub dir"};

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string Parent(const std::string& p) {
  auto pos = p.find_last_of('/');
  return pos == std::string::npos ? "" : p.substr(0, pos);
}

std::string Base(const std::string& p) {
  return p.substr(p.find_last_of('/') + 1);
}

void SetTimes(const std::string& path, int64_t mtime) {
  struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW) != 0) ADD_FAILURE() << "utimensat " << path;
}

void Must(bool ok, const std::string& what) {
  if (!ok) ADD_FAILURE() << what << ": " << std::strerror(errno);
}

void PutFile(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
  Must(fd >= 0, "create " + path);
  if (fd < 0) return;
  Must(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()), "write " + path);
  ::close(fd);
}

}  // namespace

std::vector<TreeNode> RandomSnapshotTree(uint64_t seed, const std::string& sentinel, size_t max_entries) {
  std::mt19937_64 rng(seed);
  std::vector<TreeNode> out;
  const uint32_t dir_modes[] = {0755, 0700, 0750, 01777, 0711, 02755};
  const uint32_t file_modes[] = {0644, 0600, 0755, 0400};
  const std::vector<std::string> targets = {sentinel,      sentinel + "/a", "../../..",        "../x", "a/b",
                                            "/etc/passwd", "../tmp",        "カルテ/../../..", "/"};
  std::function<void(const std::string&, int)> gen = [&](const std::string& dir, int depth) {
    std::vector<std::string> names = kNames;
    std::shuffle(names.begin(), names.end(), rng);
    size_t k = 1 + rng() % 4;
    for (size_t i = 0; i < k && out.size() < max_entries; ++i) {
      TreeNode n;
      n.path = Join(dir, names[i]);
      n.mtime = 1600000000 + static_cast<int64_t>(rng() % 150000000);
      unsigned r = rng() % 10;
      if (depth < 3 && r < 4) {
        n.type = EntryType::kDirectory;
        n.mode = dir_modes[rng() % 6];
        out.push_back(n);
        gen(n.path, depth + 1);
      } else if (r < 8) {
        n.type = EntryType::kFile;
        n.mode = file_modes[rng() % 4];
        size_t sizes[] = {0, 1 + rng() % 5000, 70000 + rng() % 1000};
        n.data = SeededBytes(rng(), sizes[rng() % 3]);
        out.push_back(n);
      } else {
        n.type = EntryType::kSymlink;
        n.mode = 0777;
        n.target = targets[rng() % targets.size()];
        out.push_back(n);
      }
    }
  };
  gen("", 0);
  return out;
}

void MakeSentinel(const std::string& sentinel) {
  Must(::mkdir(sentinel.c_str(), 0755) == 0 || errno == EEXIST, "mkdir " + sentinel);
  for (const std::string& name : kNames) {
    std::string d = sentinel + "/" + name;
    Must(::mkdir(d.c_str(), 0750) == 0, "mkdir " + d);
    PutFile(d + "/precious", "outside the target: " + name);
    PutFile(sentinel + "/" + name + ".txt", "outside file " + name);
    SetTimes(d + "/precious", 1500000000);
    SetTimes(d, 1500000001);
  }
  SetTimes(sentinel, 1500000002);
}

void PlantHostileTarget(uint64_t seed, const std::vector<TreeNode>& nodes, const std::string& target,
                        const std::string& sentinel) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  Must(::mkdir(target.c_str(), 0755) == 0, "mkdir " + target);
  std::map<std::string, char> planted{{"", 'd'}};  // 'd' dir, 'f' file, 'l' link
  std::vector<std::pair<std::string, std::pair<uint32_t, int64_t>>> dirs;
  const uint32_t odd_modes[] = {0711, 0750, 01777, 0700, 0755, 02775};
  auto link_to_sentinel = [&](const std::string& rel, const std::string& below) {
    std::string abs = target + "/" + rel;
    std::string to = sentinel + below;
    if (rng() % 2) {  // relative, climbing out of the target
      to = std::filesystem::path(sentinel + below)
               .lexically_relative(std::filesystem::path(abs).parent_path())
               .string();
    }
    Must(::symlink(to.c_str(), abs.c_str()) == 0, "symlink " + abs);
    planted[rel] = 'l';
  };
  for (const TreeNode& n : nodes) {
    auto it = planted.find(Parent(n.path));
    if (it == planted.end() || it->second != 'd') continue;  // nothing can be planted beneath
    std::string abs = target + "/" + n.path;
    unsigned r = rng() % 100;
    if (n.type == EntryType::kDirectory) {
      if (r < 20) {
        link_to_sentinel(n.path, "/" + Base(n.path));
      } else if (r < 30) {
        PutFile(abs, "a user file where the snapshot has a directory");
        planted[n.path] = 'f';
      } else if (r < 60) {
        Must(::mkdir(abs.c_str(), 0755) == 0, "mkdir " + abs);
        planted[n.path] = 'd';
        dirs.push_back({n.path, {odd_modes[rng() % 6], 1400000000 + static_cast<int64_t>(rng() % 1000000)}});
      }
    } else {
      if (r < 15) {
        PutFile(abs, "the user's own " + n.path);
        planted[n.path] = 'f';
      } else if (r < 27) {
        link_to_sentinel(n.path, "/" + Base(n.path) + ".txt");
      } else if (r < 35) {
        Must(::mkdir(abs.c_str(), 0755) == 0, "mkdir " + abs);
        PutFile(abs + "/keep", "inside a directory in the way");
        planted[n.path] = 'd';
        dirs.push_back({n.path, {0755, 1400000000 + static_cast<int64_t>(rng() % 1000000)}});
      }
      if (rng() % 100 < 35) PutFile(abs + ".kura-restore", "a user file named like kura's temporary file");
      if (rng() % 100 < 10) {
        std::string tmp = target + "/" + Join(Parent(n.path), ".kura-restore-0123456789abcdef");
        if (::access(tmp.c_str(), F_OK) != 0) PutFile(tmp, "also not kura's");
      }
    }
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    std::string abs = target + "/" + it->first;
    Must(::chmod(abs.c_str(), it->second.first) == 0, "chmod " + abs);
    SetTimes(abs, it->second.second);
  }
  SetTimes(target, 1450000000);
}

std::map<std::string, std::string> Describe(const std::string& root) {
  std::map<std::string, std::string> out;
  std::function<void(const std::string&, const std::string&)> walk = [&](const std::string& abs,
                                                                         const std::string& rel) {
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) {
      out[rel] = "unreadable";
      return;
    }
    std::string d =
        fmt::format("mode={:o} mtime={}.{:09} ", st.st_mode & 07777, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (S_ISLNK(st.st_mode)) {
      std::string t(4096, '\0');
      ssize_t n = ::readlink(abs.c_str(), t.data(), t.size());
      t.resize(n > 0 ? static_cast<size_t>(n) : 0);
      out[rel] = "link -> " + t;  // a link's own mode and time carry no meaning
      return;
    }
    if (S_ISREG(st.st_mode)) {
      out[rel] = "file " + d + ReadFileString(abs);
      return;
    }
    if (!S_ISDIR(st.st_mode)) {
      out[rel] = "other " + d;
      return;
    }
    out[rel] = "dir " + d;
    DIR* dir = ::opendir(abs.c_str());
    if (dir == nullptr) return;
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) walk(abs + "/" + name, Join(rel, name));
  };
  walk(root, "");
  return out;
}

void WriteTree(const std::vector<TreeNode>& nodes, const std::string& root) {
  Must(::mkdir(root.c_str(), 0755) == 0 || errno == EEXIST, "mkdir " + root);
  for (const TreeNode& n : nodes) {
    std::string abs = root + "/" + n.path;
    switch (n.type) {
      case EntryType::kDirectory:
        Must(::mkdir(abs.c_str(), 0700) == 0, "mkdir " + abs);
        break;
      case EntryType::kFile:
        PutFile(abs, std::string(AsString(n.data)));
        Must(::chmod(abs.c_str(), n.mode) == 0, "chmod " + abs);
        SetTimes(abs, n.mtime);
        break;
      case EntryType::kSymlink:
        Must(::symlink(n.target.c_str(), abs.c_str()) == 0, "symlink " + abs);
        SetTimes(abs, n.mtime);
        break;
    }
  }
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    if (it->type != EntryType::kDirectory) continue;
    std::string abs = root + "/" + it->path;
    Must(::chmod(abs.c_str(), it->mode) == 0, "chmod " + abs);
    SetTimes(abs, it->mtime);
  }
}

void CheckHostileRestore(const std::string& label, const std::vector<TreeNode>& nodes,
                         const std::map<std::string, std::string>& before,
                         const std::map<std::string, std::string>& after,
                         const std::map<std::string, std::string>& sentinel_before,
                         const std::map<std::string, std::string>& sentinel_after,
                         const std::set<std::string>& verified, const std::vector<ReportedProblem>& problems,
                         bool overwrite) {
  SCOPED_TRACE(label + (overwrite ? " (--overwrite)" : " (no --overwrite)"));
  for (const auto& [p, d] : sentinel_before) {
    auto it = sentinel_after.find(p);
    EXPECT_TRUE(it != sentinel_after.end() && it->second == d) << "outside the target, " << p << " changed";
  }
  for (const auto& [p, d] : sentinel_after) {
    EXPECT_TRUE(sentinel_before.count(p)) << "outside the target, " << p << " was created";
  }
  for (const ReportedProblem& p : problems) EXPECT_EQ(p.kind, "conflict") << p.path;
  auto reported = [&](const std::string& path) {
    return std::any_of(problems.begin(), problems.end(), [&](const ReportedProblem& p) {
      return path == p.path || (path.size() > p.path.size() && path.compare(0, p.path.size(), p.path) == 0 &&
                                path[p.path.size()] == '/');
    });
  };
  auto kind = [&](const std::string& p) -> char {
    auto it = before.find(p);
    if (it == before.end()) return 0;
    return it->second[0];  // 'd'ir, 'f'ile, 'l'ink
  };
  auto ancestor_in_way = [&](const std::string& path) {
    for (std::string a = Parent(path); !a.empty(); a = Parent(a)) {
      if (kind(a) != 0 && kind(a) != 'd') return true;
    }
    return false;
  };
  auto meta = [](const TreeNode& n) { return fmt::format("mode={:o} mtime={}.{:09} ", n.mode, n.mtime, 0); };
  std::set<std::string> snapshot_paths;
  for (const TreeNode& n : nodes) {
    snapshot_paths.insert(n.path);
    auto got = after.find(n.path);
    std::string now = got == after.end() ? "missing" : got->second;
    bool in_way = n.type == EntryType::kDirectory
                      ? !overwrite && (ancestor_in_way(n.path) || (kind(n.path) != 0 && kind(n.path) != 'd'))
                      : (overwrite ? kind(n.path) == 'd' : (kind(n.path) != 0 || ancestor_in_way(n.path)));
    if (in_way) {
      EXPECT_TRUE(reported(n.path)) << n.path << " was in the way but is not reported";
      EXPECT_FALSE(verified.count(n.path)) << n.path;
      continue;
    }
    switch (n.type) {
      case EntryType::kDirectory:
        if (!n.check_meta) {
          EXPECT_EQ(now.substr(0, 4), "dir ") << n.path;
        } else if (overwrite || kind(n.path) == 0) {
          EXPECT_EQ(now, "dir " + meta(n)) << n.path;
        } else {
          EXPECT_EQ(now, before.at(n.path)) << n.path << ": an existing directory kept its mode and times";
        }
        break;
      case EntryType::kFile:
        EXPECT_TRUE(verified.count(n.path)) << n.path << " was not restored";
        EXPECT_EQ(now, "file " + meta(n) + std::string(AsString(n.data))) << n.path;
        break;
      case EntryType::kSymlink:
        EXPECT_EQ(now, "link -> " + n.target) << n.path;
        break;
    }
  }
  for (const auto& [p, d] : before) {
    if (overwrite && snapshot_paths.count(p) && d[0] != 'd') continue;  // replaced, as asked
    if (overwrite && snapshot_paths.count(p)) {
      auto n = std::find_if(nodes.begin(), nodes.end(), [&](const TreeNode& t) { return t.path == p; });
      if (n->type == EntryType::kDirectory) continue;  // given the snapshot's metadata, checked above
    }
    auto it = after.find(p);
    EXPECT_TRUE(it != after.end() && it->second == d)
        << p << " was in the target before and changed:\n  before: " << d.substr(0, 120)
        << "\n  after:  " << (it == after.end() ? "missing" : it->second.substr(0, 120));
  }
  for (const auto& [p, d] : after) {
    if (Base(p).rfind(".kura-restore-", 0) == 0) {
      EXPECT_TRUE(before.count(p)) << "temporary file left: " << p;
    }
  }
}

}  // namespace kura::testing
