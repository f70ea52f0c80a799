#include "util/i18n.h"

#include <atomic>
#include <cstdlib>

namespace kura {

static std::atomic<Language> g_language{Language::kJapanese};

void SetLanguage(Language lang) {
  g_language.store(lang, std::memory_order_relaxed);
}
Language CurrentLanguage() {
  return g_language.load(std::memory_order_relaxed);
}

bool ParseLanguage(std::string_view name, Language* out) {
  if (name.starts_with("en")) {
    *out = Language::kEnglish;
    return true;
  }
  if (name.starts_with("ja")) {
    *out = Language::kJapanese;
    return true;
  }
  return false;
}

Language LanguageFromEnvironment() {
  for (const char* var : {"KURA_LANG", "LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v == nullptr || *v == '\0') continue;
    Language lang;
    if (ParseLanguage(v, &lang)) return lang;
    return Language::kJapanese;  // "C", "C.UTF-8", ...: kura's default
  }
  return Language::kJapanese;
}

}  // namespace kura
