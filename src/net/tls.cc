// The TLS profile and contexts of tls.h. The cipher strings are the whole policy: they are
// checked against a live handshake in tests/net/tls_test.cc (a CBC-only, an RSA-key-exchange
// and a TLS 1.0/1.1 client are refused).
#include "net/tls.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cctype>

#include "util/fs.h"
#include "util/hex.h"
#include "util/i18n.h"

namespace kura::net {

const char* const kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char* const kTls13Ciphersuites =
    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
const char* const kTlsGroups = "X25519:P-256:P-384";

namespace {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

std::string Fingerprint::ToString() const {
  return "sha256:" + ToHex(ByteView(bytes.data(), bytes.size()));
}

Result<Fingerprint> Fingerprint::Parse(std::string_view text) {
  std::string_view rest = text;
  if (rest.size() >= 7 && (rest.substr(0, 7) == "sha256:" || rest.substr(0, 7) == "SHA256:"))
    rest.remove_prefix(7);
  std::string hex;
  for (char c : rest) {
    if (c == ':') continue;
    hex.push_back(c);
  }
  auto bytes = FromHex(hex);
  if (!bytes || bytes->size() != 32) {
    return Status::InvalidArgument(
        Tr("証明書の指紋 \"{}\" を読めません: \"sha256:\" と 64 桁の16進数で指定してください",
           "cannot read the certificate fingerprint \"{}\": give \"sha256:\" and 64 hex digits",
           std::string(text.substr(0, 100))));
  }
  Fingerprint fp;
  std::copy(bytes->begin(), bytes->end(), fp.bytes.begin());
  return fp;
}

bool Fingerprint::Equals(const Fingerprint& other) const {
  return CRYPTO_memcmp(bytes.data(), other.bytes.data(), bytes.size()) == 0;
}

Fingerprint FingerprintOfX509(X509* cert) {
  Fingerprint fp;
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), fp.bytes.data(), &len);
  return fp;
}

Result<Fingerprint> FingerprintOfPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status::Internal("BIO_new_mem_buf failed");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    ERR_clear_error();
    return Status::InvalidArgument(Tr("PEM 形式の証明書がありません", "no PEM certificate found"));
  }
  Fingerprint fp = FingerprintOfX509(cert);
  X509_free(cert);
  return fp;
}

Result<Fingerprint> FingerprintOfPemFile(const std::string& path) {
  KURA_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  auto fp = FingerprintOfPem(text);
  if (!fp.ok()) return fp.status().WithContext(path);
  return fp;
}

Status ApplyProfile(SSL_CTX* ctx) {
  SSL_CTX_set_security_level(ctx, 2);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Ciphersuites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    return Status::Internal("TLS profile rejected by OpenSSL: " + OpenSslError());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
                               SSL_OP_NO_TLSv1_1);
  return Status::Ok();
}

Status CheckKeyFileMode(const std::string& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0)
    return ErrnoStatus(errno, L("秘密鍵の確認", "checking the private key"), key_path);
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied(
        Tr("秘密鍵 {} を他のユーザーが読み書きできます (モード {:o})。chmod 600 {} "
           "を実行してからやり直してください",
           "the private key {} is accessible to other users (mode {:o}); run chmod 600 {} and try again",
           key_path, st.st_mode & 0777, key_path));
  }
  return Status::Ok();
}

namespace {

// Client certificates are accepted by the TLS layer whoever issued them (sites' are
// self-signed); the application binds them by fingerprint.
int AcceptAnyClientCert(X509_STORE_CTX* store, void*) {
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::Load(const std::string& cert_path,
                                                                 const std::string& key_path,
                                                                 ClientCerts client_certs) {
  KURA_RETURN_IF_ERROR(CheckKeyFileMode(key_path));
  KURA_ASSIGN_OR_RETURN(Fingerprint fp, FingerprintOfPemFile(cert_path));
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  std::shared_ptr<TlsServerContext> out(new TlsServerContext(ctx, fp));
  KURA_RETURN_IF_ERROR(ApplyProfile(ctx));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return Status::InvalidArgument(Tr("サーバー証明書 {} を読めません: {}",
                                      "cannot load the server certificate {}: {}", cert_path,
                                      OpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::InvalidArgument(Tr(
        "サーバーの秘密鍵 {} を読めません (暗号化されていない PEM が必要です): {}",
        "cannot load the server private key {} (it must be unencrypted PEM): {}", key_path, OpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(Tr("秘密鍵 {} は証明書 {} のものではありません",
                                      "the private key {} does not belong to the certificate {}", key_path,
                                      cert_path));
  }
  static const unsigned char kSessionContext[] = "kura-vault";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (client_certs != ClientCerts::kNone) {
    int mode =
        SSL_VERIFY_PEER | (client_certs == ClientCerts::kRequired ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, nullptr);
    SSL_CTX_set_cert_verify_callback(ctx, AcceptAnyClientCert, nullptr);
  }
  return out;
}

TlsServerContext::~TlsServerContext() {
  SSL_CTX_free(ctx_);
}

namespace {

int PinVerify(X509_STORE_CTX* store, void* arg) {
  auto* check = static_cast<PinCheck*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf == nullptr) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  check->checked = true;
  check->presented = FingerprintOfX509(leaf);
  check->matched = check->presented.Equals(check->pin);
  if (!check->matched) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace

void InstallPin(SSL_CTX* ctx, PinCheck* check) {
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, PinVerify, check);
}

std::string PinMismatchMessage(const PinCheck& check) {
  if (!check.checked) {
    return Tr("サーバーが証明書を提示しませんでした", "the server presented no certificate");
  }
  return Tr(
      "サーバーの証明書 {} は登録された証明書 {} と一致しません。接続先が正しいか確認し、"
      "保管庫の証明書を入れ替えた場合はサイトを登録し直してください",
      "the server's certificate {} does not match the enrolled certificate {}; check the address, and "
      "enrol the site again if the vault's certificate was replaced",
      check.presented.ToString(), check.pin.ToString());
}

namespace {

// The shared client context only compares: handshakes on several threads must not write
// to one PinCheck.
int PinVerifyOnly(X509_STORE_CTX* store, void* arg) {
  const auto* pin = static_cast<const Fingerprint*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf == nullptr || !FingerprintOfX509(leaf).Equals(*pin)) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

}  // namespace

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::Create(const Fingerprint& pin) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  std::shared_ptr<TlsClientContext> out(new TlsClientContext(ctx));
  KURA_RETURN_IF_ERROR(ApplyProfile(ctx));
  out->pin_ = pin;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, PinVerifyOnly, &out->pin_);
  return out;
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

}  // namespace kura::net
