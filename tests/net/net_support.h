// Helpers for the net tests: a throwaway certificate, a server on 127.0.0.1 and raw
// clients (TCP and TLS through OpenSSL directly) that can send anything, byte by byte.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "net/tls.h"
#include "support/repo_testing.h"

namespace kura::net::testing {

// A self-signed P-256 certificate for "localhost" / 127.0.0.1 in `dir` (cert.pem, key.pem 0600).
struct TestCert {
  std::string cert_path;
  std::string key_path;
  Fingerprint fingerprint;
};
TestCert MakeTestCert(const std::string& dir, const std::string& name = "server");

// A server with `router`, short-but-generous limits unless `limits` says otherwise.
std::unique_ptr<HttpServer> StartTestServer(const TestCert& cert, Router router, ServerLimits limits = {});

// A connected TCP socket to 127.0.0.1:port, or -1.
int ConnectTcp(uint16_t port);
// Waits up to `timeout` for the peer to close `fd` (EOF or reset). True when it did.
bool WaitForClose(int fd, std::chrono::milliseconds timeout);
// True when `fd` is still open from the peer's side: no EOF/reset pending right now.
bool StillOpen(int fd);

// A TLS client made with OpenSSL directly, not with the profile, so tests can offer what
// the server must refuse.
class RawTlsClient {
 public:
  // `ctx` is borrowed (one ref is taken).
  explicit RawTlsClient(SSL_CTX* ctx);
  ~RawTlsClient();
  RawTlsClient(const RawTlsClient&) = delete;
  RawTlsClient& operator=(const RawTlsClient&) = delete;

  // Connects and handshakes. False on failure; then `error_reason()` has OpenSSL's reason
  // code (ERR_GET_REASON) of the first error, e.g. SSL_R_TLSV1_ALERT_PROTOCOL_VERSION.
  bool Connect(uint16_t port);
  int error_reason() const { return error_reason_; }
  SSL* ssl() const { return ssl_; }
  int fd() const { return fd_; }

  bool Write(const std::string& bytes);
  // Exactly `n` bytes within `timeout`, or "" on close or time-out.
  std::string ReadExactly(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Back to a blocking socket, for tests that drive OpenSSL calls directly.
  void SetBlocking();
  // Reads one HTTP/1.1 response (head + Content-Length body) within `timeout`; "" if the
  // connection closed or the time ran out first.
  std::string ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // True when the server closed the connection within `timeout` (TLS close or TCP EOF).
  bool WaitForClose(std::chrono::milliseconds timeout);

 private:
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  int error_reason_ = 0;
  std::string pending_;
};

// A client context of OpenSSL's defaults but with every version from TLS 1.0 allowed and
// security level 0, so a test can offer old versions and weak suites; no verification.
SSL_CTX* PermissiveClientContext();

// The status code of a raw response ("HTTP/1.1 413 ..." → 413), 0 if none.
int StatusOf(const std::string& response);
// The body of a raw response (after the blank line).
std::string BodyOf(const std::string& response);

// Raises RLIMIT_NOFILE to its hard limit (the idle-connection test needs ~700 descriptors).
void RaiseFileLimit();

}  // namespace kura::net::testing
