// Local dates, workday masks, daily periods and Calendar::Validate.
#include <doctest/doctest.h>

#include <string>

#include "caseloop/calendar.h"

using namespace caseloop;

namespace {

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string ValidateError(const Calendar& cal) {
  Status s = cal.Validate();
  REQUIRE_FALSE(s.ok());
  CHECK(s.IsInvalidArgument());
  return s.message();
}

}  // namespace

TEST_CASE("local dates") {
  CHECK(*ParseLocalDate("1970-01-01") == 0);
  CHECK(*ParseLocalDate("2025-04-04") == 20182);
  CHECK(*ParseLocalDate("2024-02-29") == 19782);
  CHECK(FormatLocalDate(20182) == "2025-04-04");
  CHECK(FormatLocalDate(0) == "1970-01-01");
  CHECK(FormatLocalDate(-1) == "1969-12-31");
  for (LocalDate d = 0; d < 2932896; d += 97) CHECK(*ParseLocalDate(FormatLocalDate(d)) == d);
  CHECK(*ParseLocalDate("9999-12-31") == 2932896);
  struct Bad {
    const char* text;
    const char* part;
  };
  for (Bad b : {Bad{"", "empty"}, Bad{"2025-04-31", "day 31 does not exist in 2025-04"},
                Bad{"2025-13-01", "bad month 13"}, Bad{"1969-12-31", "bad year 1969"},
                Bad{"2025-04-04T00:00", "unexpected 'T00:00'"}, Bad{"20250404", "YYYY-MM-DD"},
                Bad{"2025-4-4", "YYYY-MM-DD"}, Bad{" 2025-04-04", "YYYY-MM-DD"}}) {
    auto r = ParseLocalDate(b.text);
    INFO(b.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(Contains(r.status().message(), b.part));
  }
}

TEST_CASE("local dates of instants, local midnights, dates from year-month-day") {
  const Instant t = *ParseInstant("2025-03-31T23:30:00Z", 0);
  CHECK(LocalDateOf(t, 0) == *ParseLocalDate("2025-03-31"));
  CHECK(LocalDateOf(t, 8 * 60) == *ParseLocalDate("2025-04-01"));   // 07:30 the next day
  CHECK(LocalDateOf(t, -5 * 60) == *ParseLocalDate("2025-03-31"));  // 18:30
  Calendar cal;
  CHECK(LocalDateOf(cal, t) == LocalDateOf(t, cal.utc_offset_minutes));
  CHECK(LocalDateOf(InstantFromMicros(-1), 0) == -1);  // floor, not truncation
  CHECK(LocalMidnight(*ParseLocalDate("2025-04-01"), 8 * 60) == *ParseInstant("2025-04-01T00:00+08:00", 0));
  CHECK(LocalMidnight(*ParseLocalDate("2025-04-01"), -5 * 60) == *ParseInstant("2025-04-01T00:00-05:00", 0));
  for (int offset : {-14 * 60, -5 * 60 - 30, 0, 8 * 60, 14 * 60}) {
    for (LocalDate d = 0; d < 2932896; d += 7919) {
      INFO(offset, " ", d);
      CHECK(LocalDateOf(LocalMidnight(d, offset), offset) == d);
      CHECK(LocalDateOf(LocalMidnight(d, offset) - Micros(1), offset) == d - 1);
    }
  }
  CHECK(*MakeLocalDate(2025, 4, 4) == *ParseLocalDate("2025-04-04"));
  CHECK(*MakeLocalDate(2024, 2, 29) == 19782);
  CHECK(*MakeLocalDate(9999, 12, 31) == 2932896);
  CHECK(Contains(MakeLocalDate(2025, 2, 29).status().message(), "day 29 does not exist in 2025-02"));
  CHECK(Contains(MakeLocalDate(2025, 0, 1).status().message(), "bad month 0"));
  CHECK(Contains(MakeLocalDate(1969, 12, 31).status().message(), "bad year 1969"));
  CHECK(MakeLocalDate(10000, 1, 1).status().IsInvalidArgument());
  CHECK(MakeLocalDate(2025, 1, 0).status().IsInvalidArgument());
}

TEST_CASE("weekdays of local dates") {
  CHECK(WeekdayOf(0) == 3);                              // 1970-01-01 was a Thursday
  CHECK(WeekdayOf(-1) == 2);                             // 1969-12-31 a Wednesday
  CHECK(WeekdayOf(*ParseLocalDate("2025-03-31")) == 0);  // Monday
  CHECK(WeekdayOf(*ParseLocalDate("2025-04-05")) == 5);  // Saturday
  CHECK(WeekdayOf(*ParseLocalDate("2025-04-06")) == 6);  // Sunday
}

TEST_CASE("workday masks") {
  CHECK(*ParseWorkdays("mon-fri") == 0x1F);
  CHECK(*ParseWorkdays("mon,tue,sat") == 0x23);
  CHECK(*ParseWorkdays("mon-sat") == 0x3F);
  CHECK(*ParseWorkdays("sun") == 0x40);
  CHECK(*ParseWorkdays("sun-thu") == 0x4F);  // wraps past Sunday
  CHECK(*ParseWorkdays("MON-Fri") == 0x1F);
  CHECK(*ParseWorkdays("monday,friday") == 0x11);
  CHECK(*ParseWorkdays("mon-wed, fri") == 0x17);
  CHECK(*ParseWorkdays("mon,mon") == 0x01);
  CHECK(*ParseWorkdays("mon-sun") == 0x7F);
  for (const char* bad : {"", "mon-", "-fri", "funday", "mon,,tue", "mon-tue-wed", "mo", "1-5"}) {
    auto r = ParseWorkdays(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
  }
  CHECK(Contains(ParseWorkdays("mon,funday").status().message(), "unknown day 'funday'"));
  CHECK(FormatWorkdays(0x1F) == "mon-fri");
  CHECK(FormatWorkdays(0x23) == "mon,tue,sat");
  CHECK(FormatWorkdays(0x3F) == "mon-sat");
  CHECK(FormatWorkdays(0x4F) == "sun-thu");
  CHECK(FormatWorkdays(0x41) == "sun,mon");
  CHECK(FormatWorkdays(0x7F) == "mon-sun");
  CHECK(FormatWorkdays(0x15) == "mon,wed,fri");
  CHECK(FormatWorkdays(0) == "");
  for (int m = 1; m < 128; ++m) {
    INFO(m, " ", FormatWorkdays(static_cast<std::uint8_t>(m)));
    CHECK(*ParseWorkdays(FormatWorkdays(static_cast<std::uint8_t>(m))) == m);
  }
}

TEST_CASE("daily periods") {
  auto p = ParsePeriods("09:00-12:00,13:00-17:00");
  REQUIRE(p.ok());
  CHECK(*p == Calendar().periods);
  CHECK(FormatPeriods(*p) == "09:00-12:00,13:00-17:00");
  CHECK(*ParsePeriods("00:00-24:00") == std::vector<WorkPeriod>{{0, 1440}});
  CHECK(*ParsePeriods("08:30-12:00, 14:00-17:30") == std::vector<WorkPeriod>{{510, 720}, {840, 1050}});
  CHECK(*ParsePeriods("09:00-12:00,12:00-13:00") == std::vector<WorkPeriod>{{540, 720}, {720, 780}});
  CHECK(FormatPeriods({{0, 1440}}) == "00:00-24:00");
  CHECK(FormatPeriods({}) == "");
  struct Bad {
    const char* text;
    const char* part;
  };
  for (Bad b : {Bad{"", "empty"}, Bad{"09:00", "not a range"}, Bad{"12:00-09:00", "ends before it starts"},
                Bad{"09:00-09:00", "empty"}, Bad{"09:00-12:00,11:00-13:00", "overlaps"},
                Bad{"13:00-17:00,09:00-12:00", "overlaps or precedes"}, Bad{"9:00-12:00", "expected HH:MM"},
                Bad{"09:00-24:30", "00:00..24:00"}, Bad{"25:00-26:00", "00:00..24:00"},
                Bad{"09:60-10:00", "00:00..24:00"}, Bad{"09:00-12:00,", "not a range"},
                Bad{"09:00-12:00x", "expected HH:MM"}}) {
    auto r = ParsePeriods(b.text);
    INFO(b.text, " -> ", r.status().ToString());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsInvalidArgument());
    CHECK(Contains(r.status().message(), b.part));
  }
}

TEST_CASE("Calendar::Validate") {
  Calendar cal;
  CHECK(cal.Validate().ok());
  CHECK(cal.WorkingMinutesPerDay() == 420);

  Calendar c = cal;
  c.workdays = 0;
  CHECK(Contains(ValidateError(c), "no working weekday"));
  c = cal;
  c.workdays = 0x9F;
  CHECK(Contains(ValidateError(c), "bit 7"));
  c = cal;
  c.periods.clear();
  CHECK(Contains(ValidateError(c), "no working periods"));
  c = cal;
  c.periods = {{13 * 60, 17 * 60}, {9 * 60, 12 * 60}};
  CHECK(Contains(ValidateError(c), "period 2 (09:00-12:00) overlaps or precedes period 1 (13:00-17:00)"));
  c = cal;
  c.periods = {{9 * 60, 12 * 60}, {11 * 60, 17 * 60}};
  CHECK(Contains(ValidateError(c), "overlaps"));
  c = cal;
  c.periods = {{9 * 60, 9 * 60}};
  CHECK(Contains(ValidateError(c), "empty"));
  c = cal;
  c.periods = {{-10, 60}};
  CHECK(Contains(ValidateError(c), "not inside the day"));
  c = cal;
  c.periods = {{600, 1500}};
  CHECK(Contains(ValidateError(c), "not inside the day"));
  c = cal;
  c.utc_offset_minutes = 15 * 60;
  CHECK(Contains(ValidateError(c), "UTC offset"));
  c = cal;
  c.periods = {{0, 1440}};
  c.workdays = 0x7F;
  CHECK(c.Validate().ok());
  CHECK(c.WorkingMinutesPerDay() == 1440);
  c.periods = {{9 * 60, 12 * 60}, {12 * 60, 13 * 60}};
  CHECK(c.Validate().ok());  // touching periods are fine
  CHECK(c.WorkingMinutesPerDay() == 240);
}

TEST_CASE("working days: weekday rule, then holidays, then adjusted days") {
  Calendar cal;
  const LocalDate mon = *ParseLocalDate("2025-03-31");
  const LocalDate fri = *ParseLocalDate("2025-04-04");
  const LocalDate sat = *ParseLocalDate("2025-04-05");
  CHECK(cal.IsWorkingDay(mon));
  CHECK(cal.IsWorkingDay(fri));
  CHECK_FALSE(cal.IsWorkingDay(sat));
  cal.holidays.insert(fri);
  cal.extra_workdays.insert(sat);
  CHECK_FALSE(cal.IsWorkingDay(fri));
  CHECK(cal.IsWorkingDay(sat));
  cal.extra_workdays.insert(fri);  // in both: the adjusted day wins
  CHECK(cal.IsWorkingDay(fri));
}
