// Request heads over arbitrary bytes, through the server's own path: Boost.Beast's parser
// with kura's limits, then target parsing, routing and admission (src/net/request_head.h).
// Every outcome must be a documented refusal or an admitted request that keeps the rules.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/request_head.h"
#include "net/router.h"

namespace {

const kura::net::Router& TheRouter() {
  static const kura::net::Router router = [] {
    kura::net::Router r;
    auto ok = [](kura::net::Request&) { return kura::net::Response(); };
    r.Add("GET", "/v1/repos/{repo}/status", ok);
    r.Add("PUT", "/v1/repos/{repo}/packs/{id}", ok, kura::net::RouteOptions{1 << 20});
    r.Add("POST", "/v1/repos/{repo}/snapshots", ok);
    r.Add("GET", "/", ok);
    return r;
  }();
  return router;
}

bool Documented(int status) {
  return status == 400 || status == 404 || status == 405 || status == 411 || status == 413 || status == 431;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  kura::net::HttpError error;
  auto parsed = kura::net::ParseAndAdmit(bytes, 4096, TheRouter(), 1000, &error);
  if (!parsed) {
    if (error.status != 0 && !Documented(error.status)) std::abort();
    return 0;
  }
  const kura::net::Admission& a = parsed->admission;
  if (a.error) {
    if (!Documented(a.error->status) || a.error->code.empty()) std::abort();
    kura::net::Response r = kura::net::ToResponse(*a.error);
    if (r.body.empty()) std::abort();
    return 0;
  }
  if (a.route == nullptr || a.target.path.empty() || a.target.path[0] != '/') std::abort();
  if (a.content_length && *a.content_length > a.body_limit) std::abort();
  if (a.chunked && a.content_length) std::abort();  // never two framings
  for (const std::string& segment : a.target.segments) {
    if (segment.empty() || segment == "." || segment == ".." || segment.find('/') != std::string::npos)
      std::abort();
  }
  // Target parsing alone, on the raw bytes, must not crash either.
  (void)kura::net::ParseTarget(bytes);
  return 0;
}
