// Internal to src/net: one TLS connection of HttpServer and the state the server's
// connections share. See http_server.h for the behaviour; this file is the mechanics.
//
// Threading: every member of Connection is touched only on its strand (the socket's
// executor), except during the handler phase, when the worker thread running the handler
// owns the request state and reaches the socket only by posting to the strand and waiting.
#pragma once

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "net/beast_glue.h"
#include "net/http_server.h"
#include "net/worker_pool.h"

namespace kura::net {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;

class Connection;

// A response and its serializer, kept alive across the asynchronous writes.
template <class Body>
struct Outgoing {
  beast_http::response<Body> msg;
  std::optional<beast_http::response_serializer<Body>> serializer;
};

struct ServerCore {
  ServerCore(ServerOptions opts, Router r, asio::ssl::context ssl_ctx);

  ServerOptions options;
  Router router;
  asio::io_context ioc;
  asio::ssl::context ssl;
  WorkerPool workers;

  std::atomic<bool> stopping{false};
  std::atomic<bool> force_closing{false};

  std::atomic<size_t> open_connections{0};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_at_accept{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> timeouts{0};

  std::mutex mu;
  std::condition_variable cv;                                       // notified when a connection goes away
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;  // GUARDED_BY(mu)
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerCore& core, Tcp::socket socket);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start();       // any thread
  void OnStop();      // on the strand: close if between requests
  void ForceClose();  // on the strand
  asio::any_io_executor executor() { return stream_.get_executor(); }

  // Worker thread, during the handler phase.
  Result<size_t> ReadBody(uint8_t* buf, size_t n);
  std::optional<uint64_t> content_length() const { return admission_.content_length; }
  uint64_t body_read() const { return body_read_; }

 private:
  enum class Phase { kHandshake, kIdle, kHead, kHandler, kWriting, kClosing, kClosed };

  void Arm(Millis d);
  bool EndOp();  // disarms; true when the timer fired first
  // On the strand: reads body bytes into buf[filled, n) until it is full, the body is
  // complete or a read fails, then sets `done` (the error, the bytes in buf). One hand-off
  // to the handler's thread per call rather than one per TLS record.
  void FillBody(uint8_t* buf, size_t n, size_t filled,
                std::promise<std::pair<boost::system::error_code, size_t>>* done);
  void OnHandshake(const boost::system::error_code& ec);
  void WaitForRequest();
  void ReadHead();
  void ParseHead();
  void OnHead(boost::system::error_code ec, bool timed_out);
  void Dispatch();
  void RunHandler();
  void SendError(const HttpError& error, bool keep_alive);
  void WriteResponse(Response response, bool keep_alive);
  template <class Body>
  void StartWrite(std::shared_ptr<Outgoing<Body>> out, bool keep_alive);
  template <class Body>
  void WriteSome(std::shared_ptr<Outgoing<Body>> out, bool keep_alive);
  void AfterResponse(bool keep_alive);
  void GracefulClose();
  void Close();
  bool BodyPending() const;

  ServerCore& core_;
  asio::ssl::stream<Tcp::socket> stream_;
  asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  Phase phase_ = Phase::kHandshake;
  std::string peer_ip_;
  uint16_t peer_port_ = 0;
  std::optional<Fingerprint> client_cert_;

  std::optional<BeastParser> parser_;
  RequestHead head_;
  Admission admission_;
  std::chrono::steady_clock::time_point head_time_;
  int status_ = 0;
  size_t head_bytes_ = 0;
  uint64_t body_read_ = 0;
  std::optional<HttpError> body_error_;  // set by ReadBody, answered instead of the handler
  bool body_lost_ = false;               // the client left or the server cut the connection
};

}  // namespace kura::net
