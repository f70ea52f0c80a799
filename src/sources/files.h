// Files source: walks directory trees without following symbolic links met on the way and records
// directories, symlinks and regular files with mode, mtime, uid and gid.
// See docs/sources.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sources/source.h"

namespace kura {

struct FilesSourceOptions {
  // Absolute paths of files or directories. REQUIRES: non-empty; each must exist (a missing
  // one fails the backup). Paths inside another listed path (after resolving symbolic
  // links, below) are walked once.
  std::vector<std::string> paths;
  // fnmatch(3) glob patterns. A pattern with a '/' is matched against the whole absolute
  // path ("/var/lib/app/cache/*"); one without is matched against the entry's name
  // ("*.tmp", ".cache"). An excluded directory is skipped with everything under it.
  std::vector<std::string> exclude;
  // Do not descend into directories on another file system than their top-level path
  // (the directory itself is still recorded). Default: false.
  bool one_file_system = false;
};

// Entry paths are the real absolute paths without the leading '/': "/srv/data/a.txt" is
// stored as "srv/data/a.txt"; the directories above a listed path ("srv", "srv/data") are
// recorded too so a restore can recreate their owners and modes.
// Symbolic links: the directory components of a listed path are resolved ("/dir/link/sub"
// is stored where it really is, and "dir/link" as the link it is); its last component only
// when the path ends with '/' ("/dir/link/" backs up the directory the link points to,
// "/dir/link" the link). Links met during the walk are stored as links, never followed.
// Through SnapshotWriter::Note (a warning, never fatal): an entry that vanished during the
// walk, a FIFO, socket or device, a file that still changed when read a second time (stored
// as read, never past the size it had when opened), and the writer's OwnDirectories (not
// descended into). Through SnapshotWriter::Warn (fatal unless skip_unreadable): what the
// OS refuses to read (permission denied, I/O error on a directory). A read error inside
// a file aborts the snapshot. Thread-compatible.
std::unique_ptr<Source> NewFilesSource(FilesSourceOptions options);

// True when `abs_path` (whose last component is `name`) matches one of `patterns` under
// the rules above. Exposed for tests.
bool IsExcluded(const std::vector<std::string>& patterns, const std::string& abs_path,
                const std::string& name);

}  // namespace kura
