// The agent's client against servers that break the profile (G-ENC-02, G-ENC-03): a raw
// OpenSSL server on 127.0.0.1 that speaks only TLS 1.1, or only CBC suites, with the
// right (pinned) certificate. The client must refuse both before sending a request.
#include "net/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "net/net_support.h"
#include "support/repo_testing.h"

namespace kura::net {
namespace {

// Accepts one connection and tries a handshake with `ctx`; records whether any request
// bytes arrived after it.
class OneShotTlsServer {
 public:
  explicit OneShotTlsServer(SSL_CTX* ctx) : ctx_(ctx) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        handshake_ok_ = true;
        char buf[256];
        if (SSL_read(ssl, buf, sizeof buf) > 0) got_request_ = true;
      }
      SSL_free(ssl);
      ::close(fd);
    });
  }
  ~OneShotTlsServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    if (thread_.joinable()) thread_.join();
  }
  uint16_t port() const { return port_; }
  void Join() { thread_.join(); }
  bool handshake_ok() const { return handshake_ok_; }
  bool got_request() const { return got_request_; }

 private:
  SSL_CTX* ctx_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> handshake_ok_{false};
  std::atomic<bool> got_request_{false};
};

class NetClientProfileTest : public ::testing::Test {
 protected:
  void SetUp() override { cert_ = testing::MakeTestCert(dir_.path()); }

  SSL_CTX* ServerContext() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_security_level(ctx, 0);
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx, cert_.cert_path.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx, cert_.key_path.c_str(), SSL_FILETYPE_PEM), 1);
    return ctx;
  }

  Result<ClientResponse> Send(uint16_t port) {
    ClientOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(port);
    o.pin = cert_.fingerprint;
    auto client = HttpClient::Create(o);
    EXPECT_TRUE(client.ok());
    ClientRequest req;
    req.path = "/ping";
    return (*client)->Send(req);
  }

  kura::testing::TempDir dir_;
  testing::TestCert cert_;
};

TEST_F(NetClientProfileTest, RefusesATls11OnlyServer) {
  SSL_CTX* ctx = ServerContext();
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  OneShotTlsServer server(ctx);
  auto resp = Send(server.port());
  server.Join();
  SSL_CTX_free(ctx);
  EXPECT_FALSE(resp.ok());
  // A refusal by protocol is final: retrying it would only delay the error.
  EXPECT_NE(resp.status().code(), Code::kRetryable) << resp.status().ToString();
  EXPECT_FALSE(server.handshake_ok());
  EXPECT_FALSE(server.got_request());
}

TEST_F(NetClientProfileTest, RefusesACbcOnlyServer) {
  SSL_CTX* ctx = ServerContext();
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA");
  OneShotTlsServer server(ctx);
  auto resp = Send(server.port());
  server.Join();
  SSL_CTX_free(ctx);
  EXPECT_FALSE(resp.ok());
  EXPECT_FALSE(server.handshake_ok());
  EXPECT_FALSE(server.got_request());
}

// A vault killed or restarting resets connections in the middle of the TLS handshake: that
// may pass, so it is kRetryable (the agent's retries then finish the send), unlike the
// profile refusals above. Found by VaultLoadTest's SIGKILL churn.
TEST_F(NetClientProfileTest, AResetDuringTheHandshakeIsRetryable) {
  int listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listen_fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread server([listen_fd] {
    int fd = ::accept(listen_fd, nullptr, nullptr);
    if (fd < 0) return;
    char hello[512];
    (void)::read(fd, hello, sizeof hello);  // the ClientHello, then a reset instead of an answer
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd);
  });
  auto resp = Send(ntohs(addr.sin_port));
  server.join();
  ::close(listen_fd);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kRetryable) << resp.status().ToString();
}

// The control: the same raw server with an AEAD suite is accepted, so the refusals above
// are the profile's doing.
TEST_F(NetClientProfileTest, AcceptsTheSameServerWithAnAeadSuite) {
  SSL_CTX* ctx = ServerContext();
  SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256");
  OneShotTlsServer server(ctx);
  auto resp = Send(server.port());  // the raw server answers nothing: the send fails after
  server.Join();
  SSL_CTX_free(ctx);
  EXPECT_TRUE(server.handshake_ok());
  EXPECT_TRUE(server.got_request());
  EXPECT_FALSE(resp.ok());
}

}  // namespace
}  // namespace kura::net
