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
  // Opaque fingerprint of a file's state as the source saw it (size, mtime and ctime in
  // nanoseconds, inode). When it equals the fingerprint recorded for the same path in the
  // parent snapshot, the backup reuses the parent's data without reading the file.
  // Empty: unknown, the content is always read.
  std::string change_key;
  // Files: the file had holes when it was read (the stream holds them as zeros); a restore
  // recreates holes where whole blocks are zero. docs/format.md "Snapshots", "sparse".
  bool sparse = false;
};

}  // namespace kura
