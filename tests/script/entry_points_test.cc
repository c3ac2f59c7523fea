// One answer per question: every query gives the same answer through the
// engine's typed API and through the script language, with the default
// instant decided by one function, QueryInstant (domain.md §7: `to`, or now if
// earlier; with a manual clock, its time). And `show` / `history` at=T answer
// as of T. (The CLI and Python entry points: tests/python/test_entry_points.py.)
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "caseloop/engine.h"
#include "caseloop/json.h"
#include "caseloop/queries.h"
#include "caseloop/script.h"

using namespace caseloop;

namespace {

struct Session {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ScriptSession> session;

  Session() {
    EngineOptions o;
    o.clock = clock;
    auto e = Engine::Open(o);
    REQUIRE_MESSAGE(e.ok(), e.status().ToString());
    engine = std::move(*e);
    auto s = ScriptSession::Create(engine.get());
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    session = std::move(*s);
  }
  ~Session() { (void)engine->Close(); }

  void Script(const std::string& text) {
    std::istringstream in(text);
    std::ostringstream out, err;
    Status s = session->Run(in, out, err);
    REQUIRE_MESSAGE(s.ok(), (s.ToString() + " / " + err.str()));
  }
  std::vector<std::string> Out(const std::string& line) {
    auto r = session->Execute(line);
    REQUIRE_MESSAGE(r.ok(), line << " -> " << r.status().ToString());
    return *r;
  }
  std::string Error(const std::string& line) {
    auto r = session->Execute(line);
    REQUIRE_MESSAGE(!r.ok(), "expected an error from: " << line);
    return r.status().message();
  }
  Instant T(const char* text) { return *ParseInstant(text, 480); }
};

template <typename T>
std::vector<std::string> Json(const std::vector<T>& xs) {
  std::vector<std::string> out;
  for (const auto& x : xs) out.push_back(ToJson(x));
  return out;
}

// The value of an answer that must be there.
template <typename T>
T Must(Result<T> r) {
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(*r);
}

}  // namespace

TEST_CASE("QueryInstant: at when given; else to or now, whichever is earlier; now without a period") {
  const Instant a = *ParseInstant("2025-04-01T10:00", 480);
  const Instant b = *ParseInstant("2025-04-02T10:00", 480);
  const Instant c = *ParseInstant("2025-04-03T10:00", 480);
  CHECK(QueryInstant(a, c, b) == a);
  CHECK(QueryInstant(std::nullopt, c, b) == b);  // to after now: now
  CHECK(QueryInstant(std::nullopt, a, b) == a);  // to before now: to
  CHECK(QueryInstant(std::nullopt, std::nullopt, b) == b);
}

TEST_CASE("worked.cl: each query gives the same answer through the engine and the script language") {
  // The environment's CASELOOP_SHARED_DIR first (a worktree has no ../shared).
  const char* shared = std::getenv("CASELOOP_SHARED_DIR");
  std::ifstream file(std::string(shared ? shared : CASELOOP_SHARED_DIR) + "/scenarios/worked.cl");
  if (!file) {
    MESSAGE("shared/scenarios/worked.cl not found; skipped");
    return;
  }
  std::stringstream text;
  text << file.rdbuf();
  Session s;
  s.Script(text.str());
  const Instant now = s.engine->Now();
  REQUIRE(now == s.T("2025-04-14T09:00"));
  Engine& e = *s.engine;

  // A period that ends after the clock: evaluated now, not at `to` (the issue's
  // BUILD due 2 / overdue_open 2 from the typed API against 1 / 1 from the script).
  PeriodQuery q;
  q.from = s.T("2025-03-01");
  q.to = s.T("2025-05-01");
  const std::string period = "from=2025-03-01 to=2025-05-01";
  auto rates = e.Rates(q);
  REQUIRE(rates.ok());
  CHECK(Json(*rates) == s.Out("rates " + period));
  PeriodQuery at_now = q;
  at_now.at = now;
  CHECK(Json(Must(e.Rates(at_now))) == Json(*rates));
  PeriodQuery at_to = q;
  at_to.at = q.to;
  CHECK(Json(Must(e.Rates(at_to))) != Json(*rates));  // the question the default answers is "now"
  bool build = false;
  for (const auto& r : *rates) {
    if (r.unit != "BUILD") continue;
    build = true;
    CHECK(r.due == 1);
    CHECK(r.overdue_open == 1);
  }
  CHECK(build);

  CHECK(Json(Must(e.Inspectors(q))) == s.Out("inspectors " + period));
  CHECK(std::vector<std::string>{ToJson(Must(e.Centre(q)))} == s.Out("centre " + period));

  // A period that ended before the clock: evaluated at `to`.
  PeriodQuery early;
  early.from = s.T("2025-03-01");
  early.to = s.T("2025-04-03");
  const std::string early_words = "from=2025-03-01 to=2025-04-03";
  CHECK(Json(Must(e.Rates(early))) == s.Out("rates " + early_words));
  CHECK(Json(Must(e.Inspectors(early))) == s.Out("inspectors " + early_words));
  CHECK(std::vector<std::string>{ToJson(Must(e.Centre(early)))} == s.Out("centre " + early_words));

  // Without a period: now.
  std::vector<std::string> overdue;
  for (const auto& o : Must(e.Overdue())) overdue.push_back(ToJson(o, 480));
  CHECK(overdue == s.Out("overdue"));
  CHECK(Json(Must(e.Workload())) == s.Out("workload"));
  for (const char* id : {"A1", "A2", "A3", "A4", "A5"}) {
    CHECK(std::vector<std::string>{ToJson(Must(e.Show(id)), 480)} == s.Out(std::string("show ") + id));
    std::vector<std::string> history;
    for (const auto& ev : Must(e.History(id))) history.push_back(ToJson(ev, 480));
    CHECK(history == s.Out(std::string("history ") + id));
  }
}

