// The deadline projection: every open task (a case dispatched to a unit, or in
// handling, with its clock running) indexed by deadline, plus per-unit open
// counters. Keys (all under "dl/"; see docs/projections.md):
//   dl/c/<case>                 -> the case's task: unit, task, open, deadline, overdue_marked
//   dl/t/<be64 deadline><case>  -> unit, task, overdue_marked   (open tasks with a deadline)
//   dl/a/<be64 deadline><case>  -> unit, task                   (same, not yet overdue_marked)
//   dl/u/<unit>                 -> number of open tasks of the unit (incl. tasks without deadline)
//
// Thread-safety: Apply is called by one CatchUp at a time; queries only read
// the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_
#define CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_

#include <string>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/projections.h"
#include "projections/batch.h"
#include "store/projection_store.h"

namespace caseloop::projections {

class DeadlineProjection {
 public:
  static constexpr char kName[] = "deadline";
  static constexpr char kPrefix[] = "dl/";

  explicit DeadlineProjection(ProjectionStore* store) : store_(store) {}

  // Applies one decoded case event to `batch`. Errors: Corruption (a stored
  // value cannot be decoded), IOError from the store.
  Status Apply(Batch& batch, const CaseEvent& e);

  Result<std::vector<OverdueTask>> Overdue(Instant at);
  Result<std::vector<OpenTask>> DueBefore(Instant t, std::size_t max);
  Result<std::vector<UnitWorkload>> Workload(Instant at);
  // Cross-checks the per-case records against the deadline index and the
  // per-unit counters; appends one line per problem.
  Status Check(std::vector<std::string>* problems);

 private:
  ProjectionStore* store_;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_
