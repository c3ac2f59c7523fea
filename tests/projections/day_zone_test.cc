// The evaluation's day counters follow the calendar's UTC offset: a district
// at -05:00 reads whole local days from the counters as one at +08:00 does,
// and a calendar change to another offset rebuilds the evaluation projection
// once, with the same result whichever way the log was applied.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "projections/day_grid.h"
#include "projections/evaluation_keys.h"
#include "projections/evaluation_projection.h"
#include "random_history.h"

namespace caseloop::testing {
namespace {

constexpr int kMinus5 = -5 * 60;

void AppendCalendar(EventStore* store, int offset_minutes) {
  ConfigChange change;
  change.type = ConfigChangeType::kSetCalendar;
  change.calendar.utc_offset_minutes = offset_minutes;
  NewEvent e;
  e.type = std::string(ConfigEventTypeName(change.type));
  e.payload = EncodeConfigChange(change);
  REQUIRE(store->Append(kConfigStream, ExpectedVersion::Any(), {e}).ok());
}

// A log of case events with calendar changes before some of them.
struct ZonedLog {
  std::vector<CaseEvent> events;
  std::map<std::size_t, int> calendar_before;  // event index -> new offset

  // Appends events [from, to) and the calendar changes before them.
  void Append(EventStore* store, std::size_t from, std::size_t to) const {
    for (std::size_t i = from; i < to; ++i) {
      if (auto it = calendar_before.find(i); it != calendar_before.end()) AppendCalendar(store, it->second);
      const CaseEvent& e = events[i];
      auto r = store->Append(e.case_id, ExpectedVersion::Any(), {EncodeCaseEvent(e)});
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    }
  }
  Storage Store() const {
    Storage store = NewMemoryStorage();
    Append(store.log.get(), 0, events.size());
    return store;
  }
};

projections::ev::DayZone StoredZone(ProjectionStore* store) {
  auto v = store->Get(projections::ev::kZoneKey);
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  auto z = projections::ev::DecodeZone(**v);
  REQUIRE(z.ok());
  return *z;
}

// Counts the evaluation projection's resets (its rebuilds).
class CountingStore final : public ForwardingProjectionStore {
 public:
  using ForwardingProjectionStore::ForwardingProjectionStore;
  Status ResetProjection(std::string_view name, std::string_view prefix) override {
    if (name == "evaluation") ++evaluation_resets;
    return ForwardingProjectionStore::ResetProjection(name, prefix);
  }
  int evaluation_resets = 0;
};

// Every record the counters are made from: what is left answers only
// through the day counters.
void DropRecords(ProjectionStore* store) {
  std::vector<KvOp> drop;
  REQUIRE(store
              ->Scan("ev/", "ev0",
                     [&](std::string_view k, std::string_view) {
                       for (const char* p : {"ev/u/", "ev/r/", "ev/f/", "ev/g/", "ev/j/", "ev/v/", "ev/z/"}) {
                         if (k.substr(0, 5) == p) drop.push_back({KvOp::Kind::kDelete, std::string(k), ""});
                       }
                       return true;
                     })
              .ok());
  REQUIRE(drop.size() > 1000);
  auto cp = store->ProjectionCheckpoint("evaluation");
  REQUIRE(cp.ok());
  REQUIRE(store->CommitProjection("evaluation", drop, *cp).ok());
}

TEST_CASE("a district at -05:00: queries over its whole local days read only the day counters") {
  RandomHistory rh = MakeRandomHistory(600, 5, kMinus5);
  Storage store = NewMemoryStorage();
  AppendCalendar(store.log.get(), kMinus5);
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  CHECK(StoredZone(store.projections.get()) == projections::ev::DayZone{kMinus5, 1});

  auto at = [](const char* text) { return LocalAt(text, kMinus5); };
  // Local midnights at -05:00: bounds, and the instant too.
  const std::vector<PeriodQuery> aligned = {
      {at("2025-01-01"), at("2025-07-01"), at("2025-08-01"), ""},
      {at("2025-02-01"), at("2025-05-01"), std::nullopt, ""},
      {at("2025-03-17"), at("2025-03-18"), at("2025-04-02"), ""},
  };
  std::vector<std::string> before;
  std::int64_t due = 0, received = 0, reports = 0;
  for (const PeriodQuery& q : aligned) {
    auto r = p->Rates(q, Config{});
    auto i = p->Inspectors(q);
    auto c = p->Centre(q, Config{});
    REQUIRE(r.ok());
    REQUIRE(i.ok());
    REQUIRE(c.ok());
    for (const auto& u : *r) due += u.due;
    for (const auto& x : *i) reports += x.reports;
    received += c->received;
    before.push_back(AllRatesText(*r) + InspectorsText(*i) + CentreText(*c));
  }
  REQUIRE(due > 100);
  REQUIRE(reports > 100);
  REQUIRE(received > 100);

  DropRecords(store.projections.get());
  for (std::size_t k = 0; k < aligned.size(); ++k) {
    CAPTURE(k);
    auto r = p->Rates(aligned[k], Config{});
    auto i = p->Inspectors(aligned[k]);
    auto c = p->Centre(aligned[k], Config{});
    REQUIRE(r.ok());
    REQUIRE(i.ok());
    REQUIRE(c.ok());
    CHECK(AllRatesText(*r) + InspectorsText(*i) + CentreText(*c) == before[k]);
  }
  // An instant inside a day with changes needs the records: now they are gone.
  auto partial =
      p->Rates(PeriodQuery{at("2025-01-01"), at("2025-07-01"), at("2025-03-03T10:00"), ""}, Config{});
  REQUIRE(partial.ok());
  std::int64_t partial_due = 0;
  for (const auto& u : *partial) partial_due += u.due;
  auto oracle = OracleRates(rh.h.events, at("2025-01-01"), at("2025-07-01"), at("2025-03-03T10:00"));
  std::int64_t oracle_due = 0;
  for (const auto& [_, o] : oracle) oracle_due += o.due;
  CHECK(partial_due < oracle_due);
}

TEST_CASE("a district at -05:00: counters == record by record == the oracle, for many periods and instants") {
  RandomHistory rh = MakeRandomHistory(1500, 4242, kMinus5);
  Storage store = NewMemoryStorage();
  AppendCalendar(store.log.get(), kMinus5);
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get(), ProjectionOptions{100});
  REQUIRE(p->CatchUp().ok());
  projections::EvaluationProjection ev(store.projections.get());
  Config plain, grid6;
  grid6.policy.grid_group_digits = 6;
  auto at = [](const char* text) { return LocalAt(text, kMinus5); };
  // -05:00 midnights and other instants, and two +08:00 midnights.
  const std::vector<Instant> froms = {at("2025-01-01"), at("2025-02-03T13:30"), at("2025-03-17"),
                                      At("2025-04-01")};
  const std::vector<Instant> tos = {at("2025-03-01"), at("2025-04-01T07:15"), at("2025-07-01"),
                                    At("2025-07-01")};
  const std::vector<std::optional<Instant>> ats = {std::nullopt,
                                                   at("2025-02-01"),
                                                   at("2025-02-17T09:00"),
                                                   at("2025-03-17"),
                                                   at("2025-03-17T00:00:00.000001"),
                                                   at("2025-04-15T16:59"),
                                                   At("2025-05-20"),
                                                   at("2025-07-01"),
                                                   at("2027-01-01")};
  int compared = 0;
  std::int64_t due = 0, reports = 0, received = 0;
  for (Instant from : froms) {
    for (Instant to : tos) {
      if (to <= from) continue;
      for (const auto& when : ats) {
        CAPTURE(MicrosOf(from));
        CAPTURE(MicrosOf(to));
        CAPTURE(when ? MicrosOf(*when) : -1);
        PeriodQuery q{from, to, when, ""};
        auto r1 = ev.Rates(q, Config{});
        auto r2 = ev.RatesByScan(q, Config{});
        REQUIRE(r1.ok());
        REQUIRE(r2.ok());
        CHECK(AllRatesText(*r1) == AllRatesText(*r2));
        auto expected = OracleRates(rh.h.events, from, to, when.value_or(to));
        std::map<std::string, OracleCounts> got;
        for (const auto& r : *r1) {
          if (r.due > 0) got[r.unit] = {r.due, r.handled, r.on_time, r.reworked, r.extended};
          due += r.due;
        }
        CHECK(got == expected);
        auto i1 = ev.Inspectors(q);
        auto i2 = ev.InspectorsByScan(q);
        REQUIRE(i1.ok());
        REQUIRE(i2.ok());
        CHECK(InspectorsText(*i1) == InspectorsText(*i2));
        for (const auto& i : *i2) reports += i.reports;
        for (const Config* cfg : {&plain, &grid6}) {
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
  CHECK(compared > 100);
  CHECK(due > 10000);
  CHECK(reports > 1000);
  CHECK(received > 1000);
}

TEST_CASE(
    "a calendar change to another offset rebuilds the evaluation once: incremental == rebuild == resumed") {
  RandomHistory rh = MakeRandomHistory(1200, 77);
  ZonedLog log;
  log.events = rh.h.events;
  const std::size_t n = log.events.size();
  REQUIRE(n > 6000);
  // +08:00 (the default) until a fifth in, then -05:00; the same offset set
  // again (nothing to rebuild); then +05:30.
  log.calendar_before = {{n / 5, kMinus5}, {n / 2, kMinus5}, {4 * n / 5, 5 * 60 + 30}};

  Storage memory = NewMemoryStorage();
  CountingStore store(memory.projections.get());
  auto inc = Projections::Create(memory.log.get(), &store, ProjectionOptions{64});
  for (std::size_t i = 0; i < n; i += 997) {
    log.Append(memory.log.get(), i, std::min(n, i + 997));
    REQUIRE(inc->CatchUp().ok());
    CHECK(inc->Lag() == 0);
  }
  CHECK(store.evaluation_resets == 2);
  // The zone records the last change and where it is in the log.
  const std::uint64_t last_change = 4 * n / 5 + 3;  // three calendar events up to and including it
  CHECK(StoredZone(&store) == projections::ev::DayZone{5 * 60 + 30, last_change});
  const Dump incremental = DumpKeyspace(&store);
  const std::string answers = AllQueries(*inc, 5 * 60 + 30);
  const std::string answers_here = AllQueries(*inc);

  SUBCASE("rebuild from position 1 gives the same state") {
    REQUIRE(inc->Rebuild().ok());
    CHECK(DumpKeyspace(&store) == incremental);
    CHECK(AllQueries(*inc, 5 * 60 + 30) == answers);
  }
  SUBCASE("a fresh store caught up in one go, and in bulk batches") {
    for (ProjectionOptions o : {ProjectionOptions{}, ProjectionOptions{64, 500}}) {
      auto other = log.Store();
      auto p = Projections::Create(other.log.get(), other.projections.get(), o);
      REQUIRE(p->CatchUp().ok());
      CHECK(DumpKeyspace(other.projections.get()) == incremental);
      CHECK(AllQueries(*p) == answers_here);
    }
  }
  SUBCASE("a crash in the middle of projecting, before or after a rebuild: resume counts every event once") {
    for (int ok_commits : {0, 5, 40, 151, 200}) {
      CAPTURE(ok_commits);
      auto other = log.Store();
      {
        FailingStore failing(other.projections.get(), ok_commits);
        auto crashed = Projections::Create(other.log.get(), &failing, ProjectionOptions{64});
        CHECK(crashed->CatchUp().IsIOError());
      }
      auto resumed = Projections::Create(other.log.get(), other.projections.get(), ProjectionOptions{1000});
      REQUIRE(resumed->CatchUp().ok());
      CHECK(DumpKeyspace(other.projections.get()) == incremental);
    }
  }
  SUBCASE("the counters answer on the new grid exactly") {
    projections::EvaluationProjection ev(&store);
    auto at = [](const char* text) { return LocalAt(text, 5 * 60 + 30); };
    for (auto [from, to] : {std::pair{"2025-01-01", "2025-04-01"}, std::pair{"2025-03-01", "2025-07-01"}}) {
      PeriodQuery q{at(from), at(to), std::nullopt, ""};
      auto r1 = ev.Rates(q, Config{});
      auto r2 = ev.RatesByScan(q, Config{});
      REQUIRE(r1.ok());
      REQUIRE(r2.ok());
      CHECK(AllRatesText(*r1) == AllRatesText(*r2));
    }
  }
}

TEST_CASE("a damaged ev/~zone is reported, not guessed") {
  Storage store = NewMemoryStorage();
  History h;
  h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  REQUIRE(
      store.projections->CommitProjection("evaluation", {{KvOp::Kind::kPut, "ev/~zone", "\x07garbage"}}, 3)
          .ok());
  auto r = p->Rates(PeriodQuery{At("2025-04-01"), At("2025-05-01"), std::nullopt, ""}, Config{});
  CHECK(r.status().IsCorruption());
  CHECK(r.status().message().find("ev/~zone") != std::string::npos);
  h.Open("C2", At("2025-04-01T10:00"), "A", At("2025-04-02T09:00"));
  h.Flush(store.log.get());
  Status s = p->CatchUp();
  CHECK(s.IsCorruption());
  CHECK(s.message().find("ev/~zone") != std::string::npos);
}

void AppendZone(EventStore* store, const std::string& zone) {
  ConfigChange change;
  change.type = ConfigChangeType::kSetCalendarZone;
  change.calendar.zone = zone;
  NewEvent e;
  e.type = std::string(ConfigEventTypeName(change.type));
  e.payload = EncodeConfigChange(change);
  REQUIRE(store->Append(kConfigStream, ExpectedVersion::Any(), {e}).ok());
}

TEST_CASE(
    "America/New_York: day counters cut at the zone's local midnights across the 2025-03-09 transition") {
  Calendar ny;
  ny.zone = "America/New_York";
  // The grid itself: a 23-hour day, then 24-hour days at -04:00.
  projections::DayGrid grid(kMinus5, ny.zone);
  const std::int64_t spring = *ParseLocalDate("2025-03-09");
  CHECK(grid.DayStart(spring) == MicrosOf(*ParseInstant("2025-03-09T00:00-05:00", 0)));
  CHECK(grid.DayStart(spring + 1) == MicrosOf(*ParseInstant("2025-03-10T00:00-04:00", 0)));
  CHECK(grid.DayStart(spring + 1) - grid.DayStart(spring) == 23 * 3'600'000'000LL);
  CHECK(grid.DayOf(grid.DayStart(spring + 1) - 1) == spring);
  CHECK(grid.DayOf(grid.DayStart(spring + 1)) == spring + 1);
  CHECK(grid.ChangeBucketOf(grid.DayStart(spring + 1)) == spring);
  CHECK(grid.IsMidnight(grid.DayStart(spring + 1)));
  CHECK_FALSE(grid.IsMidnight(grid.DayStart(spring + 1) - 3'600'000'000LL));

  RandomHistory rh = MakeRandomHistory(800, 909, kMinus5);
  Storage store = NewMemoryStorage();
  AppendCalendar(store.log.get(), kMinus5);
  AppendZone(store.log.get(), ny.zone);
  rh.h.Flush(store.log.get());
  auto p = Projections::Create(store.log.get(), store.projections.get());
  REQUIRE(p->CatchUp().ok());
  CHECK(StoredZone(store.projections.get()) == projections::ev::DayZone{kMinus5, 2, ny.zone});

  auto at = [&](const char* text) { return *ParseInstant(text, ny); };
  // Local midnights in the zone, on both sides of the transition.
  const std::vector<PeriodQuery> aligned = {
      {at("2025-03-09"), at("2025-03-10"), at("2025-04-01"), ""},
      {at("2025-03-01"), at("2025-03-16"), at("2025-04-01"), ""},
      {at("2025-03-10"), at("2025-03-11"), at("2025-03-20"), ""},
      {at("2025-01-01"), at("2025-07-01"), at("2025-08-01"), ""},
  };
  std::vector<std::string> before;
  std::int64_t received = 0;
  for (const PeriodQuery& q : aligned) {
    auto r = p->Rates(q, Config{});
    auto c = p->Centre(q, Config{});
    REQUIRE(r.ok());
    REQUIRE(c.ok());
    received += c->received;
    // Record by record equals the oracle over the same instants.
    auto oracle = OracleRates(rh.h.events, q.from, q.to, *q.at);
    std::int64_t due = 0, oracle_due = 0;
    for (const auto& u : *r) due += u.due;
    for (const auto& [_, o] : oracle) oracle_due += o.due;
    CHECK(due == oracle_due);
    before.push_back(AllRatesText(*r) + CentreText(*c));
  }
  REQUIRE(received > 100);
  // Without the records, whole local days of the zone still answer the same:
  // the counters' days are the zone's days (a -05:00 grid would miss an hour
  // of every day after the transition).
  DropRecords(store.projections.get());
  for (std::size_t k = 0; k < aligned.size(); ++k) {
    CAPTURE(k);
    auto r = p->Rates(aligned[k], Config{});
    auto c = p->Centre(aligned[k], Config{});
    REQUIRE(r.ok());
    REQUIRE(c.ok());
    CHECK(AllRatesText(*r) + CentreText(*c) == before[k]);
  }
}

}  // namespace
}  // namespace caseloop::testing
