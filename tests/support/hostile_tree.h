// Random snapshot trees and random hostile restore targets, for the property tests of
// restore (issue 6 §2): a target that already holds symlinks at directory components
// pointing outside to a sentinel directory, user files named like kura's temporary files,
// files where the snapshot has directories and directories with odd modes.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kura/entry.h"
#include "util/bytes.h"

namespace kura::testing {

struct TreeNode {
  std::string path;  // relative, '/'-separated
  EntryType type = EntryType::kFile;
  Bytes data;          // files
  std::string target;  // symlinks
  uint32_t mode = 0644;
  int64_t mtime = 0;
  // Directories: compare the restored mode and times (off for the ancestors of a real backup
  // path, such as /tmp, whose times move while the test runs).
  bool check_meta = true;
};

// Up to `max_entries` nodes in pre-order (a directory before what is in it), with names that
// collide with what PlantHostileTarget plants, and symlink targets that are absolute, point
// at `sentinel`, or climb with "../".
std::vector<TreeNode> RandomSnapshotTree(uint64_t seed, const std::string& sentinel, size_t max_entries = 40);

// A directory outside the target with files and subdirectories named like the snapshot's.
void MakeSentinel(const std::string& sentinel);

// Plants, beneath `target` (made here), a random pre-existing tree along the paths of
// `nodes`: symlinks to `sentinel` (absolute and relative) at directory components and at
// file names, user files where the snapshot has files or directories, "<name>.kura-restore"
// and ".kura-restore-..." user files, directories with odd modes and old times.
void PlantHostileTarget(uint64_t seed, const std::vector<TreeNode>& nodes, const std::string& target,
                        const std::string& sentinel);

// Everything under `root`, not following links: "" is `root` itself. Each value gives the
// type, permission bits, mtime in nanoseconds and the content or link target.
std::map<std::string, std::string> Describe(const std::string& root);

// Writes `nodes` under `root` (for a backup through the real files source), then sets the
// directories' modes and times deepest first.
void WriteTree(const std::vector<TreeNode>& nodes, const std::string& root);

// One path a restore reported as not restored.
struct ReportedProblem {
  std::string path;
  std::string kind;  // "damaged" | "conflict" | "failed"
};

// Checks the whole contract of a restore of `nodes` into a target whose state before was
// `target_before` (Describe), with (`overwrite`) or without --overwrite: nothing outside
// (`sentinel_before` vs `sentinel_after`) changed; without overwrite nothing that was there
// changed, with overwrite only what the snapshot names changed; every file and link that had
// nothing in its way was restored with its bytes, and everything else is a reported conflict;
// no temporary file is left. Reports failures through gtest with `label`.
void CheckHostileRestore(const std::string& label, const std::vector<TreeNode>& nodes,
                         const std::map<std::string, std::string>& target_before,
                         const std::map<std::string, std::string>& target_after,
                         const std::map<std::string, std::string>& sentinel_before,
                         const std::map<std::string, std::string>& sentinel_after,
                         const std::set<std::string>& verified, const std::vector<ReportedProblem>& problems,
                         bool overwrite);

}  // namespace kura::testing
