#include "util/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "util/i18n.h"

namespace kura {
namespace {

ProcessOptions Sh(const std::string& script) {
  ProcessOptions o;
  o.argv = {"sh", "-c", script};
  return o;
}

TEST(ProcessTest, ExitCodeIsReported) {
  auto r = RunProcess(Sh("exit 3"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  auto ok = RunProcess(Sh("true"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_code, 0);
}

TEST(ProcessTest, SignalGivesOneHundredTwentyEightPlusSignal) {
  auto r = RunProcess(Sh("kill -TERM $$"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
}

TEST(ProcessTest, ArgvIsPassedWithoutShell) {
  ProcessOptions o;
  o.argv = {"printf", "%s|", "a b", "$HOME", "'quoted'", "; rm -rf /"};
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "a b|$HOME|'quoted'|; rm -rf /|");
}

TEST(ProcessTest, LargeStdoutIsStreamed) {
  // 64 MiB is far more than a pipe buffer: the reader must stream, not wait for exit.
  auto p = Process::Start(Sh("head -c 67108864 /dev/zero"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<uint8_t> buf(1 << 16);
  size_t total = 0;
  for (;;) {
    auto n = (*p)->Stdout().Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    total += *n;
  }
  auto code = (*p)->Wait();
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(total, 64u << 20);
}

TEST(ProcessTest, RunProcessCapsStdoutButDrains) {
  auto r = RunProcess(Sh("head -c 1000000 /dev/zero"), 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.size(), 1000u);
}

TEST(ProcessTest, StderrTailKeepsTheEnd) {
  ProcessOptions o =
      Sh("i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; echo 最後の行 >&2; exit 1");
  o.stderr_tail_bytes = 100;
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_LE(r->err.size(), 100u);
  EXPECT_NE(r->err.find("最後の行"), std::string::npos);
  EXPECT_EQ(r->err.find("line 0\n"), std::string::npos);
}

TEST(ProcessTest, StderrDoesNotBlockWhileStdoutIsRead) {
  // Lots of stderr at once would fill the pipe and deadlock without the collector thread.
  auto r = RunProcess(Sh("head -c 1000000 /dev/zero >&2; echo done"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "done\n");
}

TEST(ProcessTest, EnvAddedReplacedAndUnset) {
  ::setenv("KURA_PROCESS_TEST_KEEP", "kept", 1);
  ::setenv("KURA_PROCESS_TEST_DROP", "dropped", 1);
  ::setenv("KURA_PROCESS_TEST_REPLACE", "old", 1);
  ProcessOptions o =
      Sh("echo "
         "\"$KURA_PROCESS_TEST_KEEP,${KURA_PROCESS_TEST_DROP-unset},$KURA_PROCESS_TEST_REPLACE,$KURA_NEW\"");
  o.env = {{"KURA_PROCESS_TEST_REPLACE", "new"}, {"KURA_NEW", "パスワード"}};
  o.unset_env = {"KURA_PROCESS_TEST_DROP"};
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "kept,unset,new,パスワード\n");
}

TEST(ProcessTest, StdinIsPiped) {
  ProcessOptions o;
  o.argv = {"tr", "a-z", "A-Z"};
  o.pipe_stdin = true;
  auto p = Process::Start(o);
  ASSERT_TRUE(p.ok());
  std::string text = "hello kura";
  ASSERT_TRUE((*p)->Stdin().Write(reinterpret_cast<const uint8_t*>(text.data()), text.size()).ok());
  (*p)->CloseStdin();
  std::string out(64, '\0');
  auto n = ReadFull((*p)->Stdout(), reinterpret_cast<uint8_t*>(out.data()), out.size());
  ASSERT_TRUE(n.ok());
  out.resize(*n);
  EXPECT_EQ(out, "HELLO KURA");
  EXPECT_EQ(*(*p)->Wait(), 0);
}

TEST(ProcessTest, WritingToExitedChildFailsInsteadOfSigpipe) {
  ProcessOptions o = Sh("exit 0");
  o.pipe_stdin = true;
  auto p = Process::Start(o);
  ASSERT_TRUE(p.ok());
  // Let the child exit; then writes must fail with EPIPE and not kill the test binary.
  std::string big(1 << 20, 'x');
  Status s;
  for (int i = 0; i < 50 && s.ok(); ++i) {
    s = (*p)->Stdin().Write(reinterpret_cast<const uint8_t*>(big.data()), big.size());
  }
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(*(*p)->Wait(), 0);
}

TEST(ProcessTest, WorkingDirectory) {
  ProcessOptions o;
  o.argv = {"pwd"};
  o.cwd = "/tmp";
  auto r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "/tmp\n");
}

TEST(ProcessTest, MissingProgramNamesItAndSaysInstall) {
  ProcessOptions o;
  o.argv = {"kura-no-such-program-xyz", "--version"};
  SetLanguage(Language::kEnglish);
  auto p = Process::Start(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kNotFound);
  EXPECT_NE(p.status().message().find("kura-no-such-program-xyz"), std::string::npos);
  EXPECT_NE(p.status().message().find("Install"), std::string::npos);
  SetLanguage(Language::kJapanese);
  auto q = Process::Start(o);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("インストール"), std::string::npos);
  o.argv[0] = "/nonexistent/dir/prog";
  EXPECT_EQ(Process::Start(o).status().code(), Code::kNotFound);
}

TEST(ProcessTest, FindInPath) {
  EXPECT_NE(FindInPath("sh"), "");
  EXPECT_EQ(FindInPath("kura-no-such-program-xyz"), "");
  EXPECT_EQ(FindInPath("/bin/sh"), "/bin/sh");
}

TEST(ProcessTest, KillStopsTheWholeGroup) {
  // A shell with a child sleeping: killing must end both, or Stdout() would never reach EOF.
  auto p = Process::Start(Sh("sleep 100 | cat; echo unreachable"));
  ASSERT_TRUE(p.ok());
  auto start = std::chrono::steady_clock::now();
  (*p)->Kill();
  uint8_t buf[64];
  auto n = (*p)->Stdout().Read(buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(*(*p)->Wait(), 128 + SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ProcessTest, DestructorKillsAndReapsUnwaitedChild) {
  int pid = 0;
  {
    auto p = Process::Start(Sh("sleep 100"));
    ASSERT_TRUE(p.ok());
    pid = (*p)->pid();
  }
  // Reaped: the pid no longer exists (kill with signal 0 fails with ESRCH).
  EXPECT_NE(::kill(pid, 0), 0);
}

// Regression (issue 6 §7): KURA_PASSWORD and KURA_DB_PASSWORD reached every child (`env` in
// a hook printed both). Whatever KURA_* secret names the parent has, in whatever mix, none
// is inherited; everything else is, and what the caller passes explicitly (PGPASSWORD for
// the dump tool) reaches the child.
TEST(ProcessEnvironmentTest, NoKuraSecretIsEverInheritedWhateverItIsCalled) {
  std::mt19937 rng(20261201u);
  const std::vector<std::string> secret_names = {
      "KURA_PASSWORD",      "KURA_DB_PASSWORD",    "KURA_VAULT_TOKEN", "KURA_S3_SECRET_KEY",
      "KURA_SMTP_PASSWORD", "KURA_KEY_PASSPHRASE", "KURA_NEW_PASSWD"};
  const std::vector<std::string> plain_names = {"KURA_PASSWORD_FILE", "KURA_KEY_FILE", "KURA_REPOSITORY",
                                                "KURA_LANG",          "PATH",          "HOME",
                                                "PGPASSWORD",         "KURA_EVENT",    "LANG"};
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> parent;
    std::vector<std::string> secrets, plain;
    for (const auto& n : secret_names) {
      if (rng() % 2) {
        std::string v = "secret-" + std::to_string(rng());
        parent.push_back(n + "=" + v);
        secrets.push_back(v);
      }
    }
    for (const auto& n : plain_names) {
      if (rng() % 2) {
        parent.push_back(n + "=plain-" + n);
        plain.push_back(n + "=plain-" + n);
      }
    }
    std::shuffle(parent.begin(), parent.end(), rng);
    ProcessOptions o;
    o.env = {{"PGPASSWORD", "for-the-dump-tool"}};
    std::vector<std::string> env = BuildChildEnvironment(o, parent);
    std::string joined;
    for (const auto& e : env) joined += e + "\n";
    for (const auto& v : secrets) EXPECT_EQ(joined.find(v), std::string::npos) << joined;
    for (const auto& p : plain) {
      if (p.starts_with("PGPASSWORD=")) continue;  // replaced by the explicit one
      EXPECT_NE(joined.find(p + "\n"), std::string::npos) << p;
    }
    EXPECT_NE(joined.find("PGPASSWORD=for-the-dump-tool\n"), std::string::npos);
  }
}

TEST(ProcessEnvironmentTest, ARealChildRunningEnvSeesNoKuraSecret) {
  ::setenv("KURA_PASSWORD", "sentinel-kura-password", 1);
  ::setenv("KURA_DB_PASSWORD", "sentinel-db-password", 1);
  ::setenv("KURA_PROCESS_TEST_VISIBLE", "visible", 1);
  auto r = RunProcess(Sh("env"));
  ::unsetenv("KURA_PASSWORD");
  ::unsetenv("KURA_DB_PASSWORD");
  ::unsetenv("KURA_PROCESS_TEST_VISIBLE");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->out.find("KURA_PROCESS_TEST_VISIBLE=visible"), std::string::npos) << r->out;
  EXPECT_EQ(r->out.find("sentinel-kura-password"), std::string::npos) << r->out;
  EXPECT_EQ(r->out.find("sentinel-db-password"), std::string::npos) << r->out;
}

// Regression (issue 6 §9): the hook watchdog called Kill() while the main thread was in
// Wait(); a Kill() just after the reap could SIGKILL a process group the system had given
// to another program. Kill() from another thread at any moment around the reap must be
// harmless: the waiter gets the child's own exit code or the kill, and once Wait() returned
// the child is no longer signalled (SignalRunningChildren does not count it).
TEST(ProcessTest, KillFromAnotherThreadRacingWaitIsSafe) {
  for (int round = 0; round < 50; ++round) {
    auto p = Process::Start(Sh(round % 2 ? "exit 3" : "sleep 0.01; exit 3"));
    ASSERT_TRUE(p.ok());
    Process* proc = p->get();
    std::atomic<bool> stop{false};
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(round * 200));
      while (!stop.load()) {
        proc->Kill();
        std::this_thread::yield();
      }
    });
    auto rc = proc->Wait();
    uint64_t started = ChildStartCount();
    EXPECT_EQ(SignalRunningChildren(0, started), 0) << "a reaped child is still signalled";
    stop.store(true);
    killer.join();
    ASSERT_TRUE(rc.ok());
    EXPECT_TRUE(*rc == 3 || *rc == 128 + SIGKILL) << *rc;
  }
}

// When kura is asked to stop, every running child's whole group is asked too.
TEST(ProcessTest, SignalRunningChildrenStopsTheGroupsOfLiveChildren) {
  auto a = Process::Start(Sh("sleep 100 | cat"));
  auto b = Process::Start(Sh("sleep 100"));
  ASSERT_TRUE(a.ok() && b.ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_GE(SignalRunningChildren(SIGTERM), 2);
  uint8_t buf[8];
  EXPECT_EQ(*(*a)->Stdout().Read(buf, sizeof buf), 0u) << "the grandchild (sleep | cat) must be gone too";
  EXPECT_EQ(*(*a)->Wait(), 128 + SIGTERM);
  EXPECT_EQ(*(*b)->Wait(), 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(SignalRunningChildren(SIGTERM), 0);
}

}  // namespace
}  // namespace kura
