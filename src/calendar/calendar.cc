// Working-time arithmetic (caseloop/calendar.h).
//
// An instant is mapped to a local day number with the calendar's fixed offset
// or zone (cctz over the system's tzdata). Working time is the union of the
// real intervals [instant of the period's start, instant of its end) of the
// daily periods of working days. Long amounts are resolved by counting whole
// working days (a week at a time between holidays and adjusted days), so the
// cost grows with the number of special days in the range, not with its
// length. With a zone, a day whose periods a transition cuts has another
// length: such days are found from the zone's transitions and counted apart.
#include "caseloop/calendar.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
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
constexpr std::int64_t kLastIrregularDay = MicrosOf(kLatestInstant) / kDay + 2;

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

// The zone of `name`, loaded once per thread and name (cctz caches zones
// too, behind a lock); nullptr when the tzdata has no such zone.
const cctz::time_zone* LoadZone(const std::string& name) {
  thread_local std::string last;
  thread_local cctz::time_zone zone;
  thread_local bool loaded = false;
  thread_local bool ok = false;
  if (!loaded || name != last) {
    last = name;
    loaded = true;
    ok = cctz::load_time_zone(name, &zone);
  }
  return ok ? &zone : nullptr;
}

// Local civil time <-> instants, microseconds on both sides: with the fixed
// offset, or with the zone (the gap and repeat rule of caseloop/calendar.h).
class LocalClock {
 public:
  explicit LocalClock(const Calendar& cal)
      : offset_(std::int64_t{cal.utc_offset_minutes} * kMicrosPerMinute),
        zone_(cal.zone.empty() ? nullptr : LoadZone(cal.zone)) {
    if (zone_ != nullptr) zone_copy_ = *zone_;  // the thread's cache may load another zone meanwhile
  }

  bool zoned() const { return zone_ != nullptr; }

  // Microseconds east of UTC in effect at `micros`.
  std::int64_t OffsetAt(std::int64_t micros) const {
    if (!zoned()) return offset_;
    return std::int64_t{zone_copy_.lookup(Seconds(FloorDiv(micros, kMicrosPerSecond))).offset} *
           kMicrosPerSecond;
  }
  std::int64_t ToLocal(std::int64_t micros) const { return micros + OffsetAt(micros); }
  std::int64_t FromLocal(std::int64_t local) const {
    if (!zoned()) return local - offset_;
    const std::int64_t secs = FloorDiv(local, kMicrosPerSecond);
    const cctz::time_zone::civil_lookup cl =
        zone_copy_.lookup(cctz::civil_second(1970, 1, 1, 0, 0, 0) + secs);
    if (cl.kind == cctz::time_zone::civil_lookup::SKIPPED) return AsMicros(cl.trans);
    return AsMicros(cl.pre) + (local - secs * kMicrosPerSecond);
  }
  // The instants of the zone's transitions in (after, until], in order,
  // passed to `f` until it returns false.
  template <typename F>
  void Transitions(std::int64_t after, std::int64_t until, F f) const {
    if (!zoned()) return;
    auto tp = Seconds(FloorDiv(after, kMicrosPerSecond));
    cctz::time_zone::civil_transition tr;
    while (zone_copy_.next_transition(tp, &tr)) {
      auto at = zone_copy_.lookup(tr.to).trans;
      if (at <= tp) break;  // no progress: stop rather than loop
      tp = at;
      if (AsMicros(at) > until) break;
      if (!f(AsMicros(at))) break;
    }
  }

 private:
  static cctz::time_point<cctz::seconds> Seconds(std::int64_t s) {
    return cctz::time_point<cctz::seconds>(cctz::seconds(s));
  }
  static std::int64_t AsMicros(cctz::time_point<cctz::seconds> tp) {
    return tp.time_since_epoch().count() * kMicrosPerSecond;
  }

  std::int64_t offset_;
  const cctz::time_zone* zone_;
  cctz::time_zone zone_copy_;
};

// The calendar prepared for arithmetic: periods clamped into the day, sorted
// and merged (so that an unvalidated calendar still gives defined answers).
class Plan {
 public:
  explicit Plan(const Calendar& cal) : cal_(cal), mask_(cal.workdays & 0x7F), clock_(cal) {
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
  }

  // Working microseconds per working day; 0 means there is no working time.
  std::int64_t per_day() const { return per_day_; }
  const std::vector<std::pair<std::int64_t, std::int64_t>>& spans() const { return spans_; }

  // The local day of an instant. REQUIRES: micros within [kMinMicros, kMaxMicros].
  std::int64_t Day(std::int64_t micros) const { return FloorDiv(clock_.ToLocal(micros), kDay); }
  // The instant of time of day `tod` (microseconds) of local day `day`.
  std::int64_t At(std::int64_t day, std::int64_t tod) const { return clock_.FromLocal(day * kDay + tod); }

