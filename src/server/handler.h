// The staff API: one HTTP request in, one answer out (docs/server.md). The
// connection code (server.cc) parses HTTP and calls Handle; the fuzz target
// and the tests call it directly.
#ifndef CASELOOP_SERVER_HANDLER_H_
#define CASELOOP_SERVER_HANDLER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/server.h"
#include "server/http.h"
#include "server/keys.h"
#include "server/metrics.h"
#include "server/open311.h"

namespace caseloop::server {

// Thread-safety: Handle may be called from many threads at once.
class Handler {
 public:
  // REQUIRES: engine, keys and metrics outlive the handler.
  Handler(Engine* engine, const ServerOptions& options, KeyTable* keys, Metrics* metrics);

  // Answers `req`. `done` is called exactly once: on the calling thread, or
  // (a command) on an engine worker after the command is durable. It must
  // not block.
  void Handle(const HttpRequest& req, std::function<void(HttpResponse)> done);

  ~Handler();

  // From now on /readyz answers 503 and new commands are refused (503).
  void SetDraining() { draining_ = true; }
  // Waits until the configuration changes and backups accepted so far are
  // answered (they run on the handler's own threads). REQUIRES: draining.
  void FinishAdmin();

  // The error answer every route uses: {"error":{"status","code","message","where"}}.
  static HttpResponse Error(int status, std::string_view message, std::string_view where);

 private:
  struct Call;
  void Api(Call& call);
  void Command(Call& call, const std::string& case_id, const std::string& command);
  void Query(Call& call, const std::string& name, const std::string& case_id);
  void Events(Call& call);
  void ConfigVerb(Call& call, const std::string& verb);
  void Backups(Call& call);
  std::string CaseGauges();
  // Parses a command's or a verb's body: one flat JSON object of fields.
  // False: the call was answered (400).
  bool BodyFields(Call& call, std::vector<std::pair<std::string, std::string>>* fields);

  // A thread that runs jobs one after the other (Lane, handler.cc): blocking
  // admin work, off the HTTP threads. Configuration changes and backups have
  // a lane each, so that a long backup holds no change back.
  // False: FinishAdmin ran, the job was not taken.
  class Lane;
  bool RunOnLane(bool backup, std::function<void()> job);

  Engine* const engine_;
  const ServerOptions options_;
  KeyTable* const keys_;
  Metrics* const metrics_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> next_case_number_{0};
  Open311 open311_;       // /open311/v2/ (docs/open311.md); shares the sequence above
  std::mutex gauges_mu_;  // guards the two below
  std::string gauges_text_;
  std::chrono::steady_clock::time_point gauges_at_{};
  std::mutex lanes_mu_;  // guards the three below (lanes start on first use)
  std::unique_ptr<Lane> config_lane_, backup_lane_;
  bool admin_finished_ = false;
};

}  // namespace caseloop::server

#endif  // CASELOOP_SERVER_HANDLER_H_
