#include "net/http_server.h"

#include <openssl/ssl.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <thread>
#include <vector>

#include "net/connection.h"
#include "util/i18n.h"

namespace kura::net {

using boost::system::error_code;

struct HttpServer::Impl {
  explicit Impl(std::unique_ptr<ServerCore> c)
      : core(std::move(c)),
        acceptor(asio::make_strand(core->ioc)),
        retry_timer(acceptor.get_executor()),
        guard(asio::make_work_guard(core->ioc)) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(core->ioc), [this](const error_code& ec, Tcp::socket socket) {
      if (core->stopping || ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors (EMFILE) or a connection reset before accept: try again soon
        // rather than spinning.
        retry_timer.expires_after(Millis(50));
        retry_timer.async_wait([this](const error_code& wec) {
          if (!wec && !core->stopping) Accept();
        });
        return;
      }
      core->accepted.fetch_add(1);
      if (core->open_connections.load() >= core->options.limits.max_connections) {
        core->refused_at_accept.fetch_add(1);
        error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Connection>(*core, std::move(socket))->Start();
      }
      Accept();
    });
  }

  std::vector<std::shared_ptr<Connection>> LiveConnections() {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard<std::mutex> lock(core->mu);
    for (auto& [ptr, weak] : core->live) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  std::unique_ptr<ServerCore> core;
  Tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::vector<std::thread> io_threads;
  uint16_t port = 0;
  std::once_flag stopped;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {  // NOLINT(bugprone-exception-escape): see the header
  Stop();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ServerOptions options, Router router) {
  if (!options.tls) {
    return Status::InvalidArgument(
        Tr("HTTPS サーバーに TLS の設定がありません", "the HTTPS server has no TLS context"));
  }
  error_code ec;
  asio::ip::address address = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    return Status::InvalidArgument(Tr("待ち受けアドレス \"{}\" を読めません: IP アドレスで指定してください",
                                      "cannot read the listen address \"{}\": give an IP address",
                                      options.bind_address));
  }
  SSL_CTX_up_ref(options.tls->native());  // asio's context takes ownership of one reference
  asio::ssl::context ssl(options.tls->native());
  const Tcp::endpoint endpoint(address, options.port);
  const size_t io_threads = std::max<size_t>(1, options.io_threads);
  auto impl = std::make_unique<Impl>(
      std::make_unique<ServerCore>(std::move(options), std::move(router), std::move(ssl)));
  Tcp::acceptor& acc = impl->acceptor;
  const std::string where = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  if (acc.open(endpoint.protocol(), ec) || acc.set_option(Tcp::acceptor::reuse_address(true), ec) ||
      acc.bind(endpoint, ec) || acc.listen(asio::socket_base::max_listen_connections, ec)) {
    if (ec == asio::error::address_in_use) {
      return Status::AlreadyExists(
          Tr("{} は既に使われています。別のポートを指定するか、動いているサーバーを止めてください",
             "{} is already in use; choose another port or stop the server using it", where));
    }
    if (ec == asio::error::access_denied) {
      return Status::PermissionDenied(
          Tr("{} で待ち受ける権限がありません (1024 未満のポートには権限が必要です)",
             "no permission to listen on {} (ports below 1024 need privileges)", where));
    }
    return Status::IOError(Tr("{} で待ち受けできません: {}", "cannot listen on {}: {}", where, ec.message()));
  }
  impl->port = acc.local_endpoint(ec).port();
  impl->Accept();
  for (size_t i = 0; i < io_threads; ++i) {
    ServerCore* core = impl->core.get();
    impl->io_threads.emplace_back([core] { core->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

ServerStats HttpServer::stats() const {
  const ServerCore& c = *impl_->core;
  ServerStats s;
  s.open_connections = c.open_connections.load();
  s.accepted = c.accepted.load();
  s.refused_at_accept = c.refused_at_accept.load();
  s.requests = c.requests.load();
  s.timeouts = c.timeouts.load();
  return s;
}

void HttpServer::Stop() {
  std::call_once(impl_->stopped, [this] {
    Impl& impl = *impl_;
    ServerCore& core = *impl.core;
    core.stopping = true;
    asio::post(impl.acceptor.get_executor(), [&impl] {
      error_code ignored;
      impl.acceptor.close(ignored);
      impl.retry_timer.cancel();
    });
    for (auto& c : impl.LiveConnections()) asio::post(c->executor(), [c] { c->OnStop(); });
    {
      std::unique_lock<std::mutex> lock(core.mu);
      core.cv.wait_for(lock, core.options.limits.stop_grace, [&] { return core.live.empty(); });
    }
    core.force_closing = true;
    for (auto& c : impl.LiveConnections()) asio::post(c->executor(), [c] { c->ForceClose(); });
    {
      // Handlers still running see their body reads fail; each connection goes away when
      // its handler returns.
      std::unique_lock<std::mutex> lock(core.mu);
      core.cv.wait(lock, [&] { return core.live.empty(); });
    }
    core.workers.Shutdown();
    impl.guard.reset();
    core.ioc.stop();
    for (std::thread& t : impl.io_threads) t.join();
    impl.io_threads.clear();
  });
}

}  // namespace kura::net
