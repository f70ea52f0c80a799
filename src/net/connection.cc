// The life of one connection: handshake, wait, head, handler, response, and again. Every
// wait has a deadline (the timer), so no client can hold a connection in a phase longer
// than its limit; only a handler, which is kura's own code, may take its time.
#include "net/connection.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "util/i18n.h"

namespace kura::net {

namespace beast = boost::beast;
using boost::system::error_code;

namespace {

bool ClientWentAway(const error_code& ec) {
  return ec == beast_http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

// A body that ends early (the client closed its side) is answered, if the client still
// listens; a reset or a cut by the server is not.
bool BodyEndedEarly(const error_code& ec) {
  return ec == beast_http::error::partial_message || ec == beast_http::error::end_of_stream ||
         ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string RoutePattern(const Router::Route* route) {
  if (route == nullptr) return "-";
  std::string out;
  for (const std::string& segment : route->pattern) out += "/" + segment;
  return out.empty() ? "/" : out;
}

}  // namespace

ServerCore::ServerCore(ServerOptions opts, Router r, asio::ssl::context ssl_ctx)
    : options(std::move(opts)),
      router(std::move(r)),
      ssl(std::move(ssl_ctx)),
      workers(options.limits.worker_threads, options.limits.max_queued_requests) {}

Connection::Connection(ServerCore& core, Tcp::socket socket)
    : core_(core), stream_(std::move(socket), core.ssl), timer_(stream_.get_executor()) {
  core_.open_connections.fetch_add(1);
  error_code ec;
  Tcp::endpoint peer = stream_.next_layer().remote_endpoint(ec);
  if (!ec) {
    peer_ip_ = peer.address().to_string(ec);
    peer_port_ = peer.port();
  }
  stream_.next_layer().set_option(Tcp::no_delay(true), ec);
}

Connection::~Connection() {
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    core_.live.erase(this);
    core_.open_connections.fetch_sub(1);
  }
  core_.cv.notify_all();
}

void Connection::Start() {
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    core_.live.emplace(this, weak_from_this());
  }
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->core_.stopping) {
      self->Close();
      return;
    }
    self->Arm(self->core_.options.limits.handshake_timeout);
    self->stream_.async_handshake(asio::ssl::stream_base::server,
                                  [self](const error_code& ec) { self->OnHandshake(ec); });
  });
}

void Connection::Arm(Millis d) {
  const uint64_t generation = ++timer_generation_;
  timed_out_ = false;
  timer_.expires_after(d);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_) return;
    self->timed_out_ = true;
    error_code ignored;
    self->stream_.next_layer().cancel(ignored);  // the pending operation ends with operation_aborted
  });
}

bool Connection::EndOp() {
  ++timer_generation_;
  timer_.cancel();
  return std::exchange(timed_out_, false);
}

void Connection::OnHandshake(const error_code& ec) {
  bool timed_out = EndOp();
  if (ec) {
    if (timed_out) core_.timeouts.fetch_add(1);
    Close();
    return;
  }
  if (X509* peer = SSL_get0_peer_certificate(stream_.native_handle())) client_cert_ = FingerprintOfX509(peer);
  WaitForRequest();
}

void Connection::WaitForRequest() {
  if (core_.stopping) {
    GracefulClose();
    return;
  }
  phase_ = Phase::kIdle;
  if (buffer_.size() > 0) {  // a pipelined request is already here
    ReadHead();
    return;
  }
  Arm(core_.options.limits.idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](const error_code& ec, size_t n) {
    bool timed_out = self->EndOp();
    self->buffer_.commit(n);
    if (ec && n == 0) {
      if (timed_out) self->core_.timeouts.fetch_add(1);
      self->Close();
      return;
    }
    self->ReadHead();
  });
}

void Connection::ReadHead() {
  phase_ = Phase::kHead;
  parser_.emplace();
  PrepareParser(*parser_, core_.options.limits.max_header_bytes);
  head_bytes_ = 0;
  body_read_ = 0;
  body_error_.reset();
  body_lost_ = false;
  Arm(core_.options.limits.header_timeout);
  ParseHead();
}

