// RunDemo: a small simulated month through the real engine.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include "caseloop/engine.h"
#include "caseloop/tools.h"

using namespace caseloop;

namespace {

std::unique_ptr<Engine> OpenDemoEngine() {
  EngineOptions o;
  o.clock = std::make_shared<ManualClock>();
  auto e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

struct DemoRun {
  std::string output;
  std::vector<UnitRates> rates;
  Config config;
};

DemoRun RunSmallDemo(std::uint64_t seed, const std::string& html = "") {
  auto engine = OpenDemoEngine();
  DemoOptions o;
  o.cases = 300;
  o.days = 30;
  o.seed = seed;
  o.html = html;
  std::ostringstream out;
  Status s = RunDemo(*engine, o, out);
  REQUIRE_MESSAGE(s.ok(), s.ToString(), "\n", out.str());
  DemoRun run;
  run.output = out.str();
  run.config = engine->CurrentConfig();
  PeriodQuery q;
  q.from = *ParseInstant("2025-01-01T00:00:00+08:00", 0);
  q.to = q.from + std::chrono::hours(24 * 30);
  auto rates = engine->Rates(q);
  REQUIRE(rates.ok());
  run.rates = *rates;
  CHECK(engine->Close().ok());
  return run;
}

std::string RankingPart(const std::string& out) {
  auto p = out.find("anking of units");
  return p == std::string::npos ? "" : out.substr(p);
}

}  // namespace

TEST_CASE("demo: a small month runs, ranks every unit, refuses nothing") {
  DemoRun run = RunSmallDemo(7);
  INFO(run.output);
  CHECK(run.output.find("simulated 300 cases over 30 days from 2025-01-01 (seed 7)") != std::string::npos);
  CHECK(run.output.find("refused") == std::string::npos);  // the plan follows the rules the engine checks
  CHECK(run.output.find("\nRanking of units, 2025-01-01 to 2025-01-30") !=
        std::string::npos);  // a month: not "Quarterly" (issue 22)
  CHECK(run.output.find("Inspectors, 2025-01-01 to 2025-01-30") != std::string::npos);
  CHECK(run.output.find("Centre, 2025-01-01 to 2025-01-30: received 300,") != std::string::npos);
  // Every unit of the district is in the printed ranking.
  const std::string ranking = RankingPart(run.output);
  for (const auto& [id, info] : run.config.units)
    CHECK_MESSAGE(ranking.find(" " + id + " ") != std::string::npos, id);
  // The ranking from the engine: units with due counts, most with cases.
  REQUIRE(!run.rates.empty());
  std::int64_t due = 0;
  for (const UnitRates& u : run.rates) {
    CHECK(u.due >= 0);
    CHECK(u.handled <= u.due);
    CHECK(u.on_time + u.late == u.handled);
    due += u.due;
    if (u.due > 0) {
      CHECK(u.score.has_value());
      CHECK(u.grade.has_value());
    }
  }
  CHECK(due > 150);
}

TEST_CASE("demo: the same seed gives the same ranking, another seed another") {
  DemoRun a = RunSmallDemo(42);
  DemoRun b = RunSmallDemo(42);
  DemoRun c = RunSmallDemo(43);
  auto key = [](const std::vector<UnitRates>& rates) {
    std::ostringstream s;
    for (const UnitRates& u : rates) {
      s << u.unit << ' ' << u.due << ' ' << u.handled << ' ' << u.on_time << ' ' << u.overdue_open << ' '
        << u.reworked << ' ' << u.extended << ' ' << u.score.value_or(-1) << '\n';
    }
    return s.str();
  };
  CHECK(key(a.rates) == key(b.rates));
  CHECK(RankingPart(a.output) == RankingPart(b.output));
  CHECK(key(a.rates) != key(c.rates));
}

TEST_CASE("demo: needs a manual clock and sane options") {
  EngineOptions o;  // system clock
  auto engine = Engine::Open(o);
  REQUIRE(engine.ok());
  std::ostringstream out;
  DemoOptions d;
  d.cases = 10;
  d.days = 2;
  d.html = "";
  Status s = RunDemo(**engine, d, out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("manual clock") != std::string::npos);

  auto manual = OpenDemoEngine();
  d.cases = 0;
  CHECK(RunDemo(*manual, d, out).IsInvalidArgument());
  // docs/reliability.md: 2,000,000,000 cases ended in std::bad_alloc.
  for (std::int64_t cases : {std::int64_t{-1}, kDemoMaxCases + 1, std::int64_t{2000000000}}) {
    d.cases = cases;
    Status too_many = RunDemo(*manual, d, out);
    CHECK(too_many.IsInvalidArgument());
    CHECK(too_many.message() ==
          "demo: the number of cases must be within 1..1000000, not " + std::to_string(cases));
  }
  d.cases = 10;
  for (int days : {0, kDemoMaxDays + 1}) {
    d.days = days;
    Status bad_days = RunDemo(*manual, d, out);
    CHECK(bad_days.IsInvalidArgument());
    CHECK(bad_days.message() ==
          "demo: the number of days must be within 1..3660, not " + std::to_string(days));
  }
  CHECK(out.str().empty());
}

// Issue 22: the demo said "Quarterly ranking" for any period, and on a
// database that already held a demo it added a second one after it.
TEST_CASE("demo: 'quarter' only for a quarter; a database with cases is refused, nothing changed") {
  auto engine = OpenDemoEngine();
  DemoOptions o;
  o.cases = 50;
  o.days = 5;
  o.html = "";
  std::ostringstream out;
  REQUIRE(RunDemo(*engine, o, out).ok());
  CHECK(out.str().find("Quarterly") == std::string::npos);
  CHECK(out.str().find("\nRanking of units, 2025-01-01 to 2025-01-05 (as of") != std::string::npos);

  const std::uint64_t head = engine->HeadPosition();
  const Config before = engine->CurrentConfig();
  std::ostringstream again;
  Status s = RunDemo(*engine, o, again);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().rfind("demo: the database already holds cases (e.g. 'C2501", 0) == 0);
  CHECK(s.message().find("nothing was changed") != std::string::npos);
  CHECK(engine->HeadPosition() == head);
  CHECK(engine->CurrentConfig().units.size() == before.units.size());
  CHECK(again.str().empty());
  CHECK(engine->Close().ok());

  auto quarter = OpenDemoEngine();
  o.days = 91;
  o.cases = 30;
  std::ostringstream q;
  REQUIRE(RunDemo(*quarter, o, q).ok());
  CHECK(q.str().find("\nQuarterly ranking of units, 2025-01-01 to 2025-04-01 (as of") != std::string::npos);
  CHECK(quarter->Close().ok());
}
