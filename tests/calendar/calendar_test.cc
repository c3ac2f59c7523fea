// Working-time arithmetic: the worked deadlines of domain.md §8 and the rules
// of §6, checked against a minute-by-minute reference.
#include "caseloop/calendar.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

using namespace caseloop;

namespace {

constexpr std::int64_t kMin = 60'000'000;
constexpr std::int64_t kHour = 60 * kMin;

Micros Minutes(std::int64_t m) { return Micros(m * kMin); }
Micros Hours(std::int64_t h) { return Micros(h * kHour); }

// domain.md §8: Mon–Fri 09–12, 13–17, +08:00, 2025-04-04 a holiday.
Calendar Worked() {
  Calendar cal;
  cal.holidays.insert(*ParseLocalDate("2025-04-04"));
  return cal;
}

Instant At(const std::string& text, int offset = 480) {
  auto r = ParseInstant(text, offset);
  INFO(text);
  REQUIRE(r.ok());
  return *r;
}

std::string Local(const Calendar& cal, Instant t) { return FormatInstant(t, cal.utc_offset_minutes); }

// The reference: is the minute starting at t (minute-aligned) working time?
bool WorkingMinute(const Calendar& cal, Instant t) {
  if (!cal.IsWorkingDay(LocalDateOf(cal, t))) return false;
  std::int64_t local = MicrosOf(t) + std::int64_t{cal.utc_offset_minutes} * kMin;
  std::int64_t day_us = 1440 * kMin;
  std::int64_t minute = ((local % day_us + day_us) % day_us) / kMin;
  for (const WorkPeriod& p : cal.periods) {
    if (minute >= p.start_minute && minute < p.end_minute) return true;
  }
  return false;
}

// The reference AddWorkingTime: walks minute by minute from a minute-aligned start.
Instant SlowAdd(const Calendar& cal, Instant t, std::int64_t minutes) {
  while (minutes > 0) {
    if (WorkingMinute(cal, t)) --minutes;
    t += Micros(kMin);
  }
  return t;
}

std::int64_t SlowBetween(const Calendar& cal, Instant a, Instant b) {
  std::int64_t n = 0;
  for (Instant t = a; t < b; t += Micros(kMin)) n += WorkingMinute(cal, t) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("worked deadline 1: 4 wh across the lunch hour") {
  Calendar cal = Worked();
  Instant d = DeadlineAfter(cal, At("2025-03-31T10:30"), *ParseTimeLimit("4wh"));
  CHECK(Local(cal, d) == "2025-03-31T15:30:00+08:00");
}

TEST_CASE("worked deadline 2: 1 wd, then a fresh 1 wd after a failed verification") {
  Calendar cal = Worked();
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-04-01T16:00"), TimeLimit::WorkingDays(1))) ==
        "2025-04-02T16:00:00+08:00");
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-04-02T11:40"), TimeLimit::WorkingDays(1))) ==
        "2025-04-03T11:40:00+08:00");
}

TEST_CASE("worked deadline 3: 3 wd, extended by 2 wd over the holiday and the weekend") {
  Calendar cal = Worked();
  Instant d = DeadlineAfter(cal, At("2025-03-31T14:00"), TimeLimit::WorkingDays(3));
  CHECK(Local(cal, d) == "2025-04-03T14:00:00+08:00");
  Micros extension = LimitLength(cal, TimeLimit::WorkingDays(2));
  CHECK(extension == Hours(14));
  CHECK(Local(cal, AddWorkingTime(cal, d, extension)) == "2025-04-08T14:00:00+08:00");
  CHECK(Local(cal, AddOnClock(cal, TimeLimit::Unit::kWorkingDays, d, extension)) ==
        "2025-04-08T14:00:00+08:00");
}

