// Messages in a language chosen per request (a server answers each client in its own):
// the same Japanese/English pairs as util/i18n.h's Tr(), with the language passed in.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "util/i18n.h"

namespace kura::vault {

template <typename... Args>
std::string TrIn(Language lang, std::string_view ja, std::string_view en, Args&&... args) {
  return fmt::vformat(lang == Language::kEnglish ? en : ja, fmt::make_format_args(args...));
}

}  // namespace kura::vault
