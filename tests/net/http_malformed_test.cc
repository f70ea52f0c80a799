// Malformed and hostile requests over real TLS (issue 7 §6): each gets a 4xx with the JSON
// error body, and the server goes on serving. Timeouts are short here but every wait
// for them is bounded generously, so a slow machine makes the test slower, not flaky.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_server.h"
#include "net/net_support.h"
#include "support/repo_testing.h"

namespace kura::net {
namespace {

using namespace std::chrono_literals;
using testing::BodyOf;
using testing::RawTlsClient;
using testing::StatusOf;

class NetMalformedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = testing::MakeTestCert(dir_.path());
    Router r;
    r.Add("GET", "/ping", [](Request&) { return Response::Text(200, "pong"); });
    r.Add(
        "PUT", "/upload",
        [this](Request& req) {
          auto body = ReadAll(*req.body, 1 << 20);
          if (!body.ok()) {
            ++handler_body_errors_;
            return ErrorResponse(500, "handler_saw_error", "", body.status().message());
          }
          return Response::Text(200, std::to_string(body->size()));
        },
        RouteOptions{1000});
    ServerLimits limits;
    limits.max_header_bytes = 4096;
    limits.header_timeout = 300ms;
    limits.body_timeout = 300ms;
    server_ = testing::StartTestServer(cert_, std::move(r), limits);
    ASSERT_NE(server_, nullptr);
    ctx_ = testing::PermissiveClientContext();
  }
  void TearDown() override { SSL_CTX_free(ctx_); }

  // Sends `bytes` on a fresh connection and returns the response ("" if none came).
  std::string Exchange(const std::string& bytes) {
    RawTlsClient c(ctx_);
    if (!c.Connect(server_->port())) return "";
    if (!c.Write(bytes)) return "";
    return c.ReadResponse();
  }

  // The server still answers a good request on a new connection.
  void ExpectStillServing() {
    std::string r = Exchange("GET /ping HTTP/1.1\r\nHost: v\r\n\r\n");
    EXPECT_EQ(StatusOf(r), 200) << r;
    EXPECT_EQ(BodyOf(r), "pong");
  }

  static std::string CodeOf(const std::string& response) {
    auto j = nlohmann::json::parse(BodyOf(response), nullptr, false);
    return j.is_object() && j.contains("code") ? j["code"].get<std::string>() : "";
  }

  kura::testing::TempDir dir_;
  testing::TestCert cert_;
  std::unique_ptr<HttpServer> server_;
  SSL_CTX* ctx_ = nullptr;
  std::atomic<int> handler_body_errors_{0};
};

TEST_F(NetMalformedTest, BadRequestLinesAre400) {
  const char* lines[] = {
      "GARBAGE\r\n\r\n",
      "GET\r\nHost: v\r\n\r\n",
      "GET /ping HTTP/9.9\r\nHost: v\r\n\r\n",
      "GET /ping HTTP/1.1 extra\r\nHost: v\r\n\r\n",
      "GET ping HTTP/1.1\r\nHost: v\r\n\r\n",
      "GET http://evil/ping HTTP/1.1\r\nHost: v\r\n\r\n",
      "GET /p%zzing HTTP/1.1\r\nHost: v\r\n\r\n",
      "GET /a/%2e%2e/ping HTTP/1.1\r\nHost: v\r\n\r\n",
      "G\x01T /ping HTTP/1.1\r\nHost: v\r\n\r\n",
      "GET /ping HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET /ping HTTP/1.1\r\n: novalue\r\n\r\n",
      "GET /ping HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host
  };
  for (const char* line : lines) {
    std::string r = Exchange(line);
    EXPECT_EQ(StatusOf(r), 400) << line << "\n" << r;
    EXPECT_EQ(CodeOf(r), "bad_request") << line;
  }
  ExpectStillServing();
}

