#include "projections/centre_figures.h"

#include <algorithm>
#include <string>

#include "projections/batch.h"
#include "projections/evaluation_keys.h"
#include "projections/evaluation_query.h"

namespace caseloop::projections {
namespace {

// Adds the records timed in [lo, hi) to `c`, by scanning them.
Status ExactCentre(ProjectionStore* store, std::int64_t lo_us, std::int64_t hi_us, std::size_t digits,
                   CentreFigures* c) {
  const Instant lo = InstantFromMicros(lo_us), hi = InstantFromMicros(hi_us);
  Status s = ScanTimes(store, ev::kReportPrefix, lo, hi,
                       [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                         auto rep = ev::DecodeReport(k, v);
                         if (!rep.ok()) return rep.status();
                         ++c->received;
                         ++c->received_by_category[std::string(Name(rep->kind)) + "/" + rep->category];
                         if (!rep->grid.empty()) ++c->received_by_grid[rep->grid.substr(0, digits)];
                         return Status::Ok();
                       });
  if (!s.ok()) return s;
  auto count = [&](const char* prefix, std::int64_t* n) {
    return ScanTimes(store, prefix, lo, hi,
                     [&](Instant, std::string_view, std::string_view, std::string_view) {
                       ++*n;
                       return Status::Ok();
                     });
  };
  CASELOOP_RETURN_IF_ERROR(count(ev::kRegisteredPrefix, &c->registered));
  CASELOOP_RETURN_IF_ERROR(count(ev::kRejectedPrefix, &c->rejected));
  CASELOOP_RETURN_IF_ERROR(count(ev::kVoidedPrefix, &c->voided));
  return ScanTimes(store, ev::kClosedPrefix, lo, hi,
                   [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                     if (v.size() != 1) return ev::Malformed(k);
                     ++c->closed;
                     if (v[0] != 0) ++c->closed_on_time;
                     return Status::Ok();
                   });
}

// Adds the whole days [first_day, end_day) from the day counters: every
// record counts on its own day, whatever `at` (the window already ends there).
Status CountedCentre(ProjectionStore* store, std::int64_t first_day, std::int64_t end_day, std::size_t digits,
                     CentreFigures* c) {
  const std::size_t head = ev::kPrefixLen + 8;
  Status bad;
  Status s = store->Scan(ev::CentreKey(first_day, ""), ev::CentreKey(end_day, ""),
                         [&](std::string_view k, std::string_view v) {
                           if (k.size() < head + 1) {
                             bad = ev::Malformed(k);
                             return false;
                           }
                           const char field = k[head];
                           const std::string_view name = k.substr(head + 1);
                           if (field == 'a') {
                             std::int64_t a[ev::kCentreSize];
                             bad = ev::DecodeVector(k, v, a, ev::kCentreSize);
                             if (!bad.ok()) return false;
                             c->received += a[ev::kReceived];
                             c->registered += a[ev::kRegistered];
                             c->rejected += a[ev::kRejected];
                             c->voided += a[ev::kVoided];
                             c->closed += a[ev::kClosed];
                             c->closed_on_time += a[ev::kClosedOnTime];
                             return true;
                           }
                           auto n = DecodeCounter(k, v);
                           if (!n.ok()) {
                             bad = n.status();
                             return false;
                           }
                           if (field == 'c') {
                             c->received_by_category[std::string(name)] += *n;
                           } else if (field == 'g') {
                             c->received_by_grid[std::string(name.substr(0, digits))] += *n;
                           } else {
                             bad = ev::Malformed(k);
                             return false;
                           }
                           return true;
                         });
  if (!s.ok()) return s;
  return bad;
}

}  // namespace

Result<CentreFigures> CentreFiguresOf(ProjectionStore* store, const DayGrid& grid, const PeriodQuery& q,
                                      const Config& config, bool by_scan) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  CentreFigures c;
  const auto digits = static_cast<std::size_t>(std::max(0, config.policy.grid_group_digits));
  const std::int64_t from_us = MicrosOf(win->from), end_us = MicrosOf(win->end);
  auto [first_day, end_day] = WholeDays(grid, from_us, end_us);
  if (by_scan || end_us <= from_us || first_day >= end_day || digits > ev::kGridCounterDigits) {
    CASELOOP_RETURN_IF_ERROR(ExactCentre(store, from_us, end_us, digits, &c));
    return c;
  }
  CASELOOP_RETURN_IF_ERROR(ExactCentre(store, from_us, grid.DayStart(first_day), digits, &c));
  CASELOOP_RETURN_IF_ERROR(ExactCentre(store, grid.DayStart(end_day), end_us, digits, &c));
  CASELOOP_RETURN_IF_ERROR(CountedCentre(store, first_day, end_day, digits, &c));
  return c;
}

}  // namespace caseloop::projections
