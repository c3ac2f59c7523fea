// The report chart's buckets (src/tools/report_buckets.h): sizes that fit the
// period, weeks from Monday, labels with the year when the period spans years.
#include "tools/report_buckets.h"

#include <doctest/doctest.h>

#include "caseloop/calendar.h"
#include "caseloop/time.h"

using namespace caseloop;
using tools::Bucket;
using tools::BucketSize;

namespace {

constexpr int kCst = 8 * 60;

Instant At(const char* text, int offset = kCst) {
  auto t = ParseInstant(text, offset);
  REQUIRE_MESSAGE(t.ok(), text);
  return *t;
}

// The buckets tile [from, to) without gap or overlap.
void CheckTiles(const std::vector<Bucket>& b, Instant from, Instant to) {
  REQUIRE(!b.empty());
  CHECK(b.front().from == from);
  CHECK(b.back().to == to);
  for (std::size_t i = 0; i < b.size(); ++i) {
    CHECK(b[i].from < b[i].to);
    if (i > 0) CHECK(b[i].from == b[i - 1].to);
  }
}

std::vector<std::string> Labels(const std::vector<Bucket>& b) {
  std::vector<std::string> out;
  for (const Bucket& x : b) out.push_back(x.label);
  return out;
}

}  // namespace

TEST_CASE("buckets: the size fits the period") {
  const Instant t0 = At("2025-01-01");
  auto days = [&](int n) { return t0 + std::chrono::hours(24) * n; };
  CHECK(tools::ChooseBucketSize(t0, days(1)) == BucketSize::kDay);
  CHECK(tools::ChooseBucketSize(t0, days(31)) == BucketSize::kDay);
  CHECK(tools::ChooseBucketSize(t0, days(32)) == BucketSize::kWeek);
  CHECK(tools::ChooseBucketSize(t0, At("2025-04-01")) == BucketSize::kWeek);  // a quarter
  CHECK(tools::ChooseBucketSize(t0, At("2025-07-01")) == BucketSize::kWeek);  // half a year
  CHECK(tools::ChooseBucketSize(t0, At("2025-07-05")) == BucketSize::kMonth);
  CHECK(tools::ChooseBucketSize(t0, At("2030-01-01")) == BucketSize::kMonth);  // five years
  CHECK(tools::ChooseBucketSize(t0, At("2030-01-03")) == BucketSize::kYear);
  CHECK(tools::ChooseBucketSize(At("2015-01-01"), At("2025-01-01")) == BucketSize::kYear);
  // A part of a day counts as a day.
  CHECK(tools::ChooseBucketSize(t0, days(31) + std::chrono::hours(1)) == BucketSize::kWeek);
}

TEST_CASE("buckets: one day is one bucket") {
  const Instant from = At("2013-12-25", -5 * 60), to = At("2013-12-26", -5 * 60);
  auto b = tools::MakeBuckets(from, to, -5 * 60, tools::ChooseBucketSize(from, to));
  REQUIRE(b.size() == 1);
  CheckTiles(b, from, to);
  CHECK(b[0].label == "12-25");
  // A day that does not begin at local midnight: one bucket, clipped to the period.
  const Instant noon = At("2025-03-01T12:00:00+08:00");
  auto c = tools::MakeBuckets(noon, noon + std::chrono::hours(24), kCst, BucketSize::kDay);
  REQUIRE(c.size() == 2);
  CheckTiles(c, noon, noon + std::chrono::hours(24));
  CHECK(Labels(c) == std::vector<std::string>{"03-01", "03-02"});
}

TEST_CASE("buckets: a quarter in weeks from Monday") {
  const Instant from = At("2025-01-01"), to = At("2025-04-01");  // Wed 1 Jan .. Mon 31 Mar
  REQUIRE(tools::ChooseBucketSize(from, to) == BucketSize::kWeek);
  auto b = tools::MakeBuckets(from, to, kCst, BucketSize::kWeek);
  CheckTiles(b, from, to);
  // Wed 1 – Sun 5 Jan (partial), 12 whole weeks from Mon 6 Jan, Mon 31 Mar (partial).
  REQUIRE(b.size() == 14);
  CHECK(b[0].label == "01-01");
  CHECK(b[0].to == At("2025-01-06"));
  CHECK(b[1].label == "01-06");
  CHECK(b[12].label == "03-24");
  CHECK(b[13].label == "03-31");
  for (std::size_t i = 1; i < b.size(); ++i) {
    CHECK(WeekdayOf(LocalDateOf(b[i].from, kCst)) == 0);  // Monday
    if (i + 1 < b.size()) CHECK(b[i].to - b[i].from == std::chrono::hours(24 * 7));
  }
  CHECK(tools::BucketOf(b, from) == 0);
  CHECK(tools::BucketOf(b, At("2025-01-05T23:59:59")) == 0);
  CHECK(tools::BucketOf(b, At("2025-01-06")) == 1);
  CHECK(tools::BucketOf(b, At("2025-03-31T23:00:00")) == 13);
  CHECK(tools::BucketOf(b, to) == -1);
  CHECK(tools::BucketOf(b, from - Micros(1)) == -1);
}

TEST_CASE("buckets: ten years in years; labels carry the year when the period spans years") {
  const Instant from = At("2015-01-01", -5 * 60), to = At("2025-01-01", -5 * 60);
  REQUIRE(tools::ChooseBucketSize(from, to) == BucketSize::kYear);
  auto b = tools::MakeBuckets(from, to, -5 * 60, BucketSize::kYear);
  CheckTiles(b, from, to);
  REQUIRE(b.size() == 10);
  CHECK(b[0].label == "2015");
  CHECK(b[9].label == "2024");
  CHECK(b[1].from == At("2016-01-01", -5 * 60));
  // Months over years.
  auto m = tools::MakeBuckets(At("2024-11-15"), At("2025-02-10"), kCst, BucketSize::kMonth);
  CHECK(Labels(m) == std::vector<std::string>{"2024-11", "2024-12", "2025-01", "2025-02"});
  CHECK(m[1].from == At("2024-12-01"));
  // Weeks across New Year: dated labels get the year.
  auto w = tools::MakeBuckets(At("2024-12-25"), At("2025-01-10"), kCst, BucketSize::kWeek);
  CHECK(Labels(w) == std::vector<std::string>{"2024-12-25", "2024-12-30", "2025-01-06"});
  // An empty period has no bucket.
  CHECK(tools::MakeBuckets(from, from, kCst, BucketSize::kDay).empty());
}
