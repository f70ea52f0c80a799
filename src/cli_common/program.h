// Starting a command-line program the way both kura and kura-vault do: a hardened process,
// the language chosen before any help text is built, CLI11 parsing with one wording for
// usage errors, and error and warning lines that never print a name raw.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "kura/status.h"

namespace kura::cli_common {

// SIGPIPE ignored (a closed pipe or socket is an error Status, not a silent death), no core
// files and not dumpable (memory may hold a repository key, a password or a token).
void HardenProcess();

// Sets the language from the environment, then from --lang ja|en (or --lang=…) anywhere
// before "--". Returns false after saying so on stderr for any other value: a typo must not
// silently give the other language.
bool ChooseLanguage(int argc, char** argv, std::string_view program);

// app.parse(argc, argv). Returns nullopt when a command ran (the caller returns the exit
// code the command left), else the exit code to end with: 0 after --help or --version,
// `usage_exit` after a usage error (said on stderr with a pointer to `program --help`).
std::optional<int> ParseArguments(CLI::App& app, int argc, char** argv, std::string_view program,
                                  int usage_exit);

// "<program>: エラー: <message>" / "<program>: error: <message>" on stderr, escaped.
void PrintErrorLine(std::string_view program, std::string_view message);
// "<program>: 警告: <message>" / "<program>: warning: <message>" on stderr, escaped.
void PrintWarningLine(std::string_view program, std::string_view message);

// The --json form of a failure: {"ok": false, "error": {"code", "message"}, "exit_code"}.
nlohmann::json FailureJson(const Status& status, int exit_code);

}  // namespace kura::cli_common