TEST_CASE("worked deadline 4: 5 wd suspended after 7 h, resumed with 28 h left") {
  Calendar cal = Worked();
  const Instant dispatched = At("2025-03-31T09:00");
  Instant d = DeadlineAfter(cal, dispatched, TimeLimit::WorkingDays(5));
  CHECK(Local(cal, d) == "2025-04-07T17:00:00+08:00");  // exactly at a period end: stays there
  const Instant suspended = At("2025-04-01T09:00");
  CHECK(WorkingTimeBetween(cal, dispatched, suspended) == Hours(7));
  Micros left = RemainingTime(cal, TimeLimit::Unit::kWorkingDays, suspended, d);
  CHECK(left == Hours(28));
  CHECK(WorkingTimeBetween(cal, suspended, d) == Hours(28));
  Instant resumed = AddOnClock(cal, TimeLimit::Unit::kWorkingDays, At("2025-04-14T09:00"), left);
  CHECK(Local(cal, resumed) == "2025-04-17T17:00:00+08:00");
}

TEST_CASE("worked deadline 5: an emergency on natural hours runs through the weekend night") {
  Calendar cal = Worked();
  Instant d = DeadlineAfter(cal, At("2025-04-05T22:20"), *ParseTimeLimit("2h"));
  CHECK(Local(cal, d) == "2025-04-06T00:20:00+08:00");
  CHECK(RemainingTime(cal, TimeLimit::Unit::kNatural, At("2025-04-05T23:00"), d) == Minutes(80));
  CHECK(RemainingTime(cal, TimeLimit::Unit::kNatural, At("2025-04-06T01:00"), d) == Micros(0));
  CHECK(RemainingTime(cal, TimeLimit::Unit::kNatural, d, d) == Micros(0));
  CHECK(LimitLength(cal, TimeLimit::NaturalHours(2)) == Hours(2));
  CHECK(AddOnClock(cal, TimeLimit::Unit::kNatural, At("2025-04-05T22:20"), Hours(2)) == d);
}

TEST_CASE("a dispatch outside working time starts at the next working moment") {
  Calendar cal = Worked();
  // Saturday, Sunday, and the Friday holiday: Monday 09:00.
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-04-05T10:00"))) == "2025-04-07T09:00:00+08:00");
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-04-03T17:00"))) == "2025-04-07T09:00:00+08:00");
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-04-05T10:00"), *ParseTimeLimit("2wh"))) ==
        "2025-04-07T11:00:00+08:00");
  // At night: the next morning.
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-03-31T20:00"))) == "2025-04-01T09:00:00+08:00");
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-04-01T06:00"))) == "2025-04-01T09:00:00+08:00");
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-03-31T20:00"), *ParseTimeLimit("90wm"))) ==
        "2025-04-01T10:30:00+08:00");
  // In the lunch break, and exactly at the end of the morning period: 13:00.
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-03-31T12:30"))) == "2025-03-31T13:00:00+08:00");
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-03-31T12:00"))) == "2025-03-31T13:00:00+08:00");
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-03-31T12:00"), *ParseTimeLimit("1wh"))) ==
        "2025-03-31T14:00:00+08:00");
  // Inside working time: unchanged (to the microsecond).
  Instant in = At("2025-03-31T10:15:07.123456");
  CHECK(NextWorkingMoment(cal, in) == in);
  CHECK(NextWorkingMoment(cal, At("2025-03-31T09:00")) == At("2025-03-31T09:00"));
  // A zero amount leaves the start alone, even outside working time.
  CHECK(AddWorkingTime(cal, At("2025-04-05T10:00"), Micros(0)) == At("2025-04-05T10:00"));
  CHECK(AddWorkingTime(cal, At("2025-04-05T10:00"), Micros(-5)) == At("2025-04-05T10:00"));
}

