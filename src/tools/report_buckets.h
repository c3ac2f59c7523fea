// tools/report_buckets.h — the time axis of the report's received/closed
// chart (private to src/tools): buckets that fit the period.
#ifndef CASELOOP_TOOLS_REPORT_BUCKETS_H_
#define CASELOOP_TOOLS_REPORT_BUCKETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/time.h"

namespace caseloop::tools {

// Indexes ReportStrings::counts_heading / counts_col.
enum class BucketSize { kDay = 0, kWeek = 1, kMonth = 2, kYear = 3 };

// Days up to a month (31 days), weeks up to half a year (184 days), months up
// to five years (1,827 days), years beyond. The length is counted in whole
// days, a part of a day as a day.
BucketSize ChooseBucketSize(Instant from, Instant to);

struct Bucket {
  Instant from{};  // [from, to): local midnights, clipped to the period
  Instant to{};
  std::string label;  // its first day in the period ("12-25"), month ("2025-03") or year ("2025")
  std::int64_t received = 0;
  std::int64_t closed = 0;
};

// The buckets of `size` covering [from, to) at `offset_minutes` east of UTC:
// days; weeks from Monday to Sunday (the first and last may be partial);
// calendar months; calendar years. Day and week labels carry the year when
// the period spans more than one year ("2024-12-30"), else "MM-DD"; months are
// "YYYY-MM", years "YYYY". Empty when from >= to.
std::vector<Bucket> MakeBuckets(Instant from, Instant to, int offset_minutes, BucketSize size);
// The same under the calendar's zone or offset (a zone's days may last 23 or 25 hours).
std::vector<Bucket> MakeBuckets(Instant from, Instant to, const Calendar& calendar, BucketSize size);

// The index of the bucket holding `t`, or -1 when t is outside them.
long BucketOf(const std::vector<Bucket>& buckets, Instant t);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_REPORT_BUCKETS_H_
