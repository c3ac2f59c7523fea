// caseloop/calendar.h — the working-time calendar and deadline arithmetic
// (domain.md §6).
//
// All functions are pure and thread-safe. Instants are UTC; the calendar maps
// them to local civil time either with a fixed UTC offset or, when `zone` is
// set, with an IANA time zone of the system's tzdata (daylight saving
// included). Working periods are local clock times; the working time of a
// period is the real time between the instants of its start and its end, so
// the arithmetic stays exact across a transition.
//
// Local times that a transition makes nonexistent or ambiguous are mapped
// with one rule (ZoneInstant and every parser of local times use it):
//   * a time in a spring-forward gap is the instant of the transition, i.e.
//     the first moment after the gap (America/New_York 2025-03-09T02:30 is
//     03:00-04:00, 07:00Z);
//   * a time repeated by an autumn fall-back is its first occurrence, at the
//     offset before the transition (2025-11-02T01:30 is 01:30-04:00, 05:30Z).
// The mapping is monotone: later local times never map to earlier instants.
#ifndef CASELOOP_CALENDAR_H_
#define CASELOOP_CALENDAR_H_

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

// A local calendar date, days since 1970-01-01 (may be negative).
using LocalDate = std::int32_t;

// "2025-04-04" <-> LocalDate. Errors: InvalidArgument naming the text.
Result<LocalDate> ParseLocalDate(std::string_view text);
std::string FormatLocalDate(LocalDate d);

// A daily working period [start, end) in minutes after local midnight.
struct WorkPeriod {
  int start_minute = 0;
  int end_minute = 0;
  friend bool operator==(const WorkPeriod&, const WorkPeriod&) = default;
};

struct Calendar {
  // Minutes east of UTC. Default: +08:00. Not used while `zone` is set.
  int utc_offset_minutes = 8 * 60;
  // An IANA time zone name ("America/New_York", "Asia/Shanghai") read from the
  // system's tzdata; empty (the default) means the fixed utc_offset_minutes.
  std::string zone;
  // Bit d set = weekday d is a working day; d = 0 Monday ... 6 Sunday.
  // Default: Monday to Friday.
  std::uint8_t workdays = 0x1F;
  // Sorted, non-overlapping, inside [0, 1440). Default: 09:00–12:00, 13:00–17:00.
  std::vector<WorkPeriod> periods = {{9 * 60, 12 * 60}, {13 * 60, 17 * 60}};
  // Days off that would otherwise be working days.
  std::set<LocalDate> holidays;
  // Adjusted working days (调休): days that would otherwise be off.
  std::set<LocalDate> extra_workdays;

  // Working minutes in one working day (420 by default).
  int WorkingMinutesPerDay() const;
  // True when `d` is a working day (weekday rule, then holidays, then
  // extra_workdays: a date in both holidays and extra_workdays is a working day).
  bool IsWorkingDay(LocalDate d) const;
  // REQUIRES-checker: periods sorted, non-overlapping, non-empty, inside a day,
  // at least one working weekday, no bit above Sunday in `workdays`, offset
  // within 14:00 either side of UTC, a zone the system's tzdata has. Errors: InvalidArgument saying what is
  // wrong. The arithmetic below gives defined answers for any calendar (it
  // clamps, sorts and merges periods) but is only meaningful for a valid one.
  Status Validate() const;

  friend bool operator==(const Calendar&, const Calendar&) = default;
};

// Parses "mon-fri", "mon,tue,sat", "mon-sat" into a workdays mask.
Result<std::uint8_t> ParseWorkdays(std::string_view text);
std::string FormatWorkdays(std::uint8_t mask);
// Parses "09:00-12:00,13:00-17:00".
Result<std::vector<WorkPeriod>> ParsePeriods(std::string_view text);
std::string FormatPeriods(const std::vector<WorkPeriod>& periods);

// The first instant >= t that lies inside working time. A time exactly at the
// end of a period is not inside it. Instant::max() ("never") when there is no
// working time at or after t (only for a calendar that fails Validate(), e.g.
// no periods, or no working weekday and no adjusted working day ahead).
Instant NextWorkingMoment(const Calendar& cal, Instant t);

