// A small HTTPS client for the agent's vault client (docs/vault-http.md; ADR 0005: libcurl).
//
// It speaks only to a server whose certificate matches the pinned fingerprint (no CA, no
// trust on first use), with the TLS profile of net/tls.h. Keep-alive: one client reuses
// its connection across Send calls. Upload bodies stream from a file; response bodies go
// to memory (bounded) or stream to a file.
//
// Thread safety: one HttpClient per thread; different clients may be used concurrently.
// REQUIRES: the program ignores SIGPIPE (signal(SIGPIPE, SIG_IGN) in main()): libcurl is
// told not to touch signals so that it can run on several threads, and a write to a
// connection the vault has cut must fail with EPIPE, not end the agent. (The server needs
// nothing: Asio sends with MSG_NOSIGNAL.)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kura/status.h"
#include "net/http_types.h"
#include "net/tls.h"

namespace kura::net {

struct ClientOptions {
  std::string base_url;  // "https://vault.example.jp:8443", no trailing path. REQUIRED
  Fingerprint pin;       // the server certificate's SHA-256. REQUIRED
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};  // TCP + TLS. Default 15 s
  // No bytes moving in either direction for this long fails the request. Default 60 s
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds total_timeout{0};  // whole request; 0 = none. Default none
  std::string user_agent = "kura";
  // The site's own certificate and key (PEM), shown to a vault that asks for one
  // (G-ENC-04). The key file must be 0600. Default: none.
  std::string client_cert_file;
  std::string client_key_file;
};

struct ClientRequest {
  std::string method = "GET";
  std::string path;  // origin-form, already percent-encoded: "/v1/repos/x/packs/ab?y=1"
  std::vector<Header> headers;
  std::string body;           // sent when body_file is empty (with Content-Length)
  std::string body_file;      // when set, this file is streamed as the body (Content-Length)
  std::string response_file;  // when set, a 2xx response body is written here, not kept
  size_t max_response_bytes = size_t{16} << 20;  // larger in-memory bodies fail. Default 16 MiB
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when written to response_file
};

class HttpClient {
 public:
  // kInvalidArgument for a URL that is not https:// or a certificate without its key;
  // kPermissionDenied for a client key file others can read.
  static Result<std::unique_ptr<HttpClient>> Create(ClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Any HTTP status is a successful Send; errors are for when no response came:
  //   kUnauthorized  the server's certificate does not match the pin (names both)
  //   kRetryable     connect failure, reset, timeout, truncated response: may succeed later
  //   kNotFound / kIOError   body_file or response_file cannot be read or written
  //   kNoSpace       the in-memory response exceeds max_response_bytes
  //   kIOError       any other transport failure (TLS profile mismatch, bad URL)
  Result<ClientResponse> Send(const ClientRequest& request);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kura::net
