// RunDrill against a real repository: when every blob of the snapshot is intact but the
// restored SQLite database fails its integrity check, the drill says the source database
// was already broken when it was backed up, not the repository.
#include "agent/drill.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cerrno>
#include <fstream>

#include "agent/status_file.h"
#include "engine/backup.h"
#include "engine/snapshot_copy.h"
#include "objstore/object_store.h"
#include "sources/db_common.h"
#include "support/db_servers.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura {
namespace {

// Stores a file's bytes as they are, as a sqlite job's stream: the injected fault is a
// damaged database that got into a snapshot (made before kura checked sources, or by a
// copy that was broken on the way).
class RawFileSource : public Source {
 public:
  RawFileSource(std::string path, std::string stream) : path_(std::move(path)), stream_(std::move(stream)) {}
  std::string Kind() const override { return "sqlite"; }
  std::string Name() const override { return path_; }
  Status Backup(SnapshotWriter& out) override {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", path_);
    FdReader reader(fd, /*owns=*/true, path_);
    return out.AddFile(StreamMeta(stream_), reader);
  }

 private:
  std::string path_, stream_;
};

TEST(DrillTest, DamagedSourceInAnIntactRepositoryIsBlamedOnTheSourceNotTheRepository) {
  setenv("KURA_ARGON2_MEM_KIB", "8192", 1);
  setenv("KURA_ARGON2_OPS", "1", 1);
  SetLanguage(Language::kEnglish);
  std::string dir = testing::MakeTempDir("kura-drill-test");
  setenv("KURA_CACHE_DIR", (dir + "/cache").c_str(), 1);
  std::ofstream(dir + "/pw") << "correct horse battery\n";
  {
    auto store = OpenObjectStore(dir + "/local", true);
    ASSERT_TRUE(store.ok());
    Credentials c;
    c.password = "correct horse battery";
    ASSERT_TRUE(Repository::Init(std::move(*store), c, InitOptions{}, SystemClock()).ok());
  }
  std::string db_path = dir + "/care.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                           "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 3000) "
                           "INSERT INTO t SELECT n, hex(randomblob(50)) FROM s;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto bytes = ReadFile(db_path);
  ASSERT_TRUE(bytes.ok());
  ASSERT_GT(bytes->size(), 20u * 4096);
  for (size_t i = 0; i < 4096; ++i) (*bytes)[10 * 4096 + i] = static_cast<uint8_t>(i * 13);
  ASSERT_TRUE(WriteFileAtomic(db_path, *bytes, 0600).ok());

  AgentConfig config;
  config.state_dir = dir + "/state";
  config.status_file = dir + "/state/status.json";
  config.drill.scratch_dir = dir + "/drill";
  JobConfig job;
  job.name = "lite";
  job.label = "ケア記録";
  job.source.kind = "sqlite";
  job.source.path = db_path;
  TargetConfig t;
  t.name = "local";
  t.repository = dir + "/local";
  t.password_file = dir + "/pw";
  job.targets = {t};
  config.jobs.push_back(job);
  {
    auto repo = OpenTarget(t);
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    RawFileSource source(db_path, "care.db");
    BackupOptions o;
    o.kind = SnapshotKind::kDaily;
    o.tags = {JobTag(job.name)};
    ASSERT_TRUE(RunBackup(**repo, source, o).ok());
  }

  FakeClock clock(1795237200);
  RunContext ctx{&config, &clock, nullptr, nullptr};
  auto r = RunDrill(ctx, config.jobs[0], false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->damaged_part, "source");
  EXPECT_EQ(r->damaged_blobs, 0u);
  EXPECT_EQ(r->status.code(), Code::kSourceFailed) << r->status.ToString();
  EXPECT_NE(r->status.message().find("target's data is intact"), std::string::npos) << r->status.message();
  EXPECT_NE(r->status.message().find(db_path), std::string::npos) << r->status.message();
  auto doc = LoadStatusFile(config.status_file);
  ASSERT_TRUE(doc.ok());
  const DrillInfo& d = *doc->jobs["lite"].last_drill;
  EXPECT_EQ(d.damaged_part, "source");
  EXPECT_TRUE(d.warning.active);
  EXPECT_NE(d.warning.message_ja.find("バックアップ元のデータベース"), std::string::npos)
      << d.warning.message_ja;
  EXPECT_FALSE(PathExists(r->restored_into));  // the scratch copy was removed
  SetLanguage(Language::kJapanese);
  testing::RemoveAll(dir);
}

}  // namespace
}  // namespace kura
