#include "projections/inspector_figures.h"

#include <array>
#include <map>
#include <string>
#include <utility>

#include "projections/evaluation_keys.h"
#include "projections/evaluation_query.h"

namespace caseloop::projections {
namespace {

using Rows = std::map<std::string, InspectorRates>;

// Adds the records timed in [lo, hi) to the rows, by scanning them.
Status ExactInspectors(ProjectionStore* store, std::int64_t lo_us, std::int64_t hi_us, std::int64_t at_us,
                       const std::string& only, Rows* by_id) {
  const Instant lo = InstantFromMicros(lo_us), hi = InstantFromMicros(hi_us), at = InstantFromMicros(at_us);
  auto row = [&](const std::string& id) -> InspectorRates& {
    auto& r = (*by_id)[id];
    r.inspector = id;
    return r;
  };
  Status s = ScanTimes(store, ev::kReportPrefix, lo, hi,
                       [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                         auto rep = ev::DecodeReport(k, v);
                         if (!rep.ok()) return rep.status();
                         if (rep->source != ReportSource::kInspector) return Status::Ok();
                         if (!only.empty() && rep->reporter != only) return Status::Ok();
                         auto& r = row(rep->reporter);
                         ++r.reports;
                         if (rep->registered && *rep->registered <= at) ++r.valid;
                         return Status::Ok();
                       });
  if (!s.ok()) return s;
  return ScanTimes(store, ev::kFeedbackPrefix, lo, hi,
                   [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                     auto f = ev::DecodeFeedback(k, v);
                     if (!f.ok()) return f.status();
                     if (f->verifier.empty()) return Status::Ok();
                     if (!only.empty() && f->verifier != only) return Status::Ok();
                     auto& r = row(f->verifier);
                     ++r.verifications;
                     if (f->verified && *f->verified <= at &&
                         (!f->verify_deadline || *f->verified <= *f->verify_deadline)) {
                       ++r.verified_on_time;
                     }
                     return Status::Ok();
                   });
}

// Adds the whole days [first_day, end_day) from the day counters; a day with
// a change in the bucket holding a non-midnight `at` record by record.
Status CountedInspectors(ProjectionStore* store, const DayGrid& grid, std::int64_t first_day,
                         std::int64_t end_day, std::int64_t at_us, const std::string& only, Rows* by_id) {
  const BucketCut cut(grid, at_us);
  std::vector<std::int64_t> exact_days;
  std::int64_t day = INT64_MIN;
  bool day_exact = false;
  std::vector<std::pair<std::string, std::array<std::int64_t, ev::kInspectorSize>>> day_rows;
  auto finish_day = [&]() {
    if (day == INT64_MIN) return;
    if (day_exact) {
      exact_days.push_back(day);
      return;
    }
    for (const auto& [id, v] : day_rows) {
      auto& r = (*by_id)[id];
      r.inspector = id;
      r.reports += v[ev::kReports];
      r.valid += v[ev::kValid];
      r.verifications += v[ev::kVerifications];
      r.verified_on_time += v[ev::kVerifiedOnTime];
    }
  };
  const std::size_t head = ev::kPrefixLen;
  std::string start = ev::kInspectorPrefix, stop = ev::kInspectorPrefix;
  AppendOrderedI64(&start, first_day);
  AppendOrderedI64(&stop, end_day);
  Status bad;
  Status s = store->Scan(start, stop, [&](std::string_view k, std::string_view v) {
    if (k.size() < head + 16) {
      bad = ev::Malformed(k);
      return false;
    }
    const std::int64_t d = DecodeOrderedI64(k.substr(head, 8));
    const std::int64_t b = DecodeOrderedI64(k.substr(head + 8, 8));
    if (d != day) {
      finish_day();
      day = d;
      day_exact = false;
      day_rows.clear();
    }
    if (day_exact) return true;
    switch (cut.Of(b)) {
      case BucketCut::Take::kExactDay:
        day_exact = true;
        return true;
      case BucketCut::Take::kSkip:
        return true;
      case BucketCut::Take::kSum:
        break;
    }
    const std::string_view id = k.substr(head + 16);
    if (!only.empty() && id != only) return true;
    std::array<std::int64_t, ev::kInspectorSize> vals{};
    bad = ev::DecodeVector(k, v, vals.data(), ev::kInspectorSize);
    if (!bad.ok()) return false;
    day_rows.emplace_back(std::string(id), vals);
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  finish_day();
  for (std::int64_t d : exact_days) {
    CASELOOP_RETURN_IF_ERROR(
        ExactInspectors(store, grid.DayStart(d), grid.DayStart(d + 1), at_us, only, by_id));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<InspectorRates>> InspectorRatesOf(ProjectionStore* store, const DayGrid& grid,
                                                     const PeriodQuery& q, bool by_scan) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  const std::int64_t from_us = MicrosOf(win->from), end_us = MicrosOf(win->end), at_us = MicrosOf(win->at);
  Rows by_id;
  auto [first_day, end_day] = WholeDays(grid, from_us, end_us);
  if (by_scan || end_us <= from_us || first_day >= end_day) {
    CASELOOP_RETURN_IF_ERROR(ExactInspectors(store, from_us, end_us, at_us, q.unit, &by_id));
  } else {
    CASELOOP_RETURN_IF_ERROR(
        ExactInspectors(store, from_us, grid.DayStart(first_day), at_us, q.unit, &by_id));
    CASELOOP_RETURN_IF_ERROR(ExactInspectors(store, grid.DayStart(end_day), end_us, at_us, q.unit, &by_id));
    CASELOOP_RETURN_IF_ERROR(CountedInspectors(store, grid, first_day, end_day, at_us, q.unit, &by_id));
  }
  std::vector<InspectorRates> out;
  for (auto& [_, r] : by_id) {
    if (!by_scan && r.reports == 0 && r.verifications == 0) continue;  // only changes that cancelled
    r.valid_rate = Ratio(r.valid, r.reports);
    r.verification_on_time_rate = Ratio(r.verified_on_time, r.verifications);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace caseloop::projections
