#include "projections/evaluation_projection.h"

#include "projections/centre_figures.h"
#include "projections/evaluation_applier.h"
#include "projections/evaluation_keys.h"
#include "projections/inspector_figures.h"
#include "projections/unit_figures.h"

namespace caseloop::projections {

std::vector<std::string> EvaluationProjection::carried_prefixes() const {
  return {ev::kCounterPrefix, ev::kUnitListPrefix, ev::kInspectorPrefix, ev::kCentrePrefix};
}

Status EvaluationProjection::Load(std::uint64_t /*checkpoint*/) { return Status::Ok(); }

Status EvaluationProjection::Apply(Batch& batch, const LogEntry& entry) {
  if (!entry.event) return Status::Ok();
  return ApplyEvaluationEvent(batch, *entry.event, grid_);
}

Result<std::vector<UnitRates>> EvaluationProjection::Rates(const PeriodQuery& q, const Config& config) {
  return UnitRatesOf(store_, grid_, q, config, /*by_scan=*/false);
}

Result<std::vector<UnitRates>> EvaluationProjection::RatesByScan(const PeriodQuery& q, const Config& config) {
  return UnitRatesOf(store_, grid_, q, config, /*by_scan=*/true);
}

Result<std::vector<InspectorRates>> EvaluationProjection::Inspectors(const PeriodQuery& q) {
  return InspectorRatesOf(store_, grid_, q, /*by_scan=*/false);
}

Result<std::vector<InspectorRates>> EvaluationProjection::InspectorsByScan(const PeriodQuery& q) {
  return InspectorRatesOf(store_, grid_, q, /*by_scan=*/true);
}

Result<CentreFigures> EvaluationProjection::Centre(const PeriodQuery& q, const Config& config) {
  return CentreFiguresOf(store_, grid_, q, config, /*by_scan=*/false);
}

Result<CentreFigures> EvaluationProjection::CentreByScan(const PeriodQuery& q, const Config& config) {
  return CentreFiguresOf(store_, grid_, q, config, /*by_scan=*/true);
}

}  // namespace caseloop::projections
