#include "projections/evaluation_projection.h"

#include "caseloop/calendar.h"
#include "projections/centre_figures.h"
#include "projections/evaluation_applier.h"
#include "projections/inspector_figures.h"
#include "projections/unit_figures.h"

namespace caseloop::projections {
namespace {

// Before any calendar change: the calendar's default offset (+08:00).
ev::DayZone DefaultZone() { return ev::DayZone{Calendar{}.utc_offset_minutes, 0}; }

}  // namespace

std::vector<std::string> EvaluationProjection::carried_prefixes() const {
  return {ev::kCounterPrefix, ev::kUnitListPrefix, ev::kInspectorPrefix, ev::kCentrePrefix};
}

Status EvaluationProjection::Load(std::uint64_t checkpoint) {
  zone_ = DefaultZone();
  zone_stored_ = false;
  if (checkpoint == 0) return Status::Ok();
  auto v = store_->Get(ev::kZoneKey);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return Status::Ok();
  auto z = ev::DecodeZone(**v);
  if (!z.ok()) return z.status();
  zone_ = *z;
  zone_stored_ = true;
  return Status::Ok();
}

Result<Applied> EvaluationProjection::Apply(Batch& batch, const LogEntry& entry) {
  if (entry.config) {
    const ConfigChangeType type = entry.config->type;
    if (type != ConfigChangeType::kSetCalendar && type != ConfigChangeType::kSetCalendarZone) {
      return Applied::kDone;
    }
    // A calendar_set changes the offset (the zone stays), a calendar_zone_set the zone.
    const bool zone_change = type == ConfigChangeType::kSetCalendarZone;
    const int offset = zone_change ? zone_.offset_minutes : entry.config->calendar.utc_offset_minutes;
    const std::string zone = zone_change ? entry.config->calendar.zone : zone_.zone;
    if (offset <= -24 * 60 || offset >= 24 * 60) {
      return Status::Corruption("calendar change with a UTC offset of " + std::to_string(offset) +
                                " minutes");
    }
    // A change the stored counters do not know yet, to another offset: file
    // everything again on the new grid. In the replay, the change is at the
    // position the zone records and is not acted on again.
    if (entry.position > zone_.since && (offset != zone_.offset_minutes || zone != zone_.zone)) {
      pending_ = ev::DayZone{offset, entry.position, zone};
      return Applied::kRebuild;
    }
    return Applied::kDone;
  }
  if (!entry.event) return Applied::kDone;
  CASELOOP_RETURN_IF_ERROR(
      ApplyEvaluationEvent(batch, *entry.event, DayGrid(zone_.offset_minutes, zone_.zone)));
  return Applied::kDone;
}

void EvaluationProjection::Seal(Batch& batch) {
  if (!zone_stored_) batch.Put(ev::kZoneKey, ev::EncodeZone(zone_));
}

void EvaluationProjection::Committed(const std::vector<KvOp>& /*ops*/) { zone_stored_ = true; }

void EvaluationProjection::Rebuilding() {
  zone_ = pending_;
  zone_stored_ = false;  // dropped with the other keys
}

Result<DayGrid> EvaluationProjection::StoredGrid() {
  auto v = store_->Get(ev::kZoneKey);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return DayGrid(DefaultZone().offset_minutes);
  auto z = ev::DecodeZone(**v);
  if (!z.ok()) return z.status();
  return DayGrid(z->offset_minutes, z->zone);
}

Result<std::vector<UnitRates>> EvaluationProjection::Rates(const PeriodQuery& q, const Config& config) {
  auto grid = StoredGrid();
  if (!grid.ok()) return grid.status();
  return UnitRatesOf(store_, *grid, q, config, /*by_scan=*/false);
}

// The by-scan references read every record of the window: no day grid.
Result<std::vector<UnitRates>> EvaluationProjection::RatesByScan(const PeriodQuery& q, const Config& config) {
  return UnitRatesOf(store_, DayGrid(0), q, config, /*by_scan=*/true);
}

Result<std::vector<InspectorRates>> EvaluationProjection::Inspectors(const PeriodQuery& q) {
  auto grid = StoredGrid();
  if (!grid.ok()) return grid.status();
  return InspectorRatesOf(store_, *grid, q, /*by_scan=*/false);
}

Result<std::vector<InspectorRates>> EvaluationProjection::InspectorsByScan(const PeriodQuery& q) {
  return InspectorRatesOf(store_, DayGrid(0), q, /*by_scan=*/true);
}

Result<CentreFigures> EvaluationProjection::Centre(const PeriodQuery& q, const Config& config) {
  auto grid = StoredGrid();
  if (!grid.ok()) return grid.status();
  return CentreFiguresOf(store_, *grid, q, config, /*by_scan=*/false);
}

Result<CentreFigures> EvaluationProjection::CentreByScan(const PeriodQuery& q, const Config& config) {
  return CentreFiguresOf(store_, DayGrid(0), q, config, /*by_scan=*/true);
}

}  // namespace caseloop::projections
