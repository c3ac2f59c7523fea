// Open311 GeoReport v2 (docs/open311.md). Every answer is built once as an
// ordered JSON value and written either as JSON or, by XmlOf below, as the
// specification's XML (element per key, one child element per array item).
// The XML is written here rather than with a library: the documents are
// flat, with no namespaces or attributes, and the escaping is five entities
// plus replacing the characters XML 1.0 cannot carry (libxml2 would add a C
// dependency to the server for that).
#include "server/open311.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/queries.h"
#include "caseloop/time.h"
#include "core/utf8.h"

namespace caseloop::server {
namespace {

using OJson = nlohmann::ordered_json;

constexpr std::size_t kMaxDescription = 4000;  // characters (the specification's limit)
constexpr std::size_t kMaxField = 1000;        // bytes of any other text parameter
constexpr std::size_t kMaxAttributes = 100;
constexpr std::size_t kMaxRequests = 1000;  // GET requests: the specification's default volume
constexpr std::chrono::hours kDefaultSpan{24 * 90};

enum class Format { kJson, kXml };

// The element name of an array's items in XML (services -> service, ...).
std::string ItemName(const std::string& array) {
  static const std::map<std::string, std::string> kItems = {
      {"services", "service"},   {"service_requests", "request"}, {"errors", "error"},
      {"endpoints", "endpoint"}, {"formats", "format"},           {"attributes", "attribute"},
      {"values", "value"},
  };
  auto it = kItems.find(array);
  return it == kItems.end() ? "item" : it->second;
}

// Text as XML 1.0 character data: the five entities, CR as a reference (so
// that it survives line-end normalisation), and U+FFFD for the C0 controls
// XML cannot carry. The text is valid UTF-8 (checked where it came in).
void XmlText(std::string_view s, std::string& out) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        if (c < 0x20 && ch != '\t' && ch != '\n')
          out += "\xEF\xBF\xBD";
        else
          out.push_back(ch);
    }
  }
}

void XmlOf(const OJson& j, const std::string& name, std::string& out) {
  if (j.is_null()) {
    out += "<" + name + "/>";
    return;
  }
  out += "<" + name + ">";
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) XmlOf(it.value(), it.key(), out);
  } else if (j.is_array()) {
    const std::string item = ItemName(name);
    for (const auto& v : j) XmlOf(v, item, out);
  } else if (j.is_string()) {
    XmlText(j.get_ref<const std::string&>(), out);
  } else {
    out += j.dump();  // numbers and booleans as JSON writes them
  }
  out += "</" + name + ">";
}

HttpResponse Answer(int status, Format format, const std::string& root, const OJson& body) {
  HttpResponse r;
  r.status = status;
  r.route = "/open311/v2";
  if (format == Format::kJson) {
    r.content_type = "application/json; charset=utf-8";
    r.body = body.dump(-1, ' ', false, OJson::error_handler_t::replace);
  } else {
    r.content_type = "text/xml; charset=utf-8";
    r.body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    XmlOf(body, root, r.body);
  }
  return r;
}

// The specification's error list: [{"code","description"}], <errors><error>.
// The code is the HTTP status: 400 bad input, 403 api_key, 404 unknown.
HttpResponse ErrorAnswer(int status, Format format, std::string_view description) {
  OJson e = OJson::object();
  e["code"] = status;
  e["description"] = std::string(description);
  return Answer(status, format, "errors", OJson::array({e}));
}

// Characters (code points) of valid UTF-8 text.
std::size_t Characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// service_code: the category's kind letter and code ("C0101", "E0102"):
// the two catalogues of domain.md §3 share codes.
std::string ServiceCode(CaseKind kind, const std::string& code) {
  return (kind == CaseKind::kComponent ? "C" : "E") + code;
}
std::optional<std::pair<CaseKind, std::string>> ParseServiceCode(const std::string& s) {
  if (s.size() != 5 || (s[0] != 'C' && s[0] != 'E')) return std::nullopt;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  return std::make_pair(s[0] == 'C' ? CaseKind::kComponent : CaseKind::kEvent, s.substr(1));
}

