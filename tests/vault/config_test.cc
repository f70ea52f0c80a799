// vault.toml: the embedded defaults parse, unknown or misspelt keys are errors, a newer
// version is refused, and no message quotes the file.
#include "vault/config.h"

#include <gtest/gtest.h>

#include "util/i18n.h"

namespace kura::vault {
namespace {

TEST(VaultConfigTest, DefaultsParseToTheDataDirectory) {
  auto c = ParseVaultConfig(DefaultVaultToml(), "vault.toml", "/srv/vault");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->catalog_kind, "sqlite");
  EXPECT_EQ(c->catalog_path, "/srv/vault/catalog.db");
  EXPECT_EQ(c->objects_kind, "local");
  EXPECT_EQ(c->objects_dir, "/srv/vault/objects");
}

TEST(VaultConfigTest, AbsolutePathsAreKept) {
  auto c = ParseVaultConfig("version = 1\n[catalog]\npath = \"/var/lib/db/c.db\"\n", "v.toml", "/srv");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->catalog_path, "/var/lib/db/c.db");
}

TEST(VaultConfigTest, MistakesAreErrorsThatDoNotQuoteTheFile) {
  struct Case {
    const char* text;
    Code code;
  };
  for (const Case& k :
       {Case{"version = 1\n[catalog]\npaht = \"x\"\n", Code::kInvalidArgument},
        Case{"version = 1\nsecret_token = \"hunter2hunter2\"\n", Code::kInvalidArgument},
        Case{"[catalog]\npath = \"x\"\n", Code::kInvalidArgument}, Case{"version = 2\n", Code::kUnsupported},
        Case{"version = 1\n[catalog]\nkind = \"postgresql\"\n", Code::kInvalidArgument},
        Case{"version = \"hunter2hunter2\"\n", Code::kInvalidArgument},
        Case{"version = 1\n[objects\n", Code::kInvalidArgument}}) {
    auto c = ParseVaultConfig(k.text, "vault.toml", "/srv");
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_EQ(c.status().code(), k.code) << k.text << c.status().message();
    EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("vault.toml"), std::string::npos) << c.status().message();
  }
}

TEST(VaultConfigTest, ServerAndLimitsHaveSafeDefaultsAndRanges) {
  auto c = ParseVaultConfig(DefaultVaultToml(), "vault.toml", "/srv/vault");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server.listen_host, "0.0.0.0");
  EXPECT_EQ(c->server.listen_port, 8443);
  EXPECT_EQ(c->server.certificate, "/srv/vault/tls/server.crt");
  EXPECT_EQ(c->server.key, "/srv/vault/tls/server.key");
  EXPECT_EQ(c->server.max_pack_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c->server.stop_grace_seconds, 30);
  auto given = ParseVaultConfig(DefaultVaultToml("/etc/ssl/v.crt", "/etc/ssl/v.key"), "vault.toml", "/srv");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->server.certificate, "/etc/ssl/v.crt");
  EXPECT_EQ(given->server.key, "/etc/ssl/v.key");
  auto v6 = ParseVaultConfig("version = 1\n[server]\nlisten = \"[::1]:9443\"\n", "vault.toml", "/srv");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->server.listen_host, "::1");
  EXPECT_EQ(v6->server.listen_port, 9443);
  for (const char* bad :
       {"version = 1\n[server]\nlisten = \"8443\"\n", "version = 1\n[server]\nlisten = \"::1:8443\"\n",
        "version = 1\n[server]\nlisten = \"h:70000\"\n", "version = 1\n[limits]\nworker_threads = 0\n",
        "version = 1\n[limits]\nmax_pack_bytes = 99999999999\n", "version = 1\n[limits]\nstop_grace = 3\n"}) {
    auto c2 = ParseVaultConfig(bad, "vault.toml", "/srv");
    EXPECT_EQ(c2.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(VaultConfigTest, MissingFileSaysToRunInit) {
  auto c = LoadVaultConfig("/nonexistent/kura-vault");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_NE(c.status().message().find("kura-vault init"), std::string::npos);
}

}  // namespace
}  // namespace kura::vault
