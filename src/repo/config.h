// The repository's plaintext config object (docs/format.md, "config").
#pragma once

#include <string>

#include "chunker/chunker.h"
#include "kura/status.h"
#include "util/bytes.h"

namespace kura {

struct RepoConfig {
  uint32_t version = 1;
  std::string id;  // 32 hex
  std::string created;
  ChunkerParams chunker;
  uint32_t pack_target_size = 0;

  Bytes Serialize() const;
  // Errors: kNotFound (not a kura config at all: this is not a kura repository),
  // kCorruption (a kura config with missing or malformed fields), kUnsupported (a newer
  // version than this build reads).
  static Result<RepoConfig> Parse(ByteView bytes, const std::string& location);
  // kCorruption "the config of repository <location> is damaged", with what to do instead
  // of kura verify (which cannot run without a config).
  static Status Damaged(const std::string& location);
};

}  // namespace kura
