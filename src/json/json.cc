// The objects caseloop prints (caseloop/json.h): each written once, to an
// ObjectWriter; the JSON text is that writer's output (json_views.h).
#include "caseloop/json.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "caseloop/calendar.h"
#include "caseloop/case_types.h"
#include "json/json_views.h"

namespace caseloop {

namespace json {

void WriteObject(const Json& j, ObjectWriter& out) {
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const Json& v = item.value();
    switch (v.type()) {
      case Json::value_t::null:
        out.Null(key);
        break;
      case Json::value_t::boolean:
        out.Bool(key, v.get<bool>());
        break;
      case Json::value_t::number_integer:
        out.Int(key, v.get<std::int64_t>());
        break;
      case Json::value_t::number_unsigned:
        out.UInt(key, v.get<std::uint64_t>());
        break;
      case Json::value_t::number_float:
        out.Double(key, v.get<double>());
        break;
      case Json::value_t::string:
        out.String(key, v.get_ref<const std::string&>());
        break;
      default: {
        std::vector<std::string> strings;
        bool all_strings = v.is_array();
        if (all_strings) {
          for (const Json& x : v) {
            if (!x.is_string()) {
              all_strings = false;
              break;
            }
            strings.push_back(x.get<std::string>());
          }
        }
        if (all_strings) {
          out.Strings(key, strings);
        } else {
          out.String(key, Dump(v));
        }
        break;
      }
    }
  }
}

void JsonWriter::Time(std::string_view key, Instant value) {
  Put(key, FormatInstant(value, offset_minutes_));
}

}  // namespace json

namespace {

using json::Dump;
using json::Json;
using json::JsonWriter;

template <typename T>
std::string TextOf(const T& x, int offset_minutes) {
  JsonWriter w(offset_minutes);
  Write(x, w);
  return Dump(w.json());
}

void PutName(ObjectWriter& out, std::string_view key, std::string_view name) { out.String(key, name); }

void OptionalString(ObjectWriter& out, std::string_view key, const std::optional<std::string>& v) {
  if (v) {
    out.String(key, *v);
  } else {
    out.Null(key);
  }
}

void OptionalBool(ObjectWriter& out, std::string_view key, const std::optional<bool>& v) {
  if (v) {
    out.Bool(key, *v);
  } else {
    out.Null(key);
  }
}

void OptionalTime(ObjectWriter& out, std::string_view key, const std::optional<Instant>& v) {
  if (v) {
    out.Time(key, *v);
  } else {
    out.Null(key);
  }
}

// Fields of a case event type this file has no layout for (a type added
// later): every field the event carries, as its codec stores them.
void WriteCarried(const CaseEvent& e, ObjectWriter& out) {
  auto str = [&out](std::string_view key, const std::string& v) {
    if (!v.empty()) out.String(key, v);
  };
  str("unit", e.unit);
  if (e.task != 0) out.UInt("task", e.task);
  str("category", e.category);
  str("grid", e.grid);
  str("component", e.component);
  if (e.lat) out.Double("lat", *e.lat);
  if (e.lon) out.Double("lon", *e.lon);
  str("address", e.address);
  str("description", e.description);
  if (e.emergency) out.Bool("emergency", true);
  str("into", e.into);
  if (e.limit) out.String("limit", FormatTimeLimit(*e.limit));
  if (e.deadline) out.Time("deadline", *e.deadline);
  if (e.remaining_us != 0) out.Int("remaining_us", e.remaining_us);
  str("verifier", e.verifier);
  if (e.on_time) out.Bool("on_time", *e.on_time);
  if (e.request != PendingRequest::kNone) PutName(out, "request", Name(e.request));
  str("reason", e.reason);
  str("note", e.note);
}

// Collects fields and hands them on sorted by key: the fields of an event or
// a configuration change print in alphabetical order (as they always have).
class SortedFields final : public ObjectWriter {
 public:
  void Null(std::string_view key) override {
    Add(key, [](ObjectWriter& w, std::string_view k) { w.Null(k); });
  }
  void Bool(std::string_view key, bool v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.Bool(k, v); });
  }
  void Int(std::string_view key, std::int64_t v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.Int(k, v); });
  }
  void UInt(std::string_view key, std::uint64_t v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.UInt(k, v); });
  }
  void Double(std::string_view key, double v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.Double(k, v); });
  }
  void String(std::string_view key, std::string_view v) override {
    Add(key, [v = std::string(v)](ObjectWriter& w, std::string_view k) { w.String(k, v); });
  }
  void Time(std::string_view key, Instant v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.Time(k, v); });
  }
  void Strings(std::string_view key, const std::vector<std::string>& v) override {
    Add(key, [v](ObjectWriter& w, std::string_view k) { w.Strings(k, v); });
  }

  void WriteTo(ObjectWriter& out) {
    std::stable_sort(fields_.begin(), fields_.end(),
                     [](const Field& a, const Field& b) { return a.key < b.key; });
    for (const Field& f : fields_) f.write(out, f.key);
  }

 private:
  struct Field {
    std::string key;
    std::function<void(ObjectWriter&, std::string_view)> write;
  };
  void Add(std::string_view key, std::function<void(ObjectWriter&, std::string_view)> write) {
    fields_.push_back({std::string(key), std::move(write)});
  }
  std::vector<Field> fields_;
};

}  // namespace

