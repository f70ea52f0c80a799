// What a handler of net::HttpServer sees and returns (docs/vault-http.md).
//
// A Request is valid only during the handler call that received it; its body is streamed
// from the connection by `body` and never held whole by the server.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "net/tls.h"

namespace kura::net {

// Version of the transport rules in docs/vault-http.md (TLS profile, limits, error body).
inline constexpr int kTransportVersion = 1;

struct Header {
  std::string name;
  std::string value;
};

// Header fields in the order received. Lookups ignore the case of the name.
class Headers {
 public:
  void Add(std::string name, std::string value);
  // Replaces every field called `name` by one.
  void Set(std::string name, std::string value);
  // The first field called `name`.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::vector<Header>& all() const { return fields_; }

 private:
  std::vector<Header> fields_;
};

// Reads a request body as it arrives. Used only by the thread running the handler.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `n` bytes into `buf`; 0 means the body is complete (a request without a
  // body is complete at once). Blocks until some bytes arrive.
  // Errors (the server then answers with its own error and closes the connection; the
  // handler's response is discarded):
  //   kRetryable        no bytes for ServerLimits::body_timeout (408), or the client left
  //   kNoSpace          more than the route's max_body_bytes (413)
  //   kInvalidArgument  bad chunked encoding (400)
  //   kCancelled        the server is stopping and the grace period is over
  virtual Result<size_t> Read(uint8_t* buf, size_t n) = 0;
  // Content-Length when the client sent one; nullopt for a chunked body.
  virtual std::optional<uint64_t> content_length() const = 0;
  // Body bytes read so far.
  virtual uint64_t bytes_read() const = 0;
};

// The whole body, for small JSON requests. kNoSpace when it exceeds `max_bytes` (the
// route's own limit still applies first).
Result<std::string> ReadAll(BodyReader& body, size_t max_bytes);

struct Request {
  std::string method;                         // as sent, e.g. "PUT"
  std::string target;                         // raw request target, e.g. "/v1/packs/ab%2F?x=1"
  std::string path;                           // the path, percent-decoded segment by segment
  std::map<std::string, std::string> query;   // decoded; the first of repeated keys
  std::map<std::string, std::string> params;  // from the route pattern's {name} segments
  Headers headers;
  std::string peer_ip;  // "127.0.0.1", "::1"
  uint16_t peer_port = 0;
  // The fingerprint of the certificate the client showed in the TLS handshake, when the
  // server asks for one (TlsServerContext::Load, ClientCerts) and the client sent one.
  std::optional<Fingerprint> client_cert;
  BodyReader* body = nullptr;  // never null inside a handler
};

struct Response {
  int status = 200;
  Headers headers;        // Content-Length and Strict-Transport-Security are set by the server
  std::string body;       // sent when file_path is empty
  std::string file_path;  // when set, this file is streamed as the body (never read whole)
  // With file_path: only `file_length` bytes from `file_offset` are sent (a 206 answer to
  // a Range request; the handler sets the status and Content-Range). Default: the whole file.
  uint64_t file_offset = 0;
  std::optional<uint64_t> file_length;

  static Response Json(int status, std::string json);
  static Response Text(int status, std::string text);
};

// The error body of docs/vault-http.md:
//   {"code": "...", "message_ja": "...", "message_en": "..."}
// with Content-Type application/json and Cache-Control no-store. `code` is a stable
// snake_case word clients act on; the messages say what happened and what to do.
Response ErrorResponse(int status, std::string_view code, std::string_view message_ja,
                       std::string_view message_en);

// Reason phrase for a status ("Not Found"); "Unknown" for codes kura does not use.
const char* ReasonPhrase(int status);

}  // namespace kura::net
