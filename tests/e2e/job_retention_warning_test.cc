// Issue 6 §4: a retention failure inside a job (`kura run`) exited 0 with no warning, so
// the repository grew until the disk was full. Here the job's repository is on a real
// full tmpfs, the retention's repack fails for ENOSPC, and the run must say so: the
// backup is saved, the status file carries the warning, the failure hook fires and the
// exit code is 11 ("done with warnings"); once space is freed the next run clears it.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/job_harness.h"
#include "support/repo_testing.h"

namespace kura::testing {
namespace {

class JobRetentionWarningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = sb_.Path("small");
    std::filesystem::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                   << "); needs root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
  }
  uint64_t FreeBytes() {
    struct statvfs s {};
    ::statvfs(mount_.c_str(), &s);
    return uint64_t{s.f_bavail} * s.f_frsize;
  }
  // Packs written more than the prune grace ago (a fixed date, not the clock).
  void AgePacks() {
    for (const auto& e : std::filesystem::recursive_directory_iterator(mount_ + "/repo/data")) {
      if (!e.is_regular_file()) continue;
      struct timespec times[2] = {{1577836800, 0}, {1577836800, 0}};  // 2020-01-01
      ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), times, 0), 0);
    }
  }
  // Fills the disk, leaving `room` bytes for the snapshot object and the lock files.
  void FillDisk(uint64_t room) {
    std::string filler = mount_ + "/filler";
    {
      std::ofstream f(filler, std::ios::binary);
      std::string block(1 << 16, 'z');
      while (f.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      }
    }
    auto size = std::filesystem::file_size(filler);
    std::filesystem::resize_file(filler, size > room ? size - room : 0);
  }

  JobSandbox sb_;
  std::string mount_;
  bool mounted_ = false;
};

TEST_F(JobRetentionWarningTest, RetentionFailureInAJobIsAWarningNotSilence) {
  std::string repo = sb_.InitRepo("small/repo");
  ASSERT_TRUE(std::filesystem::exists(repo + "/config"));
  std::string data = sb_.Path("data");
  WriteFile(data + "/keep.bin", SeededBytes(1, 3 << 20));
  WriteFile(data + "/drop.bin", SeededBytes(2, 3 << 20));
  sb_.WriteConfig(fmt::format(R"T(state_dir = "{0}/state"
log_file = "{0}/kura.log"

[[job]]
name = "care"
kinds = ["manual"]
[job.source]
kind = "files"
paths = ["{1}"]
[[job.target]]
name = "local"
repository = "{2}"
password_file = "{3}"
[job.target.retention]
manual = {{ keep_last = 1 }}

[hooks.on_failure]
command = ["sh", "-c", "echo \"failure $KURA_TARGET $KURA_ERROR_CODE\" >> {0}/hooks.txt"]
)T",
                              sb_.dir(), data, repo, sb_.password_file()));
  KuraRun first = sb_.Kura({"run", "care", "--kind", "manual"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  AgePacks();
  std::filesystem::remove(data + "/drop.bin");  // half of the pack is unused once forgotten
  FillDisk(256 << 10);

  KuraRun second = sb_.Kura({"--lang", "en", "run", "care", "--kind", "manual"});
  EXPECT_EQ(second.exit_code, 11) << "a failed retention must not exit 0:\n" << second.out << second.err;
  EXPECT_NE(second.out.find("warning"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("removing old generations"), std::string::npos) << second.out;
  EXPECT_EQ(sb_.Snapshots("small/repo").size(), 1u) << "the backup itself is saved, the old one forgotten";

  auto doc = nlohmann::json::parse(ReadFileString(sb_.Path("state/status.json")), nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  const auto& local = doc["jobs"]["care"]["targets"]["local"];
  EXPECT_TRUE(local["warning"]["active"].get<bool>()) << local.dump();
  EXPECT_EQ(local["error"]["code"], "no_space") << local.dump();
  EXPECT_NE(ReadFileString(sb_.Path("hooks.txt")).find("failure local no_space"), std::string::npos);
  EXPECT_EQ(sb_.Kura({"status"}).exit_code, 10) << "kura status shows the warning";

  // With space again the next run prunes and clears the warning.
  std::filesystem::remove(mount_ + "/filler");
  KuraRun third = sb_.Kura({"run", "care", "--kind", "manual"});
  EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_EQ(sb_.Kura({"status"}).exit_code, 0);
  KuraRun v = sb_.Kura({"verify", "-r", repo, "--read-data"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace kura::testing
