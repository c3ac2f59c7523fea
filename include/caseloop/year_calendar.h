// caseloop/year_calendar.h — one year's public holidays and adjusted working
// days (调休), as the State Council publishes them each year, read from a
// text file and applied to the working-time calendar as one configuration
// change (ConfigChangeType::kSetYearCalendar; docs/operations.md).
//
// The file (examples/calendars/cn-2025.txt):
//
//   # comments and blank lines are ignored
//   year 2025                          the first line that is not a comment
//   name 国务院办公厅 2024-11-12       optional: where the dates come from
//   holiday 2025-01-01 元旦            a day off; the rest of the line is a note
//   holiday 2025-01-28..2025-02-04 春节 every day of a range, weekends included
//   workday 2025-01-26 春节调休        a day that would be off and is worked
//
// Checked (ParseYearCalendar; errors name the file and line): every date is
// a real date of that year; no date is listed twice (as a holiday twice, or
// as both a holiday and a working day); ranges run forward and stay in the
// year. CheckAgainst adds what depends on the weekly rule: a `workday` must
// be a day that would otherwise be off (a Saturday or Sunday with the
// default Monday-to-Friday week).
#ifndef CASELOOP_YEAR_CALENDAR_H_
#define CASELOOP_YEAR_CALENDAR_H_

#include <string>
#include <string_view>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/status.h"

namespace caseloop {

struct YearCalendar {
  int year = 0;
  std::string name;                 // where the dates come from ("" if not given)
  std::vector<LocalDate> holidays;  // sorted, distinct, all in `year`
  std::vector<LocalDate> workdays;  // adjusted working days: sorted, distinct, in `year`, no holiday
  friend bool operator==(const YearCalendar&, const YearCalendar&) = default;
};

// Reads the file's text. `source` names it in errors ("cn-2025.txt: line 7:
// 2025-02-30 is not a date"). Errors: InvalidArgument.
Result<YearCalendar> ParseYearCalendar(std::string_view text, std::string_view source);

// The file text of `y` (ranges for runs of consecutive holidays); parses
// back to `y`.
std::string FormatYearCalendar(const YearCalendar& y);

// Checks a YearCalendar built by other means than parsing (a decoded
// configuration change): year within 1970..9999, lists sorted, distinct, in
// the year and disjoint. Errors: InvalidArgument naming the date.
Status CheckYearCalendar(const YearCalendar& y);

// What depends on the calendar's weekly rule: each working day must be a day
// the weekly rule keeps off. Errors: InvalidArgument, e.g. "workday
// 2025-02-10 is a Monday, a working day anyway".
Status CheckYearCalendarAgainst(const YearCalendar& y, const Calendar& cal);

// Replaces the holidays and adjusted working days of `y.year` in `cal` with
// those of `y` (dates of other years are kept).
void ApplyYearCalendar(Calendar& cal, const YearCalendar& y);

}  // namespace caseloop

#endif  // CASELOOP_YEAR_CALENDAR_H_
