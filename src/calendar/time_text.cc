// Text forms of time limits, instants and UTC offsets (caseloop/time.h).
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "calendar/text_util.h"
#include "caseloop/time.h"

namespace caseloop {

using namespace calendar_internal;

namespace {

// The longest accepted limit: 10 years of 366 days, in the unit's own terms.
constexpr std::int64_t kMaxLimitDays = 10 * 366;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
// The instants ParseInstant accepts (caseloop/time.h): those of the local
// times in years kMinYear..kMaxYear at any offset within ±14:00, i.e. from
// 1970-01-01T00:00+14:00 to 9999-12-31T23:59:59.999999-14:00. FormatInstant
// writes the ends at other offsets as the last days of 1969 or the first of
// the year 10000, so those years are read too when the instant is within
// these bounds.
// The one range of caseloop/time.h, derived here from the years and offsets.
constexpr std::int64_t kEarliestMicros = -std::int64_t{kMaxOffsetMinutes} * kMicrosPerMinute;
constexpr std::int64_t kLatestMicros =
    std::int64_t{2'932'897} * kMicrosPerDay - 1 + std::int64_t{kMaxOffsetMinutes} * kMicrosPerMinute;
static_assert(std::int64_t{2'932'897} * 86400 == 253'402'300'800);  // 10000-01-01T00:00Z
static_assert(kEarliestMicros == MicrosOf(kEarliestInstant) && kLatestMicros == MicrosOf(kLatestInstant));
static_assert(kMicrosPerHour == 3'600'000'000);

// The date at the start of an instant's text: "YYYY-MM-DD", or "10000-MM-DD"
// (see kLatestMicros). Sets *end to the index after the date. Years outside
// kMinYear..kMaxYear (1969 and 10000 included) come back with *in_range
// false, for the caller to check the instant against the bounds.
Result<std::chrono::sys_days> ParseInstantDate(std::string_view text, std::size_t* end, bool* in_range) {
  using namespace std::chrono;
  std::size_t n = 0;
  while (n < text.size() && n < 6 && IsDigit(text[n])) ++n;
  if (n == 5) {
    // A five-digit year: FormatInstant writes one for instants after 9999.
    auto y = ReadDigits(text, 0, 5);
    auto m = ReadDigits(text, 6, 2);
    auto d = ReadDigits(text, 9, 2);
    if (y && m && d && text[5] == '-' && text[8] == '-' && !(text.size() > 11 && IsDigit(text[11]))) {
      year_month_day ymd{year{*y}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
      if (*y != kMaxYear + 1) {
        return Status::InvalidArgument(
            fmt::format("bad year {} in '{}' (years {}..{} only)", *y, text, kMinYear, kMaxYear));
      }
      if (!ymd.ok()) return Status::InvalidArgument(fmt::format("bad date in '{}'", text));
      *end = 11;
      *in_range = false;
      return sys_days{ymd};
    }
  }
  auto y = ReadDigits(text, 0, 4);
  if (y && (*y == kMinYear - 1) && text.size() >= 10 && text[4] == '-' && text[7] == '-' &&
      !(text.size() > 10 && IsDigit(text[10]))) {
    auto m = ReadDigits(text, 5, 2);
    auto d = ReadDigits(text, 8, 2);
    if (m && d) {
      year_month_day ymd{year{*y}, month{static_cast<unsigned>(*m)}, day{static_cast<unsigned>(*d)}};
      if (ymd.ok()) {
        *end = 10;
        *in_range = false;
        return sys_days{ymd};
      }
    }
  }
  *end = 10;
  *in_range = true;
  return ParseDatePrefix(text, text);
}

}  // namespace

Result<TimeLimit> ParseTimeLimit(std::string_view text) {
  if (text.empty())
    return Status::InvalidArgument("empty time limit: expected e.g. 30m, 2h, 1d, 4wh, 90wm, 1wd");
  std::size_t n = 0;
  while (n < text.size() && IsDigit(text[n])) ++n;
  if (n == 0) {
    if (text[0] == '-') {
      return Status::InvalidArgument(fmt::format("bad time limit '{}': the amount must be positive", text));
    }
    return Status::InvalidArgument(fmt::format(
        "bad time limit '{}': expected a positive whole number followed by m, h, d, wm, wh or wd", text));
  }
  std::string unit;
  for (char c : text.substr(n)) unit += Lower(c);
  TimeLimit::Unit u;
  std::int64_t minutes_per_unit;  // for the cap; 1440 for days
  std::int64_t unit_scale;        // amount multiplier into the stored unit
  if (unit == "m") {
    u = TimeLimit::Unit::kNatural, minutes_per_unit = 1, unit_scale = 1;
  } else if (unit == "h") {
    u = TimeLimit::Unit::kNatural, minutes_per_unit = 60, unit_scale = 60;
  } else if (unit == "d") {
    u = TimeLimit::Unit::kNatural, minutes_per_unit = 1440, unit_scale = 1440;
  } else if (unit == "wm") {
    u = TimeLimit::Unit::kWorking, minutes_per_unit = 1, unit_scale = 1;
  } else if (unit == "wh") {
    u = TimeLimit::Unit::kWorking, minutes_per_unit = 60, unit_scale = 60;
  } else if (unit == "wd") {
    u = TimeLimit::Unit::kWorkingDays, minutes_per_unit = 1440, unit_scale = 1;
  } else if (unit.empty()) {
    return Status::InvalidArgument(
        fmt::format("bad time limit '{}': missing unit (m, h, d, wm, wh or wd)", text));
  } else {
    return Status::InvalidArgument(fmt::format(
        "bad time limit '{}': unknown unit '{}' (expected m, h, d, wm, wh or wd)", text, text.substr(n)));
  }
  const std::int64_t cap = kMaxLimitDays * 1440 / minutes_per_unit;
  std::int64_t amount = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + n, amount);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && amount > cap)) {
    return Status::InvalidArgument(
        fmt::format("bad time limit '{}': longer than 10 years (at most {}{})", text, cap, unit));
  }
  if (ec != std::errc() || ptr != text.data() + n) {
    return Status::InvalidArgument(fmt::format("bad time limit '{}': bad number", text));
  }
  if (amount == 0) {
    return Status::InvalidArgument(fmt::format("bad time limit '{}': the amount must be positive", text));
  }
  return TimeLimit{u, amount * unit_scale};
}

std::string FormatTimeLimit(const TimeLimit& limit) {
  const std::int64_t a = limit.amount;
  switch (limit.unit) {
    case TimeLimit::Unit::kNatural:
      if (a != 0 && a % 1440 == 0) return fmt::format("{}d", a / 1440);
      if (a != 0 && a % 60 == 0) return fmt::format("{}h", a / 60);
      return fmt::format("{}m", a);
    case TimeLimit::Unit::kWorking:
      if (a != 0 && a % 60 == 0) return fmt::format("{}wh", a / 60);
      return fmt::format("{}wm", a);
    case TimeLimit::Unit::kWorkingDays:
      return fmt::format("{}wd", a);
  }
  return fmt::format("{}?unit{}", a, static_cast<int>(limit.unit));
}

Result<Instant> ParseInstant(std::string_view text, int default_offset_minutes) {
  using namespace std::chrono;
  if (text.empty()) return Status::InvalidArgument("empty time: expected e.g. 2025-03-31T10:30");
  std::size_t pos = 10;
  bool year_in_range = true;
  auto date = ParseInstantDate(text, &pos, &year_in_range);
  if (!date.ok()) return date.status();
  std::int64_t local_us = static_cast<std::int64_t>(date->time_since_epoch().count()) * kMicrosPerDay;
  // The instant of a year in range is within the bounds for any offset
  // within ±14:00; 1969-12-31 and 10000-01-01 must be checked.
  auto bounded = [&](std::int64_t us) -> Result<Instant> {
    if (!year_in_range && (us < kEarliestMicros || us > kLatestMicros)) {
      return Status::InvalidArgument(fmt::format(
          "bad year {} in '{}' (years {}..{} only: from 1970-01-01T00:00+14:00 to 9999-12-31T23:59:59-14:00)",
          static_cast<int>(std::chrono::year_month_day{*date}.year()), text, kMinYear, kMaxYear));
    }
    return InstantFromMicros(us);
  };
  int offset = default_offset_minutes;
  if (pos == text.size()) return bounded(local_us - std::int64_t{offset} * kMicrosPerMinute);

  char sep = text[pos];
  if (sep != 'T' && sep != 't' && sep != ' ') {
    return Status::InvalidArgument(
        fmt::format("unexpected '{}' after the date in '{}' (expected 'T' or a space and HH:MM)", sep, text));
  }
  ++pos;
  auto hh = ReadDigits(text, pos, 2);
  auto mm = ReadDigits(text, pos + 3, 2);
  if (!hh || !mm || text[pos + 2] != ':' || (pos + 5 < text.size() && IsDigit(text[pos + 5]))) {
    return Status::InvalidArgument(fmt::format("expected HH:MM after the date in '{}'", text));
  }
  if (*hh > 23) return Status::InvalidArgument(fmt::format("bad hour {} in '{}'", *hh, text));
  if (*mm > 59) return Status::InvalidArgument(fmt::format("bad minute {} in '{}'", *mm, text));
  pos += 5;
  std::int64_t us = (std::int64_t{*hh} * 60 + *mm) * kMicrosPerMinute;
  if (pos < text.size() && text[pos] == ':') {
    auto ss = ReadDigits(text, pos + 1, 2);
    if (!ss || (pos + 3 < text.size() && IsDigit(text[pos + 3]))) {
      return Status::InvalidArgument(
          fmt::format("expected two digits of seconds after HH:MM: in '{}'", text));
    }
    if (*ss > 59) return Status::InvalidArgument(fmt::format("bad second {} in '{}'", *ss, text));
    us += *ss * kMicrosPerSecond;
    pos += 3;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      std::size_t begin = pos;
      std::int64_t frac = 0;
      while (pos < text.size() && IsDigit(text[pos])) {
        // Keep microseconds; finer digits are truncated.
        if (pos - begin < 6) frac = frac * 10 + (text[pos] - '0');
        ++pos;
      }
      std::size_t digits = pos - begin;
      if (digits == 0 || digits > 9) {
        return Status::InvalidArgument(
            fmt::format("bad fractional seconds in '{}' (expected 1 to 9 digits after the point)", text));
      }
      for (std::size_t i = digits; i < 6; ++i) frac *= 10;
      us += frac;
    }
  }
  if (pos < text.size()) {
    char c = text[pos];
    if (c == 'Z' || c == 'z') {
      offset = 0;
      ++pos;
    } else if (c == '+' || c == '-') {
      std::string_view body = text.substr(pos + 1);
      auto off = ParseOffsetBody(body, text);
      if (!off.ok()) return off.status();
      offset = c == '-' ? -*off : *off;
      pos = text.size();
    } else {
      return Status::InvalidArgument(fmt::format(
          "unexpected '{}' in '{}' (expected seconds, fractional seconds, Z or an offset like +08:00)",
          text.substr(pos), text));
    }
  }
  if (pos != text.size()) {
    return Status::InvalidArgument(fmt::format("unexpected '{}' at the end of '{}'", text.substr(pos), text));
  }
  return bounded(local_us + us - std::int64_t{offset} * kMicrosPerMinute);
}

