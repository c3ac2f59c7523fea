#include "script/json_views.h"

#include <cmath>
#include <string>

#include "caseloop/case_types.h"
#include "caseloop/time.h"
#include "caseloop/unit_metrics.h"

namespace caseloop::script {
namespace {

double Round(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  double r = std::round(x * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

template <typename T>
Json OrNull(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json NameOrNull(bool present, std::string_view name) {
  return present ? Json(std::string(name)) : Json(nullptr);
}

}  // namespace

Json RoundedOrNull(const std::optional<double>& x, int decimals) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return Round(*x, decimals);
}

Json InstantJson(Instant t, TimeStyle style) {
  if (style.micros) return MicrosOf(t);
  return FormatInstant(t, style.offset_minutes);
}

Json CaseViewJson(const CaseView& v, TimeStyle style) {
  Json j;
  j["case"] = v.case_id;
  j["state"] = std::string(Name(v.state));
  j["kind"] = std::string(Name(v.kind));
  j["category"] = v.category;
  j["source"] = std::string(Name(v.source));
  j["emergency"] = v.emergency;
  j["unit"] = OrNull(v.unit);
  j["deadline"] = v.deadline ? InstantJson(*v.deadline, style) : Json(nullptr);
  j["light"] = v.light ? Json(std::string(Name(*v.light))) : Json(nullptr);
  j["overdue"] = v.overdue;
  j["on_time"] = OrNull(v.on_time);
  j["dispatches"] = v.dispatches;
  j["reworks"] = v.reworks;
  j["extensions"] = v.extensions;
  j["supervisions"] = v.supervisions;
  j["pending"] = NameOrNull(v.pending != PendingRequest::kNone, Name(v.pending));
  j["merged_into"] = OrNull(v.merged_into);
  j["version"] = v.version;
  return j;
}

Json UnitRatesJson(const UnitRates& r) {
  Json j;
  j["unit"] = r.unit;
  // The figures of the metric table, in its order: counts, then rates.
  for (const UnitMetric& m : kUnitMetrics) {
    const std::string key(m.key);
    if (m.kind == UnitMetric::Kind::kCount) {
      j[key] = r.*m.count;
    } else {
      j[key] = RoundedOrNull(r.*m.rate, 4);
    }
  }
  j["score"] = RoundedOrNull(r.score, 2);
  j["grade"] = r.grade ? Json(std::string(1, *r.grade)) : Json(nullptr);
  return j;
}

Json InspectorRatesJson(const InspectorRates& r) {
  Json j;
  j["inspector"] = r.inspector;
  j["reports"] = r.reports;
  j["valid"] = r.valid;
  j["valid_rate"] = RoundedOrNull(r.valid_rate, 4);
  j["verifications"] = r.verifications;
  j["verified_on_time"] = r.verified_on_time;
  j["verification_on_time_rate"] = RoundedOrNull(r.verification_on_time_rate, 4);
  return j;
}

Json CentreJson(const CentreFigures& c) {
  Json j;
  j["received"] = c.received;
  j["registered"] = c.registered;
  j["rejected"] = c.rejected;
  j["voided"] = c.voided;
  j["closed"] = c.closed;
  j["closed_on_time"] = c.closed_on_time;
  return j;
}

Json OverdueJson(const OverdueTask& t, TimeStyle style) {
  Json j;
  j["case"] = t.case_id;
  j["unit"] = t.unit;
  j["deadline"] = InstantJson(t.deadline, style);
  j["overdue_hours"] = RoundedOrNull(t.overdue_hours, 2);
  return j;
}

Json WorkloadJson(const UnitWorkload& w) {
  Json j;
  j["unit"] = w.unit;
  j["open_tasks"] = w.open_tasks;
  j["overdue_tasks"] = w.overdue_tasks;
  return j;
}

Json LoggedEventJson(const LoggedEvent& e, int offset_minutes) {
  Json j;
  j["position"] = e.record.position;
  j["version"] = e.record.version;
  j["type"] = e.event ? std::string(Name(e.event->type)) : e.record.type;
  j["time"] = FormatInstant(InstantFromMicros(e.record.recorded_us), offset_minutes);
  j["actor"] = e.record.actor;
  if (!e.fields_json.empty()) {
    Json fields = Json::parse(e.fields_json, nullptr, /*allow_exceptions=*/false);
    if (fields.is_object()) {
      for (const auto& item : fields.items()) {
        if (!j.contains(item.key())) j[item.key()] = item.value();
      }
    } else {
      j["fields"] = e.fields_json;  // not an object: keep the text rather than lose it
    }
  }
  return j;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string ExpectText(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return Dump(j);
}

}  // namespace caseloop::script
