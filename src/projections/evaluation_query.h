// What the evaluation projection's period queries share: the window of a
// PeriodQuery, scans of the time-keyed records, and the rule that decides
// which day-counter buckets hold at the query instant.
//
// Thread-safety: pure functions; scans only read the store.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_QUERY_H_
#define CASELOOP_PROJECTIONS_EVALUATION_QUERY_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "projections/codec.h"
#include "projections/day_grid.h"
#include "projections/evaluation_keys.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// A period query's window for time-keyed records: [from, end) with end =
// min(to, at + 1 µs) — what happened after `at` is not yet known.
struct Window {
  Instant from{};
  Instant end{};
  Instant at{};
};
// Errors: InvalidArgument when `to` is before `from`.
Result<Window> WindowOf(const PeriodQuery& q);

// n / d; nullopt when d == 0.
std::optional<double> Ratio(std::int64_t n, std::int64_t d);

// The whole local days inside [from, end): [first, end_day).
std::pair<std::int64_t, std::int64_t> WholeDays(const DayGrid& grid, std::int64_t from_us,
                                                std::int64_t end_us);

// Which change buckets of whole days hold at `at` (docs/projections.md, "What
// a period query costs"): a bucket up to the one ending at `at` counts, later
// ones do not; when `at` is not a local midnight, the bucket holding it is
// ambiguous, and a day with a change there is evaluated record by record.
class BucketCut {
 public:
  enum class Take { kSum, kSkip, kExactDay };
  BucketCut(const DayGrid& grid, std::int64_t at_us)
      : at_bucket_(grid.ChangeBucketOf(at_us)),
        at_midnight_(grid.DayStart(at_bucket_ + 1) == at_us),
        last_bucket_(at_midnight_ ? at_bucket_ : at_bucket_ - 1) {}
  Take Of(std::int64_t bucket) const {
    if (!at_midnight_ && bucket == at_bucket_) return Take::kExactDay;
    return bucket > last_bucket_ ? Take::kSkip : Take::kSum;
  }

 private:
  std::int64_t at_bucket_;
  bool at_midnight_;
  std::int64_t last_bucket_;
};

// Scans the time-keyed prefix (ev/r/, ev/f/, ...) over [from, end) and calls
// fn(time, case, key, value) -> Status until one fails.
template <typename Fn>
Status ScanTimes(ProjectionStore* store, const char* prefix, Instant from, Instant end, Fn&& fn) {
  if (end <= from) return Status::Ok();
  Status bad;
  Status s = store->Scan(ev::TimeKey(prefix, from, ""), ev::TimeKey(prefix, end, ""),
                         [&](std::string_view k, std::string_view v) {
                           if (k.size() < ev::kPrefixLen + 8) {
                             bad = ev::Malformed(k);
                             return false;
                           }
                           Instant t = InstantFromMicros(DecodeOrderedI64(k.substr(ev::kPrefixLen, 8)));
                           bad = fn(t, k.substr(ev::kPrefixLen + 8), k, v);
                           return bad.ok();
                         });
  if (!s.ok()) return s;
  return bad;
}

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_QUERY_H_