// ---- show -------------------------------------------------------------------

void Write(const CaseView& v, ObjectWriter& out) {
  out.String("case", v.case_id);
  PutName(out, "state", Name(v.state));
  PutName(out, "kind", Name(v.kind));
  out.String("category", v.category);
  PutName(out, "source", Name(v.source));
  out.Bool("emergency", v.emergency);
  OptionalString(out, "unit", v.unit);
  OptionalTime(out, "deadline", v.deadline);
  if (v.light) {
    PutName(out, "light", Name(*v.light));
  } else {
    out.Null("light");
  }
  out.Bool("overdue", v.overdue);
  OptionalBool(out, "on_time", v.on_time);
  out.UInt("dispatches", v.dispatches);
  out.UInt("reworks", v.reworks);
  out.UInt("extensions", v.extensions);
  out.UInt("supervisions", v.supervisions);
  if (v.pending != PendingRequest::kNone) {
    PutName(out, "pending", Name(v.pending));
  } else {
    out.Null("pending");
  }
  OptionalString(out, "merged_into", v.merged_into);
  out.UInt("version", v.version);
}

std::string ToJson(const CaseView& v, int offset_minutes) { return TextOf(v, offset_minutes); }

// ---- the log ------------------------------------------------------------------

void Write(const LoggedEvent& e, ObjectWriter& out) {
  out.UInt("position", e.record.position);
  out.UInt("version", e.record.version);
  out.String("type", e.event ? Name(e.event->type) : std::string_view(e.record.type));
  out.Time("time", InstantFromMicros(e.record.recorded_us));
  out.String("actor", e.record.actor);
  WriteFields(e, out);
}

std::string ToJson(const LoggedEvent& e, int offset_minutes) { return TextOf(e, offset_minutes); }

void WriteFields(const LoggedEvent& e, ObjectWriter& out) {
  if (!e.decode_status.ok()) {
    out.String("error", e.decode_status.ToString());
  } else if (e.event) {
    WriteFields(*e.event, out);
  } else if (e.change) {
    WriteFields(*e.change, out);
  }
}

