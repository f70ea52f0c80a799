// Target parsing, routing and head admission: kura's own request code in front of every
// handler (the fuzz target fuzz/http_request_fuzz.cc drives the same functions).
#include "net/router.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "net/request_head.h"

namespace kura::net {
namespace {

TEST(NetTargetTest, DecodesSegmentsAndQuery) {
  auto t = ParseTarget("/v1/repos/site%2001/packs/ab?x=1&y=%E8%94%B5&x=2&flag&q=a+b");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "repos", "site 01", "packs", "ab"}));
  EXPECT_EQ(t->path, "/v1/repos/site 01/packs/ab");
  EXPECT_EQ(t->query.at("x"), "1");  // the first of repeated keys
  EXPECT_EQ(t->query.at("y"), "蔵");
  EXPECT_EQ(t->query.at("flag"), "");
  EXPECT_EQ(t->query.at("q"), "a b");
  auto root = ParseTarget("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->segments.empty());
  EXPECT_EQ(root->path, "/");
  auto slash = ParseTarget("/a/");
  ASSERT_TRUE(slash.ok());
  EXPECT_EQ(slash->path, "/a");
}

TEST(NetTargetTest, RefusesWhatCouldEscapeOrConfuse) {
  for (const char* bad : {"", "v1", "*", "http://x/", "//a", "/a//b", "/a/../b", "/a/./b", "/%2e%2e/x",
                          "/a%2Fb", "/a%00", "/a%zz", "/a%4", "/a#frag", "/a?x=%g0", "/a b"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
  std::string many = "/a?";
  for (int i = 0; i < 1100; ++i) many += "k" + std::to_string(i) + "=v&";
  EXPECT_FALSE(ParseTarget(many).ok());
}

TEST(NetRouterTest, MatchesByMethodAndPattern) {
  Router r;
  int hit = 0;
  r.Add("GET", "/v1/repos/{repo}/status", [&](Request&) {
    hit = 1;
    return Response();
  });
  r.Add("PUT", "/v1/repos/{repo}/packs/{id}", [&](Request&) {
    hit = 2;
    return Response();
  });
  r.Add("POST", "/v1/repos/{repo}/packs/{id}", [&](Request&) { return Response(); });
  auto target = ParseTarget("/v1/repos/r1/packs/abc");
  ASSERT_TRUE(target.ok());
  auto m = r.Find("PUT", *target);
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.params.at("repo"), "r1");
  EXPECT_EQ(m.params.at("id"), "abc");
  Request req;
  m.route->handler(req);
  EXPECT_EQ(hit, 2);
  auto wrong = r.Find("DELETE", *target);
  EXPECT_EQ(wrong.kind, Router::MatchKind::kWrongMethod);
  EXPECT_EQ(wrong.allow, "PUT, POST");
  EXPECT_EQ(r.Find("GET", *ParseTarget("/v1/repos/r1/packs")).kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(r.Find("GET", *ParseTarget("/v1/repos/r1/packs/abc/extra")).kind, Router::MatchKind::kNoPath);
}

RequestHead Head(std::string method, std::string target, std::vector<Header> fields) {
  RequestHead h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.headers.Add("Host", "vault");
  for (auto& f : fields) h.headers.Add(f.name, f.value);
  return h;
}

TEST(NetAdmitTest, AppliesTheRouteLimitAndFraming) {
  Router r;
  r.Add(
      "PUT", "/big", [](Request&) { return Response(); }, RouteOptions{1 << 30});
  r.Add("PUT", "/small", [](Request&) { return Response(); });
  r.Add("GET", "/get", [](Request&) { return Response(); });
  auto ok = Admit(Head("PUT", "/big", {{"Content-Length", "1048577"}}), r, 1 << 20);
  EXPECT_FALSE(ok.error.has_value());
  EXPECT_EQ(ok.body_limit, 1u << 30);
  auto big = Admit(Head("PUT", "/small", {{"Content-Length", "1048577"}}), r, 1 << 20);
  ASSERT_TRUE(big.error.has_value());
  EXPECT_EQ(big.error->status, 413);
  EXPECT_EQ(Admit(Head("PUT", "/small", {}), r, 1 << 20).error->status, 411);
  auto chunked = Admit(Head("PUT", "/small", {{"Transfer-Encoding", "chunked"}}), r, 1 << 20);
  EXPECT_FALSE(chunked.error.has_value());
  EXPECT_TRUE(chunked.chunked);
  EXPECT_EQ(
      Admit(Head("PUT", "/small", {{"Transfer-Encoding", "chunked"}, {"Content-Length", "1"}}), r, 1 << 20)
          .error->status,
      400);
  EXPECT_EQ(Admit(Head("GET", "/get", {{"Host", "second"}}), r, 1 << 20).error->status, 400);
  EXPECT_FALSE(Admit(Head("GET", "/get", {}), r, 1 << 20).error.has_value());
  auto cont = Admit(Head("PUT", "/small", {{"Content-Length", "5"}, {"Expect", "100-continue"}}), r, 1 << 20);
  EXPECT_TRUE(cont.expect_continue);
}

TEST(NetAdmitTest, ParseAndAdmitMatchesTheServersRules) {
  Router r;
  r.Add("GET", "/ping", [](Request&) { return Response(); });
  HttpError err;
  auto parsed = ParseAndAdmit("GET /ping HTTP/1.1\r\nHost: v\r\n\r\n", 16384, r, 1 << 20, &err);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_FALSE(parsed->admission.error.has_value());
  EXPECT_FALSE(ParseAndAdmit("GET /ping HTTP/1.1\r\nHost: v\r\n", 16384, r, 1 << 20, &err).has_value());
  EXPECT_EQ(err.status, 0);  // incomplete, not refused
  EXPECT_FALSE(ParseAndAdmit("GET /ping HTTP/1.1\r\nHost: " + std::string(20000, 'v') + "\r\n\r\n", 16384, r,
                             1 << 20, &err)
                   .has_value());
  EXPECT_EQ(err.status, 431);
  err = {};
  EXPECT_FALSE(ParseAndAdmit("GET /ping HTTP/1.1\r\nHo st: v\r\n\r\n", 16384, r, 1 << 20, &err).has_value());
  EXPECT_EQ(err.status, 400);
}

// Random mutations of good heads: every outcome is a documented one, never a crash.
TEST(NetAdmitPropertyTest, MutatedHeadsGetDocumentedAnswers) {
  Router r;
  r.Add("GET", "/v1/repos/{repo}/status", [](Request&) { return Response(); });
  r.Add("PUT", "/v1/repos/{repo}/packs/{id}", [](Request&) { return Response(); });
  const std::string seeds[] = {
      "GET /v1/repos/r1/status HTTP/1.1\r\nHost: v\r\n\r\n",
      "PUT /v1/repos/r1/packs/ab HTTP/1.1\r\nHost: v\r\nContent-Length: 10\r\n\r\n0123456789",
      "PUT /v1/repos/r1/packs/ab HTTP/1.1\r\nHost: v\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
  };
  const std::set<int> allowed = {400, 404, 405, 411, 413, 431};
  std::mt19937 rng(7);
  const std::string alphabet = "GETPU /%?&=:\r\n0123456789abcdefxzHTP.-";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[iter % 3];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          s.erase(pos, 1);
          break;
      }
    }
    HttpError err;
    auto parsed = ParseAndAdmit(s, 16384, r, 1 << 20, &err);
    if (!parsed) {
      if (err.status != 0) {
        EXPECT_TRUE(allowed.count(err.status)) << err.status;
      }
      continue;
    }
    if (parsed->admission.error) {
      EXPECT_TRUE(allowed.count(parsed->admission.error->status)) << parsed->admission.error->status;
    } else {
      ASSERT_NE(parsed->admission.route, nullptr);
      EXPECT_LE(parsed->admission.content_length.value_or(0), parsed->admission.body_limit);
    }
  }
}

}  // namespace
}  // namespace kura::net
