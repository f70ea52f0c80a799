// Internal to src/net: the Boost.Beast types the server and the fuzz entry share. Only
// .cc files include this header; the public headers stay free of Boost.
#pragma once

#include <boost/beast/http.hpp>

#include "net/request_head.h"

namespace kura::net {

namespace beast_http = boost::beast::http;
using BeastParser = beast_http::request_parser<beast_http::buffer_body>;

// A parser set up as the server uses it: header limit, no body limit until the head is
// admitted (Admit sets it from the route).
void PrepareParser(BeastParser& parser, size_t max_header_bytes);

RequestHead HeadFromParser(const BeastParser& parser);

// The refusal for a parser error: 431 for the header limit, 413 for the body limit, 400
// for anything else the parser rejects.
HttpError ErrorFromParser(const boost::system::error_code& ec, size_t max_header_bytes, uint64_t body_limit);

}  // namespace kura::net
