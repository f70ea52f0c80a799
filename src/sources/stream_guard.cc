#include "sources/stream_guard.h"

#include "util/i18n.h"

namespace kura {

namespace {

// Control characters shown as \xNN so a hostile name cannot drive the terminal.
std::string Visible(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

// What is wrong with `name`, in both languages; empty when it is fine.
std::string Problem(const std::string& name) {
  if (name.empty()) return L("名前が空です", "the name is empty");
  if (name.size() > 4096)
    return L("名前が長すぎます (4096 バイトまで)", "the name is too long (at most 4096 bytes)");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return L("制御文字を含んでいます", "it contains a control character");
  }
  if (name.front() == '/') return L("絶対パスは使えません", "it must not be an absolute path");
  if (name.back() == '/') return L("末尾を / にはできません", "it must not end with /");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string part = name.substr(start, end - start);
    if (part.empty()) return L("空の要素 (//) を含んでいます", "it has an empty component (//)");
    if (part == "." || part == "..")
      return L(". や .. の要素は使えません", "it must not have a . or .. component");
    start = end + 1;
  }
  return "";
}

}  // namespace

Status ValidateStreamName(const std::string& name, const std::string& flag) {
  std::string problem = Problem(name);
  if (problem.empty()) return Status::Ok();
  return Status::InvalidArgument(
      Tr("{} のストリーム名 \"{}\" は使えません: {}。\"db.dump\" や \"daily/db.sql\" "
         "のような相対名にしてください",
         "{}: stream name \"{}\" cannot be used: {}; use a relative name such as \"db.dump\" or "
         "\"daily/db.sql\"",
         flag, Visible(name.size() > 200 ? name.substr(0, 200) + "…" : name), problem));
}

Status EmptyStreamRefused(const std::string& name, const std::string& allow) {
  return Status::SourceFailed(
      Tr("ストリーム {} が空 (0 バイト) でした。出力するコマンド (パイプの前の pg_dump など) が"
         "失敗した可能性があります。そのコマンドのエラーを確認してください。空で正しい場合は {} "
         "を指定してください",
         "stream {} was empty (0 bytes): the command that writes it (pg_dump before the pipe, ...) "
         "probably failed; check its errors. If empty is correct, use {}",
         name, allow));
}

}  // namespace kura
