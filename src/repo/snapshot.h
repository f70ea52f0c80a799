// Snapshots: a plaintext part a keyless server reads (kind, time, sizes, referenced blob IDs)
// and sealed metadata (host, source, paths, file metadata, stream SHA-256s).
// Specified in docs/format.md, "Snapshots".
#pragma once

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
  std::string sha256;           // hex of the stream as read; files only
  std::vector<uint32_t> blobs;  // indexes into Snapshot::blobs, in stream order
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
  std::vector<SnapshotEntry> entries;
  std::vector<SnapshotWarning> warnings;
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
  std::vector<crypto::Hash> blobs;  // sorted, unique
};

// True for "a/b/c": relative, no empty, "." or ".." component.
bool IsSafeRelativePath(std::string_view path);

// REQUIRES: blobs sorted and unique; every entry's blob index < blobs.size().
Bytes EncodeSnapshot(const RepoKeys& keys, const SnapshotPlain& plain, const std::vector<crypto::Hash>& blobs,
                     const SnapshotMeta& meta);

// Keyless parse of the plaintext part. Errors: kCorruption, kUnsupported.
Result<Snapshot> ParseSnapshot(const std::string& id, ByteView bytes);

// Opens the sealed metadata. Errors: kCorruption (tampered or damaged, or not this repository's key).
Result<SnapshotMeta> OpenSnapshotMeta(const RepoKeys& keys, const std::string& id, ByteView bytes);

}  // namespace kura
