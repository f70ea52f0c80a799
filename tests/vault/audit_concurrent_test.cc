// Several connections (threads, and processes) appending to one catalog at once keep one
// valid chain: no sequence number twice, none skipped, every record present.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "vault/catalog_fixture.h"

namespace kura::vault::testing {
namespace {

class AuditConcurrentTest : public CatalogTest {
 protected:
  // Appends `n` events as `who` through a connection of its own; tenant adds in between,
  // so audit records of both paths (Audit and a change with its record) interleave.
  Status Append(const std::string& who, int n) {
    FakeClock clock(kStart);
    auto c = Catalog::Open(path_, clock, TestOptions(/*create=*/false));
    if (!c.ok()) return c.status();
    for (int i = 0; i < n; ++i) {
      clock.Advance(1);
      AuditEvent e{TestActor(who), "test.event", "n", "success", who + ":" + std::to_string(i)};
      if (i % 10 == 9) {
        auto t = (*c)->AddTenant(who + "-" + std::to_string(i), TestActor(who));
        if (!t.ok()) return t.status();
      } else {
        auto r = (*c)->Audit(e);
        if (!r.ok()) return r.status();
      }
    }
    return Status::Ok();
  }

  void ExpectOneChain(const std::vector<std::string>& writers, int each) {
    auto report = catalog_->VerifyAudit();
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << report->Message();
    EXPECT_EQ(report->records, static_cast<int64_t>(writers.size()) * each);
    std::set<std::string> seen;
    int64_t expect = 1;
    for (const AuditRecord& r : Records(*catalog_)) {
      EXPECT_EQ(r.seq, expect++);
      seen.insert(r.event.actor.id + "/" + r.event.detail + "/" + r.event.target);
    }
    EXPECT_EQ(seen.size(), writers.size() * static_cast<size_t>(each));
  }
};

TEST_F(AuditConcurrentTest, TwoConnectionsAppendingKeepOneValidChain) {
  constexpr int kEach = 150;
  Status a, b;
  std::thread ta([&] { a = Append("alice", kEach); });
  std::thread tb([&] { b = Append("bob", kEach); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.ToString();
  ASSERT_TRUE(b.ok()) << b.ToString();
  ExpectOneChain({"alice", "bob"}, kEach);
}

TEST_F(AuditConcurrentTest, ThreeProcessesAppendingKeepOneValidChain) {
  constexpr int kEach = 80;
  std::vector<std::string> writers = {"p1", "p2", "p3"};
  std::vector<pid_t> pids;
  for (const std::string& w : writers) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Status st = Append(w, kEach);
      ::_exit(st.ok() ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  ExpectOneChain(writers, kEach);
}

}  // namespace
}  // namespace kura::vault::testing
