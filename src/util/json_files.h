// The committed files of a directory of JSON state files (the send queue, the post queue):
// names ending in ".json", so temporary files of an interrupted WriteFileAtomic are not
// seen. A missing directory holds none; a file removed while listing is skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"

namespace kura {

struct JsonFile {
  std::string id;    // the name without ".json"
  std::string path;  // dir + "/" + name
  std::string text;
};

// `what` names the directory in the error message ("listing the send queue").
Result<std::vector<JsonFile>> ReadJsonFiles(const std::string& dir, std::string_view what_ja,
                                            std::string_view what_en);

}  // namespace kura
