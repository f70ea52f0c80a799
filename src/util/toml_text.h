// Reading kura's TOML files (kura.toml, agent.toml) safely with toml11, whose two hazards
// are that its error messages quote the offending lines (a `password = "...` line would put
// the secret on the terminal and into logs) and that its recursive parser overflows the
// stack on deeply nested input (20,000 nested arrays: SIGSEGV).
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "kura/status.h"

namespace kura {

// Deeper nesting than this (arrays, inline tables, dotted keys) is refused. kura's own
// files nest at most 4 levels. Default: 64.
inline constexpr int kMaxTomlNesting = 64;

// Scans `text` (no parsing, no recursion) and refuses input nested deeper than
// kMaxTomlNesting before it reaches toml11. Errors: kInvalidArgument naming `file` and
// the line. Strings and comments are skipped as TOML defines them.
Status CheckTomlNesting(std::string_view text, const std::string& file);

// A toml11 exception (syntax or type error) as a kInvalidArgument that names `file`, the
// line number and the kind of problem, and never any text of the file: quoted parts of
// toml11's summary are replaced by "…" and the quoted source lines are dropped.
Status TomlErrorStatus(const std::exception& e, const std::string& file);

}  // namespace kura
