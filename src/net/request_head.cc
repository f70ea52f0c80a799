#include "net/request_head.h"

#include <strings.h>

#include <limits>

#include "net/beast_glue.h"

namespace kura::net {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

size_t CountFields(const Headers& headers, std::string_view name) {
  size_t n = 0;
  for (const Header& h : headers.all()) n += EqualsNoCase(h.name, name) ? 1 : 0;
  return n;
}

bool ParseDecimal(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

HttpError Error(int status, std::string code, std::string ja, std::string en) {
  return HttpError{status, std::move(code), std::move(ja), std::move(en), {}};
}

}  // namespace

Response ToResponse(const HttpError& error) {
  Response r = ErrorResponse(error.status, error.code, error.message_ja, error.message_en);
  if (!error.allow.empty()) r.headers.Set("Allow", error.allow);
  if (error.status == 503) r.headers.Set("Retry-After", "5");
  return r;
}

HttpError TimeoutError() {
  return Error(408, "request_timeout", "リクエストが時間内に届きませんでした。回線を確認して再送してください",
               "the request did not arrive in time; check the connection and send it again");
}

HttpError BusyError() {
  return Error(503, "busy", "サーバーが混み合っています。しばらくしてから再送してください",
               "the server is busy; send the request again later");
}

HttpError BodyTooLargeError(uint64_t limit) {
  return Error(413, "body_too_large",
               "リクエストの本文が上限 " + std::to_string(limit) + " バイトを超えています",
               "the request body exceeds the limit of " + std::to_string(limit) + " bytes");
}

HttpError HeadersTooLargeError(size_t limit) {
  return Error(431, "headers_too_large",
               "リクエストのヘッダーが上限 " + std::to_string(limit) + " バイトを超えています",
               "the request header exceeds the limit of " + std::to_string(limit) + " bytes");
}

HttpError BadRequestError(std::string_view why_ja, std::string_view why_en) {
  return Error(400, "bad_request", "リクエストが不正です: " + std::string(why_ja),
               "bad request: " + std::string(why_en));
}

HttpError InternalError() {
  return Error(500, "internal", "サーバー内部の誤りです。ベンダーに連絡してください",
               "internal server error; contact the vendor");
}

Admission Admit(const RequestHead& head, const Router& router, uint64_t default_max_body) {
  Admission a;
  if (head.version != 11 && head.version != 10) {
    a.error = BadRequestError("HTTP/1.0 か HTTP/1.1 で送ってください", "send HTTP/1.0 or HTTP/1.1");
    return a;
  }
  size_t hosts = CountFields(head.headers, "Host");
  if ((head.version == 11 && hosts == 0) || hosts > 1) {
    a.error = BadRequestError("Host ヘッダーがないか複数あります", "no Host field, or more than one");
    return a;
  }
  size_t lengths = CountFields(head.headers, "Content-Length");
  size_t encodings = CountFields(head.headers, "Transfer-Encoding");
  if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0)) {
    // Two framings are how requests are smuggled past proxies: refuse them all.
    a.error = BadRequestError("Content-Length と Transfer-Encoding が重複しています",
                              "conflicting Content-Length and Transfer-Encoding fields");
    return a;
  }
  if (encodings == 1) {
    if (!EqualsNoCase(*head.headers.Get("Transfer-Encoding"), "chunked")) {
      a.error = BadRequestError("Transfer-Encoding は chunked だけが使えます",
                                "only Transfer-Encoding: chunked is accepted");
      return a;
    }
    a.chunked = true;
  }
  if (lengths == 1) {
    uint64_t n = 0;
    if (!ParseDecimal(*head.headers.Get("Content-Length"), &n)) {
      a.error = BadRequestError("Content-Length が数値ではありません", "Content-Length is not a number");
      return a;
    }
    a.content_length = n;
  }
  if (auto expect = head.headers.Get("Expect")) a.expect_continue = EqualsNoCase(*expect, "100-continue");

  auto target = ParseTarget(head.target);
  if (!target.ok()) {
    a.error = BadRequestError("パスを読めません", "the request target cannot be parsed");
    return a;
  }
  a.target = std::move(target).value();
  Router::Match m = router.Find(head.method, a.target);
  if (m.kind == Router::MatchKind::kNoPath) {
    a.error =
        Error(404, "not_found", "そのパスはありません: " + a.target.path, "no such path: " + a.target.path);
    return a;
  }
  if (m.kind == Router::MatchKind::kWrongMethod) {
    a.error = Error(405, "method_not_allowed",
                    head.method + " はこのパスでは使えません (使えるもの: " + m.allow + ")",
                    head.method + " is not allowed on this path (allowed: " + m.allow + ")");
    a.error->allow = m.allow;
    return a;
  }
  a.route = m.route;
  a.params = std::move(m.params);
  a.body_limit = a.route->options.max_body_bytes != 0 ? a.route->options.max_body_bytes : default_max_body;
  bool wants_body = head.method == "POST" || head.method == "PUT" || head.method == "PATCH";
  if (wants_body && !a.chunked && !a.content_length) {
    a.error = Error(411, "length_required", "Content-Length か chunked 転送で本文を送ってください",
                    "send the body with Content-Length or chunked transfer encoding");
    return a;
  }
  if (a.content_length && *a.content_length > a.body_limit) {
    a.error = BodyTooLargeError(a.body_limit);
    return a;
  }
  return a;
}

