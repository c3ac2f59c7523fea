// The staff API (docs/server.md). Every lifecycle command's route and body
// come from the command table (caseloop/commands.h: FindCommandSpec,
// CommandFromFields); every query's answer is the JSON of caseloop/json.h.
#include "server/handler.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "caseloop/commands.h"
#include "caseloop/json.h"
#include "caseloop/time.h"
#include "core/utf8.h"

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

// Percent-decodes one path segment or query value. nullopt: a bad escape or
// text that is not UTF-8.
std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
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
    if (c < 0x20 || c == 0x7f) return std::nullopt;
  }
  return out;
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
bool Sees(Who who, const Config& config, const std::string& actor, const CaseState& s) {
  switch (who) {
    case Who::kAdmin:
    case Who::kStaff:
      return true;
    case Who::kUnit:
      return s.unit == actor;
    case Who::kInspector: {
      if (s.reporter == actor || s.verifier == actor) return true;
      // Any inspector may verify a case without a grid that no inspector reported (§2).
      if (s.grid.empty() && config.inspectors.count(s.reporter) == 0) return true;
      auto it = config.inspectors.find(actor);
      return it != config.inspectors.end() && !it->second.grid_prefix.empty() &&
             s.grid.rfind(it->second.grid_prefix, 0) == 0;
    }
    case Who::kUnknown:
      return false;
  }
  return false;
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

}  // namespace

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
    : engine_(engine), options_(options), keys_(keys), metrics_(metrics) {
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
      auto key = Decode(item.substr(0, eq));
      auto value = Decode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
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
    r.body +=
        "# HELP caseloop_fsyncs_total fsyncs of the event log (group commit makes this smaller than "
        "commands).\n";
    r.body += "# TYPE caseloop_fsyncs_total counter\ncaseloop_fsyncs_total " +
              std::to_string(engine_->SyncCount()) + "\n";
    r.body += "# HELP caseloop_log_head_position The position of the last event in the log.\n";
    r.body += "# TYPE caseloop_log_head_position gauge\ncaseloop_log_head_position " +
              std::to_string(engine_->HeadPosition()) + "\n";
    return call.Answer(std::move(r));
  }
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
    auto seg = Decode(rest.substr(0, slash));
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

  static const std::vector<std::string> kQueries = {"rates", "inspectors", "centre", "overdue", "workload"};
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
  if (draining_) return call.Fail(503, "the server is shutting down: command not accepted", "server");
  // The body: one flat JSON object whose keys are the command's fields.
  TextFields fields;
  const std::string& body = call.req.body;
  if (body.find_first_not_of(" \t\r\n") != std::string::npos) {
    if (JsonDepth(body) > options_.max_json_depth)
      return call.Fail(400, "the JSON body nests deeper than " + std::to_string(options_.max_json_depth),
                       "body");
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
      return call.Fail(400, "the body is not JSON: " + why, "body");
    }
    if (!j.is_object())
      return call.Fail(400, "the body must be a JSON object of the command's fields", "body");
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      const auto& v = it.value();
      if (key == "by")
        return call.Fail(400, "field 'by' is not accepted: the actor is the API key's", "body.by");
      if (key == "command_id")
        return call.Fail(400, "field 'command_id' is not accepted: send an Idempotency-Key header",
                         "body.command_id");
      if (key == "at" && !options_.replay_time)
        return call.Fail(400, "field 'at' is not accepted: the server's clock times every command",
                         "body.at");
      std::string text;
      if (v.is_string())
        text = v.get<std::string>();
      else if (v.is_boolean())
        text = v.get<bool>() ? "true" : "false";
      else if (v.is_number_integer() || v.is_number_unsigned())
        text = v.dump();
      else if (v.is_number_float())
        text = v.dump();
      else if (v.is_null())
        continue;
      else
        return call.Fail(400, "field '" + key + "' must be a string, number or boolean", "body." + key);
      fields.emplace_back(key, std::move(text));
    }
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
      if (state->version != want) {
        return call.Fail(412,
                         "case " + case_id + " is at version " + std::to_string(state->version) + ", not " +
                             std::to_string(want),
                         "if-match");
      }
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
  engine_->SubmitAsync(*command, [=, done = std::move(done)](Result<CommandAck> ack) {
    HttpResponse r;
    if (!ack.ok()) {
      r = FromStatus(ack.status(), assigned && ack.status().IsConflict() ? "case" : "command");
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
  if (name == "show" || name == "overdue" || name == "workload")
    allowed = {"at"};
  else if (name == "rates")
    allowed = {"from", "to", "at", "unit"};
  else if (name == "inspectors" || name == "centre")
    allowed = {"from", "to", "at"};
  else if (name == "list")
    allowed = {"after", "limit"};
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
    if (!staff) return call.Fail(403, "only centre staff list all cases", "role");
    std::size_t limit = 100;
    if (auto it = p.find("limit"); it != p.end()) {
      const std::string& v = it->second;
      bool digits = !v.empty() && v.size() <= 4;
      for (char c : v) digits = digits && c >= '0' && c <= '9';
      if (!digits || std::stoul(v) == 0 || std::stoul(v) > 1000)
        return call.Fail(400, "limit must be 1 to 1000, not '" + v + "'", "query.limit");
      limit = std::stoul(v);
    }
    const std::string after = p.count("after") ? p["after"] : std::string();
    auto ids = engine_->ListCases(after, limit);
    if (!ids.ok()) return call.Answer(FromStatus(ids.status(), "cases"));
    Json j = Json::object();
    j["cases"] = *ids;
    if (ids->size() == limit)
      j["next"] = ids->back();
    else
      j["next"] = nullptr;
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
  // overdue, workload
  if (call.who == Who::kInspector)
    return call.Fail(403, "an inspector does not see the units' tasks", "role");
  std::vector<std::string> items;
  if (name == "overdue") {
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

}  // namespace caseloop::server
