// The staff API (docs/server.md). Every lifecycle command's route and body
// come from the command table (caseloop/commands.h: FindCommandSpec,
// CommandFromFields); every query's answer is the JSON of caseloop/json.h.
#include "server/handler.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "caseloop/backup.h"
#include "caseloop/commands.h"
#include "caseloop/json.h"
#include "caseloop/script.h"
#include "caseloop/time.h"
#include "core/utf8.h"
#include "script/syntax.h"

namespace caseloop::server {
namespace {

using Json = nlohmann::json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string_view CodeOf(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 412:
      return "precondition_failed";
    case 413:
      return "payload_too_large";
    case 431:
      return "header_too_large";
    case 503:
      return "unavailable";
    default:
      return "error";
  }
}

// An engine status as an answer: the engine's message, the status its code
// and message give.
HttpResponse FromStatus(const Status& s, std::string_view where) {
  int code = 400;
  const std::string& m = s.message();
  if (s.IsNotFound()) {
    code = m.rfind("unknown case ", 0) == 0 ? 404 : 400;
  } else if (s.IsRejected()) {
    code = m.find(" may not ") != std::string::npos ? 403 : 409;
  } else if (s.IsConflict()) {
    code = 409;
  } else if (s.IsUnavailable() || s.IsIOError() || s.IsCorruption()) {
    code = 503;
  }
  return Handler::Error(code, m, where);
}

// The nesting depth of a JSON text (objects and arrays), counting outside
// strings; checked before parsing so that a deep body costs no recursion.
int JsonDepth(std::string_view text) {
  int depth = 0, max = 0;
  bool in_string = false, escape = false;
  for (char c : text) {
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      max = std::max(max, ++depth);
    else if (c == '}' || c == ']')
      --depth;
  }
  return max;
}

enum class Who { kAdmin, kStaff, kUnit, kInspector, kUnknown };

Who KindOf(const Config& config, const std::string& actor) {
  if (actor == kAdminActor) return Who::kAdmin;
  if (config.staff.count(actor) != 0) return Who::kStaff;
  if (config.units.count(actor) != 0) return Who::kUnit;
  if (config.inspectors.count(actor) != 0) return Who::kInspector;
  return Who::kUnknown;
}

// domain.md §2 for reads: centre staff see every case; a unit its tasks (the
// case is, or was last, dispatched to it); an inspector the cases they
// reported, the ones they verify, those in the grids they patrol and those
// without a grid that no inspector reported.
bool SeesFields(Who who, const Config& config, const std::string& actor, const std::string& unit,
                const std::string& reporter, const std::string& verifier, const std::string& grid) {
  switch (who) {
    case Who::kAdmin:
    case Who::kStaff:
      return true;
    case Who::kUnit:
      return unit == actor;
    case Who::kInspector: {
      if (reporter == actor || verifier == actor) return true;
      // Any inspector may verify a case without a grid that no inspector reported (§2).
      if (grid.empty() && config.inspectors.count(reporter) == 0) return true;
      auto it = config.inspectors.find(actor);
      return it != config.inspectors.end() && !it->second.grid_prefix.empty() &&
             grid.rfind(it->second.grid_prefix, 0) == 0;
    }
    case Who::kUnknown:
      return false;
  }
  return false;
}
bool Sees(Who who, const Config& config, const std::string& actor, const CaseState& s) {
  return SeesFields(who, config, actor, s.unit, s.reporter, s.verifier, s.grid);
}

// One row of the case list.
Json SummaryJson(const CaseSummary& c, int offset) {
  Json j = Json::object();
  j["case"] = c.case_id;
  j["state"] = std::string(Name(c.state));
  j["pending"] = std::string(Name(c.pending));
  j["kind"] = std::string(Name(c.kind));
  j["category"] = c.category;
  j["grid"] = c.grid.empty() ? Json(nullptr) : Json(c.grid);
  j["unit"] = c.unit.empty() ? Json(nullptr) : Json(c.unit);
  j["reporter"] = c.reporter;
  j["reported"] = FormatInstant(c.reported_at, offset);
  j["deadline"] = c.deadline ? Json(FormatInstant(*c.deadline, offset)) : Json(nullptr);
  j["light"] = c.light ? Json(std::string(Name(*c.light))) : Json(nullptr);
  return j;
}

std::string AckJson(const CommandAck& ack) {
  std::string events = "[";
  for (std::size_t i = 0; i < ack.events.size(); ++i) {
    events += (i ? ",\"" : "\"") + std::string(Name(ack.events[i])) + "\"";
  }
  events += "]";
  Json j = Json::object();
  j["case"] = ack.case_id;
  j["version"] = ack.version;
  j["first_position"] = ack.first_position;
  j["last_position"] = ack.last_position;
  j["duplicate"] = ack.duplicate;
  std::string text = Dump(j);
  text.pop_back();  // the events, in the table's names, last
  return text + ",\"events\":" + events + "}";
}

HttpResponse Ok(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::string JsonArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  return out + "]";
}

// The store's counters in /metrics: fsyncs, and the group-commit sizes as
// a histogram (RocksDB store only: the others count no groups).
std::string StoreMetrics(const StoreStatistics& st) {
  std::string out =
      "# HELP caseloop_store_fsyncs_total fsyncs of the event store (group commit makes this smaller "
      "than commands).\n"
      "# TYPE caseloop_store_fsyncs_total counter\ncaseloop_store_fsyncs_total " +
      std::to_string(st.syncs) + "\n";
  if (!st.has_groups) return out;
  out +=
      "# HELP caseloop_store_group_size Writers (appends, projection commits) per written group of the "
      "group commit.\n# TYPE caseloop_store_group_size histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < StoreStatistics::kGroupSizeBounds.size(); ++i) {
    cumulative += st.group_sizes[i];
    out += "caseloop_store_group_size_bucket{le=\"" + std::to_string(StoreStatistics::kGroupSizeBounds[i]) +
           "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "caseloop_store_group_size_bucket{le=\"+Inf\"} " + std::to_string(st.groups) + "\n";
  out += "caseloop_store_group_size_sum " + std::to_string(st.group_writers) + "\n";
  out += "caseloop_store_group_size_count " + std::to_string(st.groups) + "\n";
  return out;
}

// An Idempotency-Key header's command id ("http:ACTOR:KEY", per actor: two
// actors' keys never meet), "" without one; nullopt: a bad key (the message
// in *why).
std::optional<std::string> IdempotencyId(const HttpRequest& req, const std::string& actor, std::string* why) {
  const std::string* idem = req.Header("idempotency-key");
  if (idem == nullptr) return std::string();
  if (idem->empty() || idem->size() > 200) {
    *why = "Idempotency-Key must be 1 to 200 characters";
    return std::nullopt;
  }
  for (unsigned char c : *idem) {
    if (c <= 0x20 || c >= 0x7f) {
      *why = "Idempotency-Key must be printable ASCII without spaces";
      return std::nullopt;
    }
  }
  return "http:" + actor + ":" + *idem;
}

std::string UtcText(std::int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json BackupJson(const BackupInfo& b) {
  Json j = Json::object();
  j["id"] = b.id;
  j["created"] = UtcText(b.created_unix_s);
  j["bytes"] = b.bytes;
  j["files"] = b.files;
  j["head_at_start"] = b.head_at_start;
  j["has_keys"] = b.has_keys;
  j["source"] = b.source;
  return j;
}

}  // namespace

class Handler::Lane {
 public:
  Lane() : thread_([this] { Run(); }) {}
  ~Lane() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // after the queued jobs ran
  }
  void Post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

Handler::~Handler() { FinishAdmin(); }

void Handler::FinishAdmin() {
  std::unique_ptr<Lane> config, backup;
  {
    std::lock_guard<std::mutex> lock(lanes_mu_);
    admin_finished_ = true;
    config = std::move(config_lane_);
    backup = std::move(backup_lane_);
  }
  // Destroyed here: each runs what it holds, then its thread ends.
}

bool Handler::RunOnLane(bool backup, std::function<void()> job) {
  std::lock_guard<std::mutex> lock(lanes_mu_);
  if (admin_finished_) return false;
  std::unique_ptr<Lane>& lane = backup ? backup_lane_ : config_lane_;
  if (!lane) lane = std::make_unique<Lane>();
  lane->Post(std::move(job));
  return true;
}

struct Handler::Call {
  const HttpRequest& req;
  std::function<void(HttpResponse)> done;
  std::string path;
  std::vector<std::string> segments;  // decoded, after /api/v1
  std::vector<std::pair<std::string, std::string>> params;
  std::string actor;
  Who who = Who::kUnknown;
  Config config;
  std::string route;

  void Answer(HttpResponse r) {
    r.route = route;
    r.actor = actor;
    done(std::move(r));
  }
  void Fail(int status, std::string_view message, std::string_view where) {
    Answer(Handler::Error(status, message, where));
  }
};

HttpResponse Handler::Error(int status, std::string_view message, std::string_view where) {
  Json e = Json::object();
  e["status"] = status;
  e["code"] = std::string(CodeOf(status));
  e["message"] = std::string(message);
  e["where"] = std::string(where);
  HttpResponse r;
  r.status = status;
  r.body = Dump(Json{{"error", e}});
  return r;
}

Handler::Handler(Engine* engine, const ServerOptions& options, KeyTable* keys, Metrics* metrics)
    : engine_(engine),
      options_(options),
      keys_(keys),
      metrics_(metrics),
      open311_(engine, options, keys, metrics, &next_case_number_, &draining_) {
  next_case_number_ = engine_->HeadPosition() + 1;
}

void Handler::Handle(const HttpRequest& req, std::function<void(HttpResponse)> done) {
  Call call{req, std::move(done), {}, {}, {}, {}, Who::kUnknown, {}, {}};
  const std::string& target = req.target;
  const auto q = target.find('?');
  call.path = target.substr(0, q);
  if (call.path.empty() || call.path[0] != '/') {
    call.route = "other";
    return call.Fail(400, "the request target must be an absolute path", "target");
  }
  if (q != std::string::npos) {
    std::string_view query = std::string_view(target).substr(q + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      std::string_view item = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (item.empty()) continue;
      const auto eq = item.find('=');
      auto key = PercentDecode(item.substr(0, eq), false);
      auto value =
          PercentDecode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), false);
      if (!key || !value) {
        call.route = "other";
        return call.Fail(400, "bad percent-encoding or UTF-8 in the query string", "query");
      }
      call.params.emplace_back(std::move(*key), std::move(*value));
    }
  }
  if (call.path == "/healthz") {
    call.route = "/healthz";
    return call.Answer(Ok(200, "{\"status\":\"ok\"}"));
  }
  if (call.path == "/readyz") {
    call.route = "/readyz";
    // Engine::Open catches the projections up before the server starts, and
    // every query waits for the acknowledged commands: ready until draining.
    if (draining_) return call.Fail(503, "the server is shutting down", "/readyz");
    return call.Answer(
        Ok(200, "{\"status\":\"ready\",\"head_position\":" + std::to_string(engine_->HeadPosition()) + "}"));
  }
  if (call.path == "/metrics") {
    call.route = "/metrics";
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_->Text();
    r.body += StoreMetrics(engine_->StoreStats());
    r.body += "# HELP caseloop_log_head_position The position of the last event in the log.\n";
    r.body += "# TYPE caseloop_log_head_position gauge\ncaseloop_log_head_position " +
              std::to_string(engine_->HeadPosition()) + "\n";
    r.body += CaseGauges();
    return call.Answer(std::move(r));
  }
  if (Open311::Owns(call.path)) return open311_.Handle(req, std::move(call.done));
  static constexpr std::string_view kPrefix = "/api/v1";
  if (call.path.rfind(kPrefix, 0) != 0 ||
      (call.path.size() > kPrefix.size() && call.path[kPrefix.size()] != '/')) {
    call.route = "other";
    return call.Fail(404, "no route " + call.path + " (see docs/server.md)", call.path);
  }
  std::string_view rest = std::string_view(call.path).substr(kPrefix.size());
  while (!rest.empty()) {
    rest.remove_prefix(1);  // '/'
    const auto slash = rest.find('/');
    auto seg = PercentDecode(rest.substr(0, slash), false);
    if (!seg) {
      call.route = "other";
      return call.Fail(400, "bad percent-encoding or UTF-8 in the path", "path");
    }
    call.segments.push_back(std::move(*seg));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  Api(call);
}

void Handler::Api(Call& call) {
  const auto& s = call.segments;
  const std::string& method = call.req.method;
  // The route pattern, for metrics and the access log.
  if (s.size() == 1 && s[0] == "cases")
    call.route = "/api/v1/cases";
  else if (s.size() == 2 && s[0] == "cases")
    call.route = "/api/v1/cases/{id}";
  else if (s.size() == 3 && s[0] == "cases")
    call.route = s[2] == "history" ? "/api/v1/cases/{id}/history" : "/api/v1/cases/{id}/{command}";
  else if (s.size() == 2 && s[0] == "config")
    call.route = "/api/v1/config/{verb}";
  else if (s.size() == 2 && s[0] == "admin" && s[1] == "backups")
    call.route = "/api/v1/admin/backups";
  else if (s.size() == 1)
    call.route = "/api/v1/" + (s[0].size() <= 16 ? s[0] : std::string("other"));
  else
    call.route = "/api/v1/other";

  // Who is asking.
  const std::string* auth = call.req.Header("authorization");
  if (auth == nullptr) return call.Fail(401, "no API key: send 'Authorization: Bearer KEY'", "authorization");
  if (auth->size() < 7 || (auth->compare(0, 7, "Bearer ") != 0 && auth->compare(0, 7, "bearer ") != 0))
    return call.Fail(401, "the Authorization header must be 'Bearer KEY'", "authorization");
  auto actor = keys_->Authenticate(std::string_view(*auth).substr(7));
  if (!actor.ok()) return call.Fail(401, actor.status().message(), "authorization");
  call.actor = *actor;
  call.config = engine_->CurrentConfig();
  call.who = KindOf(call.config, call.actor);
  if (call.who == Who::kUnknown)
    return call.Fail(403, "the key's actor " + call.actor + " is not in the configuration", "authorization");

  static const std::vector<std::string> kQueries = {"rates",   "inspectors", "centre",
                                                    "overdue", "workload",   "redispatch"};
  if (s.size() == 1 && s[0] == "cases") {
    if (method == "POST") return Command(call, "", "report");
    if (method == "GET") return Query(call, "list", "");
    return call.Fail(405, "use GET (list) or POST (report) on /api/v1/cases", "method");
  }
  if (s.size() == 2 && s[0] == "cases") {
    if (method == "GET") return Query(call, "show", s[1]);
    return call.Fail(405, "use GET on /api/v1/cases/{id}", "method");
  }
  if (s.size() == 3 && s[0] == "cases") {
    if (s[2] == "history") {
      if (method == "GET") return Query(call, "history", s[1]);
      return call.Fail(405, "use GET on /api/v1/cases/{id}/history", "method");
    }
    if (method == "POST") return Command(call, s[1], s[2]);
    return call.Fail(405, "use POST for a command: POST /api/v1/cases/{id}/{command}", "method");
  }
  if (s.size() == 2 && s[0] == "config") {
    if (method == "POST") return ConfigVerb(call, s[1]);
    return call.Fail(405, "use POST on /api/v1/config/{verb}", "method");
  }
  if (s.size() == 2 && s[0] == "admin" && s[1] == "backups") {
    if (method == "POST" || method == "GET") return Backups(call);
    return call.Fail(405, "use POST (take a backup) or GET (list them) on /api/v1/admin/backups", "method");
  }
  if (s.size() == 1 && s[0] == "events") {
    if (method == "GET") return Events(call);
    return call.Fail(405, "use GET on /api/v1/events", "method");
  }
  if (s.size() == 1 && std::find(kQueries.begin(), kQueries.end(), s[0]) != kQueries.end()) {
    if (method == "GET") return Query(call, s[0], "");
    return call.Fail(405, "use GET on /api/v1/" + s[0], "method");
  }
  return call.Fail(404, "no route " + call.path + " (see docs/server.md)", call.path);
}

void Handler::Command(Call& call, const std::string& given_id, const std::string& name) {
  const CommandSpec* spec = FindCommandSpec(name);
  if (spec == nullptr || spec->engine_only()) {
    std::string names;
    for (const auto& c : CommandTable()) {
      if (!c.engine_only()) names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    return call.Fail(404, "unknown command '" + name + "' (commands: " + names + ")", "path");
  }
  if (call.who == Who::kAdmin)
    return call.Fail(
        403, "an administrator key issues no lifecycle command (it is nobody of the configuration)", "role");
  if (draining_) return call.Fail(503, "the server is shutting down: command not accepted", "server");
  // The body: one flat JSON object whose keys are the command's fields.
  TextFields fields;
  if (!BodyFields(call, &fields)) return;
  for (const auto& [key, value] : fields) {
    if (key == "by")
      return call.Fail(400, "field 'by' is not accepted: the actor is the API key's", "body.by");
    if (key == "command_id")
      return call.Fail(400, "field 'command_id' is not accepted: send an Idempotency-Key header",
                       "body.command_id");
    if (key == "at" && !options_.replay_time)
      return call.Fail(400, "field 'at' is not accepted: the server's clock times every command", "body.at");
  }
  std::string case_id = given_id;
  const bool assigned = case_id.empty();
  if (assigned) {
    // A retried report must find the case of its first attempt, whose number
    // the engine cannot look up by command id: with an Idempotency-Key the
    // number is derived from it (R + 16 hex digits of BLAKE2b(actor, key));
    // without one, the next of a sequence starting above the log's head.
    const std::string* idem = call.req.Header("idempotency-key");
    if (idem != nullptr && !idem->empty())
      case_id = "R" + HashKey(call.actor + '\n' + *idem).substr(0, 16);
    else
      case_id = "R" + std::to_string(next_case_number_.fetch_add(1));
  }
  auto command = CommandFromFields(spec->type, case_id, fields, call.config.calendar.utc_offset_minutes);
  if (!command.ok()) return call.Fail(400, command.status().message(), "body");
  command->actor = call.actor;

  // Idempotency-Key -> the command id (per actor: two actors' keys never meet).
  if (const std::string* idem = call.req.Header("idempotency-key")) {
    if (idem->empty() || idem->size() > 200)
      return call.Fail(400, "Idempotency-Key must be 1 to 200 characters", "idempotency-key");
    for (unsigned char c : *idem) {
      if (c <= 0x20 || c >= 0x7f)
        return call.Fail(400, "Idempotency-Key must be printable ASCII without spaces", "idempotency-key");
    }
    command->command_id = "http:" + call.actor + ":" + *idem;
  }

  // What the caller may not see is an unknown case to them (no hint that it exists).
  const bool restricted = call.who == Who::kUnit || call.who == Who::kInspector;
  const std::string* if_match = call.req.Header("if-match");
  if (spec->type != CommandType::kReport && (restricted || if_match != nullptr)) {
    auto state = engine_->State(case_id);
    // What the caller may not see is an unknown case to them: the same answer.
    if (!state.ok() && !state.status().IsNotFound()) return call.Answer(FromStatus(state.status(), "case"));
    if (!state.ok() || state->version == 0 || !Sees(call.who, call.config, call.actor, *state))
      return call.Fail(404, "unknown case " + case_id, "path");
    if (if_match != nullptr) {
      std::string v = *if_match;
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      std::uint64_t want = 0;
      bool digits = !v.empty() && v.size() <= 19;
      for (char c : v) digits = digits && c >= '0' && c <= '9';
      if (!digits) return call.Fail(400, "If-Match must be the case's version, e.g. \"7\"", "if-match");
      want = std::stoull(v);
      // Checked by the engine when it decides the command, under the case's
      // serialization: a command racing on the same version cannot pass too.
      command->expected_version = want;
    }
  }
  // Replayed history: the command's own time moves a manual clock forward.
  if (options_.replay_time) {
    if (command->at) {
      if (*command->at > engine_->Now()) {
        Status moved = engine_->AdvanceTo(*command->at);
        if (!moved.ok() && !moved.IsRejected()) return call.Answer(FromStatus(moved, "body.at"));
      }
    } else {
      command->at = engine_->Now();
    }
  }

  const auto started = std::chrono::steady_clock::now();
  const int ok_status = spec->type == CommandType::kReport ? 201 : 200;
  Engine* engine = engine_;
  Metrics* metrics = metrics_;
  auto done = std::move(call.done);
  std::string route = call.route, actor = call.actor;
  const bool expected = command->expected_version.has_value();
  engine_->SubmitAsync(*command, [=, done = std::move(done)](Result<CommandAck> ack) {
    HttpResponse r;
    if (!ack.ok()) {
      metrics->CountCommandFailure();
      const Status& st = ack.status();
      if (expected && st.IsConflict() && st.message().find(" is at version ") != std::string::npos)
        r = Handler::Error(412, st.message(), "if-match");
      else
        r = FromStatus(st, assigned && st.IsConflict() ? "case" : "command");
    } else {
      CommandAck a = std::move(ack).value();
      if (a.duplicate && a.first_position > 0) {
        // The first answer's case (a report the server numbered).
        auto first = engine->ReadLog(a.first_position, 1);
        if (first.ok() && !first->empty()) a.case_id = first->front().record.stream;
      }
      metrics->ObserveCommand(std::chrono::steady_clock::now() - started);
      r = Ok(ok_status, AckJson(a));
      r.headers.emplace_back("ETag", "\"" + std::to_string(a.version) + "\"");
      if (ok_status == 201) r.headers.emplace_back("Location", "/api/v1/cases/" + a.case_id);
    }
    r.route = route;
    r.actor = actor;
    done(std::move(r));
  });
}

bool Handler::BodyFields(Call& call, TextFields* fields) {
  const std::string& body = call.req.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return true;
  if (JsonDepth(body) > options_.max_json_depth) {
    call.Fail(400, "the JSON body nests deeper than " + std::to_string(options_.max_json_depth), "body");
    return false;
  }
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again for the parser's message (where the text went wrong).
    std::string why = "malformed JSON";
    try {
      Json again = Json::parse(body);
      (void)again;
    } catch (const Json::exception& e) {
      why = e.what();
    }
    call.Fail(400, "the body is not JSON: " + why, "body");
    return false;
  }
  if (!j.is_object()) {
    call.Fail(400, "the body must be a JSON object of the command's fields", "body");
    return false;
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    std::string text;
    if (v.is_string())
      text = v.get<std::string>();
    else if (v.is_boolean())
      text = v.get<bool>() ? "true" : "false";
    else if (v.is_number())
      text = v.dump();
    else if (v.is_null())
      continue;
    else {
      call.Fail(400, "field '" + key + "' must be a string, number or boolean", "body." + key);
      return false;
    }
    fields->emplace_back(key, std::move(text));
  }
  return true;
}

// POST /api/v1/config/{verb}: a configuration line of the script language
// (unit, staff, category, route, calendar, holiday, ...), its positional
// arguments named in lower case ("id", "kind", "code", "unit", "date") and
// its keys as they are. The script's own table and mapping (script/syntax.h,
// ScriptSession) decide, so the verbs, keys and messages are the script's.
void Handler::ConfigVerb(Call& call, const std::string& verb) {
  const script::CommandSpec* spec = script::FindCommand(verb);
  if (spec == nullptr || spec->cls != script::CommandClass::kSetup) {
    std::string names;
    for (const auto& c : script::Commands()) {
      if (c.cls == script::CommandClass::kSetup) names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    return call.Fail(404, "unknown configuration verb '" + verb + "' (verbs: " + names + ")", "path");
  }
  if (call.who != Who::kAdmin)
    return call.Fail(403, "only an administrator key changes the configuration", "role");
  if (draining_) return call.Fail(503, "the server is shutting down: change not accepted", "server");
  TextFields fields;
  if (!BodyFields(call, &fields)) return;
  // The words of the line: the verb, its positionals in order, then key=value.
  std::vector<std::string> words{verb};
  for (std::string_view pos : spec->positionals) {
    std::string key(pos);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == key; });
    if (it == fields.end() || it->second.empty())
      return call.Fail(400,
                       "missing field '" + key + "' for '" + verb + "' (usage: " + script::Usage(*spec) + ")",
                       "body." + key);
    if (it->second.find('=') != std::string::npos)
      return call.Fail(400, "field '" + key + "' must not contain '='", "body." + key);
    words.push_back(it->second);
    fields.erase(it);
  }
  for (const auto& [key, value] : fields) {
    if (key == "by" || key == "at")
      return call.Fail(400, "field '" + key + "' is not accepted for a configuration change", "body." + key);
    words.push_back(key + "=" + value);
  }
  // Idempotency-Key -> the change's command id: a retry gives the first
  // answer and appends nothing, also after a restart (the id is in the log).
  std::string why;
  std::optional<std::string> command_id = IdempotencyId(call.req, call.actor, &why);
  if (!command_id) return call.Fail(400, why, "idempotency-key");
  // Run on the configuration lane, off the HTTP threads; answered once the
  // change is durable (Engine::Configure returns then).
  Engine* engine = engine_;
  auto job = [engine, words = std::move(words), id = *command_id, verb, done = call.done, route = call.route,
              actor = call.actor] {
    HttpResponse r;
    try {
      ScriptOptions so;
      so.config_command_id = id;
      auto session = ScriptSession::Create(engine, so);
      auto ran =
          session.ok() ? (*session)->ExecuteWords(words) : Result<std::vector<std::string>>(session.status());
      std::optional<CommandAck> ack = session.ok() ? (*session)->LastConfigAck() : std::nullopt;
      if (!ran.ok()) {
        // The script's message; a malformed line or value is the caller's 400.
        const Status& st = ran.status();
        r = FromStatus(st, st.IsInvalidArgument() ? "body" : "config");
      } else {
        Json j = Json::object();
        j["verb"] = verb;
        j["position"] = ack ? ack->first_position : 0;
        j["version"] = ack ? ack->version : 0;
        j["duplicate"] = ack && ack->duplicate;
        r = Ok(200, Dump(j));
      }
    } catch (const std::exception& e) {
      r = Handler::Error(503, std::string("configuration change failed: ") + e.what(), "config");
    }
    r.route = route;
    r.actor = actor;
    done(std::move(r));
  };
  if (!RunOnLane(/*backup=*/false, std::move(job)))
    return call.Fail(503, "the server is shutting down: change not accepted", "server");
}

