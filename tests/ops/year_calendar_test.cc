// Yearly calendars (caseloop/year_calendar.h): the shipped mainland China
// files against the published dates (shared/data/china_calendar_2025_2026.csv)
// and the deadlines they give; the checks and their line numbers; one
// configuration change that replaces a year and affects only later commands.
#include "caseloop/year_calendar.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "caseloop/config.h"
#include "caseloop/engine.h"
#include "caseloop/json.h"
#include "engine/engine_test_util.h"

using namespace caseloop;
using namespace caseloop::test;

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

YearCalendar Shipped(int year) {
  const std::string file =
      std::string(CASELOOP_SOURCE_DIR) + "/examples/calendars/cn-" + std::to_string(year) + ".txt";
  auto y = ParseYearCalendar(Slurp(file), file);
  REQUIRE_MESSAGE(y.ok(), y.status().ToString());
  return *y;
}

LocalDate D(const char* text) {
  auto d = ParseLocalDate(text);
  REQUIRE(d.ok());
  return *d;
}

Status ParseError(const std::string& text) {
  auto y = ParseYearCalendar(text, "test.txt");
  REQUIRE_FALSE(y.ok());
  return y.status();
}

}  // namespace

TEST_CASE("year calendar: the shipped 2025 and 2026 files hold exactly the published dates") {
  // date -> kind, from the published notices as typed in shared/data.
  std::map<LocalDate, std::string> published;
  std::istringstream csv(Slurp(std::string(CASELOOP_SHARED_DIR) + "/data/china_calendar_2025_2026.csv"));
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    if (line.empty()) continue;
    const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
    published[D(line.substr(0, c1).c_str())] = line.substr(c1 + 1, c2 - c1 - 1);
  }
  REQUIRE(published.size() == 72);
  std::map<LocalDate, std::string> shipped;
  for (int year : {2025, 2026}) {
    const YearCalendar y = Shipped(year);
    CHECK(y.year == year);
    CHECK_FALSE(y.name.empty());
    for (LocalDate d : y.holidays) CHECK(shipped.emplace(d, "holiday").second);
    for (LocalDate d : y.workdays) CHECK(shipped.emplace(d, "workday").second);
    CHECK(CheckYearCalendar(y).ok());
    CHECK(CheckYearCalendarAgainst(y, Calendar{}).ok());
    // Formatting and parsing again gives the same year.
    auto again = ParseYearCalendar(FormatYearCalendar(y), "formatted");
    REQUIRE(again.ok());
    CHECK(*again == y);
  }
  CHECK(shipped == published);
  CHECK(Shipped(2025).holidays.size() == 28);
  CHECK(Shipped(2025).workdays.size() == 5);
  CHECK(Shipped(2026).holidays.size() == 33);
  CHECK(Shipped(2026).workdays.size() == 6);
}

TEST_CASE("year calendar: deadlines over the 2025 Spring Festival and a worked Sunday (shared/data/README)") {
  Calendar cal;  // +08:00, Monday to Friday, 09:00-12:00 and 13:00-17:00 (domain.md §6)
  ApplyYearCalendar(cal, Shipped(2025));
  ApplyYearCalendar(cal, Shipped(2026));
  // 4 working hours from Mon 2025-01-27 16:00 skip the whole Spring Festival.
  CHECK(Fmt(AddWorkingTime(cal, T("2025-01-27T16:00"), std::chrono::hours(4))) == Fmt(T("2025-02-05T12:00")));
  // 8 working hours from Fri 2025-01-24 16:00 end on Sunday 2025-01-26, a worked day.
  CHECK(Fmt(AddWorkingTime(cal, T("2025-01-24T16:00"), std::chrono::hours(8))) == Fmt(T("2025-01-26T17:00")));
  CHECK(cal.IsWorkingDay(D("2025-02-08")));        // Saturday worked
  CHECK_FALSE(cal.IsWorkingDay(D("2025-10-08")));  // Wednesday off
  CHECK(cal.IsWorkingDay(D("2026-01-04")));        // Sunday worked
  CHECK_FALSE(cal.IsWorkingDay(D("2026-02-16")));  // Monday off
  CHECK(cal.IsWorkingDay(D("2026-09-20")));        // Sunday worked
  // 2 working days from Wed 2026-09-30 09:00: Oct 1-7 off, Thu 8 and Fri 9 worked; due Fri 2026-10-09 17:00.
  CHECK(Fmt(DeadlineAfter(cal, T("2026-09-30T09:00"), TimeLimit::WorkingDays(3))) ==
        Fmt(T("2026-10-09T17:00")));
}

