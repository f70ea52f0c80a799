// What every kura command shares: global flags, the config file, credentials, opening the
// repository. Secrets come from files, the environment, the config file or a terminal
// prompt — never from the command line, where `ps` would show them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kura/status.h"
#include "repo/keys.h"
#include "repo/repository.h"

namespace kura::cli {

struct GlobalOptions {
  std::string repo;               // --repo / -r, else KURA_REPOSITORY, else config `repository`
  std::string password_file;      // --password-file, else KURA_PASSWORD_FILE, else config `password_file`
  std::string key_file;           // --key-file, else KURA_KEY_FILE, else config `key_file`
  std::string recovery_key_file;  // --recovery-key-file (vendor restores), else KURA_RECOVERY_KEY_FILE
  std::string config;             // --config, else KURA_CONFIG, else ~/.config/kura/kura.toml if present
  std::string lang;               // --lang ja|en
  bool json = false;
  bool quiet = false;
  bool no_progress = false;
};

class Context {
 public:
  GlobalOptions opts;

  // Loads the config file (if any); call once after parsing flags.
  Status LoadConfig();
  Result<std::string> RepositoryLocation() const;
  // For `init` the password is asked twice on a terminal.
  Result<Credentials> LoadCredentials(bool confirm) const;
  Result<std::unique_ptr<Repository>> OpenRepository() const;
  bool ShowProgress() const { return !opts.no_progress && !opts.json && !opts.quiet; }
  // Prints human output unless --json or --quiet.
  void Say(const std::string& text) const;

  // Storage for one command's parsed flags, owned by this Context: the values live as long
  // as the run, and nothing is kept in function statics (a second run in one process, as
  // in the tests, starts from the defaults). Capture the reference in the command's lambda.
  template <class T>
  T& NewFlags() {
    auto flags = std::make_shared<T>();
    T& ref = *flags;
    flags_.push_back(std::move(flags));
    return ref;
  }

 private:
  std::string config_repo_, config_password_file_, config_key_file_;
  std::vector<std::shared_ptr<void>> flags_;
};

// Reads a secret from a terminal without echo. kInvalidArgument when stdin is no terminal.
Result<std::string> PromptSecret(const std::string& prompt);

}  // namespace kura::cli
