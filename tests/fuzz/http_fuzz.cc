// Fuzz target: the staff API's request handler (src/server/handler.h) with
// raw request bytes in, parsed as the server parses them (Boost.Beast's
// request parser, the server's header and body limits), on one in-memory
// engine reused across inputs, with a small district and two API keys.
//
// Input: one HTTP request. "KEYL1" and "KEYADMIN" in it are replaced by the
// keys of shift leader L1 and of $admin, so that inputs get past the
// authentication. Properties: no crash, no exception, no sanitizer report;
// the handler answers exactly once; never a 5xx but 503; a JSON answer is
// valid JSON and an error answer has the one error shape.
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/script.h"
#include "caseloop/server.h"
#include "fuzz_util.h"
#include "server/handler.h"

using namespace caseloop;
using caseloop::fuzz::FuzzCheck;
namespace http = boost::beast::http;

namespace {

const char* const kSetup[] = {
    "calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00",
    "unit WATER name=\"水务局\"",
    "inspector I1 grid=620102",
    "staff R1 role=receiver",
    "staff L1 role=shift_leader",
    "staff D1 role=dispatcher",
    "category component 0101 name=\"上水井盖\" limit=4wh",
    "route component 0101 WATER",
    "at 2025-03-31T10:00",
    "report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1",
    "register A1 by=L1",
};

struct World {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<server::KeyTable> keys;
  server::Metrics metrics;
  std::unique_ptr<server::Handler> handler;
  std::string key_l1, key_admin;
  ServerOptions options;
};

World& TheWorld() {
  static World* w = [] {
    auto* w = new World;
    EngineOptions o;
    o.clock = std::make_shared<ManualClock>();
    w->engine = std::move(Engine::Open(o)).value();
    auto session = std::move(ScriptSession::Create(w->engine.get())).value();
    for (const char* line : kSetup) FuzzCheck(session->Execute(line).ok(), "setup line", line);
    char dir[] = "/tmp/caseloop-http-fuzz-XXXXXX";
    FuzzCheck(::mkdtemp(dir) != nullptr, "mkdtemp");
    const std::string file = std::string(dir) + "/keys";
    w->key_l1 = std::move(KeyStore::Issue(file, "L1", Instant{})).value();
    w->key_admin = std::move(KeyStore::Issue(file, kAdminActor, Instant{})).value();
    w->keys = std::make_unique<server::KeyTable>(file);
    FuzzCheck(w->keys->Load().ok(), "keys load");
    w->options.replay_time = true;
    w->handler = std::make_unique<server::Handler>(w->engine.get(), w->options, w->keys.get(), &w->metrics);
    return w;
  }();
  return *w;
}

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = TheWorld();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ReplaceAll(bytes, "KEYL1", w.key_l1);
  ReplaceAll(bytes, "KEYADMIN", w.key_admin);

  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(w.options.max_header_bytes));
  parser.body_limit(w.options.max_body_bytes);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(bytes), ec);
  (void)used;
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers 400/413/431 itself

  const auto& msg = parser.get();
  server::HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(field.value());
  }
  req.body = msg.body();

  auto answered = std::make_shared<std::promise<server::HttpResponse>>();
  auto count = std::make_shared<std::atomic<int>>(0);
  w.handler->Handle(req, [answered, count](server::HttpResponse r) {
    FuzzCheck(count->fetch_add(1) == 0, "the handler answers exactly once");
    answered->set_value(std::move(r));
  });
  server::HttpResponse r = answered->get_future().get();
  FuzzCheck(r.status >= 200 && r.status < 600 && (r.status < 500 || r.status == 503), "status",
            std::to_string(r.status) + " " + r.body);
  if (r.content_type == "application/json" && !r.events_from) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    FuzzCheck(!j.is_discarded(), "the answer is JSON", r.body);
    if (r.status >= 400) {
      FuzzCheck(j.is_object() && j.contains("error") && j["error"].contains("message") &&
                    j["error"]["status"] == r.status,
                "the error shape", r.body);
    }
  }
  return 0;
}