std::string LimitText(const TimeLimit& t) {
  const std::int64_t a = t.amount;
  switch (t.unit) {
    case TimeLimit::Unit::kWorkingDays:
      return std::to_string(a) + (a == 1 ? " working day" : " working days");
    case TimeLimit::Unit::kWorking:
      if (a % 60 == 0) return std::to_string(a / 60) + (a == 60 ? " working hour" : " working hours");
      return std::to_string(a) + " working minutes";
    case TimeLimit::Unit::kNatural:
      if (a % (24 * 60) == 0) return std::to_string(a / (24 * 60)) + (a == 24 * 60 ? " day" : " days");
      if (a % 60 == 0) return std::to_string(a / 60) + (a == 60 ? " hour" : " hours");
      return std::to_string(a) + " minutes";
  }
  return FormatTimeLimit(t);
}

std::string Notice(const CategoryInfo& c) { return "To be handled within " + LimitText(c.limit) + "."; }

OJson ServiceJson(const CategoryInfo& c) {
  OJson s = OJson::object();
  const std::string kind(Name(c.kind));
  s["service_code"] = ServiceCode(c.kind, c.code);
  s["service_name"] = c.name;
  s["description"] = kind + " " + c.code + " " + c.name + ". " + Notice(c);
  s["metadata"] = false;
  s["type"] = "realtime";
  s["keywords"] = kind + ", " + c.code;
  s["group"] = kind + " class " + c.code.substr(0, 2);
  return s;
}

}  // namespace

struct Open311::Call {
  const HttpRequest& req;
  std::function<void(HttpResponse)> done;
  Format format = Format::kXml;
  // Parameters: the query string's, then (POST) the form body's.
  std::vector<std::pair<std::string, std::string>> params;
  Config config;

  void Reply(HttpResponse r) { done(std::move(r)); }
  void Fail(int status, std::string_view description) { Reply(ErrorAnswer(status, format, description)); }
  void Ok(int status, const std::string& root, const OJson& body) {
    Reply(Answer(status, format, root, body));
  }
  // The value of a parameter given once; nullptr when absent. Twice: *twice.
  const std::string* Param(const std::string& name, bool* twice) const {
    const std::string* found = nullptr;
    for (const auto& [k, v] : params) {
      if (k != name) continue;
      if (found != nullptr) *twice = true;
      found = &v;
    }
    return found;
  }
};

Open311::Open311(Engine* engine, const ServerOptions& options, KeyTable* keys, Metrics* metrics,
                 std::atomic<std::uint64_t>* next_case_number, const std::atomic<bool>* draining)
    : engine_(engine),
      options_(options),
      keys_(keys),
      metrics_(metrics),
      next_case_number_(next_case_number),
      draining_(draining) {}

// Parses `text` (a query string or a form body) into call.params. False:
// answered 400.
static bool ParseForm(std::string_view text, std::vector<std::pair<std::string, std::string>>* out,
                      std::string* bad) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    std::string_view item = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto key = PercentDecode(item.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1), true);
    if (!key || !value) {
      *bad = std::string(item.substr(0, std::min<std::size_t>(item.size(), 60)));
      return false;
    }
    out->emplace_back(std::move(*key), std::move(*value));
  }
  return true;
}

