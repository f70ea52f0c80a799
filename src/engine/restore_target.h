// The directory a restore writes into. Every path is resolved beneath it without following a
// symbolic link (util/beneath.h), and every file, directory and link is created relative to
// an open directory, so nothing a restore does reaches outside the target, whatever links
// exist in it or appear in it while the restore runs. README, "Restoring".
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "kura/entry.h"
#include "kura/status.h"
#include "util/beneath.h"

namespace kura {

class RestoreTarget {
 public:
  // Opens `dir` (made, mode 0700, when missing; the path the user gave may itself pass
  // through links, it is theirs). `overwrite`: existing files and links may be replaced.
  static Result<std::unique_ptr<RestoreTarget>> Open(const std::string& dir, bool overwrite);

  // The directory `rel` beneath the target, made where missing (mode 0700 until its metadata
  // is applied). A component that exists but is no directory (a link, a file) is never
  // followed: with overwrite it is replaced by a directory; without, the result is
  // kAlreadyExists and `*blocked` is that component's path. The fd is owned by the target and
  // stays valid until the next call.
  Result<int> Dir(const std::string& rel, std::string* blocked);

  // Whether this restore made the directory `rel` (then it gets the snapshot's metadata even
  // without overwrite; a directory that was already there keeps its own).
  bool Created(const std::string& rel) const { return created_.count(rel) > 0; }

  // Owner (as root), mode and times of the directory `rel`, set through its fd.
  Status ApplyDirMeta(const std::string& rel, const EntryMeta& meta);

  // Writes a new file `name` in `dir` through `write` (given the fd of an O_EXCL temporary
  // file with a random name), sets its metadata and renames it into place; without overwrite
  // an existing `name` is never replaced (kAlreadyExists), with overwrite a file or link is
  // (a directory never is). On any failure the temporary file is removed.
  template <typename WriteFn>
  Status PlaceFile(int dir, const std::string& rel, const EntryMeta& meta, WriteFn&& write);

  // Creates the symbolic link `rel` (in `dir`) the same way: a temporary link, its owner and
  // times, then a rename.
  Status PlaceSymlink(int dir, const std::string& rel, const EntryMeta& meta);

  // Puts back the times of every directory that was already in the target and that this
  // restore wrote into (adding a name changes a directory's mtime), except those in
  // `except` (given the snapshot's metadata). Best effort.
  void RestoreKeptTimes(const std::set<std::string>& except);

  // The path for messages: "<target>/<rel>".
  std::string Show(const std::string& rel) const { return path_ + "/" + rel; }
  bool overwrite() const { return overwrite_; }

 private:
  RestoreTarget(std::string path, UniqueFd root, bool overwrite)
      : path_(std::move(path)), root_(std::move(root)), overwrite_(overwrite) {}

  // kAlreadyExists when `name` in `dir` may not be replaced.
  Status CheckReplaceable(int dir, const std::string& name, const std::string& rel) const;
  // An empty O_EXCL file with a random name in `dir`; `*tmp` gets its name.
  Result<int> CreateTemp(int dir, const std::string& rel, std::string* tmp) const;
  Status SetFileMeta(int fd, const EntryMeta& meta, const std::string& rel) const;
  Status Rename(int dir, const std::string& tmp, const std::string& name, const std::string& rel) const;
  // Notes the times of the existing directory `rel` (open at `fd`) before anything is written into it.
  void Remember(int fd, const std::string& rel);

  std::string path_;
  UniqueFd root_;
  bool overwrite_;
  std::string cached_rel_;
  UniqueFd cached_;
  std::set<std::string> created_;
  std::map<std::string, std::array<struct timespec, 2>> kept_times_;
};

std::string BaseNameOf(const std::string& rel);
std::string ParentOf(const std::string& rel);  // "" for a top-level name

template <typename WriteFn>
Status RestoreTarget::PlaceFile(int dir, const std::string& rel, const EntryMeta& meta, WriteFn&& write) {
  const std::string name = BaseNameOf(rel);
  KURA_RETURN_IF_ERROR(CheckReplaceable(dir, name, rel));
  std::string tmp;
  KURA_ASSIGN_OR_RETURN(int fd, CreateTemp(dir, rel, &tmp));
  UniqueFd owned(fd);
  Status st = write(fd);
  if (st.ok()) st = SetFileMeta(fd, meta, rel);
  owned.reset();
  if (st.ok()) st = Rename(dir, tmp, name, rel);
  if (!st.ok()) ::unlinkat(dir, tmp.c_str(), 0);  // a file that failed is not left behind
  return st;
}

}  // namespace kura
