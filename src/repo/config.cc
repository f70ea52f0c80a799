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

Result<RepoConfig> RepoConfig::Parse(ByteView bytes, const std::string& location) {
  auto not_repo = [&] {
    return Status::Corruption(Tr("{} は kura のリポジトリではありません (config が読めません)",
                                 "{} is not a kura repository (unreadable config)", location));
  };
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || doc.value("format", "") != "kura-repository") return not_repo();
  RepoConfig c;
  c.version = doc.value("version", 0u);
  if (c.version == 0) return not_repo();
  if (c.version > format::kRepositoryVersion) {
    return Status::Unsupported(Tr("{} は新しい形式 (version {}) のリポジトリです。kura を更新してください",
                                  "{} is a repository of a newer format (version {}); update kura",
                                  location, c.version));
  }
  c.id = doc.value("id", "");
  c.created = doc.value("created", "");
  const json& ch = doc.value("chunker", json::object());
  if (ch.value("algorithm", "") != "fastcdc-gear-v1") return not_repo();
  c.chunker.min_size = ch.value("min", 0u);
  c.chunker.avg_size = ch.value("avg", 0u);
  c.chunker.max_size = ch.value("max", 0u);
  c.pack_target_size = doc.value("pack_target_size", format::kDefaultPackTargetSize);
  if (c.id.size() != 32 || !c.chunker.Valid() || c.pack_target_size < (1u << 16) ||
      doc.value("blob_id", "") != "hmac-sha256" || doc.value("cipher", "") != "aes-256-gcm") {
    return not_repo();
  }
  return c;
}

}  // namespace kura