// /api/v1/admin/backups: POST {"dir": D, "keep": N} takes a backup of the
// served store into directory D on the server's machine (BackupDatabase
// through the engine's open database: commands go on meanwhile); GET
// ?dir=D lists the backups there. $admin keys only.
void Handler::Backups(Call& call) {
  if (call.who != Who::kAdmin)
    return call.Fail(403, "only an administrator key takes or lists backups", "role");
  const bool take = call.req.method == "POST";
  std::string dir;
  std::uint32_t keep = 0;
  if (take) {
    if (!call.params.empty())
      return call.Fail(400, "POST /api/v1/admin/backups takes no query parameters: send {\"dir\": ...}",
                       "query." + call.params.front().first);
    TextFields fields;
    if (!BodyFields(call, &fields)) return;
    for (const auto& [key, value] : fields) {
      if (key == "dir") {
        dir = value;
      } else if (key == "keep") {
        bool digits = !value.empty() && value.size() <= 6;
        for (char c : value) digits = digits && c >= '0' && c <= '9';
        if (!digits)
          return call.Fail(400, "keep must be a whole number of backups, not '" + value + "'", "body.keep");
        keep = static_cast<std::uint32_t>(std::stoul(value));
      } else {
        return call.Fail(400, "unknown field '" + key + "' for a backup (allowed: dir, keep)", "body." + key);
      }
    }
  } else {
    for (const auto& [key, value] : call.params) {
      if (key != "dir")
        return call.Fail(400, "unknown parameter '" + key + "' for backups (allowed: dir)", "query." + key);
      dir = value;
    }
  }
  const std::string where = take ? "body.dir" : "query.dir";
  if (dir.empty())
    return call.Fail(400, "dir is missing: the backup directory on the server's machine", where);
  if (dir[0] != '/')
    return call.Fail(400, "dir must be an absolute path on the server's machine, not '" + dir + "'", where);
  if (options_.database.empty() || options_.database == kInMemoryPath || IsDatabaseUri(options_.database))
    return call.Fail(503,
                     "this server's store cannot be backed up over HTTP (only an embedded RocksDB store "
                     "can; a PostgreSQL store is backed up with PostgreSQL's tools)",
                     "server");
  if (draining_) return call.Fail(503, "the server is shutting down: backup not started", "server");
  auto job = [take, dir, keep, db = options_.database, keys_file = options_.keys_file, where,
              done = call.done, route = call.route, actor = call.actor] {
    HttpResponse r;
    auto failed = [&](const Status& st) {
      if (st.IsInvalidArgument()) return Handler::Error(400, st.message(), where);
      if (st.IsNotFound()) return Handler::Error(404, st.message(), where);
      return FromStatus(st, "backup");
    };
    try {
      if (take) {
        BackupOptions o;
        o.keys_file = keys_file;
        o.keep = keep;
        auto info = BackupDatabase(db, dir, o);
        if (!info.ok()) {
          r = failed(info.status());
        } else {
          Json j = BackupJson(*info);
          j["dir"] = dir;
          r = Ok(201, Dump(j));
        }
      } else {
        auto all = ListBackups(dir);
        if (!all.ok()) {
          r = failed(all.status());
        } else {
          Json list = Json::array();
          for (const BackupInfo& b : *all) list.push_back(BackupJson(b));
          r = Ok(200, Dump(list));
        }
      }
    } catch (const std::exception& e) {
      r = Handler::Error(503, std::string("backup failed: ") + e.what(), "backup");
    }
    r.route = route;
    r.actor = actor;
    done(std::move(r));
  };
  if (!RunOnLane(/*backup=*/true, std::move(job)))
    return call.Fail(503, "the server is shutting down: backup not started", "server");
}