TEST_F(NetMalformedTest, HugeHeadersAre431) {
  std::string r = Exchange("GET /ping HTTP/1.1\r\nHost: v\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 431) << r;
  EXPECT_EQ(CodeOf(r), "headers_too_large");
  std::string many = "GET /ping HTTP/1.1\r\nHost: v\r\n";
  for (int i = 0; i < 500; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  r = Exchange(many + "\r\n");
  EXPECT_EQ(StatusOf(r), 431) << r;
  ExpectStillServing();
}

// Regression: Beast's header_limit bounds one put() only, so a head sent in small pieces
// passed it. The server counts every byte of the head.
TEST_F(NetMalformedTest, HugeHeadsSentInSmallPiecesAre431) {
  std::string many = "GET /ping HTTP/1.1\r\nHost: v\r\n";
  for (int i = 0; i < 300; ++i) many += "X-" + std::to_string(i) + ": " + std::string(20, 'y') + "\r\n";
  many += "\r\n";
  ASSERT_GT(many.size(), 4096u);
  RawTlsClient c(ctx_);
  ASSERT_TRUE(c.Connect(server_->port()));
  bool written = true;
  for (size_t i = 0; i < many.size() && written; i += 64) written = c.Write(many.substr(i, 64));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 431) << r;
  ExpectStillServing();
}

TEST_F(NetMalformedTest, WrongContentLengthsAreRefused) {
  struct Case {
    std::string request;
    int status;
  };
  const Case cases[] = {
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: abc\r\n\r\n", 400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: -1\r\n\r\n", 400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 1001\r\n\r\n", 413},  // refused before the body
      {"PUT /upload HTTP/1.1\r\nHost: v\r\n\r\n", 411},
  };
  for (const Case& c : cases) {
    std::string r = Exchange(c.request);
    EXPECT_EQ(StatusOf(r), c.status) << c.request << "\n" << r;
  }
  EXPECT_EQ(handler_body_errors_.load(), 0);
  ExpectStillServing();
}

TEST_F(NetMalformedTest, ContentLengthShorterThanTheBodyLeavesGarbageThatIs400) {
  RawTlsClient c(ctx_);
  ASSERT_TRUE(c.Connect(server_->port()));
  ASSERT_TRUE(c.Write("PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 2\r\n\r\nabcdef\r\n\r\n"));
  std::string first = c.ReadResponse();
  EXPECT_EQ(StatusOf(first), 200);
  EXPECT_EQ(BodyOf(first), "2");
  std::string second = c.ReadResponse();  // "cdef" is not a request line
  EXPECT_EQ(StatusOf(second), 400) << second;
  ExpectStillServing();
}

TEST_F(NetMalformedTest, ChunkedBodiesAreCheckedAndLimited) {
  std::string ok = Exchange(
      "PUT /upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n vault\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(ok), 200) << ok;
  EXPECT_EQ(BodyOf(ok), "11");
  std::string bad = Exchange(
      "PUT /upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(bad), 400) << bad;
  std::string wrong_size = Exchange(
      "PUT /upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(wrong_size), 400) << wrong_size;
  std::string big = "PUT /upload HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) big += "190\r\n" + std::string(400, 'x') + "\r\n";  // 1,200 > 1,000
  std::string r = Exchange(big + "0\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_EQ(CodeOf(r), "body_too_large");
  ExpectStillServing();
}

TEST_F(NetMalformedTest, TruncatedBodyIs408AfterTheBodyTimeout) {
  RawTlsClient c(ctx_);
  ASSERT_TRUE(c.Connect(server_->port()));
  ASSERT_TRUE(c.Write("PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 100\r\n\r\nonly ten b"));
  std::string r = c.ReadResponse(20s);  // body_timeout is 300 ms; 20 s is the bound
  EXPECT_EQ(StatusOf(r), 408) << r;
  EXPECT_EQ(CodeOf(r), "request_timeout");
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
  EXPECT_TRUE(c.WaitForClose(20s));
  EXPECT_EQ(handler_body_errors_.load(), 1);  // the handler saw the failure, not a short body
  ExpectStillServing();
}

TEST_F(NetMalformedTest, ExpectContinueGets100ThenTheAnswer) {
  RawTlsClient c(ctx_);
  ASSERT_TRUE(c.Connect(server_->port()));
  ASSERT_TRUE(
      c.Write("PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  // ReadResponse skips the interim 100; the client must wait for it before the body,
  // so read it by hand first.
  EXPECT_EQ(c.ReadExactly(25), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Write("abcd"));
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "4");
  // Too large: refused without 100, the body is never invited.
  RawTlsClient big(ctx_);
  ASSERT_TRUE(big.Connect(server_->port()));
  ASSERT_TRUE(
      big.Write("PUT /upload HTTP/1.1\r\nHost: v\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(StatusOf(big.ReadResponse()), 413);
}

// A slowloris client: one header byte at a time, never finishing. The header timeout
// (300 ms) cuts it off with a 408 long before it would have sent its whole head.
TEST_F(NetMalformedTest, SlowlorisIsCutOffAfterTheHeaderTimeout) {
  RawTlsClient c(ctx_);
  ASSERT_TRUE(c.Connect(server_->port()));
  const std::string head = "GET /ping HTTP/1.1\r\nHost: v\r\nX-Slow: " + std::string(2000, 'z');
  size_t sent = 0;
  bool cut = false;
  std::string response;
  while (sent < head.size()) {
    if (!c.Write(head.substr(sent, 1))) {
      cut = true;
      break;
    }
    ++sent;
    response = c.ReadResponse(20ms);  // also the pace: at most one byte per 20 ms
    if (!response.empty()) {
      cut = true;
      break;
    }
  }
  // 2,000 bytes at 20 ms each would take 40 s; the server must have stopped it first.
  EXPECT_TRUE(cut);
  EXPECT_LT(sent, head.size());
  EXPECT_EQ(StatusOf(response), 408) << response;
  EXPECT_TRUE(c.WaitForClose(20s));
  EXPECT_GE(server_->stats().timeouts, 1u);
  ExpectStillServing();
}

}  // namespace
}  // namespace kura::net