  // Working microseconds of `day` inside the instants [lo, hi).
  std::int64_t DayWork(std::int64_t day, std::int64_t lo, std::int64_t hi) const {
    if (hi <= lo || !IsWorking(day)) return 0;
    std::int64_t sum = 0;
    for (const auto& [s, e] : spans_) {
      sum += std::max<std::int64_t>(0, std::min(At(day, e), hi) - std::max(At(day, s), lo));
    }
    return sum;
  }
  // All the working microseconds of `day` (per_day() unless a zone's
  // transition cuts one of its periods, or it is not a working day).
  std::int64_t WholeDayWork(std::int64_t day) const {
    if (!clock_.zoned()) return IsWorking(day) ? per_day_ : 0;
    return DayWork(day, kMinMicros, kMaxMicros);
  }

  // The first working day in [from, to] whose working time is not per_day()
  // (a zone's transition cuts one of its periods); kNoDay when there is none.
  // Always kNoDay with a fixed offset.
  std::int64_t FirstIrregularDay(std::int64_t from, std::int64_t to) const {
    std::int64_t found = kNoDay;
    // Beyond the last instant caseloop handles nothing is stored: the search
    // stops there (a "never" bound would otherwise walk ~16,000 transitions).
    to = std::min(to, kLastIrregularDay);
    if (!clock_.zoned() || to < from) return found;
    clock_.Transitions(At(from, 0) - kDay, At(to + 1, 0) + kDay, [&](std::int64_t t) {
      for (std::int64_t day : {Day(t - 1), Day(t)}) {
        if (day >= from && day <= to && day < found && IsWorking(day) && WholeDayWork(day) != per_day_) {
          found = day;
        }
      }
      return found == kNoDay;
    });
    return found;
  }

  bool WeekdayWorks(std::int64_t day) const { return caseloop::WeekdayWorks(mask_, day); }
  bool IsWorking(std::int64_t day) const { return caseloop::IsWorking(cal_, day); }

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
  LocalClock clock_;
};

Instant NextWorkingMomentIn(const Plan& plan, Instant t) {
  if (plan.per_day() == 0 || MicrosOf(t) > kMaxMicros) return kNever;
  const std::int64_t tm = std::max(MicrosOf(t), kMinMicros);
  std::int64_t day = plan.Day(tm);
  if (plan.IsWorking(day)) {
    for (const auto& [s, e] : plan.spans()) {
      const std::int64_t start = plan.At(day, s);
      const std::int64_t end = plan.At(day, e);
      if (tm < end && start < end) return InstantFromMicros(std::max(tm, start));
    }
  }
  // The first non-empty period of the next working days (a period can be
  // empty only when it lies inside a zone's spring-forward gap).
  for (;;) {
    day = plan.NthWorkingDay(day + 1, 1);
    if (day == kNoDay) return kNever;
    for (const auto& [s, e] : plan.spans()) {
      const std::int64_t start = plan.At(day, s);
      if (start < plan.At(day, e)) return InstantFromMicros(start);
    }
  }
}

// The instant `left` working microseconds into working day `day`, or nullopt
// (and `left` reduced by the day's working time) when the day has less.
// REQUIRES: left > 0.
std::optional<Instant> IntoDay(const Plan& plan, std::int64_t day, std::int64_t from, std::int64_t& left) {
  for (const auto& [ps, pe] : plan.spans()) {
    const std::int64_t end = plan.At(day, pe);
    const std::int64_t start = std::max(from, plan.At(day, ps));
    if (end <= start) continue;
    if (left <= end - start) return InstantFromMicros(start + left);
    left -= end - start;
  }
  return std::nullopt;
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

LocalDate LocalDateOf(const Calendar& cal, Instant t) {
  if (cal.zone.empty()) return LocalDateOf(t, cal.utc_offset_minutes);
  return static_cast<LocalDate>(FloorDiv(LocalClock(cal).ToLocal(Clamp(MicrosOf(t))), kDay));
}

LocalDate LocalDateOf(Instant t, int offset_minutes) {
  std::int64_t local = Clamp(MicrosOf(t)) + std::int64_t{offset_minutes} * kMicrosPerMinute;
  return static_cast<LocalDate>(FloorDiv(local, kDay));
}

Instant LocalMidnight(LocalDate d, int offset_minutes) {
  return InstantFromMicros(std::int64_t{d} * kDay - std::int64_t{offset_minutes} * kMicrosPerMinute);
}

Instant LocalMidnight(const Calendar& cal, LocalDate d) { return ZoneInstant(cal, std::int64_t{d} * kDay); }

int OffsetAt(const Calendar& cal, Instant t) {
  if (cal.zone.empty()) return cal.utc_offset_minutes;
  return static_cast<int>(FloorDiv(LocalClock(cal).OffsetAt(Clamp(MicrosOf(t))), kMicrosPerMinute));
}

Instant ZoneInstant(const Calendar& cal, std::int64_t local_micros) {
  return InstantFromMicros(LocalClock(cal).FromLocal(Clamp(local_micros)));
}

std::string FormatInstant(Instant t, const Calendar& cal) { return FormatInstant(t, OffsetAt(cal, t)); }

Result<Instant> ParseInstant(std::string_view text, const Calendar& cal) {
  if (cal.zone.empty()) return ParseInstant(text, cal.utc_offset_minutes);
  // Read at two offsets: the same instant both times means that the text
  // carries its own offset; otherwise the reading at UTC is the local time.
  Result<Instant> at_utc = ParseInstant(text, 0);
  if (!at_utc.ok()) return ParseInstant(text, OffsetAt(cal, Instant{}));
  Result<Instant> at_one = ParseInstant(text, 60);
  if (at_one.ok() && *at_one == *at_utc) return at_utc;
  Instant t = ZoneInstant(cal, MicrosOf(*at_utc));
  if (!InInstantRange(t))
    return CheckInstantRange(t, fmt::format("'{}' at {}", text, cal.zone), OffsetAt(cal, t));
  return t;
}

std::string ZoneText(const Calendar& cal) {
  return cal.zone.empty() ? FormatUtcOffset(cal.utc_offset_minutes) : cal.zone;
}

Status CheckZoneName(std::string_view name) {
  // Names of the tzdata only: no path (cctz would open any file named).
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '_' || c == '-' || c == '+';
  });
  if (name.empty() || !plain || name.front() == '/' || name.find("..") != std::string_view::npos ||
      LoadZone(std::string(name)) == nullptr) {
    return Status::InvalidArgument(
        fmt::format("unknown time zone '{}' (expected an IANA name of the system's tzdata such as "
                    "America/New_York or Asia/Shanghai, or a UTC offset such as +08:00)",
                    name));
  }
  return Status::Ok();
}