// The gauges read from the projections: open and overdue tasks (the deadline
// projection's per-unit counters and overdue index) and open tasks by light
// (the case list's deadline index; green and yellow need each task's state,
// so these are recomputed at most every kCaseGaugeSeconds).
std::string Handler::CaseGauges() {
  using Clock = std::chrono::steady_clock;
  constexpr int kCaseGaugeSeconds = 15;
  std::lock_guard<std::mutex> lock(gauges_mu_);
  const auto now = Clock::now();
  if (!gauges_text_.empty() && now - gauges_at_ < std::chrono::seconds(kCaseGaugeSeconds))
    return gauges_text_;
  const Instant at = options_.replay_time ? engine_->LatestRecordedTime() : engine_->Now();
  std::string out;
  auto w = engine_->Workload(at);
  if (w.ok()) {
    std::int64_t open = 0, overdue = 0;
    for (const UnitWorkload& u : *w) {
      open += u.open_tasks;
      overdue += u.overdue_tasks;
    }
    out += "# HELP caseloop_open_tasks Open tasks (cases dispatched or in handling).\n";
    out += "# TYPE caseloop_open_tasks gauge\ncaseloop_open_tasks " + std::to_string(open) + "\n";
    out += "# HELP caseloop_overdue_tasks Open tasks past their deadline.\n";
    out += "# TYPE caseloop_overdue_tasks gauge\ncaseloop_overdue_tasks " + std::to_string(overdue) + "\n";
  }
  std::string by_light;
  for (Light light : {Light::kGreen, Light::kYellow, Light::kRed}) {
    CaseFilter f;
    f.light = light;
    f.at = at;
    f.limit = 1000;
    std::int64_t n = 0;
    bool ok = true;
    do {
      auto page = engine_->FindCases(f);
      if (!page.ok()) {
        ok = false;
        break;
      }
      n += static_cast<std::int64_t>(page->cases.size());
      f.cursor = page->next;
    } while (!f.cursor.empty());
    if (!ok) continue;
    by_light += "caseloop_open_tasks_by_light{light=\"" + std::string(Name(light)) + "\"} " +
                std::to_string(n) + "\n";
  }
  if (!by_light.empty()) {
    out +=
        "# HELP caseloop_open_tasks_by_light Open tasks with a deadline by traffic light (refreshed every " +
        std::to_string(kCaseGaugeSeconds) + " s).\n";
    out += "# TYPE caseloop_open_tasks_by_light gauge\n" + by_light;
  }
  gauges_text_ = out;
  gauges_at_ = now;
  return out;
}

