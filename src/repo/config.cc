#include "repo/config.h"

#include <nlohmann/json.hpp>

#include "repo/format.h"
#include "util/i18n.h"

namespace kura {

using nlohmann::json;

Bytes RepoConfig::Serialize() const {
  json doc{{"format", "kura-repository"},
           {"version", version},
           {"id", id},
           {"created", created},
           {"chunker",
            {{"algorithm", "fastcdc-gear-v1"},
             {"min", chunker.min_size},
             {"avg", chunker.avg_size},
             {"max", chunker.max_size}}},
           {"blob_id", "hmac-sha256"},
           {"cipher", "aes-256-gcm"},
           {"compression", "zstd"},
           {"pack_target_size", pack_target_size}};
  std::string s = doc.dump(2) + "\n";
  return Bytes(s.begin(), s.end());
}

// JSON that breaks off: what a crash or a full disk leaves of kura's config (a file that
// never was kura's starts otherwise, for example git's `[core]`).
static bool LooksLikeCutShortConfig(ByteView bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;  // empty: Repository::Open decides
  return text[start] == '{' || text.find("kura-repository") != std::string_view::npos;
}

// kura verify cannot run without the config, so the advice is what can: the config is
// small and the same in every copy of the repository.
Status RepoConfig::Damaged(const std::string& location) {
  return Status::Corruption(
      Tr("{} のリポジトリの config が壊れています (途中で切れているか、内容が正しくありません)。"
         "リポジトリのコピー (別の保存先や保管庫、バックアップ媒体) から config を戻してください。"
         "コピーがなければ販売元へご連絡ください (データは残っています)",
         "the config of repository {} is damaged (cut short or malformed). Restore the file "
         "config from a copy of the repository (another target, the vault, a backup medium); "
         "without one, contact your vendor (the data is still there)",
         location));
}

Result<RepoConfig> RepoConfig::Parse(ByteView bytes, const std::string& location) {
  // Something that is not a kura config at all (another program's `config`, a text file)
  // means this is not a kura repository; a kura config with bad fields is a damaged one.
  auto not_repo = [&] {
    return Status::NotFound(
        Tr("{} は kura のリポジトリではありません (config が kura のものではありません)。"
           "パスを確認してください",
           "{} is not a kura repository (its config is not kura's); check the path", location));
  };
  auto damaged = [&] { return Damaged(location); };
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() && LooksLikeCutShortConfig(bytes)) return damaged();
  if (!doc.is_object()) return not_repo();
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_string() || format->get<std::string>() != "kura-repository") {
    return not_repo();
  }
  // json::value() throws on a field of the wrong type; the file is untrusted input.
  try {
    RepoConfig c;
    const json& version = doc.value("version", json(0));
    if (!version.is_number_unsigned() || version.get<uint64_t>() == 0) return damaged();
    if (version.get<uint64_t>() > format::kRepositoryVersion) {
      return Status::Unsupported(Tr("{} は新しい形式 (version {}) のリポジトリです。kura を更新してください",
                                    "{} is a repository of a newer format (version {}); update kura",
                                    location, version.get<uint64_t>()));
    }
    c.version = version.get<uint32_t>();
    c.id = doc.value("id", "");
    c.created = doc.value("created", "");
    const json& ch = doc.value("chunker", json::object());
    if (ch.value("algorithm", "") != "fastcdc-gear-v1") return damaged();
    c.chunker.min_size = ch.value("min", 0u);
    c.chunker.avg_size = ch.value("avg", 0u);
    c.chunker.max_size = ch.value("max", 0u);
    c.pack_target_size = doc.value("pack_target_size", format::kDefaultPackTargetSize);
    if (c.id.size() != 32 || !c.chunker.Valid() || c.pack_target_size < (1u << 16) ||
        doc.value("blob_id", "") != "hmac-sha256" || doc.value("cipher", "") != "aes-256-gcm") {
      return damaged();
    }
    return c;
  } catch (const json::exception&) {
    return damaged();
  }
}

}  // namespace kura