TEST_CASE("a deadline exactly at a period end stays there") {
  Calendar cal = Worked();
  CHECK(Local(cal, AddWorkingTime(cal, At("2025-03-31T09:00"), Hours(3))) == "2025-03-31T12:00:00+08:00");
  CHECK(Local(cal, AddWorkingTime(cal, At("2025-03-31T16:00"), Hours(1))) == "2025-03-31T17:00:00+08:00");
  CHECK(Local(cal, AddWorkingTime(cal, At("2025-03-31T09:00"), Hours(7))) == "2025-03-31T17:00:00+08:00");
  CHECK(Local(cal, AddWorkingTime(cal, At("2025-03-31T12:30"), Hours(4))) == "2025-03-31T17:00:00+08:00");
  // One microsecond more goes to the next working moment.
  CHECK(AddWorkingTime(cal, At("2025-03-31T09:00"), Hours(3) + Micros(1)) ==
        At("2025-03-31T13:00") + Micros(1));
  CHECK(AddWorkingTime(cal, At("2025-03-31T09:00"), Hours(7) + Micros(1)) ==
        At("2025-04-01T09:00") + Micros(1));
  // Thursday 17:00 before the Friday holiday: Thursday, not Monday.
  CHECK(Local(cal, AddWorkingTime(cal, At("2025-04-03T09:00"), Hours(7))) == "2025-04-03T17:00:00+08:00");
}

TEST_CASE("an adjusted working day (a Saturday) counts") {
  Calendar cal = Worked();
  cal.extra_workdays.insert(*ParseLocalDate("2025-04-05"));
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-04-03T14:00"), TimeLimit::WorkingDays(1))) ==
        "2025-04-05T14:00:00+08:00");
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-04-04T10:00"))) == "2025-04-05T09:00:00+08:00");
  CHECK(WorkingTimeBetween(cal, At("2025-04-03T00:00"), At("2025-04-08T00:00")) == Hours(21));
  // A long limit that crosses the adjusted day has it counted once.
  Calendar plain = Worked();
  Instant from = At("2025-03-03T09:00");
  CHECK(WorkingTimeBetween(cal, from, At("2026-03-03T09:00")) -
            WorkingTimeBetween(plain, from, At("2026-03-03T09:00")) ==
        Hours(7));
  // A holiday that is also an adjusted day works.
  cal.extra_workdays.insert(*ParseLocalDate("2025-04-04"));
  CHECK(Local(cal, NextWorkingMoment(cal, At("2025-04-04T08:00"))) == "2025-04-04T09:00:00+08:00");
}

TEST_CASE("traffic-light ratios through WorkingTimeBetween") {
  Calendar cal = Worked();
  const Instant start = At("2025-04-02T11:40");
  const TimeLimit limit = *ParseTimeLimit("7wh");
  Instant deadline = DeadlineAfter(cal, start, limit);
  CHECK(Local(cal, deadline) == "2025-04-03T11:40:00+08:00");
  Micros length = LimitLength(cal, limit);
  CHECK(length == Hours(7));
  Micros e1 = WorkingTimeBetween(cal, start, At("2025-04-03T10:00"));
  Micros e2 = WorkingTimeBetween(cal, start, At("2025-04-03T10:30"));
  CHECK(e1 == Hours(5) + Minutes(20));
  CHECK(e2 == Hours(5) + Minutes(50));
  CHECK(e1 * 100 <= length * 80);  // green
  CHECK(e2 * 100 > length * 80);   // yellow
  CHECK(RemainingTime(cal, TimeLimit::Unit::kWorking, At("2025-04-03T10:30"), deadline) == Minutes(70));
  CHECK(RemainingTime(cal, TimeLimit::Unit::kWorking, At("2025-04-03T12:00"), deadline) == Micros(0));
  // Lunch and nights do not count; b <= a gives zero.
  CHECK(WorkingTimeBetween(cal, At("2025-03-31T12:00"), At("2025-03-31T13:00")) == Micros(0));
  CHECK(WorkingTimeBetween(cal, At("2025-03-31T17:00"), At("2025-04-01T09:00")) == Micros(0));
  CHECK(WorkingTimeBetween(cal, At("2025-04-01T09:00"), At("2025-03-31T09:00")) == Micros(0));
  CHECK(WorkingTimeBetween(cal, At("2025-03-31T11:59:59.999999"), At("2025-03-31T13:00:00.000001")) ==
        Micros(2));
}

