// FaultStore injects each fault it promises, and nothing else.
#include "objstore/fault_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "objstore/memory_store.h"

namespace kura {
namespace {

std::string Name(int i) {
  return fmt::format("{:064x}", i);
}

class FaultStoreTest : public ::testing::Test {
 protected:
  MemoryStore base_;
  FaultStore store_{&base_};
};

TEST_F(FaultStoreTest, WithoutFaultsCallsPassThrough) {
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(1), Bytes(10, 7)).ok());
  EXPECT_EQ(*base_.Get(ObjectType::kPack, Name(1)), Bytes(10, 7));
  EXPECT_EQ(*store_.Get(ObjectType::kPack, Name(1)), Bytes(10, 7));
  EXPECT_EQ(store_.List(ObjectType::kPack)->size(), 1u);
  EXPECT_TRUE(store_.Lock(LockMode::kShared, 0).ok());
  EXPECT_EQ(store_.Location(), base_.Location());
}

TEST_F(FaultStoreTest, ByteBudgetRunsOutLikeAFullDisk) {
  store_.SetPutByteBudget(250);
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(1), Bytes(100, 1)).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(2), Bytes(100, 2)).ok());
  Status full = store_.Put(ObjectType::kPack, Name(3), Bytes(100, 3));
  EXPECT_EQ(full.code(), Code::kNoSpace);
  EXPECT_NE(full.message().find(Name(3)), std::string::npos) << full.message();
  EXPECT_EQ(base_.Get(ObjectType::kPack, Name(3)).status().code(), Code::kNotFound);  // nothing left behind
  // A smaller object still fits, as on a real disk.
  EXPECT_TRUE(store_.Put(ObjectType::kSnapshot, Name(4), Bytes(50, 4)).ok());
  EXPECT_EQ(store_.Put(ObjectType::kSnapshot, Name(5), Bytes(1, 5)).code(), Code::kNoSpace);
  EXPECT_EQ(*base_.Get(ObjectType::kPack, Name(1)), Bytes(100, 1));  // earlier objects intact
  store_.SetPutByteBudget(std::nullopt);
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(3), Bytes(100, 3)).ok());
}

TEST_F(FaultStoreTest, FailsTheNthPutOnce) {
  store_.FailNthPut(3, Status::Retryable("injected 503"));
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(1), Bytes(1, 1)).ok());
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(2), Bytes(1, 2)).ok());
  Status third = store_.Put(ObjectType::kPack, Name(3), Bytes(1, 3));
  EXPECT_EQ(third.code(), Code::kRetryable);
  EXPECT_EQ(third.message(), "injected 503");
  EXPECT_EQ(base_.Get(ObjectType::kPack, Name(3)).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(3), Bytes(1, 3)).ok());  // the retry succeeds
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(4), Bytes(1, 4)).ok());
}

TEST_F(FaultStoreTest, FailsEveryPutOfATypeUntilCleared) {
  store_.FailPutsOfType(ObjectType::kSnapshot, Status::PermissionDenied("injected"));
  EXPECT_EQ(store_.Put(ObjectType::kSnapshot, Name(1), Bytes(1, 1)).code(), Code::kPermissionDenied);
  EXPECT_EQ(store_.Put(ObjectType::kSnapshot, Name(2), Bytes(1, 1)).code(), Code::kPermissionDenied);
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(1), Bytes(1, 1)).ok());
  EXPECT_TRUE(base_.List(ObjectType::kSnapshot)->empty());
  store_.ClearFaults();
  EXPECT_TRUE(store_.Put(ObjectType::kSnapshot, Name(1), Bytes(1, 1)).ok());
}

TEST_F(FaultStoreTest, TornPutLeavesAPrefixUnderTheFinalName) {
  Bytes data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
  store_.TearNextPut(30);
  EXPECT_EQ(store_.Put(ObjectType::kPack, Name(1), data).code(), Code::kIOError);
  EXPECT_EQ(*base_.Get(ObjectType::kPack, Name(1)), Bytes(data.begin(), data.begin() + 30));
  EXPECT_EQ(store_.GetRange(ObjectType::kPack, Name(1), 0, 100).status().code(), Code::kCorruption);
  // One shot: the next Put is whole.
  EXPECT_TRUE(store_.Put(ObjectType::kPack, Name(2), data).ok());
  EXPECT_EQ(*base_.Get(ObjectType::kPack, Name(2)), data);
}

