// The HTTPS server and the pinned client together over real TLS on 127.0.0.1: routing,
// streaming bodies both ways, keep-alive, HSTS and the error body (G-ENC-01, G-ENC-05).
#include "net/http_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "net/net_support.h"
#include "support/repo_testing.h"
#include "util/fs.h"

namespace kura::net {
namespace {

class NetHttpTest : public ::testing::Test {
 protected:
  void SetUp() override { cert_ = testing::MakeTestCert(dir_.path()); }

  void Start(Router router, ServerLimits limits = {}) {
    server_ = testing::StartTestServer(cert_, std::move(router), limits);
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<HttpClient> Client(const Fingerprint* pin = nullptr) {
    ClientOptions o;
    o.base_url = "https://127.0.0.1:" + std::to_string(server_->port());
    o.pin = pin != nullptr ? *pin : cert_.fingerprint;
    auto c = HttpClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  kura::testing::TempDir dir_;
  testing::TestCert cert_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(NetHttpTest, RoundTripWithParamsQueryHeadersAndPeer) {
  Router r;
  r.Add("POST", "/v1/repos/{repo}/notes", [](Request& req) {
    auto body = ReadAll(*req.body, 1 << 20);
    if (!body.ok()) return ErrorResponse(400, "body", "", "");
    nlohmann::json j;
    j["repo"] = req.params["repo"];
    j["q"] = req.query["q"];
    j["agent"] = std::string(req.headers.Get("X-Kura-Agent").value_or(""));
    j["body"] = *body;
    j["peer"] = req.peer_ip;
    j["path"] = req.path;
    return Response::Json(201, j.dump());
  });
  Start(std::move(r));
  auto client = Client();
  ASSERT_NE(client, nullptr);
  ClientRequest req;
  req.method = "POST";
  req.path = "/v1/repos/site%2001/notes?q=%E8%94%B5&x=1";
  req.headers.push_back({"X-Kura-Agent", "test/1"});
  req.headers.push_back({"Content-Type", "text/plain"});
  req.body = "hello vault";
  auto resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  auto j = nlohmann::json::parse(resp->body);
  EXPECT_EQ(j["repo"], "site 01");
  EXPECT_EQ(j["q"], "蔵");
  EXPECT_EQ(j["agent"], "test/1");
  EXPECT_EQ(j["body"], "hello vault");
  EXPECT_EQ(j["peer"], "127.0.0.1");
  EXPECT_EQ(j["path"], "/v1/repos/site 01/notes");
  EXPECT_EQ(resp->headers.Get("Strict-Transport-Security").value_or(""), "max-age=31536000");
}

TEST_F(NetHttpTest, KeepAliveReusesOneConnection) {
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  Start(std::move(r));
  auto client = Client();
  for (int i = 0; i < 5; ++i) {
    ClientRequest req;
    req.path = "/ping";
    auto resp = client->Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->body, "pong");
  }
  EXPECT_EQ(server_->stats().accepted, 1u);
  // The count is taken when the server's write completes, which may be just after the
  // client has read the last response.
  for (int i = 0; i < 2000 && server_->stats().requests < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server_->stats().requests, 5u);
}

TEST_F(NetHttpTest, UploadStreamsFromFileToFileAndDownloadStreamsBack) {
  // 24 MiB through a handler that copies 64 KiB at a time: the server never holds the
  // body (the route allows 32 MiB; the handler's buffer is all it has).
  const std::string src = dir_.Sub("upload.bin");
  const std::string stored = dir_.Sub("stored.bin");
  const std::string back = dir_.Sub("download.bin");
  kura::testing::WriteFile(src, kura::testing::SeededBytes(7, 24u << 20));
  std::atomic<size_t> largest_read{0};
  Router r;
  r.Add(
      "PUT", "/v1/packs/{id}",
      [&](Request& req) {
        FILE* f = std::fopen(stored.c_str(), "wb");
        std::vector<uint8_t> buf(64 * 1024);
        for (;;) {
          auto n = req.body->Read(buf.data(), buf.size());
          if (!n.ok()) {
            std::fclose(f);
            return ErrorResponse(500, "read", "", n.status().message());
          }
          if (*n == 0) break;
          largest_read = std::max<size_t>(largest_read, *n);
          std::fwrite(buf.data(), 1, *n, f);
        }
        std::fclose(f);
        return Response::Json(201, "{\"stored\":" + std::to_string(req.body->bytes_read()) + "}");
      },
      RouteOptions{32u << 20});
  r.Add("GET", "/v1/packs/{id}", [&](Request&) {
    Response resp;
    resp.file_path = stored;
    resp.headers.Set("Content-Type", "application/octet-stream");
    return resp;
  });
  Start(std::move(r));
  auto client = Client();
  ClientRequest put;
  put.method = "PUT";
  put.path = "/v1/packs/abc";
  put.body_file = src;
  auto resp = client->Send(put);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->status, 201) << resp->body;
  EXPECT_EQ(resp->body, "{\"stored\":" + std::to_string(24u << 20) + "}");
  EXPECT_LE(largest_read.load(), 64u * 1024);
  ClientRequest get;
  get.path = "/v1/packs/abc";
  get.response_file = back;
  get.max_response_bytes = 1024;  // the file path, not memory, takes the body
  auto got = client->Send(get);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, 200);
  EXPECT_TRUE(got->body.empty());
  EXPECT_EQ(kura::testing::ReadFileString(back), kura::testing::ReadFileString(src));
}

TEST_F(NetHttpTest, ServerErrorsAreJsonWithBothLanguagesAndHsts) {
  Router r;
  r.Add("GET", "/v1/status", [](Request&) { return Response::Text(200, "ok"); });
  r.Add(
      "PUT", "/v1/small", [](Request&) { return Response::Text(200, "ok"); }, RouteOptions{10});
  Start(std::move(r));
  auto client = Client();
  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"GET", "/v1/nothing", "", 404, "not_found"},
      {"DELETE", "/v1/status", "", 405, "method_not_allowed"},
      {"PUT", "/v1/small", "more than ten bytes", 413, "body_too_large"},
      {"GET", "/v1/../etc/passwd", "", 400, "bad_request"},
  };
  for (const Case& c : cases) {
    ClientRequest req;
    req.method = c.method;
    req.path = c.path;
    req.body = c.body;
    auto resp = client->Send(req);
    ASSERT_TRUE(resp.ok()) << c.path << ": " << resp.status().ToString();
    EXPECT_EQ(resp->status, c.status) << c.path;
    EXPECT_EQ(resp->headers.Get("Content-Type").value_or(""), "application/json") << c.path;
    EXPECT_EQ(resp->headers.Get("Strict-Transport-Security").value_or(""), "max-age=31536000");
    auto j = nlohmann::json::parse(resp->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << resp->body;
    EXPECT_EQ(j["code"], c.code);
    EXPECT_FALSE(j["message_ja"].get<std::string>().empty());
    EXPECT_FALSE(j["message_en"].get<std::string>().empty());
    if (c.status == 405) {
      EXPECT_EQ(resp->headers.Get("Allow").value_or(""), "GET");
    }
  }
}

TEST_F(NetHttpTest, AHandlerThatThrowsGets500AndTheServerGoesOn) {
  Router r;
  r.Add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("bug"); });
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  Start(std::move(r));
  auto client = Client();
  ClientRequest boom;
  boom.path = "/boom";
  auto resp = client->Send(boom);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 500);
  EXPECT_EQ(nlohmann::json::parse(resp->body)["code"], "internal");
  ClientRequest ping;
  ping.path = "/ping";
  auto ok = client->Send(ping);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