// The head is fed to the parser here rather than through async_read_header because Beast's
// header_limit bounds only the unparsed bytes of one put(): a head arriving in many small
// reads would pass it. kura counts every byte of the head.
void Connection::ParseHead() {
  const size_t limit = core_.options.limits.max_header_bytes;
  while (buffer_.size() > 0) {
    error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    head_bytes_ += used;
    if (ec && ec != beast_http::error::need_more) {
      EndOp();
      OnHead(ec, false);
      return;
    }
    if (head_bytes_ > limit || (!parser_->is_header_done() && head_bytes_ + buffer_.size() > limit)) {
      EndOp();
      OnHead(beast_http::error::header_limit, false);
      return;
    }
    if (parser_->is_header_done()) {
      EndOp();
      OnHead({}, false);
      return;
    }
    if (used == 0) break;  // need more bytes
  }
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](const error_code& ec, size_t n) {
    self->buffer_.commit(n);
    if (ec) {
      bool timed_out = self->EndOp();
      self->OnHead(ec, timed_out);
      return;
    }
    self->ParseHead();
  });
}

void Connection::OnHead(error_code ec, bool timed_out) {
  head_time_ = std::chrono::steady_clock::now();
  if (timed_out) {
    core_.timeouts.fetch_add(1);
    SendError(TimeoutError(), false);
    return;
  }
  if (ec) {
    if (ClientWentAway(ec) || ec == beast_http::error::partial_message) {
      Close();
      return;
    }
    SendError(ErrorFromParser(ec, core_.options.limits.max_header_bytes, core_.options.limits.max_body_bytes),
              false);
    return;
  }
  head_ = HeadFromParser(*parser_);
  admission_ = Admit(head_, core_.router, core_.options.limits.max_body_bytes);
  if (admission_.error) {
    SendError(*admission_.error, head_.keep_alive && !BodyPending());
    return;
  }
  parser_->body_limit(admission_.body_limit);
  if (admission_.expect_continue && BodyPending()) {
    phase_ = Phase::kWriting;
    Arm(core_.options.limits.write_timeout);
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](const error_code& wec, size_t) {
                        if (self->EndOp() || wec) {
                          self->Close();
                          return;
                        }
                        self->Dispatch();
                      });
    return;
  }
  Dispatch();
}

bool Connection::BodyPending() const {
  return parser_ && !parser_->is_done();
}

void Connection::Dispatch() {
  phase_ = Phase::kHandler;
  if (!core_.workers.TrySubmit([self = shared_from_this()] { self->RunHandler(); })) {
    SendError(BusyError(), false);
  }
}

namespace {

class ConnectionBody : public BodyReader {
 public:
  explicit ConnectionBody(Connection& c) : c_(c) {}
  Result<size_t> Read(uint8_t* buf, size_t n) override { return c_.ReadBody(buf, n); }
  std::optional<uint64_t> content_length() const override { return c_.content_length(); }
  uint64_t bytes_read() const override { return c_.body_read(); }

 private:
  Connection& c_;
};

}  // namespace

void Connection::RunHandler() {
  ConnectionBody body(*this);
  Request req;
  req.method = head_.method;
  req.target = head_.target;
  req.path = admission_.target.path;
  req.query = admission_.target.query;
  req.params = admission_.params;
  req.headers = head_.headers;
  req.peer_ip = peer_ip_;
  req.peer_port = peer_port_;
  req.client_cert = client_cert_;
  req.body = &body;
  Response response;
  // The server's one catch boundary: an exception escaping a handler is a bug, answered
  // with 500 so one bad request cannot end the vault for every site.
  try {
    response = admission_.route->handler(req);
  } catch (const std::exception&) {
    response = ToResponse(InternalError());
  }
  if (body_error_) response = ToResponse(*body_error_);
  bool keep_alive = head_.keep_alive && !body_error_ && !body_lost_ && parser_->is_done() && !core_.stopping;
  bool drop = body_lost_;
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), response = std::move(response), keep_alive, drop]() mutable {
               if (drop || self->phase_ == Phase::kClosed) {
                 self->Close();
                 return;
               }
               self->WriteResponse(std::move(response), keep_alive);
             });
}

void Connection::FillBody(uint8_t* buf, size_t n, size_t filled,
                          std::promise<std::pair<error_code, size_t>>* done) {
  auto& body = parser_->get().body();
  body.data = buf + filled;
  body.size = n - filled;
  body.more = true;
  Arm(core_.options.limits.body_timeout);
  beast_http::async_read_some(stream_, buffer_, *parser_,
                              [self = shared_from_this(), buf, n, filled, done](error_code ec, size_t) {
                                bool timed_out = self->EndOp();
                                size_t got = n - self->parser_->get().body().size;
                                if (timed_out) ec = beast::error::timeout;
                                if (ec == beast_http::error::need_buffer) ec = {};
                                bool more = !ec && got < n && !self->parser_->is_done() &&
                                            self->phase_ != Phase::kClosed && !self->core_.force_closing;
                                if (more && got > filled) {
                                  self->FillBody(buf, n, got, done);
                                  return;
                                }
                                done->set_value({ec, got});
                              });
}

