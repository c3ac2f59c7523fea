// The HTTP side of the server: Boost.Beast HTTP/1.1 with keep-alive on an
// Asio io_context run by ServerOptions::threads threads. One Session per
// connection reads a request (within the header, body and time limits),
// hands it to the Handler and writes the answer when the handler calls back
// (a command's answer comes from an engine worker once it is durable).
#include "caseloop/server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server/handler.h"
#include "server/keys.h"
#include "server/metrics.h"

namespace caseloop {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class ServerImpl;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerImpl* server);
  ~Session();
  void Start();
  void Close();  // on the session's strand
  beast::tcp_stream& stream() { return stream_; }

 private:
  void Read();
  void OnRead(beast::error_code ec, std::size_t bytes);
  void Reply(server::HttpResponse r, bool keep_alive);
  void OnWrite(beast::error_code ec, bool close);

  beast::tcp_stream stream_;
  ServerImpl* server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  std::string remote_;
  std::chrono::steady_clock::time_point started_;
  std::string method_, target_;
  bool counted_ = false;  // this request counts as in flight
  bool started_session_ = false;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(Engine* engine, const ServerOptions& options)
      : options_(options),
        keys_(options.keys_file),
        handler_(engine, options, &keys_, &metrics_),
        ioc_(options.threads),
        acceptor_(net::make_strand(ioc_)) {}
  ~ServerImpl() override { Stop(); }

  Status Listen() {
    Status loaded = keys_.Load();
    if (!loaded.ok()) return loaded;
    beast::error_code ec;
    auto address = net::ip::make_address(options_.host, ec);
    if (ec) return Status::InvalidArgument("bad listen address '" + options_.host + "': " + ec.message());
    tcp::endpoint endpoint(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                             ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    return Status::Ok();
  }

  std::uint16_t port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    stopping_ = true;
    handler_.SetDraining();
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    {
      // Finish what is in flight (a command waits for its fsync), within the request time.
      std::unique_lock<std::mutex> lock(mu_);
      in_flight_cv_.wait_for(lock, options_.request_timeout + std::chrono::seconds(5),
                             [this] { return in_flight_ == 0; });
      for (auto& weak : sessions_) {
        if (auto s = weak.lock()) {
          net::post(s->stream().get_executor(), [s] { s->Close(); });
        }
      }
    }
    // Give the closes a moment to run, then stop the loop.
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        bool any = false;
        for (auto& weak : sessions_) any = any || !weak.expired();
        if (!any) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

  const ServerOptions& options() const { return options_; }
  server::Handler& handler() { return handler_; }
  server::Metrics& metrics() { return metrics_; }
  bool stopping() const { return stopping_; }

  void BeginRequest() {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  void EndRequest() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--in_flight_ == 0) in_flight_cv_.notify_all();
  }
  void Log(std::string_view line) {
    if (options_.access_log) options_.access_log(line);
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
        Accept();
        return;
      }
      auto session = std::make_shared<Session>(std::move(socket), this);
      bool full;
      {
        std::lock_guard<std::mutex> lock(mu_);
        sessions_.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
        full = sessions_.size() >= options_.max_connections;
        if (!full) sessions_.push_back(session);
      }
      if (full) {
        // Over the limit: a short 503, then close.
        auto res = std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
        res->set(http::field::content_type, "application/json");
        res->set(http::field::connection, "close");
        res->set(http::field::retry_after, "1");
        res->body() = server::Handler::Error(503, "too many connections", "server").body;
        res->prepare_payload();
        session->stream().expires_after(std::chrono::seconds(2));
        http::async_write(session->stream(), *res, [session, res](beast::error_code, std::size_t) {
          beast::error_code ignored;
          session->stream().socket().shutdown(tcp::socket::shutdown_both, ignored);
        });
      } else {
        session->Start();
      }
      if (!stopping_) Accept();
    });
  }

  const ServerOptions options_;
  server::KeyTable keys_;
  server::Metrics metrics_;
  server::Handler handler_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable in_flight_cv_;
  int in_flight_ = 0;
  std::list<std::weak_ptr<Session>> sessions_;
};

