// calendar/text_util.h — small helpers shared by the time and calendar text
// parsers (private to src/calendar).
#ifndef CASELOOP_CALENDAR_TEXT_UTIL_H_
#define CASELOOP_CALENDAR_TEXT_UTIL_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "caseloop/status.h"

namespace caseloop::calendar_internal {

inline constexpr std::int64_t kMicrosPerSecond = 1'000'000;
inline constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr std::int64_t kMicrosPerDay = 1440 * kMicrosPerMinute;
// Years accepted in text (ParseInstant, ParseLocalDate).
inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 9999;
// The largest accepted UTC offset, in minutes either side of UTC.
inline constexpr int kMaxOffsetMinutes = 14 * 60;  // -12:00 .. +14:00 are in use; config.cc checks the same

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` decimal digits at text[pos...]; nullopt when any is missing.
std::optional<int> ReadDigits(std::string_view text, std::size_t pos, int n);

// Checks that y-m-d is a real date inside [kMinYear, kMaxYear] and returns it
// as days since 1970-01-01. Errors: InvalidArgument "<problem> in '<whole>'".
Result<std::chrono::sys_days> CheckDate(int y, int m, int d, std::string_view whole);

// Parses "YYYY-MM-DD" at the start of `text`; `whole` names the text in errors.
Result<std::chrono::sys_days> ParseDatePrefix(std::string_view text, std::string_view whole);

// Parses the offset body after a sign ("08:00", "0800", "08") into minutes
// (unsigned). `whole` names the text in errors.
Result<int> ParseOffsetBody(std::string_view body, std::string_view whole);

// "09:05" for 545; "24:00" for 1440; values outside [0, 1440] as "minute N".
std::string MinuteOfDayText(int minute);

}  // namespace caseloop::calendar_internal

#endif  // CASELOOP_CALENDAR_TEXT_UTIL_H_
