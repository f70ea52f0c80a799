// The ObjectStore contract (src/objstore/object_store.h), checked against every store that
// claims to keep it: the local directory store and the in-memory test store.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "objstore/local_store.h"
#include "objstore/memory_store.h"
#include "objstore/object_store.h"

namespace kura {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/kura-objstore-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Name(int i) {
  return fmt::format("{:064x}", i);
}

Bytes Data(const std::string& text) {
  return Bytes(text.begin(), text.end());
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "local") {
      auto store = LocalStore::Open(dir_.path() + "/repo", /*create=*/true);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(*store);
    } else {
      store_ = std::make_unique<MemoryStore>();
    }
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(StoreContractTest, RoundTripsEveryType) {
  ASSERT_TRUE(store_->Put(ObjectType::kConfig, "config", Data("cfg")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kKey, Name(1), Data("key")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(2), Data("pack")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, Name(3), Data("snap")).ok());
  EXPECT_EQ(*store_->Get(ObjectType::kConfig, "config"), Data("cfg"));
  EXPECT_EQ(*store_->Get(ObjectType::kKey, Name(1)), Data("key"));
  EXPECT_EQ(*store_->Get(ObjectType::kPack, Name(2)), Data("pack"));
  EXPECT_EQ(*store_->Get(ObjectType::kSnapshot, Name(3)), Data("snap"));
}

TEST_P(StoreContractTest, EmptyObjectRoundTrips) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(7), Bytes()).ok());
  EXPECT_EQ(*store_->Get(ObjectType::kPack, Name(7)), Bytes());
  EXPECT_TRUE(store_->GetRange(ObjectType::kPack, Name(7), 0, 0).ok());
}

TEST_P(StoreContractTest, TypesAreSeparateNamespaces) {
  ASSERT_TRUE(store_->Put(ObjectType::kKey, Name(1), Data("key")).ok());
  EXPECT_EQ(store_->Get(ObjectType::kSnapshot, Name(1)).status().code(), Code::kNotFound);
}

TEST_P(StoreContractTest, SecondPutOfSameNameIsNoOpSuccess) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(1), Data("first")).ok());
  EXPECT_TRUE(store_->Put(ObjectType::kPack, Name(1), Data("first")).ok());
  // Immutable: even different bytes do not replace what is stored.
  EXPECT_TRUE(store_->Put(ObjectType::kPack, Name(1), Data("other bytes")).ok());
  EXPECT_EQ(*store_->Get(ObjectType::kPack, Name(1)), Data("first"));
}

TEST_P(StoreContractTest, ConfigIsReplaced) {
  ASSERT_TRUE(store_->Put(ObjectType::kConfig, "config", Data("v1")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kConfig, "config", Data("version 2")).ok());
  EXPECT_EQ(*store_->Get(ObjectType::kConfig, "config"), Data("version 2"));
}

TEST_P(StoreContractTest, RefusesInvalidNames) {
  const std::vector<std::string> bad = {
      "",
      "../../../etc/passwd",
      "config",
      Name(1).substr(1),            // 63 characters
      Name(1) + "0",                // 65 characters
      std::string(64, 'A'),         // uppercase
      std::string(62, '0') + "/x",  // a path separator
      std::string(63, '0') + "g",   // not hex
      std::string(32, '.') + std::string(32, '/'),
  };
  for (const std::string& name : bad) {
    for (ObjectType type : {ObjectType::kKey, ObjectType::kPack, ObjectType::kSnapshot}) {
      EXPECT_EQ(store_->Put(type, name, Data("x")).code(), Code::kInvalidArgument) << name;
      EXPECT_EQ(store_->Get(type, name).status().code(), Code::kInvalidArgument) << name;
      EXPECT_EQ(store_->GetRange(type, name, 0, 1).status().code(), Code::kInvalidArgument) << name;
      EXPECT_EQ(store_->Delete(type, name).code(), Code::kInvalidArgument) << name;
    }
  }
  EXPECT_EQ(store_->Put(ObjectType::kConfig, "../config", Data("x")).code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->Put(ObjectType::kConfig, Name(1), Data("x")).code(), Code::kInvalidArgument);
}

TEST_P(StoreContractTest, MissingObjectIsNotFoundNamingIt) {
  auto get = store_->Get(ObjectType::kSnapshot, Name(42));
  EXPECT_EQ(get.status().code(), Code::kNotFound);
  EXPECT_NE(get.status().message().find(Name(42)), std::string::npos) << get.status().message();
  EXPECT_EQ(store_->GetRange(ObjectType::kPack, Name(42), 0, 1).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Get(ObjectType::kConfig, "config").status().code(), Code::kNotFound);
}

TEST_P(StoreContractTest, GetRangeReadsTheRequestedBytes) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(1), Data("0123456789")).ok());
  EXPECT_EQ(*store_->GetRange(ObjectType::kPack, Name(1), 3, 4), Data("3456"));
  EXPECT_EQ(*store_->GetRange(ObjectType::kPack, Name(1), 0, 10), Data("0123456789"));
  EXPECT_EQ(*store_->GetRange(ObjectType::kPack, Name(1), 10, 0), Bytes());
}

