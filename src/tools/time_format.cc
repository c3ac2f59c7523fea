// ParseTimeWithFormat (tools/time_format.h): glibc's strptime reads the
// fields; the calendar checks the date and places it at the offset.
#include "tools/time_format.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

#include "caseloop/calendar.h"

namespace caseloop::tools {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Instant> ParseTimeWithFormat(std::string_view text, const std::string& format, int offset_minutes) {
  std::string s(Trim(text));
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("time '{}' does not match format '{}'{}{}", text, format, why.empty() ? "" : ": ", why));
  };
  if (s.empty()) return bad("empty");
  struct tm tm;
  std::memset(&tm, 0, sizeof tm);
  tm.tm_mday = 1;
  const char* end = strptime(s.c_str(), format.c_str(), &tm);
  if (end == nullptr) return bad("");
  if (!Trim(end).empty()) return bad(fmt::format("unexpected '{}' at the end", Trim(end)));
  const int year = tm.tm_year + 1900;
  if (year < 1970 || year > 9999) return bad(fmt::format("year {} is outside 1970..9999", year));
  const int month = tm.tm_mon + 1;
  if (month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31) return bad("no such date");
  auto date = MakeLocalDate(year, month, tm.tm_mday);
  if (!date.ok()) return bad(fmt::format("{:04}-{:02}-{:02} is not a date", year, month, tm.tm_mday));
  if (tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 ||
      tm.tm_sec > 60) {
    return bad("no such time of day");
  }
  const std::int64_t secs = tm.tm_hour * 3600 + tm.tm_min * 60 + std::min(tm.tm_sec, 59);
  return LocalMidnight(*date, offset_minutes) + std::chrono::seconds(secs);
}

}  // namespace caseloop::tools