TEST_CASE("other time zones, including a local day that spans two UTC days") {
  Calendar ny;  // -05:00
  ny.utc_offset_minutes = -300;
  Instant start = At("2025-03-31T16:00-05:00");
  Instant d = DeadlineAfter(ny, start, *ParseTimeLimit("2wh"));
  CHECK(FormatInstant(d, 0) == "2025-04-01T15:00:00+00:00");  // Tue 10:00 -05:00
  CHECK(Local(ny, d) == "2025-04-01T10:00:00-05:00");
  // Monday 20:00 -05:00 is Tuesday 01:00 UTC, but still Monday locally.
  CHECK(FormatLocalDate(LocalDateOf(ny, At("2025-04-01T01:00Z"))) == "2025-03-31");
  ny.holidays.insert(*ParseLocalDate("2025-03-31"));
  CHECK(Local(ny, NextWorkingMoment(ny, At("2025-03-31T06:00Z"))) == "2025-04-01T09:00:00-05:00");

  // Periods late in the local day fall on the next UTC day.
  Calendar late;
  late.utc_offset_minutes = -300;
  late.periods = {{13 * 60, 17 * 60}, {19 * 60, 23 * 60}};  // UTC 18:00–22:00 and 00:00–04:00 (+1)
  Instant mon = At("2025-03-31T13:00-05:00");
  Instant end = AddWorkingTime(late, mon, Hours(8));
  CHECK(FormatInstant(end, 0) == "2025-04-01T04:00:00+00:00");
  CHECK(Local(late, end) == "2025-03-31T23:00:00-05:00");
  CHECK(WorkingTimeBetween(late, At("2025-04-01T00:00Z"), At("2025-04-01T02:30Z")) == Hours(2) + Minutes(30));
  // Friday evening local is Saturday UTC; it still counts, Saturday local does not.
  CHECK(WorkingTimeBetween(late, At("2025-04-05T00:00Z"), At("2025-04-06T00:00Z")) == Hours(4));

  Calendar india;  // +05:30
  india.utc_offset_minutes = 330;
  Instant s = At("2025-03-31T10:00+05:30");
  CHECK(Local(india, DeadlineAfter(india, s, TimeLimit::WorkingDays(1))) == "2025-04-01T10:00:00+05:30");
  CHECK(FormatLocalDate(LocalDateOf(india, At("2025-03-31T20:00Z"))) == "2025-04-01");
  CHECK(FormatLocalDate(LocalDateOf(india, At("2025-03-31T18:29Z"))) == "2025-03-31");
  CHECK(Local(india, NextWorkingMoment(india, At("2025-04-04T12:00Z"))) == "2025-04-07T09:00:00+05:30");
  CHECK(WorkingTimeBetween(india, At("2025-03-31T00:00Z"), At("2025-04-01T00:00Z")) == Hours(7));
}