Status SetZoneText(Calendar& cal, std::string_view text) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-' || text == "Z" || text == "z")) {
    Result<int> offset = ParseUtcOffset(text);
    if (!offset.ok()) return offset.status();
    cal.utc_offset_minutes = *offset;
    cal.zone.clear();
    return Status::Ok();
  }
  CASELOOP_RETURN_IF_ERROR(CheckZoneName(text));
  cal.zone = std::string(text);
  return Status::Ok();
}

Instant NextWorkingMoment(const Calendar& cal, Instant t) { return NextWorkingMomentIn(Plan(cal), t); }

Instant AddWorkingTime(const Calendar& cal, Instant start, Micros amount) {
  if (amount.count() <= 0) return start;
  Plan plan(cal);
  Instant s = NextWorkingMomentIn(plan, start);
  if (s == kNever) return kNever;
  std::int64_t day = plan.Day(MicrosOf(s));
  std::int64_t left = amount.count();
  // The rest of the first day (a working day: s is a working moment).
  if (auto at = IntoDay(plan, day, MicrosOf(s), left)) return *at;
  // Whole working days, then the part of the last one.
  const std::int64_t w = plan.per_day();
  for (;;) {
    const std::int64_t n = (left - 1) / w + 1;  // the result lies in the n-th working day after `day`
    if (n > kMaxDay) return kNever;
    const std::int64_t last = plan.NthWorkingDay(day + 1, n);
    if (last == kNoDay) return kNever;
    const std::int64_t odd = plan.FirstIrregularDay(day + 1, last);
    if (odd == kNoDay) {
      std::int64_t in_day = left - (n - 1) * w;  // in (0, w]
      if (auto at = IntoDay(plan, last, kMinMicros, in_day)) return *at;
      return kNever;  // unreachable: in_day <= w, the day's working time
    }
    // Regular days up to the irregular one, then that day on its own.
    left -= plan.CountWorkingDays(day + 1, odd) * w;
    if (auto at = IntoDay(plan, odd, kMinMicros, left)) return *at;
    day = odd;
  }
}

Micros WorkingTimeBetween(const Calendar& cal, Instant a, Instant b) {
  std::int64_t am = Clamp(MicrosOf(a));
  std::int64_t bm = Clamp(MicrosOf(b));
  if (bm <= am) return Micros(0);
  Plan plan(cal);
  if (plan.per_day() == 0) return Micros(0);
  const std::int64_t da = plan.Day(am);
  const std::int64_t db = plan.Day(bm);
  if (da == db) return Micros(plan.DayWork(da, am, bm));
  std::int64_t sum = plan.DayWork(da, am, kMaxMicros) + plan.CountWorkingDays(da + 1, db) * plan.per_day() +
                     plan.DayWork(db, kMinMicros, bm);
  // Days that a zone's transition makes shorter or longer.
  for (std::int64_t d = plan.FirstIrregularDay(da + 1, db - 1); d != kNoDay;
       d = plan.FirstIrregularDay(d + 1, db - 1)) {
    sum += plan.WholeDayWork(d) - plan.per_day();
  }
  return Micros(sum);
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