TEST_CASE("year calendar: bad files are refused with the line that is wrong") {
  auto has = [](const Status& s, const std::string& text) {
    INFO(s.message());
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(text) != std::string::npos);
  };
  has(ParseError("year 2025\nholiday 2025-01-01\nholiday 2025-01-01\n"),
      "test.txt: line 3: 2025-01-01 is listed twice (first on line 2)");
  has(ParseError("year 2025\nholiday 2025-01-28..2025-02-04\nholiday 2025-02-02 again\n"),
      "line 3: 2025-02-02 is listed twice (first on line 2)");
  has(ParseError("year 2025\n# a comment\n\nholiday 2025-02-08\nworkday 2025-02-08\n"),
      "line 5: 2025-02-08 is both a holiday and a working day (the other on line 4)");
  has(ParseError("year 2025\nworkday 2025-02-08\nholiday 2025-02-01..2025-02-09\n"),
      "line 3: 2025-02-08 is both a holiday and a working day (the other on line 2)");
  has(ParseError("year 2025\nholiday 2024-12-31\n"), "line 2: 2024-12-31 is not in 2025");
  has(ParseError("year 2025\nholiday 2025-12-30..2026-01-02\n"), "line 2: 2026-01-01 is not in 2025");
  has(ParseError("year 2025\nholiday 2025-02-30\n"), "line 2:");
  has(ParseError("year 2025\nholiday 2025-02-04..2025-01-28\n"),
      "line 2: the range 2025-02-04..2025-01-28 ends before");
  has(ParseError("year 2025\nworkday 2025-02-08..2025-02-09\n"), "line 2: a 'workday' names one date");
  has(ParseError("year 2025\nholliday 2025-01-01\n"), "line 2: unknown word 'holliday'");
  has(ParseError("holiday 2025-01-01\n"), "line 1: expected 'year YYYY'");
  has(ParseError("# nothing\n"), "test.txt: no 'year YYYY' line");
  has(ParseError("year 25\n"), "line 1: '25' is not a year");
  has(ParseError("year 2025\nyear 2026\n"), "line 2: a second 'year' line");
  has(ParseError("year 2025\nholiday\n"), "line 2: 'holiday' needs a date");
  has(ParseError("year 2025\nholiday 2025-01-01 \xff\n"),
      "line 2: the text is not valid UTF-8 (byte 0xFF at offset 19)");
  // Against the weekly rule: a working day that is one anyway.
  auto monday = ParseYearCalendar("year 2025\nworkday 2025-02-10\n", "t");
  REQUIRE(monday.ok());
  Status s = CheckYearCalendarAgainst(*monday, Calendar{});
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("workday 2025-02-10 is a Monday, a working day anyway") != std::string::npos);
  // A YearCalendar built by hand (a decoded change) is checked too.
  YearCalendar bad;
  bad.year = 2025;
  bad.holidays = {D("2025-05-01"), D("2025-05-01")};
  CHECK(CheckYearCalendar(bad).IsInvalidArgument());
  bad.holidays = {D("2025-05-01")};
  bad.workdays = {D("2025-05-01")};
  CHECK(CheckYearCalendar(bad).message().find("both a holiday and a working day") != std::string::npos);
}

