// The yearly holiday file (caseloop/year_calendar.h): parsing, checks,
// formatting and applying one year to a calendar.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/text_util.h"
#include "caseloop/calendar.h"
#include "caseloop/year_calendar.h"
#include "core/utf8.h"

namespace caseloop {
namespace {

using calendar_internal::kMaxYear;
using calendar_internal::kMinYear;

constexpr const char* kWeekdayNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                         "Friday", "Saturday", "Sunday"};

int YearOf(LocalDate d) {
  using namespace std::chrono;
  return static_cast<int>(year_month_day(sys_days{days{d}}).year());
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The first word of `s` and the rest (trimmed).
std::pair<std::string_view, std::string_view> Split(std::string_view s) {
  s = Trim(s);
  std::size_t end = s.find_first_of(" \t");
  if (end == std::string_view::npos) return {s, {}};
  return {s.substr(0, end), Trim(s.substr(end))};
}

}  // namespace

Result<YearCalendar> ParseYearCalendar(std::string_view text, std::string_view source) {
  YearCalendar y;
  bool have_year = false;
  // date -> (line, kind) of its first listing
  std::map<LocalDate, std::pair<int, bool>> seen;
  int line_no = 0;
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument(fmt::format("{}: line {}: {}", source, line_no, what));
  };
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line_no == 1 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);  // a UTF-8 BOM
    if (Status utf8 = CheckUtf8(raw, "the text"); !utf8.ok()) return error(utf8.message());
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') {
      if (nl == text.size()) break;
      continue;
    }
    auto [word, rest] = Split(line);
    if (!have_year) {
      if (word != "year")
        return error(fmt::format("expected 'year YYYY' before anything else, found '{}'", word));
      auto [number, extra] = Split(rest);
      if (!extra.empty()) return error(fmt::format("unexpected '{}' after the year", extra));
      if (number.size() != 4 || !std::all_of(number.begin(), number.end(), calendar_internal::IsDigit))
        return error(fmt::format("'{}' is not a year (YYYY)", number));
      y.year = std::stoi(std::string(number));
      if (y.year < kMinYear || y.year > kMaxYear)
        return error(fmt::format("year {} is outside {}..{}", y.year, kMinYear, kMaxYear));
      have_year = true;
    } else if (word == "year") {
      return error("a second 'year' line: one file holds one year");
    } else if (word == "name") {
      if (!y.name.empty()) return error("a second 'name' line");
      if (rest.empty()) return error("'name' needs a text");
      y.name = std::string(rest);
    } else if (word == "holiday" || word == "workday") {
      const bool holiday = word == "holiday";
      auto [dates, note] = Split(rest);
      (void)note;
      if (dates.empty())
        return error(fmt::format("'{}' needs a date (YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD)", word));
      std::string_view first_text = dates, last_text = dates;
      const std::size_t dots = dates.find("..");
      if (dots != std::string_view::npos) {
        first_text = dates.substr(0, dots);
        last_text = dates.substr(dots + 2);
      }
      auto first = ParseLocalDate(first_text);
      if (!first.ok()) return error(first.status().message());
      auto last = ParseLocalDate(last_text);
      if (!last.ok()) return error(last.status().message());
      if (*last < *first) return error(fmt::format("the range {} ends before it begins", dates));
      if (!holiday && *last != *first)
        return error("a 'workday' names one date: adjusted working days are listed one by one");
      for (LocalDate d = *first; d <= *last; ++d) {
        if (YearOf(d) != y.year)
          return error(fmt::format("{} is not in {} (the file's year)", FormatLocalDate(d), y.year));
        auto [it, fresh] = seen.emplace(d, std::make_pair(line_no, holiday));
        if (!fresh) {
          const auto [first_line, was_holiday] = it->second;
          if (was_holiday == holiday)
            return error(
                fmt::format("{} is listed twice (first on line {})", FormatLocalDate(d), first_line));
          return error(fmt::format("{} is both a holiday and a working day (the other on line {})",
                                   FormatLocalDate(d), first_line));
        }
        (holiday ? y.holidays : y.workdays).push_back(d);
      }
    } else {
      return error(fmt::format("unknown word '{}' (expected holiday, workday, name or a comment)", word));
    }
    if (nl == text.size()) break;
  }
  if (!have_year) return Status::InvalidArgument(fmt::format("{}: no 'year YYYY' line", source));
  std::sort(y.holidays.begin(), y.holidays.end());
  std::sort(y.workdays.begin(), y.workdays.end());
  return y;
}

