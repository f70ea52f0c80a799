// kura restore through the real binary (issue 6 §2): random trees into random hostile targets
// never write outside and never harm what is there; a damaged file is named and the rest is
// restored; a --path that matches nothing is an error.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "support/e2e_kura.h"
#include "support/hostile_tree.h"

namespace kura::testing {
namespace {

using nlohmann::json;

class CliRestoreTest : public KuraE2ETest {
 protected:
  std::vector<std::string> PackFiles() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(repo_ + "/data")) {
      if (e.is_regular_file() && e.path().filename().string().size() == 64) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(CliRestoreTest, RandomTreesIntoHostileTargetsNeverWriteOutsideNorHarmWhatIsThere) {
  InitRepo();
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::string sentinel = dir_.Sub("sentinel-" + std::to_string(seed));
    MakeSentinel(sentinel);
    std::vector<TreeNode> tree = RandomSnapshotTree(seed, sentinel, 25);
    std::string src = dir_.Sub("src-" + std::to_string(seed));
    WriteTree(tree, src);
    std::string id = BackupPaths({src});
    // Entry paths are the absolute paths without the leading '/'; their ancestors (tmp, ...)
    // are directories of the snapshot too: exactly where a planted target/tmp link waits.
    std::vector<TreeNode> nodes;
    std::string prefix = src.substr(1);
    for (size_t pos = prefix.find('/'); pos != std::string::npos; pos = prefix.find('/', pos + 1)) {
      nodes.push_back({prefix.substr(0, pos), EntryType::kDirectory, {}, "", 0, 0, /*check_meta=*/false});
    }
    nodes.push_back({prefix, EntryType::kDirectory, {}, "", 0, 0, /*check_meta=*/false});
    for (TreeNode n : tree) {
      n.path = prefix + "/" + n.path;
      nodes.push_back(std::move(n));
    }
    for (bool overwrite : {false, true}) {
      std::string target = dir_.Sub(fmt::format("target-{}-{}", seed, overwrite));
      PlantHostileTarget(seed, nodes, target, sentinel);
      auto before = Describe(target);
      auto sentinel_before = Describe(sentinel);
      std::vector<std::string> args{"--lang", "en", "--json", "restore", id, "--target", target};
      if (overwrite) args.push_back("--overwrite");
      KuraRun r = Kura(args);
      json j = r.Json();
      ASSERT_TRUE(j.is_object()) << r.out << r.err;
      std::vector<ReportedProblem> problems;
      for (const json& p : j.value("not_restored", json::array())) {
        problems.push_back({p.value("path", ""), p.value("problem", "")});
      }
      EXPECT_EQ(r.exit_code, problems.empty() ? kExitOk : kExitUsage) << r.err;
      std::set<std::string> verified;
      for (const TreeNode& n : nodes) {
        bool reported = std::any_of(problems.begin(), problems.end(), [&](const ReportedProblem& p) {
          return n.path == p.path || n.path.rfind(p.path + "/", 0) == 0;
        });
        if (n.type == EntryType::kFile && !reported) verified.insert(n.path);
      }
      EXPECT_EQ(j.value("files", size_t{0}), verified.size());
      CheckHostileRestore(fmt::format("seed {}", seed), nodes, before, Describe(target), sentinel_before,
                          Describe(sentinel), verified, problems, overwrite);
    }
    if (HasFailure()) return;
  }
}

TEST_F(CliRestoreTest, DamagedFileIsNamedTheOthersAreRestoredAndTheExitCodeIs8) {
  InitRepo();
  WriteFile(dir_.Sub("src/a-intact.bin"), SeededBytes(1, 600000));
  BackupPaths({dir_.Sub("src")});
  std::vector<std::string> first = PackFiles();
  // A second file's data lands in packs of its own (the first file is deduplicated).
  WriteFile(dir_.Sub("src/b-damaged.bin"), SeededBytes(2, 600000));
  WriteFile(dir_.Sub("src/c-intact.txt"), "after the damaged one");
  std::string id = BackupPaths({dir_.Sub("src")});
  std::vector<std::string> second;
  for (const std::string& p : PackFiles()) {
    if (!std::binary_search(first.begin(), first.end(), p)) second.push_back(p);
  }
  ASSERT_FALSE(second.empty());
  // Every new pack holds b's data (c is tiny and may share one): flip a byte in the middle of
  // the largest, which is b's alone.
  std::string pack =
      *std::max_element(second.begin(), second.end(), [](const std::string& x, const std::string& y) {
        return std::filesystem::file_size(x) < std::filesystem::file_size(y);
      });
  ASSERT_TRUE(FlipByte(pack, std::filesystem::file_size(pack) / 2));

  std::string rel = dir_.Sub("src").substr(1);
  KuraRun human = Kura({"--lang", "en", "restore", id, "--target", dir_.Sub("out")});
  EXPECT_EQ(human.exit_code, kExitDamaged) << human.out << human.err;
  EXPECT_NE(human.err.find(rel + "/b-damaged.bin"), std::string::npos) << human.err;
  EXPECT_NE(human.err.find("damaged"), std::string::npos) << human.err;
  EXPECT_EQ(human.err.find("a-intact.bin"), std::string::npos) << "an intact file is named as not restored:\n"
                                                               << human.err;
  EXPECT_EQ(ReadFileString(dir_.Sub("out/" + rel + "/a-intact.bin")),
            ReadFileString(dir_.Sub("src/a-intact.bin")));
  EXPECT_EQ(ReadFileString(dir_.Sub("out/" + rel + "/c-intact.txt")), "after the damaged one");
  EXPECT_FALSE(Exists(dir_.Sub("out/" + rel + "/b-damaged.bin"))) << "no damaged file under its name";

  json j = KuraJson({"restore", id, "--target", dir_.Sub("out-json")}, kExitDamaged);
  EXPECT_EQ(j.value("ok", true), false);
  EXPECT_EQ(j.value("exit_code", 0), kExitDamaged);
  EXPECT_EQ(j.value("files", 0), 2);
  ASSERT_EQ(j["not_restored"].size(), 1u) << j.dump();
  EXPECT_EQ(j["not_restored"][0].value("path", ""), rel + "/b-damaged.bin");
  EXPECT_EQ(j["not_restored"][0].value("problem", ""), "damaged");
  EXPECT_EQ(ReadFileString(dir_.Sub("out-json/" + rel + "/c-intact.txt")), "after the damaged one");
}

TEST_F(CliRestoreTest, PathThatMatchesNothingIsAnErrorNotZeroFilesRestored) {
  InitRepo();
  WriteFile(dir_.Sub("src/keep.txt"), "kept");
  BackupPaths({dir_.Sub("src")});
  KuraRun r = Kura(
      {"--lang", "en", "restore", "latest", "--path", dir_.Sub("src/typo.txt"), "--target", dir_.Sub("out")});
  EXPECT_EQ(r.exit_code, kExitRepoNotFound) << r.out << r.err;
  EXPECT_NE(r.err.find("matches nothing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir_.Sub("src/typo.txt")), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("every file matched"), std::string::npos) << r.out;
  EXPECT_FALSE(Exists(dir_.Sub("out")));
  KuraRun ja = Kura({"restore", "latest", "--path", dir_.Sub("src/typo.txt"), "--target", dir_.Sub("out")});
  EXPECT_NE(ja.err.find("一致するものがスナップショットにありません"), std::string::npos) << ja.err;
  KuraRun good = Kura({"restore", "latest", "--path", dir_.Sub("src/keep.txt"), "--target", dir_.Sub("out")});
  EXPECT_EQ(good.exit_code, kExitOk) << good.err;
}

}  // namespace
}  // namespace kura::testing
