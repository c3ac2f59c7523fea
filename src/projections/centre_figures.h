// Centre figures (domain.md §7) from the evaluation projection: received,
// registered, rejected, voided, closed, closed on time, and reports by
// category and by grid; summed from the day counters (ev/e/) for whole local
// days and from the time-keyed records elsewhere.
//
// Thread-safety: only reads the store; may run concurrently with a catch-up.
#ifndef CASELOOP_PROJECTIONS_CENTRE_FIGURES_H_
#define CASELOOP_PROJECTIONS_CENTRE_FIGURES_H_

#include "caseloop/config.h"
#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "projections/day_grid.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// The figures of the window of `q`; grids grouped by
// config.policy.grid_group_digits. `by_scan`: read every record of the
// window instead of the day counters (the reference for tests).
// Errors: InvalidArgument (to < from), Corruption, IOError.
Result<CentreFigures> CentreFiguresOf(ProjectionStore* store, const DayGrid& grid, const PeriodQuery& q,
                                      const Config& config, bool by_scan);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_CENTRE_FIGURES_H_
