#include "net/router.h"

#include <algorithm>
#include <cassert>

#include "util/i18n.h"

namespace kura::net {
namespace {

constexpr size_t kMaxQueryPairs = 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' is a space only in the query (form encoding).
bool Decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      char v = static_cast<char>(hi * 16 + lo);
      if (v == '\0') return false;
      out->push_back(v);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return false;  // the parser already refuses these; kept for callers other than it
    } else {
      out->push_back(c);
    }
  }
  return true;
}

Status BadTarget(std::string_view why_ja, std::string_view why_en) {
  return Status::InvalidArgument(
      Tr("リクエストのパスが不正です: {}", "bad request path: {}", L(why_ja, why_en)));
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace

Result<Target> ParseTarget(std::string_view target) {
  if (target.empty() || target[0] != '/') {
    return BadTarget("\"/\" で始まっていません", "it does not start with \"/\"");
  }
  std::string_view raw_path = target;
  std::string_view raw_query;
  size_t q = target.find('?');
  if (q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    raw_query = target.substr(q + 1);
  }
  size_t hash = raw_query.find('#');
  if (raw_path.find('#') != std::string_view::npos || hash != std::string_view::npos) {
    return BadTarget("\"#\" は送れません", "a fragment (\"#\") cannot be sent");
  }
  Target out;
  std::vector<std::string_view> parts = Split(raw_path.substr(1), '/');
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // "/" and "/a/"
  std::string decoded;
  for (std::string_view part : parts) {
    if (part.empty()) return BadTarget("空の区切りがあります (\"//\")", "it has an empty segment (\"//\")");
    if (!Decode(part, false, &decoded)) {
      return BadTarget("不正な % エスケープまたは文字があります", "it has a bad percent escape or character");
    }
    if (decoded == "." || decoded == ".." || decoded.find('/') != std::string::npos) {
      return BadTarget("\".\"、\"..\" や \"/\" を含む区切りは使えません",
                       "segments \".\", \"..\" and ones containing \"/\" are not allowed");
    }
    out.segments.push_back(decoded);
  }
  out.path = "/";
  for (size_t i = 0; i < out.segments.size(); ++i) {
    if (i > 0) out.path += '/';
    out.path += out.segments[i];
  }
  if (!raw_query.empty()) {
    std::vector<std::string_view> pairs = Split(raw_query, '&');
    if (pairs.size() > kMaxQueryPairs)
      return BadTarget("クエリの項目が多すぎます", "the query has too many parameters");
    for (std::string_view pair : pairs) {
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      std::string key;
      std::string value;
      if (!Decode(pair.substr(0, eq), true, &key) ||
          (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), true, &value))) {
        return BadTarget("クエリに不正な % エスケープがあります", "the query has a bad percent escape");
      }
      out.query.emplace(std::move(key), std::move(value));  // the first of repeated keys
    }
  }
  return out;
}

void Router::Add(std::string method, std::string_view pattern, Handler handler, RouteOptions options) {
  assert(!pattern.empty() && pattern[0] == '/');
  Route r;
  r.method = std::move(method);
  std::vector<std::string_view> parts = Split(pattern.substr(1), '/');
  if (!parts.empty() && parts.back().empty()) parts.pop_back();
  for (std::string_view p : parts) {
    assert(!p.empty());
    r.pattern.emplace_back(p);
  }
  r.handler = std::move(handler);
  r.options = options;
  routes_.push_back(std::move(r));
}

namespace {

bool IsParam(const std::string& segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

bool MatchPattern(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
                  std::map<std::string, std::string>* params) {
  if (pattern.size() != segments.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (IsParam(pattern[i])) {
      if (segments[i].empty()) return false;
      if (params != nullptr) (*params)[pattern[i].substr(1, pattern[i].size() - 2)] = segments[i];
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Router::Match Router::Find(std::string_view method, const Target& target) const {
  Match m;
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, target.segments, nullptr)) continue;
    if (r.method == method) {
      m.kind = MatchKind::kFound;
      m.route = &r;
      MatchPattern(r.pattern, target.segments, &m.params);
      return m;
    }
    m.kind = MatchKind::kWrongMethod;
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) allowed.push_back(r.method);
  }
  for (const std::string& a : allowed) {
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += a;
  }
  return m;
}

}  // namespace kura::net
