#include "vault/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "util/text.h"

namespace kura::vault {

namespace {

spdlog::logger& Logger() {
  // The journal adds its own time stamps; the level is what a reader filters on.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l =
        std::make_shared<spdlog::logger>("kura-vault", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

std::string EscapeForLog(std::string_view text) {
  return EscapeText(text.substr(0, 128), false);
}

void SetLogLevel(LogLevel level) {
  Logger().set_level(ToSpd(level));
}

void LogLine(LogLevel level, std::string_view text) {
  Logger().log(ToSpd(level), "{}", text);
}

}  // namespace kura::vault
