// TLS for kura-vault and the agent's vault client (docs/vault-http.md, "TLS profile").
//
// One profile for both ends, the IPA/CRYPTREC "high security" type: TLS 1.2 and 1.3 only;
// TLS 1.2 suites are ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no RSA key exchange,
// no SHA-1 MAC); TLS 1.3 suites AES-256-GCM, AES-128-GCM, ChaCha20-Poly1305 (no CCM_8);
// groups X25519, P-256, P-384; no compression, no renegotiation, no session tickets;
// OpenSSL security level 2.
//
// The agent does not trust a CA: it pins the vault's certificate by the SHA-256 of its DER
// bytes, which the enrolment code carries (no trust on first use).
//
// Thread safety: a context is immutable after construction and may be shared by threads.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"

namespace kura::net {

// The cipher strings of the profile (OpenSSL syntax), exposed for tests and the spec.
extern const char* const kTls12Ciphers;
extern const char* const kTls13Ciphersuites;
extern const char* const kTlsGroups;

// SHA-256 of a certificate's DER encoding.
struct Fingerprint {
  std::array<uint8_t, 32> bytes{};

  // "sha256:" followed by 64 lowercase hex digits.
  std::string ToString() const;
  // Accepts "sha256:<hex>", "<hex>" and the colon-separated form OpenSSL prints
  // ("AB:CD:..."), in either case. kInvalidArgument otherwise.
  static Result<Fingerprint> Parse(std::string_view text);
  // Constant-time comparison.
  bool Equals(const Fingerprint& other) const;
};

// The fingerprint of the first certificate in a PEM text / file.
Result<Fingerprint> FingerprintOfPem(std::string_view pem);
Result<Fingerprint> FingerprintOfPemFile(const std::string& path);
Fingerprint FingerprintOfX509(X509* cert);

// Applies the profile (versions, suites, groups, options) to a context made by the caller,
// for libraries that make their own SSL_CTX (libcurl's CURLOPT_SSL_CTX_FUNCTION).
// Errors: kInternal if OpenSSL rejects the profile (it never should).
Status ApplyProfile(SSL_CTX* ctx);

// Whether the server asks clients for a certificate (G-ENC-04, mutual authentication).
// The TLS layer checks only that the client holds the key of the certificate it shows;
// which certificates are allowed (a site's enrolled certificate, by fingerprint) is the
// caller's decision, made on Request::client_cert before any handler runs.
enum class ClientCerts {
  kNone,      // no certificate requested. Default
  kOptional,  // requested; a client without one still connects
  kRequired,  // a client without one is refused in the handshake
};

// A server context with the profile and a certificate chain and private key from PEM files.
class TlsServerContext {
 public:
  // `cert_path`: the server certificate, optionally followed by intermediates.
  // `key_path`: its private key, unencrypted PEM; it must not be readable or writable by
  // group or others (mode 0600 or stricter), else kPermissionDenied saying to chmod 600.
  // Errors: kNotFound / kIOError reading the files, kInvalidArgument when they are not
  // PEM, kInvalidArgument when the key does not belong to the certificate.
  static Result<std::shared_ptr<TlsServerContext>> Load(const std::string& cert_path,
                                                        const std::string& key_path,
                                                        ClientCerts client_certs = ClientCerts::kNone);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // Borrowed; valid while this object lives.
  SSL_CTX* native() const { return ctx_; }
  // The fingerprint of the server's own (leaf) certificate.
  const Fingerprint& fingerprint() const { return fingerprint_; }

 private:
  TlsServerContext(SSL_CTX* ctx, Fingerprint fp) : ctx_(ctx), fingerprint_(fp) {}
  SSL_CTX* ctx_;
  Fingerprint fingerprint_;
};

// A client context with the profile that accepts exactly one server certificate, named by
// its fingerprint; no CA store, no host name check (the pin names the server exactly).
class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> Create(const Fingerprint& pin);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* native() const { return ctx_; }

 private:
  explicit TlsClientContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
  Fingerprint pin_;  // the verify callback's argument: lives as long as ctx_
};

// What the pinning verifier saw, for a clear error after a failed handshake.
struct PinCheck {
  Fingerprint pin;
  bool checked = false;  // a server certificate was presented and compared
  bool matched = false;
  Fingerprint presented;  // valid when checked
};

// Installs the pinning verifier on `ctx` (SSL_VERIFY_PEER plus a certificate verify
// callback that compares the leaf's fingerprint with `check->pin` and records the result).
// REQUIRES: `check` outlives every handshake made with `ctx`.
void InstallPin(SSL_CTX* ctx, PinCheck* check);

// The message for a handshake refused by the pin: names both fingerprints and says to
// re-enrol or ask the vendor if the vault's certificate was replaced.
std::string PinMismatchMessage(const PinCheck& check);

// A new self-signed certificate and key for `kura-vault init`: ECDSA P-256 (supported by
// every TLS 1.2 stack), SHA-256 signature, a random 128-bit serial, valid from `now_unix`
// minus one hour for `valid_days`, subject CN `common_name`, subjectAltName for every entry
// of `names` (an IPv4/IPv6 literal becomes an IP entry, anything else a DNS entry).
struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted: write it 0600
  Fingerprint fingerprint;
};
Result<SelfSigned> MakeSelfSigned(const std::string& common_name, const std::vector<std::string>& names,
                                  int64_t now_unix, int valid_days);

// kPermissionDenied (saying to chmod 600) when group or others may access the key file
// at `key_path`; the errors of stat otherwise.
Status CheckKeyFileMode(const std::string& key_path);

// Writes `made` to `cert_path` (0644) and `key_path` (0600, created exclusively: an
// existing key is never overwritten, kAlreadyExists).
Status WriteSelfSigned(const SelfSigned& made, const std::string& cert_path, const std::string& key_path);

}  // namespace kura::net