void PrepareParser(BeastParser& parser, size_t max_header_bytes) {
  parser.header_limit(
      static_cast<std::uint32_t>(std::min<size_t>(max_header_bytes, std::numeric_limits<uint32_t>::max())));
  parser.body_limit(boost::none);
}

RequestHead HeadFromParser(const BeastParser& parser) {
  const auto& msg = parser.get();
  RequestHead h;
  h.method = std::string(msg.method_string());
  h.target = std::string(msg.target());
  h.version = static_cast<int>(msg.version());
  for (const auto& field : msg) h.headers.Add(std::string(field.name_string()), std::string(field.value()));
  h.keep_alive = msg.keep_alive();
  return h;
}

HttpError ErrorFromParser(const boost::system::error_code& ec, size_t max_header_bytes, uint64_t body_limit) {
  if (ec == beast_http::error::header_limit) return HeadersTooLargeError(max_header_bytes);
  if (ec == beast_http::error::body_limit) return BodyTooLargeError(body_limit);
  if (ec == beast_http::error::bad_chunk || ec == beast_http::error::bad_chunk_extension) {
    return BadRequestError("chunked 転送の形式が不正です", "bad chunked transfer encoding");
  }
  return BadRequestError("リクエストの形式が不正です (" + ec.message() + ")",
                         "malformed request (" + ec.message() + ")");
}

std::optional<ParsedHead> ParseAndAdmit(std::string_view bytes, size_t max_header_bytes, const Router& router,
                                        uint64_t default_max_body, HttpError* out_error) {
  BeastParser parser;
  PrepareParser(parser, max_header_bytes);
  boost::system::error_code ec;
  size_t used = 0;
  while (!parser.is_header_done()) {
    size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (!parser.is_header_done() && bytes.size() > max_header_bytes) {
      *out_error = HeadersTooLargeError(max_header_bytes);  // as the server counts: every byte
      return std::nullopt;
    }
    if (ec == beast_http::error::need_more) return std::nullopt;
    if (ec) {
      *out_error = ErrorFromParser(ec, max_header_bytes, default_max_body);
      return std::nullopt;
    }
    used += n;
    if (n == 0 && !parser.is_header_done()) return std::nullopt;
  }
  ParsedHead out;
  out.head = HeadFromParser(parser);
  out.admission = Admit(out.head, router, default_max_body);
  return out;
}

}  // namespace kura::net