// G-ENC-05: the agent's client refuses a server whose certificate is not the pinned one,
// and says which certificate it saw.
TEST_F(NetHttpTest, ClientRefusesAServerWithAnotherCertificate) {
  std::atomic<int> served{0};
  Router r;
  r.Add("GET", "/ping", [&](Request&) {
    ++served;
    return Response::Text(200, "pong");
  });
  Start(std::move(r));
  auto other = testing::MakeTestCert(dir_.path(), "impostor");
  auto client = Client(&other.fingerprint);
  ClientRequest req;
  req.path = "/ping";
  auto resp = client->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kUnauthorized);
  EXPECT_NE(resp.status().message().find(cert_.fingerprint.ToString()), std::string::npos)
      << resp.status().message();
  EXPECT_NE(resp.status().message().find(other.fingerprint.ToString()), std::string::npos);
  EXPECT_EQ(served.load(), 0);
}

TEST_F(NetHttpTest, ClientReportsAnUnreachableServerAsRetryable) {
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  Start(std::move(r));
  const uint16_t port = server_->port();
  server_->Stop();
  ClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(port);
  o.pin = cert_.fingerprint;
  auto client = HttpClient::Create(o);
  ASSERT_TRUE(client.ok());
  ClientRequest req;
  req.path = "/ping";
  auto resp = (*client)->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kRetryable);
  EXPECT_FALSE(HttpClient::Create(ClientOptions{"http://127.0.0.1:1", cert_.fingerprint}).ok());
}

