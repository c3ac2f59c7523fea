// The event applier of the evaluation projection: what one case event writes
// under "ev/" (the per-case state, the (case, unit) timelines, the
// time-keyed records) and how it moves the day counters (ev/k/, ev/i/,
// ev/e/) that the period queries read. Keys: evaluation_keys.h.
//
// Thread-safety: one call at a time per batch.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_APPLIER_H_
#define CASELOOP_PROJECTIONS_EVALUATION_APPLIER_H_

#include "caseloop/case.h"
#include "caseloop/status.h"
#include "projections/batch.h"
#include "projections/day_grid.h"

namespace caseloop::projections {

// Applies one decoded case event to `batch`, filing the day counters on
// `grid`. Errors: Corruption (a stored value cannot be decoded), IOError
// from the store.
Status ApplyEvaluationEvent(Batch& batch, const CaseEvent& e, const DayGrid& grid);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_APPLIER_H_
