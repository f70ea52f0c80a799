// The TLS profile against live handshakes on 127.0.0.1 (G-ENC-02, G-ENC-03, G-ENC-05):
// what the server refuses is offered by a raw OpenSSL client, and each refusal is checked
// to be the server's alert, not the client giving up on its own.
#include "net/tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <string>

#include "net/net_support.h"
#include "util/fs.h"

namespace kura::net {
namespace {

using testing::MakeTestCert;
using testing::PermissiveClientContext;
using testing::RawTlsClient;

TEST(NetFingerprintTest, ParsesTheFormsPeopleCopy) {
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  auto a = Fingerprint::Parse("sha256:" + hex);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ToString(), "sha256:" + hex);
  std::string colons;
  for (size_t i = 0; i < hex.size(); i += 2) colons += (i ? ":" : "") + hex.substr(i, 2);
  auto b = Fingerprint::Parse("SHA256:" + colons);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_FALSE(Fingerprint::Parse(hex.substr(2)).ok());
  EXPECT_FALSE(Fingerprint::Parse("sha256:" + hex + "00").ok());
  EXPECT_FALSE(Fingerprint::Parse("sha256:zz" + hex.substr(2)).ok());
  Fingerprint other = *a;
  other.bytes[31] ^= 1;
  EXPECT_FALSE(a->Equals(other));
}

TEST(NetSelfSignedTest, IsP256SignedWithSha256ForTheGivenNames) {
  auto made = MakeSelfSigned("vault.example.jp", {"vault.example.jp", "192.0.2.7", "::1"}, 1764633600, 825);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  BIO* bio = BIO_new_mem_buf(made->cert_pem.data(), static_cast<int>(made->cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  EVP_PKEY* key = X509_get0_pubkey(cert);
  char group[64] = {};
  size_t len = 0;
  EXPECT_EQ(EVP_PKEY_get_group_name(key, group, sizeof group, &len), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_check_host(cert, "vault.example.jp", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "192.0.2.7", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_NE(X509_check_host(cert, "other.example.jp", 0, 0, nullptr), 1);
  EXPECT_TRUE(FingerprintOfX509(cert).Equals(made->fingerprint));
  auto again = FingerprintOfPem(made->cert_pem);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Equals(made->fingerprint));
  X509_free(cert);
  // Two certificates never share a fingerprint (fresh key, random serial).
  auto second = MakeSelfSigned("vault.example.jp", {"vault.example.jp"}, 1764633600, 825);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->fingerprint.Equals(made->fingerprint));
}

TEST(NetSelfSignedTest, KeyIsWritten0600AndNeverOverwritten) {
  kura::testing::TempDir dir;
  auto made = MakeSelfSigned("kura-vault", {"localhost"}, 1764633600, 825);
  ASSERT_TRUE(made.ok());
  ASSERT_TRUE(WriteSelfSigned(*made, dir.Sub("c.pem"), dir.Sub("k.pem")).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("k.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto other = MakeSelfSigned("kura-vault", {"localhost"}, 1764633600, 825);
  ASSERT_TRUE(other.ok());
  Status st2 = WriteSelfSigned(*other, dir.Sub("c2.pem"), dir.Sub("k.pem"));
  EXPECT_EQ(st2.code(), Code::kAlreadyExists);
  EXPECT_EQ(kura::testing::ReadFileString(dir.Sub("k.pem")), made->key_pem);
}

TEST(NetServerContextTest, RefusesAKeyOthersCanRead) {
  kura::testing::TempDir dir;
  auto cert = MakeTestCert(dir.path());
  ASSERT_EQ(::chmod(cert.key_path.c_str(), 0640), 0);
  auto ctx = TlsServerContext::Load(cert.cert_path, cert.key_path);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), Code::kPermissionDenied);
  EXPECT_NE(ctx.status().message().find("chmod 600"), std::string::npos) << ctx.status().message();
  ASSERT_EQ(::chmod(cert.key_path.c_str(), 0600), 0);
  EXPECT_TRUE(TlsServerContext::Load(cert.cert_path, cert.key_path).ok());
}

TEST(NetServerContextTest, RefusesTheKeyOfAnotherCertificate) {
  kura::testing::TempDir dir;
  auto a = MakeTestCert(dir.path(), "a");
  auto b = MakeTestCert(dir.path(), "b");
  auto ctx = TlsServerContext::Load(a.cert_path, b.key_path);
  ASSERT_FALSE(ctx.ok());
  EXPECT_EQ(ctx.status().code(), Code::kInvalidArgument);
  auto missing = TlsServerContext::Load(a.cert_path, dir.Sub("none.pem"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

class NetTlsHandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = MakeTestCert(dir_.path());
    Router router;
    router.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
    server_ = testing::StartTestServer(cert_, std::move(router));
    ASSERT_NE(server_, nullptr);
  }

  // A permissive client limited to [min, max] and, when non-empty, these TLS 1.2 suites
  // and TLS 1.3 suites.
  static SSL_CTX* Client(int min, int max, const char* tls12 = nullptr, const char* tls13 = nullptr) {
    SSL_CTX* ctx = PermissiveClientContext();
    SSL_CTX_set_min_proto_version(ctx, min);
    SSL_CTX_set_max_proto_version(ctx, max);
    if (tls12 != nullptr) {
      EXPECT_EQ(SSL_CTX_set_cipher_list(ctx, tls12), 1) << tls12;
    }
    if (tls13 != nullptr) {
      EXPECT_EQ(SSL_CTX_set_ciphersuites(ctx, tls13), 1) << tls13;
    }
    return ctx;
  }

  // Handshakes with `ctx` (freed here); returns the reason of the failure, 0 on success.
  int Handshake(SSL_CTX* ctx, std::string* cipher = nullptr, int* version = nullptr) {
    RawTlsClient client(ctx);
    SSL_CTX_free(ctx);
    if (!client.Connect(server_->port())) return client.error_reason() != 0 ? client.error_reason() : -1;
    if (cipher != nullptr) *cipher = SSL_get_cipher_name(client.ssl());
    if (version != nullptr) *version = SSL_version(client.ssl());
    EXPECT_TRUE(client.Write("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(testing::StatusOf(client.ReadResponse()), 200);
    return 0;
  }

  kura::testing::TempDir dir_;
  testing::TestCert cert_;
  std::unique_ptr<HttpServer> server_;
};

// G-ENC-02: TLS 1.2 is spoken, with an AEAD suite and forward secrecy.
TEST_F(NetTlsHandshakeTest, Tls12ClientGetsAnEcdheAeadSuite) {
  std::string cipher;
  int version = 0;
  ASSERT_EQ(Handshake(Client(TLS1_2_VERSION, TLS1_2_VERSION), &cipher, &version), 0);
  EXPECT_EQ(version, TLS1_2_VERSION);
  EXPECT_EQ(cipher.rfind("ECDHE-", 0), 0u) << cipher;
  EXPECT_TRUE(cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos)
      << cipher;
}

TEST_F(NetTlsHandshakeTest, Tls13ClientIsServed) {
  std::string cipher;
  int version = 0;
  ASSERT_EQ(Handshake(Client(TLS1_3_VERSION, TLS1_3_VERSION), &cipher, &version), 0);
  EXPECT_EQ(version, TLS1_3_VERSION);
}

TEST_F(NetTlsHandshakeTest, Tls12ChaCha20Poly1305IsAccepted) {
  std::string cipher;
  ASSERT_EQ(Handshake(Client(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305"), &cipher), 0);
  EXPECT_EQ(cipher, "ECDHE-ECDSA-CHACHA20-POLY1305");
}

// G-ENC-02: TLS 1.0 and 1.1 are refused by the server with a protocol_version alert.
TEST_F(NetTlsHandshakeTest, Tls10And11AreRefused) {
  EXPECT_EQ(Handshake(Client(TLS1_VERSION, TLS1_VERSION)), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  EXPECT_EQ(Handshake(Client(TLS1_VERSION, TLS1_1_VERSION)), SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
}

// G-ENC-03: no CBC suite, no RSA key exchange, no SHA-1 MAC, no CCM_8 in TLS 1.3.
TEST_F(NetTlsHandshakeTest, CbcOnlyClientIsRefused) {
  EXPECT_EQ(Handshake(Client(TLS1_2_VERSION, TLS1_2_VERSION,
                             "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:"
                             "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA256")),
            SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
}

TEST_F(NetTlsHandshakeTest, RsaKeyExchangeIsRefused) {
  EXPECT_EQ(Handshake(Client(TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256:AES256-GCM-SHA384")),
            SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
}

TEST_F(NetTlsHandshakeTest, Tls13Ccm8OnlyIsRefused) {
  EXPECT_EQ(Handshake(Client(TLS1_3_VERSION, TLS1_3_VERSION, nullptr, "TLS_AES_128_CCM_8_SHA256")),
            SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE);
}

TEST_F(NetTlsHandshakeTest, RenegotiationIsRefused) {
  SSL_CTX* ctx = Client(TLS1_2_VERSION, TLS1_2_VERSION);
  RawTlsClient client(ctx);
  SSL_CTX_free(ctx);
  ASSERT_TRUE(client.Connect(server_->port()));
  client.SetBlocking();
  ASSERT_EQ(SSL_renegotiate(client.ssl()), 1);
  // The server answers the new ClientHello with a no_renegotiation alert.
  ERR_clear_error();
  EXPECT_NE(SSL_do_handshake(client.ssl()), 1);
  EXPECT_EQ(ERR_GET_REASON(ERR_peek_error()), SSL_R_NO_RENEGOTIATION);
  ERR_clear_error();
}

// G-ENC-05: the agent's client context accepts exactly the pinned certificate.
TEST_F(NetTlsHandshakeTest, PinnedClientAcceptsOnlyThePinnedCertificate) {
  auto good = TlsClientContext::Create(cert_.fingerprint);
  ASSERT_TRUE(good.ok());
  RawTlsClient ok_client((*good)->native());
  EXPECT_TRUE(ok_client.Connect(server_->port()));

  Fingerprint wrong = cert_.fingerprint;
  wrong.bytes[0] ^= 0x80;
  auto bad = TlsClientContext::Create(wrong);
  ASSERT_TRUE(bad.ok());
  RawTlsClient bad_client((*bad)->native());
  EXPECT_FALSE(bad_client.Connect(server_->port()));
  EXPECT_EQ(bad_client.error_reason(), SSL_R_CERTIFICATE_VERIFY_FAILED);
}

}  // namespace
}  // namespace kura::net
