// caseloop/time.h — instants, time limits and their text forms.
//
// Every time caseloop stores is a UTC instant with microsecond resolution.
// Local times appear only at the edges (script text, JSON output), converted
// with a UTC offset: the calendar's fixed one, or the one its zone has in
// effect (caseloop/calendar.h: OffsetAt, and ParseInstant/FormatInstant
// taking a Calendar).
#ifndef CASELOOP_TIME_H_
#define CASELOOP_TIME_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "caseloop/status.h"

namespace caseloop {

// A UTC instant, microseconds since 1970-01-01T00:00:00Z.
using Micros = std::chrono::microseconds;
using Instant = std::chrono::time_point<std::chrono::system_clock, Micros>;

// Microseconds since the epoch <-> Instant.
inline Instant InstantFromMicros(std::int64_t us) { return Instant(Micros(us)); }
inline constexpr std::int64_t MicrosOf(Instant t) { return t.time_since_epoch().count(); }

// The range of every instant caseloop handles: the local times of the years
// 1970..9999 at any UTC offset within ±14:00, i.e. from
// 1970-01-01T00:00:00+14:00 (1969-12-31T10:00:00Z) to
// 9999-12-31T23:59:59.999999-14:00 (10000-01-01T13:59:59.999999Z), ends
// included. ParseInstant reads exactly these, FormatInstant writes each of
// them so that it reads back, and the deadline timers fire every deadline in
// it. Every way an instant comes in refuses one outside with InvalidArgument:
// ParseInstant, ManualClock::Set, Engine::Open (a manual clock's reading),
// Engine::AdvanceTo and Advance, a Command's `at` and `deadline` (Submit,
// SubmitAsync, SubmitBatch: the CaseBatch commands), Configure's `at`, and a
// command whose events would store an instant outside it (a deadline that
// falls after the end: e.g. a dispatch late in the year 9999).
inline constexpr Instant kEarliestInstant{Micros{-50'400'000'000}};
inline constexpr Instant kLatestInstant{Micros{253'402'351'199'999'999}};
inline constexpr bool InInstantRange(Instant t) { return t >= kEarliestInstant && t <= kLatestInstant; }
// OK when `t` is in the range; else InvalidArgument "<what> <t>: it is
// before the earliest instant caseloop handles (...)" or "...: it is after the
// latest ...", with `t` written at `offset_minutes`.
Status CheckInstantRange(Instant t, std::string_view what, int offset_minutes = 0);

// A time limit as written in configuration and scripts:
//   "30m", "2h", "1d"   natural minutes / hours / days  (unit kNatural, amount in minutes)
//   "4wh", "90wm"       working hours / minutes         (unit kWorking, amount in minutes)
//   "1wd"               working days                    (unit kWorkingDays, amount in days)
// On-disk format: the numeric values of Unit are stored in events. Do not renumber.
struct TimeLimit {
  enum class Unit : std::uint8_t { kNatural = 0, kWorking = 1, kWorkingDays = 2 };
  Unit unit = Unit::kWorking;
  std::int64_t amount = 0;  // minutes (kNatural, kWorking) or days (kWorkingDays)

  static TimeLimit NaturalMinutes(std::int64_t m) { return {Unit::kNatural, m}; }
  static TimeLimit NaturalHours(std::int64_t h) { return {Unit::kNatural, h * 60}; }
  static TimeLimit WorkingHours(std::int64_t h) { return {Unit::kWorking, h * 60}; }
  static TimeLimit WorkingDays(std::int64_t d) { return {Unit::kWorkingDays, d}; }

  friend bool operator==(const TimeLimit&, const TimeLimit&) = default;
};

// Parses "30m", "2h", "1d", "4wh", "90wm", "1wd". Amount must be a positive
// integer no larger than 10 years. Errors: InvalidArgument naming the text.
Result<TimeLimit> ParseTimeLimit(std::string_view text);
// The shortest text form that ParseTimeLimit reads back to the same value
// ("2h" rather than "120m").
std::string FormatTimeLimit(const TimeLimit& limit);

// Parses "2025-03-31T10:30", "2025-03-31T10:30:00", "2025-03-31 10:30:00",
// optionally followed by ".123456" (fractional seconds, after seconds only) and
// "Z" or "+08:00" / "-05:00" / "+0800". A time without an offset
// is local at `default_offset_minutes` east of UTC. Also accepts a bare date
// "2025-03-31" (local midnight). Years 1970..9999 only: the instants of
// [kEarliestInstant, kLatestInstant], the local times of those years at any
// offset within ±14:00. Near those ends a date in 1969 or the year 10000 is
// read too, as FormatInstant writes them at other offsets, so every instant in
// the range round-trips through FormatInstant at any offset.
// Errors: InvalidArgument naming the text and what is wrong with it.
Result<Instant> ParseInstant(std::string_view text, int default_offset_minutes);

// "YYYY-MM-DDTHH:MM:SS+HH:MM" at the given offset (seconds truncated). An
// instant outside ParseInstant's range (e.g. a deadline computed past the year
// 9999) is written with its real year, which ParseInstant refuses ("bad year").
std::string FormatInstant(Instant t, int offset_minutes);

// Parses "+08:00", "-05:30", "Z", "+0800", "+08", at most 14:00 either side of
// UTC (the range in use worldwide). Errors: InvalidArgument naming the text.
Result<int> ParseUtcOffset(std::string_view text);
std::string FormatUtcOffset(int offset_minutes);  // "+08:00"

}  // namespace caseloop

#endif  // CASELOOP_TIME_H_
