// The checks on a request head that run before any handler (http_server.h lists the
// refusals): framing (Content-Length, Transfer-Encoding, Expect), the target, the route and
// the body limit. Kept apart from the sockets so the fuzzer can drive it with bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_types.h"
#include "net/router.h"

namespace kura::net {

// A refusal by the server itself: the status and the error body's fields.
struct HttpError {
  int status = 0;
  std::string code;
  std::string message_ja;
  std::string message_en;
  std::string allow;  // 405 only
};
Response ToResponse(const HttpError& error);

// The head as the parser gave it.
struct RequestHead {
  std::string method;
  std::string target;
  int version = 11;  // 10 or 11
  Headers headers;
  bool keep_alive = true;
};

// What to do with a head: either `error`, or the route with its parameters and the body's
// framing and limit.
struct Admission {
  std::optional<HttpError> error;
  const Router::Route* route = nullptr;
  Target target;
  std::map<std::string, std::string> params;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  uint64_t body_limit = 0;
  bool expect_continue = false;  // "Expect: 100-continue": answer 100 before reading
};

Admission Admit(const RequestHead& head, const Router& router, uint64_t default_max_body);

HttpError TimeoutError();
HttpError BusyError();
HttpError BodyTooLargeError(uint64_t limit);
HttpError HeadersTooLargeError(size_t limit);
HttpError BadRequestError(std::string_view why_ja, std::string_view why_en);
HttpError InternalError();

// Parses one request head from `bytes` with Boost.Beast's parser, as the server does, and
// admits it: for the fuzzer and tests. `out_error` gets the parser's refusal (400/431);
// returns nullopt when the bytes are not yet a complete head.
struct ParsedHead {
  RequestHead head;
  Admission admission;
};
std::optional<ParsedHead> ParseAndAdmit(std::string_view bytes, size_t max_header_bytes, const Router& router,
                                        uint64_t default_max_body, HttpError* out_error);

}  // namespace kura::net
