// Checks every stream source shares (kura backup --stdin / --from-command, the command
// source): the stream's name must be a usable entry path, and an empty stream is refused
// unless allowed, because an empty dump is nearly always a tool that failed inside a pipe
// (`pg_dump db | kura backup --stdin` when pg_dump cannot connect). See docs/sources.md.
#pragma once

#include <cstdint>
#include <string>

#include "kura/status.h"
#include "sources/source.h"
#include "util/io.h"

namespace kura {

// OK when `name` can be stored and read back as a stream: non-empty, relative, no ".", ".."
// or empty component (so no "a//b", no trailing '/'), no control characters, at most 4096
// bytes. Errors: kInvalidArgument naming the stream and what is wrong with it; `flag` is
// the option or field the user set ("--stdin-name", "stream"), for the message.
Status ValidateStreamName(const std::string& name, const std::string& flag);

// Counts the bytes read through it. Thread-compatible.
class CountingReader : public ByteReader {
 public:
  explicit CountingReader(ByteReader& inner) : inner_(inner) {}
  Result<size_t> Read(uint8_t* buf, size_t n) override {
    auto r = inner_.Read(buf, n);
    if (r.ok()) count_ += *r;
    return r;
  }
  uint64_t count() const { return count_; }

 private:
  ByteReader& inner_;
  uint64_t count_ = 0;
};

// The kSourceFailed refusal of an empty stream `name`; `allow` names the way to accept it
// ("--allow-empty", "allow_empty = true").
Status EmptyStreamRefused(const std::string& name, const std::string& allow);

// A SnapshotWriter that forwards to `inner` and counts the bytes of every file added.
class CountingWriter : public SnapshotWriter {
 public:
  explicit CountingWriter(SnapshotWriter& inner) : inner_(inner) {}
  Status AddFile(const EntryMeta& meta, ByteReader& content) override {
    CountingReader counted(content);
    Status st = inner_.AddFile(meta, counted);
    bytes_ += counted.count();
    return st;
  }
  Status AddEntry(const EntryMeta& meta) override { return inner_.AddEntry(meta); }
  Status Warn(const std::string& path, const Status& problem) override { return inner_.Warn(path, problem); }
  Status Note(const std::string& path, const Status& problem) override { return inner_.Note(path, problem); }
  std::vector<OwnDirectory> OwnDirectories() const override { return inner_.OwnDirectories(); }
  uint64_t bytes() const { return bytes_; }

 private:
  SnapshotWriter& inner_;
  uint64_t bytes_ = 0;
};

}  // namespace kura
