// Entry pages (snapshot version 3): whatever the entries, the pages read back exactly what
// was written, in order; cuts are content-defined, so an unchanged part of a tree gives the
// same pages; damage and truncation are errors that name the snapshot and page.
#include "repo/entry_pages.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "repo/format.h"

namespace kura {
namespace {

crypto::Hash RandomId(std::mt19937_64& rng) {
  crypto::Hash h;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  return h;
}

// Any byte but NUL and '/', so names in Shift_JIS, EUC-JP or plain garbage all occur.
std::string RandomName(std::mt19937_64& rng) {
  std::string s(1 + rng() % 24, 'x');
  for (char& c : s) {
    do {
      c = static_cast<char>(rng() % 256);
    } while (c == '\0' || c == '/');
  }
  if (s == "." || s == "..") s += "x";
  return s;
}

SnapshotEntry RandomEntry(std::mt19937_64& rng, size_t i) {
  SnapshotEntry e;
  e.meta.path = RandomName(rng) + "/" + std::to_string(i) + "/" + RandomName(rng);
  int kind = static_cast<int>(rng() % 4);
  e.meta.type = kind == 0 ? EntryType::kDirectory : kind == 1 ? EntryType::kSymlink : EntryType::kFile;
  e.meta.mode = static_cast<uint32_t>(rng() % 07777);
  e.meta.mtime = static_cast<int64_t>(rng() % 4000000000ull) - 1000000000;
  e.meta.uid = static_cast<uint32_t>(rng());
  e.meta.gid = static_cast<uint32_t>(rng());
  if (e.meta.type == EntryType::kSymlink) e.meta.symlink_target = RandomName(rng) + "/../" + RandomName(rng);
  if (e.meta.type == EntryType::kFile) {
    e.size = rng();
    e.sha256 = std::string(64, 'c');
    e.meta.change_key = RandomName(rng);
    e.meta.sparse = rng() % 5 == 0;
    size_t n = rng() % 6;
    for (size_t k = 0; k < n; ++k) e.blobs.push_back(RandomId(rng));
  }
  return e;
}

bool Same(const SnapshotEntry& a, const SnapshotEntry& b) {
  return a.meta.path == b.meta.path && a.meta.type == b.meta.type && a.meta.mode == b.meta.mode &&
         a.meta.mtime == b.meta.mtime && a.meta.uid == b.meta.uid && a.meta.gid == b.meta.gid &&
         a.meta.symlink_target == b.meta.symlink_target && a.meta.change_key == b.meta.change_key &&
         a.meta.sparse == b.meta.sparse && a.size == b.size && a.sha256 == b.sha256 && a.blobs == b.blobs;
}

class EntryPagesTest : public ::testing::Test {
 protected:
  // A fixed key: where pages end depends on it, and a test must not depend on chance.
  RepoKeys keys_ = RepoKeys::Derive(crypto::SecretKey(Bytes(crypto::kKeySize, 0x42)));
  std::map<crypto::Hash, Bytes> store_;  // page blobs by a made-up ID

  // Writes `entries` into pages, "stores" them, and returns the head that lists them.
  SnapshotMeta Write(const std::vector<SnapshotEntry>& entries, std::vector<std::string>* texts = nullptr) {
    EntryPageWriter w(keys_);
    SnapshotMeta head;
    head.version = format::kSnapshotVersion;
    auto take = [&] {
      while (auto page = w.TakeReady()) {
        crypto::Hash id = crypto::Sha256(AsBytes(*page));
        store_[id] = Bytes(page->begin(), page->end());
        head.pages.push_back(id);
        if (texts) texts->push_back(*page);
      }
    };
    for (const SnapshotEntry& e : entries) {
      w.Add(e);
      take();
    }
    w.Finish();
    take();
    head.entry_count = w.entries();
    return head;
  }

  Result<std::vector<SnapshotEntry>> Read(SnapshotMeta head) {
    auto reader = MakeEntryReader(
        head,
        [this](const crypto::Hash& id) -> Result<Bytes> {
          auto it = store_.find(id);
          if (it == store_.end()) return Status::NotFound("no such blob");
          return it->second;
        },
        "0123456789abcdef");
    std::vector<SnapshotEntry> out;
    SnapshotEntry e;
    for (;;) {
      KURA_ASSIGN_OR_RETURN(bool more, reader->Next(&e));
      if (!more) return out;
      out.push_back(e);
    }
  }
};

TEST_F(EntryPagesTest, RandomEntriesWithAnyBytesReadBackExactlyInOrder) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<SnapshotEntry> entries;
    size_t n = 2000 + rng() % 3000;
    for (size_t i = 0; i < n; ++i) entries.push_back(RandomEntry(rng, i));
    std::vector<std::string> texts;
    SnapshotMeta head = Write(entries, &texts);
    ASSERT_GT(head.pages.size(), 1u) << "seed " << seed << ": the test needs several pages";
    for (size_t i = 0; i + 1 < texts.size(); ++i) {
      EXPECT_GE(texts[i].size(), format::kPageMin) << "seed " << seed;
      EXPECT_EQ(texts[i].back(), '\n') << "a page ends a line";
    }
    auto back = Read(head);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), entries.size()) << "seed " << seed;
    for (size_t i = 0; i < entries.size(); ++i) {
      ASSERT_TRUE(Same((*back)[i], entries[i])) << "seed " << seed << " entry " << i;
    }
  }
}

