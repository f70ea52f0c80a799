#include "util/secret_file.h"

#include <sys/stat.h>

#include <cstdio>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura {

bool StripUtf8Bom(std::string& text) {
  if (!text.starts_with("\xEF\xBB\xBF")) return false;
  text.erase(0, 3);
  return true;
}

Result<std::string> ReadPasswordFile(const std::string& path, bool* had_bom) {
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  bool bom = StripUtf8Bom(text);
  if (had_bom != nullptr) *had_bom = bom;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) {
    return Status::InvalidArgument(Tr("パスワードファイル {} が空です", "password file {} is empty", path));
  }
  return text;
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++n) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > text.size()) len = 1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    }
    i += len;
  }
  return n;
}

Status CheckNewPassword(std::string_view password) {
  if (Utf8Length(password) < kMinPasswordChars) {
    return Status::InvalidArgument(Tr("パスワードは {} 文字以上にしてください",
                                      "the password must be at least {} characters", kMinPasswordChars));
  }
  return Status::Ok();
}

bool ReadableByOthers(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0;
}

void WarnIfReadableByOthers(const std::string& path, std::string_view what_ja, std::string_view what_en) {
  if (!ReadableByOthers(path)) return;
  std::fputs(Tr("kura: 警告: {} {} は他のユーザーから読めます。chmod 600 にしてください\n",
                "kura: warning: {} {} is readable by other users; chmod 600 it\n",
                CurrentLanguage() == Language::kEnglish ? what_en : what_ja, path)
                 .c_str(),
             stderr);
}

}  // namespace kura
