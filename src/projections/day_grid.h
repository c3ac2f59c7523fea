// The local days of the evaluation projection's day counters (ev/k/, ev/i/,
// ev/e/). A day is [00:00, 24:00) at the grid's UTC offset, or in the grid's
// IANA zone when it has one (a day of 23 or 25 hours at a DST transition); a change bucket
// is the same day shifted by one microsecond, (00:00, 24:00], so that a query
// instant at a local midnight never falls inside one. The offset is the
// calendar's (docs/projections.md, "Day counters"): a query whose bounds are
// local midnights of the same offset reads whole days from the counters.
//
// On-disk format: days and buckets are stored in keys; changing these rules
// means bumping the evaluation projection's format version.
//
// Thread-safety: a plain value.
#ifndef CASELOOP_PROJECTIONS_DAY_GRID_H_
#define CASELOOP_PROJECTIONS_DAY_GRID_H_

#include <cstdint>
#include <string>

#include "caseloop/calendar.h"

namespace caseloop::projections {

inline constexpr std::int64_t kDayUs = 86'400'000'000;

// floor(a / b) for b > 0.
inline std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

class DayGrid {
 public:
  // REQUIRES: |offset_minutes| < 24 h (the calendar's range).
  explicit DayGrid(int offset_minutes) : offset_us_(std::int64_t{offset_minutes} * 60'000'000) {}
  // With an IANA zone name (empty: the fixed offset).
  DayGrid(int offset_minutes, const std::string& zone) : DayGrid(offset_minutes) { zone_.zone = zone; }

  // The local day holding the instant `us` (µs since the epoch).
  std::int64_t DayOf(std::int64_t us) const {
    if (!zone_.zone.empty()) return LocalDateOf(zone_, InstantFromMicros(us));
    return FloorDiv(us + offset_us_, kDayUs);
  }
  // The instant at which local day `day` starts.
  std::int64_t DayStart(std::int64_t day) const {
    if (!zone_.zone.empty()) return MicrosOf(LocalMidnight(zone_, static_cast<LocalDate>(day)));
    return day * kDayUs - offset_us_;
  }
  // The change bucket holding `us`: day b covers (DayStart(b), DayStart(b + 1)].
  std::int64_t ChangeBucketOf(std::int64_t us) const {
    if (!zone_.zone.empty()) return DayOf(us - 1);
    return FloorDiv(us - 1 + offset_us_, kDayUs);
  }
  // Whether `us` is a local midnight.
  bool IsMidnight(std::int64_t us) const { return DayStart(DayOf(us)) == us; }

 private:
  std::int64_t offset_us_;
  Calendar zone_;  // only its zone is read
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_DAY_GRID_H_