TEST_F(FaultStoreTest, CorruptReadsFlipOneByteWhereverItIsRead) {
  Bytes data(64, 0x11);
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(1), data).ok());
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(2), data).ok());
  store_.CorruptReads(ObjectType::kPack, Name(1), 40);

  Bytes got = *store_.Get(ObjectType::kPack, Name(1));
  ASSERT_EQ(got.size(), data.size());
  for (size_t i = 0; i < data.size(); ++i) EXPECT_EQ(got[i] != data[i], i == 40) << i;
  EXPECT_EQ(store_.GetRange(ObjectType::kPack, Name(1), 32, 16)->at(8), 0x11 ^ 0xff);
  EXPECT_EQ(*store_.GetRange(ObjectType::kPack, Name(1), 0, 40), Bytes(40, 0x11));  // range misses it
  EXPECT_EQ(*store_.Get(ObjectType::kPack, Name(2)), data);                         // other objects clean
  EXPECT_EQ(*base_.Get(ObjectType::kPack, Name(1)), data);                          // stored bytes unchanged
  store_.ClearFaults();
  EXPECT_EQ(*store_.Get(ObjectType::kPack, Name(1)), data);
}

TEST_F(FaultStoreTest, CountsCallsAndBytes) {
  store_.FailNthPut(2, Status::IOError("injected"));
  ASSERT_TRUE(store_.Put(ObjectType::kPack, Name(1), Bytes(10, 1)).ok());
  ASSERT_FALSE(store_.Put(ObjectType::kPack, Name(2), Bytes(20, 2)).ok());
  ASSERT_TRUE(store_.Get(ObjectType::kPack, Name(1)).ok());
  ASSERT_TRUE(store_.GetRange(ObjectType::kPack, Name(1), 2, 3).ok());
  ASSERT_FALSE(store_.Get(ObjectType::kPack, Name(2)).ok());
  ASSERT_TRUE(store_.List(ObjectType::kPack).ok());
  ASSERT_TRUE(store_.Delete(ObjectType::kPack, Name(1)).ok());
  ASSERT_TRUE(store_.Lock(LockMode::kExclusive, 0).ok());

  FaultStore::Counters c = store_.counters();
  EXPECT_EQ(c.puts, 2u);
  EXPECT_EQ(c.failed_puts, 1u);
  EXPECT_EQ(c.bytes_put, 10u);
  EXPECT_EQ(c.gets, 2u);
  EXPECT_EQ(c.get_ranges, 1u);
  EXPECT_EQ(c.bytes_read, 13u);
  EXPECT_EQ(c.lists, 1u);
  EXPECT_EQ(c.deletes, 1u);
  EXPECT_EQ(c.locks, 1u);
  store_.ResetCounters();
  EXPECT_EQ(store_.counters().puts, 0u);
}

TEST_F(FaultStoreTest, BudgetHoldsUnderConcurrentPuts) {
  constexpr int kThreads = 8;
  constexpr int kPuts = 50;
  store_.SetPutByteBudget(100 * 100);  // room for exactly 100 of the 400 objects
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPuts; ++i) (void)store_.Put(ObjectType::kPack, Name(t * kPuts + i), Bytes(100, 1));
    });
  }
  for (auto& th : threads) th.join();
  FaultStore::Counters c = store_.counters();
  EXPECT_EQ(c.puts, size_t{kThreads * kPuts});
  EXPECT_EQ(c.bytes_put, 100u * 100u);
  EXPECT_EQ(c.failed_puts, size_t{kThreads * kPuts - 100});
  EXPECT_EQ(base_.List(ObjectType::kPack)->size(), 100u);
}

}  // namespace
}  // namespace kura