TEST_F(EntryPagesTest, AFileWithMoreBlobsThanOneLineHoldsContinuesOnMoreLines) {
  std::mt19937_64 rng(7);
  SnapshotEntry big;
  big.meta.path = "srv/dump/huge.sql";
  big.sha256 = std::string(64, 'd');
  for (size_t i = 0; i < 2 * kMaxBlobsPerLine + 17; ++i) big.blobs.push_back(RandomId(rng));
  SnapshotEntry after;
  after.meta.path = "srv/dump/z.txt";
  after.sha256 = std::string(64, 'e');
  after.blobs = {RandomId(rng)};
  auto back = Read(Write({big, after}));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_TRUE(Same((*back)[0], big));
  EXPECT_TRUE(Same((*back)[1], after));
}

// The dedup of metadata: one file added in the middle of a large tree changes only the
// pages around it; the others are byte for byte those of the night before.
TEST_F(EntryPagesTest, OneNewEntryChangesOnlyThePagesAroundIt) {
  std::mt19937_64 rng(3);
  std::vector<SnapshotEntry> entries;
  for (size_t i = 0; i < 6000; ++i) entries.push_back(RandomEntry(rng, i));
  SnapshotMeta before = Write(entries);
  entries.insert(entries.begin() + 3000, RandomEntry(rng, 999999));
  SnapshotMeta after = Write(entries);
  std::set<crypto::Hash> old(before.pages.begin(), before.pages.end());
  size_t changed = 0;
  for (const crypto::Hash& p : after.pages) changed += old.count(p) ? 0 : 1;
  ASSERT_GT(before.pages.size(), 8u);
  EXPECT_LE(changed, 2u) << "of " << after.pages.size() << " pages";
}

TEST_F(EntryPagesTest, AMissingPageOrMissingEntriesAreDamageNamingTheSnapshot) {
  std::mt19937_64 rng(5);
  std::vector<SnapshotEntry> entries;
  for (size_t i = 0; i < 2000; ++i) entries.push_back(RandomEntry(rng, i));
  SnapshotMeta head = Write(entries);
  ASSERT_GT(head.pages.size(), 2u);

  SnapshotMeta fewer = head;
  fewer.entry_count += 1;  // one entry more than the pages hold: a page was cut short
  auto r = Read(fewer);
  ASSERT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("01234567"), std::string::npos) << r.status().message();

  SnapshotMeta more = head;
  more.entry_count -= 1;
  EXPECT_EQ(Read(more).status().code(), Code::kCorruption);

  store_.erase(head.pages[1]);
  r = Read(head);
  ASSERT_EQ(r.status().code(), Code::kCorruption) << "a page no pack holds is damage";
  EXPECT_NE(r.status().message().find("01234567"), std::string::npos) << r.status().message();
}

TEST_F(EntryPagesTest, EveryDamagedLineIsCorruptionNeverACrash) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> lines = {
      "",
      "{",
      "[]",
      R"({"more":["00"]})",
      R"({"type":"file","path":"../etc/passwd","blobs":[]})",
      R"({"type":"file","path":"/abs","blobs":[]})",
      R"({"type":"weird","path":"a"})",
      R"({"type":"file","path":"a","blobs":["zz"]})",
      R"({"type":"file","path":"a","blobs":[1]})",
      R"({"type":"file","path":"a","mode":"x"})",
      R"({"type":"file","path":"a","path_b64":"!!"})",
  };
  for (const std::string& line : lines) {
    SnapshotEntry e;
    bool more = false;
    Status st = ParseEntryLine(line, &e, &more, "page");
    EXPECT_EQ(st.code(), Code::kCorruption) << line;
  }
  // Random mutations of a valid line: parsed or refused, never an unsafe path.
  std::string valid;
  AppendEntryLines(RandomEntry(rng, 1), valid);
  valid.pop_back();
  for (int i = 0; i < 3000; ++i) {
    std::string m = valid;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) m[rng() % m.size()] = static_cast<char>(rng());
    SnapshotEntry e;
    bool more = false;
    Status st = ParseEntryLine(m, &e, &more, "page");
    if (st.ok() && !more) {
      EXPECT_TRUE(IsSafeRelativePath(e.meta.path));
    } else if (!st.ok()) {
      EXPECT_EQ(st.code(), Code::kCorruption);
    }
  }
}

// The head of a version 3 snapshot lists its pages; each must also be in the keyless blob
// list, or a server collecting garbage by that list would delete the listing.
TEST_F(EntryPagesTest, AHeadListingAPageTheBlobListLacksIsRefused) {
  SnapshotPlain plain{
      "00112233445566778899aabbccddeeff", SnapshotKind::kDaily, 1763700000, 1763700000000, 1, 1, 1};
  SnapshotMeta head;
  head.host = "h";
  crypto::Hash page{};
  page.fill(4);
  head.pages = {page};
  head.entry_count = 1;
  crypto::Hash other{};
  other.fill(5);
  auto ok = OpenSnapshotMeta(keys_, "id",
                             EncodeSnapshot(keys_, plain, std::vector<crypto::Hash>{page, other}, head));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->version, format::kSnapshotVersion);
  EXPECT_EQ(ok->pages, head.pages);
  EXPECT_EQ(ok->entry_count, 1u);
  EXPECT_EQ(
      OpenSnapshotMeta(keys_, "id", EncodeSnapshot(keys_, plain, std::vector<crypto::Hash>{other}, head))
          .status()
          .code(),
      Code::kCorruption);
}

}  // namespace
}  // namespace kura