void Open311::Handle(const HttpRequest& req, std::function<void(HttpResponse)> done) {
  Call call{req, std::move(done), Format::kXml, {}, {}};
  const auto q = req.target.find('?');
  const std::string path = req.target.substr(0, q);
  std::string rest = path.rfind(kPrefix, 0) == 0 ? path.substr(sizeof(kPrefix) - 1) : std::string();
  // The format is the extension: .json or .xml (the specification's default
  // format, also used for errors about the path itself).
  const auto dot = rest.rfind('.');
  std::string ext = dot == std::string::npos ? std::string() : rest.substr(dot + 1);
  if (ext == "json")
    call.format = Format::kJson;
  else if (ext != "xml")
    return call.Fail(404,
                     "no Open311 route " + path +
                         " (GeoReport v2 under /open311/v2/: discovery, services, requests, tokens, each "
                         "ending in .json or .xml)");
  rest = rest.substr(0, dot);
  std::string bad;
  if (q != std::string::npos && !ParseForm(std::string_view(req.target).substr(q + 1), &call.params, &bad))
    return call.Fail(400, "bad percent-encoding or UTF-8 in the query string near '" + bad + "'");
  if (req.method == "POST") {
    const std::string* type = req.Header("content-type");
    if (type == nullptr || type->rfind("application/x-www-form-urlencoded", 0) != 0)
      return call.Fail(400, "POST requests takes an application/x-www-form-urlencoded body");
    if (!ParseForm(req.body, &call.params, &bad))
      return call.Fail(400, "bad percent-encoding or UTF-8 in the form body near '" + bad + "'");
  }
  call.config = engine_->CurrentConfig();
  // One jurisdiction: jurisdiction_id may be left out; when given and a
  // jurisdiction is configured it must be that one.
  bool twice = false;
  if (const std::string* j = call.Param("jurisdiction_id", &twice)) {
    if (!options_.open311_jurisdiction.empty() && *j != options_.open311_jurisdiction)
      return call.Fail(404, "jurisdiction_id '" + *j + "' not found (this endpoint serves '" +
                                options_.open311_jurisdiction + "')");
  }
  const auto slash = rest.find('/');
  const std::string head = rest.substr(0, slash);
  const std::string id = slash == std::string::npos ? std::string() : rest.substr(slash + 1);
  const bool one = slash == std::string::npos;
  const bool sub = !one && !id.empty() && id.find('/') == std::string::npos;
  auto method = [&](const char* want) {
    if (req.method == want) return true;
    call.Fail(405, "use " + std::string(want) + " on " + path);
    return false;
  };
  if (head == "discovery" && one) {
    if (method("GET")) Discovery(call);
  } else if (head == "services" && one) {
    if (method("GET")) Services(call);
  } else if (head == "services" && sub) {
    if (method("GET")) ServiceDefinition(call, id);
  } else if (head == "requests" && one) {
    if (req.method == "POST")
      PostRequest(call);
    else if (method("GET"))
      GetRequests(call);
  } else if (head == "requests" && sub) {
    if (method("GET")) GetRequest(call, id);
  } else if (head == "tokens" && sub) {
    if (method("GET")) Token(call, id);
  } else {
    call.Fail(404, "no Open311 route " + path +
                       " (discovery, services, services/{code}, requests, "
                       "requests/{id}, tokens/{token})");
  }
}

void Open311::Discovery(Call& call) {
  OJson endpoint = OJson::object();
  endpoint["specification"] = "http://wiki.open311.org/GeoReport_v2";
  const std::string* host = call.req.Header("host");
  endpoint["url"] = (host != nullptr ? "http://" + *host : std::string()) + "/open311/v2";
  endpoint["changeset"] = "2026-12-05T00:00:00Z";
  endpoint["type"] = "production";
  endpoint["formats"] = OJson::array({"text/xml", "application/json"});
  OJson d = OJson::object();
  d["changeset"] = "2026-12-05T00:00:00Z";
  d["contact"] = options_.open311_contact;
  d["key_service"] =
      "API keys for reporting channels are issued by the district's administrator "
      "(caseloop keys issue).";
  d["endpoints"] = OJson::array({endpoint});
  call.Ok(200, "discovery", d);
}

void Open311::Services(Call& call) {
  OJson list = OJson::array();
  for (const auto& [key, c] : call.config.categories) list.push_back(ServiceJson(c));
  call.Ok(200, "services", list);
}

void Open311::ServiceDefinition(Call& call, const std::string& code) {
  auto parsed = ParseServiceCode(code);
  if (!parsed || call.config.FindCategory(parsed->first, parsed->second) == nullptr)
    return call.Fail(404, "service_code '" + code + "' not found (see services)");
  OJson d = OJson::object();
  d["service_code"] = code;
  d["attributes"] = OJson::array();  // metadata is false for every service
  call.Ok(200, "service_definition", d);
}

