// Text forms of time limits, instants and UTC offsets (caseloop/time.h).
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

#include "caseloop/time.h"

using namespace caseloop;

namespace {

constexpr std::int64_t kSec = 1'000'000;
constexpr std::int64_t kMin = 60 * kSec;
constexpr std::int64_t kHour = 60 * kMin;
constexpr std::int64_t kDay = 24 * kHour;

// 2025-03-31T00:00:00Z in microseconds (20178 days after the epoch).
constexpr std::int64_t k20250331 = 20178 * kDay;

Instant MustParse(const std::string& text, int offset = 480) {
  auto r = ParseInstant(text, offset);
  INFO(text, " -> ", r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

// The error message for a text that must be refused.
std::string ParseError(const std::string& text, int offset = 480) {
  auto r = ParseInstant(text, offset);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  return r.status().message();
}

std::string LimitError(const std::string& text) {
  auto r = ParseTimeLimit(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message().find("'" + text + "'") != std::string::npos);
  return r.status().message();
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("ParseTimeLimit reads every unit") {
  CHECK(*ParseTimeLimit("30m") == TimeLimit::NaturalMinutes(30));
  CHECK(*ParseTimeLimit("2h") == TimeLimit::NaturalHours(2));
  CHECK(*ParseTimeLimit("1d") == TimeLimit::NaturalMinutes(1440));
  CHECK(*ParseTimeLimit("4wh") == TimeLimit::WorkingHours(4));
  CHECK(*ParseTimeLimit("90wm") == (TimeLimit{TimeLimit::Unit::kWorking, 90}));
  CHECK(*ParseTimeLimit("1wd") == TimeLimit::WorkingDays(1));
  CHECK(*ParseTimeLimit("2H") == TimeLimit::NaturalHours(2));
  CHECK(*ParseTimeLimit("3WD") == TimeLimit::WorkingDays(3));
  // The 10-year cap, in each unit's own terms (10 × 366 days).
  CHECK(ParseTimeLimit("3660d").ok());
  CHECK(ParseTimeLimit("3660wd").ok());
  CHECK(ParseTimeLimit("87840h").ok());
  CHECK(ParseTimeLimit("5270400m").ok());
  CHECK(ParseTimeLimit("5270400wm").ok());
}

TEST_CASE("ParseTimeLimit refuses zero, negatives, junk and overflow") {
  CHECK(ParseTimeLimit("").status().IsInvalidArgument());
  CHECK(Contains(LimitError("0h"), "positive"));
  CHECK(Contains(LimitError("0wd"), "positive"));
  CHECK(Contains(LimitError("-2h"), "positive"));
  CHECK(Contains(LimitError("h"), "expected a positive whole number"));
  CHECK(Contains(LimitError("+2h"), "expected a positive whole number"));
  CHECK(Contains(LimitError(" 2h"), "expected a positive whole number"));
  CHECK(Contains(LimitError("2"), "missing unit"));
  CHECK(Contains(LimitError("2x"), "unknown unit 'x'"));
  CHECK(Contains(LimitError("2 h"), "unknown unit"));
  CHECK(Contains(LimitError("2.5h"), "unknown unit"));
  CHECK(Contains(LimitError("2hours"), "unknown unit"));
  CHECK(Contains(LimitError("3661d"), "10 years"));
  CHECK(Contains(LimitError("3661wd"), "10 years"));
  CHECK(Contains(LimitError("87841h"), "10 years"));
  CHECK(Contains(LimitError("5270401wm"), "10 years"));
  CHECK(Contains(LimitError("99999999999999999999999m"), "10 years"));
}

TEST_CASE("FormatTimeLimit gives the shortest form") {
  CHECK(FormatTimeLimit(TimeLimit::NaturalMinutes(30)) == "30m");
  CHECK(FormatTimeLimit(TimeLimit::NaturalMinutes(120)) == "2h");
  CHECK(FormatTimeLimit(TimeLimit::NaturalMinutes(1440)) == "1d");
  CHECK(FormatTimeLimit(TimeLimit::NaturalMinutes(1500)) == "25h");
  CHECK(FormatTimeLimit(TimeLimit::NaturalMinutes(1441)) == "1441m");
  CHECK(FormatTimeLimit(TimeLimit::WorkingHours(4)) == "4wh");
  CHECK(FormatTimeLimit(TimeLimit{TimeLimit::Unit::kWorking, 90}) == "90wm");
  CHECK(FormatTimeLimit(TimeLimit::WorkingHours(24)) == "24wh");  // working minutes never become days
  CHECK(FormatTimeLimit(TimeLimit::WorkingDays(1)) == "1wd");
}

TEST_CASE("time limits round-trip through text") {
  for (auto unit : {TimeLimit::Unit::kNatural, TimeLimit::Unit::kWorking, TimeLimit::Unit::kWorkingDays}) {
    const std::int64_t max = unit == TimeLimit::Unit::kWorkingDays ? 3660 : 5000;
    for (std::int64_t a = 1; a <= max; ++a) {
      TimeLimit l{unit, a};
      auto back = ParseTimeLimit(FormatTimeLimit(l));
      INFO(FormatTimeLimit(l));
      REQUIRE(back.ok());
      CHECK(*back == l);
    }
  }
  for (const char* text : {"30m", "2h", "1d", "4wh", "90wm", "1wd", "3660d", "3660wd"}) {
    CHECK(FormatTimeLimit(*ParseTimeLimit(text)) == text);
  }
}

TEST_CASE("ParseInstant reads the accepted forms") {
  const Instant t = InstantFromMicros(k20250331 + 2 * kHour + 30 * kMin);  // 10:30 +08:00
  CHECK(MustParse("2025-03-31T10:30") == t);
  CHECK(MustParse("2025-03-31T10:30:00") == t);
  CHECK(MustParse("2025-03-31 10:30:00") == t);
  CHECK(MustParse("2025-03-31t10:30") == t);
  CHECK(MustParse("2025-03-31T10:30+08:00", 0) == t);
  CHECK(MustParse("2025-03-31T10:30:00+0800", -300) == t);
  CHECK(MustParse("2025-03-31T10:30+08", 0) == t);
  CHECK(MustParse("2025-03-31T02:30Z") == t);
  CHECK(MustParse("2025-03-31T02:30:00z") == t);
  CHECK(MustParse("2025-03-30T21:30-05:00") == t);
  CHECK(MustParse("2025-03-31T08:00+05:30") == t);
  // The default offset applies only when the text has none.
  CHECK(MustParse("2025-03-31T02:30", 0) == t);
  CHECK(MustParse("2025-03-30T21:30", -300) == t);
  // Fractional seconds, to the microsecond; finer digits are truncated.
  CHECK(MustParse("2025-03-31T10:30:00.5") == t + Micros(500'000));
  CHECK(MustParse("2025-03-31T10:30:00,25") == t + Micros(250'000));
  CHECK(MustParse("2025-03-31T10:30:01.000001Z", 0) == t + Micros(8 * kHour + kSec + 1));
  CHECK(MustParse("2025-03-31T10:30:00.123456789") == t + Micros(123'456));
  // A bare date is local midnight.
  CHECK(MustParse("2025-03-31") == InstantFromMicros(k20250331 - 8 * kHour));
  CHECK(MustParse("2025-03-31", 0) == InstantFromMicros(k20250331));
  // Edges of the accepted years.
  CHECK(MustParse("1970-01-01T00:00Z") == InstantFromMicros(0));
  CHECK(MustParse("1970-01-01T00:00") == InstantFromMicros(-8 * kHour));
  CHECK(ParseInstant("9999-12-31T23:59:59.999999-14:00", 0).ok());
  CHECK(MustParse("2024-02-29T12:00Z") == InstantFromMicros((19782) * kDay + 12 * kHour));
  CHECK(MustParse("2000-02-29") < MustParse("2000-03-01"));
}

TEST_CASE("ParseInstant refuses bad text with a clear message") {
  CHECK(Contains(ParseError("2025-13-01T00:00"), "bad month 13 in '2025-13-01T00:00'"));
  CHECK(Contains(ParseError("2025-00-10"), "bad month 0"));
  CHECK(Contains(ParseError("2025-04-31T10:00"), "day 31 does not exist in 2025-04"));
  CHECK(Contains(ParseError("2025-02-29"), "day 29 does not exist in 2025-02"));
  CHECK(Contains(ParseError("2025-01-00"), "day 0 does not exist"));
  CHECK(Contains(ParseError("1969-12-31T09:59:59.999999Z"), "bad year 1969"));
  CHECK(Contains(ParseError("1969-12-30T23:59Z"), "bad year 1969"));
  CHECK(Contains(ParseError("1969-12-31"), "bad year 1969"));  // local midnight at +08:00
  CHECK(Contains(ParseError("0000-01-01"), "bad year 0"));
  CHECK(
      Contains(ParseError("0001-01-01T00:00Z"), "bad year 1 in '0001-01-01T00:00Z' (years 1970..9999 only)"));
  CHECK(Contains(ParseError("10000-01-01T14:00Z"), "bad year 10000"));
  CHECK(Contains(ParseError("10000-01-02"), "bad year 10000"));
  CHECK(Contains(ParseError("10009-06-30T12:00:00+08:00"), "bad year 10009"));
  CHECK(Contains(ParseError("10000-02-30"), "bad date"));
  CHECK(Contains(ParseError("2025-03-31T24:00"), "bad hour 24"));
  CHECK(Contains(ParseError("2025-03-31T10:60"), "bad minute 60"));
  CHECK(Contains(ParseError("2025-03-31T10:30:60"), "bad second 60"));
  CHECK(Contains(ParseError(""), "empty"));
  CHECK(Contains(ParseError("2025-3-31"), "expected a date YYYY-MM-DD"));
  CHECK(Contains(ParseError("20250331"), "expected a date YYYY-MM-DD"));
  CHECK(Contains(ParseError("12025-03-31"), "bad year 12025"));
  CHECK(Contains(ParseError("123456-03-31"), "expected a date YYYY-MM-DD"));
  CHECK(Contains(ParseError("2025-03-311"), "expected a date"));
  CHECK(Contains(ParseError("2025/03/31"), "expected a date"));
  CHECK(Contains(ParseError("tomorrow"), "'tomorrow'"));
  CHECK(Contains(ParseError("2025-03-31T"), "expected HH:MM"));
  CHECK(Contains(ParseError("2025-03-31T10"), "expected HH:MM"));
  CHECK(Contains(ParseError("2025-03-31T1:30"), "expected HH:MM"));
  CHECK(Contains(ParseError("2025-03-31T10:300"), "expected HH:MM"));
  CHECK(Contains(ParseError("2025-03-31_10:30"), "unexpected '_'"));
  CHECK(Contains(ParseError("2025-03-31T10:30:5"), "seconds"));
  CHECK(Contains(ParseError("2025-03-31T10:30:00."), "fractional"));
  CHECK(Contains(ParseError("2025-03-31T10:30:00.1234567891"), "fractional"));
  CHECK(Contains(ParseError("2025-03-31T10:30.5"), "unexpected '.5'"));
  CHECK(Contains(ParseError("2025-03-31T10:30x"), "unexpected 'x'"));
  CHECK(Contains(ParseError("2025-03-31T10:30Zx"), "unexpected 'x' at the end"));
  CHECK(Contains(ParseError("2025-03-31T10:30 "), "unexpected ' '"));
  CHECK(Contains(ParseError("2025-03-31T10:30+8"), "bad UTC offset"));
  CHECK(Contains(ParseError("2025-03-31T10:30+08:0"), "bad UTC offset"));
  CHECK(Contains(ParseError("2025-03-31T10:30+08:60"), "bad offset minute 60"));
  CHECK(Contains(ParseError("2025-03-31T10:30+19:00"), "out of range"));
  CHECK(Contains(ParseError("2025-03-31+08:00"), "unexpected '+'"));
}

TEST_CASE("FormatInstant writes local time with the offset, seconds truncated") {
  const Instant t = MustParse("2025-03-31T10:30");
  CHECK(FormatInstant(t, 480) == "2025-03-31T10:30:00+08:00");
  CHECK(FormatInstant(t, 0) == "2025-03-31T02:30:00+00:00");
  CHECK(FormatInstant(t, -300) == "2025-03-30T21:30:00-05:00");
  CHECK(FormatInstant(t, 330) == "2025-03-31T08:00:00+05:30");
  CHECK(FormatInstant(t + Micros(59'999'999), 480) == "2025-03-31T10:30:59+08:00");
  CHECK(FormatInstant(InstantFromMicros(0), 0) == "1970-01-01T00:00:00+00:00");
  CHECK(FormatInstant(InstantFromMicros(-1), 0) == "1969-12-31T23:59:59+00:00");
  CHECK(FormatInstant(MustParse("9999-12-31T23:59:59"), 480) == "9999-12-31T23:59:59+08:00");
  // Never crashes on extreme instants.
  CHECK_FALSE(FormatInstant(Instant::max(), 480).empty());
  CHECK_FALSE(FormatInstant(Instant::min(), -480).empty());
}

TEST_CASE("instants round-trip through text at any offset") {
  std::mt19937_64 rng(20250331);
  std::uniform_int_distribution<std::int64_t> secs(0, 253'402'300'799LL - 2 * 86400);  // up to 9999-12-30
  std::uniform_int_distribution<int> offs(-14 * 60, 14 * 60);
  for (int i = 0; i < 20000; ++i) {
    Instant t = InstantFromMicros(secs(rng) * kSec + 86400 * kSec);
    int off = offs(rng);
    std::string text = FormatInstant(t, off);
    auto back = ParseInstant(text, 0);
    INFO(text);
    REQUIRE(back.ok());
    CHECK(*back == t);
    // Without its offset, the text is read at the default offset.
    CHECK(*ParseInstant(text.substr(0, 19), off) == t);
  }
}

TEST_CASE("instants at the ends of the accepted range round-trip at every offset") {
  // The range: local times of the years 1970..9999 at any offset within
  // ±14:00 (caseloop/time.h). At another offset its ends are written as
  // 1969-12-31 or 10000-01-01, which must read back.
  const Instant earliest = MustParse("1970-01-01T00:00+14:00");
  const Instant latest = MustParse("9999-12-31T23:59:59.999999-14:00");
  CHECK(earliest == InstantFromMicros(-14 * kHour));
  CHECK(latest == InstantFromMicros(253'402'300'800LL * kSec + 14 * kHour - 1));
  CHECK(FormatInstant(earliest, 480) == "1969-12-31T18:00:00+08:00");
  CHECK(FormatInstant(earliest, -840) == "1969-12-30T20:00:00-14:00");
  CHECK(FormatInstant(latest, 480) == "10000-01-01T21:59:59+08:00");
  CHECK(FormatInstant(latest, 840) == "10000-01-02T03:59:59+14:00");
  CHECK(MustParse("1969-12-31T18:00:00+08:00", 0) == earliest);
  CHECK(MustParse("1969-12-30T20:00:00-14:00", 0) == earliest);
  CHECK(MustParse("1969-12-31T10:00:00Z", 0) == earliest);
  CHECK(MustParse("1969-12-31T18:00", 480) == earliest);
  CHECK(MustParse("10000-01-01T13:59:59.999999Z", 0) == latest);
  CHECK(MustParse("10000-01-01T21:59:59.999999+08:00", 0) == latest);
  CHECK(MustParse("10000-01-01", 480) == InstantFromMicros(253'402'300'800LL * kSec - 8 * kHour));
  CHECK(Contains(ParseError("10000-01-01", -840), "bad year 10000"));  // 14:00Z, 1 µs past the end
  // One microsecond outside: refused, naming the text and the range.
  CHECK(Contains(ParseError("1969-12-31T09:59:59.999999Z"), "years 1970..9999 only"));
  CHECK(Contains(ParseError("1969-12-31T17:59:59.999999+08:00"), "bad year 1969"));
  CHECK(Contains(ParseError("10000-01-01T14:00Z"), "bad year 10000"));
  CHECK(Contains(ParseError("10000-01-01T22:00+08:00"), "bad year 10000"));
  // Every second near each end, at a spread of offsets, in both directions.
  for (int off : {-840, -300, -1, 0, 1, 330, 480, 840}) {
    for (std::int64_t s = 0; s < 2 * 86400; s += 61) {
      for (Instant t : {earliest + Micros(s * kSec),
                        latest - Micros(latest.time_since_epoch().count() % kSec) - Micros(s * kSec)}) {
        std::string text = FormatInstant(t, off);
        INFO(text);
        auto back = ParseInstant(text, 0);
        REQUIRE(back.ok());
        CHECK(*back == t);
      }
    }
  }
  // The 1969/1970 boundary in UTC, at the offsets that write it either side.
  CHECK(FormatInstant(InstantFromMicros(-1 * kSec), 0) == "1969-12-31T23:59:59+00:00");
  CHECK(*ParseInstant("1969-12-31T23:59:59+00:00", 480) == InstantFromMicros(-1 * kSec));
  CHECK(*ParseInstant("1970-01-01T07:59:59+08:00", 0) == InstantFromMicros(-1 * kSec));
  // Far outside (year 0001, a deadline ten years past 9999): written as they
  // are, refused on the way back with a clear error.
  const Instant year1 = InstantFromMicros(-62'135'596'800LL * kSec);
  CHECK(FormatInstant(year1, 0) == "0001-01-01T00:00:00+00:00");
  CHECK(Contains(ParseInstant(FormatInstant(year1, 0), 0).status().message(), "bad year 1"));
  const Instant far = latest + Micros(3660 * kDay);
  CHECK(FormatInstant(far, 480).substr(0, 6) == "10010-");
  CHECK(Contains(ParseInstant(FormatInstant(far, 480), 0).status().message(), "bad year 10010"));
}

TEST_CASE("UTC offsets") {
  CHECK(*ParseUtcOffset("+08:00") == 480);
  CHECK(*ParseUtcOffset("-05:30") == -330);
  CHECK(*ParseUtcOffset("Z") == 0);
  CHECK(*ParseUtcOffset("z") == 0);
  CHECK(*ParseUtcOffset("+0800") == 480);
  CHECK(*ParseUtcOffset("-0530") == -330);
  CHECK(*ParseUtcOffset("+08") == 480);
  CHECK(*ParseUtcOffset("-00:00") == 0);
  CHECK(*ParseUtcOffset("+14:00") == 840);
  CHECK(*ParseUtcOffset("-14:00") == -840);
  for (const char* bad : {"", "08:00", "+8:00", "+08:0", "+08:60", "+19:00", "+14:01", "-15:00", "+08:00x",
                          "UTC", "+", "+080", "+08:00:00"}) {
    auto r = ParseUtcOffset(bad);
    INFO(bad);
    CHECK(r.status().IsInvalidArgument());
    CHECK(Contains(r.status().message(), std::string("'") + bad + "'"));
  }
  CHECK(FormatUtcOffset(480) == "+08:00");
  CHECK(FormatUtcOffset(-330) == "-05:30");
  CHECK(FormatUtcOffset(0) == "+00:00");
  for (int m = -14 * 60; m <= 14 * 60; ++m) CHECK(*ParseUtcOffset(FormatUtcOffset(m)) == m);
}
