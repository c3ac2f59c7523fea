// Incremental projection, crash in the middle of projecting, and rebuild from
// position 1 all give the same state, on a large random history.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "projections/evaluation_projection.h"
#include "random_history.h"

namespace caseloop::testing {
namespace {

TEST_CASE("random history: incremental == rebuild == resumed after a crash") {
  RandomHistory rh = MakeRandomHistory(2000, 20250401);
  MESSAGE("events: " << rh.h.events.size());
  REQUIRE(rh.h.events.size() > 10000);

  // Incremental: the log grows while the projections catch up in small batches.
  Storage store = NewMemoryStorage();
  auto inc = Projections::Create(store.log.get(), store.projections.get(), ProjectionOptions{64});
  {
    History partial;
    for (std::size_t i = 0; i < rh.h.events.size(); ++i) {
      partial.events.push_back(rh.h.events[i]);
      if (i % 997 == 0 || i + 1 == rh.h.events.size()) {
        partial.Flush(store.log.get());
        REQUIRE(inc->CatchUp().ok());
        CHECK(inc->Lag() == 0);
      }
    }
  }
  CHECK(inc->Checkpoint() == store.log->HeadPosition());
  auto check = inc->Check();
  REQUIRE(check.ok());
  CHECK(check->empty());
  const Dump incremental = DumpKeyspace(store.projections.get());
  const std::string incremental_answers = AllQueries(*inc);

  // Sanity against the generator: all-time centre figures and open tasks.
  {
    PeriodQuery all{At("2024-01-01"), At("2027-01-01"), std::nullopt, ""};
    auto c = inc->Centre(all, Config{});
    REQUIRE(c.ok());
    CHECK(c->received == rh.reports);
    CHECK(c->closed == rh.closes);
    auto overdue = inc->Overdue(At("2030-01-01"));
    REQUIRE(overdue.ok());
    CHECK(static_cast<std::int64_t>(overdue->size()) == rh.open_tasks_with_deadline);
    // The history exercises every figure.
    auto rates = inc->Rates(all, Config{});
    REQUIRE(rates.ok());
    UnitRates sum;
    for (const auto& r : *rates) {
      sum.due += r.due;
      sum.handled += r.handled;
      sum.late += r.late;
      sum.overdue_open += r.overdue_open;
      sum.reworked += r.reworked;
      sum.extended += r.extended;
    }
    MESSAGE("units " << rates->size() << " due " << sum.due << " handled " << sum.handled << " late "
                     << sum.late << " overdue_open " << sum.overdue_open << " reworked " << sum.reworked
                     << " extended " << sum.extended << " rejected " << c->rejected << " voided "
                     << c->voided);
    CHECK(rates->size() == 7);
    CHECK(sum.late > 50);
    CHECK(sum.overdue_open > 50);
    CHECK(sum.reworked > 50);
    CHECK(sum.extended > 50);
    CHECK(c->rejected > 50);
    CHECK(c->voided > 50);
  }

  SUBCASE("rebuild from position 1 gives the same state") {
    REQUIRE(inc->Rebuild().ok());
    CHECK(DumpKeyspace(store.projections.get()) == incremental);
    CHECK(AllQueries(*inc) == incremental_answers);
    // A fresh Projections object over the same store sees the same.
    auto again = Projections::Create(store.log.get(), store.projections.get());
    CHECK(again->Checkpoint() == store.log->HeadPosition());
    REQUIRE(again->CatchUp().ok());
    CHECK(AllQueries(*again) == incremental_answers);
  }

  SUBCASE("a crash in the middle of projecting: resume counts every event once") {
    // Commits go deadline, evaluation, case list in turn: most counts leave
    // the projections at different checkpoints.
    for (int ok_commits : {0, 1, 7, 40, 151}) {
      CAPTURE(ok_commits);
      auto other = StoreWith(rh.h.events);
      FailingStore failing(other.projections.get(), ok_commits);
      {
        auto crashed = Projections::Create(other.log.get(), &failing, ProjectionOptions{64});
        Status s = crashed->CatchUp();
        CHECK(s.IsIOError());
        CHECK(s.message().find("injected failure") != std::string::npos);
        CHECK(crashed->Checkpoint() < other.log->HeadPosition());
      }
      // "Restart": a new Projections over the same store, other batch size.
      auto resumed = Projections::Create(other.log.get(), other.projections.get(), ProjectionOptions{1000});
      CHECK(resumed->Lag() > 0);
      REQUIRE(resumed->CatchUp().ok());
      CHECK(DumpKeyspace(other.projections.get()) == incremental);
      CHECK(AllQueries(*resumed) == incremental_answers);
    }
  }

  SUBCASE("bulk batches while far behind: same state, larger steps, resumable") {
    // batch_events 64, bulk_batch_events 500: a CatchUp from position 1 takes
    // 500 events per commit until fewer than 500 are left, then 64.
    for (int ok_commits : {0, 7, 1000}) {
      CAPTURE(ok_commits);
      auto other = StoreWith(rh.h.events);
      FailingStore failing(other.projections.get(), ok_commits);
      auto bulk = Projections::Create(other.log.get(), &failing, ProjectionOptions{64, 500});
      Status s = bulk->CatchUp();
      if (ok_commits < 1000) {
        CHECK(s.IsIOError());
        // 7 commits over the three projections in turn: deadline 3,
        // evaluation 2, case list 2 batches of 500 events (small batches
        // would have reached 2 x 64).
        CHECK(bulk->Checkpoint() == static_cast<std::uint64_t>(ok_commits / 3) * 500);
        auto resumed =
            Projections::Create(other.log.get(), other.projections.get(), ProjectionOptions{1000, 0});
        REQUIRE(resumed->CatchUp().ok());
      } else {
        REQUIRE(s.ok());
        // ~12k events: 2 x ceil(events / 500) commits at most, plus the small tail.
        CHECK(bulk->Checkpoint() == other.log->HeadPosition());
      }
      CHECK(DumpKeyspace(other.projections.get()) == incremental);
      auto fresh = Projections::Create(other.log.get(), other.projections.get());
      CHECK(AllQueries(*fresh) == incremental_answers);
    }
  }
}

TEST_CASE("random history: Rates agree with a direct evaluation of the raw events") {
  RandomHistory rh = MakeRandomHistory(2000, 7);
  Storage store = NewMemoryStorage();
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  std::int64_t total_due = 0;
  for (auto [from, to] : {std::pair{"2025-01-01", "2025-04-01"}, std::pair{"2025-04-01", "2025-07-01"},
                          std::pair{"2025-02-01", "2025-03-01"}, std::pair{"2025-05-15", "2025-05-16"}}) {
    for (const char* at : {"2025-02-10T10:00", "2025-05-15T18:00", "2025-06-30T23:59", "2026-01-01"}) {
      const std::string from_text = from, at_text = at;
      CAPTURE(from_text);
      CAPTURE(at_text);
      auto expected = OracleRates(rh.h.events, At(from), At(to), At(at));
      PeriodQuery q{At(from), At(to), At(at), ""};
      auto rates = p->Rates(q, Config{});
      REQUIRE(rates.ok());
      std::map<std::string, OracleCounts> got;
      for (const auto& r : *rates) {
        if (r.due > 0) got[r.unit] = {r.due, r.handled, r.on_time, r.reworked, r.extended};
        total_due += r.due;
      }
      CHECK(got == expected);
      if (got != expected) {
        for (const auto& [u, o] : expected) {
          const OracleCounts g = got.count(u) ? got.at(u) : OracleCounts{};
          MESSAGE(u << " expected " << o.due << "/" << o.handled << "/" << o.on_time << "/" << o.reworked
                    << "/" << o.extended << " got " << g.due << "/" << g.handled << "/" << g.on_time << "/"
                    << g.reworked << "/" << g.extended);
        }
      }
    }
  }
  CHECK(total_due > 1000);
}

TEST_CASE("random history: Rates from the day counters == the oracle for many periods and instants") {
  // Midnight bounds and instants take the counters; the others mix counters,
  // partial days and days whose change bucket holds the instant.
  RandomHistory rh = MakeRandomHistory(1500, 99);
  Storage store = NewMemoryStorage();
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get(), ProjectionOptions{128});
  REQUIRE(p->CatchUp().ok());
  const char* froms[] = {"2025-01-01", "2025-02-03T13:30", "2025-03-17", "2025-04-30T23:59:59"};
  const char* tos[] = {"2025-03-01", "2025-04-01T07:15", "2025-07-01", "2026-01-01"};
  const char* ats[] = {
      "2025-02-01",       "2025-02-17T09:00", "2025-03-17", "2025-03-17T00:00:00.000001", "2025-04-01",
      "2025-04-15T16:59", "2025-05-20T12:00", "2025-07-01", "2025-09-09T09:09",           "2027-01-01"};
  std::int64_t total_due = 0;
  int compared = 0;
  for (const char* from : froms) {
    for (const char* to : tos) {
      if (At(to) <= At(from)) continue;
      for (const char* at : ats) {
        const std::string from_text = from, to_text = to, at_text = at;
        CAPTURE(from_text);
        CAPTURE(to_text);
        CAPTURE(at_text);
        auto expected = OracleRates(rh.h.events, At(from), At(to), At(at));
        auto rates = p->Rates(PeriodQuery{At(from), At(to), At(at), ""}, Config{});
        REQUIRE(rates.ok());
        std::map<std::string, OracleCounts> got;
        for (const auto& r : *rates) {
          if (r.due > 0) got[r.unit] = {r.due, r.handled, r.on_time, r.reworked, r.extended};
          total_due += r.due;
        }
        CHECK(got == expected);
        ++compared;
      }
    }
  }
  CHECK(compared > 100);
  CHECK(total_due > 10000);
}

TEST_CASE("random history: Rates, Inspectors and Centre from the counters == record by record") {
  RandomHistory rh = MakeRandomHistory(1500, 4242);
  Storage store = NewMemoryStorage();
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get(), ProjectionOptions{100});
  REQUIRE(p->CatchUp().ok());
  projections::EvaluationProjection ev(store.projections.get());
  Config plain;  // grids grouped by 9 digits (the default)
  Config grid6;
  grid6.policy.grid_group_digits = 6;
  Config grid12;  // beyond the grid counters: record by record
  grid12.policy.grid_group_digits = 12;
  const char* froms[] = {"2024-12-30", "2025-01-01", "2025-02-03T13:30", "2025-03-17", "2025-04-30T23:59:59"};
  const char* tos[] = {"2025-03-01", "2025-04-01T07:15", "2025-07-01", "2026-01-01"};
  const char* ats[] = {
      "",           "2025-02-01",       "2025-02-17T09:00", "2025-03-17", "2025-03-17T00:00:00.000001",
      "2025-04-01", "2025-04-15T16:59", "2025-05-20T12:00", "2025-07-01", "2027-01-01"};
  int compared = 0;
  std::int64_t reports = 0, verifications = 0, received = 0;
  for (const char* from : froms) {
    for (const char* to : tos) {
      if (At(to) <= At(from)) continue;
      for (const char* at : ats) {
        for (const char* only : {"", "I2", "U3"}) {
          const std::string from_text = from, to_text = to, at_text = at, only_text = only;
          CAPTURE(from_text);
          CAPTURE(to_text);
          CAPTURE(at_text);
          CAPTURE(only_text);
          PeriodQuery q{At(from), At(to), std::nullopt, only};
          if (*at != '\0') q.at = At(at);
          auto r1 = ev.Rates(q, Config{});
          auto r2 = ev.RatesByScan(q, Config{});
          REQUIRE(r1.ok());
          REQUIRE(r2.ok());
          CHECK(AllRatesText(*r1) == AllRatesText(*r2));
          auto i1 = ev.Inspectors(q);
          auto i2 = ev.InspectorsByScan(q);
          REQUIRE(i1.ok());
          REQUIRE(i2.ok());
          CHECK(InspectorsText(*i1) == InspectorsText(*i2));
          for (const auto& i : *i2) reports += i.reports, verifications += i.verifications;
          for (const Config* cfg : {&plain, &grid6, &grid12}) {
            auto c1 = ev.Centre(q, *cfg);
            auto c2 = ev.CentreByScan(q, *cfg);
            REQUIRE(c1.ok());
            REQUIRE(c2.ok());
            CHECK(CentreText(*c1) == CentreText(*c2));
            received += c2->received;
          }
          ++compared;
        }
      }
    }
  }
  CHECK(compared > 300);
  CHECK(reports > 1000);
  CHECK(verifications > 1000);
  CHECK(received > 1000);
}