void Open311::PostRequest(Call& call) {
  bool twice = false;
  auto param = [&](const char* name) -> const std::string* {
    const std::string* v = call.Param(name, &twice);
    return v;
  };
  // Who: a reporting channel's key (a staff member with the receiver role).
  const std::string* key = param("api_key");
  if (key == nullptr || key->empty()) return call.Fail(403, "api_key was not provided");
  auto actor = keys_->Authenticate(*key);
  if (!actor.ok()) return call.Fail(403, "invalid api_key: " + actor.status().message());
  if (!call.config.HasRole(*actor, Role::kReceiver))
    return call.Fail(403, "the api_key's actor " + *actor +
                              " is not a reporting channel (a staff member with the receiver role)");
  if (draining_->load()) return call.Fail(503, "the server is shutting down: request not accepted");

  Command c;
  c.type = CommandType::kReport;
  c.actor = *actor;
  c.source = ReportSource::kCitizen;
  const std::string* code = param("service_code");
  if (code == nullptr || code->empty()) return call.Fail(400, "service_code was not provided");
  auto parsed = ParseServiceCode(*code);
  const CategoryInfo* category = parsed ? call.config.FindCategory(parsed->first, parsed->second)
                                        : static_cast<const CategoryInfo*>(nullptr);
  if (category == nullptr) return call.Fail(404, "service_code '" + *code + "' not found (see services)");
  c.kind = parsed->first;
  c.category = parsed->second;

  // Where: lat and long together, or address_string, or address_id.
  const std::string* lat = param("lat");
  const std::string* lon = param("long");
  if ((lat != nullptr) != (lon != nullptr))
    return call.Fail(400, "bad coordinates: lat and long must be sent together");
  if (lat != nullptr) {
    auto number = [](const std::string& s, double lo, double hi) -> std::optional<double> {
      double v = 0;
      const char* end = s.data() + s.size();
      auto [p, ec] = std::from_chars(s.data(), end, v);
      if (s.empty() || ec != std::errc() || p != end || !std::isfinite(v) || v < lo || v > hi)
        return std::nullopt;
      return v;
    };
    auto la = number(*lat, -90, 90);
    if (!la) return call.Fail(400, "bad coordinates: lat '" + *lat + "' is not a WGS84 latitude (-90 to 90)");
    auto lo = number(*lon, -180, 180);
    if (!lo)
      return call.Fail(400, "bad coordinates: long '" + *lon + "' is not a WGS84 longitude (-180 to 180)");
    c.lat = *la;
    c.lon = *lo;
  }
  if (const std::string* a = param("address_string")) c.address = *a;
  if (const std::string* a = param("address_id")) c.address_id = *a;
  if (!c.lat && c.address.empty() && c.address_id.empty())
    return call.Fail(400, "no location: send lat and long, address_string or address_id");

  if (const std::string* d = param("description")) {
    if (Characters(*d) > kMaxDescription)
      return call.Fail(400, "description is " + std::to_string(Characters(*d)) +
                                " characters long; at most 4000 are allowed");
    c.description = *d;
  }
  if (const std::string* m = param("media_url")) {
    const bool web = m->rfind("http://", 0) == 0 || m->rfind("https://", 0) == 0;
    if (!m->empty() && (!web || m->find_first_of(" \t\r\n\"<>") != std::string::npos))
      return call.Fail(400, "media_url must be an http:// or https:// URL, not '" + m->substr(0, 80) + "'");
    c.media_url = *m;
  }
  struct Text {
    const char* name;
    std::string* to;
  };
  for (const Text& t : {Text{"email", &c.contact.email}, Text{"device_id", &c.contact.device_id},
                        Text{"account_id", &c.contact.account_id}, Text{"first_name", &c.contact.first_name},
                        Text{"last_name", &c.contact.last_name}, Text{"phone", &c.contact.phone}}) {
    if (const std::string* v = param(t.name)) *t.to = *v;
  }
  // attribute[CODE]=V and, for a multi-valued list, attribute[CODE][]=V.
  for (const auto& [k, v] : call.params) {
    if (k.rfind("attribute[", 0) != 0) continue;
    std::string name = k.substr(10);
    if (name.size() >= 3 && name.compare(name.size() - 3, 3, "][]") == 0)
      name.resize(name.size() - 3);
    else if (!name.empty() && name.back() == ']')
      name.pop_back();
    else
      return call.Fail(400, "bad attribute parameter '" + k + "' (attribute[CODE]=VALUE)");
    if (name.empty() || name.find_first_of("[]") != std::string::npos)
      return call.Fail(400, "bad attribute parameter '" + k + "' (attribute[CODE]=VALUE)");
    c.attributes.emplace_back(name, v);
  }
  if (c.attributes.size() > kMaxAttributes)
    return call.Fail(400, "more than " + std::to_string(kMaxAttributes) + " attribute values");
  for (const auto& [k, v] : call.params) {
    if (k != "description" && (k.size() > kMaxField || v.size() > kMaxField))
      return call.Fail(
          400, "parameter '" + k.substr(0, 60) + "' is longer than " + std::to_string(kMaxField) + " bytes");
  }
  if (twice) {
    for (const char* n : {"api_key", "service_code", "lat", "long", "address_string", "address_id",
                          "description", "media_url", "email", "device_id", "account_id", "first_name",
                          "last_name", "phone", "jurisdiction_id"}) {
      bool again = false;
      call.Param(n, &again);
      if (again) return call.Fail(400, std::string("parameter '") + n + "' given twice");
    }
  }

  // The case number: from the Idempotency-Key when the client sends one (a
  // retry finds its first case), else the staff API's sequence.
  const std::string* idem = call.req.Header("idempotency-key");
  if (idem != nullptr) {
    if (idem->empty() || idem->size() > 200)
      return call.Fail(400, "Idempotency-Key must be 1 to 200 characters");
    for (unsigned char ch : *idem) {
      if (ch <= 0x20 || ch >= 0x7f)
        return call.Fail(400, "Idempotency-Key must be printable ASCII without spaces");
    }
    c.case_id = "R" + HashKey(c.actor + '\n' + *idem).substr(0, 16);
    c.command_id = "http:" + c.actor + ":" + *idem;
  } else {
    c.case_id = "R" + std::to_string(next_case_number_->fetch_add(1));
  }
  if (options_.replay_time) c.at = engine_->Now();

  const auto started = std::chrono::steady_clock::now();
  Metrics* metrics = metrics_;
  Engine* engine = engine_;
  const Format format = call.format;
  const std::string notice = Notice(*category);
  const std::string account = c.contact.account_id;
  const std::string who = c.actor;
  engine_->SubmitAsync(c, [=, done = std::move(call.done)](Result<CommandAck> ack) {
    if (!ack.ok()) {
      metrics->CountCommandFailure();
      const Status& st = ack.status();
      // Bad input is 400, as the specification has it; a storage failure
      // or shutdown is 503.
      const int status = st.IsUnavailable() || st.IsIOError() || st.IsCorruption() ? 503 : 400;
      HttpResponse answer = ErrorAnswer(status, format, st.message());
      answer.actor = who;
      return done(std::move(answer));
    }
    std::string id = ack->case_id;
    if (ack->duplicate && ack->first_position > 0) {
      auto first = engine->ReadLog(ack->first_position, 1);
      if (first.ok() && !first->empty()) id = first->front().record.stream;
    }
    metrics->ObserveCommand(std::chrono::steady_clock::now() - started);
    OJson r = OJson::object();
    r["service_request_id"] = id;
    r["service_notice"] = notice;
    r["account_id"] = account.empty() ? OJson(nullptr) : OJson(account);
    HttpResponse answer = Answer(200, format, "service_requests", OJson::array({r}));
    answer.actor = who;
    done(std::move(answer));
  });
}

