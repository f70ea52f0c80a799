// Self-signed certificates for `kura-vault init` (tls.h). P-256 rather than Ed25519: every
// TLS 1.2 client kura may meet (curl, OpenSSL 1.1, Windows Schannel) accepts ECDSA P-256,
// while Ed25519 certificates are still refused by some.
#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "net/tls.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/i18n.h"

namespace kura::net {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status Fail(const char* what) {
  ERR_clear_error();
  return Status::Internal(
      Tr("自己署名証明書を作れません ({})", "cannot make the self-signed certificate ({})", what));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(google-runtime-int): OpenSSL's type
  return std::string(data, static_cast<size_t>(n));
}

bool IsIpLiteral(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

Status AddSubjectAltNames(X509* cert, const std::vector<std::string>& names) {
  if (names.empty()) return Status::Ok();
  std::string san;
  for (const std::string& n : names) {
    if (n.empty() || n.find_first_of(",\r\n") != std::string::npos) {
      return Status::InvalidArgument(
          Tr("証明書の名前 \"{}\" は使えません", "\"{}\" cannot be a certificate name", n));
    }
    if (!san.empty()) san += ",";
    san += (IsIpLiteral(n) ? "IP:" : "DNS:") + n;
  }
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  if (ext == nullptr) return Fail("subjectAltName");
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : Fail("add subjectAltName");
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
  if (ext == nullptr) return Fail(value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status::Ok() : Fail(value);
}

}  // namespace

Result<SelfSigned> MakeSelfSigned(const std::string& common_name, const std::vector<std::string>& names,
                                  int64_t now_unix, int valid_days) {
  if (common_name.empty() || valid_days <= 0) {
    return Status::InvalidArgument(Tr("証明書の名前と有効日数を指定してください",
                                      "give the certificate a name and a positive validity in days"));
  }
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Fail("EVP_EC_gen");
  CertPtr cert(X509_new());
  if (!cert) return Fail("X509_new");
  X509_set_version(cert.get(), 2);
  uint8_t serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Fail("RAND_bytes");
  serial[0] &= 0x7f;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(bn);
    return Fail("serial");
  }
  BN_free(bn);
  const time_t not_before = static_cast<time_t>(now_unix - 3600);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(cert.get()), static_cast<time_t>(now_unix), valid_days, 0) ==
          nullptr) {
    return Fail("validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return Fail("set_pubkey");
  KURA_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  KURA_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  KURA_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  KURA_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), names));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Fail("X509_sign");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Fail("PEM");
  }
  SelfSigned out;
  out.cert_pem = BioText(cert_bio.get());
  out.key_pem = BioText(key_bio.get());
  out.fingerprint = FingerprintOfX509(cert.get());
  return out;
}

Status WriteSelfSigned(const SelfSigned& made, const std::string& cert_path, const std::string& key_path) {
  int fd = ::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, L("秘密鍵の作成", "creating the private key"), key_path);
  ::fchmod(fd, 0600);  // whatever the umask
  size_t done = 0;
  while (done < made.key_pem.size()) {
    ssize_t n = ::write(fd, made.key_pem.data() + done, made.key_pem.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(key_path.c_str());
      return ErrnoStatus(err, L("秘密鍵の書き込み", "writing the private key"), key_path);
    }
    done += static_cast<size_t>(n);
  }
  int sync_rc = ::fsync(fd);
  int sync_err = errno;
  int close_rc = ::close(fd);
  if (sync_rc != 0 || close_rc != 0) {
    int err = sync_rc != 0 ? sync_err : errno;
    ::unlink(key_path.c_str());
    return ErrnoStatus(err, L("秘密鍵の書き込み", "writing the private key"), key_path);
  }
  const auto* p = reinterpret_cast<const uint8_t*>(made.cert_pem.data());
  return WriteFileAtomic(cert_path, ByteView(p, made.cert_pem.size()), 0644);
}

}  // namespace kura::net
