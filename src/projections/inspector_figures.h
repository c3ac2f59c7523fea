// Inspector figures (domain.md §7) from the evaluation projection: reports
// and their validity, verifications and whether they met their deadline;
// summed from the day counters (ev/i/) for whole local days and from the
// report and feedback records (ev/r/, ev/f/) elsewhere.
//
// Thread-safety: only reads the store; may run concurrently with a catch-up.
#ifndef CASELOOP_PROJECTIONS_INSPECTOR_FIGURES_H_
#define CASELOOP_PROJECTIONS_INSPECTOR_FIGURES_H_

#include <vector>

#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "projections/day_grid.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// One row per inspector with a report or a verification in the window (just
// q.unit when set), sorted by inspector id. `by_scan`: read every record of
// the window instead of the day counters (the reference for tests).
// Errors: InvalidArgument (to < from), Corruption, IOError.
Result<std::vector<InspectorRates>> InspectorRatesOf(ProjectionStore* store, const DayGrid& grid,
                                                     const PeriodQuery& q, bool by_scan);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_INSPECTOR_FIGURES_H_
