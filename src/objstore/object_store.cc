#include "objstore/object_store.h"

#include <string_view>

#include "objstore/local_store.h"
#include "objstore/object_name.h"
#include "util/i18n.h"

namespace kura {

const char* ObjectTypeName(ObjectType type) {
  switch (type) {
    case ObjectType::kConfig:
      return "config";
    case ObjectType::kKey:
      return "key";
    case ObjectType::kPack:
      return "pack";
    case ObjectType::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

bool IsValidObjectName(ObjectType type, std::string_view name) {
  if (type == ObjectType::kConfig) return name == kConfigObjectName;
  if (name.size() != kObjectNameLength) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status CheckObjectName(ObjectType type, std::string_view name) {
  if (IsValidObjectName(type, name)) return Status::Ok();
  if (type == ObjectType::kConfig) {
    return Status::InvalidArgument(
        Tr("設定オブジェクトの名前は \"config\" でなければなりません (指定: \"{}\")",
           "the config object must be named \"config\" (got \"{}\")", name));
  }
  return Status::InvalidArgument(
      Tr("{} オブジェクトの名前 \"{}\" が不正です: 64 桁の小文字 16 進数 (SHA-256) である必要があります",
         "invalid {} object name \"{}\": it must be 64 lowercase hex digits (a SHA-256)",
         ObjectTypeName(type), name));
}

Status ObjectStore::PutIfAbsent(ObjectType type, const std::string& name, ByteView data) {
  auto existing = Get(type, name);
  if (existing.ok()) {
    return Status::AlreadyExists(Tr("{} には既に {} があります", "{} already holds {}", Location(), name));
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  return Put(type, name, data);
}

Status ObjectStore::MoveAside(ObjectType type, const std::string& name) {
  return Status::Unsupported(Tr("{} では {} {} を退避できません", "{} cannot move {} {} aside", Location(),
                                ObjectTypeName(type), name));
}

Status ObjectStore::RemoveStaleTemporaryFiles(int64_t /*cutoff_unix*/) {
  return Status::Ok();
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// file:///mnt/nas/%E8%94%B5 -> /mnt/nas/蔵. Only "file://" with an empty or "localhost"
// authority is a local path; anything else would silently mean a different machine.
Result<std::string> PathFromFileUrl(std::string_view url) {
  std::string_view rest = url.substr(std::string_view("file://").size());
  if (rest.starts_with("localhost/")) rest.remove_prefix(std::string_view("localhost").size());
  if (!rest.starts_with('/')) {
    return Status::InvalidArgument(
        Tr("リポジトリの場所 {} を解釈できません: file:///絶対パス の形で指定してください",
           "cannot understand repository location {}: write it as file:///absolute/path", url));
  }
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && HexDigit(rest[i + 1]) >= 0 && HexDigit(rest[i + 2]) >= 0) {
      path.push_back(static_cast<char>(HexDigit(rest[i + 1]) * 16 + HexDigit(rest[i + 2])));
      i += 2;
    } else {
      path.push_back(rest[i]);
    }
  }
  return path;
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const std::string& location, bool create) {
  std::string path = location;
  if (location.starts_with("file://")) {
    KURA_ASSIGN_OR_RETURN(path, PathFromFileUrl(location));
  } else if (auto scheme_end = location.find("://"); scheme_end != std::string::npos) {
    return Status::Unsupported(
        Tr("リポジトリの場所 {} の形式 ({}://) にはこの版の kura は対応していません。"
           "ローカルのパスか file:// を指定してください",
           "this kura build does not support repository location {} ({}:// URLs). "
           "Use a local path or a file:// URL",
           location, location.substr(0, scheme_end)));
  }
  if (path.empty()) {
    return Status::InvalidArgument(
        std::string(L("リポジトリの場所が指定されていません", "no repository location was given")));
  }
  KURA_ASSIGN_OR_RETURN(std::unique_ptr<LocalStore> store, LocalStore::Open(path, create));
  return std::unique_ptr<ObjectStore>(std::move(store));
}

}  // namespace kura
