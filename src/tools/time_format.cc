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

Status CheckTimeFormat(const std::string& format) {
  std::string h24, h12, ampm;  // the first conversion of each kind, e.g. "%H"
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    const std::size_t start = i++;
    // glibc's strptime skips strftime's flags, a field width and E / O.
    while (i < format.size() && std::strchr("-_0^#", format[i]) != nullptr) ++i;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') ++i;
    if (i < format.size() && (format[i] == 'E' || format[i] == 'O')) ++i;
    if (i >= format.size()) break;
    const std::string conv = format.substr(start, i - start + 1);
    switch (format[i]) {
      case 'H':
      case 'k':
      case 'R':
      case 'T':
      case 'X':  // %H:%M:%S in the C locale
      case 'c':
        if (h24.empty()) h24 = conv;
        break;
      case 'I':
      case 'l':
        if (h12.empty()) h12 = conv;
        break;
      case 'r':  // %I:%M:%S %p
        if (h12.empty()) h12 = conv;
        if (ampm.empty()) ampm = conv;
        break;
      case 'p':
        if (ampm.empty()) ampm = conv;
        break;
      default:
        break;
    }
  }
  if (!h24.empty() && !ampm.empty()) {
    return Status::InvalidArgument(fmt::format(
        "time format '{}' reads a 24-hour hour ({}) and AM/PM ({}): strptime ignores AM/PM with a "
        "24-hour hour, so every PM time would be 12 hours early; use %I (01-12) with %p, or {} "
        "without it",
        format, h24, ampm, h24));
  }
  if (!h12.empty() && ampm.empty()) {
    return Status::InvalidArgument(
        fmt::format("time format '{}' reads a 12-hour hour ({}) without AM/PM (%p): every PM time would be "
                    "read as AM; add %p, or use %H for a 24-hour clock",
                    format, h12));
  }
  return Status::Ok();
}

Result<Instant> ParseTimeWithFormat(std::string_view text, const std::string& format, int offset_minutes) {
  CASELOOP_RETURN_IF_ERROR(CheckTimeFormat(format));
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
