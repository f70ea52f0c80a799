#include "net/net_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "util/clock.h"
#include "util/fs.h"

namespace kura::net::testing {

// Several tests write into connections the server has just closed (that is their point):
// the write must fail with EPIPE, as in kura and kura-vault (which ignore SIGPIPE), not
// kill the test binary.
[[maybe_unused]] const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TestCert MakeTestCert(const std::string& dir, const std::string& name) {
  TestCert out;
  out.cert_path = dir + "/" + name + ".pem";
  out.key_path = dir + "/" + name + "-key.pem";
  // The validity starts at the real time: OpenSSL checks nothing of it here (the pin
  // replaces chain verification), so the test does not depend on it.
  auto made = MakeSelfSigned("kura-vault test", {"localhost", "127.0.0.1"}, 1764633600, 3650);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  if (!made.ok()) return out;
  Status st = WriteSelfSigned(*made, out.cert_path, out.key_path);
  EXPECT_TRUE(st.ok()) << st.ToString();
  out.fingerprint = made->fingerprint;
  return out;
}

std::unique_ptr<HttpServer> StartTestServer(const TestCert& cert, Router router, ServerLimits limits) {
  auto tls = TlsServerContext::Load(cert.cert_path, cert.key_path);
  EXPECT_TRUE(tls.ok()) << tls.status().ToString();
  if (!tls.ok()) return nullptr;
  ServerOptions options;
  options.tls = *tls;
  options.limits = limits;
  auto server = HttpServer::Start(std::move(options), std::move(router));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return nullptr;
  return std::move(server).value();
}

int ConnectTcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool WaitForClose(int fd, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  char buf[4096];
  while (steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    int r = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

bool StillOpen(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  int r = ::poll(&p, 1, 0);
  if (r == 0) return true;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return false;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && errno == EAGAIN);
}

SSL_CTX* PermissiveClientContext() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  return ctx;
}

RawTlsClient::RawTlsClient(SSL_CTX* ctx) : ctx_(ctx) {
  SSL_CTX_up_ref(ctx_);
}

RawTlsClient::~RawTlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
  SSL_CTX_free(ctx_);
}

bool RawTlsClient::Connect(uint16_t port) {
  ERR_clear_error();
  fd_ = ConnectTcp(port);
  if (fd_ < 0) return false;
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  if (SSL_connect(ssl_) != 1) {
    error_reason_ = ERR_GET_REASON(ERR_peek_error());
    ERR_clear_error();
    return false;
  }
  // Non-blocking from here: a record that is not application data (a TLS 1.3 session
  // ticket) must not leave a read waiting past its deadline.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  return true;
}

bool RawTlsClient::Write(const std::string& bytes) {
  size_t done = 0;
  const auto deadline = steady_clock::now() + std::chrono::seconds(20);
  while (done < bytes.size()) {
    int n = SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done));
    if (n <= 0) {
      int err = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if ((err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) || steady_clock::now() > deadline)
        return false;
      pollfd p{fd_, static_cast<short>(err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
      ::poll(&p, 1, 100);
      continue;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

namespace {

// One SSL_read with a deadline; -1 on close/error/timeout.
int ReadSome(SSL* ssl, int fd, char* buf, int n, steady_clock::time_point deadline) {
  while (SSL_pending(ssl) == 0) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0) return -1;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    break;
  }
  int got = SSL_read(ssl, buf, n);
  if (got <= 0) {
    int err = SSL_get_error(ssl, got);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ) return 0;
    return -1;
  }
  return got;
}

}  // namespace

std::string RawTlsClient::ReadResponse(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  char buf[16384];
  size_t head_end;
  while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    int n = ReadSome(ssl_, fd_, buf, sizeof buf, deadline);
    if (n < 0) return "";
    pending_.append(buf, static_cast<size_t>(n));
  }
  size_t length = 0;
  std::string head = pending_.substr(0, head_end + 4);
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t cl = lower.find("\r\ncontent-length:");
  if (cl != std::string::npos) length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
  if (StatusOf(head) == 100) {
    pending_.erase(0, head_end + 4);
    return ReadResponse(timeout);
  }
  while (pending_.size() < head_end + 4 + length) {
    int n = ReadSome(ssl_, fd_, buf, sizeof buf, deadline);
    if (n < 0) return "";
    pending_.append(buf, static_cast<size_t>(n));
  }
  std::string out = pending_.substr(0, head_end + 4 + length);
  pending_.erase(0, out.size());
  return out;
}

bool RawTlsClient::WaitForClose(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  char buf[4096];
  while (steady_clock::now() < deadline) {
    int n = ReadSome(ssl_, fd_, buf, sizeof buf, deadline);
    if (n < 0) return steady_clock::now() < deadline || !StillOpen(fd_);
  }
  return false;
}

std::string RawTlsClient::ReadExactly(size_t n, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  char buf[16384];
  while (pending_.size() < n) {
    int got = ReadSome(ssl_, fd_, buf, sizeof buf, deadline);
    if (got < 0) return "";
    pending_.append(buf, static_cast<size_t>(got));
  }
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

void RawTlsClient::SetBlocking() {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string BodyOf(const std::string& response) {
  size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

void RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace kura::net::testing
