// Working-time arithmetic (caseloop/calendar.h).
//
// An instant is mapped to a local day number and a time of day (microseconds
// after local midnight) with the calendar's fixed offset. Working time is the
// union of the daily periods of working days. Long amounts are resolved by
// counting whole working days (a week at a time between holidays and
// adjusted days), so the cost grows with the number of special days in the
// range, not with its length.
#include "caseloop/calendar.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "calendar/text_util.h"

namespace caseloop {

using namespace calendar_internal;

namespace {

constexpr std::int64_t kDay = kMicrosPerDay;
// Arithmetic is done on instants within about ±126,000 years of the epoch so
// that nothing can overflow; beyond that NextWorkingMoment/AddWorkingTime
// answer "never" (Instant::max()) and WorkingTimeBetween clamps.
constexpr std::int64_t kMaxMicros = 4'000'000'000'000'000'000;
constexpr std::int64_t kMinMicros = -kMaxMicros;
constexpr std::int64_t kMaxDay = kMaxMicros / kDay - 2;
constexpr std::int64_t kNoDay = std::numeric_limits<std::int64_t>::max();
const Instant kNever = Instant::max();

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t Clamp(std::int64_t v) { return std::clamp(v, kMinMicros, kMaxMicros); }

Instant SaturatingAdd(Instant t, Micros d) {
  std::int64_t out;
  if (__builtin_add_overflow(MicrosOf(t), d.count(), &out)) {
    return d.count() > 0 ? Instant::max() : Instant::min();
  }
  return InstantFromMicros(out);
}

std::int64_t SaturatingMul(std::int64_t a, std::int64_t b) {
  std::int64_t out;
  if (__builtin_mul_overflow(a, b, &out)) {
    return ((a < 0) != (b < 0)) ? std::numeric_limits<std::int64_t>::min()
                                : std::numeric_limits<std::int64_t>::max();
  }
  return out;
}

bool WeekdayWorks(std::uint8_t mask, std::int64_t day) {
  return (mask >> WeekdayOf(static_cast<LocalDate>(day)) & 1) != 0;
}

// Weekday rule, then holidays, then adjusted working days (which win).
bool IsWorking(const Calendar& cal, std::int64_t day) {
  auto d = static_cast<LocalDate>(day);
  if (cal.extra_workdays.count(d) != 0) return true;
  return WeekdayWorks(cal.workdays & 0x7F, day) && cal.holidays.count(d) == 0;
}

// The calendar prepared for arithmetic: periods clamped into the day, sorted
// and merged (so that an unvalidated calendar still gives defined answers).
class Plan {
 public:
  explicit Plan(const Calendar& cal) : cal_(cal), mask_(cal.workdays & 0x7F) {
    std::vector<std::pair<std::int64_t, std::int64_t>> raw;
    for (const WorkPeriod& p : cal.periods) {
      int s = std::clamp(p.start_minute, 0, 1440);
      int e = std::clamp(p.end_minute, 0, 1440);
      if (e > s) raw.emplace_back(s * kMicrosPerMinute, e * kMicrosPerMinute);
    }
    std::sort(raw.begin(), raw.end());
    for (const auto& p : raw) {
      if (!spans_.empty() && p.first <= spans_.back().second) {
        spans_.back().second = std::max(spans_.back().second, p.second);
      } else {
        spans_.push_back(p);
      }
    }
    for (const auto& s : spans_) per_day_ += s.second - s.first;
    weekly_ = std::popcount(static_cast<unsigned>(mask_));
    offset_ = std::int64_t{cal.utc_offset_minutes} * kMicrosPerMinute;
  }

  // Working microseconds per working day; 0 means there is no working time.
  std::int64_t per_day() const { return per_day_; }
  const std::vector<std::pair<std::int64_t, std::int64_t>>& spans() const { return spans_; }

  // REQUIRES: micros within [kMinMicros, kMaxMicros].
  std::pair<std::int64_t, std::int64_t> ToLocal(std::int64_t micros) const {
    std::int64_t local = micros + offset_;
    std::int64_t day = FloorDiv(local, kDay);
    return {day, local - day * kDay};
  }
  Instant FromLocal(std::int64_t day, std::int64_t tod) const {
    return InstantFromMicros(day * kDay + tod - offset_);
  }

  bool WeekdayWorks(std::int64_t day) const { return caseloop::WeekdayWorks(mask_, day); }
  bool IsWorking(std::int64_t day) const { return caseloop::IsWorking(cal_, day); }

