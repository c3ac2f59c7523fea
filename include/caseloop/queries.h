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

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
};

struct UnitWorkload {
  std::string unit;
  std::int64_t open_tasks = 0;
  std::int64_t overdue_tasks = 0;  // at the query instant
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
