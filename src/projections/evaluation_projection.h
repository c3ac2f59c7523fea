// The evaluation projection (综合评价, domain.md §7). Period queries read only
// the records of the period: every record is keyed by the time that decides
// the period it belongs to. Keys (all under "ev/"; see docs/projections.md):
//   ev/c/<case>                               -> per-case state while the case is open
//   ev/n/<unit>                               -> "" (every unit that ever had a dispatch)
//   ev/u/<unit>\0<be64 first dispatch><case>  -> the case's timeline for that unit
//   ev/r/<be64 report time><case>             -> report: reporter, source, kind, category, grid, registered
//   ev/f/<be64 feedback time><case>           -> verification assignment: verifier, deadline, verified
//   ev/g/ ev/j/ ev/v/ <be64 time><case>       -> registered / rejected / voided at that time
//   ev/z/<be64 close time><case>              -> closed; value: on_time of the surviving feedback
//   ev/k/<unit>\0<be64 day of first dispatch><be64 change bucket>
//                                             -> additive counters behind Rates (see UnitCounts)
//   ev/i/<be64 day><be64 change bucket><inspector> -> counters behind Inspectors
//   ev/e/<be64 day><field>                    -> counters behind Centre
//
// Thread-safety: Apply is called by one CatchUp at a time; queries only read
// the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
#define CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/projections.h"
#include "projections/batch.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// What one (case, unit) timeline says as of an instant (exposed for tests).
struct UnitCaseFacts {
  bool in_population = false;  // dispatched to the unit by T, not returned, voided or merged by T
  bool handled = false;
  bool overdue = false;
  bool on_time = false;   // handled and the surviving feedback met its deadline
  bool reworked = false;  // at least one failed verification by T
  bool extended = false;  // at least one approved extension by T
  bool suspended = false;
  std::optional<Instant> deadline;  // in force at T
};

// Evaluates an encoded timeline at `at`. Errors: Corruption naming `key`.
Result<UnitCaseFacts> EvaluateTimeline(std::string_view key, std::string_view timeline, Instant at);

// One decoded fact of a timeline (codes: see the Fact enum in the .cc).
struct TimelineFact {
  std::uint8_t code = 0;
  std::int64_t time_us = 0;
  std::optional<std::int64_t> deadline_us;
  bool flag = false;
};
// Decodes a whole timeline. Errors: Corruption naming `key` (bad bytes,
// unknown version or fact code).
Result<std::vector<TimelineFact>> ParseTimeline(std::string_view key, std::string_view timeline);
UnitCaseFacts EvaluateFacts(const std::vector<TimelineFact>& facts, std::int64_t at_us);

// What one (case, unit) record adds to a unit's Rates counts as of some T:
// each of due, handled, on_time, reworked, extended is 0 or 1. In the ev/k
// counters, `steps` also counts the contribution changes filed in the bucket:
// deltas of different records (or of one record) may cancel, the step count
// does not, so a bucket holds a key exactly while some change falls in it.
struct UnitCounts {
  enum : int { kDue = 0, kHandled, kOnTime, kReworked, kExtended, kSteps, kSize };
  std::int64_t v[kSize] = {0, 0, 0, 0, 0, 0};
};
UnitCounts ContributionOf(const UnitCaseFacts& f);

// The day buckets of the Rates counters (ev/k/). A record is filed under the
// local day of its first dispatch (days [00:00, 24:00) at a fixed +08:00, the
// calendar's default offset); each change of its contribution is filed under
// the change bucket of the instant T from which it holds: bucket b covers
// (start of day b, start of day b + 1], so a query instant at a local midnight
// never falls inside a bucket. On-disk format: changing the offset or the
// bucket rules means bumping the evaluation projection's format version.
inline constexpr std::int64_t kDayUs = 86'400'000'000;
inline constexpr std::int64_t kCounterDayOffsetUs = 8LL * 3'600'000'000;
inline std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
std::int64_t LocalDayOf(std::int64_t us);
std::int64_t LocalDayStart(std::int64_t day);
std::int64_t ChangeBucketOf(std::int64_t us);

// Appends the contribution steps of a timeline as (change bucket, delta × sign)
// pairs: the contribution as of T is the sum of the deltas of every step at
// or before T. Exact: the contribution can only change at a fact's time or
// one microsecond after a deadline, and every such point is a step.
void AddTimelineSteps(const std::vector<TimelineFact>& facts, std::int64_t sign,
                      std::vector<std::pair<std::int64_t, UnitCounts>>* out);

// The composite score of domain.md §7 from `r`'s counts; fills the rates,
// score and grade. Weights are normalized by their sum (out of 100).
void ScoreUnit(UnitRates& r, const Weights& w);

class EvaluationProjection {
 public:
  static constexpr char kName[] = "evaluation";
  static constexpr char kPrefix[] = "ev/";

  explicit EvaluationProjection(ProjectionStore* store) : store_(store) {}

  // Applies one decoded case event to `batch`. Errors: Corruption (a stored
  // value cannot be decoded), IOError from the store.
  Status Apply(Batch& batch, const CaseEvent& e);

  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q);
  Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config);

  // The same figures by evaluating every record of the period, without the
  // day counters: the reference the counters are tested against.
  Result<std::vector<UnitRates>> RatesByScan(const PeriodQuery& q, const Config& config);
  Result<std::vector<InspectorRates>> InspectorsByScan(const PeriodQuery& q);
  Result<CentreFigures> CentreByScan(const PeriodQuery& q, const Config& config);

 private:
  Result<std::vector<UnitRates>> RatesImpl(const PeriodQuery& q, const Config& config, bool by_scan);
  // The summed contributions of `unit`'s records first dispatched in
  // [from, to), as of `at`: counters for whole local days, records elsewhere.
  Result<UnitCounts> UnitCountsOf(const std::string& unit, std::int64_t from_us, std::int64_t to_us,
                                  std::int64_t at_us);
  // The same by evaluating every record first dispatched in [lo, hi).
  Result<UnitCounts> ExactUnitCounts(const std::string& unit, std::int64_t lo_us, std::int64_t hi_us,
                                     std::int64_t at_us);

  // Inspector rows / centre figures of the records timed in [lo, hi), by scanning them.
  Status ExactInspectors(std::int64_t lo_us, std::int64_t hi_us, std::int64_t at_us, const std::string& only,
                         std::map<std::string, InspectorRates>* by_id);
  Status ExactCentre(std::int64_t lo_us, std::int64_t hi_us, std::size_t digits, CentreFigures* c);

  ProjectionStore* store_;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_EVALUATION_PROJECTION_H_
