// The evaluation projection (综合评价, domain.md §7). Period queries read only
// the records of the period: every record is keyed by the time that decides
// the period it belongs to. Keys (all under "ev/"; see docs/projections.md):
//   ev/c/<case>                               -> per-case state while the case is open
//   ev/n/<unit>                               -> "" (every unit that ever had a dispatch)
//   ev/u/<unit>\0<be64 first dispatch><case>  -> the case's timeline for that unit
//   ev/r/<be64 report time><case>             -> report: reporter, source, kind, category, grid, registered
//   ev/f/<be64 feedback time><case>           -> verification assignment: verifier, deadline, verified
//   ev/g/ ev/j/ ev/v/ <be64 time><case>       -> registered / rejected / voided at that time
//   ev/z/<be64 close time><case>              -> closed; value: on_time of the surviving feedback
//
// Thread-safety: Apply is called by one CatchUp at a time; queries only read
// the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
#define CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/projections.h"
#include "projections/batch.h"

namespace caseloop::projections {

// What one (case, unit) timeline says as of an instant (exposed for tests).
struct UnitCaseFacts {
  bool in_population = false;  // dispatched to the unit by T, not returned, voided or merged by T
  bool handled = false;
  bool overdue = false;
  bool on_time = false;   // handled and the surviving feedback met its deadline
  bool reworked = false;  // at least one failed verification by T
  bool extended = false;  // at least one approved extension by T
  bool suspended = false;
  std::optional<Instant> deadline;  // in force at T
};

// Evaluates an encoded timeline at `at`. Errors: Corruption naming `key`.
Result<UnitCaseFacts> EvaluateTimeline(std::string_view key, std::string_view timeline, Instant at);

// The composite score of domain.md §7 from `r`'s counts; fills the rates,
// score and grade. Weights are normalized by their sum (out of 100).
void ScoreUnit(UnitRates& r, const Weights& w);

class EvaluationProjection {
 public:
  static constexpr char kName[] = "evaluation";
  static constexpr char kPrefix[] = "ev/";

  explicit EvaluationProjection(EventStore* store) : store_(store) {}

  // Applies one decoded case event to `batch`. Errors: Corruption (a stored
  // value cannot be decoded), IOError from the store.
  Status Apply(Batch& batch, const CaseEvent& e);

  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q);
  Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config);

 private:
  EventStore* store_;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
