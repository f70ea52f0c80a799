#include "vault_cli/server_setup.h"

#include <unistd.h>

#include "util/fs.h"
#include "util/i18n.h"

namespace kura::vault_cli {

// Ten years: agents pin the certificate, so replacing it means enrolling every site again.
static constexpr int kCertificateDays = 3650;

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

static bool TomlSafe(const std::string& path) {
  for (char c : path) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return !path.empty();
}

Result<TlsSetup> SetUpTls(const std::string& data_dir, const std::vector<std::string>& sans,
                          const std::string& given_cert, const std::string& given_key, int64_t now_unix) {
  TlsSetup out;
  if (!given_cert.empty() || !given_key.empty()) {
    if (given_cert.empty() || given_key.empty() || given_cert.front() != '/' || given_key.front() != '/' ||
        !TomlSafe(given_cert) || !TomlSafe(given_key)) {
      return Status::InvalidArgument(Tr("--tls-cert と --tls-key は両方を絶対パスで指定してください",
                                        "give both --tls-cert and --tls-key, as absolute paths"));
    }
    KURA_ASSIGN_OR_RETURN(auto ctx, net::TlsServerContext::Load(given_cert, given_key));
    out.certificate = given_cert;
    out.key = given_key;
    out.fingerprint = ctx->fingerprint();
    return out;
  }
  std::string host = HostName();
  std::vector<std::string> names = {host, "127.0.0.1", "::1"};
  for (const std::string& s : sans) {
    if (s.empty() || !TomlSafe(s)) {
      return Status::InvalidArgument(Tr("--san \"{}\" は使えません", "--san \"{}\" is not usable", s));
    }
    names.push_back(s);
  }
  KURA_ASSIGN_OR_RETURN(net::SelfSigned made, net::MakeSelfSigned(host, names, now_unix, kCertificateDays));
  KURA_RETURN_IF_ERROR(MakeDirs(data_dir + "/tls", 0700));
  KURA_RETURN_IF_ERROR(
      net::WriteSelfSigned(made, data_dir + "/tls/server.crt", data_dir + "/tls/server.key"));
  out.certificate = "tls/server.crt";
  out.key = "tls/server.key";
  out.fingerprint = made.fingerprint;
  return out;
}

}  // namespace kura::vault_cli
