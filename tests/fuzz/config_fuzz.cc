// Fuzz target: configuration changes and the working-time calendar.
//
// Input: byte 0 chooses the mode.
//   even: byte 1 is the schema version (mod 3), the rest a "$config" event
//         payload: DecodeConfigChange, then ApplyConfigChange to the default
//         district and to an empty configuration. A change that decodes
//         re-encodes to the same bytes' meaning. When the change leaves a
//         valid calendar, deadline arithmetic over it must terminate and be
//         monotonic (a deadline is never before its start).
//   odd:  the rest is text for the parsers of setup values: time limits,
//         instants, UTC offsets, dates, workdays and periods (as `calendar`,
//         `holiday`, `category ... limit=` lines give them), one per line.
// Properties: no crash, no exception, no sanitizer report, no endless loop.
#include <chrono>
#include <cstdint>
#include <string>

#include "caseloop/calendar.h"
#include "caseloop/config.h"
#include "caseloop/time.h"
#include "fuzz_util.h"

using namespace caseloop;
using caseloop::fuzz::FuzzCheck;

namespace {

Config DefaultDistrict() {
  Config c;
  for (const ConfigChange& change : DefaultConfigChanges()) (void)ApplyConfigChange(c, change);
  return c;
}

void CalendarArithmetic(const Calendar& cal) {
  if (!cal.Validate().ok()) return;
  const Instant starts[] = {InstantFromMicros(1743388200000000LL),  // 2025-03-31T10:30+08:00
                            InstantFromMicros(0), InstantFromMicros(4102444800000000LL)};
  const TimeLimit limits[] = {TimeLimit::WorkingHours(4), TimeLimit::WorkingDays(3),
                              TimeLimit::NaturalHours(2), TimeLimit::WorkingDays(3650)};
  for (Instant start : starts) {
    Instant next = NextWorkingMoment(cal, start);
    FuzzCheck(next >= start, "NextWorkingMoment went back in time");
    for (const TimeLimit& limit : limits) {
      Instant d = DeadlineAfter(cal, start, limit);
      FuzzCheck(d >= start, "a deadline before its start",
                FormatInstant(start, 0) + " -> " + FormatInstant(d, 0));
      Micros worked = WorkingTimeBetween(cal, start, d);
      FuzzCheck(worked.count() >= 0, "negative working time between start and deadline");
      (void)RemainingTime(
          cal, limit.unit == TimeLimit::Unit::kNatural ? limit.unit : TimeLimit::Unit::kWorking, start, d);
    }
    (void)LocalDateOf(cal, start);
  }
}

void ConfigPath(std::uint32_t schema, std::string_view payload) {
  Result<ConfigChange> change = DecodeConfigChange(payload, schema);
  if (!change.ok()) {
    FuzzCheck(change.status().IsCorruption() || change.status().IsInvalidArgument(),
              "DecodeConfigChange error is neither Corruption nor InvalidArgument",
              change.status().ToString());
    return;
  }
  (void)ConfigEventTypeName(change->type);
  const std::string encoded = EncodeConfigChange(*change);
  Result<ConfigChange> again = DecodeConfigChange(encoded, 1);
  FuzzCheck(again.ok(), "a re-encoded configuration change does not decode", again.status().ToString());
  FuzzCheck(EncodeConfigChange(*again) == encoded, "configuration change round trip changed it");

  static const Config base = DefaultDistrict();
  Config district = base;
  if (ApplyConfigChange(district, *change).ok()) {
    CalendarArithmetic(district.calendar);
    (void)district.Route(CaseKind::kEvent, "0102", "620102001001001");
    (void)district.Route(change->route.kind, change->route.code, change->route.grid_prefix);
  }
  Config empty;
  if (ApplyConfigChange(empty, *change).ok()) CalendarArithmetic(empty.calendar);
}

void TextPath(std::string_view text) {
  for (std::string_view line : fuzz::Lines(text, 64)) {
    if (Result<TimeLimit> l = ParseTimeLimit(line); l.ok()) {
      Result<TimeLimit> back = ParseTimeLimit(FormatTimeLimit(*l));
      FuzzCheck(back.ok() && *back == *l, "FormatTimeLimit does not read back", std::string(line));
      Calendar cal;
      (void)DeadlineAfter(cal, InstantFromMicros(1743388200000000LL), *l);
    }
    if (Result<Instant> t = ParseInstant(line, 8 * 60); t.ok()) {
      std::string f = FormatInstant(*t, 8 * 60);
      // Known limit (docs/reliability.md): an instant within 14 h of the ends
      // of years 1970..9999 may print as year 10000 (or 1969) at +08:00, which
      // ParseInstant refuses. Only 4-digit years are checked for the round trip.
      if (f.size() < 5 || f[4] != '-' || f.compare(0, 4, "1969") == 0) continue;
      Result<Instant> back = ParseInstant(f, 0);
      // FormatInstant truncates seconds' fractions.
      FuzzCheck(back.ok() && *t - *back < std::chrono::seconds(1) && *t >= *back,
                "FormatInstant does not read back", std::string(line) + " -> " + f);
    }
    if (Result<int> o = ParseUtcOffset(line); o.ok()) {
      Result<int> back = ParseUtcOffset(FormatUtcOffset(*o));
      FuzzCheck(back.ok() && *back == *o, "FormatUtcOffset does not read back", std::string(line));
    }
    if (Result<LocalDate> d = ParseLocalDate(line); d.ok()) {
      Result<LocalDate> back = ParseLocalDate(FormatLocalDate(*d));
      FuzzCheck(back.ok() && *back == *d, "FormatLocalDate does not read back", std::string(line));
    }
    if (Result<std::uint8_t> w = ParseWorkdays(line); w.ok()) {
      Result<std::uint8_t> back = ParseWorkdays(FormatWorkdays(*w));
      FuzzCheck(back.ok() && *back == *w, "FormatWorkdays does not read back", std::string(line));
    }
    if (Result<std::vector<WorkPeriod>> p = ParsePeriods(line); p.ok()) {
      Result<std::vector<WorkPeriod>> back = ParsePeriods(FormatPeriods(*p));
      FuzzCheck(back.ok() && *back == *p, "FormatPeriods does not read back", std::string(line));
      Calendar cal;
      cal.periods = *p;
      CalendarArithmetic(cal);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    const std::uint32_t schema = in.Byte() % 3;
    ConfigPath(schema, in.Rest());
  } else {
    TextPath(in.Rest());
  }
  return 0;
}
