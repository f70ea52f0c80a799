// Graceful stop (issue 7 §1): a request in flight finishes and is answered; one whose
// client stalls is cleanly abandoned after the grace period; nothing new is accepted.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/net_support.h"
#include "support/repo_testing.h"

namespace kura::net {
namespace {

using namespace std::chrono_literals;

class NetStopTest : public ::testing::Test {
 protected:
  void SetUp() override { cert_ = testing::MakeTestCert(dir_.path()); }
  kura::testing::TempDir dir_;
  testing::TestCert cert_;
};

TEST_F(NetStopTest, RequestInFlightFinishesAndIsAnswered) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router r;
  r.Add("PUT", "/slow", [&](Request& req) {
    entered.set_value();
    released.wait();
    auto body = ReadAll(*req.body, 1 << 20);  // the rest of the body is read after Stop began
    return Response::Text(200, body.ok() ? "stored " + std::to_string(body->size()) : "failed");
  });
  ServerLimits limits;
  limits.stop_grace = 60s;
  auto server = testing::StartTestServer(cert_, std::move(r), limits);
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();

  // An idle keep-alive connection is closed by Stop at once.
  SSL_CTX* ctx = testing::PermissiveClientContext();
  testing::RawTlsClient idle(ctx);
  ASSERT_TRUE(idle.Connect(port));

  testing::RawTlsClient busy(ctx);
  SSL_CTX_free(ctx);
  ASSERT_TRUE(busy.Connect(port));
  ASSERT_TRUE(busy.Write("PUT /slow HTTP/1.1\r\nHost: v\r\nContent-Length: 10\r\n\r\n01234"));
  entered.get_future().wait();

  std::thread stopper([&] { server->Stop(); });
  EXPECT_TRUE(idle.WaitForClose(20s));
  // While stopping, new connections are refused.
  bool refused = false;
  for (int i = 0; i < 400 && !refused; ++i) {
    int fd = testing::ConnectTcp(port);
    refused = fd < 0 || testing::WaitForClose(fd, 50ms);
    if (fd >= 0) ::close(fd);
  }
  EXPECT_TRUE(refused);
  ASSERT_TRUE(busy.Write("56789"));
  release.set_value();
  std::string resp = busy.ReadResponse();
  EXPECT_EQ(testing::StatusOf(resp), 200) << resp;
  EXPECT_EQ(testing::BodyOf(resp), "stored 10");
  EXPECT_NE(resp.find("Connection: close"), std::string::npos);
  stopper.join();
  EXPECT_EQ(server->stats().open_connections, 0u);
}

TEST_F(NetStopTest, StalledUploadIsAbandonedAfterTheGrace) {
  std::promise<Status> seen;
  std::promise<void> entered;
  Router r;
  r.Add("PUT", "/upload", [&](Request& req) {
    entered.set_value();
    uint8_t buf[4096];
    Status st;
    for (;;) {
      auto n = req.body->Read(buf, sizeof buf);
      if (!n.ok()) {
        st = n.status();
        break;
      }
      if (*n == 0) break;
    }
    seen.set_value(st);
    return Response::Text(200, "should not be sent");
  });
  ServerLimits limits;
  limits.stop_grace = 200ms;
  limits.body_timeout = 10min;  // only the stop may end this upload
  auto server = testing::StartTestServer(cert_, std::move(r), limits);
  ASSERT_NE(server, nullptr);
  SSL_CTX* ctx = testing::PermissiveClientContext();
  testing::RawTlsClient c(ctx);
  SSL_CTX_free(ctx);
  ASSERT_TRUE(c.Connect(server->port()));
  ASSERT_TRUE(c.Write("PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 1000000\r\n\r\npartial"));
  ASSERT_EQ(entered.get_future().wait_for(20s), std::future_status::ready);
  server->Stop();  // returns only after the handler has returned
  auto status = seen.get_future();
  ASSERT_EQ(status.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(status.get().code(), Code::kCancelled);
  EXPECT_EQ(c.ReadResponse(5s), "");  // the handler's response was dropped, not sent
  EXPECT_EQ(server->stats().open_connections, 0u);
}

}  // namespace
}  // namespace kura::net
