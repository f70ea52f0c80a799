#include "util/toml_text.h"

#include <algorithm>
#include <toml.hpp>

#include "util/i18n.h"

namespace kura {

namespace {

Status TooDeep(const std::string& file, int line) {
  return Status::InvalidArgument(
      Tr("設定ファイル {} の {} 行目: 入れ子が深すぎます ({} 段まで)。"
         "配列・インラインテーブル・ドット区切りのキーの入れ子を減らしてください",
         "config file {}, line {}: nested too deeply (at most {} levels); reduce the "
         "nesting of arrays, inline tables or dotted keys",
         file, line, kMaxTomlNesting));
}

// toml11's first line, e.g. `[error] toml::parse_basic_string: the next token is not a valid
// string`, without the prefix and with every quoted part replaced: a key or a value can be
// anything, including a secret. Short backquoted parts are toml11's own tokens (`=`, `,`).
std::string Summary(std::string_view what) {
  std::string_view first = what.substr(0, what.find('\n'));
  if (first.starts_with("[error] ")) first.remove_prefix(8);
  if (first.starts_with("toml::")) {
    size_t colon = first.find(": ");
    if (colon != std::string_view::npos) first.remove_prefix(colon + 2);
  }
  std::string out;
  for (size_t i = 0; i < first.size(); ++i) {
    char c = first[i];
    if (c == '"' || c == '\'' || c == '`') {
      size_t end = first.find(c, i + 1);
      if (end == std::string_view::npos) end = first.size();
      std::string_view inner = first.substr(i + 1, end - i - 1);
      bool token = c == '`' && inner.size() <= 3;
      out += c;
      out += token ? std::string(inner) : std::string("…");
      if (end < first.size()) out += c;
      i = end;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Status CheckTomlNesting(std::string_view s, const std::string& file) {
  int depth = 0, line = 1, dots = 0;
  size_t i = 0;
  auto skip_to = [&](std::string_view end_mark, bool escapes) {
    while (i < s.size()) {
      if (escapes && s[i] == '\\') {
        if (i + 1 < s.size() && s[i + 1] == '\n') ++line;
        i += 2;
        continue;
      }
      if (s.substr(i, end_mark.size()) == end_mark) {
        i += end_mark.size();
        return;
      }
      if (s[i] == '\n') ++line;
      ++i;
    }
  };
  while (i < s.size()) {
    char c = s[i];
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      bool multi = s.substr(i, 3) == std::string_view(c == '"' ? "\"\"\"" : "'''");
      std::string_view mark = multi ? s.substr(i, 3) : s.substr(i, 1);
      i += mark.size();
      skip_to(mark, c == '"');
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > kMaxTomlNesting) return TooDeep(file, line);
      dots = 0;
    } else if (c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
    } else if (c == '.') {
      // A float has one dot, a time one; a dotted key as many as it has parts.
      if (++dots > kMaxTomlNesting) return TooDeep(file, line);
    } else if (c == '=' || c == ',' || c == '\n') {
      dots = 0;
    }
    if (c == '\n') ++line;
    ++i;
  }
  return Status::Ok();
}

Status TomlErrorStatus(const std::exception& e, const std::string& file) {
  std::string summary = Summary(e.what());
  if (const auto* t = dynamic_cast<const toml::exception*>(&e)) {
    return Status::InvalidArgument(
        Tr("設定ファイル {} の {} 行目を読めません: {} (秘密が含まれうるため行の内容は表示しません)",
           "config file {}, line {}: cannot read it: {} (the line is not shown: it may hold a "
           "secret)",
           file, t->location().line(), summary));
  }
  return Status::InvalidArgument(
      Tr("設定ファイル {} を読めません: {}", "cannot read config file {}: {}", file, summary));
}

}  // namespace kura
