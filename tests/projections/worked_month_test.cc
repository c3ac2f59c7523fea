// The worked month of domain.md §7, built from real (encoded) events.
#include <doctest/doctest.h>

#include <cmath>

#include "history.h"

namespace caseloop::testing {
namespace {

std::string CaseName(int i) { return (i < 10 ? "C0" : "C") + std::to_string(i); }

// 20 cases first dispatched to WATER in March 2025 (case i on March i, 10:00):
//   C01..C11 on time; C12 on time after an approved extension; C13, C14 on
//   time after a failed verification (rework); C15, C16 late; C17 overdue and
//   open; C18 returned; C19 returned and then handled on time by PARKS; C20
//   suspended at the end of the month.
History WorkedMonth() {
  History h;
  for (int i = 1; i <= 20; ++i) {
    const std::string c = CaseName(i);
    char day[32];
    std::snprintf(day, sizeof day, "2025-03-%02dT09:59", i);
    const Instant t0 = At(day);
    const Instant d = Hours(t0, 1);  // dispatch at 10:00
    const Instant dl = Hours(d, 48);
    h.Report(c, t0, i <= 10 ? "I1" : "I2");
    h.Register(c, t0);
    h.Dispatch(c, d, "WATER", dl, 1);
    h.Accept(c, Hours(d, 0.5), "WATER");
    if (i <= 11) {
      h.Feedback(c, Hours(d, 24), "WATER", true);
      h.Pass(c, Hours(d, 24.5));
    } else if (i == 12) {
      h.Extend(c, Hours(d, 24), "WATER", Hours(d, 96));
      h.Feedback(c, Hours(d, 72), "WATER", true);
      h.Pass(c, Hours(d, 72.5));
    } else if (i <= 14) {
      h.Feedback(c, Hours(d, 24), "WATER", true);
      h.Fail(c, Hours(d, 25), "WATER", Hours(d, 73), 2);  // exactly at the verification deadline
      h.Feedback(c, Hours(d, 48), "WATER", true);
      h.Pass(c, Hours(d, 49));
    } else if (i <= 16) {
      h.Feedback(c, Hours(d, 60), "WATER", false);
      h.Pass(c, Hours(d, i == 15 ? 62 : 60.5));  // C15 verified after its 1 h verification limit
    } else if (i == 17) {
      h.MarkOverdue(c, dl, "WATER", 1);
    } else if (i == 18) {
      h.Return(c, Hours(d, 2), "WATER");
    } else if (i == 19) {
      h.Return(c, Hours(d, 2), "WATER");
      h.Dispatch(c, Hours(d, 5), "PARKS", Hours(d, 53), 2);
      h.Feedback(c, Hours(d, 15), "PARKS", true);
      h.Pass(c, Hours(d, 15.5));
    } else {
      h.Suspend(c, Hours(d, 2), "WATER");
    }
  }
  return h;
}

TEST_CASE("worked month of domain.md §7: WATER scores 90.44, grade A") {
  Storage storage = NewMemoryStorage();
  auto store = storage.log;
  History h = WorkedMonth();
  h.Flush(store.get());
  auto p = Projections::Create(store.get(), storage.projections.get());
  REQUIRE(p->CatchUp().ok());
  CHECK(p->Lag() == 0);
  CHECK(p->Checkpoint() == store->HeadPosition());

  PeriodQuery q;
  q.from = At("2025-03-01T00:00");
  q.to = At("2025-04-01T00:00");
  auto rates = p->Rates(q, Config{});
  REQUIRE(rates.ok());
  REQUIRE(rates->size() == 2);
  // Sorted by score: PARKS 100 first.
  CHECK((*rates)[0].unit == "PARKS");
  CHECK((*rates)[1].unit == "WATER");

  const UnitRates& w = (*rates)[1];
  CHECK(w.due == 17);
  CHECK(w.handled == 16);
  CHECK(w.on_time == 14);
  CHECK(w.late == 2);
  CHECK(w.overdue_open == 1);
  CHECK(w.reworked == 2);
  CHECK(w.extended == 1);
  REQUIRE(w.handling_rate);
  CHECK(*w.handling_rate == doctest::Approx(16.0 / 17));
  CHECK(std::round(*w.handling_rate * 10000) / 10000 == 0.9412);
  CHECK(std::round(*w.on_time_rate * 10000) / 10000 == 0.8235);
  CHECK(*w.rework_rate == 0.125);
  CHECK(std::round(*w.overdue_open_rate * 10000) / 10000 == 0.0588);
  CHECK(std::round(*w.extension_rate * 10000) / 10000 == 0.0588);
  REQUIRE(w.score);
  CHECK(*w.score == 90.44);
  CHECK(w.grade == 'A');

  const UnitRates& parks = (*rates)[0];
  CHECK(parks.due == 1);
  CHECK(parks.handled == 1);
  CHECK(parks.on_time == 1);
  CHECK(parks.score == 100.0);
  CHECK(parks.rework_rate == 0.0);

  SUBCASE("one unit only") {
    q.unit = "WATER";
    auto only = p->Rates(q, Config{});
    REQUIRE(only.ok());
    REQUIRE(only->size() == 1);
    CHECK(only->front().score == 90.44);
  }

  SUBCASE("configured weights are normalized to 100") {
    Config cfg;
    cfg.weights = {60, 40, 40, 40, 20};
    q.unit = "WATER";
    auto doubled = p->Rates(q, cfg);
    REQUIRE(doubled.ok());
    CHECK(doubled->front().score == 90.44);
    cfg.weights = {1, 0, 0, 0, 0};  // handling rate only
    auto handling = p->Rates(q, cfg);
    REQUIRE(handling.ok());
    CHECK(handling->front().score == 94.12);
    CHECK(handling->front().grade == 'A');
  }

  SUBCASE("as of mid-month") {
    // At March 10, 12:00: C01..C08 handled (feedback day i+1 10:00 <= March 9);
    // C09's feedback is due March 10 10:00 and arrived: handled too; C10 not due.
    q.at = At("2025-03-10T12:00");
    q.unit = "WATER";
    auto mid = p->Rates(q, Config{});
    REQUIRE(mid.ok());
    CHECK(mid->front().due == 9);
    CHECK(mid->front().handled == 9);
    CHECK(mid->front().score == 100.0);
  }

  SUBCASE("inspectors") {
    auto ins = p->Inspectors(q);
    REQUIRE(ins.ok());
    REQUIRE(ins->size() == 2);
    const InspectorRates& i1 = (*ins)[0];
    const InspectorRates& i2 = (*ins)[1];
    CHECK(i1.inspector == "I1");
    CHECK(i1.reports == 10);
    CHECK(i1.valid == 10);
    CHECK(i1.valid_rate == 1.0);
    // Every feedback names I1 as verifier: 16 + 2 after rework (WATER) + 1 (PARKS).
    CHECK(i1.verifications == 19);
    CHECK(i1.verified_on_time == 18);  // C15 verified 2 h after feedback
    CHECK(*i1.verification_on_time_rate == doctest::Approx(18.0 / 19));
    CHECK(i2.inspector == "I2");
    CHECK(i2.reports == 10);
    CHECK(i2.verifications == 0);
    CHECK_FALSE(i2.verification_on_time_rate.has_value());
  }

  SUBCASE("centre") {
    auto c = p->Centre(q, Config{});
    REQUIRE(c.ok());
    CHECK(c->received == 20);
    CHECK(c->registered == 20);
    CHECK(c->rejected == 0);
    CHECK(c->voided == 0);
    CHECK(c->closed == 17);          // C01..C16 and C19
    CHECK(c->closed_on_time == 15);  // C01..C14 and C19
    CHECK(c->received_by_category.size() == 1);
    CHECK(c->received_by_category.at("event/0102") == 20);
    CHECK(c->received_by_grid.at("620103001") == 20);
  }
}

TEST_CASE("GradeOf and the zero-denominator rules") {
  CHECK(GradeOf(100) == 'A');
  CHECK(GradeOf(90) == 'A');
  CHECK(GradeOf(89.99) == 'B');
  CHECK(GradeOf(75) == 'B');
  CHECK(GradeOf(60) == 'C');
  CHECK(GradeOf(40) == 'D');
  CHECK(GradeOf(39.99) == 'E');
  CHECK(GradeOf(0) == 'E');
}

}  // namespace
}  // namespace caseloop::testing
