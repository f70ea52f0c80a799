#include "net/http_types.h"

#include <strings.h>

#include <nlohmann/json.hpp>

#include "util/i18n.h"

namespace kura::net {
namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

void Headers::Add(std::string name, std::string value) {
  fields_.push_back({std::move(name), std::move(value)});
}

void Headers::Set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const Header& h) { return SameName(h.name, name); });
  fields_.push_back({std::move(name), std::move(value)});
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const Header& h : fields_) {
    if (SameName(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

Result<std::string> ReadAll(BodyReader& body, size_t max_bytes) {
  std::string out;
  uint8_t buf[16384];
  for (;;) {
    KURA_ASSIGN_OR_RETURN(size_t n, body.Read(buf, sizeof buf));
    if (n == 0) return out;
    if (out.size() + n > max_bytes) {
      return Status::NoSpace(Tr("リクエストの本文が上限 {} バイトを超えています",
                                "the request body exceeds the limit of {} bytes", max_bytes));
    }
    out.append(reinterpret_cast<const char*>(buf), n);
  }
}

Response Response::Json(int status, std::string json) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(json);
  return r;
}

Response Response::Text(int status, std::string text) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(text);
  return r;
}

Response ErrorResponse(int status, std::string_view code, std::string_view message_ja,
                       std::string_view message_en) {
  nlohmann::json j;
  j["code"] = std::string(code);
  j["message_ja"] = std::string(message_ja);
  j["message_en"] = std::string(message_en);
  // Replace, never throw, on invalid UTF-8: messages may quote what a client sent.
  Response r = Response::Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

}  // namespace kura::net
