#include "cli_common/program.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "util/i18n.h"
#include "util/text.h"

namespace kura::cli_common {

void HardenProcess() {
  std::signal(SIGPIPE, SIG_IGN);
  struct rlimit no_core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0);
}

bool ChooseLanguage(int argc, char** argv, std::string_view program) {
  Language lang = LanguageFromEnvironment();
  SetLanguage(lang);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    std::optional<std::string_view> value;
    if (a == "--lang" && i + 1 < argc)
      value = argv[++i];
    else if (a.starts_with("--lang="))
      value = a.substr(7);
    if (!value) continue;
    if (*value == "ja") {
      lang = Language::kJapanese;
    } else if (*value == "en") {
      lang = Language::kEnglish;
    } else {
      std::string line =
          Tr("{}: 使い方が正しくありません: --lang には ja (日本語) か en (英語) を指定してください "
             "(指定: \"{}\")\n",
             "{}: usage error: --lang must be ja (Japanese) or en (English) (got \"{}\")\n", program,
             EscapeText(*value));
      std::fputs(line.c_str(), stderr);
      return false;
    }
  }
  SetLanguage(lang);
  return true;
}

std::optional<int> ParseArguments(CLI::App& app, int argc, char** argv, std::string_view program,
                                  int usage_exit) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string line = Tr("{0}: 使い方が正しくありません: {1}\n{0} --help で使い方を確認してください\n",
                          "{0}: usage error: {1}\nsee {0} --help\n", program, EscapeText(e.what()));
    std::fputs(line.c_str(), stderr);
    return usage_exit;
  }
  return std::nullopt;
}

void PrintErrorLine(std::string_view program, std::string_view message) {
  std::string line = Tr("{}: エラー: {}\n", "{}: error: {}\n", program, EscapeText(message));
  std::fputs(line.c_str(), stderr);
}

void PrintWarningLine(std::string_view program, std::string_view message) {
  std::string line = Tr("{}: 警告: {}\n", "{}: warning: {}\n", program, EscapeText(message));
  std::fputs(line.c_str(), stderr);
}

nlohmann::json FailureJson(const Status& status, int exit_code) {
  return {{"ok", false},
          {"error", {{"code", CodeName(status.code())}, {"message", status.message()}}},
          {"exit_code", exit_code}};
}

}  // namespace kura::cli_common