  // Working microseconds of `day` inside [lo, hi) (times of day).
  std::int64_t DayWork(std::int64_t day, std::int64_t lo, std::int64_t hi) const {
    if (hi <= lo || !IsWorking(day)) return 0;
    std::int64_t sum = 0;
    for (const auto& [s, e] : spans_) sum += std::max<std::int64_t>(0, std::min(e, hi) - std::max(s, lo));
    return sum;
  }

  // The number of days in [from, to) that work by the weekday rule alone.
  std::int64_t WeekdayCount(std::int64_t from, std::int64_t to) const {
    if (to <= from) return 0;
    std::int64_t n = to - from;
    std::int64_t count = n / 7 * weekly_;
    int wd = WeekdayOf(static_cast<LocalDate>(from));
    for (std::int64_t i = 0; i < n % 7; ++i) count += (mask_ >> ((wd + i) % 7)) & 1;
    return count;
  }

  // The number of working days in [from, to).
  std::int64_t CountWorkingDays(std::int64_t from, std::int64_t to) const {
    if (to <= from) return 0;
    std::int64_t count = WeekdayCount(from, to);
    auto lo = static_cast<LocalDate>(from);
    auto hi = static_cast<LocalDate>(to);
    for (auto it = cal_.holidays.lower_bound(lo); it != cal_.holidays.end() && *it < hi; ++it) {
      if (WeekdayWorks(*it) && cal_.extra_workdays.count(*it) == 0) --count;
    }
    for (auto it = cal_.extra_workdays.lower_bound(lo); it != cal_.extra_workdays.end() && *it < hi; ++it) {
      if (!WeekdayWorks(*it)) ++count;
    }
    return count;
  }

  // The day of the n-th working day counting from `day` (inclusive), n >= 1;
  // kNoDay when there is none up to kMaxDay. Between two special days
  // (holidays, adjusted days) only the weekday rule applies, so the count is
  // arithmetic: the cost is O(special days passed + log of their number).
  std::int64_t NthWorkingDay(std::int64_t day, std::int64_t n) const {
    auto h = cal_.holidays.lower_bound(static_cast<LocalDate>(day));
    auto x = cal_.extra_workdays.lower_bound(static_cast<LocalDate>(day));
    for (;;) {
      const bool more_h = h != cal_.holidays.end();
      const bool more_x = x != cal_.extra_workdays.end();
      if (!more_h && !more_x) break;
      const std::int64_t special = std::min<std::int64_t>(more_h ? *h : kNoDay, more_x ? *x : kNoDay);
      if (special > kMaxDay) break;  // beyond the instants we compute with
      const std::int64_t before = WeekdayCount(day, special);
      if (before >= n) break;  // the answer lies before the next special day
      n -= before;
      // The special day itself: an adjusted day works, a holiday does not.
      const bool is_extra = more_x && *x == special;
      if (more_h && *h == special) ++h;
      if (is_extra) ++x;
      if (is_extra && --n == 0) return special;
      day = special + 1;
    }
    if (weekly_ == 0) return kNoDay;
    // Only the weekday rule from here on: whole weeks, then at most a week.
    const std::int64_t weeks = (n - 1) / weekly_;
    day += weeks * 7;
    n -= weeks * weekly_;
    if (day > kMaxDay) return kNoDay;
    for (;; ++day) {
      if (WeekdayWorks(day) && --n == 0) return day > kMaxDay ? kNoDay : day;
    }
  }