TEST_P(StoreContractTest, GetRangePastTheEndIsCorruptionNamingTheObject) {
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(1), Data("0123456789")).ok());
  auto r = store_->GetRange(ObjectType::kPack, Name(1), 8, 4);
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find(Name(1)), std::string::npos) << r.status().message();
  EXPECT_EQ(store_->GetRange(ObjectType::kPack, Name(1), ~uint64_t{0}, 2).status().code(),
            Code::kInvalidArgument);
}

std::vector<std::string> Names(const std::vector<ObjectInfo>& infos) {
  std::vector<std::string> out;
  for (const ObjectInfo& info : infos) out.push_back(info.name);
  std::sort(out.begin(), out.end());
  return out;
}

TEST_P(StoreContractTest, ListShowsEachTypeWithSizes) {
  for (ObjectType type : {ObjectType::kConfig, ObjectType::kKey, ObjectType::kPack, ObjectType::kSnapshot}) {
    auto empty = store_->List(type);
    ASSERT_TRUE(empty.ok()) << empty.status().ToString();
    EXPECT_TRUE(empty->empty());
  }
  ASSERT_TRUE(store_->Put(ObjectType::kConfig, "config", Data("c")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(0x10), Data("p1")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kPack, Name(0x20), Data("p22")).ok());
  // A pack in another shard (first two hex digits differ).
  std::string far = "ff" + Name(3).substr(2);
  ASSERT_TRUE(store_->Put(ObjectType::kPack, far, Data("p333")).ok());
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, Name(4), Data("s")).ok());

  auto packs = store_->List(ObjectType::kPack);
  ASSERT_TRUE(packs.ok());
  EXPECT_EQ(Names(*packs), (std::vector<std::string>{Name(0x10), Name(0x20), far}));
  for (const ObjectInfo& info : *packs) {
    EXPECT_EQ(info.size, info.name == Name(0x10) ? 2u : info.name == Name(0x20) ? 3u : 4u);
  }
  EXPECT_EQ(Names(*store_->List(ObjectType::kSnapshot)), std::vector<std::string>{Name(4)});
  EXPECT_EQ(Names(*store_->List(ObjectType::kConfig)), std::vector<std::string>{"config"});
  EXPECT_TRUE(store_->List(ObjectType::kKey)->empty());
}

TEST_P(StoreContractTest, DeleteRemovesAndDeletingMissingIsOk) {
  ASSERT_TRUE(store_->Put(ObjectType::kSnapshot, Name(1), Data("s")).ok());
  ASSERT_TRUE(store_->Delete(ObjectType::kSnapshot, Name(1)).ok());
  EXPECT_EQ(store_->Get(ObjectType::kSnapshot, Name(1)).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->List(ObjectType::kSnapshot)->empty());
  EXPECT_TRUE(store_->Delete(ObjectType::kSnapshot, Name(1)).ok());
  EXPECT_TRUE(store_->Delete(ObjectType::kPack, Name(99)).ok());
}

TEST_P(StoreContractTest, ConcurrentPutsAndGetsFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread also writes object 0: concurrent Puts of one name must all succeed.
        for (int id : {0, 1 + t * kPerThread + i}) {
          Bytes data = Data("object " + std::to_string(id));
          if (!store_->Put(ObjectType::kPack, Name(id), data).ok()) ++failures;
          auto got = store_->Get(ObjectType::kPack, Name(id));
          if (!got.ok() || *got != data) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store_->List(ObjectType::kPack)->size(), size_t{kThreads * kPerThread + 1});
}

TEST_P(StoreContractTest, SharedLocksCoexist) {
  auto a = store_->Lock(LockMode::kShared, 0);
  auto b = store_->Lock(LockMode::kShared, 0);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(b.ok()) << b.status().ToString();
}

TEST_P(StoreContractTest, ExclusiveLockMakesSharedTimeOutWithLocked) {
  auto held = store_->Lock(LockMode::kExclusive, 0);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto start = std::chrono::steady_clock::now();
  auto waiter = store_->Lock(LockMode::kShared, 300);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(waiter.status().code(), Code::kLocked);
  EXPECT_NE(waiter.status().message().find(store_->Location()), std::string::npos)
      << waiter.status().message();
  EXPECT_GE(waited, std::chrono::milliseconds(290));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(store_->Lock(LockMode::kExclusive, 50).status().code(), Code::kLocked);
}

TEST_P(StoreContractTest, SharedLockKeepsExclusiveOut) {
  auto held = store_->Lock(LockMode::kShared, 0);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(store_->Lock(LockMode::kExclusive, 50).status().code(), Code::kLocked);
  held->reset();
  EXPECT_TRUE(store_->Lock(LockMode::kExclusive, 0).ok());
}

TEST_P(StoreContractTest, WaiterGetsTheLockWhenItIsReleasedInTime) {
  auto held = store_->Lock(LockMode::kExclusive, 0);
  ASSERT_TRUE(held.ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    held->reset();
  });
  auto waiter = store_->Lock(LockMode::kExclusive, 5000);
  releaser.join();
  EXPECT_TRUE(waiter.ok()) << waiter.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContractTest, ::testing::Values("local", "memory"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace kura