// Positions: 1 to 20 digits, within uint64.
static std::optional<std::uint64_t> ParsePosition(const std::string& v) {
  if (v.empty() || v.size() > 19) return std::nullopt;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoull(v);
}

void Handler::Events(Call& call) {
  std::uint64_t from = engine_->HeadPosition() + 1;  // default: from now on
  for (const auto& [k, v] : call.params) {
    if (k != "from")
      return call.Fail(400, "unknown parameter '" + k + "' for events (allowed: from)", "query." + k);
    auto p = ParsePosition(v);
    if (!p || *p == 0)
      return call.Fail(400, "from must be a log position >= 1, not '" + v + "'", "query.from");
    from = *p;
  }
  if (const std::string* last = call.req.Header("last-event-id")) {
    auto p = ParsePosition(*last);
    if (!p)
      return call.Fail(400, "Last-Event-ID must be a log position, not '" + *last + "'", "last-event-id");
    from = *p + 1;
  }
  if (draining_) return call.Fail(503, "the server is shutting down", "server");
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.events_from = from;
  r.events_offset = call.config.calendar.utc_offset_minutes;
  // Staff see every event; a unit or an inspector the events of the cases
  // they may see now (as show and history), never the configuration's.
  if (call.who == Who::kUnit || call.who == Who::kInspector) {
    Engine* engine = engine_;
    r.events_filter = [engine, who = call.who, config = call.config,
                       actor = call.actor](const LoggedEvent& e) {
      if (!e.event) return false;
      auto state = engine->State(e.record.stream);
      return state.ok() && Sees(who, config, actor, *state);
    };
  }
  call.Answer(std::move(r));
}