TEST_CASE("show and history at=T give the case as it was at T, from its events up to T") {
  Session s;
  s.Script(R"(calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff L1 role=shift_leader
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER
at 2025-03-31T10:10
report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1
at 2025-03-31T10:20
register A1 by=L1
at 2025-03-31T10:30
dispatch A1 by=D1
at 2025-03-31T11:00
accept A1 by=WATER
at 2025-03-31T16:00
feedback A1 note="cover replaced" by=WATER
at 2025-03-31T16:30
verify A1 result=pass by=I1
)");
  // Today: closed, late.
  CHECK(s.Out("show A1")[0].find(R"("state":"closed")") != std::string::npos);

  // Before the deadline (15:30): handling, at WATER, green, its deadline.
  const std::string before = s.Out("show A1 at=2025-03-31T11:30")[0];
  CHECK(before.find(R"("state":"handling")") != std::string::npos);
  CHECK(before.find(R"("unit":"WATER","deadline":"2025-03-31T15:30:00+08:00","light":"green")") !=
        std::string::npos);
  CHECK(before.find(R"("version":4)") != std::string::npos);

  // After the deadline, before the feedback: handling and overdue (red), not closed.
  const std::string late = s.Out("show A1 at=2025-03-31T15:45")[0];
  CHECK(late.find(R"("state":"handling")") != std::string::npos);
  CHECK(late.find(R"("light":"red","overdue":true)") != std::string::npos);

  // Awaiting verification between the feedback and the verification.
  CHECK(s.Out("show A1 at=2025-03-31T16:10")[0].find(R"("state":"awaiting_verification")") !=
        std::string::npos);

  // Reported, registered: no unit yet.
  const std::string registered = s.Out("show A1 at=2025-03-31T10:25")[0];
  CHECK(registered.find(R"("state":"registered")") != std::string::npos);
  CHECK(registered.find(R"("unit":null)") != std::string::npos);

  // The typed API answers the same.
  auto view = s.engine->Show("A1", s.T("2025-03-31T11:30"));
  REQUIRE(view.ok());
  CHECK(ToJson(*view, 480) == before);

  // history at=T: the events up to T; an event exactly at T is included.
  CHECK(s.Out("history A1 at=2025-03-31T10:30").size() == 3);
  CHECK(s.Out("history A1 at=2025-03-31T10:29").size() == 2);
  CHECK(s.Out("history A1").size() >= 6);
  auto h = s.engine->History("A1", s.T("2025-03-31T11:00"));
  REQUIRE(h.ok());
  CHECK(h->size() == 4);

  // Before the report the case did not exist.
  CHECK(s.Error("show A1 at=2025-03-31T10:00").find("had not been reported at 2025-03-31T10:00:00+08:00") !=
        std::string::npos);
  CHECK(s.engine->History("A1", s.T("2025-03-31T10:00")).status().IsNotFound());
}
