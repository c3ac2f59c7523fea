// The deadline projection: every open task (a case dispatched to a unit, or in
// handling, with its clock running) indexed by deadline, plus per-unit open
// counters. Keys (all under "dl/"; see docs/projections.md):
//   dl/c/<case>                 -> the case's task: unit, task, open, deadline, overdue_marked
//   dl/t/<be64 deadline><case>  -> unit, task, overdue_marked   (open tasks with a deadline)
//   dl/a/<be64 deadline><case>  -> unit, task                   (same, not yet overdue_marked)
//   dl/u/<unit>                 -> number of open tasks of the unit (incl. tasks without deadline)
//   dl/~latest                  -> the latest business time of any record applied (decimal µs)
//
// Thread-safety: Apply is called by one CatchUp at a time; queries only read
// the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_
#define CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/queries.h"
#include "projections/batch.h"
#include "projections/projection.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// A duration in hours, rounded to two decimals: how the overdue list gives
// its overdue_hours (and the engine its overdue_working_hours).
double RoundHours(Micros d);

class DeadlineProjection final : public Projection {
 public:
  static constexpr char kName[] = "deadline";
  static constexpr char kPrefix[] = "dl/";
  static constexpr char kFormat[] = "1";  // the layout version (Projection::format)

  explicit DeadlineProjection(ProjectionStore* store) : store_(store) {}

  std::string_view name() const override { return kName; }
  std::string_view prefix() const override { return kPrefix; }
  std::string_view format() const override { return kFormat; }
  std::vector<std::string> carried_prefixes() const override;
  Status Load(std::uint64_t checkpoint) override;
  void Begin() override;
  Result<Applied> Apply(Batch& batch, const LogEntry& entry) override;
  void Seal(Batch& batch) override;
  void Committed(const std::vector<KvOp>& ops) override;
  // Cross-checks the per-case records against the deadline index and the
  // per-unit counters; appends one line per problem.
  Status Check(std::vector<std::string>* problems) override;

  // The latest business time of any record committed (0: none); kept in the
  // store (dl/~latest), read by Load. Thread-safe.
  std::int64_t latest_recorded_us() const { return latest_us_.load(); }

  Result<std::vector<OverdueTask>> Overdue(Instant at);
  Result<std::vector<OpenTask>> DueBefore(Instant t, std::size_t max);
  Result<std::vector<UnitWorkload>> Workload(Instant at);

 private:
  // Applies one decoded case event. Errors: Corruption (a stored value
  // cannot be decoded), IOError from the store.
  Status ApplyEvent(Batch& batch, const CaseEvent& e);

  ProjectionStore* store_;
  std::atomic<std::int64_t> latest_us_{0};  // committed
  std::int64_t batch_latest_us_ = 0;        // with the batch being applied
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_DEADLINE_PROJECTION_H_
