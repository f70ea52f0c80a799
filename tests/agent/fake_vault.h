// A small vault for the agent's tests: a real HTTPS server (net/http_server.h) on
// 127.0.0.1 that speaks the site half of docs/vault-api.md and keeps what it receives in
// a real local repository directory through MirrorSink. It can inject the faults a real
// vault shows on a bad day (503 with Retry-After, 500, refusals with any code), and can be
// stopped and started again on the same port. This is a test double for faults only: the
// end-to-end tests run the real kura-vault (tests/e2e).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/backup_sink.h"
#include "net/http_server.h"
#include "net/tls.h"
#include "objstore/local_store.h"
#include "support/repo_testing.h"
#include "util/hex.h"

namespace kura::testing {

class FakeVault {
 public:
  // A fault for the next requests whose path contains `path_part` (or all when empty).
  struct Fault {
    std::string path_part;
    int count = 1;  // how many requests it hits
    int status = 503;
    std::string code = "busy";
    std::string retry_after;  // header value, "" for none
  };

  explicit FakeVault(const std::string& dir) : dir_(dir) {
    auto made = net::MakeSelfSigned("kura-vault test", {"localhost", "127.0.0.1"}, 1764633600, 3650);
    EXPECT_TRUE(made.ok());
    cert_ = dir + "/cert.pem";
    key_ = dir + "/key.pem";
    EXPECT_TRUE(net::WriteSelfSigned(*made, cert_, key_).ok());
    fingerprint_ = made->fingerprint;
    auto store = LocalStore::Open(dir + "/repo", true);
    EXPECT_TRUE(store.ok());
    sink_ = std::make_unique<MirrorSink>(std::move(*store), dir + "/cache");
    Start();
  }
  ~FakeVault() { Stop(); }

  void Start() {
    auto tls = net::TlsServerContext::Load(cert_, key_);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    net::ServerOptions o;
    o.tls = *tls;
    o.port = port_;
    o.limits.max_body_bytes = 64u << 20;
    o.limits.worker_threads = 2;
    auto s = net::HttpServer::Start(std::move(o), MakeRouter());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    port_ = server_->port();
  }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
  }
  bool running() const { return server_ != nullptr; }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const net::Fingerprint& fingerprint() const { return fingerprint_; }
  std::string repo_dir() const { return dir_ + "/repo"; }

