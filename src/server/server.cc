// The HTTP side of the server: Boost.Beast HTTP/1.1 with keep-alive on an
// Asio io_context run by ServerOptions::threads threads. One Session per
// connection reads a request (within the header, body and time limits),
// hands it to the Handler and writes the answer when the handler calls back
// (a command's answer comes from an engine worker once it is durable).
#include "caseloop/server.h"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "caseloop/json.h"
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

// The events of one stream between the engine's subscription thread and the
// session's strand.
struct Feed {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<LoggedEvent> queue;
  bool overflow = false;  // the client fell behind for too long: end the stream
  bool closed = false;
};

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
  void StartEvents(server::HttpResponse r);
  void Pump();
  void WatchClient(std::shared_ptr<std::array<char, 512>> buf);

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
  // An event stream.
  std::shared_ptr<Feed> feed_;
  std::unique_ptr<Subscription> subscription_;
  std::function<bool(const LoggedEvent&)> filter_;
  int offset_ = 0;
  bool writing_ = false;
  bool ending_ = false;
  std::shared_ptr<std::string> out_;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(Engine* engine, const ServerOptions& options)
      : engine_(engine),
        options_(options),
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
    }
    // Configuration changes and backups still running (a long backup) are
    // finished and answered while the connections are still open.
    handler_.FinishAdmin();
    {
      std::unique_lock<std::mutex> lock(mu_);
      in_flight_cv_.wait_for(lock, std::chrono::seconds(5),
                             [this] { return in_flight_ == 0; });  // their answers
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
  Engine* engine() const { return engine_; }
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

  Engine* const engine_;
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
  if (feed_) {
    {
      std::lock_guard<std::mutex> lock(feed_->mu);
      feed_->closed = true;
    }
    feed_->cv.notify_all();
    if (subscription_) subscription_->Cancel();
    --server_->metrics().subscribers;
  }
  if (started_session_) --server_->metrics().connections;
}

void Session::Start() {
  started_session_ = true;
  ++server_->metrics().connections;
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
}

void Session::Close() {
  if (feed_) {
    {
      std::lock_guard<std::mutex> lock(feed_->mu);
      feed_->closed = true;
    }
    feed_->cv.notify_all();
    if (subscription_) subscription_->Cancel();
  }
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
  if (r.events_from && r.status == 200) return StartEvents(std::move(r));
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

// GET /api/v1/events: Server-Sent Events from the engine's subscription,
// one frame per event ("id: POSITION", "event: TYPE", "data: JSON").
void Session::StartEvents(server::HttpResponse r) {
  server_->metrics().CountRequest(r.route, 200);
  if (counted_) {  // a stream is not a request in flight: a drain ends it
    counted_ = false;
    server_->EndRequest();
  }
  ++server_->metrics().subscribers;
  feed_ = std::make_shared<Feed>();
  filter_ = std::move(r.events_filter);
  offset_ = r.events_offset;
  writing_ = true;
  out_ = std::make_shared<std::string>(
      "HTTP/1.1 200 OK\r\nServer: caseloop\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n: events from position " +
      std::to_string(*r.events_from) + "\n\n");
  std::weak_ptr<Session> weak = shared_from_this();
  auto executor = stream_.get_executor();
  auto feed = feed_;
  const std::size_t limit = std::max<std::size_t>(1, server_->options().event_buffer);
  const auto hold = server_->options().event_hold;
  auto sub =
      server_->engine()->Subscribe(*r.events_from, [feed, weak, executor, limit, hold](const LoggedEvent& e) {
        {
          std::unique_lock<std::mutex> lock(feed->mu);
          if (feed->closed || feed->overflow) return;
          // Held back within the bounded buffer, then given up on: never skipped past.
          if (!feed->cv.wait_for(lock, hold, [&] { return feed->closed || feed->queue.size() < limit; })) {
            feed->overflow = true;
          } else if (!feed->closed) {
            feed->queue.push_back(e);
          }
        }
        net::post(executor, [weak] {
          if (auto self = weak.lock()) self->Pump();
        });
      });
  if (!sub.ok()) {
    *out_ += "event: error\ndata: " +
             nlohmann::json({{"reason", sub.status().message()}})
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n\n";
    ending_ = true;
  } else {
    subscription_ = std::move(sub).value();
  }
  // A stream has no time limit; a pending read holds the session while no
  // event is due and sees the client go away.
  stream_.expires_never();
  WatchClient(std::make_shared<std::array<char, 512>>());
  net::async_write(stream_, net::buffer(*out_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->writing_ = false;
                     if (ec || self->ending_) return self->Close();
                     self->Pump();
                   });
}

void Session::WatchClient(std::shared_ptr<std::array<char, 512>> buf) {
  stream_.async_read_some(net::buffer(*buf),
                          [self = shared_from_this(), buf](beast::error_code ec, std::size_t) {
                            if (ec) return self->Close();
                            self->WatchClient(buf);  // what a client sends on an event stream is ignored
                          });
}

void Session::Pump() {
  if (!feed_ || ending_) return;
  if (writing_) {
    // A client that stopped reading while its buffer stayed full: a write
    // cannot get through to say why, so the stream just ends.
    bool overflow;
    {
      std::lock_guard<std::mutex> lock(feed_->mu);
      overflow = feed_->overflow;
    }
    if (overflow) {
      ending_ = true;
      Close();
    }
    return;
  }
  std::vector<LoggedEvent> batch;
  bool overflow = false, closed = false;
  {
    std::lock_guard<std::mutex> lock(feed_->mu);
    while (!feed_->queue.empty() && batch.size() < 256) {
      batch.push_back(std::move(feed_->queue.front()));
      feed_->queue.pop_front();
    }
    overflow = feed_->overflow && feed_->queue.empty();
    closed = feed_->closed;
  }
  feed_->cv.notify_all();
  if (closed) return;
  auto out = std::make_shared<std::string>();
  for (const auto& e : batch) {
    if (filter_ && !filter_(e)) continue;
    // The history object of caseloop/json.h, with the case (the stream) first.
    const std::string object = ToJson(e, offset_);
    *out += "id: " + std::to_string(e.record.position) + "\nevent: " + e.record.type + "\ndata: {\"case\":" +
            nlohmann::json(e.record.stream).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
            (object.size() > 2 ? "," : "") + object.substr(1) + "\n\n";
  }
  if (overflow) {
    *out += "event: error\ndata: {\"reason\":\"the client read too slowly: the server's buffer of " +
            std::to_string(server_->options().event_buffer) +
            " events stayed full; resume with Last-Event-ID\"}\n\n";
    ending_ = true;
  }
  if (out->empty()) {
    if (!batch.empty()) Pump();  // everything filtered out: look for more
    return;
  }
  writing_ = true;
  out_ = out;
  net::async_write(stream_, net::buffer(*out_),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->writing_ = false;
                     if (ec || self->ending_) return self->Close();
                     self->Pump();
                   });
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
