// Every user-facing message in kura has Japanese (the default) and English text.
//
// The language is chosen once at start-up by the CLI (SetLanguage) from --lang, KURA_LANG,
// LC_ALL, LC_MESSAGES or LANG: English when the first one set starts with "en", Japanese
// otherwise. Messages are written where they are made:
//
//   return Status::NotFound(Tr("スナップショット {} が見つかりません", "snapshot {} not found", id));
//
// Thread-safe after SetLanguage() has been called (it is called once, before any thread).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace kura {

enum class Language { kJapanese, kEnglish };

void SetLanguage(Language lang);
Language CurrentLanguage();
// Parses "ja"/"en" (and locale strings such as "en_US.UTF-8"); nullopt-like: returns
// false when `name` names neither.
bool ParseLanguage(std::string_view name, Language* out);
// The language from KURA_LANG, LC_ALL, LC_MESSAGES or LANG (first non-empty one).
Language LanguageFromEnvironment();

// Picks the text for the current language.
inline std::string L(std::string_view ja, std::string_view en) {
  return std::string(CurrentLanguage() == Language::kEnglish ? en : ja);
}

// Formats the text of `lang`: for a server, which answers each client in its own language
// rather than the process's.
template <typename... Args>
std::string TrIn(Language lang, std::string_view ja, std::string_view en, Args&&... args) {
  return fmt::vformat(lang == Language::kEnglish ? en : ja, fmt::make_format_args(args...));
}

// Picks the format string for the current language and formats it.
template <typename... Args>
std::string Tr(std::string_view ja, std::string_view en, Args&&... args) {
  return TrIn(CurrentLanguage(), ja, en, std::forward<Args>(args)...);
}

}  // namespace kura