Status CheckInstantRange(Instant t, std::string_view what, int offset_minutes) {
  if (InInstantRange(t)) return Status::Ok();
  // FormatInstant's calendar arithmetic is exact well beyond the range; far
  // beyond it the microseconds say more.
  constexpr std::int64_t kPrintable = std::int64_t{20'000} * 366 * kMicrosPerDay;
  const std::int64_t us = MicrosOf(t);
  const std::string text = (us > -kPrintable && us < kPrintable)
                               ? FormatInstant(t, offset_minutes)
                               : fmt::format("{} microseconds from 1970-01-01T00:00Z", us);
  if (t < kEarliestInstant) {
    return Status::InvalidArgument(
        fmt::format("{} {}: it is before the earliest instant caseloop handles ({})", what, text,
                    FormatInstant(kEarliestInstant, kMaxOffsetMinutes)));
  }
  return Status::InvalidArgument(fmt::format("{} {}: it is after the latest instant caseloop handles ({})",
                                             what, text, FormatInstant(kLatestInstant, -kMaxOffsetMinutes)));
}

std::string FormatInstant(Instant t, int offset_minutes) {
  using namespace std::chrono;
  // Seconds first: cannot overflow whatever the instant and offset.
  std::int64_t secs = FloorDiv(MicrosOf(t), kMicrosPerSecond) + std::int64_t{offset_minutes} * 60;
  std::int64_t day_count = FloorDiv(secs, 86400);
  std::int64_t sod = secs - day_count * 86400;
  year_month_day ymd{sys_days{days{day_count}}};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), sod / 3600,
                     sod / 60 % 60, sod % 60, FormatUtcOffset(offset_minutes));
}

Result<int> ParseUtcOffset(std::string_view text) {
  if (text == "Z" || text == "z") return 0;
  if (text.empty() || (text[0] != '+' && text[0] != '-')) {
    return Status::InvalidArgument(
        fmt::format("bad UTC offset '{}': expected Z, +HH:MM, -HH:MM or +HHMM", text));
  }
  auto off = ParseOffsetBody(text.substr(1), text);
  if (!off.ok()) return off.status();
  return text[0] == '-' ? -*off : *off;
}

std::string FormatUtcOffset(int offset_minutes) {
  std::int64_t m = offset_minutes;
  char sign = m < 0 ? '-' : '+';
  if (m < 0) m = -m;
  return fmt::format("{}{:02}:{:02}", sign, m / 60, m % 60);
}

}  // namespace caseloop
