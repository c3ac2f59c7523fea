#include "projections/unit_figures.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "caseloop/unit_metrics.h"
#include "projections/evaluation_keys.h"
#include "projections/evaluation_query.h"
#include "projections/timeline.h"

namespace caseloop::projections {
namespace {

// The summed contributions of `unit`'s records first dispatched in [lo, hi),
// as of `at`, by evaluating every record.
Result<UnitCounts> ExactUnitCounts(ProjectionStore* store, const std::string& unit, std::int64_t lo_us,
                                   std::int64_t hi_us, std::int64_t at_us) {
  UnitCounts sum;
  if (hi_us <= lo_us) return sum;
  Status bad;
  Status s = store->Scan(ev::UnitRecordKey(unit, InstantFromMicros(lo_us)),
                         ev::UnitRecordKey(unit, InstantFromMicros(hi_us)),
                         [&](std::string_view k, std::string_view v) {
                           auto facts = ParseTimeline(k, v);
                           if (!facts.ok()) {
                             bad = facts.status();
                             return false;
                           }
                           sum.Add(ContributionOf(EvaluateFacts(*facts, at_us)));
                           return true;
                         });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return sum;
}

// The same from the day counters for the whole local days inside [from, to),
// and record by record for the partial days at either end and for the days
// with a change in the bucket holding a non-midnight `at`.
Result<UnitCounts> UnitCountsOf(ProjectionStore* store, const DayGrid& grid, const std::string& unit,
                                std::int64_t from_us, std::int64_t to_us, std::int64_t at_us) {
  UnitCounts sum;
  if (to_us <= from_us) return sum;
  auto [first_day, end_day] = WholeDays(grid, from_us, to_us);
  if (first_day >= end_day) return ExactUnitCounts(store, unit, from_us, to_us, at_us);
  auto head = ExactUnitCounts(store, unit, from_us, grid.DayStart(first_day), at_us);
  if (!head.ok()) return head.status();
  sum.Add(*head);
  auto tail = ExactUnitCounts(store, unit, grid.DayStart(end_day), to_us, at_us);
  if (!tail.ok()) return tail.status();
  sum.Add(*tail);
  const BucketCut cut(grid, at_us);
  std::vector<std::int64_t> exact_days;
  std::int64_t day = INT64_MIN;
  UnitCounts day_sum;
  bool day_exact = false;
  auto finish_day = [&]() {
    if (day == INT64_MIN) return;
    if (day_exact) {
      exact_days.push_back(day);
    } else {
      sum.Add(day_sum);
    }
  };
  Status bad;
  const std::size_t day_offset = ev::CounterDayKey(unit, 0).size() - 8;
  Status s = store->Scan(ev::CounterDayKey(unit, first_day), ev::CounterDayKey(unit, end_day),
                         [&](std::string_view k, std::string_view v) {
                           if (k.size() != day_offset + 16) {
                             bad = ev::Malformed(k);
                             return false;
                           }
                           const std::int64_t d = DecodeOrderedI64(k.substr(day_offset, 8));
                           const std::int64_t b = DecodeOrderedI64(k.substr(day_offset + 8, 8));
                           if (d != day) {
                             finish_day();
                             day = d;
                             day_sum = UnitCounts{};
                             day_exact = false;
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
                           UnitCounts c;
                           bad = ev::DecodeVector(k, v, c.v, UnitCounts::kSize);
                           if (!bad.ok()) return false;
                           day_sum.Add(c);
                           return true;
                         });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  finish_day();
  for (std::int64_t d : exact_days) {
    auto c = ExactUnitCounts(store, unit, grid.DayStart(d), grid.DayStart(d + 1), at_us);
    if (!c.ok()) return c.status();
    sum.Add(*c);
  }
  return sum;
}

}  // namespace

Result<std::vector<UnitRates>> UnitRatesOf(ProjectionStore* store, const DayGrid& grid, const PeriodQuery& q,
                                           const Config& config, bool by_scan) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  std::set<std::string> units;
  if (!q.unit.empty()) {
    units.insert(q.unit);
  } else {
    for (const auto& [id, _] : config.units) units.insert(id);
    Status s = store->Scan(ev::kUnitListPrefix, ev::kUnitListEnd, [&](std::string_view k, std::string_view) {
      units.emplace(k.substr(ev::kPrefixLen));
      return true;
    });
    if (!s.ok()) return s;
    // A unit retired by the period's start has no row: nothing can be first
    // dispatched to it then. A period it was active in still lists it.
    for (const auto& [id, info] : config.units) {
      if (info.retired && *info.retired <= q.from) units.erase(id);
    }
  }
  const std::int64_t from_us = MicrosOf(q.from), to_us = MicrosOf(q.to), at_us = MicrosOf(win->at);
  std::vector<UnitRates> out;
  for (const auto& unit : units) {
    auto counts = by_scan ? ExactUnitCounts(store, unit, from_us, to_us, at_us)
                          : UnitCountsOf(store, grid, unit, from_us, to_us, at_us);
    if (!counts.ok()) return counts.status();
    UnitRates r;
    r.unit = unit;
    for (int i = 0; i < UnitCounts::kSteps; ++i) r.*kCountFields[i] = counts->v[i];
    ScoreUnit(r, config.weights);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const UnitRates& a, const UnitRates& b) {
    if (a.score.has_value() != b.score.has_value()) return a.score.has_value();
    if (a.score && *a.score != *b.score) return *a.score > *b.score;
    return a.unit < b.unit;
  });
  return out;
}

void ScoreUnit(UnitRates& r, const Weights& w) {
  // Derived counts, then rates, in table order (a derived count follows its
  // operands, a rate its counts).
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.kind == UnitMetric::Kind::kCount) {
      if (m.minuend != nullptr) r.*m.count = r.*m.minuend - r.*m.subtrahend;
    } else {
      r.*m.rate = Ratio(r.*m.numerator, r.*m.denominator);
    }
  }
  r.score.reset();
  r.grade.reset();
  // Σ weightᵢ × termᵢ normalized by the weights' sum, summed in table order.
  double total = 0;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight != nullptr) total += w.*m.weight;
  }
  if (r.due == 0 || !(total > 0)) return;
  double sum = 0;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight == nullptr) continue;
    const double rate = (r.*m.rate).value_or(0);  // a null rate counts as 0
    sum += (m.inverted ? 1 - rate : rate) * w.*m.weight;
  }
  double score = sum * (100.0 / total);
  r.score = std::round(score * 100.0) / 100.0;
  r.grade = GradeOf(*r.score);
}

}  // namespace caseloop::projections
