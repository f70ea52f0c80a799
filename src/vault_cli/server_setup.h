// The server half of `kura-vault init` (docs/vault-cli.md): the TLS certificate and key
// the vault serves with, self-signed unless the operator brings their own.
#pragma once

#include <string>
#include <vector>

#include "kura/status.h"
#include "net/tls.h"

namespace kura::vault_cli {

struct TlsSetup {
  std::string certificate;  // as vault.toml names it (relative to the data directory, or absolute)
  std::string key;
  net::Fingerprint fingerprint;
};

// With `given_cert` and `given_key` empty: a new ECDSA P-256 key (0600) and self-signed
// certificate in <data_dir>/tls/ (0700) for this host's name, 127.0.0.1, ::1 and `sans`.
// Otherwise checks the given pair (the key 0600 and belonging to the certificate).
// Errors: kInvalidArgument (a path vault.toml cannot hold, a bad pair), those of writing.
Result<TlsSetup> SetUpTls(const std::string& data_dir, const std::vector<std::string>& sans,
                          const std::string& given_cert, const std::string& given_key, int64_t now_unix);

// This machine's host name ("localhost" when it has none).
std::string HostName();

}  // namespace kura::vault_cli
