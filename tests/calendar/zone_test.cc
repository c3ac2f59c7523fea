// Calendars in IANA time zones (cctz over the system's tzdata): working time
// across the 2025 US daylight-saving transitions, local midnights, the rule
// for nonexistent and repeated local times, and a zone without DST equal to
// its fixed offset.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "caseloop/calendar.h"

using namespace caseloop;

namespace {

constexpr std::int64_t kMin = 60'000'000;
constexpr std::int64_t kHour = 60 * kMin;

Calendar NewYork() {
  Calendar cal;
  cal.zone = "America/New_York";
  return cal;
}

Instant Utc(const std::string& text) {
  auto r = ParseInstant(text, 0);
  INFO(text);
  REQUIRE(r.ok());
  return *r;
}

Instant Local(const Calendar& cal, const std::string& text) {
  auto r = ParseInstant(text, cal);
  INFO(text);
  REQUIRE(r.ok());
  return *r;
}

std::int64_t Minutes(Micros m) { return m.count() / kMin; }

// The reference: is the minute starting at t working time? It lies between
// the instants of the start and the end of a period of a working day (local
// times mapped by ZoneInstant, tested on its own above).
bool WorkingMinute(const Calendar& cal, Instant t) {
  const LocalDate today = LocalDateOf(cal, t);
  for (LocalDate d = today - 1; d <= today + 1; ++d) {
    if (!cal.IsWorkingDay(d)) continue;
    for (const WorkPeriod& p : cal.periods) {
      const std::int64_t midnight = std::int64_t{d} * 1440 * kMin;
      if (ZoneInstant(cal, midnight + p.start_minute * kMin) <= t &&
          t < ZoneInstant(cal, midnight + p.end_minute * kMin)) {
        return true;
      }
    }
  }
  return false;
}

std::int64_t SlowBetween(const Calendar& cal, Instant a, Instant b) {
  std::int64_t n = 0;
  for (Instant t = a; t < b; t += Micros(kMin)) n += WorkingMinute(cal, t) ? 1 : 0;
  return n;
}

Instant SlowAdd(const Calendar& cal, Instant t, std::int64_t minutes) {
  while (minutes > 0) {
    if (WorkingMinute(cal, t)) --minutes;
    t += Micros(kMin);
  }
  return t;
}

}  // namespace

TEST_CASE("a zone name must be one of the tzdata") {
  Calendar cal;
  cal.zone = "Mars/Olympus";
  Status s = cal.Validate();
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("unknown time zone 'Mars/Olympus'") != std::string::npos);
  for (const char* bad : {"/etc/passwd", "../zoneinfo/UTC", "America/New York", ""}) {
    INFO(bad);
    CHECK_FALSE(CheckZoneName(bad).ok());
  }
  CHECK(NewYork().Validate().ok());
  Calendar c;
  REQUIRE(SetZoneText(c, "Asia/Shanghai").ok());
  CHECK(c.zone == "Asia/Shanghai");
  CHECK(ZoneText(c) == "Asia/Shanghai");
  REQUIRE(SetZoneText(c, "-05:00").ok());
  CHECK(c.zone.empty());
  CHECK(c.utc_offset_minutes == -300);
  CHECK(ZoneText(c) == "-05:00");
  CHECK_FALSE(SetZoneText(c, "+25:00").ok());
  CHECK_FALSE(SetZoneText(c, "Nowhere").ok());
}