void Handler::Query(Call& call, const std::string& name, const std::string& case_id) {
  const int offset = call.config.calendar.utc_offset_minutes;
  const bool staff = call.who == Who::kAdmin || call.who == Who::kStaff;
  // Parameters: each known one once.
  std::vector<std::string> allowed;
  if (name == "show" || name == "overdue" || name == "workload" || name == "redispatch")
    allowed = {"at"};
  else if (name == "rates")
    allowed = {"from", "to", "at", "unit"};
  else if (name == "inspectors" || name == "centre")
    allowed = {"from", "to", "at"};
  else if (name == "list")
    allowed = {"state", "unit", "light", "kind", "category", "grid", "from", "to", "at", "cursor", "limit"};
  std::map<std::string, std::string> p;
  for (const auto& [k, v] : call.params) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return call.Fail(
          400,
          "unknown parameter '" + k + "' for " + name + " (allowed: " + (list.empty() ? "none" : list) + ")",
          "query." + k);
    }
    if (!p.emplace(k, v).second) return call.Fail(400, "parameter '" + k + "' given twice", "query." + k);
  }
  const Instant now = options_.replay_time ? engine_->LatestRecordedTime() : engine_->Now();
  auto time = [&](const std::string& key) -> Result<std::optional<Instant>> {
    auto it = p.find(key);
    if (it == p.end()) return std::optional<Instant>();
    auto t = ParseInstant(it->second, offset);
    if (!t.ok()) return Status::InvalidArgument(key + ": " + t.status().message());
    return std::optional<Instant>(*t);
  };
  auto at = time("at");
  if (!at.ok()) return call.Fail(400, at.status().message(), "query.at");

  if (name == "show" || name == "history") {
    auto state = engine_->State(case_id);
    // What the caller may not see is an unknown case to them: the same answer.
    if (!state.ok() && !state.status().IsNotFound()) return call.Answer(FromStatus(state.status(), "case"));
    if (!state.ok() || state->version == 0 || !Sees(call.who, call.config, call.actor, *state))
      return call.Fail(404, "unknown case " + case_id, "path");
    if (name == "show") {
      auto v = engine_->Show(case_id, at->value_or(now));
      if (!v.ok()) return call.Answer(FromStatus(v.status(), "case"));
      return call.Answer(Ok(200, ToJson(*v, offset)));
    }
    auto h = engine_->History(case_id);
    if (!h.ok()) return call.Answer(FromStatus(h.status(), "case"));
    std::vector<std::string> items;
    for (const auto& e : *h) items.push_back(ToJson(e, offset));
    return call.Answer(Ok(200, JsonArray(items)));
  }
  if (name == "list") {
    CaseFilter f;
    if (auto it = p.find("limit"); it != p.end()) {
      const std::string& v = it->second;
      bool digits = !v.empty() && v.size() <= 4;
      for (char c : v) digits = digits && c >= '0' && c <= '9';
      if (!digits || std::stoul(v) == 0 || std::stoul(v) > 1000)
        return call.Fail(400, "limit must be 1 to 1000, not '" + v + "'", "query.limit");
      f.limit = std::stoul(v);
    }
    if (auto it = p.find("state"); it != p.end()) {
      f.state = ParseLifecycleState(it->second);
      if (!f.state || *f.state == LifecycleState::kNone)
        return call.Fail(400,
                         "unknown state '" + it->second +
                             "' (reported, registered, coordinating, dispatched, handling, suspended, "
                             "awaiting_verification, closed, rejected, voided, merged)",
                         "query.state");
    }
    if (auto it = p.find("light"); it != p.end()) {
      for (Light l : {Light::kGreen, Light::kYellow, Light::kRed}) {
        if (it->second == Name(l)) f.light = l;
      }
      if (!f.light)
        return call.Fail(400, "unknown light '" + it->second + "' (green, yellow, red)", "query.light");
    }
    if (auto it = p.find("kind"); it != p.end()) {
      f.kind = ParseCaseKind(it->second);
      if (!f.kind)
        return call.Fail(400, "unknown kind '" + it->second + "' (component, event)", "query.kind");
    }
    auto digits_of = [&](const char* key, std::size_t min, std::size_t max) -> std::optional<std::string> {
      auto it = p.find(key);
      if (it == p.end()) return std::string();
      const std::string& v = it->second;
      bool ok = v.size() >= min && v.size() <= max;
      for (char c : v) ok = ok && c >= '0' && c <= '9';
      if (!ok) return std::nullopt;
      return v;
    };
    auto category = digits_of("category", 4, 4);
    if (!category)
      return call.Fail(400, "category must be a 4-digit code, not '" + p["category"] + "'", "query.category");
    f.category = *category;
    auto grid = digits_of("grid", 1, 15);
    if (!grid)
      return call.Fail(400, "grid must be 1 to 15 digits (a grid or its prefix), not '" + p["grid"] + "'",
                       "query.grid");
    f.grid = *grid;
    auto from = time("from");
    if (!from.ok()) return call.Fail(400, from.status().message(), "query.from");
    auto to = time("to");
    if (!to.ok()) return call.Fail(400, to.status().message(), "query.to");
    f.reported_from = *from;
    f.reported_to = *to;
    if (f.reported_from && f.reported_to && *f.reported_to <= *f.reported_from)
      return call.Fail(400, "empty period: to=" + p["to"] + " is not after from=" + p["from"], "query.to");
    f.at = at->value_or(now);
    f.unit = p.count("unit") ? p["unit"] : std::string();
    f.cursor = p.count("cursor") ? p["cursor"] : std::string();
    // §2: a unit sees its own tasks; an inspector what it may verify.
    if (call.who == Who::kUnit) {
      if (!f.unit.empty() && f.unit != call.actor)
        return call.Fail(403, "a unit sees only its own tasks", "query.unit");
      f.unit = call.actor;
    } else if (call.who == Who::kInspector) {
      f.visible = [who = call.who, &config = call.config, &actor = call.actor](const CaseSummary& c) {
        return SeesFields(who, config, actor, c.unit, c.reporter, c.verifier, c.grid);
      };
    }
    auto page = engine_->FindCases(f);
    if (!page.ok()) {
      return call.Answer(
          FromStatus(page.status(), page.status().IsInvalidArgument() ? "query.cursor" : "cases"));
    }
    Json rows = Json::array();
    for (const CaseSummary& c : page->cases) rows.push_back(SummaryJson(c, offset));
    Json j = Json::object();
    j["cases"] = std::move(rows);
    j["next"] = page->next.empty() ? Json(nullptr) : Json(page->next);
    return call.Answer(Ok(200, Dump(j)));
  }
  if (name == "rates" || name == "inspectors" || name == "centre") {
    if (name == "centre" && !staff)
      return call.Fail(403, "only centre staff see the centre's figures", "role");
    if (name == "rates" && call.who == Who::kInspector)
      return call.Fail(403, "an inspector does not see the units' evaluation", "role");
    if (name == "inspectors" && call.who == Who::kUnit)
      return call.Fail(403, "a unit does not see the inspectors' evaluation", "role");
    if (!p.count("from") || !p.count("to"))
      return call.Fail(400, name + " needs from= and to=", p.count("from") ? "query.to" : "query.from");
    auto from = time("from");
    if (!from.ok()) return call.Fail(400, from.status().message(), "query.from");
    auto to = time("to");
    if (!to.ok()) return call.Fail(400, to.status().message(), "query.to");
    if (**to <= **from)
      return call.Fail(400, "empty period: to=" + p["to"] + " is not after from=" + p["from"], "query.to");
    PeriodQuery q;
    q.from = **from;
    q.to = **to;
    q.at = at->has_value() ? **at : std::min(q.to, now);
    q.unit = p.count("unit") ? p["unit"] : std::string();
    if (call.who == Who::kUnit) {
      if (!q.unit.empty() && q.unit != call.actor)
        return call.Fail(403, "a unit sees only its own evaluation", "query.unit");
      q.unit = call.actor;
    }
    std::vector<std::string> items;
    if (name == "rates") {
      auto r = engine_->Rates(q);
      if (!r.ok()) return call.Answer(FromStatus(r.status(), "rates"));
      for (const auto& u : *r) items.push_back(ToJson(u));
    } else if (name == "inspectors") {
      auto r = engine_->Inspectors(q);
      if (!r.ok()) return call.Answer(FromStatus(r.status(), "inspectors"));
      for (const auto& i : *r) {
        if (call.who == Who::kInspector && i.inspector != call.actor) continue;
        items.push_back(ToJson(i));
      }
    } else {
      auto r = engine_->Centre(q);
      if (!r.ok()) return call.Answer(FromStatus(r.status(), "centre"));
      return call.Answer(Ok(200, ToJson(*r)));
    }
    return call.Answer(Ok(200, JsonArray(items)));
  }
  // overdue, workload, redispatch
  if (call.who == Who::kInspector)
    return call.Fail(403, "an inspector does not see the units' tasks", "role");
  std::vector<std::string> items;
  if (name == "redispatch") {
    auto r = engine_->Redispatch(at->value_or(now));
    if (!r.ok()) return call.Answer(FromStatus(r.status(), "redispatch"));
    for (const auto& t : *r) {
      if (call.who == Who::kUnit && t.unit != call.actor) continue;
      items.push_back(ToJson(t, offset));
    }
  } else if (name == "overdue") {
    auto r = engine_->Overdue(at->value_or(now));
    if (!r.ok()) return call.Answer(FromStatus(r.status(), "overdue"));
    for (const auto& o : *r) {
      if (call.who == Who::kUnit && o.unit != call.actor) continue;
      items.push_back(ToJson(o, offset));
    }
  } else {
    auto r = engine_->Workload(at->value_or(now));
    if (!r.ok()) return call.Answer(FromStatus(r.status(), "workload"));
    for (const auto& w : *r) {
      if (call.who == Who::kUnit && w.unit != call.actor) continue;
      items.push_back(ToJson(w));
    }
  }
  return call.Answer(Ok(200, JsonArray(items)));
}

std::optional<std::string> PercentDecode(std::string_view s, bool form) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (form && s[i] == '+') {
      out.push_back(' ');
      continue;
    }
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (!IsValidUtf8(out)) return std::nullopt;
  for (unsigned char c : out) {
    const bool line = c == '\t' || c == '\n' || c == '\r';
    if ((c < 0x20 && !(form && line)) || c == 0x7f) return std::nullopt;
  }
  return out;
}

}  // namespace caseloop::server
