// Open311 GeoReport v2 under /open311/v2/ (docs/open311.md): the citizens'
// door of `caseloop serve`. Service discovery, the services from the
// configured categories, POST requests (a report through the engine's
// command path, as POST /api/v1/cases) and the GET routes, each in JSON and
// XML, errors in the specification's error list.
#ifndef CASELOOP_SERVER_OPEN311_H_
#define CASELOOP_SERVER_OPEN311_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/server.h"
#include "server/http.h"
#include "server/keys.h"
#include "server/metrics.h"

namespace caseloop::server {

// Thread-safety: Handle may be called from many threads at once.
class Open311 {
 public:
  // The path prefix served ("/open311/v2/").
  static constexpr char kPrefix[] = "/open311/v2/";
  static bool Owns(const std::string& path) { return path.rfind("/open311/", 0) == 0; }

  // REQUIRES: every pointer outlives this object. `next_case_number` is the
  // staff API's sequence of server-assigned case numbers (one sequence, so
  // the two doors never hand out the same number); `draining` its flag.
  Open311(Engine* engine, const ServerOptions& options, KeyTable* keys, Metrics* metrics,
          std::atomic<std::uint64_t>* next_case_number, const std::atomic<bool>* draining);

  // Answers `req` (its path is Owns'). `done` is called exactly once: on the
  // calling thread, or (POST requests) on an engine worker once the report
  // is durable. It must not block.
  void Handle(const HttpRequest& req, std::function<void(HttpResponse)> done);

 private:
  struct Call;
  void Discovery(Call& call);
  void Services(Call& call);
  void ServiceDefinition(Call& call, const std::string& code);
  void PostRequest(Call& call);
  void GetRequests(Call& call);
  void GetRequest(Call& call, const std::string& id);
  void Token(Call& call, const std::string& token);

  Engine* const engine_;
  const ServerOptions options_;
  KeyTable* const keys_;
  Metrics* const metrics_;
  std::atomic<std::uint64_t>* const next_case_number_;
  const std::atomic<bool>* const draining_;
};

}  // namespace caseloop::server

#endif  // CASELOOP_SERVER_OPEN311_H_