Session::Session(tcp::socket socket, ServerImpl* server) : stream_(std::move(socket)), server_(server) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
}

Session::~Session() {
  if (started_session_) --server_->metrics().connections;
}

void Session::Start() {
  started_session_ = true;
  ++server_->metrics().connections;
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
}

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
}

void Session::Read() {
  if (server_->stopping()) return Close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_->options().max_header_bytes));
  parser_->body_limit(server_->options().max_body_bytes);
  // The whole request (or the idle wait for it) within the request time.
  stream_.expires_after(server_->options().request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->OnRead(ec, n); });
}

void Session::OnRead(beast::error_code ec, std::size_t) {
  started_ = std::chrono::steady_clock::now();
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::eof) {
    // A timeout (a slow client, or an idle keep-alive connection) has closed
    // the socket already: nothing can be said to it.
    return Close();
  }
  if (ec) {
    // Malformed HTTP, or a header block or body over its limit.
    int status = 400;
    std::string message = "malformed HTTP request: " + ec.message();
    if (ec == http::error::body_limit) {
      status = 413;
      message = "the body is larger than " + std::to_string(server_->options().max_body_bytes) + " bytes";
    } else if (ec == http::error::header_limit) {
      status = 431;
      message =
          "the header block is larger than " + std::to_string(server_->options().max_header_bytes) + " bytes";
    }
    server::HttpResponse r = server::Handler::Error(status, message, "request");
    r.route = "other";
    return Reply(std::move(r), false);
  }
  const auto& msg = parser_->get();
  server::HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.body = msg.body();
  req.remote = remote_;
  method_ = req.method;
  target_ = req.target.substr(0, 200);
  const bool keep_alive = msg.keep_alive();
  counted_ = true;
  server_->BeginRequest();
  // The handler may answer from an engine worker: back to this session's strand.
  server_->handler().Handle(req, [self = shared_from_this(), keep_alive](server::HttpResponse r) {
    net::post(self->stream_.get_executor(),
              [self, keep_alive, r = std::move(r)]() mutable { self->Reply(std::move(r), keep_alive); });
  });
}

void Session::Reply(server::HttpResponse r, bool keep_alive) {
  const bool close = !keep_alive || server_->stopping();
  response_ = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
  response_->set(http::field::server, "caseloop");
  response_->set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) response_->set(k, v);
  response_->keep_alive(!close);
  response_->body() = std::move(r.body);
  response_->prepare_payload();
  server_->metrics().CountRequest(r.route.empty() ? "other" : r.route, r.status);
  if (server_->options().access_log) {
    nlohmann::json line = {{"time", std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count()},
                           {"remote", remote_},
                           {"method", method_},
                           {"target", target_},
                           {"status", r.status},
                           {"bytes", response_->body().size()},
                           {"us", std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started_)
                                      .count()},
                           {"actor", r.actor}};
    server_->Log(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  stream_.expires_after(server_->options().request_timeout);
  http::async_write(
      stream_, *response_,
      [self = shared_from_this(), close](beast::error_code ec, std::size_t) { self->OnWrite(ec, close); });
}

void Session::OnWrite(beast::error_code ec, bool close) {
  if (counted_) {
    counted_ = false;
    server_->EndRequest();
  }
  if (ec || close) return Close();
  Read();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Engine* engine, const ServerOptions& options) {
  if (engine == nullptr) return Status::InvalidArgument("Server::Start needs an engine");
  if (options.threads < 1) return Status::InvalidArgument("ServerOptions::threads must be at least 1");
  if (options.max_connections < 1)
    return Status::InvalidArgument("ServerOptions::max_connections must be at least 1");
  auto server = std::make_unique<ServerImpl>(engine, options);
  Status s = server->Listen();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace caseloop
