// The JSON objects that queries print (script language, CLI, Python
// bindings). Keys appear in exactly the documented order (docs/cli.md), so
// every builder returns an nlohmann::ordered_json.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_SCRIPT_JSON_VIEWS_H_
#define CASELOOP_SCRIPT_JSON_VIEWS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "caseloop/case.h"
#include "caseloop/engine.h"
#include "caseloop/queries.h"
#include "caseloop/time.h"

namespace caseloop::script {

using Json = nlohmann::ordered_json;

// How instants appear in a view: text at a UTC offset ("2024-03-04 09:00",
// the CLI and scripts) or integer UTC microseconds (the Python bindings, which
// turn them into aware datetimes). Converts from an offset in minutes.
struct TimeStyle {
  TimeStyle(int offset) : offset_minutes(offset) {}  // NOLINT: text at `offset`
  static TimeStyle Micros() {
    TimeStyle t(0);
    t.micros = true;
    return t;
  }
  int offset_minutes = 0;
  bool micros = false;
};

// `t` in `style`.
Json InstantJson(Instant t, TimeStyle style);

// `x` rounded to `decimals` places; null when absent.
Json RoundedOrNull(const std::optional<double>& x, int decimals);

// show: {"case","state","kind","category","source","emergency","unit",
// "deadline","light","overdue","on_time","dispatches","reworks","extensions",
// "supervisions","pending","merged_into","version"}; times in `style`.
Json CaseViewJson(const CaseView& v, TimeStyle style);
// rates: {"unit", the kUnitMetrics keys in table order (counts as integers,
// rates to 4 decimals), "score" (2 decimals), "grade" "A".."E"}; nulls as documented.
Json UnitRatesJson(const UnitRates& r);
Json InspectorRatesJson(const InspectorRates& r);
Json CentreJson(const CentreFigures& c);
Json OverdueJson(const OverdueTask& t, TimeStyle style);
Json WorkloadJson(const UnitWorkload& w);
// history: {"position","version","type","time","actor", ...the event's fields}.
Json LoggedEventJson(const LoggedEvent& e, int offset_minutes);

// One line of output: compact, invalid UTF-8 replaced (never throws).
std::string Dump(const Json& j);

// A JSON scalar as `expect` compares it: null, true/false, numbers as
// printed, strings without quotes.
std::string ExpectText(const Json& j);

}  // namespace caseloop::script

#endif  // CASELOOP_SCRIPT_JSON_VIEWS_H_