TEST_CASE("calendars without working time never crash") {
  Calendar none;
  none.periods.clear();
  Instant t = At("2025-03-31T10:00");
  CHECK(NextWorkingMoment(none, t) == Instant::max());
  CHECK(AddWorkingTime(none, t, Hours(1)) == Instant::max());
  CHECK(AddWorkingTime(none, t, Micros(0)) == t);
  CHECK(WorkingTimeBetween(none, t, t + Hours(100)) == Micros(0));
  CHECK(LimitLength(none, TimeLimit::WorkingDays(3)) == Micros(0));

  // Only adjusted days work: they are found, and after the last one: never.
  Calendar only;
  only.workdays = 0;
  only.extra_workdays = {*ParseLocalDate("2025-04-05"), *ParseLocalDate("2025-06-01")};
  CHECK(Local(only, NextWorkingMoment(only, t)) == "2025-04-05T09:00:00+08:00");
  CHECK(Local(only, AddWorkingTime(only, t, Hours(8))) == "2025-06-01T10:00:00+08:00");
  CHECK(AddWorkingTime(only, t, Hours(15)) == Instant::max());
  CHECK(WorkingTimeBetween(only, t, At("2030-01-01")) == Hours(14));

  // Unsorted and overlapping periods are sorted and merged.
  Calendar messy;
  messy.periods = {{13 * 60, 17 * 60}, {9 * 60, 12 * 60}, {10 * 60, 11 * 60}, {-30, 0}, {1400, 1500}};
  CHECK(messy.WorkingMinutesPerDay() == 420 + 40);
  CHECK(Local(messy, AddWorkingTime(messy, At("2025-03-31T09:00"), Hours(7))) == "2025-03-31T17:00:00+08:00");

  // Extreme instants and amounts saturate.
  Calendar cal = Worked();
  CHECK(NextWorkingMoment(cal, Instant::max()) == Instant::max());
  CHECK(AddWorkingTime(cal, t, Micros::max()) == Instant::max());
  CHECK(AddWorkingTime(cal, Instant::min(), Hours(1)) > Instant::min());
  CHECK(WorkingTimeBetween(cal, Instant::min(), Instant::max()) > Micros(0));
  CHECK(AddOnClock(cal, TimeLimit::Unit::kNatural, t, Micros::max()) == Instant::max());
  CHECK(RemainingTime(cal, TimeLimit::Unit::kNatural, Instant::min(), Instant::max()) == Micros::max());
  CHECK(LimitLength(cal, TimeLimit::WorkingDays(INT64_MAX)) == Micros::max());
  CHECK(LimitLength(cal, TimeLimit::WorkingDays(-1)) == Micros(0));
  CHECK(DeadlineAfter(cal, t, TimeLimit::NaturalMinutes(INT64_MAX)) == Instant::max());
  CHECK(LocalDateOf(cal, Instant::max()) > 0);
  // Special days far outside the instants' range are harmless.
  cal.holidays.insert(std::numeric_limits<LocalDate>::max());
  cal.holidays.insert(std::numeric_limits<LocalDate>::min());
  cal.extra_workdays.insert(std::numeric_limits<LocalDate>::max() - 1);
  CHECK(Local(cal, DeadlineAfter(cal, t, TimeLimit::WorkingDays(1))) == "2025-04-01T10:00:00+08:00");
  CHECK(AddWorkingTime(cal, t, Micros(std::numeric_limits<std::int64_t>::max() / 2)) == Instant::max());
  CHECK(WorkingTimeBetween(cal, Instant::min(), Instant::max()) > Micros(0));
}

TEST_CASE("limit lengths and deadlines per unit") {
  Calendar cal = Worked();
  CHECK(LimitLength(cal, TimeLimit::WorkingDays(1)) == Hours(7));
  CHECK(LimitLength(cal, TimeLimit::WorkingHours(4)) == Hours(4));
  CHECK(LimitLength(cal, TimeLimit::NaturalMinutes(30)) == Minutes(30));
  Calendar six = cal;
  six.periods = {{8 * 60, 14 * 60}};
  CHECK(LimitLength(six, TimeLimit::WorkingDays(2)) == Hours(12));
  CHECK(Local(six, DeadlineAfter(six, At("2025-03-31T10:00"), TimeLimit::WorkingDays(2))) ==
        "2025-04-02T10:00:00+08:00");
  CHECK(Local(cal, DeadlineAfter(cal, At("2025-03-31T10:00"), TimeLimit::NaturalMinutes(1440))) ==
        "2025-04-01T10:00:00+08:00");
}

