#include "objstore/fault_store.h"

#include <algorithm>
#include <cassert>
#include <cerrno>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

void FaultStore::SetPutByteBudget(std::optional<uint64_t> bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  budget_ = bytes;
}

void FaultStore::FailNthPut(uint64_t n, Status status) {
  assert(n >= 1 && !status.ok());
  std::lock_guard<std::mutex> guard(mu_);
  fail_put_at_ = put_seq_ + n;
  fail_put_status_ = std::move(status);
}

void FaultStore::FailPutsOfType(ObjectType type, Status status) {
  assert(!status.ok());
  std::lock_guard<std::mutex> guard(mu_);
  fail_type_[type] = std::move(status);
}

void FaultStore::TearNextPut(uint64_t keep_bytes) {
  std::lock_guard<std::mutex> guard(mu_);
  tear_keep_ = keep_bytes;
}

void FaultStore::CorruptReads(ObjectType type, const std::string& name, uint64_t offset) {
  std::lock_guard<std::mutex> guard(mu_);
  corrupt_[{type, name}] = offset;
}

void FaultStore::ClearFaults() {
  std::lock_guard<std::mutex> guard(mu_);
  budget_.reset();
  fail_put_at_.reset();
  fail_type_.clear();
  tear_keep_.reset();
  corrupt_.clear();
  fail_reads_.clear();
}

FaultStore::Counters FaultStore::counters() const {
  std::lock_guard<std::mutex> guard(mu_);
  return counters_;
}

void FaultStore::ResetCounters() {
  std::lock_guard<std::mutex> guard(mu_);
  counters_ = Counters();
}

Status FaultStore::Put(ObjectType type, const std::string& name, ByteView data) {
  // Decide under the lock, call the base outside it: the base may be slow, and a
  // decision (budget reserved, one-shot fault consumed) must not be taken twice.
  enum class Action { kPass, kFail, kTear } action = Action::kPass;
  Status injected;
  uint64_t keep = 0;
  bool reserved = false;
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.puts;
    ++put_seq_;
    if (auto it = fail_type_.find(type); it != fail_type_.end()) {
      action = Action::kFail;
      injected = it->second;
    } else if (fail_put_at_ && *fail_put_at_ == put_seq_) {
      action = Action::kFail;
      injected = fail_put_status_;
      fail_put_at_.reset();
    } else if (tear_keep_) {
      action = Action::kTear;
      keep = std::min<uint64_t>(*tear_keep_, data.size());
      tear_keep_.reset();
    } else if (budget_) {
      if (data.size() > *budget_) {
        action = Action::kFail;
        // The very message a full disk gives, so tests see what a user would.
        injected = ErrnoStatus(ENOSPC, L("書き込み", "write"), Location() + "/" + name);
      } else {
        *budget_ -= data.size();
        reserved = true;
      }
    }
    if (action == Action::kFail) ++counters_.failed_puts;
  }
  if (action == Action::kFail) return injected;
  if (action == Action::kTear) {
    Status st = base_->Put(type, name, data.first(keep));
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.failed_puts;
    if (!st.ok()) return st;
    return ErrnoStatus(EIO, L("書き込み", "write"), Location() + "/" + name);
  }
  Status st = base_->Put(type, name, data);
  std::lock_guard<std::mutex> guard(mu_);
  if (st.ok()) {
    counters_.bytes_put += data.size();
  } else {
    ++counters_.failed_puts;
    if (reserved && budget_) *budget_ += data.size();
  }
  return st;
}

std::optional<uint64_t> FaultStore::CorruptOffset(ObjectType type, const std::string& name) const {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = corrupt_.find({type, name});
  if (it == corrupt_.end()) return std::nullopt;
  return it->second;
}

void FaultStore::CountRead(bool range, const Result<Bytes>& result) {
  std::lock_guard<std::mutex> guard(mu_);
  ++(range ? counters_.get_ranges : counters_.gets);
  if (result.ok()) counters_.bytes_read += result->size();
}

void FaultStore::FailReads(ObjectType type, const std::string& name, Status status) {
  std::lock_guard<std::mutex> guard(mu_);
  fail_reads_[{type, name}] = std::move(status);
}

std::optional<Status> FaultStore::ReadFault(ObjectType type, const std::string& name) const {
  std::lock_guard<std::mutex> guard(mu_);
  auto it = fail_reads_.find({type, name});
  if (it == fail_reads_.end()) return std::nullopt;
  return it->second;
}

Result<Bytes> FaultStore::Get(ObjectType type, const std::string& name) {
  if (auto fault = ReadFault(type, name)) return *fault;
  Result<Bytes> result = base_->Get(type, name);
  if (result.ok()) {
    std::optional<uint64_t> at = CorruptOffset(type, name);
    if (at && *at < result->size()) (*result)[*at] ^= 0xff;
  }
  CountRead(false, result);
  return result;
}

Result<Bytes> FaultStore::GetRange(ObjectType type, const std::string& name, uint64_t offset,
                                   uint64_t length) {
  if (auto fault = ReadFault(type, name)) return *fault;
  Result<Bytes> result = base_->GetRange(type, name, offset, length);
  if (result.ok()) {
    std::optional<uint64_t> at = CorruptOffset(type, name);
    if (at && *at >= offset && *at - offset < result->size()) (*result)[*at - offset] ^= 0xff;
  }
  CountRead(true, result);
  return result;
}

Result<std::vector<ObjectInfo>> FaultStore::List(ObjectType type) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.lists;
  }
  return base_->List(type);
}

Status FaultStore::Delete(ObjectType type, const std::string& name) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.deletes;
  }
  return base_->Delete(type, name);
}

Status FaultStore::PutIfAbsent(ObjectType type, const std::string& name, ByteView data) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.puts;
  }
  return base_->PutIfAbsent(type, name, data);
}

Status FaultStore::MoveAside(ObjectType type, const std::string& name) {
  return base_->MoveAside(type, name);
}

Result<std::unique_ptr<StoreLock>> FaultStore::Lock(LockMode mode, int timeout_ms) {
  {
    std::lock_guard<std::mutex> guard(mu_);
    ++counters_.locks;
  }
  return base_->Lock(mode, timeout_ms);
}

}  // namespace kura