namespace {

// A case as an Open311 request (never the reporter's contact). nullopt:
// no such case. Errors: the engine's.
Result<std::optional<OJson>> RequestJson(Engine* engine, const Config& config, const std::string& id) {
  auto state = engine->State(id);
  if (!state.ok()) {
    if (state.status().IsNotFound()) return std::optional<OJson>();
    return state.status();
  }
  if (state->version == 0) return std::optional<OJson>();
  auto history = engine->History(id);
  if (!history.ok()) {
    if (history.status().IsNotFound()) return std::optional<OJson>();
    return history.status();
  }
  const CaseState& s = *state;
  const int offset = config.calendar.utc_offset_minutes;
  const CaseEvent* report = nullptr;
  std::string reason;  // of the rejection or voiding
  for (const LoggedEvent& e : *history) {
    if (!e.event) continue;
    if (e.event->type == EventType::kCaseReported && report == nullptr) report = &*e.event;
    if (e.event->type == EventType::kCaseRejected || e.event->type == EventType::kCaseVoided)
      reason = e.event->reason;
  }
  const bool open = IsOpen(s.state);
  const CategoryInfo* category = config.FindCategory(s.kind, s.category);
  std::string notes;
  switch (s.state) {
    case LifecycleState::kClosed:
      notes = "closed: handled and verified";
      break;
    case LifecycleState::kRejected:
      notes = "rejected" + (reason.empty() ? std::string() : ": " + reason);
      break;
    case LifecycleState::kVoided:
      notes = "voided" + (reason.empty() ? std::string() : ": " + reason);
      break;
    case LifecycleState::kMerged: {
      // The surviving request: follow merges (a merge target is never merged
      // at the time, but may be later).
      std::string into = s.merged_into;
      for (int hops = 0; hops < 16 && !into.empty(); ++hops) {
        auto next = engine->State(into);
        if (!next.ok() || next->state != LifecycleState::kMerged || next->merged_into.empty()) break;
        into = next->merged_into;
      }
      notes = "merged into request " + into + " (a duplicate)";
      break;
    }
    default:
      notes = std::string(Name(s.state));
      if (!s.unit.empty() && (s.state == LifecycleState::kDispatched || s.state == LifecycleState::kHandling))
        notes += " to " + s.unit;
  }
  std::string agency;
  if (!s.unit.empty()) {
    auto u = config.units.find(s.unit);
    agency = u != config.units.end() && !u->second.name.empty() ? u->second.name : s.unit;
  }
  auto text = [](const std::string& t) { return t.empty() ? OJson(nullptr) : OJson(t); };
  OJson r = OJson::object();
  r["service_request_id"] = id;
  r["status"] = open ? "open" : "closed";
  r["status_notes"] = notes;
  r["service_name"] = category != nullptr ? OJson(category->name) : OJson(nullptr);
  r["service_code"] = ServiceCode(s.kind, s.category);
  r["description"] = text(report ? report->description : std::string());
  r["agency_responsible"] = text(agency);
  r["service_notice"] = category != nullptr ? OJson(Notice(*category)) : OJson(nullptr);
  r["requested_datetime"] = FormatInstant(s.reported_at, offset);
  r["updated_datetime"] = FormatInstant(s.last_event_time, offset);
  r["expected_datetime"] = open && s.deadline ? OJson(FormatInstant(*s.deadline, offset)) : OJson(nullptr);
  r["address"] = text(report ? report->address : std::string());
  r["address_id"] = text(report ? report->address_id : std::string());
  r["lat"] = report && report->lat ? OJson(*report->lat) : OJson(nullptr);
  r["long"] = report && report->lon ? OJson(*report->lon) : OJson(nullptr);
  r["media_url"] = text(report ? report->media_url : std::string());
  return std::optional<OJson>(std::move(r));
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

void Open311::GetRequests(Call& call) {
  bool twice = false;
  for (const char* n : {"service_request_id", "service_code", "start_date", "end_date", "status"}) {
    bool again = false;
    call.Param(n, &again);
    if (again) return call.Fail(400, std::string("parameter '") + n + "' given twice (use commas)");
  }
  auto emit = [&](std::vector<OJson> rows) {
    OJson list = OJson::array();
    for (auto& r : rows) list.push_back(std::move(r));
    call.Ok(200, "service_requests", list);
  };
  // service_request_id overrides every other parameter; unknown ids are left out.
  if (const std::string* ids = call.Param("service_request_id", &twice)) {
    std::vector<std::string> list = SplitCommas(*ids);
    if (list.size() > kMaxRequests)
      return call.Fail(400, "more than " + std::to_string(kMaxRequests) + " service_request_id values");
    std::vector<OJson> rows;
    for (const std::string& id : list) {
      auto r = RequestJson(engine_, call.config, id);
      if (!r.ok()) return call.Fail(503, r.status().message());
      if (*r) rows.push_back(std::move(**r));
    }
    return emit(std::move(rows));
  }
  const int offset = call.config.calendar.utc_offset_minutes;
  const Instant now = options_.replay_time ? engine_->LatestRecordedTime() : engine_->Now();
  auto date = [&](const char* name) -> Result<std::optional<Instant>> {
    bool again = false;
    const std::string* v = call.Param(name, &again);
    if (v == nullptr) return std::optional<Instant>();
    auto t = ParseInstant(*v, offset);
    if (!t.ok()) return Status::InvalidArgument(std::string(name) + ": " + t.status().message());
    return std::optional<Instant>(*t);
  };
  auto start = date("start_date");
  if (!start.ok()) return call.Fail(400, start.status().message());
  auto end = date("end_date");
  if (!end.ok()) return call.Fail(400, end.status().message());
  // The specification's defaults: the most recent 90 days; a range may not span more.
  Instant from, to;
  if (*start && *end) {
    from = **start;
    to = **end;
    if (to < from) return call.Fail(400, "end_date is before start_date");
    if (to - from > kDefaultSpan) return call.Fail(400, "start_date to end_date spans more than 90 days");
  } else if (*start) {
    from = **start;
    to = from + kDefaultSpan;
  } else if (*end) {
    to = **end;
    from = to - kDefaultSpan;
  } else {
    to = now;
    from = now - kDefaultSpan;
  }
  std::optional<bool> want_open;
  if (const std::string* st = call.Param("status", &twice)) {
    bool open = false, closed = false;
    for (const std::string& v : SplitCommas(*st)) {
      if (v == "open")
        open = true;
      else if (v == "closed")
        closed = true;
      else
        return call.Fail(400, "status '" + v + "' is not open or closed");
    }
    if (open != closed) want_open = open;
  }
  std::vector<std::pair<CaseKind, std::string>> codes;
  if (const std::string* sc = call.Param("service_code", &twice)) {
    for (const std::string& v : SplitCommas(*sc)) {
      auto parsed = ParseServiceCode(v);
      if (!parsed || call.config.FindCategory(parsed->first, parsed->second) == nullptr)
        return call.Fail(404, "service_code '" + v + "' not found (see services)");
      codes.push_back(*parsed);
    }
  }
  // From the case-list index (Engine::FindCases): the reporting period, the
  // category, and the status as a filter on the index rows; at most 1,000.
  std::vector<CaseSummary> found;
  auto collect = [&](std::optional<std::pair<CaseKind, std::string>> code) -> Status {
    CaseFilter f;
    f.reported_from = from;
    f.reported_to = to + std::chrono::microseconds(1);  // end_date included
    f.at = now;
    f.limit = kMaxRequests;
    if (code) {
      f.kind = code->first;
      f.category = code->second;
    }
    if (want_open) f.visible = [open = *want_open](const CaseSummary& c) { return IsOpen(c.state) == open; };
    do {
      auto page = engine_->FindCases(f);
      if (!page.ok()) return page.status();
      for (CaseSummary& c : page->cases) found.push_back(std::move(c));
      f.cursor = page->next;
    } while (!f.cursor.empty() && found.size() < kMaxRequests * (codes.empty() ? 1 : codes.size()));
    return Status::Ok();
  };
  if (codes.empty()) {
    Status s = collect(std::nullopt);
    if (!s.ok()) return call.Fail(s.IsInvalidArgument() ? 400 : 503, s.message());
  } else {
    for (const auto& code : codes) {
      Status s = collect(code);
      if (!s.ok()) return call.Fail(s.IsInvalidArgument() ? 400 : 503, s.message());
    }
  }
  // By request time, at most 1,000 (a service_code list merges several index reads; which
  // 1,000 of more follows the index order: docs/open311.md).
  std::stable_sort(found.begin(), found.end(),
                   [](const CaseSummary& a, const CaseSummary& b) { return a.reported_at < b.reported_at; });
  if (found.size() > kMaxRequests) found.resize(kMaxRequests);
  std::vector<OJson> rows;
  rows.reserve(found.size());
  for (const CaseSummary& c : found) {
    auto r = RequestJson(engine_, call.config, c.case_id);
    if (!r.ok()) return call.Fail(503, r.status().message());
    if (*r) rows.push_back(std::move(**r));
  }
  emit(std::move(rows));
}

void Open311::GetRequest(Call& call, const std::string& id) {
  auto r = RequestJson(engine_, call.config, id);
  if (!r.ok()) return call.Fail(503, r.status().message());
  if (!*r) return call.Fail(404, "service_request_id '" + id + "' not found");
  call.Ok(200, "service_requests", OJson::array({std::move(**r)}));
}

// Requests are realtime (the id is returned at once), so a token is the
// request's id: tokens/{id} answers it for a client that asks.
void Open311::Token(Call& call, const std::string& token) {
  auto state = engine_->State(token);
  if (!state.ok() && !state.status().IsNotFound()) return call.Fail(503, state.status().message());
  if (!state.ok() || state->version == 0) return call.Fail(404, "token '" + token + "' not found");
  OJson r = OJson::object();
  r["service_request_id"] = token;
  r["token"] = token;
  call.Ok(200, "service_requests", OJson::array({r}));
}

}  // namespace caseloop::server