  void AddFault(Fault f) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(std::move(f));
  }
  // Requests seen, by "METHOD path-pattern-ish" (method + first path segments).
  int Count(const std::string& method, const std::string& path_part) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& r : log_) n += r.first == method && r.second.find(path_part) != std::string::npos;
    return n;
  }
  std::vector<std::map<std::string, std::string>> headers_seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }
  std::vector<std::string> runs() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }
  void set_enrol_answer(std::string json) { enrol_answer_ = std::move(json); }
  const std::string& token() const { return token_; }

 private:
  static net::Response Error(int status, const std::string& code, const std::string& lang) {
    std::string en = "the vault says " + code + "; do what the vault says";
    std::string ja = "保管庫の応答 " + code;
    net::Response r = net::ErrorResponse(status, code, ja, en);
    (void)lang;
    return r;
  }

  net::Handler Wrap(std::function<net::Response(net::Request&, const std::string& body)> fn,
                    bool auth = true) {
    return [this, fn, auth](net::Request& req) {
      auto body = net::ReadAll(*req.body, 64u << 20);
      std::string lang(req.headers.Get("Accept-Language").value_or(""));
      {
        std::lock_guard<std::mutex> lock(mu_);
        log_.emplace_back(req.method, req.path);
        std::map<std::string, std::string> h;
        for (const net::Header& f : req.headers.all()) h[f.name] = f.value;
        headers_.push_back(std::move(h));
        for (auto it = faults_.begin(); it != faults_.end(); ++it) {
          if (req.path.find(it->path_part) == std::string::npos) continue;
          net::Response r = Error(it->status, it->code, lang);
          if (!it->retry_after.empty()) r.headers.Set("Retry-After", it->retry_after);
          if (--it->count <= 0) faults_.erase(it);
          return r;
        }
      }
      if (auth && req.headers.Get("Authorization").value_or("") != "Bearer " + token_) {
        return Error(401, "unauthorized", lang);
      }
      if (!body.ok()) return Error(400, "bad_request", lang);
      std::lock_guard<std::mutex> lock(sink_mu_);
      return fn(req, *body);
    };
  }

  static ByteView View(const std::string& s) {
    return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  static net::Response FromStatus(const Status& s, int created_status = 201) {
    if (s.ok()) return net::Response::Json(created_status, "{}");
    int status = s.code() == Code::kNotFound ? 409 : s.code() == Code::kCorruption ? 400 : 500;
    std::string code = s.code() == Code::kNotFound     ? "missing_blobs"
                       : s.code() == Code::kCorruption ? "bad_pack"
                                                       : "internal";
    return net::ErrorResponse(status, code, s.message(), s.message());
  }

  net::Router MakeRouter() {
    using nlohmann::json;
    net::Router r;
    net::RouteOptions big;
    big.max_body_bytes = 64u << 20;
    r.Add("GET", "/v1/health",
          Wrap(
              [](net::Request&, const std::string&) {
                return net::Response::Json(200, R"({"status":"ok","api":1,"version":"test"})");
              },
              false));
    r.Add("POST", "/v1/enrol",
          Wrap(
              [this](net::Request&, const std::string& body) {
                json j = json::parse(body, nullptr, false);
                if (!j.is_object() || !j.contains("code")) return Error(400, "bad_request", "");
                if (enrol_used_.exchange(true)) return Error(401, "enrolment_invalid", "");
                return net::Response::Json(201, enrol_answer_);
              },
              false));
    r.Add("PUT", "/v1/repos/{repo}/config", Wrap([this](net::Request&, const std::string& body) {
            return FromStatus(sink_->PutConfig(View(body)));
          }));
    r.Add("PUT", "/v1/repos/{repo}/keys/{id}", Wrap([this](net::Request& q, const std::string& body) {
            return FromStatus(sink_->PutKey(q.params["id"], View(body)));
          }));
    r.Add("POST", "/v1/repos/{repo}/blobs/missing", Wrap([this](net::Request&, const std::string& body) {
            json j = json::parse(body, nullptr, false);
            std::vector<crypto::Hash> ids;
            for (const json& v : j["ids"]) {
              auto b = FromHex(v.get<std::string>());
              crypto::Hash h{};
              std::copy(b->begin(), b->end(), h.begin());
              ids.push_back(h);
            }
            auto missing = sink_->MissingBlobs(ids);
            if (!missing.ok()) return FromStatus(missing.status());
            json out = json::array();
            for (const crypto::Hash& h : *missing) out.push_back(ToHex(h));
            return net::Response::Json(200, json{{"missing", out}}.dump());
          }));
    r.Add("PUT", "/v1/repos/{repo}/packs/{id}", Wrap([this](net::Request& q, const std::string& body) {
            return FromStatus(sink_->PutPack(q.params["id"], View(body)));
          }),
          big);
    r.Add("PUT", "/v1/repos/{repo}/snapshots/{id}", Wrap([this](net::Request& q, const std::string& body) {
            auto a = sink_->CommitSnapshot(q.params["id"], View(body));
            if (!a.ok()) return FromStatus(a.status());
            return net::Response::Json(a->created ? 201 : 200, json{{"snapshot", q.params["id"]},
                                                                    {"kind", "daily"},
                                                                    {"received", FormatUtc(a->received)},
                                                                    {"clock_warning", a->clock_warning}}
                                                                   .dump());
          }),
          big);
    r.Add("POST", "/v1/repos/{repo}/runs", Wrap([this](net::Request&, const std::string& body) {
            std::lock_guard<std::mutex> lock(mu_);
            runs_.push_back(body);
            return net::Response::Json(204, "");
          }));
    r.Add("GET", "/v1/repos/{repo}/generations", Wrap([](net::Request&, const std::string&) {
            return net::Response::Json(
                200, R"({"generations":[],"quota":{"used":1,"soft":2,"hard":3,"remaining":2}})");
          }));
    return r;
  }

  std::string dir_, cert_, key_;
  net::Fingerprint fingerprint_;
  uint16_t port_ = 0;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex sink_mu_;
  std::unique_ptr<MirrorSink> sink_;
  std::mutex mu_;
  std::vector<Fault> faults_;
  std::vector<std::pair<std::string, std::string>> log_;
  std::vector<std::map<std::string, std::string>> headers_;
  std::vector<std::string> runs_;
  std::atomic<bool> enrol_used_{false};
  std::string enrol_answer_;
  std::string token_ = "kst1_" + std::string(43, 'a');
};

}  // namespace kura::testing
