// An HTTPS/1.1 server for kura-vault (docs/vault-http.md; ADR 0005: Boost.Beast/Asio).
//
// TLS only (the profile of net/tls.h). Connections live on a few I/O threads, so idle and
// slow clients cost a socket and a little memory, never a thread: 300 idle connections do
// not keep 20 agents from being served (tests/net/http_idle_test.cc). A request head is
// read and checked on the I/O thread (size, timeouts, route, body limit) before any
// handler runs; handlers run on worker threads and stream the body through
// Request::body, so a slow handler blocks neither the accept loop nor other connections.
//
// The server's own refusals are JSON error bodies (ErrorResponse) with these codes:
//   400 bad_request   unparsable request line, header, target, chunked encoding, or both
//                     Content-Length and Transfer-Encoding
//   404 not_found     no route has this path
//   405 method_not_allowed  (with Allow)
//   408 request_timeout     header not complete within header_timeout, or no body bytes
//                     for body_timeout
//   411 length_required     POST/PUT/PATCH with neither Content-Length nor chunked body
//   413 body_too_large      Content-Length or chunked body above the route's limit
//   431 headers_too_large   request line and header fields above max_header_bytes
//   500 internal            a handler threw (a bug); the server keeps running
//   503 busy                more than max_queued_requests waiting for a worker
// Every response carries Strict-Transport-Security. A refused request whose body was not
// read closes the connection after the response.
//
// Thread safety: Start and Stop may be called from any thread; handlers run concurrently
// on up to `worker_threads` threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kura/status.h"
#include "net/http_types.h"
#include "net/router.h"
#include "net/tls.h"

namespace kura::net {

using Millis = std::chrono::milliseconds;

// Defaults are the documented ones of docs/vault-http.md §3.
struct ServerLimits {
  size_t max_header_bytes = size_t{16} << 10;          // request line + fields; 431 above. Default 16 KiB
  uint64_t max_body_bytes = uint64_t{1} << 20;         // per route unless RouteOptions says. Default 1 MiB
  Millis handshake_timeout{std::chrono::seconds(10)};  // TCP accept to finished TLS handshake
  Millis header_timeout{std::chrono::seconds(10)};     // first byte of a request to end of its head
  Millis body_timeout{std::chrono::seconds(30)};       // longest wait for the next body bytes
  Millis write_timeout{std::chrono::seconds(30)};      // longest wait for the client to take bytes
  Millis idle_timeout{std::chrono::seconds(60)};       // keep-alive wait for the next request
  size_t max_connections = 2048;                       // more are closed at accept. Default 2048
  size_t worker_threads = 16;                          // handlers running at once. Default 16
  size_t max_queued_requests = 256;                    // heads waiting for a worker; 503 above. Default 256
  Millis stop_grace{std::chrono::seconds(30)};         // Stop() waits this long for in-flight requests
};

// One line of the access log, given to ServerOptions::on_request after each response.
struct AccessRecord {
  std::string method;
  std::string path;  // decoded path, without the query (it may carry tokens)
  // The matched route's pattern ("/v1/repos/{repo}/packs/{id}"), "-" when none matched:
  // a label of bounded cardinality for metrics (the path carries IDs).
  std::string route;
  std::string peer_ip;
  int status = 0;
  uint64_t body_bytes_in = 0;
  Millis duration{0};  // head received to response written
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // an IPv4 or IPv6 literal; "0.0.0.0" or "::" for any
  uint16_t port = 0;                       // 0: an ephemeral port, see HttpServer::port()
  std::shared_ptr<TlsServerContext> tls;   // REQUIRED
  ServerLimits limits;
  size_t io_threads = 2;                     // Default 2
  uint64_t hsts_max_age_seconds = 31536000;  // Default one year
  // Called on a worker or I/O thread after each response (also the server's own errors).
  // Must be thread-safe and quick. Default: none.
  std::function<void(const AccessRecord&)> on_request;
};

struct ServerStats {
  size_t open_connections = 0;     // accepted and not yet closed
  uint64_t accepted = 0;           // connections ever accepted
  uint64_t refused_at_accept = 0;  // closed because max_connections were open
  uint64_t requests = 0;           // responses written, including the server's own errors
  uint64_t timeouts = 0;           // connections cut by a handshake/header/body/write timeout
};

class HttpServer {
 public:
  // Binds, listens and starts serving. Errors: kInvalidArgument for a bad address or a
  // missing TLS context, kPermissionDenied / kAlreadyExists (address in use) from bind.
  static Result<std::unique_ptr<HttpServer>> Start(ServerOptions options, Router router);
  // Stop() if not yet stopped.
  // Stop() can throw only std::system_error from joining threads (a bug): then terminate.
  ~HttpServer();  // NOLINT(bugprone-exception-escape)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when ServerOptions::port was 0).
  uint16_t port() const;
  ServerStats stats() const;

  // Graceful stop: stops accepting, closes connections between requests, lets requests in
  // flight finish and answer (with Connection: close) for up to limits.stop_grace, then
  // cuts the remaining connections (their handlers' body reads fail with kCancelled and
  // their responses are dropped) and waits for every handler to return. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kura::net
