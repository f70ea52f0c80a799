// Routing by method and path pattern, and the parsing of request targets: the part of
// request handling that is kura's own code (Boost.Beast parses the bytes), fuzzed by
// fuzz/http_request_fuzz.cc.
//
// A pattern is a path of literal segments and `{name}` segments, e.g.
// "/v1/repos/{repo}/packs/{id}"; `{name}` matches exactly one non-empty segment and its
// decoded value is given to the handler as params["name"]. Literal segments win over
// `{name}` segments only by the order routes were added (the first match wins).
//
// Thread safety: build the router before HttpServer::Start; afterwards it is read-only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kura/status.h"
#include "net/http_types.h"

namespace kura::net {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  // The largest body this route accepts (413 above it). 0: ServerLimits::max_body_bytes.
  uint64_t max_body_bytes = 0;
};

// A request target split and decoded: origin-form only ("/path?query").
struct Target {
  std::vector<std::string> segments;  // decoded; "/" is {}, "/a/b" is {"a","b"}
  std::string path;                   // "/" + segments joined by "/"
  std::map<std::string, std::string> query;
};

// Parses an origin-form request target. kInvalidArgument (the server answers 400) for:
// not starting with "/", a bad or NUL percent escape, a "." or ".." or empty inner
// segment, a segment that decodes to contain "/", or more than 1,024 query pairs.
// A trailing "/" is dropped ("/a/" is "/a").
Result<Target> ParseTarget(std::string_view target);

class Router {
 public:
  struct Route {
    std::string method;
    std::vector<std::string> pattern;  // segments; "{name}" for a parameter
    Handler handler;
    RouteOptions options;
  };

  // REQUIRES: `pattern` starts with "/" and has no empty segments; `method` is upper case.
  void Add(std::string method, std::string_view pattern, Handler handler, RouteOptions options = {});

  enum class MatchKind { kFound, kNoPath, kWrongMethod };
  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;               // kFound
    std::map<std::string, std::string> params;  // kFound
    std::string allow;                          // kWrongMethod: "GET, PUT" for the Allow header
  };
  // HEAD is not mapped to GET: kura's API has no HEAD routes.
  Match Find(std::string_view method, const Target& target) const;

  bool empty() const { return routes_.empty(); }

 private:
  std::vector<Route> routes_;
};

}  // namespace kura::net