TEST_CASE("queries over whole days read the day counters, not the records") {
  RandomHistory rh = MakeRandomHistory(600, 5);
  Storage store = NewMemoryStorage();
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  const PeriodQuery aligned{At("2025-01-01"), At("2025-07-01"), At("2025-08-01"), ""};
  auto before = p->Rates(aligned, Config{});
  REQUIRE(before.ok());
  auto inspectors_before = p->Inspectors(aligned);
  auto centre_before = p->Centre(aligned, Config{});
  REQUIRE(inspectors_before.ok());
  REQUIRE(centre_before.ok());
  CHECK(centre_before->received > 100);
  CHECK(inspectors_before->size() > 2);
  std::int64_t due = 0;
  for (const auto& r : *before) due += r.due;
  REQUIRE(due > 100);
  // Drop every timeline and time-keyed record: a query over whole days at a
  // midnight must not notice.
  std::vector<KvOp> drop;
  std::size_t counters = 0;
  REQUIRE(store.projections
              ->Scan("ev/", "ev0",
                     [&](std::string_view k, std::string_view) {
                       if (k.substr(0, 5) == "ev/u/")
                         drop.push_back({KvOp::Kind::kDelete, std::string(k), ""});
                       if (k.substr(0, 5) == "ev/k/") ++counters;
                       return true;
                     })
              .ok());
  REQUIRE(!drop.empty());
  CHECK(counters > 0);
  REQUIRE(store.projections->CommitProjection("evaluation", drop, store.log->HeadPosition()).ok());
  auto after = p->Rates(aligned, Config{});
  REQUIRE(after.ok());
  CHECK(AllRatesText(*after) == AllRatesText(*before));
  auto inspectors_after = p->Inspectors(aligned);
  auto centre_after = p->Centre(aligned, Config{});
  REQUIRE(inspectors_after.ok());
  REQUIRE(centre_after.ok());
  CHECK(InspectorsText(*inspectors_after) == InspectorsText(*inspectors_before));
  CHECK(CentreText(*centre_after) == CentreText(*centre_before));
  // An instant inside a day with changes needs the records: now they are gone.
  auto inside =
      p->Rates(PeriodQuery{At("2025-01-01"), At("2025-07-01"), At("2025-03-03T10:00"), ""}, Config{});
  REQUIRE(inside.ok());
  auto inside_dropped = OracleRates(rh.h.events, At("2025-01-01"), At("2025-07-01"), At("2025-03-03T10:00"));
  std::int64_t inside_due = 0, oracle_due = 0;
  for (const auto& r : *inside) inside_due += r.due;
  for (const auto& [_, o] : inside_dropped) oracle_due += o.due;
  CHECK(inside_due < oracle_due);
}

