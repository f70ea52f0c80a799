#include "vault_cli/context.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli_common/program.h"
#include "util/i18n.h"
#include "util/text.h"
#include "vault_cli/exit_codes.h"

namespace kura::vault_cli {

std::string DataDir(const Context& ctx) {
  if (!ctx.opts.data_dir.empty()) return ctx.opts.data_dir;
  if (const char* d = std::getenv("KURA_VAULT_DATA_DIR"); d && *d) return d;
  return kDefaultDataDir;
}

crypto::Argon2Params PasswordCost() {
  crypto::Argon2Params p;
  if (const char* mem = std::getenv("KURA_ARGON2_MEM_KIB")) {
    uint64_t kib = std::strtoull(mem, nullptr, 10);
    if (kib >= 8192) p.mem_limit = kib * 1024;
  }
  if (const char* ops = std::getenv("KURA_ARGON2_OPS")) {
    uint64_t n = std::strtoull(ops, nullptr, 10);
    if (n >= 1) p.ops_limit = n;
  }
  return p;
}

Result<OpenVault> Open(const Context& ctx) {
  OpenVault v;
  KURA_ASSIGN_OR_RETURN(v.config, vault::LoadVaultConfig(DataDir(ctx)));
  vault::CatalogOptions options;
  options.password_cost = PasswordCost();
  KURA_ASSIGN_OR_RETURN(v.catalog, vault::Catalog::Open(v.config.catalog_path, *ctx.clock, options));
  return v;
}

vault::AuditActor ConsoleActor() {
  vault::AuditActor a;
  a.kind = "os_user";
  uid_t uid = ::geteuid();
  std::string name = "?";
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) name = found->pw_name;
  a.id = fmt::format("{} (uid {})", name, uid);
  a.source_ip = "local";
  char tty[256];
  if (::ttyname_r(STDIN_FILENO, tty, sizeof tty) == 0) a.terminal = tty;
  return a;
}

void PrintLine(const std::string& text) {
  std::string line = EscapeText(text) + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
}

void PrintWarning(const std::string& text) {
  cli_common::PrintWarningLine("kura-vault", text);
}

int Fail(const Context& ctx, const Status& status) {
  int code = ExitCodeFor(status);
  if (ctx.opts.json) PrintJson(cli_common::FailureJson(status, code));
  cli_common::PrintErrorLine("kura-vault", status.message());
  return code;
}

}  // namespace kura::vault_cli
