// Unit figures (Rates, domain.md §7) from the evaluation projection: the
// unit's counts summed from the day counters (ev/k/) for whole local days
// and from the (case, unit) timelines (ev/u/) elsewhere, then the rates, the
// composite score and the grade.
//
// Thread-safety: only reads the store; may run concurrently with a catch-up.
#ifndef CASELOOP_PROJECTIONS_UNIT_FIGURES_H_
#define CASELOOP_PROJECTIONS_UNIT_FIGURES_H_

#include <vector>

#include "caseloop/config.h"
#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "projections/day_grid.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// The rows of `q` (the configured units plus every unit that ever had a
// dispatch, or just q.unit), sorted by score (best first, null last), then
// unit id. `by_scan`: evaluate every record of the period instead of reading
// the day counters (the reference the counters are tested against).
// Errors: InvalidArgument (to < from), Corruption, IOError.
Result<std::vector<UnitRates>> UnitRatesOf(ProjectionStore* store, const DayGrid& grid, const PeriodQuery& q,
                                           const Config& config, bool by_scan);

// Fills the derived counts, the rates, the score and the grade of `r` from
// its counts. Weights are normalized by their sum (out of 100).
void ScoreUnit(UnitRates& r, const Weights& w);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_UNIT_FIGURES_H_