Result<size_t> Connection::ReadBody(uint8_t* buf, size_t n) {
  if (body_error_ || body_lost_) {
    return Status::Cancelled(
        Tr("リクエストの本文はもう読めません", "the request body can no longer be read"));
  }
  if (n == 0 || parser_->is_done()) return size_t{0};
  for (;;) {
    std::promise<std::pair<error_code, size_t>> done;
    auto result = done.get_future();
    asio::post(stream_.get_executor(), [self = shared_from_this(), buf, n, &done] {
      if (self->phase_ == Phase::kClosed) {
        done.set_value({asio::error::operation_aborted, 0});
        return;
      }
      self->FillBody(buf, n, 0, &done);
    });
    auto [ec, got] = result.get();
    body_read_ += got;
    if (ec == beast::error::timeout) {
      core_.timeouts.fetch_add(1);
      body_error_ = TimeoutError();
      return Status::Retryable(Tr("リクエストの本文が {} ミリ秒届きませんでした",
                                  "no request body bytes for {} ms",
                                  core_.options.limits.body_timeout.count()));
    }
    if (ec == beast_http::error::body_limit) {
      body_error_ = BodyTooLargeError(admission_.body_limit);
      return Status::NoSpace(Tr("リクエストの本文が上限 {} バイトを超えています",
                                "the request body exceeds the limit of {} bytes", admission_.body_limit));
    }
    if (ec && core_.force_closing) {
      body_lost_ = true;
      return Status::Cancelled(Tr("サーバーの停止により接続を切りました",
                                  "the connection was cut because the server is stopping"));
    }
    if (ec && BodyEndedEarly(ec)) {
      body_error_ = BadRequestError("本文が途中で終わりました", "the body ended before its declared length");
      return Status::InvalidArgument(
          Tr("リクエストの本文が途中で終わりました", "the request body ended early"));
    }
    if (ec && ClientWentAway(ec)) {
      body_lost_ = true;
      return Status::Retryable(Tr("クライアントが接続を切りました", "the client closed the connection"));
    }
    if (ec) {
      body_error_ = ErrorFromParser(ec, core_.options.limits.max_header_bytes, admission_.body_limit);
      return Status::InvalidArgument(Tr("リクエストの本文の形式が不正です", "the request body is malformed"));
    }
    if (got > 0 || parser_->is_done()) return got;
  }
}

void Connection::SendError(const HttpError& error, bool keep_alive) {
  WriteResponse(ToResponse(error), keep_alive && !core_.stopping);
}

namespace {

template <class Body>
void FillHeaders(beast_http::response<Body>& msg, const Response& response, const ServerOptions& options,
                 bool keep_alive) {
  msg.result(static_cast<unsigned>(response.status));
  msg.version(11);
  for (const Header& h : response.headers.all()) {
    beast_http::field f = beast_http::string_to_field(h.name);
    if (f == beast_http::field::content_length || f == beast_http::field::transfer_encoding ||
        f == beast_http::field::connection || f == beast_http::field::strict_transport_security) {
      continue;  // the server's to set
    }
    msg.insert(h.name, h.value);
  }
  msg.set(beast_http::field::strict_transport_security,
          "max-age=" + std::to_string(options.hsts_max_age_seconds));
  msg.set("X-Content-Type-Options", "nosniff");
  msg.keep_alive(keep_alive);
}

}  // namespace

namespace {

// A body of `length` bytes of a file from `offset`, read with pread in 64 KiB pieces: a
// Range answer never reads more of the file than it sends, nor holds it in memory.
struct FileRangeBody {
  struct value_type {
    std::shared_ptr<int> fd;  // closed by its deleter
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  static uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const beast_http::header<isRequest, Fields>& /*head*/, const value_type& v) : v_(v) {}
    void init(error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(error_code& ec) {
      ec = {};
      if (done_ >= v_.length) return boost::none;
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), v_.length - done_));
      ssize_t n = ::pread(*v_.fd, buf_.data(), want, static_cast<off_t>(v_.offset + done_));
      if (n <= 0) {
        ec = boost::system::errc::make_error_code(boost::system::errc::io_error);
        return boost::none;
      }
      done_ += static_cast<uint64_t>(n);
      return {{const_buffers_type(buf_.data(), static_cast<size_t>(n)), done_ < v_.length}};
    }

   private:
    const value_type& v_;
    uint64_t done_ = 0;
    std::array<char, size_t{64} << 10> buf_{};
  };
};

}  // namespace

