#include "cli/context.h"

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <toml.hpp>

#include "objstore/object_store.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/i18n.h"
#include "util/secret_file.h"
#include "util/text.h"
#include "util/toml_text.h"

namespace kura::cli {

static std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Status Context::LoadConfig() {
  std::string path = opts.config.empty() ? Env("KURA_CONFIG") : opts.config;
  bool explicit_path = !path.empty();
  if (path.empty() && !Env("HOME").empty()) path = Env("HOME") + "/.config/kura/kura.toml";
  if (path.empty() || (!explicit_path && !PathExists(path))) return Status::Ok();
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    return Status(text.status().code(), Tr("設定ファイルを読めません: {}", "cannot read the config file: {}",
                                           text.status().message()));
  }
  // toml11 recurses per nesting level: refuse what would overflow the stack first.
  KURA_RETURN_IF_ERROR(CheckTomlNesting(*text, path));
  try {
    std::istringstream in(*text);
    const toml::value doc = toml::parse(in, path);
    config_repo_ = toml::find_or<std::string>(doc, "repository", "");
    config_password_file_ = toml::find_or<std::string>(doc, "password_file", "");
    config_key_file_ = toml::find_or<std::string>(doc, "key_file", "");
    if (doc.contains("password")) {
      return Status::InvalidArgument(
          Tr("設定ファイル {} にパスワードを直接書くことはできません。password_file を使ってください",
             "config file {}: a password may not be written in it; use password_file", path));
    }
  } catch (const std::exception& e) {
    // Never toml11's own text: it quotes the line, which may be `password = "...`.
    return TomlErrorStatus(e, path);
  }
  return Status::Ok();
}

Result<std::string> Context::RepositoryLocation() const {
  for (const std::string& candidate : {opts.repo, Env("KURA_REPOSITORY"), config_repo_}) {
    if (!candidate.empty()) return candidate;
  }
  return Status::InvalidArgument(
      L("リポジトリが指定されていません。--repo か環境変数 KURA_REPOSITORY で指定してください",
        "no repository given; use --repo or set KURA_REPOSITORY"));
}

static Result<std::string> ReadSecretFile(const std::string& path, std::optional<std::string>* with_bom) {
  WarnIfReadableByOthers(path, "パスワードファイル", "password file");
  bool had_bom = false;
  KURA_ASSIGN_OR_RETURN(std::string text, ReadPasswordFile(path, &had_bom));
  if (had_bom) *with_bom = "\xEF\xBB\xBF" + text;
  return text;
}

Result<std::string> PromptSecret(const std::string& prompt) {
  if (!::isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(
        L("パスワードが指定されていません。KURA_PASSWORD_FILE か KURA_PASSWORD を設定してください",
          "no password given; set KURA_PASSWORD_FILE or KURA_PASSWORD"));
  }
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  std::fputc('\n', stderr);
  return line;
}

Result<Credentials> Context::LoadCredentials(bool confirm) const {
  Credentials c;
  std::string key_file = !opts.key_file.empty() ? opts.key_file : Env("KURA_KEY_FILE");
  if (key_file.empty()) key_file = config_key_file_;
  if (!key_file.empty()) {
    WarnIfReadableByOthers(key_file, "鍵ファイル", "key file");
    c.key_file = key_file;
  }
  std::string recovery =
      !opts.recovery_key_file.empty() ? opts.recovery_key_file : Env("KURA_RECOVERY_KEY_FILE");
  if (!recovery.empty()) {
    WarnIfReadableByOthers(recovery, "復旧用秘密鍵ファイル", "recovery key file");
    c.recovery_secret_key_file = recovery;
  }

  std::string pw_file = !opts.password_file.empty() ? opts.password_file : Env("KURA_PASSWORD_FILE");
  if (pw_file.empty()) pw_file = config_password_file_;
  if (!pw_file.empty()) {
    KURA_ASSIGN_OR_RETURN(std::string pw, ReadSecretFile(pw_file, &c.password_with_bom));
    c.password = std::move(pw);
  } else if (const char* env_pw = std::getenv("KURA_PASSWORD"); env_pw && *env_pw) {
    c.password = env_pw;
  } else if (c.empty()) {
    KURA_ASSIGN_OR_RETURN(std::string pw, PromptSecret(L("パスワード: ", "Password: ")));
    if (confirm) {
      KURA_ASSIGN_OR_RETURN(std::string again, PromptSecret(L("パスワード (確認): ", "Password (again): ")));
      if (again != pw) {
        return Status::InvalidArgument(L("パスワードが一致しません", "the passwords do not match"));
      }
    }
    c.password = std::move(pw);
  }
  if (confirm && c.password) KURA_RETURN_IF_ERROR(CheckNewPassword(*c.password));
  return c;
}

Result<std::unique_ptr<Repository>> Context::OpenRepository() const {
  KURA_ASSIGN_OR_RETURN(std::string location, RepositoryLocation());
  KURA_ASSIGN_OR_RETURN(auto store, OpenObjectStore(location, /*create=*/false));
  KURA_ASSIGN_OR_RETURN(Credentials creds, LoadCredentials(false));
  return Repository::Open(std::move(store), creds);
}

void Context::Say(const std::string& raw) const {
  if (opts.json || opts.quiet) return;
  // Human output quotes names; no control character in one may reach the terminal.
  std::string text = EscapeText(raw);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (text.empty() || text.back() != '\n') std::fputc('\n', stdout);
}

}  // namespace kura::cli
