// caseloop/json.h — the objects caseloop prints: the answer of every query,
// the events and configuration changes of the log. Their keys and key order
// (docs/cli.md, "Queries") are written here and nowhere else; the CLI and the
// script language, the Python bindings and an HTTP service all use it.
//
// Each object comes in two forms:
//   * ToJson(x, ...): compact JSON text, one line, as the CLI prints it.
//     Times print as "2025-03-31T15:30:00+08:00" at the UTC offset given.
//   * Write(x, writer): the same fields handed one by one, in the same order,
//     to an ObjectWriter, for a host that builds its own values (the Python
//     bindings build dicts with datetimes). Times arrive as instants.
// A key is written at most once per object (the first value wins). Text that
// is not valid UTF-8 (only a log written before such text was refused can
// hold it) prints with U+FFFD in JSON; writers get the bytes as stored.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_JSON_H_
#define CASELOOP_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/engine.h"
#include "caseloop/queries.h"
#include "caseloop/time.h"

namespace caseloop {

// Receives the fields of one flat object, in order.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual void Null(std::string_view key) = 0;
  virtual void Bool(std::string_view key, bool value) = 0;
  virtual void Int(std::string_view key, std::int64_t value) = 0;
  virtual void UInt(std::string_view key, std::uint64_t value) = 0;
  virtual void Double(std::string_view key, double value) = 0;
  virtual void String(std::string_view key, std::string_view value) = 0;
  virtual void Time(std::string_view key, Instant value) = 0;
  virtual void Strings(std::string_view key, const std::vector<std::string>& values) = 0;
};

// show: {"case","state","kind","category","source","emergency","unit",
// "deadline","light","overdue","on_time","dispatches","reworks","extensions",
// "supervisions","pending","merged_into","version"}.
void Write(const CaseView& view, ObjectWriter& out);
std::string ToJson(const CaseView& view, int offset_minutes);

// history / the log: {"position","version","type","time","actor", ...its
// fields (WriteFields)}.
void Write(const LoggedEvent& event, ObjectWriter& out);
std::string ToJson(const LoggedEvent& event, int offset_minutes);
// The fields of a logged event without the envelope: the case event's
// (WriteFields(CaseEvent)), the configuration change's
// (WriteFields(ConfigChange)), {"error": "<decode status>"} when the payload
// did not decode, none for a record of another "$" stream.
void WriteFields(const LoggedEvent& event, ObjectWriter& out);

// The fields of a case event that its type gives meaning to, in alphabetical
// order, e.g. {"deadline":"2025-03-31T15:30:00+08:00","limit":"4wh","task":1,"unit":"WATER"}.
void WriteFields(const CaseEvent& event, ObjectWriter& out);
std::string CaseEventFieldsJson(const CaseEvent& event, int offset_minutes);

// The fields of a configuration change that its type names, in alphabetical
// order, e.g. {"id":"WATER","name":"水务局"} for unit_defined or
// {"periods":"09:00-12:00,13:00-17:00","tz":"+08:00","workdays":"mon-fri"} for calendar_set.
void WriteFields(const ConfigChange& change, ObjectWriter& out);
std::string ConfigChangeFieldsJson(const ConfigChange& change);

// rates: {"unit","unit_name","due","handled","on_time","late","overdue_open","reworked",
// "extended","handling_rate","on_time_rate","rework_rate","overdue_open_rate",
// "extension_rate","score","grade"}; rates rounded to 4 decimals, score to 2,
// null when undefined.
void Write(const UnitRates& rates, ObjectWriter& out);
std::string ToJson(const UnitRates& rates);
// inspectors: {"inspector","reports","valid","valid_rate","verifications",
// "verified_on_time","verification_on_time_rate"}.
void Write(const InspectorRates& rates, ObjectWriter& out);
std::string ToJson(const InspectorRates& rates);
// centre: {"received","registered","rejected","voided","closed","closed_on_time"}.
void Write(const CentreFigures& figures, ObjectWriter& out);
std::string ToJson(const CentreFigures& figures);
// overdue: {"case","unit","unit_name","deadline","overdue_hours","overdue_working_hours"}.
void Write(const OverdueTask& task, ObjectWriter& out);
std::string ToJson(const OverdueTask& task, int offset_minutes);
// workload: {"unit","unit_name","open_tasks","overdue_tasks"}.
void Write(const UnitWorkload& workload, ObjectWriter& out);
std::string ToJson(const UnitWorkload& workload);
// redispatch: {"case","unit","unit_name","retired","state","pending","kind","category","grid",
// "deadline","light"}; deadline and light null when there is none.
void Write(const RedispatchTask& task, ObjectWriter& out);
std::string ToJson(const RedispatchTask& task, int offset_minutes);

}  // namespace caseloop

#endif  // CASELOOP_JSON_H_