TEST_CASE("year calendar: one configuration change, replacing the year, for later commands only") {
  TempDir dir;
  const Instant start = T("2025-01-20T09:00");
  std::uint64_t applied_at = 0;
  Config before_reopen;
  {
    auto e = MustOpen(ManualOptions(start, dir.path()));
    ConfigureDistrict(*e);
    // A hand-made 2025 first (a wrong guess), then the published one replaces it.
    ConfigChange guess;
    guess.type = ConfigChangeType::kSetYearCalendar;
    guess.year_calendar.year = 2025;
    guess.year_calendar.holidays = {D("2025-01-21"), D("2025-04-04")};
    REQUIRE(e->Configure(guess).ok());
    CHECK(e->CurrentConfig().calendar.holidays.count(D("2025-01-21")) == 1);

    // A case dispatched before the published calendar keeps its deadline.
    MustSubmit(*e, Report("EARLY", CaseKind::kEvent, "0102", start));
    MustSubmit(*e, Cmd(CommandType::kRegister, "EARLY", "L1", start));
    MustSubmit(*e, Cmd(CommandType::kDispatch, "EARLY", "D1", T("2025-01-24T16:00")));
    auto early = e->Show("EARLY");
    REQUIRE(early.ok());
    REQUIRE(early->deadline.has_value());
    const Instant early_deadline = *early->deadline;
    CHECK(Fmt(early_deadline) == Fmt(T("2025-01-27T16:00")));  // 1 working day, Sunday not worked yet

    const std::uint64_t head = e->HeadPosition();
    ConfigChange year;
    year.type = ConfigChangeType::kSetYearCalendar;
    year.year_calendar = Shipped(2025);
    auto ack = e->Configure(year);
    REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
    CHECK(ack->first_position == head + 1);
    CHECK(ack->last_position == head + 1);  // one event for the whole year
    applied_at = ack->first_position;
    const Calendar& cal = e->CurrentConfig().calendar;
    CHECK(cal.holidays.count(D("2025-01-21")) == 0);  // the guess is gone
    CHECK(cal.holidays.count(D("2025-01-28")) == 1);
    CHECK(cal.extra_workdays.count(D("2025-01-26")) == 1);
    CHECK(cal.holidays.size() == 28);

    auto later = e->Show("EARLY");
    REQUIRE(later.ok());
    CHECK(later->deadline == std::optional<Instant>(early_deadline));  // kept
    MustSubmit(*e, Report("LATE", CaseKind::kEvent, "0102", start));
    MustSubmit(*e, Cmd(CommandType::kRegister, "LATE", "L1", start));
    MustSubmit(*e, Cmd(CommandType::kDispatch, "LATE", "D1", T("2025-01-24T16:00")));
    auto late = e->Show("LATE");
    REQUIRE(late.ok());
    CHECK(Fmt(*late->deadline) == Fmt(T("2025-01-26T16:00")));  // the worked Sunday counts now

    // The change as the log shows it.
    auto log = e->ReadLog(applied_at, 1);
    REQUIRE(log.ok());
    REQUIRE(log->size() == 1);
    CHECK((*log)[0].record.type == "year_calendar_set");
    REQUIRE((*log)[0].change.has_value());
    CHECK((*log)[0].change->year_calendar == Shipped(2025));
    const std::string json = ToJson((*log)[0], 8 * 60);
    CHECK(json.find("\"2025-01-28\"") != std::string::npos);
    CHECK(json.find("\"year\":2025") != std::string::npos);

    // A working day that is a weekday is refused, and nothing is appended.
    ConfigChange wrong;
    wrong.type = ConfigChangeType::kSetYearCalendar;
    wrong.year_calendar.year = 2026;
    wrong.year_calendar.workdays = {D("2026-01-05")};
    const std::uint64_t h2 = e->HeadPosition();
    auto refused = e->Configure(wrong);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().find("2026-01-05 is a Monday") != std::string::npos);
    CHECK(e->HeadPosition() == h2);
    before_reopen = e->CurrentConfig();
    REQUIRE(e->Close().ok());
  }
  // Replayed from the log: the same configuration.
  auto e = MustOpen(ManualOptions(start, dir.path()));
  CHECK(e->CurrentConfig().calendar == before_reopen.calendar);
  REQUIRE(e->Close().ok());
}

TEST_CASE("year calendar: the change's payload round-trips and damaged payloads are refused") {
  ConfigChange c;
  c.type = ConfigChangeType::kSetYearCalendar;
  c.year_calendar = Shipped(2026);
  const std::string payload = EncodeConfigChange(c);
  auto back = DecodeConfigChange(payload, 1);
  REQUIRE(back.ok());
  CHECK(back->type == ConfigChangeType::kSetYearCalendar);
  CHECK(back->year_calendar == c.year_calendar);
  CHECK(ConfigEventTypeName(ConfigChangeType::kSetYearCalendar) == "year_calendar_set");
  CHECK(ParseConfigEventType("year_calendar_set") == std::optional(ConfigChangeType::kSetYearCalendar));
  for (std::size_t cut = 1; cut < payload.size(); cut += 7) {
    auto short_one = DecodeConfigChange(payload.substr(0, cut), 1);
    CHECK_FALSE(short_one.ok());
  }
}
