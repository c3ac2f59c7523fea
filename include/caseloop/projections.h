// caseloop/projections.h — read models computed from the event log:
// deadlines, overdue lists and traffic lights, and the evaluation (综合评价)
// of units, inspectors and the centre (domain.md §7).
//
// A projection consumes the global log from its checkpoint; its state and its
// checkpoint are written in one atomic store write, so after a crash it
// resumes exactly where it stopped and counts every event once. State lives
// in the store's projection keyspace, not in RAM.
//
// Thread-safety: Projections serializes CatchUp/Rebuild internally; queries
// may run concurrently with CatchUp and see a state at some checkpoint.
#ifndef CASELOOP_PROJECTIONS_H_
#define CASELOOP_PROJECTIONS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

// A period [from, to) evaluated as of `at` (default: `to`).
struct PeriodQuery {
  Instant from{};
  Instant to{};
  std::optional<Instant> at;
  std::string unit;  // "" = every unit
};

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

struct ProjectionOptions {
  // Log events applied per store write (one CommitProjection per projection
  // per batch) while the projections keep up with new commands. Smaller
  // batches commit sooner and bound the memory of a batch. Default: 1024.
  std::size_t batch_events = 1024;
  // Events per batch while the projections are far behind the log: a
  // rebuild, an engine opened on a history written elsewhere, a bulk import.
  // Used whenever at least this many events are still to apply (and it is
  // larger than batch_events). Counters and index keys are then written once
  // per bulk batch instead of once per small batch, which makes a rebuild
  // several times cheaper; the price is memory (a batch holds its pending
  // writes: roughly 1 KiB per event at the default) and that the checkpoint
  // moves in larger steps. Default: 16384.
  std::size_t bulk_batch_events = 16384;
};

// The projection storage (src/store/projection_store.h): internal, like
// Projections itself is to become.
class ProjectionStore;

class Projections {
 public:
  // Reads the log from `log` and keeps its state in `store` (for the
  // built-in stores, the same database: see NewMemoryStorage and
  // OpenRocksDbStorage in src/store/projection_store.h). REQUIRES: both
  // outlive the Projections. A null pointer gives an object whose every call
  // fails with InvalidArgument.
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
  // Compares each projection's checkpoint with the log head; one line per problem.
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
};

// Grade of a score: A >= 90, B >= 75, C >= 60, D >= 40, E below.
char GradeOf(double score);

}  // namespace caseloop

#endif  // CASELOOP_PROJECTIONS_H_