namespace {

void WriteCaseEventFields(const CaseEvent& e, ObjectWriter& out) {
  auto put_str = [&out](std::string_view key, const std::string& v) {
    if (!v.empty()) out.String(key, v);
  };
  auto put_deadline = [&](std::string_view key) {
    if (e.deadline) out.Time(key, *e.deadline);
  };
  auto put_limit = [&]() {
    if (e.limit) out.String("limit", FormatTimeLimit(*e.limit));
  };
  auto put_task = [&]() {
    if (e.task != 0) out.UInt("task", e.task);
  };
  switch (e.type) {
    case EventType::kCaseReported:
      PutName(out, "kind", Name(e.kind));
      out.String("category", e.category);
      PutName(out, "source", Name(e.source));
      put_str("grid", e.grid);
      put_str("component", e.component);
      if (e.lat) out.Double("lat", *e.lat);
      if (e.lon) out.Double("lon", *e.lon);
      put_str("address", e.address);
      put_str("description", e.description);
      out.Bool("emergency", e.emergency);
      return;
    case EventType::kCaseRegistered:
      PutName(out, "kind", Name(e.kind));
      out.String("category", e.category);
      return;
    case EventType::kCaseRejected:
    case EventType::kCaseVoided:
      put_str("unit", e.unit);
      out.String("reason", e.reason);
      return;
    case EventType::kCaseMerged:
      out.String("into", e.into);
      return;
    case EventType::kCaseDispatched:
      out.String("unit", e.unit);
      OptionalTime(out, "deadline", e.deadline);
      put_task();
      put_limit();
      return;
    case EventType::kCaseSentToCoordination:
      return;
    case EventType::kCaseAccepted:
      out.String("unit", e.unit);
      put_task();
      return;
    case EventType::kReturnRequested:
    case EventType::kSuspensionRequested:
      out.String("unit", e.unit);
      put_task();
      out.String("reason", e.reason);
      return;
    case EventType::kExtensionRequested:
      out.String("unit", e.unit);
      put_task();
      put_limit();
      out.String("reason", e.reason);
      return;
    case EventType::kReturnApproved:
      out.String("unit", e.unit);
      put_task();
      return;
    case EventType::kExtensionApproved:
      out.String("unit", e.unit);
      put_task();
      put_limit();
      put_deadline("deadline");
      return;
    case EventType::kSuspensionApproved:
      out.String("unit", e.unit);
      put_task();
      out.Int("remaining_minutes", e.remaining_us / 60'000'000);
      out.Int("remaining_us", e.remaining_us);
      return;
    case EventType::kRequestDenied:
      out.String("unit", e.unit);
      PutName(out, "request", Name(e.request));
      out.String("reason", e.reason);
      return;
    case EventType::kCaseResumed:
      out.String("unit", e.unit);
      put_task();
      OptionalTime(out, "deadline", e.deadline);
      return;
    case EventType::kFeedbackSubmitted:
      out.String("unit", e.unit);
      put_task();
      put_str("note", e.note);
      if (e.on_time) out.Bool("on_time", *e.on_time);
      if (e.verifier.empty()) {
        out.Null("verifier");
      } else {
        out.String("verifier", e.verifier);
      }
      put_deadline("verify_deadline");
      return;
    case EventType::kVerificationPassed:
      out.String("unit", e.unit);
      put_task();
      put_str("note", e.note);
      return;
    case EventType::kVerificationFailed:
      out.String("unit", e.unit);
      put_str("note", e.note);
      put_task();
      put_limit();
      OptionalTime(out, "deadline", e.deadline);
      return;
    case EventType::kCaseSupervised:
      put_str("unit", e.unit);
      put_task();
      put_str("note", e.note);
      return;
    case EventType::kTaskOverdue:
      out.String("unit", e.unit);
      put_task();
      put_deadline("deadline");
      return;
    default:  // a type without a layout of its own here
      break;
  }
  WriteCarried(e, out);
}

}  // namespace

void WriteFields(const CaseEvent& e, ObjectWriter& out) {
  SortedFields sorted;
  WriteCaseEventFields(e, sorted);
  sorted.WriteTo(out);
}

std::string CaseEventFieldsJson(const CaseEvent& e, int offset_minutes) {
  JsonWriter w(offset_minutes);
  WriteFields(e, w);
  return Dump(w.json());
}

