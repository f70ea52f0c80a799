// The vendor's side of a restore through a kura-vault grant (docs/vault-api.md §5.1):
// the grant file, where `kura restore|verify --vault URL --grant FILE|-` finds it, and
// opening the granted repository over a read-only session with the recovery key.
//
// The grant token is a secret that works once: it never comes from argv (a token given
// as --grant is refused), only from a file only its owner may read (0600), standard input
// (`-`) or the file named by KURA_GRANT_FILE; it never appears in a message.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/context.h"
#include "kura/status.h"
#include "net/tls.h"
#include "repo/repository.h"

namespace kura::cli {

// Version 1 of the grant file (docs/vault-api.md §5.1).
struct GrantFile {
  std::string vault;                            // the vault's URL; "" when the issuer did not know it
  std::optional<net::Fingerprint> fingerprint;  // the vault certificate's SHA-256
  std::string token;                            // kgr1_…: secret
  std::string snapshot;                         // the granted snapshot's ID ("" when not given)
  std::string repository;                       // the granted repository ("" when not given)
  int64_t expires = 0;                          // Unix seconds; 0 when not given
};

// A grant file's text: the JSON of version 1, or a bare kgr1_… token on one line (what
// `grant issue` printed before --output; then the fingerprint must come from
// --vault-fingerprint). Errors: kInvalidArgument saying what is wrong, never the token.
Result<GrantFile> ParseGrantFile(std::string_view text);

struct GrantFlags {
  std::string vault;        // --vault URL (Default: the grant file's)
  std::string grant;        // --grant FILE|- (Default: env KURA_GRANT_FILE, read only when
                            // --vault is given: a plain `kura restore` stays local)
  std::string fingerprint;  // --vault-fingerprint (Default: the grant file's)
  bool requested() const { return !vault.empty() || !grant.empty(); }
};
void AddGrantOptions(CLI::App* command, GrantFlags* flags);

struct GrantedRepository {
  std::unique_ptr<Repository> repo;  // on a VaultReadStore of the session
  std::string snapshot;              // the granted snapshot's full ID
  std::string url;
};

// Reads the grant, redeems it (this uses it up), and opens the granted repository with
// the recovery key (--recovery-key-file or KURA_RECOVERY_KEY_FILE, REQUIRED). The key
// file is checked before the grant is redeemed, so a missing key does not waste it.
// Errors: kInvalidArgument (no or bad grant, URL or fingerprint, no recovery key),
// kPermissionDenied (grant file readable by others; grant_used), kUnauthorized (the
// grant is unknown, forged or expired; the pin does not match; the key opens no slot).
Result<GrantedRepository> OpenGrantedRepository(const Context& ctx, const GrantFlags& flags);

}  // namespace kura::cli
