// The command table and the text-fields mapping (caseloop/commands.h).
//
// Two tables: every field key once (its type, its meaning, and how it reads
// and writes a Command), then every command once (who, which of those keys,
// which events). Adding a command is one entry in the second; a new kind of
// field is one entry in the first plus its Command member.
#include "caseloop/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/utf8.h"
#include "domain/command_fields.h"

namespace caseloop {
namespace {

// A parsed value on its way into a Command.
struct Value {
  double number = 0;
  std::int64_t integer = 0;
  TimeLimit limit;
  Instant time{};
  bool flag = false;
  std::size_t choice = 0;
};

struct FieldDef {
  CommandField spec;  // `required` is per command: false here
  // Text-like fields (kId, kText, kDigits) are a string member, copied as given.
  std::string Command::*text = nullptr;
  // The others: store the parsed value, and tell whether a command carries it.
  void (*store)(Command&, const Value&) = nullptr;
  bool (*given)(const Command&) = nullptr;
};

constexpr auto kEverywhere = FieldScope::kEverywhere;

FieldDef Text(std::string_view key, FieldType type, std::string Command::*member, std::string_view doc,
              FieldScope scope = kEverywhere) {
  FieldDef d;
  d.spec.key = key;
  d.spec.type = type;
  d.spec.scope = scope;
  d.spec.doc = doc;
  d.text = member;
  return d;
}

FieldDef Typed(std::string_view key, FieldType type, std::string_view doc,
               void (*store)(Command&, const Value&), bool (*given)(const Command&),
               FieldScope scope = kEverywhere) {
  FieldDef d;
  d.spec.key = key;
  d.spec.type = type;
  d.spec.scope = scope;
  d.spec.doc = doc;
  d.store = store;
  d.given = given;
  return d;
}

FieldDef Choice(FieldDef d, std::vector<std::string_view> choices) {
  d.spec.choices = std::move(choices);
  return d;
}

FieldDef Range(FieldDef d, double min, double max, std::string_view partner) {
  d.spec.min = min;
  d.spec.max = max;
  d.spec.partner = partner;
  return d;
}

std::vector<FieldDef> MakeFieldDefs() {
  using T = FieldType;
  std::vector<FieldDef> f;
  // The common fields (CommonFields()).
  f.push_back(Text("by", T::kId, &Command::actor,
                   "the actor: a staff member, unit or inspector of the configuration"));
  f.push_back(Typed(
      "at", T::kTime, "when it happens (business time); default: the engine's clock, in a script its clock",
      [](Command& c, const Value& v) { c.at = v.time; }, [](const Command& c) { return c.at.has_value(); }));
  f.push_back(Text("command_id", T::kText, &Command::command_id,
                   "idempotency key: a command retried with the same id appends nothing and is answered "
                   "with the first result; default: a new one",
                   FieldScope::kHost));
  // The commands' own fields.
  f.push_back(Choice(Typed(
                         "kind", T::kChoice, "部件 component or 事件 event",
                         [](Command& c, const Value& v) { c.kind = static_cast<CaseKind>(v.choice); },
                         [](const Command& c) { return c.kind.has_value(); }),
                     {Name(CaseKind::kComponent), Name(CaseKind::kEvent)}));
  f.push_back(Text("category", T::kDigits, &Command::category,
                   "the category code, 4 digits: class and subclass (register: a new category)"));
  f.push_back(
      Choice(Typed(
                 "source", T::kChoice, "how the report came in",
                 [](Command& c, const Value& v) { c.source = static_cast<ReportSource>(v.choice); },
                 [](const Command& c) { return c.source.has_value(); }),
             {Name(ReportSource::kInspector), Name(ReportSource::kVideo), Name(ReportSource::kHotline),
              Name(ReportSource::kGrid), Name(ReportSource::kCitizen)}));
  f.push_back(Text("grid", T::kDigits, &Command::grid, "the 单元网格 grid, 15 digits"));
  f.push_back(Text("component", T::kDigits, &Command::component, "the 部件标识码 component id, 16 digits"));
  f.push_back(Range(
      Typed(
          "lat", T::kNumber, "latitude in degrees", [](Command& c, const Value& v) { c.lat = v.number; },
          [](const Command& c) { return c.lat.has_value(); }),
      -90, 90, "lon"));
  f.push_back(Range(
      Typed(
          "lon", T::kNumber, "longitude in degrees", [](Command& c, const Value& v) { c.lon = v.number; },
          [](const Command& c) { return c.lon.has_value(); }),
      -180, 180, "lat"));
  f.push_back(Text("address", T::kText, &Command::address, "where"));
  f.push_back(Text("desc", T::kText, &Command::description, "what was found"));
  f.push_back(Typed(
      "emergency", T::kFlag, "an emergency: the category's emergency limit applies",
      [](Command& c, const Value& v) { c.emergency = v.flag; },
      [](const Command& c) { return c.emergency; }));
  f.push_back(Text("into", T::kId, &Command::into, "the case this one duplicates"));
  f.push_back(Text("unit", T::kId, &Command::unit, "the unit, instead of the one routing gives"));
  f.push_back(Typed(
      "limit", T::kDuration, "dispatch: the task's limit instead of the category's; extend: the extra time",
      [](Command& c, const Value& v) { c.limit = v.limit; },
      [](const Command& c) { return c.limit.has_value(); }));
  f.push_back(Typed(
      "deadline", T::kTime, "the task's due time as another system recorded it",
      [](Command& c, const Value& v) { c.deadline = v.time; },
      [](const Command& c) { return c.deadline.has_value(); }, FieldScope::kHistory));
  f.push_back(Typed(
      "no_deadline", T::kFlag,
      "the task has no due time: it is never overdue and counts as on time when handled",
      [](Command& c, const Value& v) { c.no_deadline = v.flag; },
      [](const Command& c) { return c.no_deadline; }, FieldScope::kHistory));
  f.push_back(Text("reason", T::kText, &Command::reason, "why"));
  f.push_back(Text("note", T::kText, &Command::note, "a remark"));
  f.push_back(Choice(Typed(
                         "result", T::kChoice, "the verdict on site",
                         [](Command& c, const Value& v) { c.verify_pass = v.choice == 0; },
                         [](const Command& c) { return c.verify_pass.has_value(); }),
                     {"pass", "fail"}));
  f.push_back(Typed(
      "task", T::kInteger, "the task to mark (the case's current task)",
      [](Command& c, const Value& v) { c.task = static_cast<std::uint32_t>(v.integer); },
      [](const Command& c) { return c.task != 0; }));
  return f;
}

const std::vector<FieldDef>& FieldDefs() {
  static const std::vector<FieldDef> defs = MakeFieldDefs();
  return defs;
}

const FieldDef* FindDef(std::string_view key) {
  for (const FieldDef& d : FieldDefs()) {
    if (d.spec.key == key) return &d;
  }
  return nullptr;
}

CommandField Own(std::string_view key, bool required) {
  const FieldDef* d = FindDef(key);
  if (d == nullptr) throw std::logic_error(fmt::format("command table: no field '{}'", key));
  CommandField f = d->spec;
  f.required = required;
  return f;
}
CommandField Req(std::string_view key) { return Own(key, true); }
CommandField Opt(std::string_view key) { return Own(key, false); }

Issuers Staff(std::vector<Role> roles) {
  Issuers w;
  w.roles = std::move(roles);
  return w;
}
Issuers CaseUnit() {
  Issuers w;
  w.case_unit = true;
  return w;
}

std::vector<CommandSpec> MakeTable() {
  using E = EventType;
  using C = CommandType;
  std::vector<CommandSpec> t;
  auto add = [&t](C type, std::string_view summary, Issuers who, std::vector<CommandField> fields,
                  std::vector<EventType> events) {
    CommandSpec s;
    s.type = type;
    s.name = Name(type);
    s.summary = summary;
    s.issuers = std::move(who);
    s.fields = std::move(fields);
    s.events = std::move(events);
    t.push_back(std::move(s));
  };
  Issuers reporter = Staff({Role::kReceiver});
  reporter.inspector = true;
  reporter.by_source = true;
  add(C::kReport, "上报: a new case", reporter,
      {Req("kind"), Req("category"), Req("source"), Opt("grid"), Opt("component"), Opt("lat"), Opt("lon"),
       Opt("address"), Opt("desc"), Opt("emergency")},
      {E::kCaseReported});
  add(C::kRegister, "立案: registers a reported case, in its category or a new one",
      Staff({Role::kShiftLeader}), {Opt("category")}, {E::kCaseRegistered});
  add(C::kReject, "不予受理: refuses an invalid report", Staff({Role::kReceiver, Role::kShiftLeader}),
      {Req("reason")}, {E::kCaseRejected});
  add(C::kMerge, "merges a duplicate into the case it repeats", Staff({Role::kReceiver, Role::kShiftLeader}),
      {Req("into")}, {E::kCaseMerged});
  add(C::kDispatch,
      "派遣: gives the case to the routed unit, or the named one, with a deadline; to coordination when "
      "routing finds no single unit",
      Staff({Role::kDispatcher}), {Opt("unit"), Opt("limit"), Opt("deadline"), Opt("no_deadline")},
      {E::kCaseDispatched, E::kCaseSentToCoordination});
  add(C::kAccept, "签收: the unit signs for the case", CaseUnit(), {}, {E::kCaseAccepted});
  add(C::kReturn, "回退: the unit asks to give the case back", CaseUnit(), {Req("reason")},
      {E::kReturnRequested});
  add(C::kExtend, "延期: the unit asks for more time, before the deadline", CaseUnit(),
      {Req("limit"), Req("reason")}, {E::kExtensionRequested});
  add(C::kSuspend, "挂账: the unit asks to stop the clock", CaseUnit(), {Req("reason")},
      {E::kSuspensionRequested});
  add(C::kApprove, "grants the pending request (return, extension or suspension)", Staff({Role::kDispatcher}),
      {}, {E::kReturnApproved, E::kExtensionApproved, E::kSuspensionApproved});
  add(C::kDeny, "refuses the pending request; the case goes on as it was", Staff({Role::kDispatcher}),
      {Req("reason")}, {E::kRequestDenied});
  add(C::kResume, "ends a suspension: the clock runs again", Staff({Role::kDispatcher}), {},
      {E::kCaseResumed});
  add(C::kFeedback, "处理反馈: the unit reports the case handled", CaseUnit(), {Opt("note")},
      {E::kFeedbackSubmitted});
  Issuers verifier;
  verifier.inspector = true;
  add(C::kVerify, "核查: the inspector's verdict on site; a failed one sends the case back to the unit",
      verifier, {Req("result"), Opt("note")}, {E::kVerificationPassed, E::kVerificationFailed});
  add(C::kVoid, "作废: voids an open case", Staff({Role::kShiftLeader}), {Req("reason")}, {E::kCaseVoided});
  Issuers supervisor = Staff({Role::kSupervisor});
  supervisor.timer = true;  // automatic supervision (policy auto_supervise)
  add(C::kSupervise, "督办: records supervision of the unit on an open task", supervisor, {Opt("note")},
      {E::kCaseSupervised});
  Issuers timer;
  timer.timer = true;
  add(C::kMarkOverdue, "marks a task overdue", timer, {Opt("task")}, {E::kTaskOverdue});
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (static_cast<std::size_t>(t[i].type) != i) throw std::logic_error("command table out of order");
  }
  if (t.size() != kCommandTypeCount) throw std::logic_error("command table: a command is missing");
  return t;
}

std::vector<CommandField> MakeCommon() { return {Req("by"), Opt("at"), Opt("command_id")}; }

const CommandField* FindCommon(std::string_view key) {
  for (const CommandField& f : CommonFields()) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::string KeyText(std::string_view key, std::string_view value) {
  return std::string(key) + "=" + Printable(value);
}

// "a, b or c".
std::string Alternatives(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

Status Bad(std::string_view key, std::string_view value, std::string_view why) {
  return Status::InvalidArgument(fmt::format("bad {}: {}", KeyText(key, value), why));
}

// Parses the text of a non-text field into `v`.
Status Parse(const CommandField& f, const std::string& text, int offset, Value& v) {
  switch (f.type) {
    case FieldType::kChoice: {
      auto it = std::find(f.choices.begin(), f.choices.end(), text);
      if (it == f.choices.end()) return Bad(f.key, text, "expected " + Alternatives(f.choices));
      v.choice = static_cast<std::size_t>(it - f.choices.begin());
      return Status::Ok();
    }
    case FieldType::kNumber: {
      const char* begin = text.c_str();
      char* end = nullptr;
      errno = 0;
      double d = std::strtod(begin, &end);
      if (text.empty() || end != begin + text.size() || errno == ERANGE || !std::isfinite(d)) {
        return Status::InvalidArgument("bad number " + KeyText(f.key, text));
      }
      if (d < f.min || d > f.max) return Bad(f.key, text, fmt::format("must be {} to {}", f.min, f.max));
      v.number = d;
      return Status::Ok();
    }
    case FieldType::kInteger: {
      const char* begin = text.c_str();
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(begin, &end, 10);
      if (text.empty() || end != begin + text.size() || errno == ERANGE) {
        return Status::InvalidArgument("bad integer " + KeyText(f.key, text));
      }
      constexpr long long kMax = std::numeric_limits<std::uint32_t>::max();
      if (i < 0 || i > kMax) return Bad(f.key, text, fmt::format("must be 0 to {}", kMax));
      v.integer = i;
      return Status::Ok();
    }
    case FieldType::kDuration: {
      auto d = ParseTimeLimit(text);
      if (!d.ok())
        return Status::InvalidArgument(fmt::format("{}: {}", f.key, Printable(d.status().message(), 300)));
      v.limit = *d;
      return Status::Ok();
    }
    case FieldType::kTime: {
      auto t = ParseInstant(text, offset);
      if (!t.ok())
        return Status::InvalidArgument(fmt::format("{}: {}", f.key, Printable(t.status().message(), 300)));
      v.time = *t;
      return Status::Ok();
    }
    case FieldType::kFlag:
      if (text == "true" || text == "false") {
        v.flag = text == "true";
        return Status::Ok();
      }
      return Status::InvalidArgument(
          fmt::format("bad value {}: expected true or false", KeyText(f.key, text)));
    case FieldType::kId:
    case FieldType::kText:
    case FieldType::kDigits:
      break;
  }
  return Status::InvalidArgument(fmt::format("field '{}' is not parsed", f.key));
}

// Markdown helpers.
std::string RolesText(const std::vector<Role>& roles) {
  std::string out;
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (i > 0) out += " or ";
    out += "`" + std::string(Name(roles[i])) + "`";
  }
  return out;
}

std::string IssuersText(const Issuers& w) {
  if (w.by_source) {
    return "an inspector (`source=inspector`), else a " + RolesText(w.roles) + " (every other source)";
  }
  std::vector<std::string> parts;
  if (w.case_unit) parts.push_back("the unit the case is dispatched to");
  if (w.inspector) parts.push_back("an inspector: the assigned verifier once the case has one");
  if (!w.roles.empty()) parts.push_back("a " + RolesText(w.roles));
  if (w.timer) parts.push_back(fmt::format("the deadline timer (`{}`)", kTimerActor));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += "; or ";
    out += parts[i];
  }
  return out;
}

std::string TypeText(const CommandField& f) {
  switch (f.type) {
    case FieldType::kChoice: {
      std::string out;
      for (std::size_t i = 0; i < f.choices.size(); ++i) {
        if (i > 0) out += " \\| ";
        out += "`" + std::string(f.choices[i]) + "`";
      }
      return out;
    }
    case FieldType::kNumber:
      return fmt::format("number, {} to {}", f.min, f.max);
    default:
      return std::string(Name(f.type));
  }
}

std::string ScopeText(FieldScope s) {
  switch (s) {
    case FieldScope::kEverywhere:
      return "";
    case FieldScope::kHistory:
      return " (history import; not in scripts)";
    case FieldScope::kHost:
      return " (set by the host program; not in scripts)";
  }
  return "";
}

void FieldRows(std::string& out, const std::vector<CommandField>& fields) {
  out += "| field | type | required | meaning |\n|---|---|---|---|\n";
  for (const CommandField& f : fields) {
    std::string doc(f.doc);
    if (!f.partner.empty()) doc += fmt::format("; with `{}`", f.partner);
    out += fmt::format("| `{}` | {} | {} | {}{} |\n", f.key, TypeText(f), f.required ? "yes" : "no", doc,
                       ScopeText(f.scope));
  }
}

std::string EventsText(const std::vector<EventType>& events) {
  std::string out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) out += i + 1 == events.size() ? " or " : ", ";
    out += "`" + std::string(Name(events[i])) + "`";
  }
  return out;
}

}  // namespace

