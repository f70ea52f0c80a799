// Entry pages (snapshot version 3, docs/format.md "Entry pages"): a snapshot's entries as
// JSON lines cut into pages at keyed, content-defined points, each page stored as a blob.
// Writing and reading hold one page at a time, so memory does not grow with the number of
// files; an unchanged part of a tree gives the same pages night after night, which the
// blob dedup then stores once.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "kura/status.h"
#include "repo/keys.h"
#include "repo/snapshot.h"

namespace kura {

// Collects entries into pages. Not thread-safe.
class EntryPageWriter {
 public:
  explicit EntryPageWriter(const RepoKeys& keys) : keys_(keys) {}

  void Add(const SnapshotEntry& entry);
  // A page that is complete, or nullopt. `Finish` completes the last one.
  std::optional<std::string> TakeReady();
  void Finish();
  uint64_t entries() const { return entries_; }

 private:
  const RepoKeys& keys_;
  std::string current_;
  std::deque<std::string> ready_;
  uint64_t entries_ = 0;
};

// Reads a snapshot's entries in the order they were written.
class EntryReader {
 public:
  virtual ~EntryReader() = default;
  // Fills `out` with the next entry; false after the last. Errors: kCorruption (a damaged
  // page, or fewer entries than the snapshot records), the blob reader's errors.
  virtual Result<bool> Next(SnapshotEntry* out) = 0;
};

// Reads and decodes one blob (Repository::ReadBlob).
using BlobFetcher = std::function<Result<Bytes>(const crypto::Hash&)>;

// Over `meta`: its pages (version 3) through `fetch`, or its own entries (versions 1, 2),
// which are moved out of `meta`.
std::unique_ptr<EntryReader> MakeEntryReader(SnapshotMeta& meta, BlobFetcher fetch, std::string snapshot_id);

}  // namespace kura
