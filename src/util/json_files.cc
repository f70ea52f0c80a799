#include "util/json_files.h"

#include <dirent.h>

#include <cerrno>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

Result<std::vector<JsonFile>> ReadJsonFiles(const std::string& dir, std::string_view what_ja,
                                            std::string_view what_en) {
  std::vector<JsonFile> files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return files;
    return ErrnoStatus(errno, L(what_ja, what_en), dir);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): this thread's DIR*
    std::string name = e->d_name;
    if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    auto text = ReadTextFile(path);
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound) continue;  // removed meanwhile
      return text.status();
    }
    files.push_back({name.substr(0, name.size() - 5), std::move(path), std::move(*text)});
  }
  return files;
}

}  // namespace kura