// Adds `amount` of working time to `start`. Counting begins at the next
// working moment; a result that falls exactly at the end of a working period
// stays there (it does not jump to the next period's start). An amount <= 0
// returns `start` unchanged. Instant::max() when the calendar has no working
// time ahead (see NextWorkingMoment). Cost grows with the number of holidays
// and adjusted days in the range, not with its length.
Instant AddWorkingTime(const Calendar& cal, Instant start, Micros amount);

// Working time inside [a, b); zero when b <= a.
Micros WorkingTimeBetween(const Calendar& cal, Instant a, Instant b);

// The deadline of a task of `limit` that starts at `start`:
//   kNatural: start + amount minutes;
//   kWorking: AddWorkingTime(start, amount minutes);
//   kWorkingDays: AddWorkingTime(start, amount × WorkingMinutesPerDay()).
Instant DeadlineAfter(const Calendar& cal, Instant start, const TimeLimit& limit);

// The length of `limit` measured in its own clock: natural microseconds for
// kNatural, working microseconds otherwise.
Micros LimitLength(const Calendar& cal, const TimeLimit& limit);

// Time still left from `now` until `deadline`, measured on the limit's clock
// (natural or working); zero when the deadline has passed.
Micros RemainingTime(const Calendar& cal, const TimeLimit::Unit clock, Instant now, Instant deadline);

// Adds `amount` on the given clock (natural: plain addition; working:
// AddWorkingTime). Used to re-arm a deadline at resume.
Instant AddOnClock(const Calendar& cal, TimeLimit::Unit clock, Instant start, Micros amount);

// Weekday of a local date, 0 = Monday ... 6 = Sunday.
int WeekdayOf(LocalDate d);
// The local date of instant t under the calendar's zone or offset.
LocalDate LocalDateOf(const Calendar& cal, Instant t);
// The instant at which local date `d` begins under the calendar's zone or
// offset (a midnight in a gap: the end of the gap).
Instant LocalMidnight(const Calendar& cal, LocalDate d);
// The UTC offset in effect at `t`, in minutes east of UTC (a zone's offset
// with seconds, before 1972 in a few zones, is rounded down to the minute).
int OffsetAt(const Calendar& cal, Instant t);
// The instant of a local civil time, microseconds since 1970-01-01T00:00 local
// (not UTC), under the calendar's zone or offset, with the gap and repeat rule
// above.
Instant ZoneInstant(const Calendar& cal, std::int64_t local_micros);
// FormatInstant at the offset in effect at `t`.
std::string FormatInstant(Instant t, const Calendar& cal);
// ParseInstant, with a time that carries no offset read as local time under
// the calendar's zone (the rule above) or offset.
Result<Instant> ParseInstant(std::string_view text, const Calendar& cal);
// The zone's name, or the fixed offset as "+08:00".
std::string ZoneText(const Calendar& cal);
// OK when `name` is a zone of the system's tzdata. Errors: InvalidArgument
// naming it ("unknown time zone 'Mars/Olympus' ...").
Status CheckZoneName(std::string_view name);
// A zone name or a fixed offset: "America/New_York" sets `zone`, "+08:00"
// sets utc_offset_minutes and clears `zone`. Errors: InvalidArgument.
Status SetZoneText(Calendar& cal, std::string_view text);
// The local date of instant t at `offset_minutes` east of UTC.
LocalDate LocalDateOf(Instant t, int offset_minutes);
// The instant at which local date `d` begins (00:00) at `offset_minutes` east
// of UTC.
Instant LocalMidnight(LocalDate d, int offset_minutes);
// The local date year-month-day: a real date of the years 1970..9999.
// Errors: InvalidArgument saying what is wrong ("day 30 does not exist in
// 2025-02 ('2025-02-30')").
Result<LocalDate> MakeLocalDate(int year, int month, int day);

}  // namespace caseloop

#endif  // CASELOOP_CALENDAR_H_
