// OpenDirBeneath never follows a symbolic link at any component, with openat2 and with the
// component walk older kernels get.
#include "util/beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "support/repo_testing.h"

namespace kura {
namespace {

using testing::TempDir;

class OpenDirBeneathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { UseComponentWalkForTesting(GetParam()); }
  void TearDown() override { UseComponentWalkForTesting(false); }
};

TEST_P(OpenDirBeneathTest, ALinkAtAnyComponentIsRefusedNotFollowed) {
  TempDir t("kura-beneath");
  ASSERT_EQ(::mkdir(t.Sub("root").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(t.Sub("outside").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(t.Sub("outside/b").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(t.Sub("root/a").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(t.Sub("root/a/b").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(t.Sub("outside").c_str(), t.Sub("root/abs").c_str()), 0);
  ASSERT_EQ(::symlink("../outside", t.Sub("root/rel").c_str()), 0);
  ASSERT_EQ(::symlink("b", t.Sub("root/a/inner").c_str()), 0);  // even a link that stays inside
  testing::WriteFile(t.Sub("root/file"), "x");
  int root = ::open(t.Sub("root").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);

  UniqueFd ok(OpenDirBeneath(root, "a/b"));
  EXPECT_TRUE(ok.valid()) << std::strerror(errno);
  UniqueFd self(OpenDirBeneath(root, ""));
  EXPECT_TRUE(self.valid());
  for (const char* rel : {"abs", "abs/b", "rel", "rel/b", "a/inner", "file", "file/x"}) {
    errno = 0;
    UniqueFd fd(OpenDirBeneath(root, rel));
    EXPECT_FALSE(fd.valid()) << rel << " was opened through a link or a file";
    EXPECT_TRUE(errno == ELOOP || errno == ENOTDIR) << rel << ": " << std::strerror(errno);
  }
  for (const char* rel : {"..", "a/../a", "./a", "a//b"}) {
    UniqueFd fd(OpenDirBeneath(root, rel));
    EXPECT_FALSE(fd.valid() && GetParam()) << rel;  // the walk refuses these outright
  }
  errno = 0;
  UniqueFd missing(OpenDirBeneath(root, "a/none"));
  EXPECT_FALSE(missing.valid());
  EXPECT_EQ(errno, ENOENT);
  ::close(root);
}

INSTANTIATE_TEST_SUITE_P(Resolution, OpenDirBeneathTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "ComponentWalk" : "Openat2"; });

}  // namespace
}  // namespace kura
