// The evaluation projection (综合评价, domain.md §7): what the unit,
// inspector and centre figures are computed from. Period queries read only
// the records of the period, and for whole local days only the day counters.
//
// Its parts, one job each:
//   evaluation_keys.h     keys and value codecs (the on-disk layout)
//   timeline.h            the pure (case, unit) timeline evaluator and a unit's counts
//   evaluation_applier.h  what one event writes, and how it moves the day counters
//   unit_figures.h, inspector_figures.h, centre_figures.h   the queries
//   day_grid.h            the local days of the counters (a fixed +08:00)
//
// Thread-safety: the Projection calls come from one catch-up at a time;
// queries only read the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
#define CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_

#include <string>
#include <vector>

#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/queries.h"
#include "projections/day_grid.h"
#include "projections/projection.h"

namespace caseloop::projections {

class EvaluationProjection final : public Projection {
 public:
  static constexpr char kName[] = "evaluation";
  static constexpr char kPrefix[] = "ev/";
  // The layout version. 2 added the ev/k/ counters behind Rates, 3 the ev/i/
  // and ev/e/ ones, 4 counts grids by their first 9 digits.
  static constexpr char kFormat[] = "4";

  explicit EvaluationProjection(EventStore* store) : store_(store) {}

  std::string_view name() const override { return kName; }
  std::string_view prefix() const override { return kPrefix; }
  std::string_view format() const override { return kFormat; }
  std::vector<std::string> carried_prefixes() const override;
  Status Load(std::uint64_t checkpoint) override;
  Status Apply(Batch& batch, const LogEntry& entry) override;

  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q);
  Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config);

  // The same figures by evaluating every record of the period, without the
  // day counters: the reference the counters are tested against.
  Result<std::vector<UnitRates>> RatesByScan(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> InspectorsByScan(const PeriodQuery& q);
  Result<CentreFigures> CentreByScan(const PeriodQuery& q, const Config& config);

 private:
  EventStore* store_;
  // Days at a fixed +08:00, the calendar's default offset.
  DayGrid grid_{8 * 60};
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