void Connection::WriteResponse(Response response, bool keep_alive) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kWriting;
  status_ = response.status;
  if (!response.file_path.empty() && response.file_length) {
    int fd = ::open(response.file_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      auto out = std::make_shared<Outgoing<FileRangeBody>>();
      out->msg.body().fd = std::shared_ptr<int>(new int(fd), [](int* p) {
        ::close(*p);
        delete p;
      });
      out->msg.body().offset = response.file_offset;
      out->msg.body().length = *response.file_length;
      FillHeaders(out->msg, response, core_.options, keep_alive);
      out->msg.prepare_payload();
      StartWrite(out, keep_alive);
      return;
    }
    response = ToResponse(InternalError());
    status_ = response.status;
  }
  if (!response.file_path.empty()) {
    auto out = std::make_shared<Outgoing<beast_http::file_body>>();
    error_code ec;
    out->msg.body().open(response.file_path.c_str(), beast::file_mode::scan, ec);
    if (!ec) {
      FillHeaders(out->msg, response, core_.options, keep_alive);
      out->msg.prepare_payload();
      StartWrite(out, keep_alive);
      return;
    }
    response = ToResponse(InternalError());
    status_ = response.status;
  }
  auto out = std::make_shared<Outgoing<beast_http::string_body>>();
  FillHeaders(out->msg, response, core_.options, keep_alive);
  out->msg.body() = std::move(response.body);
  out->msg.prepare_payload();
  StartWrite(out, keep_alive);
}

template <class Body>
void Connection::StartWrite(std::shared_ptr<Outgoing<Body>> out, bool keep_alive) {
  out->serializer.emplace(out->msg);
  WriteSome(std::move(out), keep_alive);
}

template <class Body>
void Connection::WriteSome(std::shared_ptr<Outgoing<Body>> out, bool keep_alive) {
  // A deadline per write, not per response: a large file may take long on a slow line, but
  // a client that takes nothing for write_timeout is cut.
  Arm(core_.options.limits.write_timeout);
  beast_http::async_write_some(stream_, *out->serializer,
                               [self = shared_from_this(), out, keep_alive](const error_code& ec, size_t) {
                                 bool timed_out = self->EndOp();
                                 if (ec) {
                                   if (timed_out) self->core_.timeouts.fetch_add(1);
                                   self->Close();
                                   return;
                                 }
                                 if (!out->serializer->is_done()) {
                                   self->WriteSome(out, keep_alive);
                                   return;
                                 }
                                 self->AfterResponse(keep_alive);
                               });
}

void Connection::AfterResponse(bool keep_alive) {
  core_.requests.fetch_add(1);
  if (core_.options.on_request) {
    AccessRecord rec;
    rec.method = head_.method;
    rec.path = admission_.target.path.empty() ? std::string("-") : admission_.target.path;
    rec.route = RoutePattern(admission_.route);
    rec.peer_ip = peer_ip_;
    rec.status = status_;
    rec.body_bytes_in = body_read_;
    rec.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - head_time_);
    core_.options.on_request(rec);
  }
  head_ = RequestHead();
  admission_ = Admission();
  if (keep_alive && !core_.stopping) {
    WaitForRequest();
  } else {
    GracefulClose();
  }
}

void Connection::GracefulClose() {
  if (phase_ == Phase::kClosed || phase_ == Phase::kClosing) return;
  phase_ = Phase::kClosing;
  // close_notify, then a short wait for the client's; a client that sends nothing more is
  // cut when the timer fires.
  Arm(core_.stopping ? Millis(100) : std::min<Millis>(core_.options.limits.write_timeout, Millis(2000)));
  stream_.async_shutdown([self = shared_from_this()](const error_code&) {
    self->EndOp();
    self->Close();
  });
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  EndOp();
  error_code ignored;
  stream_.next_layer().shutdown(Tcp::socket::shutdown_both, ignored);
  stream_.next_layer().close(ignored);
}

void Connection::OnStop() {
  if (phase_ == Phase::kHandshake || phase_ == Phase::kIdle) Close();
}

void Connection::ForceClose() {
  Close();
}

}  // namespace kura::net
