// Projections: the read models computed from the event log — deadlines,
// overdue lists and workload (the deadline projection), and the evaluation
// (综合评价) of units, inspectors and the centre (domain.md §7, the
// evaluation projection). Internal: the engine owns one and answers its
// queries through it; the result types are public (caseloop/queries.h).
//
// A projection consumes the global log from its checkpoint; its state and its
// checkpoint are written in one atomic store write, so after a crash it
// resumes exactly where it stopped and counts every event once. State lives
// in the store's projection keyspace, not in RAM. See docs/projections.md.
//
// Thread-safety: Projections serializes CatchUp/Rebuild/Check internally;
// queries may run concurrently with CatchUp and see a state at some checkpoint.
#ifndef CASELOOP_PROJECTIONS_PROJECTIONS_H_
#define CASELOOP_PROJECTIONS_PROJECTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/projection_options.h"
#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "store/projection_store.h"

namespace caseloop {

class Projections {
 public:
  // Reads the log from `log` and keeps its state in `store` (for the
  // built-in stores, the same database: see NewMemoryStorage and
  // OpenRocksDbStorage in store/projection_store.h). REQUIRES: both outlive
  // the Projections. A null pointer gives an object whose every call fails
  // with InvalidArgument.
  static std::unique_ptr<Projections> Create(EventStore* log, ProjectionStore* store);
  static std::unique_ptr<Projections> Create(EventStore* log, ProjectionStore* store,
                                             const ProjectionOptions& options);
  virtual ~Projections() = default;

  // Applies log events after the checkpoint, up to the head (or `until`).
  virtual Status CatchUp(std::uint64_t until = UINT64_MAX) = 0;
  // The position up to which every projection has applied the log.
  virtual std::uint64_t Checkpoint() const = 0;
  // Head position minus checkpoint.
  virtual std::uint64_t Lag() const = 0;
  // The latest business time (recorded_us) of any event applied so far; the
  // log is not in time order (imports, timers stamped at their deadlines).
  virtual std::int64_t LatestRecordedMicros() const = 0;
  // Drops the projection state and replays the log from position 1.
  virtual Status Rebuild() = 0;
  // Compares each projection's checkpoint with the log head and cross-checks
  // the deadline projection; one line per problem.
  virtual Result<std::vector<std::string>> Check() = 0;

  // Deadline projection.
  virtual Result<std::vector<OverdueTask>> Overdue(Instant at) = 0;
  virtual Result<std::vector<OpenTask>> DueBefore(Instant t, std::size_t max) = 0;
  virtual Result<std::vector<UnitWorkload>> Workload(Instant at) = 0;

  // Evaluation projection. `config` supplies weights and policies. Sorted by
  // score, best first (null scores last, then by unit id).
  virtual Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config) = 0;
  virtual Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) = 0;
  virtual Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config) = 0;

  // Case-list projection: one page of the cases matching `filter` (lights
  // at `at`), read from the index the filter narrows most; `accept` decides
  // each candidate that matches the indexed fields (may fill its light).
  virtual Result<CasePage> FindCases(const CaseFilter& filter, Instant at,
                                     const std::function<bool(CaseSummary&)>& accept) = 0;
};

}  // namespace caseloop

#endif  // CASELOOP_PROJECTIONS_PROJECTIONS_H_