namespace {

void WriteConfigChangeFields(const ConfigChange& c, ObjectWriter& out) {
  switch (c.type) {
    case ConfigChangeType::kSetCalendar:
      out.String("tz", FormatUtcOffset(c.calendar.utc_offset_minutes));  // the zone: calendar_zone_set
      out.String("workdays", FormatWorkdays(c.calendar.workdays));
      out.String("periods", FormatPeriods(c.calendar.periods));
      return;
    case ConfigChangeType::kAddHoliday:
    case ConfigChangeType::kAddWorkday:
      out.String("date", FormatLocalDate(c.date));
      return;
    case ConfigChangeType::kSetCalendarZone:
      out.String("zone", c.calendar.zone);
      return;
    case ConfigChangeType::kDefineUnit:
      out.String("id", c.unit.id);
      out.String("name", c.unit.name);
      return;
    case ConfigChangeType::kDefineInspector:
      out.String("id", c.inspector.id);
      out.String("grid_prefix", c.inspector.grid_prefix);
      return;
    case ConfigChangeType::kDefineStaff: {
      out.String("id", c.staff.id);
      std::vector<std::string> roles;
      for (Role r : c.staff.roles) roles.emplace_back(Name(r));
      out.Strings("roles", roles);
      return;
    }
    case ConfigChangeType::kDefineCategory: {
      const CategoryInfo& k = c.category;
      PutName(out, "kind", Name(k.kind));
      out.String("code", k.code);
      out.String("name", k.name);
      out.String("limit", FormatTimeLimit(k.limit));
      if (k.emergency_limit) {
        out.String("emergency_limit", FormatTimeLimit(*k.emergency_limit));
      } else {
        out.Null("emergency_limit");
      }
      out.String("verify_limit", FormatTimeLimit(k.verify_limit));
      return;
    }
    case ConfigChangeType::kDefineRoute:
      PutName(out, "kind", Name(c.route.kind));
      out.String("code", c.route.code);
      out.String("unit", c.route.unit);
      out.String("grid_prefix", c.route.grid_prefix);
      return;
    case ConfigChangeType::kSetWeights:
      out.Double("handling", c.weights.handling);
      out.Double("on_time", c.weights.on_time);
      out.Double("rework", c.weights.rework);
      out.Double("overdue", c.weights.overdue);
      out.Double("extension", c.weights.extension);
      return;
    case ConfigChangeType::kSetYearCalendar: {
      out.Int("year", c.year_calendar.year);
      out.String("name", c.year_calendar.name);
      std::vector<std::string> holidays, workdays;
      for (LocalDate d : c.year_calendar.holidays) holidays.push_back(FormatLocalDate(d));
      for (LocalDate d : c.year_calendar.workdays) workdays.push_back(FormatLocalDate(d));
      out.Strings("holidays", holidays);
      out.Strings("workdays", workdays);
      return;
    }
    case ConfigChangeType::kSetPolicy:
      out.Bool("enforce_permissions", c.policy.enforce_permissions);
      out.Bool("rework_fresh_limit", c.policy.rework_fresh_limit);
      out.Int("yellow_percent", c.policy.yellow_percent);
      out.Int("auto_supervise_after_working_minutes", c.policy.auto_supervise_after_working_minutes);
      out.Int("grid_group_digits", c.policy.grid_group_digits);
      return;
  }
}

}  // namespace

void WriteFields(const ConfigChange& c, ObjectWriter& out) {
  SortedFields sorted;
  WriteConfigChangeFields(c, sorted);
  sorted.WriteTo(out);
}

std::string ConfigChangeFieldsJson(const ConfigChange& c) {
  JsonWriter w(0);
  WriteFields(c, w);
  return Dump(w.json());
}

// ---- the evaluation (builders in json_views.cc) ---------------------------------

void Write(const UnitRates& r, ObjectWriter& out) { json::WriteObject(json::UnitRatesJson(r), out); }
std::string ToJson(const UnitRates& r) { return Dump(json::UnitRatesJson(r)); }

void Write(const InspectorRates& r, ObjectWriter& out) {
  json::WriteObject(json::InspectorRatesJson(r), out);
}
std::string ToJson(const InspectorRates& r) { return Dump(json::InspectorRatesJson(r)); }

void Write(const CentreFigures& c, ObjectWriter& out) { json::WriteObject(json::CentreJson(c), out); }
std::string ToJson(const CentreFigures& c) { return Dump(json::CentreJson(c)); }

// ---- overdue and workload ---------------------------------------------------------

void Write(const OverdueTask& t, ObjectWriter& out) {
  out.String("case", t.case_id);
  out.String("unit", t.unit);
  out.String("unit_name", t.unit_name);
  out.Time("deadline", t.deadline);
  for (const auto& [key, value] :
       {std::pair<const char*, double>{"overdue_hours", t.overdue_hours},
        std::pair<const char*, double>{"overdue_working_hours", t.overdue_working_hours}}) {
    Json hours = json::RoundedOrNull(value, 2);
    if (hours.is_null()) {
      out.Null(key);
    } else {
      out.Double(key, hours.get<double>());
    }
  }
}

std::string ToJson(const OverdueTask& t, int offset_minutes) { return TextOf(t, offset_minutes); }

void Write(const UnitWorkload& w, ObjectWriter& out) {
  out.String("unit", w.unit);
  out.String("unit_name", w.unit_name);
  out.Int("open_tasks", w.open_tasks);
  out.Int("overdue_tasks", w.overdue_tasks);
}

std::string ToJson(const UnitWorkload& w) { return TextOf(w, 0); }

}  // namespace caseloop
