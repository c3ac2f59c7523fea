// Text forms of calendar parts (local dates, workday masks, daily periods) and
// Calendar::Validate (caseloop/calendar.h).
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/text_util.h"
#include "caseloop/calendar.h"

namespace caseloop {

using namespace calendar_internal;

namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kLongDayNames = {"monday", "tuesday",  "wednesday", "thursday",
                                                           "friday", "saturday", "sunday"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 0 = Monday ... 6 = Sunday, or -1.
int DayIndex(std::string_view name) {
  std::string l = Lower(Trim(name));
  for (int i = 0; i < 7; ++i) {
    if (l == kDayNames[i] || l == kLongDayNames[i]) return i;
  }
  return -1;
}

// Splits on ',' keeping empty pieces (so that "mon,,tue" is reported).
std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find(',', start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

// "HH:MM" with 00 <= HH <= 24, minutes < 60, and at most 24:00.
Result<int> ParseClock(std::string_view piece, std::string_view whole) {
  auto h = ReadDigits(piece, 0, 2);
  auto m = ReadDigits(piece, 3, 2);
  if (piece.size() != 5 || !h || !m || piece[2] != ':') {
    return Status::InvalidArgument(fmt::format("bad time of day '{}' in '{}': expected HH:MM", piece, whole));
  }
  if (*m > 59 || *h * 60 + *m > 1440) {
    return Status::InvalidArgument(
        fmt::format("bad time of day '{}' in '{}': must be within 00:00..24:00", piece, whole));
  }
  return *h * 60 + *m;
}

std::string PeriodText(const WorkPeriod& p) {
  return MinuteOfDayText(p.start_minute) + "-" + MinuteOfDayText(p.end_minute);
}

}  // namespace

Result<LocalDate> ParseLocalDate(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty date: expected YYYY-MM-DD");
  auto d = ParseDatePrefix(text, text);
  if (!d.ok()) return d.status();
  if (text.size() != 10) {
    return Status::InvalidArgument(
        fmt::format("unexpected '{}' after the date in '{}' (expected YYYY-MM-DD)", text.substr(10), text));
  }
  return static_cast<LocalDate>(d->time_since_epoch().count());
}

Result<LocalDate> MakeLocalDate(int year, int month, int day) {
  auto d = CheckDate(year, month, day, fmt::format("{:04}-{:02}-{:02}", year, month, day));
  if (!d.ok()) return d.status();
  return static_cast<LocalDate>(d->time_since_epoch().count());
}

std::string FormatLocalDate(LocalDate d) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{days{d}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

Result<std::uint8_t> ParseWorkdays(std::string_view text) {
  if (Trim(text).empty()) {
    return Status::InvalidArgument("empty workdays: expected e.g. mon-fri or mon,tue,sat");
  }
  std::uint8_t mask = 0;
  for (std::string_view piece : SplitComma(text)) {
    std::size_t dash = piece.find('-');
    if (dash == std::string_view::npos) {
      int d = DayIndex(piece);
      if (d < 0) {
        return Status::InvalidArgument(fmt::format(
            "bad workdays '{}': unknown day '{}' (expected mon, tue, wed, thu, fri, sat, sun)", text, piece));
      }
      mask |= static_cast<std::uint8_t>(1u << d);
      continue;
    }
    int a = DayIndex(piece.substr(0, dash));
    int b = DayIndex(piece.substr(dash + 1));
    if (a < 0 || b < 0) {
      return Status::InvalidArgument(
          fmt::format("bad workdays '{}': bad day range '{}' (expected e.g. mon-fri)", text, piece));
    }
    // A range may wrap past Sunday ("sun-thu" is Sunday to Thursday).
    for (int d = a;; d = (d + 1) % 7) {
      mask |= static_cast<std::uint8_t>(1u << d);
      if (d == b) break;
    }
  }
  return mask;
}

std::string FormatWorkdays(std::uint8_t mask) {
  mask &= 0x7F;
  if (mask == 0) return "";
  if (mask == 0x7F) return "mon-sun";
  auto on = [&](int d) { return (mask >> ((d % 7 + 7) % 7) & 1) != 0; };
  // Start at the first run that begins on or after Monday, so that runs
  // wrapping past Sunday print as one range ("sun-thu").
  int first = 0;
  while (!(on(first) && !on(first + 6))) ++first;
  std::string out;
  for (int i = 0; i < 7;) {
    int d = first + i;
    if (!on(d)) {
      ++i;
      continue;
    }
    int len = 1;
    while (i + len < 7 && on(d + len)) ++len;
    if (!out.empty()) out += ',';
    if (len >= 3) {
      out += fmt::format("{}-{}", kDayNames[d % 7], kDayNames[(d + len - 1) % 7]);
    } else {
      out += kDayNames[d % 7];
      if (len == 2) out += fmt::format(",{}", kDayNames[(d + 1) % 7]);
    }
    i += len;
  }
  return out;
}

Result<std::vector<WorkPeriod>> ParsePeriods(std::string_view text) {
  if (Trim(text).empty()) {
    return Status::InvalidArgument("empty periods: expected e.g. 09:00-12:00,13:00-17:00");
  }
  std::vector<WorkPeriod> out;
  for (std::string_view raw : SplitComma(text)) {
    std::string_view piece = Trim(raw);
    std::size_t dash = piece.find('-');
    if (dash == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("bad periods '{}': '{}' is not a range HH:MM-HH:MM", text, piece));
    }
    auto a = ParseClock(Trim(piece.substr(0, dash)), text);
    if (!a.ok()) return a.status();
    auto b = ParseClock(Trim(piece.substr(dash + 1)), text);
    if (!b.ok()) return b.status();
    WorkPeriod p{*a, *b};
    if (p.end_minute <= p.start_minute) {
      return Status::InvalidArgument(
          fmt::format("bad periods '{}': period '{}' ends before it starts or is empty", text, piece));
    }
    if (!out.empty() && p.start_minute < out.back().end_minute) {
      return Status::InvalidArgument(fmt::format("bad periods '{}': period {} overlaps or precedes {}", text,
                                                 PeriodText(p), PeriodText(out.back())));
    }
    out.push_back(p);
  }
  return out;
}

std::string FormatPeriods(const std::vector<WorkPeriod>& periods) {
  std::string out;
  for (const WorkPeriod& p : periods) {
    if (!out.empty()) out += ',';
    out += PeriodText(p);
  }
  return out;
}

Status Calendar::Validate() const {
  if (utc_offset_minutes < -kMaxOffsetMinutes || utc_offset_minutes > kMaxOffsetMinutes) {
    return Status::InvalidArgument(
        fmt::format("calendar: UTC offset {} minutes is out of range (at most 14:00 either side of UTC)",
                    utc_offset_minutes));
  }
  if (!zone.empty()) CASELOOP_RETURN_IF_ERROR(CheckZoneName(zone));
  if ((workdays & 0x80) != 0) {
    return Status::InvalidArgument(fmt::format(
        "calendar: workdays mask 0x{:02x} has bit 7 set (bits 0..6 are Monday..Sunday)", workdays));
  }
  if ((workdays & 0x7F) == 0)
    return Status::InvalidArgument("calendar: no working weekday (workdays is empty)");
  if (periods.empty()) return Status::InvalidArgument("calendar: no working periods");
  for (std::size_t i = 0; i < periods.size(); ++i) {
    const WorkPeriod& p = periods[i];
    if (p.start_minute < 0 || p.end_minute > 1440) {
      return Status::InvalidArgument(
          fmt::format("calendar: period {} ({}) is not inside the day 00:00-24:00", i + 1, PeriodText(p)));
    }
    if (p.end_minute <= p.start_minute) {
      return Status::InvalidArgument(
          fmt::format("calendar: period {} ({}) is empty or ends before it starts", i + 1, PeriodText(p)));
    }
    if (i > 0 && p.start_minute < periods[i - 1].end_minute) {
      return Status::InvalidArgument(
          fmt::format("calendar: period {} ({}) overlaps or precedes period {} ({})", i + 1, PeriodText(p), i,
                      PeriodText(periods[i - 1])));
    }
  }
  return Status::Ok();
}

}  // namespace caseloop
