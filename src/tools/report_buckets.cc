// The report chart's buckets (tools/report_buckets.h).
#include "tools/report_buckets.h"

#include <algorithm>
#include <chrono>

namespace caseloop::tools {
namespace {

constexpr Micros kDay = std::chrono::hours(24);

struct Ymd {
  int y, m, d;
};

Ymd Split(LocalDate d) {
  const auto ymd = std::chrono::year_month_day(std::chrono::sys_days(std::chrono::days(d)));
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

LocalDate Join(int y, int m, int d) {
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  return static_cast<LocalDate>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

// The first day of the bucket holding `d`, and of the next one.
LocalDate Start(LocalDate d, BucketSize size) {
  const Ymd x = Split(d);
  switch (size) {
    case BucketSize::kDay:
      return d;
    case BucketSize::kWeek:
      return d - WeekdayOf(d);
    case BucketSize::kMonth:
      return Join(x.y, x.m, 1);
    case BucketSize::kYear:
      return Join(x.y, 1, 1);
  }
  return d;
}

LocalDate Next(LocalDate start, BucketSize size) {
  const Ymd x = Split(start);
  switch (size) {
    case BucketSize::kDay:
      return start + 1;
    case BucketSize::kWeek:
      return start + 7;
    case BucketSize::kMonth:
      return x.m == 12 ? Join(x.y + 1, 1, 1) : Join(x.y, x.m + 1, 1);
    case BucketSize::kYear:
      return Join(x.y + 1, 1, 1);
  }
  return start + 1;
}

}  // namespace

BucketSize ChooseBucketSize(Instant from, Instant to) {
  if (!(from < to)) return BucketSize::kDay;
  const auto days = (to - from + kDay - Micros(1)) / kDay;
  if (days <= 31) return BucketSize::kDay;
  if (days <= 184) return BucketSize::kWeek;
  if (days <= 1827) return BucketSize::kMonth;
  return BucketSize::kYear;
}

std::vector<Bucket> MakeBuckets(Instant from, Instant to, int offset_minutes, BucketSize size) {
  Calendar fixed;
  fixed.utc_offset_minutes = offset_minutes;
  return MakeBuckets(from, to, fixed, size);
}

std::vector<Bucket> MakeBuckets(Instant from, Instant to, const Calendar& calendar, BucketSize size) {
  std::vector<Bucket> out;
  if (!(from < to)) return out;
  const LocalDate first = LocalDateOf(calendar, from);
  const LocalDate last = LocalDateOf(calendar, to - Micros(1));
  const bool spans_years = Split(first).y != Split(last).y;
  for (LocalDate s = Start(first, size); s <= last; s = Next(s, size)) {
    Bucket b;
    b.from = std::max(from, LocalMidnight(calendar, s));
    b.to = std::min(to, LocalMidnight(calendar, Next(s, size)));
    const std::string day = FormatLocalDate(std::max(s, first));  // YYYY-MM-DD
    switch (size) {
      case BucketSize::kDay:
      case BucketSize::kWeek:
        b.label = spans_years ? day : day.substr(5);
        break;
      case BucketSize::kMonth:
        b.label = day.substr(0, 7);
        break;
      case BucketSize::kYear:
        b.label = day.substr(0, 4);
        break;
    }
    out.push_back(std::move(b));
  }
  return out;
}

long BucketOf(const std::vector<Bucket>& buckets, Instant t) {
  if (buckets.empty() || t < buckets.front().from || !(t < buckets.back().to)) return -1;
  auto it = std::upper_bound(buckets.begin(), buckets.end(), t,
                             [](Instant v, const Bucket& b) { return v < b.from; });
  return static_cast<long>(it - buckets.begin()) - 1;
}

}  // namespace caseloop::tools
