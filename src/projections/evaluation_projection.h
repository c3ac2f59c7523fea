// The evaluation projection (综合评价, domain.md §7): what the unit,
// inspector and centre figures are computed from. Period queries read only
// the records of the period, and for whole local days only the day counters.
//
// Its parts, one job each:
//   evaluation_keys.h     keys and value codecs (the on-disk layout)
//   timeline.h            the pure (case, unit) timeline evaluator and a unit's counts
//   evaluation_applier.h  what one event writes, and how it moves the day counters
//   unit_figures.h, inspector_figures.h, centre_figures.h   the queries
//   day_grid.h            the local days of the counters
//
// Day grid: the counters are filed by local day at the UTC offset of the
// calendar in the log (the latest calendar_set change applied; the
// calendar's default +08:00 before any). A calendar change to another offset
// asks the catch-up loop for a rebuild of this projection, so that the
// counters follow the calendar; the offset in use and the position of the
// change it came from are stored at ev/~zone (docs/projections.md).
//
// Thread-safety: the Projection calls come from one catch-up at a time;
// queries only read the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
#define CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_

#include <string>
#include <vector>

#include "caseloop/config.h"
#include "caseloop/queries.h"
#include "projections/day_grid.h"
#include "projections/evaluation_keys.h"
#include "projections/projection.h"
#include "store/projection_store.h"

namespace caseloop::projections {

class EvaluationProjection final : public Projection {
 public:
  static constexpr char kName[] = "evaluation";
  static constexpr char kPrefix[] = "ev/";
  // The layout version. 2 added the ev/k/ counters behind Rates, 3 the ev/i/
  // and ev/e/ ones, 4 counts grids by their first 9 digits, 5 files the day
  // counters at the calendar's offset (ev/~zone) instead of a fixed +08:00.
  static constexpr char kFormat[] = "5";

  explicit EvaluationProjection(ProjectionStore* store) : store_(store) {}

  std::string_view name() const override { return kName; }
  std::string_view prefix() const override { return kPrefix; }
  std::string_view format() const override { return kFormat; }
  std::vector<std::string> carried_prefixes() const override;
  Status Load(std::uint64_t checkpoint) override;
  Result<Applied> Apply(Batch& batch, const LogEntry& entry) override;
  void Seal(Batch& batch) override;
  void Committed(const std::vector<KvOp>& ops) override;
  void Rebuilding() override;

  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q);
  Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config);

  // The same figures by evaluating every record of the period, without the
  // day counters: the reference the counters are tested against.
  Result<std::vector<UnitRates>> RatesByScan(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> InspectorsByScan(const PeriodQuery& q);
  Result<CentreFigures> CentreByScan(const PeriodQuery& q, const Config& config);

 private:
  // The day grid the stored counters were filed on (read from ev/~zone).
  Result<DayGrid> StoredGrid();

  ProjectionStore* store_;
  ev::DayZone zone_;          // the grid in use by the catch-up
  bool zone_stored_ = false;  // ev/~zone holds zone_ (written with the first commit otherwise)
  ev::DayZone pending_;       // the grid to rebuild with, after Apply returned kRebuild
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
