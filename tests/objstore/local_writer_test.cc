// Streaming puts into a LocalStore (objstore/local_writer.h): what the vault relies on for
// pack uploads. The object appears only on Commit, whole; an abandoned or killed put
// leaves no object; an existing object is never replaced.
#include "objstore/local_writer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "objstore/local_store.h"

namespace kura {
namespace {

namespace fs = std::filesystem;

// The store does not hash (docs/objstore.md): any valid name does.
std::string Name(char digit) {
  return std::string(64, digit);
}

class LocalWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kura-writer-XXXXXX";
    root_ = std::string(::mkdtemp(tmpl)) + "/repo";
    auto s = LocalStore::Open(root_, true);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::path(root_).parent_path(), ec);
  }
  size_t TempFiles() {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (e.path().filename().string().starts_with(".tmp-")) ++n;
    }
    return n;
  }
  std::string root_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalWriterTest, PiecesBecomeOneObjectOnlyAtCommit) {
  Bytes a(100000, 0x41), b(5000, 0x42);
  Bytes whole = a;
  whole.insert(whole.end(), b.begin(), b.end());
  std::string name = Name('a');
  auto w = store_->BeginPut(ObjectType::kPack);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Write(a).ok());
  ASSERT_TRUE((*w)->Write(b).ok());
  EXPECT_EQ((*w)->bytes_written(), whole.size());
  EXPECT_EQ(store_->Get(ObjectType::kPack, name).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->List(ObjectType::kPack)->empty());  // the temporary file is no object
  auto c = (*w)->Commit(name);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, LocalObjectWriter::Committed::kStored);
  auto got = store_->Get(ObjectType::kPack, name);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, whole);
  struct stat st {};
  ASSERT_EQ(::stat(store_->ObjectPath(ObjectType::kPack, name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(LocalWriterTest, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->BeginPut(ObjectType::kPack);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write(Bytes(4096, 1)).ok());
    EXPECT_EQ(TempFiles(), 1u);
  }
  EXPECT_EQ(TempFiles(), 0u);
  EXPECT_TRUE(store_->List(ObjectType::kPack)->empty());
}

TEST_F(LocalWriterTest, ExistingObjectIsNeverReplaced) {
  Bytes first(10, 7);
  std::string name = Name('b');
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, name, first).ok());
  auto w = store_->BeginPut(ObjectType::kSnapshot);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(Bytes(10, 8)).ok());
  auto c = (*w)->Commit(name);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, LocalObjectWriter::Committed::kAlreadyThere);
  EXPECT_EQ(*store_->Get(ObjectType::kSnapshot, name), first);
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(LocalWriterTest, KilledPutIsAStaleTemporaryFile) {
  // A process killed mid-put leaves its temporary file; the stale-file sweep removes it.
  auto w = store_->BeginPut(ObjectType::kPack);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(Bytes(100, 3)).ok());
  std::string copy = (*w)->temp_path() + "-copy";
  fs::copy_file((*w)->temp_path(), copy);
  (*w)->Abort();
  EXPECT_EQ(TempFiles(), 1u);
  ASSERT_TRUE(store_->RemoveStaleTemporaryFiles(::time(nullptr) + 10).ok());
  EXPECT_EQ(TempFiles(), 0u);
}

TEST_F(LocalWriterTest, BadNameStoresNothing) {
  auto w = store_->BeginPut(ObjectType::kPack);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(Bytes(3, 3)).ok());
  EXPECT_EQ((*w)->Commit("../../etc/passwd").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(TempFiles(), 0u);
  EXPECT_EQ(store_->BeginPut(ObjectType::kConfig).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kura