TEST_F(NetHttpTest, PortInUseIsAClearError) {
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  Start(std::move(r));
  auto tls = TlsServerContext::Load(cert_.cert_path, cert_.key_path);
  ASSERT_TRUE(tls.ok());
  ServerOptions o;
  o.tls = *tls;
  o.port = server_->port();
  Router r2;
  auto second = HttpServer::Start(o, std::move(r2));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kAlreadyExists);
  o.bind_address = "not-an-address";
  EXPECT_EQ(HttpServer::Start(o, Router()).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace kura::net

namespace kura::net {
namespace {

// G-ENC-04: with client certificates required, a client without one is refused in the
// handshake, and the handler sees the fingerprint of the one a site shows.
TEST_F(NetHttpTest, ClientCertificatesAreRequiredAndReachTheHandler) {
  auto site = testing::MakeTestCert(dir_.path(), "site");
  auto tls = TlsServerContext::Load(cert_.cert_path, cert_.key_path, ClientCerts::kRequired);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  std::atomic<int> served{0};
  Router r;
  r.Add("GET", "/whoami", [&](Request& req) {
    ++served;
    return Response::Text(200, req.client_cert ? req.client_cert->ToString() : "none");
  });
  ServerOptions o;
  o.tls = *tls;
  auto server = HttpServer::Start(std::move(o), std::move(r));
  ASSERT_TRUE(server.ok());
  const std::string url = "https://127.0.0.1:" + std::to_string((*server)->port());

  ClientOptions anonymous{url, cert_.fingerprint};
  auto anon = HttpClient::Create(anonymous);
  ASSERT_TRUE(anon.ok());
  ClientRequest req;
  req.path = "/whoami";
  auto refused = (*anon)->Send(req);
  EXPECT_FALSE(refused.ok() && refused->status == 200);
  EXPECT_EQ(served.load(), 0);

  ClientOptions with_cert{url, cert_.fingerprint};
  with_cert.client_cert_file = site.cert_path;
  with_cert.client_key_file = site.key_path;
  auto client = HttpClient::Create(with_cert);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto resp = (*client)->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, site.fingerprint.ToString());

  ASSERT_EQ(::chmod(site.key_path.c_str(), 0644), 0);
  EXPECT_EQ(HttpClient::Create(with_cert).status().code(), Code::kPermissionDenied);
}

TEST_F(NetHttpTest, WithoutClientCertificatesTheRequestHasNone) {
  Router r;
  r.Add("GET", "/whoami",
        [](Request& req) { return Response::Text(200, req.client_cert ? "some" : "none"); });
  Start(std::move(r));
  auto client = Client();
  ClientRequest req;
  req.path = "/whoami";
  auto resp = client->Send(req);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->body, "none");
}

}  // namespace
}  // namespace kura::net