TEST_CASE("AddWorkingTime and WorkingTimeBetween agree with a minute-by-minute walk") {
  Calendar cal = Worked();
  cal.holidays.insert(*ParseLocalDate("2025-05-01"));
  cal.holidays.insert(*ParseLocalDate("2025-05-02"));
  cal.holidays.insert(*ParseLocalDate("2025-05-05"));
  cal.extra_workdays.insert(*ParseLocalDate("2025-04-27"));  // a Sunday
  cal.extra_workdays.insert(*ParseLocalDate("2025-05-10"));  // a Saturday
  cal.holidays.insert(*ParseLocalDate("2025-04-19"));        // a Saturday holiday: no effect
  cal.extra_workdays.insert(*ParseLocalDate("2025-04-15"));  // a Tuesday "adjusted" day: no effect
  cal.holidays.insert(*ParseLocalDate("2025-04-22"));        // in both sets: works
  cal.extra_workdays.insert(*ParseLocalDate("2025-04-22"));
  std::mt19937_64 rng(7);
  const Instant base = At("2025-03-29T00:00");
  std::uniform_int_distribution<int> start_minute(0, 50 * 1440);
  std::uniform_int_distribution<int> amount(0, 60 * 7 * 12);
  for (int i = 0; i < 300; ++i) {
    Instant s = base + Minutes(start_minute(rng));
    std::int64_t m = amount(rng);
    Instant fast = AddWorkingTime(cal, s, Minutes(m));
    INFO(Local(cal, s), " + ", m, " wm");
    CHECK(Local(cal, fast) == Local(cal, SlowAdd(cal, s, m)));
    Instant b = s + Minutes(amount(rng) * 3);
    CHECK(WorkingTimeBetween(cal, s, b) == Minutes(SlowBetween(cal, s, b)));
  }
}

TEST_CASE("property: WorkingTimeBetween inverts AddWorkingTime, which is monotonic") {
  Calendar cal = Worked();
  std::mt19937_64 rng(42);
  // Holidays and adjusted days sprinkled over the years.
  std::uniform_int_distribution<int> day(*ParseLocalDate("2024-01-01"), *ParseLocalDate("2034-12-31"));
  for (int i = 0; i < 150; ++i) cal.holidays.insert(day(rng));
  for (int i = 0; i < 40; ++i) cal.extra_workdays.insert(day(rng));
  for (const Calendar& c : {cal, [&] {
                              Calendar z = cal;
                              z.utc_offset_minutes = -330;
                              z.workdays = *ParseWorkdays("sun-thu");
                              z.periods = *ParsePeriods("07:30-11:45,12:15-16:00,20:00-24:00");
                              return z;
                            }()}) {
    const std::int64_t from = MicrosOf(At("2024-01-01"));
    std::uniform_int_distribution<std::int64_t> start(from, from + 3LL * 365 * 24 * kHour);
    std::uniform_int_distribution<std::int64_t> small(0, 30 * kHour);
    std::uniform_int_distribution<std::int64_t> large(0, 2000 * kHour);
    for (int i = 0; i < 3000; ++i) {
      Instant s = InstantFromMicros(start(rng));
      Micros d1(i % 2 ? small(rng) : large(rng));
      Micros d2(i % 2 ? small(rng) : large(rng));
      if (d2 < d1) std::swap(d1, d2);
      Instant e1 = AddWorkingTime(c, s, d1);
      Instant e2 = AddWorkingTime(c, s, d2);
      INFO(Local(c, s), " d1=", d1.count(), " d2=", d2.count());
      REQUIRE(WorkingTimeBetween(c, s, e1) == d1);
      REQUIRE(WorkingTimeBetween(c, s, e2) == d2);
      REQUIRE(e1 <= e2);
      if (d1.count() > 0) {
        // The result is inside working time or exactly at the end of a period.
        CHECK(WorkingTimeBetween(c, e1 - Micros(1), e1) == Micros(1));
      }
      // Monotonic in the start too.
      Instant s2 = s + Micros(small(rng));
      REQUIRE(AddWorkingTime(c, s, d1) <= AddWorkingTime(c, s2, d1));
      // Splitting an amount does not change the result.
      CHECK(AddWorkingTime(c, e1, d2 - d1) == (d2 > d1 ? e2 : e1));
    }
  }
}

