// What a snapshot records about one file, directory or symlink.
#pragma once

#include <cstdint>
#include <string>

namespace kura {

enum class EntryType { kFile, kDirectory, kSymlink };

struct EntryMeta {
  std::string path;  // relative, '/'-separated, no "..", no leading '/'
  EntryType type = EntryType::kFile;
  uint32_t mode = 0644;  // permission bits
  int64_t mtime = 0;     // seconds since epoch
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string symlink_target;  // for kSymlink
};

}  // namespace kura