 private:
  const Calendar& cal_;
  std::uint8_t mask_;
  std::vector<std::pair<std::int64_t, std::int64_t>> spans_;
  std::int64_t per_day_ = 0;
  int weekly_ = 0;
  std::int64_t offset_ = 0;
};

Instant NextWorkingMomentIn(const Plan& plan, Instant t) {
  if (plan.per_day() == 0 || MicrosOf(t) > kMaxMicros) return kNever;
  auto [day, tod] = plan.ToLocal(std::max(MicrosOf(t), kMinMicros));
  if (plan.IsWorking(day)) {
    for (const auto& [s, e] : plan.spans()) {
      if (tod < e) return plan.FromLocal(day, std::max(tod, s));
    }
  }
  std::int64_t next = plan.NthWorkingDay(day + 1, 1);
  if (next == kNoDay) return kNever;
  return plan.FromLocal(next, plan.spans().front().first);
}

}  // namespace

int Calendar::WorkingMinutesPerDay() const {
  return static_cast<int>(Plan(*this).per_day() / kMicrosPerMinute);
}

bool Calendar::IsWorkingDay(LocalDate d) const { return IsWorking(*this, d); }

int WeekdayOf(LocalDate d) {
  using namespace std::chrono;
  return static_cast<int>(weekday(sys_days{days{d}}).iso_encoding()) - 1;
}

LocalDate LocalDateOf(const Calendar& cal, Instant t) { return LocalDateOf(t, cal.utc_offset_minutes); }

LocalDate LocalDateOf(Instant t, int offset_minutes) {
  std::int64_t local = Clamp(MicrosOf(t)) + std::int64_t{offset_minutes} * kMicrosPerMinute;
  return static_cast<LocalDate>(FloorDiv(local, kDay));
}

Instant LocalMidnight(LocalDate d, int offset_minutes) {
  return InstantFromMicros(std::int64_t{d} * kDay - std::int64_t{offset_minutes} * kMicrosPerMinute);
}

Instant NextWorkingMoment(const Calendar& cal, Instant t) { return NextWorkingMomentIn(Plan(cal), t); }

Instant AddWorkingTime(const Calendar& cal, Instant start, Micros amount) {
  if (amount.count() <= 0) return start;
  Plan plan(cal);
  Instant s = NextWorkingMomentIn(plan, start);
  if (s == kNever) return kNever;
  auto [day, tod] = plan.ToLocal(MicrosOf(s));
  std::int64_t left = amount.count();
  // The rest of the first day (a working day: s is a working moment).
  for (const auto& [ps, pe] : plan.spans()) {
    if (tod >= pe) continue;
    std::int64_t from = std::max(tod, ps);
    if (left <= pe - from) return plan.FromLocal(day, from + left);
    left -= pe - from;
  }
  // Whole working days, then the part of the last one.
  const std::int64_t w = plan.per_day();
  std::int64_t n = (left - 1) / w + 1;       // the result lies in the n-th working day after `day`
  std::int64_t in_day = left - (n - 1) * w;  // in (0, w]
  if (n > kMaxDay) return kNever;
  std::int64_t last = plan.NthWorkingDay(day + 1, n);
  if (last == kNoDay) return kNever;
  for (const auto& [ps, pe] : plan.spans()) {
    if (in_day <= pe - ps) return plan.FromLocal(last, ps + in_day);
    in_day -= pe - ps;
  }
  return kNever;  // unreachable: in_day <= w
}

Micros WorkingTimeBetween(const Calendar& cal, Instant a, Instant b) {
  std::int64_t am = Clamp(MicrosOf(a));
  std::int64_t bm = Clamp(MicrosOf(b));
  if (bm <= am) return Micros(0);
  Plan plan(cal);
  if (plan.per_day() == 0) return Micros(0);
  auto [da, ta] = plan.ToLocal(am);
  auto [db, tb] = plan.ToLocal(bm);
  if (da == db) return Micros(plan.DayWork(da, ta, tb));
  return Micros(plan.DayWork(da, ta, kDay) + plan.CountWorkingDays(da + 1, db) * plan.per_day() +
                plan.DayWork(db, 0, tb));
}

Micros LimitLength(const Calendar& cal, const TimeLimit& limit) {
  if (limit.amount <= 0) return Micros(0);
  switch (limit.unit) {
    case TimeLimit::Unit::kNatural:
    case TimeLimit::Unit::kWorking:
      return Micros(SaturatingMul(limit.amount, kMicrosPerMinute));
    case TimeLimit::Unit::kWorkingDays:
      return Micros(SaturatingMul(limit.amount, SaturatingMul(cal.WorkingMinutesPerDay(), kMicrosPerMinute)));
  }
  return Micros(0);
}

Instant DeadlineAfter(const Calendar& cal, Instant start, const TimeLimit& limit) {
  return AddOnClock(cal, limit.unit, start, LimitLength(cal, limit));
}

Micros RemainingTime(const Calendar& cal, const TimeLimit::Unit clock, Instant now, Instant deadline) {
  if (deadline <= now) return Micros(0);
  if (clock == TimeLimit::Unit::kNatural) {
    std::int64_t out;
    if (__builtin_sub_overflow(MicrosOf(deadline), MicrosOf(now), &out)) return Micros::max();
    return Micros(out);
  }
  return WorkingTimeBetween(cal, now, deadline);
}

Instant AddOnClock(const Calendar& cal, TimeLimit::Unit clock, Instant start, Micros amount) {
  if (clock == TimeLimit::Unit::kNatural) return SaturatingAdd(start, amount);
  return AddWorkingTime(cal, start, amount);
}

}  // namespace caseloop
