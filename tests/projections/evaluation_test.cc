// Evaluation rules of domain.md §7 one at a time: period boundaries, as-of
// instants, suspension, return, rework, extension, void, no deadline.
#include <doctest/doctest.h>

#include "history.h"

namespace caseloop::testing {
namespace {

struct Fixture {
  Storage storage = NewMemoryStorage();
  std::shared_ptr<EventStore> store = storage.log;
  std::unique_ptr<Projections> p = Projections::Create(store.get(), storage.projections.get());
  History h;

  void Sync() {
    h.Flush(store.get());
    REQUIRE(p->CatchUp().ok());
  }
  UnitRates April(const std::string& unit, std::optional<Instant> at = {}) {
    return RatesOf(*p, At("2025-04-01T00:00"), At("2025-05-01T00:00"), at, unit);
  }
};

TEST_CASE("period boundaries: first dispatch at 23:59:59 of the last day is in, at `to` is out") {
  Fixture f;
  // Both overdue long before the query instant.
  f.h.Report("IN", At("2025-04-30T23:00"));
  f.h.Register("IN", At("2025-04-30T23:00"));
  f.h.Dispatch("IN", At("2025-04-30T23:59:59"), "A", At("2025-04-30T23:59:59.5"), 1);
  f.h.Report("OUT", At("2025-04-30T23:00"));
  f.h.Register("OUT", At("2025-04-30T23:00"));
  f.h.Dispatch("OUT", At("2025-05-01T00:00:00"), "A", At("2025-05-01T00:00:00.5"), 1);
  f.h.Report("BEFORE", At("2025-03-31T23:00"));
  f.h.Register("BEFORE", At("2025-03-31T23:00"));
  f.h.Dispatch("BEFORE", At("2025-03-31T23:59:59.999999"), "A", At("2025-04-01T00:00:01"), 1);
  f.Sync();
  const Instant later = At("2025-06-01T00:00");
  UnitRates r = f.April("A", later);
  CHECK(r.due == 1);
  CHECK(r.overdue_open == 1);
  // March gets BEFORE; May gets OUT.
  CHECK(RatesOf(*f.p, At("2025-03-01"), At("2025-04-01"), later, "A").due == 1);
  CHECK(RatesOf(*f.p, At("2025-05-01"), At("2025-06-01"), later, "A").due == 1);
  // Centre: reports at 23:00 on April 30 are April's; the one on March 31 is March's.
  PeriodQuery q{At("2025-04-01"), At("2025-05-01"), later, ""};
  auto c = f.p->Centre(q, Config{});
  REQUIRE(c.ok());
  CHECK(c->received == 2);
  CHECK(c->registered == 2);
}

TEST_CASE("deadline exactly at T is not overdue; one microsecond later it is") {
  Fixture f;
  const Instant dl = At("2025-04-03T17:00");
  f.h.Open("C1", At("2025-04-02T09:00"), "A", dl);
  f.Sync();
  UnitRates before = f.April("A", At("2025-04-03T16:59"));
  CHECK(before.due == 0);
  CHECK_FALSE(before.score.has_value());
  CHECK_FALSE(before.grade.has_value());
  CHECK_FALSE(before.handling_rate.has_value());
  CHECK_FALSE(before.rework_rate.has_value());
  CHECK(f.April("A", dl).due == 0);
  UnitRates after = f.April("A", dl + Micros(1));
  CHECK(after.due == 1);
  CHECK(after.overdue_open == 1);
  CHECK(after.handled == 0);
  CHECK(*after.handling_rate == 0.0);
  CHECK_FALSE(after.rework_rate.has_value());  // nothing handled: null, counts as 0 in the score
  CHECK(*after.overdue_open_rate == 1.0);
  CHECK(after.score == 30.0);  // (1 - 0) × 20 + (1 - 0) × 10
  CHECK(after.grade == 'E');
}

TEST_CASE("changes that cancel within one day still count at an instant between them") {
  // X becomes overdue at 10:00 (+1 due), Y (overdue since the day before) is
  // voided at 11:00 (-1 due): the day's net change is 0, yet at 10:30 both count.
  Fixture f;
  f.h.Open("X", At("2025-04-02T09:00"), "A", At("2025-04-03T10:00"));
  f.h.Open("Y", At("2025-04-02T09:00"), "A", At("2025-04-02T12:00"));
  f.h.Void("Y", At("2025-04-03T11:00"));
  f.Sync();
  CHECK(f.April("A", At("2025-04-03T09:00")).due == 1);
  CHECK(f.April("A", At("2025-04-03T10:30")).due == 2);
  CHECK(f.April("A", At("2025-04-03T12:00")).due == 1);
  CHECK(f.April("A", At("2025-04-04T00:00")).due == 1);
  CHECK(f.April("A").due == 1);
}

TEST_CASE("feedback exactly at the deadline is on time; as-of across feedback and rework") {
  Fixture f;
  const Instant dl = At("2025-04-03T17:00");
  f.h.Open("C1", At("2025-04-02T09:00"), "A", dl);
  f.h.Feedback("C1", dl, "A", true);
  // Verification fails: rework with a fresh deadline.
  f.h.Fail("C1", At("2025-04-04T10:00"), "A", At("2025-04-07T10:00"), 2);
  f.h.Feedback("C1", At("2025-04-08T10:00"), "A", false);
  f.h.Fail("C1", At("2025-04-08T11:00"), "A", At("2025-04-10T11:00"), 3);
  f.h.Feedback("C1", At("2025-04-09T10:00"), "A", true);
  f.Sync();

  UnitRates r = f.April("A", dl);  // awaiting verification counts as handled
  CHECK(r.due == 1);
  CHECK(r.handled == 1);
  CHECK(r.on_time == 1);
  CHECK(r.reworked == 0);
  // After the failed verification: a new task, not yet due.
  r = f.April("A", At("2025-04-05T00:00"));
  CHECK(r.due == 0);
  // The fresh deadline passed without feedback.
  r = f.April("A", At("2025-04-07T12:00"));
  CHECK(r.due == 1);
  CHECK(r.overdue_open == 1);
  CHECK(r.reworked == 0);  // reworked counts handled cases only
  // Late feedback, awaiting verification.
  r = f.April("A", At("2025-04-08T10:30"));
  CHECK(r.handled == 1);
  CHECK(r.late == 1);
  CHECK(r.reworked == 1);
  // Second failure, third feedback on time: reworked counted once per case.
  r = f.April("A");
  CHECK(r.due == 1);
  CHECK(r.handled == 1);
  CHECK(r.on_time == 1);
  CHECK(r.reworked == 1);
  CHECK(*r.rework_rate == 1.0);
}

TEST_CASE("suspended at T is left out; resumed with a new deadline it counts again") {
  Fixture f;
  f.h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-03T09:00"));
  f.h.Suspend("C1", At("2025-04-02T09:00"), "A");
  f.h.Resume("C1", At("2025-04-10T09:00"), "A", At("2025-04-11T09:00"));
  f.Sync();
  CHECK(f.April("A", At("2025-04-05T00:00")).due == 0);  // past the old deadline but suspended
  CHECK(f.April("A", At("2025-04-10T12:00")).due == 0);  // resumed, not yet due
  UnitRates r = f.April("A", At("2025-04-11T09:00:01"));
  CHECK(r.due == 1);
  CHECK(r.overdue_open == 1);
  CHECK(r.extended == 0);
}

TEST_CASE("a returned case leaves the returning unit and counts for the next one") {
  Fixture f;
  f.h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-01T12:00"));
  f.h.Return("C1", At("2025-04-02T09:00"), "A");
  f.h.Dispatch("C1", At("2025-04-03T09:00"), "B", At("2025-04-04T09:00"), 2);
  f.h.Feedback("C1", At("2025-04-03T15:00"), "B", true);
  f.h.Pass("C1", At("2025-04-03T15:30"));
  f.Sync();
  // As of before the return A had it overdue (population is judged as of T).
  CHECK(f.April("A", At("2025-04-01T13:00")).due == 1);
  UnitRates a = f.April("A");
  CHECK(a.due == 0);
  CHECK_FALSE(a.score.has_value());
  UnitRates b = f.April("B");
  CHECK(b.due == 1);
  CHECK(b.on_time == 1);
  CHECK(b.score == 100.0);
  // B's record is keyed by its own first dispatch: in April, not in March.
  CHECK(RatesOf(*f.p, At("2025-03-01"), At("2025-04-01"), At("2025-05-01"), "B").due == 0);

  SUBCASE("ranking: null scores last, then by unit id") {
    PeriodQuery q{At("2025-04-01"), At("2025-05-01"), std::nullopt, ""};
    Config cfg;
    cfg.units["0EMPTY"] = {"0EMPTY", "no cases"};
    auto rates = f.p->Rates(q, cfg);
    REQUIRE(rates.ok());
    REQUIRE(rates->size() == 3);
    CHECK((*rates)[0].unit == "B");
    CHECK((*rates)[1].unit == "0EMPTY");
    CHECK((*rates)[2].unit == "A");
  }
}

TEST_CASE("extension: counted for due cases, the new deadline decides lateness") {
  Fixture f;
  f.h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  f.h.Extend("C1", At("2025-04-01T10:00"), "A", At("2025-04-04T09:00"));
  f.Sync();
  CHECK(f.April("A", At("2025-04-03T00:00")).due == 0);  // the old deadline no longer holds
  UnitRates r = f.April("A", At("2025-04-05T00:00"));
  CHECK(r.due == 1);
  CHECK(r.extended == 1);
  CHECK(*r.extension_rate == 1.0);
}

TEST_CASE("voided cases and cases without a deadline") {
  Fixture f;
  f.h.Open("V", At("2025-04-01T09:00"), "A", At("2025-04-01T10:00"));
  f.h.Void("V", At("2025-04-05T09:00"));
  f.h.Open("N", At("2025-04-01T09:00"), "A", std::nullopt);  // imported, no due date
  f.h.Open("N2", At("2025-04-01T09:00"), "A", std::nullopt);
  f.h.Feedback("N2", At("2025-04-20T09:00"), "A", true);
  f.Sync();
  CHECK(f.April("A", At("2025-04-02T00:00")).due == 1);  // V overdue, not yet voided
  UnitRates r = f.April("A");
  CHECK(r.due == 1);  // N is never overdue; V is voided
  CHECK(r.handled == 1);
  CHECK(r.on_time == 1);
  PeriodQuery q{At("2025-04-01"), At("2025-05-01"), std::nullopt, ""};
  auto c = f.p->Centre(q, Config{});
  REQUIRE(c.ok());
  CHECK(c->voided == 1);
  CHECK(c->received == 3);
}

TEST_CASE("feedback without an on_time flag is judged against the deadline in force") {
  Fixture f;
  f.h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  f.h.Feedback("C1", At("2025-04-02T10:00"), "A", true);
  f.h.events.back().on_time.reset();
  f.h.Open("C2", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  f.h.Feedback("C2", At("2025-04-02T09:00"), "A", true);
  f.h.events.back().on_time.reset();
  f.Sync();
  UnitRates r = f.April("A");
  CHECK(r.handled == 2);
  CHECK(r.on_time == 1);
  CHECK(r.late == 1);
}

TEST_CASE("inspectors and centre: valid reports, rejections, verification limits, as of T") {
  Fixture f;
  // I1 reports three: one registered, one rejected, one merged.
  f.h.Report("R1", At("2025-04-01T09:00"), "I1");
  f.h.Register("R1", At("2025-04-01T09:30"));
  f.h.Report("R2", At("2025-04-01T09:00"), "I1");
  f.h.Reject("R2", At("2025-04-01T09:10"));
  f.h.Report("R3", At("2025-04-01T09:00"), "I1");
  f.h.Merge("R3", At("2025-04-01T09:20"), "R1");
  // A hotline report entered by a receiver is not an inspector's report.
  f.h.Report("H1", At("2025-04-02T09:00"), "RCV", ReportSource::kHotline, "0101", "620103002001001",
             CaseKind::kComponent);
  f.h.Register("H1", At("2025-04-02T09:00"));
  f.h.Dispatch("R1", At("2025-04-01T10:00"), "A", At("2025-04-02T10:00"), 1);
  f.h.Feedback("R1", At("2025-04-01T15:00"), "A", true, "I2", At("2025-04-01T16:00"));
  f.h.Pass("R1", At("2025-04-01T16:00"), "I2");  // exactly at the verification deadline
  f.h.Dispatch("H1", At("2025-04-02T10:00"), "A", At("2025-04-03T10:00"), 1);
  f.h.Feedback("H1", At("2025-04-02T15:00"), "A", true, "I2", At("2025-04-02T16:00"));
  f.h.Pass("H1", At("2025-04-02T16:01"), "I2");  // late verification
  f.Sync();
  PeriodQuery q{At("2025-04-01"), At("2025-05-01"), std::nullopt, ""};
  auto ins = f.p->Inspectors(q);
  REQUIRE(ins.ok());
  REQUIRE(ins->size() == 2);
  CHECK((*ins)[0].inspector == "I1");
  CHECK((*ins)[0].reports == 3);
  CHECK((*ins)[0].valid == 1);
  CHECK(*(*ins)[0].valid_rate == doctest::Approx(1.0 / 3));
  CHECK_FALSE((*ins)[0].verification_on_time_rate.has_value());
  CHECK((*ins)[1].inspector == "I2");
  CHECK((*ins)[1].reports == 0);
  CHECK_FALSE((*ins)[1].valid_rate.has_value());
  CHECK((*ins)[1].verifications == 2);
  CHECK((*ins)[1].verified_on_time == 1);

  // As of 09:15 on April 1: R1 not yet registered, no feedback yet.
  q.at = At("2025-04-01T09:15");
  ins = f.p->Inspectors(q);
  REQUIRE(ins.ok());
  REQUIRE(ins->size() == 1);
  CHECK((*ins)[0].reports == 3);
  CHECK((*ins)[0].valid == 0);
  // As of 15:30: R1 feedback given, not yet verified.
  q.at = At("2025-04-01T15:30");
  q.unit = "I2";
  ins = f.p->Inspectors(q);
  REQUIRE(ins.ok());
  REQUIRE(ins->size() == 1);
  CHECK((*ins)[0].verifications == 1);
  CHECK((*ins)[0].verified_on_time == 0);

  q.at.reset();
  q.unit.clear();
  Config cfg;
  cfg.policy.grid_group_digits = 12;
  auto c = f.p->Centre(q, cfg);
  REQUIRE(c.ok());
  CHECK(c->received == 4);
  CHECK(c->registered == 2);
  CHECK(c->rejected == 1);
  CHECK(c->closed == 2);
  CHECK(c->closed_on_time == 2);
  CHECK(c->received_by_category.at("event/0102") == 3);
  CHECK(c->received_by_category.at("component/0101") == 1);
  CHECK(c->received_by_grid.at("620103001001") == 3);
  CHECK(c->received_by_grid.at("620103002001") == 1);
  // As of the instant before the first close.
  q.at = At("2025-04-01T15:59");
  c = f.p->Centre(q, cfg);
  REQUIRE(c.ok());
  CHECK(c->received == 3);
  CHECK(c->closed == 0);
}

TEST_CASE("bad queries are refused") {
  Fixture f;
  PeriodQuery q{At("2025-05-01"), At("2025-04-01"), std::nullopt, ""};
  CHECK(f.p->Rates(q, Config{}).status().IsInvalidArgument());
  CHECK(f.p->Inspectors(q).status().IsInvalidArgument());
  CHECK(f.p->Centre(q, Config{}).status().IsInvalidArgument());
  auto none = Projections::Create(nullptr, nullptr);
  CHECK(none->CatchUp().IsInvalidArgument());
  CHECK(none->Overdue(At("2025-04-01")).status().IsInvalidArgument());
}

}  // namespace
}  // namespace caseloop::testing