TEST_CASE("offsets and local times across the 2025 New York transitions") {
  const Calendar ny = NewYork();
  CHECK(OffsetAt(ny, Utc("2025-03-09T06:59:59Z")) == -300);
  CHECK(OffsetAt(ny, Utc("2025-03-09T07:00Z")) == -240);
  CHECK(OffsetAt(ny, Utc("2025-11-02T05:59:59Z")) == -240);
  CHECK(OffsetAt(ny, Utc("2025-11-02T06:00Z")) == -300);
  CHECK(FormatInstant(Utc("2025-07-01T16:00Z"), ny) == "2025-07-01T12:00:00-04:00");
  CHECK(FormatInstant(Utc("2025-12-01T17:00Z"), ny) == "2025-12-01T12:00:00-05:00");
  // Local times without an offset are read in the zone; with one, as written.
  CHECK(Local(ny, "2025-07-01T12:00") == Utc("2025-07-01T16:00Z"));
  CHECK(Local(ny, "2025-12-01 12:00:00") == Utc("2025-12-01T17:00Z"));
  CHECK(Local(ny, "2025-07-01T12:00+08:00") == Utc("2025-07-01T04:00Z"));
  CHECK(Local(ny, "2025-07-01T12:00Z") == Utc("2025-07-01T12:00Z"));
  // The spring gap: a nonexistent time is the end of the gap (03:00-04:00).
  CHECK(Local(ny, "2025-03-09T02:30") == Utc("2025-03-09T07:00Z"));
  CHECK(Local(ny, "2025-03-09T02:00") == Utc("2025-03-09T07:00Z"));
  CHECK(Local(ny, "2025-03-09T03:00") == Utc("2025-03-09T07:00Z"));
  CHECK(Local(ny, "2025-03-09T01:59") == Utc("2025-03-09T06:59Z"));
  // The autumn repeat: an ambiguous time is its first occurrence (EDT).
  CHECK(Local(ny, "2025-11-02T01:30") == Utc("2025-11-02T05:30Z"));
  CHECK(Local(ny, "2025-11-02T02:00") == Utc("2025-11-02T07:00Z"));
  // Monotone through both.
  Instant prev = Local(ny, "2025-03-09T00:00");
  for (int m = 1; m < 1440; ++m) {
    char text[32];
    std::snprintf(text, sizeof text, "2025-03-09T%02d:%02d", m / 60, m % 60);
    Instant t = Local(ny, text);
    CHECK(t >= prev);
    prev = t;
  }
  // Local dates and midnights.
  CHECK(LocalDateOf(ny, Utc("2025-11-02T04:59Z")) == *ParseLocalDate("2025-11-02"));  // 00:59 EDT
  CHECK(LocalDateOf(ny, Utc("2025-11-03T04:59Z")) == *ParseLocalDate("2025-11-02"));  // 23:59 EST
  CHECK(LocalMidnight(ny, *ParseLocalDate("2025-03-09")) == Utc("2025-03-09T05:00Z"));
  CHECK(LocalMidnight(ny, *ParseLocalDate("2025-03-10")) == Utc("2025-03-10T04:00Z"));
  CHECK(LocalMidnight(ny, *ParseLocalDate("2025-11-02")) == Utc("2025-11-02T04:00Z"));
  CHECK(LocalMidnight(ny, *ParseLocalDate("2025-11-03")) == Utc("2025-11-03T05:00Z"));
}

TEST_CASE("working time across the 2025 US transitions, to the minute") {
  const Calendar ny = NewYork();  // Mon–Fri 09–12, 13–17 local
  // Friday 2025-03-07 16:00 EST to Monday 2025-03-10 10:00 EDT: 1 h + 1 h.
  CHECK(Minutes(WorkingTimeBetween(ny, Local(ny, "2025-03-07T16:00"), Local(ny, "2025-03-10T10:00"))) == 120);
  // A fixed -05:00 would count Monday 09:00 EST = 10:00 EDT: off by an hour.
  Calendar fixed;
  fixed.utc_offset_minutes = -300;
  CHECK(Minutes(WorkingTimeBetween(fixed, Local(ny, "2025-03-07T16:00"), Local(ny, "2025-03-10T10:00"))) ==
        60);
  // 4 wh from Friday 15:00 EST ends Monday 11:00 EDT.
  CHECK(AddWorkingTime(ny, Local(ny, "2025-03-07T15:00"), Micros(4 * kHour)) == Utc("2025-03-10T15:00Z"));
  CHECK(FormatInstant(AddWorkingTime(ny, Local(ny, "2025-03-07T15:00"), Micros(4 * kHour)), ny) ==
        "2025-03-10T11:00:00-04:00");
  // Autumn: Friday 2025-10-31 16:00 EDT + 2 wh = Monday 2025-11-03 10:00 EST.
  CHECK(AddWorkingTime(ny, Local(ny, "2025-10-31T16:00"), Micros(2 * kHour)) == Utc("2025-11-03T15:00Z"));
  CHECK(Minutes(WorkingTimeBetween(ny, Local(ny, "2025-10-31T16:00"), Local(ny, "2025-11-03T10:00"))) == 120);
  // A whole week across each transition: 5 days × 7 h.
  CHECK(Minutes(WorkingTimeBetween(ny, Local(ny, "2025-03-03T00:00"), Local(ny, "2025-03-17T00:00"))) ==
        10 * 420);
  CHECK(AddWorkingTime(ny, Local(ny, "2025-10-27T09:00"), Micros(10 * 420 * kMin)) ==
        Local(ny, "2025-11-07T17:00"));
}