std::string FormatYearCalendar(const YearCalendar& y) {
  std::string out = fmt::format("year {}\n", y.year);
  if (!y.name.empty()) out += fmt::format("name {}\n", y.name);
  for (std::size_t i = 0; i < y.holidays.size();) {
    std::size_t j = i;
    while (j + 1 < y.holidays.size() && y.holidays[j + 1] == y.holidays[j] + 1) ++j;
    if (j == i)
      out += fmt::format("holiday {}\n", FormatLocalDate(y.holidays[i]));
    else
      out += fmt::format("holiday {}..{}\n", FormatLocalDate(y.holidays[i]), FormatLocalDate(y.holidays[j]));
    i = j + 1;
  }
  for (LocalDate d : y.workdays) out += fmt::format("workday {}\n", FormatLocalDate(d));
  return out;
}

Status CheckYearCalendar(const YearCalendar& y) {
  if (y.year < kMinYear || y.year > kMaxYear)
    return Status::InvalidArgument(
        fmt::format("year calendar: year {} is outside {}..{}", y.year, kMinYear, kMaxYear));
  // Numerically first: a decoded change may hold any int32 as a date.
  const LocalDate first = *MakeLocalDate(y.year, 1, 1);
  const LocalDate last = *MakeLocalDate(y.year, 12, 31);
  for (const auto* list : {&y.holidays, &y.workdays}) {
    const char* what = list == &y.holidays ? "holiday" : "workday";
    for (std::size_t i = 0; i < list->size(); ++i) {
      const LocalDate d = (*list)[i];
      if (d < first || d > last)
        return Status::InvalidArgument(fmt::format(
            "year calendar {}: {} (day {} since 1970-01-01) is not in {}", y.year, what, d, y.year));
      if (i > 0 && (*list)[i - 1] >= d)
        return Status::InvalidArgument(fmt::format("year calendar {}: {} {} is listed twice or out of order",
                                                   y.year, what, FormatLocalDate(d)));
    }
  }
  for (LocalDate d : y.workdays) {
    if (std::binary_search(y.holidays.begin(), y.holidays.end(), d))
      return Status::InvalidArgument(fmt::format("year calendar {}: {} is both a holiday and a working day",
                                                 y.year, FormatLocalDate(d)));
  }
  return Status::Ok();
}

Status CheckYearCalendarAgainst(const YearCalendar& y, const Calendar& cal) {
  for (LocalDate d : y.workdays) {
    const int wd = WeekdayOf(d);
    if ((cal.workdays >> wd) & 1)
      return Status::InvalidArgument(fmt::format(
          "year calendar {}: workday {} is a {}, a working day anyway (the week works {}): an adjusted "
          "working day is a day the week keeps off",
          y.year, FormatLocalDate(d), kWeekdayNames[wd], FormatWorkdays(cal.workdays)));
  }
  return Status::Ok();
}

void ApplyYearCalendar(Calendar& cal, const YearCalendar& y) {
  const LocalDate first = *MakeLocalDate(y.year, 1, 1);
  const LocalDate end = first + (*MakeLocalDate(y.year, 12, 31) - first) + 1;
  cal.holidays.erase(cal.holidays.lower_bound(first), cal.holidays.lower_bound(end));
  cal.extra_workdays.erase(cal.extra_workdays.lower_bound(first), cal.extra_workdays.lower_bound(end));
  cal.holidays.insert(y.holidays.begin(), y.holidays.end());
  cal.extra_workdays.insert(y.workdays.begin(), y.workdays.end());
}

}  // namespace caseloop
