// Snapshots: a plaintext part a keyless server reads (kind, time, sizes, referenced blob IDs)
// and sealed metadata (host, source, paths, file metadata, stream SHA-256s).
// Specified in docs/format.md, "Snapshots".
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypto.h"
#include "kura/entry.h"
#include "kura/status.h"
#include "repo/keys.h"
#include "repo/snapshot_kind.h"

namespace kura {

struct SnapshotEntry {
  EntryMeta meta;
  uint64_t size = 0;
  std::string sha256;               // hex of the stream as read; files only
  std::vector<crypto::Hash> blobs;  // the file's blob IDs, in stream order
};

struct SnapshotWarning {
  std::string path;
  std::string message;
};

struct SnapshotMeta {
  std::string host;
  std::string kura_version;
  std::string source_kind;
  std::string source_name;
  std::vector<std::string> tags;
  std::vector<SnapshotWarning> warnings;
  // Version 3: the entries live in page blobs (docs/format.md, "Entry pages"), listed here
  // in order; read them through OpenEntries (repo/entry_pages.h). Empty for versions 1 and 2.
  std::vector<crypto::Hash> pages;
  uint64_t entry_count = 0;
  uint32_t version = 0;  // of the snapshot object
  // Versions 1 and 2 hold every entry here. For version 3, filled only by
  // Repository::LoadMeta (which reads all pages: for tests and small snapshots).
  std::vector<SnapshotEntry> entries;
};

struct SnapshotPlain {
  std::string repository;
  SnapshotKind kind = SnapshotKind::kDaily;
  int64_t time = 0;     // client time, Unix seconds
  int64_t time_ms = 0;  // the same in milliseconds (orders snapshots made within one second)
  uint64_t bytes = 0;
  uint64_t entries = 0;
  uint64_t stored_new = 0;  // bytes this snapshot added to the repository

  // Milliseconds for ordering; falls back to `time` when time_ms is unset.
  int64_t OrderKey() const { return time_ms != 0 ? time_ms : time * 1000; }
};

struct Snapshot {
  std::string id;  // object name
  SnapshotPlain plain;
  std::vector<crypto::Hash> blobs;  // sorted, unique; empty when listed without blobs
  uint64_t blob_count = 0;          // the object's referenced blob count, even when not loaded
};

// True for "a/b/c": relative, no empty, "." or ".." component.
bool IsSafeRelativePath(std::string_view path);

// Version 3 (what kura writes): `meta.entries` is ignored; `meta.pages` lists the entry
// pages, which must be stored blobs and also appear in `blobs`.
// REQUIRES: blobs sorted and unique.
Bytes EncodeSnapshot(const RepoKeys& keys, const SnapshotPlain& plain, const std::vector<crypto::Hash>& blobs,
                     const SnapshotMeta& meta);
// The same from a deque (a backup's list of a million IDs, built without doubling copies).
Bytes EncodeSnapshot(const RepoKeys& keys, const SnapshotPlain& plain, const std::deque<crypto::Hash>& blobs,
                     const SnapshotMeta& meta);
// Versions 1 and 2 (entries inside the sealed metadata), kept so tests can make the
// snapshots older kura wrote. Version 1 unless a text field needs `_b64`.
// REQUIRES: blobs sorted and unique; every entry's blob IDs are in `blobs`.
Bytes EncodeSnapshotV2(const RepoKeys& keys, const SnapshotPlain& plain,
                       const std::vector<crypto::Hash>& blobs, const SnapshotMeta& meta);

// Keyless parse of the plaintext part. `with_blobs` false leaves Snapshot::blobs empty
// (blob_count is set). Errors: kCorruption, kUnsupported.
Result<Snapshot> ParseSnapshot(const std::string& id, ByteView bytes, bool with_blobs = true);

// The referenced blob IDs of a snapshot object, 32 bytes each, in place (no copy: a
// million-blob list is 32 MB). Errors: as ParseSnapshot.
Result<ByteView> SnapshotBlobIds(const std::string& id, ByteView bytes);

// Opens the sealed metadata (for version 3: without the entries, which are in pages).
// Errors: kCorruption (tampered or damaged, or not this repository's key).
Result<SnapshotMeta> OpenSnapshotMeta(const RepoKeys& keys, const std::string& id, ByteView bytes);

// One entry as a line of an entry page (docs/format.md, "Entry pages"), without the
// newline. A file with more than kMaxBlobsPerLine blobs continues on `{"more": [...]}`
// lines, appended to `out` as well.
inline constexpr size_t kMaxBlobsPerLine = 16384;
void AppendEntryLines(const SnapshotEntry& entry, std::string& out);
// Parses an entry line. `*more` is set (and `entry` untouched but for its blobs, which
// are appended) when the line is a continuation. Errors: kCorruption naming `where`.
Status ParseEntryLine(std::string_view line, SnapshotEntry* entry, bool* more, std::string_view where);

}  // namespace kura
