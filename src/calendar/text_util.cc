#include "calendar/text_util.h"

#include <fmt/format.h>

namespace caseloop::calendar_internal {

std::optional<int> ReadDigits(std::string_view text, std::size_t pos, int n) {
  if (pos > text.size() || text.size() - pos < static_cast<std::size_t>(n)) return std::nullopt;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

Result<std::chrono::sys_days> CheckDate(int y, int m, int d, std::string_view whole) {
  using namespace std::chrono;
  if (y < kMinYear || y > kMaxYear) {
    return Status::InvalidArgument(
        fmt::format("bad year {} in '{}' (years {}..{} only)", y, whole, kMinYear, kMaxYear));
  }
  if (m < 1 || m > 12) return Status::InvalidArgument(fmt::format("bad month {} in '{}'", m, whole));
  year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (d < 1 || !ymd.ok()) {
    return Status::InvalidArgument(
        fmt::format("day {} does not exist in {:04}-{:02} ('{}')", d, y, m, whole));
  }
  return sys_days{ymd};
}

Result<std::chrono::sys_days> ParseDatePrefix(std::string_view text, std::string_view whole) {
  auto y = ReadDigits(text, 0, 4);
  auto m = ReadDigits(text, 5, 2);
  auto d = ReadDigits(text, 8, 2);
  if (!y || !m || !d || text[4] != '-' || text[7] != '-' || (text.size() > 10 && IsDigit(text[10]))) {
    return Status::InvalidArgument(fmt::format("expected a date YYYY-MM-DD at the start of '{}'", whole));
  }
  return CheckDate(*y, *m, *d, whole);
}

Result<int> ParseOffsetBody(std::string_view body, std::string_view whole) {
  std::optional<int> h, m;
  if (body.size() == 5 && body[2] == ':') {
    h = ReadDigits(body, 0, 2);
    m = ReadDigits(body, 3, 2);
  } else if (body.size() == 4) {
    h = ReadDigits(body, 0, 2);
    m = ReadDigits(body, 2, 2);
  } else if (body.size() == 2) {
    h = ReadDigits(body, 0, 2);
    m = 0;
  }
  if (!h || !m) {
    return Status::InvalidArgument(
        fmt::format("bad UTC offset in '{}': expected Z, +HH:MM, -HH:MM or +HHMM", whole));
  }
  if (*m > 59) return Status::InvalidArgument(fmt::format("bad offset minute {} in '{}'", *m, whole));
  int total = *h * 60 + *m;
  if (total > kMaxOffsetMinutes) {
    return Status::InvalidArgument(
        fmt::format("UTC offset out of range in '{}' (at most 14:00 either side)", whole));
  }
  return total;
}

std::string MinuteOfDayText(int minute) {
  if (minute < 0 || minute > 1440) return fmt::format("minute {}", minute);
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

}  // namespace caseloop::calendar_internal
