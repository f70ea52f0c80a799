#include "sources/source_factory.h"

#include <gtest/gtest.h>

#include "support/memory_snapshot.h"
#include "util/i18n.h"

namespace kura {
namespace {

TEST(SourceFactoryTest, BuildsEachKind) {
  struct Case {
    SourceConfig config;
    std::string kind;
  };
  SourceConfig files;
  files.kind = "files";
  files.paths = {"/etc/hostname"};
  SourceConfig command;
  command.kind = "command";
  command.command = {"true"};
  SourceConfig pg;
  pg.kind = "postgresql";
  pg.database = "care";
  SourceConfig pg_cluster;
  pg_cluster.kind = "postgresql";
  pg_cluster.cluster = true;
  SourceConfig maria;
  maria.kind = "mariadb";
  maria.database = "care";
  SourceConfig sqlite;
  sqlite.kind = "sqlite";
  sqlite.path = "/var/lib/app/care.db";
  SourceConfig mssql;
  mssql.kind = "sqlserver";
  mssql.database = "care";
  for (const auto& [config, kind] : std::vector<Case>{{files, "files"},
                                                      {command, "command"},
                                                      {pg, "postgresql"},
                                                      {pg_cluster, "postgresql"},
                                                      {maria, "mysql"},
                                                      {sqlite, "sqlite"},
                                                      {mssql, "sqlserver"}}) {
    auto s = MakeSource(config);
    ASSERT_TRUE(s.ok()) << config.kind << ": " << s.status().ToString();
    EXPECT_EQ((*s)->Kind(), kind);
  }
}

TEST(SourceFactoryTest, MissingFieldsAndUnknownKind) {
  SetLanguage(Language::kEnglish);
  SourceConfig c;
  c.kind = "postgresql";
  auto r = MakeSource(c);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("database"), std::string::npos);
  c.kind = "files";
  EXPECT_NE(MakeSource(c).status().message().find("paths"), std::string::npos);
  c.kind = "command";
  c.command = {"a"};
  c.shell = "b";
  EXPECT_EQ(MakeSource(c).status().code(), Code::kInvalidArgument);
  c.kind = "oracle";
  r = MakeSource(c);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("oracle"), std::string::npos);
  SetLanguage(Language::kJapanese);
}

TEST(SourceFactoryTest, NameOverridesAndCommandRuns) {
  SourceConfig c;
  c.kind = "command";
  c.name = "vendor export";
  c.shell = "echo hello";
  c.stream = "export.txt";
  auto s = MakeSource(c);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Name(), "vendor export");
  testing::MemorySnapshot snap;
  ASSERT_TRUE((*s)->Backup(snap).ok());
  EXPECT_EQ(snap.Find("export.txt")->content, "hello\n");
}

TEST(SourceFactoryTest, RestoreOfFilesSourceIsUnsupported) {
  SourceConfig c;
  c.kind = "files";
  testing::MemorySnapshot snap;
  DbRestoreOptions o;
  o.target = "x";
  EXPECT_EQ(RestoreFromConfig(snap, c, o, nullptr).code(), Code::kUnsupported);
  o.target.clear();
  EXPECT_EQ(RestoreFromConfig(snap, c, o, nullptr).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kura
