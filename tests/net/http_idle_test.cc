// Idle and slow clients must not starve the server (issue 7 §1): 300 connections held open
// and silent — half of them never start TLS, half finish the handshake and say nothing —
// while 20 clients each complete their requests. The idle ones are still open at the end:
// the server held them rather than shedding them to make room.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/net_support.h"
#include "support/repo_testing.h"

namespace kura::net {
namespace {

using namespace std::chrono_literals;

TEST(NetIdleTest, ThreeHundredIdleConnectionsDoNotStarveTwentyClients) {
  testing::RaiseFileLimit();
  kura::testing::TempDir dir;
  auto cert = testing::MakeTestCert(dir.path());
  Router r;
  r.Add(
      "PUT", "/v1/packs/{id}",
      [](Request& req) {
        auto body = ReadAll(*req.body, 1 << 20);
        if (!body.ok()) return ErrorResponse(500, "read", "", body.status().message());
        return Response::Text(201, req.params["id"] + ":" + std::to_string(body->size()));
      },
      RouteOptions{1 << 20});
  ServerLimits limits;
  // Long enough that no idle connection is closed during the test; the point is that
  // they are held, and still the clients are served.
  limits.handshake_timeout = 10min;
  limits.idle_timeout = 10min;
  limits.worker_threads = 4;  // fewer workers than clients: idle sockets must not need one
  auto server = testing::StartTestServer(cert, std::move(r), limits);
  ASSERT_NE(server, nullptr);

  std::vector<int> tcp_idle;
  for (int i = 0; i < 150; ++i) {
    int fd = testing::ConnectTcp(server->port());
    ASSERT_GE(fd, 0);
    tcp_idle.push_back(fd);
  }
  SSL_CTX* permissive = testing::PermissiveClientContext();
  std::vector<std::unique_ptr<testing::RawTlsClient>> tls_idle;
  for (int i = 0; i < 150; ++i) {
    auto c = std::make_unique<testing::RawTlsClient>(permissive);
    ASSERT_TRUE(c->Connect(server->port())) << i;
    tls_idle.push_back(std::move(c));
  }
  SSL_CTX_free(permissive);
  // Every idle connection has been accepted before the clients start.
  for (int i = 0; i < 2000 && server->stats().open_connections < 300; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server->stats().open_connections, 300u);

  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 20; ++c) {
    clients.emplace_back([&, c] {
      ClientOptions o;
      o.base_url = "https://127.0.0.1:" + std::to_string(server->port());
      o.pin = cert.fingerprint;
      o.idle_timeout = 60s;
      auto client = HttpClient::Create(o);
      if (!client.ok()) {
        ++failed;
        return;
      }
      for (int i = 0; i < 10; ++i) {
        ClientRequest req;
        req.method = "PUT";
        req.path = "/v1/packs/c" + std::to_string(c) + "-" + std::to_string(i);
        req.body = std::string(64 * 1024 + c, 'p');
        auto resp = (*client)->Send(req);
        if (resp.ok() && resp->status == 201 &&
            resp->body ==
                "c" + std::to_string(c) + "-" + std::to_string(i) + ":" + std::to_string(64 * 1024 + c)) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(failed.load(), 0);

  int still_open = 0;
  for (int fd : tcp_idle) still_open += testing::StillOpen(fd) ? 1 : 0;
  for (auto& c : tls_idle) still_open += testing::StillOpen(c->fd()) ? 1 : 0;
  EXPECT_EQ(still_open, 300);
  EXPECT_EQ(server->stats().refused_at_accept, 0u);
  for (int fd : tcp_idle) ::close(fd);
  tls_idle.clear();
  server->Stop();
  EXPECT_EQ(server->stats().open_connections, 0u);
}

// Connections beyond max_connections are closed at once; those already open keep working.
TEST(NetIdleTest, ConnectionsOverTheLimitAreClosedAtAccept) {
  kura::testing::TempDir dir;
  auto cert = testing::MakeTestCert(dir.path());
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  ServerLimits limits;
  limits.max_connections = 3;
  limits.handshake_timeout = 10min;
  auto server = testing::StartTestServer(cert, std::move(r), limits);
  ASSERT_NE(server, nullptr);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(testing::ConnectTcp(server->port()));
  for (int i = 0; i < 2000 && server->stats().open_connections < 3; ++i) std::this_thread::sleep_for(5ms);
  int extra = testing::ConnectTcp(server->port());
  ASSERT_GE(extra, 0);
  EXPECT_TRUE(testing::WaitForClose(extra, 20s));
  EXPECT_EQ(server->stats().refused_at_accept, 1u);
  for (int fd : fds) EXPECT_TRUE(testing::StillOpen(fd));
  ::close(extra);
  for (int fd : fds) ::close(fd);
}

// With every worker busy and the queue full, a further request is answered 503 at once
// instead of waiting behind them.
TEST(NetIdleTest, FullQueueIsAnswered503) {
  kura::testing::TempDir dir;
  auto cert = testing::MakeTestCert(dir.path());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> entered{0};
  Router r;
  r.Add("GET", "/block", [&](Request&) {
    ++entered;
    released.wait();
    return Response::Text(200, "done");
  });
  ServerLimits limits;
  limits.worker_threads = 1;
  limits.max_queued_requests = 1;
  auto server = testing::StartTestServer(cert, std::move(r), limits);
  ASSERT_NE(server, nullptr);
  SSL_CTX* ctx = testing::PermissiveClientContext();
  testing::RawTlsClient running(ctx);
  testing::RawTlsClient queued(ctx);
  testing::RawTlsClient refused(ctx);
  SSL_CTX_free(ctx);
  const std::string get = "GET /block HTTP/1.1\r\nHost: v\r\n\r\n";
  ASSERT_TRUE(running.Connect(server->port()) && running.Write(get));
  for (int i = 0; i < 2000 && entered.load() == 0; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(entered.load(), 1);
  ASSERT_TRUE(queued.Connect(server->port()) && queued.Write(get));
  ASSERT_TRUE(refused.Connect(server->port()) && refused.Write(get));
  // One of the two waits in the queue, the other finds it full and is answered at once,
  // while the worker is still blocked.
  std::string busy;
  testing::RawTlsClient* waiting = nullptr;
  for (int i = 0; i < 200 && busy.empty(); ++i) {
    if (!(busy = queued.ReadResponse(50ms)).empty()) {
      waiting = &refused;
    } else if (!(busy = refused.ReadResponse(50ms)).empty()) {
      waiting = &queued;
    }
  }
  EXPECT_EQ(testing::StatusOf(busy), 503) << busy;
  EXPECT_NE(busy.find("Retry-After: 5"), std::string::npos);
  release.set_value();
  EXPECT_EQ(testing::StatusOf(running.ReadResponse()), 200);
  ASSERT_NE(waiting, nullptr);
  EXPECT_EQ(testing::StatusOf(waiting->ReadResponse()), 200);
}

// A TCP connection that never starts TLS is cut after the handshake timeout, and a
// keep-alive connection that sends nothing after the idle timeout.
TEST(NetIdleTest, SilentConnectionsAreCutAfterTheirTimeouts) {
  kura::testing::TempDir dir;
  auto cert = testing::MakeTestCert(dir.path());
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
  ServerLimits limits;
  limits.handshake_timeout = 200ms;
  limits.idle_timeout = 200ms;
  auto server = testing::StartTestServer(cert, std::move(r), limits);
  ASSERT_NE(server, nullptr);
  int fd = testing::ConnectTcp(server->port());
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(testing::WaitForClose(fd, 20s));
  ::close(fd);

  SSL_CTX* ctx = testing::PermissiveClientContext();
  testing::RawTlsClient c(ctx);
  SSL_CTX_free(ctx);
  ASSERT_TRUE(c.Connect(server->port()));
  ASSERT_TRUE(c.Write("GET /ping HTTP/1.1\r\nHost: v\r\n\r\n"));
  EXPECT_EQ(testing::StatusOf(c.ReadResponse()), 200);
  EXPECT_TRUE(c.WaitForClose(20s));
  EXPECT_GE(server->stats().timeouts, 2u);
}

}  // namespace
}  // namespace kura::net
