// The (case, unit) timeline of the evaluation projection and its pure
// evaluation (domain.md §7): what one case says about one unit as of an
// instant, what it adds to the unit's counts, and where that contribution
// changes. No store access: everything here is a function of the facts.
//
// A timeline (the value of ev/u/<unit>\0<be64 first dispatch><case>) is a
// version byte followed by facts, each `code, time (zig-zag varint µs),
// deadline?, flag` (docs/projections.md, "Evaluation projection").
//
// Thread-safety: pure functions.
#ifndef CASELOOP_PROJECTIONS_TIMELINE_H_
#define CASELOOP_PROJECTIONS_TIMELINE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "projections/day_grid.h"

namespace caseloop::projections {

// The facts of a timeline. On-disk format: do not renumber.
enum class Fact : std::uint8_t {
  kAssign = 0,    // dispatched to the unit; deadline of the task (none: no deadline)
  kRework = 1,    // the latest feedback failed verification; a new task with this deadline
  kExtend = 2,    // an extension was approved; the new deadline
  kSuspend = 3,   // suspension approved: the clock stops
  kResume = 4,    // resumed; the new deadline
  kFeedback = 5,  // feedback submitted; flag = on time
  kPass = 6,      // verification passed (closed)
  kReturn = 7,    // the return was approved: the case left the unit
  kVoid = 8,      // voided or merged
};
inline constexpr std::uint8_t kTimelineVersion = 1;

// One decoded fact of a timeline.
struct TimelineFact {
  std::uint8_t code = 0;
  std::int64_t time_us = 0;
  std::optional<std::int64_t> deadline_us;
  bool flag = false;
};

// An empty timeline (the version byte only).
std::string NewTimeline();
// Appends the encoding of `fact` to `timeline`.
void AppendFact(std::string* timeline, const TimelineFact& fact);
// Decodes a whole timeline. Errors: Corruption naming `key` (bad bytes,
// unknown version or fact code).
Result<std::vector<TimelineFact>> ParseTimeline(std::string_view key, std::string_view timeline);

// What one (case, unit) timeline says as of an instant.
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

// Facts with a time after `at_us` are ignored; the rest are replayed in order.
UnitCaseFacts EvaluateFacts(const std::vector<TimelineFact>& facts, std::int64_t at_us);
// Parses and evaluates. Errors: as ParseTimeline.
Result<UnitCaseFacts> EvaluateTimeline(std::string_view key, std::string_view timeline, Instant at);

// What one (case, unit) record adds to a unit's Rates counts as of some T:
// each of due, handled, on_time, reworked, extended is 0 or 1. This is where
// a unit count is defined: a slot here, the UnitRates field it fills
// (kCountFields), and its rule in ContributionOf; how it is shown, derived
// and weighted is a row of kUnitMetrics (caseloop/unit_metrics.h). In the ev/k
// counters, `steps` also counts the contribution changes filed in
// the bucket: deltas of different records (or of one record) may cancel, the
// step count does not, so a bucket holds a key exactly while some change
// falls in it. On-disk format: the slots are stored in this order (ev/k/
// values); appending one means bumping the evaluation format version.
struct UnitCounts {
  enum : int { kDue = 0, kHandled, kOnTime, kReworked, kExtended, kSteps, kSize };
  std::int64_t v[kSize] = {0, 0, 0, 0, 0, 0};
  void Add(const UnitCounts& o) {
    for (int i = 0; i < kSize; ++i) v[i] += o.v[i];
  }
  bool Zero() const {
    for (std::int64_t x : v) {
      if (x != 0) return false;
    }
    return true;
  }
};
UnitCounts ContributionOf(const UnitCaseFacts& f);
// The UnitRates field each count slot fills (kSteps is bookkeeping).
inline constexpr std::array<std::int64_t UnitRates::*, UnitCounts::kSteps> kCountFields = {
    &UnitRates::due, &UnitRates::handled, &UnitRates::on_time, &UnitRates::reworked, &UnitRates::extended};

// Appends the contribution steps of a timeline as (change bucket, delta ×
// sign) pairs: the contribution as of T is the sum of the deltas of every
// step at or before T. Exact: the contribution can only change at a fact's
// time or one microsecond after a deadline, and every such point is a step.
void AddTimelineSteps(const std::vector<TimelineFact>& facts, std::int64_t sign, const DayGrid& grid,
                      std::vector<std::pair<std::int64_t, UnitCounts>>* out);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_TIMELINE_H_
