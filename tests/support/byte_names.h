// Random trees whose names are bytes, not text: every byte 1..255 except '/', random
// lengths, invalid UTF-8, Shift_JIS and EUC-JP samples, control characters, and symlinks
// whose targets are random bytes. For the property tests of "names in any encoding" (the
// engine, the CLI and the agent), and a byte-exact reader to compare trees with.
//
// Header-only: kura_testsupport links only kura_util.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace kura::testing {

// A name component of 1..max bytes (1..255 but '/'), or one of the everyday samples.
inline std::string RandomNameComponent(std::mt19937_64& rng, size_t max) {
  static const std::vector<std::string> kSamples = {
      "\x83\x65\x83\x58\x83\x67.txt",  // テスト.txt, Shift_JIS
      "\x8A\xB3\x8E\xD2\x83\x5C",      // 患者ソ, Shift_JIS (0x5C '\' as a trail byte)
      "\x8C\x8E\x8E\x9F\x95\xF1",      // 月次報, Shift_JIS
      "\xA5\xC6\xA5\xB9\xA5\xC8",      // テスト, EUC-JP
      "a\x1b[31mred\rb",               // terminal controls
      "\xff\xfe",                      // never UTF-8
      "記録.txt",                      // UTF-8
      "\xE2\x80\xAEtxt.exe",           // RIGHT-TO-LEFT OVERRIDE
      "new\nline",                     // newline
  };
  if (rng() % 3 == 0) return kSamples[rng() % kSamples.size()] + std::to_string(rng() % 100);
  std::uniform_int_distribution<size_t> len(1, max);
  std::uniform_int_distribution<int> byte(1, 255);
  std::string s(len(rng), 'x');
  for (char& c : s) {
    do c = static_cast<char>(byte(rng));
    while (c == '/');
  }
  if (s == "." || s == "..") s += "x";
  return s;
}

struct TreeEntry {
  char type = 'f';   // 'f' file, 'd' directory, 'l' symlink
  std::string data;  // file content or link target
  mode_t mode = 0;
  bool operator==(const TreeEntry& o) const { return type == o.type && data == o.data && mode == o.mode; }
};

// Makes about `count` entries under `root` (which must exist): files of random bytes,
// nested directories, symlinks with random byte targets. Returns what it made.
inline std::map<std::string, TreeEntry> MakeRandomByteTree(const std::string& root, uint64_t seed,
                                                           int count) {
  std::mt19937_64 rng(seed);
  std::map<std::string, TreeEntry> made;
  std::vector<std::string> dirs = {""};
  for (int i = 0; i < count; ++i) {
    const std::string parent = dirs[rng() % dirs.size()];
    const std::string rel = (parent.empty() ? "" : parent + "/") + RandomNameComponent(rng, 40);
    if (made.count(rel)) continue;
    const std::string abs = root + "/" + rel;
    int kind = static_cast<int>(rng() % 6);
    if (kind == 0 && dirs.size() < 40) {
      if (::mkdir(abs.c_str(), 0755) != 0) continue;
      dirs.push_back(rel);
      made[rel] = {'d', "", 0755};
    } else if (kind == 1) {
      std::string target;
      int parts = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < parts; ++k)
        target += (k ? "/" : (rng() % 2 ? "/" : "")) + RandomNameComponent(rng, 30);
      if (::symlink(target.c_str(), abs.c_str()) != 0) continue;
      made[rel] = {'l', target, 0};
    } else {
      std::string data(rng() % 3000, '\0');
      for (char& c : data) c = static_cast<char>(rng());
      int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (fd < 0) continue;
      EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
      ::close(fd);
      made[rel] = {'f', data, 0644};
    }
  }
  return made;
}

// Everything under `root`, by relative path, read byte for byte without following links.
inline std::map<std::string, TreeEntry> ReadByteTree(const std::string& root, const std::string& rel = "") {
  std::map<std::string, TreeEntry> out;
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string r = rel.empty() ? name : rel + "/" + name;
    std::string abs = root + "/" + r;
    struct stat st {};
    if (::lstat(abs.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      out[r] = {'d', "", static_cast<mode_t>(st.st_mode & 07777)};
      auto sub = ReadByteTree(root, r);
      out.insert(sub.begin(), sub.end());
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(abs.c_str(), target.data(), target.size());
      target.resize(n < 0 ? 0 : static_cast<size_t>(n));
      out[r] = {'l', target, 0};
    } else {
      std::string data;
      int fd = ::open(abs.c_str(), O_RDONLY);
      char buf[8192];
      ssize_t n;
      while (fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
      if (fd >= 0) ::close(fd);
      out[r] = {'f', data, static_cast<mode_t>(st.st_mode & 07777)};
    }
  }
  ::closedir(d);
  return out;
}

}  // namespace kura::testing