TEST_CASE("periods that a transition cuts count the real time between their ends") {
  Calendar cal = NewYork();
  cal.workdays = 0x7F;        // every day
  cal.periods = {{0, 1440}};  // round the clock
  const LocalDate spring = *ParseLocalDate("2025-03-09");
  const LocalDate autumn = *ParseLocalDate("2025-11-02");
  auto day = [&](LocalDate d) {
    return WorkingTimeBetween(cal, LocalMidnight(cal, d), LocalMidnight(cal, d + 1));
  };
  CHECK(Minutes(day(spring)) == 23 * 60);
  CHECK(Minutes(day(autumn)) == 25 * 60);
  CHECK(Minutes(day(spring + 1)) == 24 * 60);
  // Across both, over the whole year: 365 days of real time.
  CHECK(Minutes(WorkingTimeBetween(cal, Local(cal, "2025-01-01"), Local(cal, "2026-01-01"))) == 365 * 1440);
  // 48 working hours from the spring Saturday's midnight: 24 h + 23 h, then 1 h on Monday.
  CHECK(AddWorkingTime(cal, Local(cal, "2025-03-08T00:00"), Micros(48 * kHour)) ==
        Local(cal, "2025-03-10T01:00"));
  CHECK(AddWorkingTime(cal, Local(cal, "2025-11-01T00:00"), Micros(48 * kHour)) ==
        Local(cal, "2025-11-02T23:00"));
  // A night period 01:00–04:00: 2 h on the spring day, 4 h on the autumn day.
  cal.periods = {{60, 240}};
  CHECK(Minutes(day(spring)) == 120);
  CHECK(Minutes(day(autumn)) == 240);
  CHECK(Minutes(day(spring + 7)) == 180);
  // From the Saturday before: 3 h Saturday and 2 h Sunday, then Monday.
  CHECK(AddWorkingTime(cal, Local(cal, "2025-03-08T01:00"), Micros(5 * kHour)) ==
        Local(cal, "2025-03-09T04:00"));
  CHECK(AddWorkingTime(cal, Local(cal, "2025-03-08T01:00"), Micros(6 * kHour)) ==
        Local(cal, "2025-03-10T02:00"));
  // A period wholly inside the gap is empty that day.
  cal.periods = {{2 * 60 + 10, 2 * 60 + 50}, {9 * 60, 10 * 60}};
  CHECK(Minutes(day(spring)) == 60);
  CHECK(NextWorkingMoment(cal, Local(cal, "2025-03-09T00:00")) == Local(cal, "2025-03-09T09:00"));
  CHECK(AddWorkingTime(cal, Local(cal, "2025-03-08T09:30"), Micros(90 * kMin)) ==
        Local(cal, "2025-03-09T10:00"));
}

TEST_CASE("zoned arithmetic agrees with a minute-by-minute walk around the transitions") {
  std::mt19937_64 rng(22);
  const std::vector<std::vector<WorkPeriod>> period_sets = {{{9 * 60, 12 * 60}, {13 * 60, 17 * 60}},
                                                            {{0, 1440}},
                                                            {{60, 240}, {600, 660}},
                                                            {{90, 150}, {1380, 1440}}};
  const Instant from = Utc("2025-03-05T00:00Z");
  const Instant autumn = Utc("2025-10-29T00:00Z");
  for (const auto& periods : period_sets) {
    Calendar cal = NewYork();
    cal.workdays = 0x5F;  // Mon–Fri and Sunday
    cal.periods = periods;
    for (int i = 0; i < 60; ++i) {
      const Instant base = i % 2 == 0 ? from : autumn;
      const Instant a = base + Micros(static_cast<std::int64_t>(rng() % (8 * 1440)) * kMin);
      const std::int64_t len = static_cast<std::int64_t>(rng() % (5 * 1440));
      const Instant b = a + Micros(len * kMin);
      INFO(FormatInstant(a, cal), " .. ", FormatInstant(b, cal), " periods ", FormatPeriods(periods));
      CHECK(WorkingTimeBetween(cal, a, b).count() == SlowBetween(cal, a, b) * kMin);
      const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % 1500);
      CHECK(AddWorkingTime(cal, a, Micros(amount * kMin)) == SlowAdd(cal, a, amount));
    }
  }
}

TEST_CASE("a zone without daylight saving equals its fixed offset") {
  Calendar shanghai;
  shanghai.zone = "Asia/Shanghai";
  shanghai.holidays.insert(*ParseLocalDate("2025-04-04"));
  Calendar fixed;  // +08:00
  fixed.holidays = shanghai.holidays;
  std::mt19937_64 rng(8);
  for (int i = 0; i < 500; ++i) {
    const Instant a =
        Utc("2025-01-01T00:00Z") + Micros(static_cast<std::int64_t>(rng() % (366 * 1440)) * kMin);
    const Instant b = a + Micros(static_cast<std::int64_t>(rng() % (40 * 1440)) * kMin);
    const Micros amount(static_cast<std::int64_t>(rng() % (30 * 420)) * kMin + 1);
    INFO(FormatInstant(a, fixed));
    CHECK(WorkingTimeBetween(shanghai, a, b) == WorkingTimeBetween(fixed, a, b));
    CHECK(AddWorkingTime(shanghai, a, amount) == AddWorkingTime(fixed, a, amount));
    CHECK(NextWorkingMoment(shanghai, a) == NextWorkingMoment(fixed, a));
    CHECK(LocalDateOf(shanghai, a) == LocalDateOf(fixed, a));
    CHECK(FormatInstant(a, shanghai) == FormatInstant(a, fixed.utc_offset_minutes));
    CHECK(OffsetAt(shanghai, a) == 480);
  }
  CHECK(LocalMidnight(shanghai, *ParseLocalDate("2025-04-04")) ==
        LocalMidnight(*ParseLocalDate("2025-04-04"), 480));
  CHECK(*ParseInstant("2025-04-03T10:30", shanghai) == *ParseInstant("2025-04-03T10:30", 480));
}
