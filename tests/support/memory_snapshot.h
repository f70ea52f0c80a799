// An in-memory SnapshotWriter and SnapshotReader for source tests: keeps every entry, its
// content and the warnings, and reads them back for restore tests. Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sources/source.h"
#include "util/bytes.h"

namespace kura::testing {

class MemorySnapshot : public SnapshotWriter, public SnapshotReader {
 public:
  struct Entry {
    EntryMeta meta;
    std::string content;  // file entries only
  };

  // SnapshotWriter. AddFile reads `content` to EOF; an error from it is returned and the
  // entry is not recorded (as the real engine discards the snapshot).
  Status AddFile(const EntryMeta& meta, ByteReader& content) override;
  Status AddEntry(const EntryMeta& meta) override;
  Status Warn(const std::string& path, const Status& problem) override;

  // SnapshotReader.
  std::vector<EntryMeta> Entries() const override;
  Result<std::unique_ptr<ByteReader>> Open(const std::string& path) override;

  // Test helpers.
  const Entry* Find(const std::string& path) const;
  std::vector<std::string> Paths() const;
  const std::vector<std::pair<std::string, Status>>& warnings() const { return warnings_; }
  // Makes the content of `path` read back with a flipped byte and a kCorruption at EOF.
  void Corrupt(const std::string& path);
  // Makes AddFile fail with kIOError after `bytes` bytes of the next file (simulates a full
  // disk in the engine); the source must then stop its tool.
  void FailAfter(size_t bytes) { fail_after_ = bytes; }

 private:
  std::vector<Entry> entries_;
  std::map<std::string, bool> corrupt_;
  std::vector<std::pair<std::string, Status>> warnings_;
  std::optional<size_t> fail_after_;
};

}  // namespace kura::testing