std::string_view Name(FieldType type) {
  switch (type) {
    case FieldType::kId:
      return "id";
    case FieldType::kText:
      return "text";
    case FieldType::kDigits:
      return "digits";
    case FieldType::kChoice:
      return "choice";
    case FieldType::kNumber:
      return "number";
    case FieldType::kInteger:
      return "integer";
    case FieldType::kDuration:
      return "duration";
    case FieldType::kTime:
      return "time";
    case FieldType::kFlag:
      return "flag";
  }
  return "unknown";
}

bool CommandSpec::engine_only() const {
  return issuers.timer && issuers.roles.empty() && !issuers.case_unit && !issuers.inspector &&
         !issuers.by_source;
}

const CommandField* CommandSpec::Field(std::string_view key) const {
  for (const CommandField& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

const std::vector<CommandField>& CommonFields() {
  static const std::vector<CommandField> common = MakeCommon();
  return common;
}

const std::vector<CommandSpec>& CommandTable() {
  static const std::vector<CommandSpec> table = MakeTable();
  return table;
}

const CommandSpec& SpecOf(CommandType type) { return CommandTable().at(static_cast<std::size_t>(type)); }

const CommandSpec* FindCommandSpec(std::string_view name) {
  for (const CommandSpec& s : CommandTable()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<Command> CommandFromFields(CommandType type, std::string case_id, const TextFields& fields,
                                  int utc_offset_minutes) {
  if (static_cast<int>(type) >= kCommandTypeCount) {
    return Status::InvalidArgument(fmt::format("unknown command type {}", static_cast<int>(type)));
  }
  const CommandSpec& spec = SpecOf(type);
  // The order in which fields are read: the command's own, then by, command_id, at.
  std::vector<const CommandField*> order;
  for (const CommandField& f : spec.fields) order.push_back(&f);
  for (std::string_view key : {"by", "command_id", "at"}) order.push_back(FindCommon(key));

  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string& key = fields[i].first;
    if (spec.Field(key) == nullptr && FindCommon(key) == nullptr) {
      std::string allowed;
      for (const CommandField& f : spec.fields)
        allowed += std::string(allowed.empty() ? "" : ", ") + std::string(f.key);
      for (const CommandField& f : CommonFields())
        allowed += std::string(allowed.empty() ? "" : ", ") + std::string(f.key);
      return Status::InvalidArgument(
          fmt::format("unknown key {} for '{}' (allowed: {})", QuotedText(key), spec.name, allowed));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (fields[j].first == key) {
        return Status::InvalidArgument(fmt::format("key {} given twice", QuotedText(key)));
      }
    }
  }
  auto find = [&fields](std::string_view key) -> const std::string* {
    for (const auto& [k, v] : fields) {
      if (k == key) return &v;
    }
    return nullptr;
  };

  Command c;
  c.type = type;
  c.case_id = std::move(case_id);
  for (const CommandField* f : order) {
    const std::string* text = find(f->key);
    if (text == nullptr) continue;
    if (!f->partner.empty() && find(f->partner) == nullptr) {
      // Named in the table's order: "lat= and lon= go together".
      const CommandField* partner = spec.Field(f->partner);
      bool first = partner == nullptr || f < partner;
      return Status::InvalidArgument(fmt::format("{}= and {}= go together: give both or neither",
                                                 first ? f->key : f->partner, first ? f->partner : f->key));
    }
    const FieldDef* def = FindDef(f->key);
    if (def->text != nullptr) {
      c.*(def->text) = *text;
      continue;
    }
    Value v;
    CASELOOP_RETURN_IF_ERROR(Parse(*f, *text, utc_offset_minutes, v));
    def->store(c, v);
  }
  return c;
}

std::string CommandTableMarkdown() {
  std::string out;
  out += "| command | does | who may issue it | produces |\n|---|---|---|---|\n";
  for (const CommandSpec& s : CommandTable()) {
    out += fmt::format("| [`{}`](#{}) | {} | {} | {} |\n", s.name, s.name, s.summary, IssuersText(s.issuers),
                       EventsText(s.events));
  }
  out += "\n### The fields every command takes\n\n";
  FieldRows(out, CommonFields());
  for (const CommandSpec& s : CommandTable()) {
    out += fmt::format("\n### {}\n\n{}.", s.name, s.summary);
    if (s.engine_only()) out += " Issued by the engine only.";
    out += fmt::format("\n\n- who: {}\n- produces: {}\n", IssuersText(s.issuers), EventsText(s.events));
    if (s.fields.empty()) {
      out += "- fields: none of its own\n";
    } else {
      out += "\n";
      FieldRows(out, s.fields);
    }
  }
  return out;
}

namespace command_fields {

bool Given(const Command& command, std::string_view key) {
  const FieldDef* d = FindDef(key);
  if (d == nullptr) return false;
  if (d->text != nullptr) return !(command.*(d->text)).empty();
  return d->given(command);
}

const std::string* Text(const Command& command, std::string_view key) {
  const FieldDef* d = FindDef(key);
  if (d == nullptr || d->text == nullptr) return nullptr;
  return &(command.*(d->text));
}

}  // namespace command_fields

}  // namespace caseloop
