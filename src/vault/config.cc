#include "vault/config.h"

#include <sstream>
#include <toml.hpp>

#include "util/fs.h"
#include "util/i18n.h"
#include "util/toml_text.h"

namespace kura::vault {

std::string DefaultVaultToml() {
  return R"toml(# kura-vault configuration (docs/vault-config.md).
# Relative paths are relative to the directory holding this file.
version = 1

# The catalog: tenants, sites, accounts, credentials and the audit trail.
# "sqlite" is the embedded default; nothing else needs installing.
[catalog]
kind = "sqlite"
path = "catalog.db"

# Where backup objects are stored. "local" is a directory on this machine.
[objects]
kind = "local"
path = "objects"
)toml";
}

namespace {

Status Invalid(const std::string& file, const std::string& what) {
  return Status::InvalidArgument(Tr("設定ファイル {}: {}", "config file {}: {}", file, what));
}

Status CheckKeys(const toml::value& table, std::initializer_list<const char*> allowed,
                 const std::string& file, const std::string& where) {
  for (const auto& [key, value] : table.as_table()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      return Invalid(file, Tr("{}不明な項目 \"{}\" です (綴りを確認してください)",
                              "{}unknown key \"{}\" (check the spelling)", where, key));
    }
  }
  return Status::Ok();
}

std::string Absolute(const std::string& data_dir, const std::string& path) {
  return !path.empty() && path.front() == '/' ? path : data_dir + "/" + path;
}

Status ParseStore(const toml::value& doc, const char* table, const char* only_kind, std::string* kind,
                  std::string* path, const std::string& file, const std::string& data_dir) {
  if (!doc.contains(table)) return Status::Ok();
  const toml::value& t = toml::find(doc, table);
  KURA_RETURN_IF_ERROR(CheckKeys(t, {"kind", "path"}, file, std::string("[") + table + "] "));
  if (t.contains("kind")) *kind = toml::find<std::string>(t, "kind");
  if (*kind != only_kind) {
    return Invalid(file, Tr("[{}] kind = \"{}\" はこの版では使えません (\"{}\" のみ)",
                            "[{}] kind = \"{}\" is not available in this version (only \"{}\")", table, *kind,
                            only_kind));
  }
  if (t.contains("path")) *path = Absolute(data_dir, toml::find<std::string>(t, "path"));
  if (path->empty() || path->back() == '/') {
    return Invalid(file, Tr("[{}] path が空です", "[{}] path is empty", table));
  }
  return Status::Ok();
}

}  // namespace

Result<VaultConfig> ParseVaultConfig(const std::string& text, const std::string& file,
                                     const std::string& data_dir) {
  VaultConfig c;
  c.data_dir = data_dir;
  c.catalog_path = data_dir + "/catalog.db";
  c.objects_dir = data_dir + "/objects";
  KURA_RETURN_IF_ERROR(CheckTomlNesting(text, file));
  try {
    std::istringstream in(text);
    const toml::value doc = toml::parse(in, file);
    KURA_RETURN_IF_ERROR(CheckKeys(doc, {"version", "catalog", "objects"}, file, ""));
    if (!doc.contains("version")) return Invalid(file, L("version がありません", "version is missing"));
    auto version = toml::find<int64_t>(doc, "version");
    if (version > kVaultConfigVersion) {
      return Status::Unsupported(
          Tr("設定ファイル {} はより新しい kura-vault のものです (version {})。kura-vault を更新してください",
             "config file {} is for a newer kura-vault (version {}); update kura-vault", file, version));
    }
    if (version < 1)
      return Invalid(file, Tr("version {} は正しくありません", "version {} is not valid", version));
    KURA_RETURN_IF_ERROR(
        ParseStore(doc, "catalog", "sqlite", &c.catalog_kind, &c.catalog_path, file, data_dir));
    KURA_RETURN_IF_ERROR(
        ParseStore(doc, "objects", "local", &c.objects_kind, &c.objects_dir, file, data_dir));
  } catch (const std::exception& e) {
    return TomlErrorStatus(e, file);  // never toml11's own text: it quotes the file
  }
  return c;
}

Result<VaultConfig> LoadVaultConfig(const std::string& data_dir) {
  std::string file = data_dir + "/" + kVaultConfigName;
  if (!PathExists(file)) {
    return Status::NotFound(
        Tr("{} に kura-vault のデータがありません ({} がありません)。--data-dir を確認するか、"
           "kura-vault init で作成してください",
           "there is no kura-vault data in {} (no {}); check --data-dir or create it with "
           "kura-vault init",
           data_dir, kVaultConfigName));
  }
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
  return ParseVaultConfig(text, file, data_dir);
}

}  // namespace kura::vault