TEST_CASE("a keyspace written by another layout version is rebuilt by the next CatchUp") {
  Storage store = NewMemoryStorage();
  History h;
  h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  h.Open("C2", At("2025-04-01T09:00"), "B", At("2025-04-02T09:00"));
  h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  const Dump clean = DumpKeyspace(store.projections.get());
  // An older layout: a stale key and another format version.
  REQUIRE(
      store.projections
          ->CommitProjection(
              "evaluation", {{KvOp::Kind::kPut, "ev/~format", "0"}, {KvOp::Kind::kPut, "ev/u/stale", "x"}}, 6)
          .ok());
  REQUIRE(p->CatchUp().ok());
  CHECK(DumpKeyspace(store.projections.get()) == clean);
}

TEST_CASE("CatchUp(until) stops at the position; a bad event is reported with its position") {
  Storage store = NewMemoryStorage();
  History h;
  h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));  // 3 events
  h.Open("C2", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get(), ProjectionOptions{2});
  REQUIRE(p->CatchUp(3).ok());
  CHECK(p->Checkpoint() == 3);
  CHECK(p->Lag() == 3);
  auto open = p->DueBefore(At("2026-01-01"), 10);
  REQUIRE(open.ok());
  CHECK(open->size() == 1);
  REQUIRE(p->CatchUp().ok());
  CHECK(p->Lag() == 0);

  // Configuration events are skipped; an undecodable case event stops the
  // projections just before it, with a message naming its position.
  NewEvent cfg;
  cfg.type = "unit_defined";
  cfg.payload = "not a case event";
  REQUIRE(store.log->Append(kConfigStream, ExpectedVersion::Any(), {cfg}).ok());
  NewEvent bad;
  bad.type = "case_dispatched";
  bad.payload = "garbage";
  REQUIRE(store.log->Append("C3", ExpectedVersion::Any(), {bad}).ok());
  Status s = p->CatchUp();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("position 8") != std::string::npos);
  CHECK(p->Checkpoint() == 7);
}

}  // namespace
}  // namespace caseloop::testing