TEST_CASE("long limits are fast and exact") {
  Calendar cal = Worked();
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> day(*ParseLocalDate("2025-01-01"), *ParseLocalDate("2035-12-31"));
  for (int i = 0; i < 200; ++i) cal.holidays.insert(day(rng));
  for (int i = 0; i < 50; ++i) cal.extra_workdays.insert(day(rng));
  const Instant s = At("2025-03-31T10:30");
  cal.holidays.erase(LocalDateOf(cal, s));  // the start day stays a working day
  const TimeLimit ten_years = *ParseTimeLimit("3660wd");
  // The fastest of several batches, so that a busy machine does not fail the test.
  Instant d;
  auto best = std::chrono::steady_clock::duration::max();
  for (int batch = 0; batch < 10; ++batch) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) d = DeadlineAfter(cal, s + Micros(batch * 10 + i), ten_years);
    best = std::min(best, (std::chrono::steady_clock::now() - t0) / 10);
  }
  MESSAGE("3660 wd deadline: ", std::chrono::duration_cast<std::chrono::nanoseconds>(best).count(),
          " ns per call");
  CHECK(best < std::chrono::milliseconds(1));
  CHECK(WorkingTimeBetween(cal, s + Micros(99), d) == LimitLength(cal, ten_years));
  // The same by walking day by day: 3660 working days after the start day.
  LocalDate x = LocalDateOf(cal, s);
  for (int n = 0; n < 3660;) {
    ++x;
    if (cal.IsWorkingDay(x)) ++n;
  }
  CHECK(LocalDateOf(cal, d) == x);
  CHECK(Local(cal, d).substr(10) == "T10:30:00+08:00");
  // A natural 10-year limit is plain addition.
  CHECK(DeadlineAfter(cal, s, *ParseTimeLimit("3660d")) - s == Hours(3660 * 24));
}

TEST_CASE("whole working days agree with a day-by-day walk for random calendars") {
  std::mt19937_64 rng(99);
  const LocalDate first = *ParseLocalDate("2025-01-01");
  std::uniform_int_distribution<int> mask(0, 127);
  std::uniform_int_distribution<int> day(first, first + 800);
  std::uniform_int_distribution<int> specials(0, 60);
  std::uniform_int_distribution<int> amount(1, 500);
  for (int i = 0; i < 300; ++i) {
    Calendar cal;
    cal.workdays = static_cast<std::uint8_t>(mask(rng));
    for (int k = specials(rng); k > 0; --k) cal.holidays.insert(day(rng));
    for (int k = specials(rng) / 3; k > 0; --k) cal.extra_workdays.insert(day(rng));
    if (cal.workdays == 0 && cal.extra_workdays.empty()) continue;
    LocalDate start = day(rng) - 100;
    const int n = amount(rng);
    // Start at 17:00 (the end of the day), so n working days end at 17:00 of the n-th next working day.
    Instant s = At(FormatLocalDate(start) + "T17:00");
    Instant got = AddWorkingTime(cal, s, Micros(n * 7 * kHour));
    LocalDate x = start;
    int left = n;
    while (left > 0 && x < first + 100000) {
      ++x;
      if (cal.IsWorkingDay(x)) --left;
    }
    INFO("mask=", int(cal.workdays), " start=", FormatLocalDate(start), " n=", n);
    if (left > 0) {
      CHECK(got == Instant::max());
      continue;
    }
    CHECK(Local(cal, got) == FormatLocalDate(x) + "T17:00:00+08:00");
    CHECK(WorkingTimeBetween(cal, s, got) == Micros(n * 7 * kHour));
  }
}
