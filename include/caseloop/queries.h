// caseloop/queries.h — what the read-side queries of an Engine return:
// deadlines and overdue lists, workload, and the evaluation (综合评价) of
// units, inspectors and the centre (domain.md §7).
//
// The read models behind them (the projections) are internal; see
// docs/projections.md for how they are kept and what a query costs.
//
// Thread-safety: plain values.
#ifndef CASELOOP_QUERIES_H_
#define CASELOOP_QUERIES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caseloop/case_types.h"
#include "caseloop/time.h"

namespace caseloop {

// A period [from, to) evaluated as of `at` (default: QueryInstant below).
struct PeriodQuery {
  Instant from{};
  Instant to{};
  std::optional<Instant> at;
  std::string unit;  // "" = every unit
};

// One unit's evaluation. How each figure is shown, derived and weighted is
// listed once, in caseloop/unit_metrics.h (kUnitMetrics).
struct UnitRates {
  std::string unit;
  std::int64_t due = 0;           // 应处置数
  std::int64_t handled = 0;       // 处置数
  std::int64_t on_time = 0;       // 按期处置数
  std::int64_t late = 0;          // 超期处置数
  std::int64_t overdue_open = 0;  // 超期未处置数
  std::int64_t reworked = 0;      // 返工数
  std::int64_t extended = 0;      // 延期数
  // Fractions, unrounded; nullopt when the denominator is 0.
  std::optional<double> handling_rate;
  std::optional<double> on_time_rate;
  std::optional<double> rework_rate;
  std::optional<double> overdue_open_rate;
  std::optional<double> extension_rate;
  std::optional<double> score;  // rounded to 2 decimals; nullopt when due == 0
  std::optional<char> grade;    // 'A'..'E'; nullopt when score is
  std::string unit_name;        // the configured unit's name; "" for a unit only the log knows
};

struct InspectorRates {
  std::string inspector;
  std::int64_t reports = 0;
  std::int64_t valid = 0;
  std::optional<double> valid_rate;
  std::int64_t verifications = 0;
  std::int64_t verified_on_time = 0;
  std::optional<double> verification_on_time_rate;
};

struct CentreFigures {
  std::int64_t received = 0;
  std::int64_t registered = 0;
  std::int64_t rejected = 0;
  std::int64_t voided = 0;
  std::int64_t closed = 0;
  std::int64_t closed_on_time = 0;
  std::map<std::string, std::int64_t> received_by_category;  // "event/0102" -> n
  std::map<std::string, std::int64_t> received_by_grid;      // grid prefix -> n
};

struct OpenTask {
  std::string case_id;
  std::string unit;
  std::uint32_t task = 0;
  Instant deadline{};
  bool overdue_marked = false;  // a task_overdue event exists for it
};

struct OverdueTask {
  std::string case_id;
  std::string unit;
  Instant deadline{};
  double overdue_hours = 0;  // natural hours past the deadline at the query instant, 2 decimals
  std::string unit_name;     // the configured unit's name; "" for a unit only the log knows
  // Working hours past the deadline at the query instant, on the current
  // calendar (what a working-time limit counts), 2 decimals.
  double overdue_working_hours = 0;
};

struct UnitWorkload {
  std::string unit;
  std::int64_t open_tasks = 0;
  std::int64_t overdue_tasks = 0;  // at the query instant
  std::string unit_name;           // the configured unit's name; "" for a unit only the log knows
};

// One row of the case list (Engine::FindCases): what the case-list index
// keeps of a case, as its events left it.
struct CaseSummary {
  std::string case_id;
  LifecycleState state = LifecycleState::kNone;
  PendingRequest pending = PendingRequest::kNone;
  CaseKind kind = CaseKind::kEvent;
  std::string category;  // "0102" (the kind says which catalogue)
  std::string grid;      // "" without one
  std::string reporter;  // the actor of the report
  Instant reported_at{};
  std::string unit;                 // current unit, or the last one once closed ("" if none)
  std::string verifier;             // the inspector assigned to verify the latest feedback
  std::optional<Instant> deadline;  // of the open task (dispatched or handling), if it has one
  std::optional<Light> light;       // of the open task at the query instant (as show); null otherwise
  friend bool operator==(const CaseSummary&, const CaseSummary&) = default;
};

// An open task of a retired unit, listed for re-dispatch (Engine::Redispatch):
// the case is dispatched, in handling or suspended at a unit retired since.
// A dispatcher gives it back (return, approve) and dispatches it elsewhere.
struct RedispatchTask {
  std::string case_id;
  std::string unit;       // the retired unit
  std::string unit_name;  // its configured name
  Instant retired{};      // when the unit was retired
  LifecycleState state = LifecycleState::kNone;
  PendingRequest pending = PendingRequest::kNone;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  std::string grid;
  std::optional<Instant> deadline;  // of the open task, if it has one
  std::optional<Light> light;       // at the query instant (as show); null when suspended
};

// A filter of the case list: every field that is set must match.
struct CaseFilter {
  std::optional<LifecycleState> state;
  std::string unit;  // the current unit, or the last one once closed
  // The open task's traffic light at `at` (dispatched or handling, with a
  // deadline), exactly as show computes it.
  std::optional<Light> light;
  std::optional<CaseKind> kind;
  std::string category;  // the 4-digit code
  std::string grid;      // a prefix of the case's grid (15 digits: one grid; 9: a community)
  // Reported in [reported_from, reported_to).
  std::optional<Instant> reported_from;
  std::optional<Instant> reported_to;
  // The instant lights are evaluated at. Default: the engine's clock.
  std::optional<Instant> at;
  // Where the previous page stopped (CasePage::next); "" = the first page.
  // A cursor is valid only with the filter it was returned for.
  std::string cursor;
  // At most this many rows per page (1 to 1000).
  std::size_t limit = 100;
  // Optional further restriction (e.g. what the caller may see); called on
  // the querying thread for each candidate row.
  std::function<bool(const CaseSummary&)> visible;
};

// One page of the case list, in the order of the index the filter chose.
// A page examines a bounded number of index entries, so it may hold fewer
// than `limit` rows (even none) while `next` is not empty: the list ends
// only when `next` is "".
struct CasePage {
  std::vector<CaseSummary> cases;
  std::string next;  // opaque cursor for the next page; "" = no more
};

// The instant a query is evaluated at when it names none (domain.md §7): the
// one rule for every entry point (Engine's queries, the script language, the
// CLI, Python). `at` when given; else the end of the period `to` or `now`,
// whichever is earlier; a query without a period (show, history, overdue,
// workload): `now`. `now` is the engine's clock (a manual clock's time) or,
// for the CLI's --now, the system time.
Instant QueryInstant(std::optional<Instant> at, std::optional<Instant> to, Instant now);

// Grade of a score: A >= 90, B >= 75, C >= 60, D >= 40, E below.
char GradeOf(double score);

}  // namespace caseloop

#endif  // CASELOOP_QUERIES_H_
