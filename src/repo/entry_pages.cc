#include "repo/entry_pages.h"

#include <utility>
#include <vector>

#include "repo/format.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura {

void EntryPageWriter::Add(const SnapshotEntry& entry) {
  size_t line_start = current_.size();
  AppendEntryLines(entry, current_);
  ++entries_;
  std::string_view line(current_.data() + line_start, current_.size() - line_start);
  uint64_t h = crypto::ShortHash(keys_.pages, AsBytes(line));
  bool cut = (h & ((uint64_t{1} << format::kPageBits) - 1)) == 0;
  if ((current_.size() >= format::kPageMin && cut) || current_.size() >= format::kPageMax) {
    ready_.push_back(std::move(current_));
    current_.clear();
  }
}

std::optional<std::string> EntryPageWriter::TakeReady() {
  if (ready_.empty()) return std::nullopt;
  std::string page = std::move(ready_.front());
  ready_.pop_front();
  return page;
}

void EntryPageWriter::Finish() {
  if (current_.empty()) return;
  ready_.push_back(std::move(current_));
  current_.clear();
}

namespace {

class VectorEntryReader : public EntryReader {
 public:
  explicit VectorEntryReader(std::vector<SnapshotEntry> entries) : entries_(std::move(entries)) {}
  Result<bool> Next(SnapshotEntry* out) override {
    if (next_ == entries_.size()) return false;
    *out = std::move(entries_[next_++]);
    return true;
  }

 private:
  std::vector<SnapshotEntry> entries_;
  size_t next_ = 0;
};

class PageEntryReader : public EntryReader {
 public:
  PageEntryReader(std::vector<crypto::Hash> pages, uint64_t count, BlobFetcher fetch, std::string id)
      : pages_(std::move(pages)), count_(count), fetch_(std::move(fetch)), id_(std::move(id)) {}

  Result<bool> Next(SnapshotEntry* out) override {
    if (!peeked_) {
      std::string_view line;
      KURA_ASSIGN_OR_RETURN(bool got, ReadLine(&line));
      if (!got) return End();
      bool more = false;
      KURA_RETURN_IF_ERROR(ParseEntryLine(line, &peek_, &more, Where()));
      if (more) return Damaged("continuation line without an entry");
    }
    peeked_ = false;
    *out = std::move(peek_);
    // Continuation lines of this entry (a file with very many blobs), possibly on the next
    // pages; the first other line is kept for the next call.
    for (;;) {
      std::string_view line;
      KURA_ASSIGN_OR_RETURN(bool got, ReadLine(&line));
      if (!got) break;
      peek_.blobs.clear();
      bool more = false;
      KURA_RETURN_IF_ERROR(ParseEntryLine(line, &peek_, &more, Where()));
      if (!more) {
        peeked_ = true;
        break;
      }
      out->blobs.insert(out->blobs.end(), peek_.blobs.begin(), peek_.blobs.end());
    }
    ++read_;
    if (read_ > count_) return Damaged("more entries than recorded");
    return true;
  }

 private:
  std::string Where() const {
    return Tr("スナップショット {} の一覧ページ {}", "snapshot {} entry page {}", id_.substr(0, 8), page_);
  }
  Status Damaged(std::string_view why) const {
    return Status::Corruption(Tr("{} が壊れています ({})", "{} is damaged ({})", Where(), why));
  }
  Result<bool> End() const {
    if (read_ != count_) {
      return Status::Corruption(Tr("スナップショット {} の一覧が不完全です ({} 件中 {} 件)",
                                   "snapshot {} has incomplete entry pages ({} of {})", id_.substr(0, 8),
                                   read_, count_));
    }
    return false;
  }

  // The next line of the page stream; false at the end of the last page.
  Result<bool> ReadLine(std::string_view* line) {
    while (pos_ >= text_.size()) {
      if (page_ == pages_.size()) return false;
      auto bytes = fetch_(pages_[page_]);
      if (!bytes.ok()) {
        return Status(bytes.status().code() == Code::kNotFound ? Code::kCorruption : bytes.status().code(),
                      Tr("{} を読めません: {}", "cannot read {}: {}", Where(), bytes.status().message()));
      }
      ++page_;
      text_.assign(bytes->begin(), bytes->end());
      pos_ = 0;
      if (text_.empty() || text_.back() != '\n') return Damaged("page does not end a line");
    }
    size_t end = text_.find('\n', pos_);
    *line = std::string_view(text_).substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }

  std::vector<crypto::Hash> pages_;
  uint64_t count_;
  BlobFetcher fetch_;
  std::string id_;
  size_t page_ = 0;  // pages fetched
  std::string text_;
  size_t pos_ = 0;
  SnapshotEntry peek_;
  bool peeked_ = false;
  uint64_t read_ = 0;
};

}  // namespace

std::unique_ptr<EntryReader> MakeEntryReader(SnapshotMeta& meta, BlobFetcher fetch, std::string snapshot_id) {
  if (meta.version >= 3) {
    return std::make_unique<PageEntryReader>(meta.pages, meta.entry_count, std::move(fetch),
                                             std::move(snapshot_id));
  }
  return std::make_unique<VectorEntryReader>(std::move(meta.entries));
}

}  // namespace kura
