// kura-vault's one logging facade: lines to stderr (which systemd's journal collects), with
// a level. Never log a secret (token, password, code) or a request's query string.
//
// Thread-safe (spdlog's stderr sink is).
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace kura::vault {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Default: kInfo. Call before starting threads.
void SetLogLevel(LogLevel level);
void LogLine(LogLevel level, std::string_view text);
// Text from a client, made safe for one log line (control characters escaped, cut to 128).
std::string EscapeForLog(std::string_view text);

template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogWarning(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kWarning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace kura::vault
