#include "support/memory_snapshot.h"

#include <algorithm>

namespace kura::testing {

namespace {

class StringReader : public ByteReader {
 public:
  StringReader(std::string data, bool corrupt) : data_(std::move(data)), corrupt_(corrupt) {
    if (corrupt_ && !data_.empty()) data_[data_.size() / 2] ^= 0x01;
  }
  Result<size_t> Read(uint8_t* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (k == 0 && corrupt_) return Status::Corruption("memory snapshot: SHA-256 mismatch (test corruption)");
    std::copy_n(data_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  bool corrupt_;
};

}  // namespace

Status MemorySnapshot::AddFile(const EntryMeta& meta, ByteReader& content) {
  Entry e{meta, {}};
  uint8_t buf[1 << 16];
  for (;;) {
    KURA_ASSIGN_OR_RETURN(size_t n, content.Read(buf, sizeof buf));
    if (n == 0) break;
    e.content.append(reinterpret_cast<const char*>(buf), n);
    if (fail_after_ && e.content.size() >= *fail_after_) {
      fail_after_.reset();
      return Status::IOError("memory snapshot: injected write failure");
    }
  }
  entries_.push_back(std::move(e));
  return Status::Ok();
}

Status MemorySnapshot::AddEntry(const EntryMeta& meta) {
  entries_.push_back({meta, {}});
  return Status::Ok();
}

Status MemorySnapshot::Warn(const std::string& path, const Status& problem) {
  warnings_.emplace_back(path, problem);
  return Status::Ok();
}

std::vector<EntryMeta> MemorySnapshot::Entries() const {
  std::vector<EntryMeta> out;
  for (const auto& e : entries_) out.push_back(e.meta);
  return out;
}

Result<std::unique_ptr<ByteReader>> MemorySnapshot::Open(const std::string& path) {
  const Entry* e = Find(path);
  if (e == nullptr || e->meta.type != EntryType::kFile)
    return Status::NotFound("memory snapshot: no file " + path);
  std::unique_ptr<ByteReader> r = std::make_unique<StringReader>(e->content, corrupt_.count(path) > 0);
  return r;
}

const MemorySnapshot::Entry* MemorySnapshot::Find(const std::string& path) const {
  for (const auto& e : entries_) {
    if (e.meta.path == path) return &e;
  }
  return nullptr;
}

std::vector<std::string> MemorySnapshot::Paths() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.meta.path);
  return out;
}

void MemorySnapshot::Corrupt(const std::string& path) {
  corrupt_[path] = true;
}

}  // namespace kura::testing
