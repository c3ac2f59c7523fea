// ScriptSession against an in-memory engine on a manual clock: every command
// class, the script clock, the JSON of the queries and every error path.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "caseloop/engine.h"
#include "caseloop/script.h"

using namespace caseloop;

namespace {

constexpr const char* kDistrict = R"(# a small district
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
holiday 2025-04-04
unit WATER name="水务局"
unit STREET name="西园街道"
inspector I1 grid=620102
inspector I2
staff R1 role=receiver
staff L1 role=shift_leader
staff D1 role=dispatcher
staff S1 role=supervisor,dispatcher
category component 0101 name="上水井盖" limit=4wh
category event 0102 name="暴露垃圾" limit=1wd
category event 0401 name="路面塌陷" limit=5wd emergency_limit=2h verify_limit=2wh
route component 0101 WATER
route event 0102 STREET
route event 0401 STREET
)";

struct Fixture {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ScriptSession> session;

  explicit Fixture(ScriptOptions options = {}) {
    EngineOptions o;
    o.clock = clock;
    auto e = Engine::Open(o);
    REQUIRE_MESSAGE(e.ok(), e.status().ToString());
    engine = std::move(*e);
    auto s = ScriptSession::Create(engine.get(), options);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    session = std::move(*s);
  }
  ~Fixture() { (void)engine->Close(); }

  // Runs a script; REQUIREs success; returns stdout.
  std::string Script(const std::string& text) {
    std::istringstream in(text);
    std::ostringstream out, err;
    Status s = session->Run(in, out, err);
    REQUIRE_MESSAGE(s.ok(), (s.ToString() + " / " + err.str()));
    CHECK(err.str().empty());
    return out.str();
  }
  void District() { Script(kDistrict); }

  Status Line(std::string_view line) { return session->Execute(line).status(); }
  std::string Error(std::string_view line) {
    Status s = Line(line);
    REQUIRE_MESSAGE(!s.ok(), "expected an error from: " << line);
    return s.message();
  }
  std::vector<std::string> Out(std::string_view line) {
    auto r = session->Execute(line);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return *r;
  }
  std::string One(std::string_view line) {
    auto out = Out(line);
    REQUIRE(out.size() == 1);
    return out[0];
  }
  void Ok(std::string_view line) {
    Status s = Line(line);
    REQUIRE_MESSAGE(s.ok(), line << " -> " << s.ToString());
  }
};

// One case A1 (4 working hours), dispatched Mon 2025-03-31 10:30 -> deadline 15:30.
void DispatchA1(Fixture& f) {
  f.District();
  f.Ok("at 2025-03-31T10:10");
  f.Ok("report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1");
  f.Ok("register A1 by=L1 at=2025-03-31T10:20");
  f.Ok("dispatch A1 by=D1 at=2025-03-31T10:30");
}

}  // namespace

TEST_CASE("the worked deadlines of domain.md §8 run clean") {
  std::ifstream file(CASELOOP_SHARED_DIR "/scenarios/worked.cl");
  if (!file) {
    MESSAGE("shared/scenarios/worked.cl not found; skipped");
    return;
  }
  std::stringstream text;
  text << file.rdbuf();
  Fixture f;
  CHECK(f.Script(text.str()).empty());
}

TEST_CASE("show prints the documented keys in order, times in the calendar's zone") {
  Fixture f;
  DispatchA1(f);
  CHECK(f.One("show A1") ==
        R"({"case":"A1","state":"dispatched","kind":"component","category":"0101","source":"inspector",)"
        R"("emergency":false,"unit":"WATER","deadline":"2025-03-31T15:30:00+08:00","light":"green",)"
        R"("overdue":false,"on_time":null,"dispatches":1,"reworks":0,"extensions":0,"supervisions":0,)"
        R"("pending":null,"merged_into":null,"version":3})");
  // at= evaluates elsewhere in time without moving the clock.
  CHECK(f.One("show A1 at=2025-03-31T16:00").find(R"("light":"red","overdue":true)") != std::string::npos);
  CHECK(f.session->Now() == *ParseInstant("2025-03-31T10:30", 480));
  CHECK(f.One("show A1").find(R"("overdue":false)") != std::string::npos);
  // ExecuteWords: words as a shell gives them.
  auto w = f.session->ExecuteWords({"show", "A1", "at=2025-03-31T16:00"});
  REQUIRE(w.ok());
  REQUIRE(w->size() == 1);
  CHECK((*w)[0].find(R"("light":"red")") != std::string::npos);
}

TEST_CASE("calendar zone=: local times in the zone across the 2025-03-09 transition") {
  Fixture f;
  f.District();
  CHECK(f.Error("calendar zone=Mars/Olympus").find("zone: unknown time zone 'Mars/Olympus'") == 0);
  CHECK(f.Error("calendar zone=America/New_York tz=-05:00") ==
        "zone: goes on a calendar line of its own (without tz, workdays, periods)");
  f.Ok("calendar zone=America/New_York");
  CHECK(f.engine->CurrentConfig().calendar.zone == "America/New_York");
  CHECK(f.Error("calendar tz=-05:00").find("tz: the calendar is in zone America/New_York") == 0);
  // Friday 15:00 EST; 4 working hours: 2 on Friday, 2 on Monday from 09:00 EDT.
  f.Ok("at 2025-03-07T14:50");
  CHECK(f.session->Now() == *ParseInstant("2025-03-07T19:50Z", 0));
  f.Ok("report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1");
  f.Ok("register A1 by=L1 at=2025-03-07T14:55");
  f.Ok("dispatch A1 by=D1 at=2025-03-07T15:00");
  auto state = f.engine->State("A1");
  REQUIRE(state.ok());
  REQUIRE(state->deadline.has_value());
  CHECK(*state->deadline == *ParseInstant("2025-03-10T11:00-04:00", 0));
  // Monday 10:59 EDT is before the deadline, 11:01 after it (a fixed -05:00 would say otherwise).
  CHECK(f.One("show A1 at=2025-03-10T10:59").find(R"("overdue":false)") != std::string::npos);
  CHECK(f.One("show A1 at=2025-03-10T11:01").find(R"("overdue":true)") != std::string::npos);
  // The day of 2025-03-09 is cut at the zone's midnights; back to a fixed offset.
  f.Ok("calendar zone=none");
  CHECK(f.engine->CurrentConfig().calendar.zone.empty());
  CHECK(f.engine->CurrentConfig().calendar.utc_offset_minutes == 480);
}

TEST_CASE("the script clock: at, advance, a command's at=, and the errors") {
  Fixture f;
  f.District();
  // A new database has no clock: case commands and advance need an `at` first.
  CHECK(f.Error("report A1 kind=component category=0101 source=inspector by=I1") ==
        "'report' before the first 'at': the clock of a new database is not set (write 'at TIME' first, or "
        "give the command at=TIME)");
  CHECK(f.Error("advance 2h") == "'advance' before the first 'at': the clock of a new database is not set");
  // ... but a command may carry its own time.
  f.Ok("report A1 kind=component category=0101 source=inspector by=I1 at=2025-03-31T10:10");
  CHECK(f.session->Now() == *ParseInstant("2025-03-31T10:10:00+08:00", 0));
  f.Ok("at 2025-03-31T10:10");  // the same instant is fine
  CHECK(f.Error("at 2025-03-31T10:00") ==
        "time 2025-03-31T10:00:00+08:00 is before the script clock 2025-03-31T10:10:00+08:00 (the clock "
        "starts at "
        "the latest recorded instant and only moves forward)");
  CHECK(f.Error("register A1 by=L1 at=2025-03-31T09:00").find("is before the script clock") !=
        std::string::npos);
  // An offset in the text wins over the calendar's zone.
  f.Ok("at 2025-03-31T02:20Z");
  CHECK(f.session->Now() == *ParseInstant("2025-03-31T10:20+08:00", 0));
  // advance: natural time, then working time (skips lunch), then working days.
  f.Ok("advance 30m");
  CHECK(f.session->Now() == *ParseInstant("2025-03-31T10:50", 480));
  f.Ok("advance 2wh");
  CHECK(f.session->Now() == *ParseInstant("2025-03-31T13:50", 480));
  f.Ok("advance 1wd");
  CHECK(f.session->Now() == *ParseInstant("2025-04-01T13:50", 480));
  f.Ok("advance 1d");
  CHECK(f.session->Now() == *ParseInstant("2025-04-02T13:50", 480));
  CHECK(f.Error("at 2025-13-01T10:00") == "at: bad month 13 in '2025-13-01T10:00'");
  CHECK(f.Error("advance 3x").find("advance: ") == 0);
  CHECK(f.Error("register A1 by=L1 at=soon").find("at: ") == 0);
  // A refused or malformed line does not move the clock.
  CHECK(f.session->Now() == *ParseInstant("2025-04-02T13:50", 480));
}

TEST_CASE("deadline timers fire as the clock passes them") {
  Fixture f;
  DispatchA1(f);
  f.Ok("at 2025-03-31T15:29");
  auto before = f.engine->History("A1");
  REQUIRE(before.ok());
  CHECK(before->back().event->type != EventType::kTaskOverdue);
  f.Ok("advance 2m");
  auto after = f.engine->History("A1");
  REQUIRE(after.ok());
  REQUIRE(after->back().event.has_value());
  CHECK(after->back().event->type == EventType::kTaskOverdue);
  CHECK(f.One("overdue") ==
        R"({"case":"A1","unit":"WATER","unit_name":"水务局","deadline":"2025-03-31T15:30:00+08:00",)"
        R"("overdue_hours":0.02,"overdue_working_hours":0.02})");
  CHECK(f.Out("overdue at=2025-03-31T15:00").empty());
}

TEST_CASE("case commands: every field reaches the engine; refusals carry the engine's message") {
  Fixture f;
  f.District();
  f.Ok("at 2025-04-05T22:10");
  f.Ok(R"(report A5 kind=event category=0401 source=hotline grid=620102001001005 component=6201020101000001 )"
       R"(lat=36.05 lon=103.79 address="No. 5 \"West\" Road" desc="road caved in" emergency by=R1)");
  auto h = f.engine->History("A5");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 1);
  const CaseEvent& e = *(*h)[0].event;
  CHECK(e.kind == CaseKind::kEvent);
  CHECK(e.category == "0401");
  CHECK(e.source == ReportSource::kHotline);
  CHECK(e.grid == "620102001001005");
  CHECK(e.component == "6201020101000001");
  CHECK(e.lat == doctest::Approx(36.05));
  CHECK(e.lon == doctest::Approx(103.79));
  CHECK(e.address == R"(No. 5 "West" Road)");
  CHECK(e.description == "road caved in");
  CHECK(e.emergency);
  CHECK(e.actor == "R1");
  CHECK(e.time == *ParseInstant("2025-04-05T22:10", 480));
  f.Ok("register A5 by=L1 at=2025-04-05T22:15");
  f.Ok("dispatch A5 by=D1 at=2025-04-05T22:20");
  f.Ok("expect A5 unit=STREET deadline=2025-04-06T00:20:00+08:00 emergency=true");
  // Refused by the engine: its message, unchanged.
  Status s = f.Line("feedback A5 by=STREET");
  CHECK(s.IsRejected());
  CHECK(s.message().find("A5") != std::string::npos);
  CHECK(f.Line("accept A9 by=STREET").IsNotFound());
  f.Ok("accept A5 by=STREET");
  f.Ok("extend A5 limit=1h reason=\"more time\" by=STREET");
  f.Ok("deny A5 reason=no by=D1");
  f.Ok("supervise A5 note=\"hurry up\" by=S1");
  f.Ok("expect A5 state=handling pending=null supervisions=1 extensions=0");
  f.Ok("feedback A5 note=filled by=STREET at=2025-04-06T00:10");
  f.Ok("verify A5 result=pass note=ok by=I1");
  f.Ok("expect A5 state=closed on_time=true light=null");
  // Merge, reject, void, return.
  f.Ok("report B1 kind=event category=0102 source=citizen by=R1");
  f.Ok("report B2 kind=event category=0102 source=citizen by=R1");
  f.Ok("report B3 kind=event category=0102 source=citizen by=R1");
  f.Ok("merge B2 into=B1 by=R1");
  f.Ok("reject B3 reason=\"not public space\" by=R1");
  f.Ok("expect B2 state=merged merged_into=B1 unit=null");
  f.Ok("expect B3 state=rejected");
  f.Ok("register B1 category=0102 by=L1");
  f.Ok("dispatch B1 unit=WATER limit=2wh by=D1");
  f.Ok("expect B1 unit=WATER");
  f.Ok("return B1 reason=\"not ours\" by=WATER");
  f.Ok("approve B1 by=D1");
  f.Ok("expect B1 state=registered unit=null");
  f.Ok("void B1 reason=duplicate by=L1");
  f.Ok("expect B1 state=voided");
}

TEST_CASE("malformed values name the key and the text") {
  Fixture f;
  f.District();
  f.Ok("at 2025-03-31T10:00");
  CHECK(f.Error("report A1 kind=thing category=0101 source=inspector by=I1") ==
        "bad kind=thing: expected component or event");
  CHECK(f.Error("report A1 kind=event category=0101 source=pigeon by=I1") ==
        "bad source=pigeon: expected inspector, video, hotline, grid or citizen");
  CHECK(f.Error("report A1 kind=event category=0102 source=citizen lat=36 by=R1") ==
        "lat= and lon= go together: give both or neither");
  CHECK(f.Error("report A1 kind=event category=0102 source=citizen lat=north lon=1 by=R1") ==
        "bad number lat=north");
  CHECK(f.Error("report A1 kind=event category=0102 source=citizen lat=91 lon=1 by=R1") ==
        "bad lat=91: must be -90 to 90");
  CHECK(f.Error("verify A1 result=maybe by=I1") == "bad result=maybe: expected pass or fail");
  CHECK(f.Error("dispatch A1 limit=soon by=D1").find("limit: ") == 0);
  CHECK(f.Error("staff X role=receiver,boss") ==
        "unknown role 'boss' (roles: receiver, shift_leader, dispatcher, supervisor)");
  CHECK(f.Error("category thing 0101 limit=1wd") == "bad KIND 'thing': expected component or event");
  CHECK(f.Error("category event 0101 limit=1ww").find("limit: ") == 0);
  CHECK(f.Error("holiday 2025-02-30").find("holiday: ") == 0);
  CHECK(f.Error("calendar tz=+25:00").find("tz: ") == 0);
  CHECK(f.Error("calendar workdays=funday").find("workdays: ") == 0);
  CHECK(f.Error("calendar periods=17:00-09:00").size() > 0);
  CHECK(f.Error("weights handling=lots") == "bad number handling=lots");
  CHECK(f.Error("weights handling=-1") == "bad weight handling=-1: must not be negative");
  CHECK(f.Error("policy enforce_permissions=maybe") ==
        "bad value enforce_permissions=maybe: expected true or false");
  CHECK(f.Error("rates from=2025-04-01 to=2025-03-01") ==
        "empty period: to=2025-03-01 is not after from=2025-04-01");
  CHECK(f.Error("rates from=April to=2025-05-01").find("from: ") == 0);
  CHECK(f.Error("report A1 kind=event category=0102 source=citizen desc=\"open by=R1")
            .find("unterminated quote opened at column") == 0);
  // Nothing was appended by any of them.
  auto h = f.engine->History("A1");
  CHECK((!h.ok() || h->empty()));
}

TEST_CASE("expect names the field, the expected and the actual value") {
  Fixture f;
  DispatchA1(f);
  f.Ok(
      "expect A1 state=dispatched unit=WATER deadline=2025-03-31T15:30:00+08:00 light=green on_time=null "
      "emergency=false dispatches=1 pending=null case=A1 version=3");
  Status s = f.Line("expect A1 state=handling deadline=2025-03-31T15:30:00+08:00 light=red");
  CHECK(s.IsRejected());
  CHECK(s.message() ==
        "expect A1 at 2025-03-31T10:30:00+08:00: state is dispatched, expected handling; light is green, "
        "expected red");
  Status u = f.Line("expect A1 colour=red");
  CHECK(u.IsInvalidArgument());
  CHECK(u.message().find("unknown field 'colour' for 'expect' (fields: case, state, kind,") == 0);
  CHECK(f.Line("expect A9 state=closed").IsNotFound());
  // With a line number, the message says where.
  auto r = f.session->Execute("expect A1 state=closed", 42);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("line 42: expect A1") == 0);
}

TEST_CASE("Run: line numbers, stop at the first error, keep_going, echo") {
  const std::string script =
      "at 2025-03-31T10:00\n"
      "\n"
      "# comment\n"
      "report A1 kind=component category=0101 source=inspector by=I1\n"
      "dispach A1 by=D1\n"
      "register A1 by=L1\n"
      "show A1\n";
  SUBCASE("stops at the first error") {
    Fixture f;
    f.District();
    std::istringstream in(script);
    std::ostringstream out, err;
    Status s = f.session->Run(in, out, err);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message() == "line 5: unknown command 'dispach' (did you mean 'dispatch'?)");
    CHECK(err.str() == "line 5: unknown command 'dispach' (did you mean 'dispatch'?)\n");
    CHECK(out.str().empty());
    CHECK(f.engine->State("A1")->state == LifecycleState::kReported);  // line 4 is kept, line 6 never ran
  }
  SUBCASE("keep_going runs on and still fails; echo acknowledges each line") {
    ScriptOptions o;
    o.keep_going = true;
    o.echo = true;
    Fixture f(o);
    f.District();
    std::istringstream in(script + "accept A1 by=WATER\nshow A1\n");
    std::ostringstream out, err;
    Status s = f.session->Run(in, out, err);
    CHECK(s.message() == "line 5: unknown command 'dispach' (did you mean 'dispatch'?)");
    std::string o1 = out.str();
    CHECK(o1.rfind("ok 1\nok 4\nok 6\n{\"case\":\"A1\",\"state\":\"registered\"", 0) == 0);
    CHECK(o1.find("ok 7\n") != std::string::npos);
    CHECK(o1.find("ok 8\n") == std::string::npos);  // refused: not dispatched
    CHECK(o1.find("ok 9\n") != std::string::npos);
    CHECK(err.str().find("line 5: unknown command") == 0);
    CHECK(err.str().find("line 8: ") != std::string::npos);
  }
}

TEST_CASE("a session on an existing history starts its clock at the latest recorded instant") {
  auto clock = std::make_shared<ManualClock>();
  EngineOptions o;
  o.clock = clock;
  auto e = Engine::Open(o);
  REQUIRE(e.ok());
  {
    auto s = ScriptSession::Create(e->get());
    REQUIRE(s.ok());
    std::istringstream in(
        std::string(kDistrict) +
        "at 2025-03-31T10:10\nreport A1 kind=component category=0101 source=inspector by=I1\n"
        "at 2025-03-31T11:00\n");
    std::ostringstream out, err;
    REQUIRE((*s)->Run(in, out, err).ok());
  }
  auto s2 = ScriptSession::Create(e->get());
  REQUIRE(s2.ok());
  CHECK((*s2)->Now() >= *ParseInstant("2025-03-31T10:10", 480));
  CHECK((*s2)->Execute("register A1 by=L1").ok());
  (void)(*e)->Close();
}

TEST_CASE("history: the envelope first, then the event's own fields") {
  Fixture f;
  DispatchA1(f);
  auto lines = f.Out("history A1");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind(R"({"position":)", 0) == 0);
  CHECK(lines[0].find(
            R"(,"version":1,"type":"case_reported","time":"2025-03-31T10:10:00+08:00","actor":"I1")") !=
        std::string::npos);
  CHECK(lines[2].find(R"("type":"case_dispatched","time":"2025-03-31T10:30:00+08:00","actor":"D1")") !=
        std::string::npos);
  CHECK(lines[2].find(R"("deadline":"2025-03-31T15:30:00+08:00")") != std::string::npos);
  CHECK(lines[2].find(R"("unit":"WATER")") != std::string::npos);
}

TEST_CASE("setup lines change the configuration") {
  Fixture f;
  f.District();
  f.Ok("weights handling=40 extension=0");
  f.Ok("policy yellow_percent=50 enforce_permissions=false");
  f.Ok("workday 2025-04-27");
  Config c = f.engine->CurrentConfig();
  CHECK(c.units.at("WATER").name == "水务局");
  CHECK(c.inspectors.at("I1").grid_prefix == "620102");
  CHECK(c.staff.at("S1").roles == std::vector<Role>{Role::kSupervisor, Role::kDispatcher});
  const CategoryInfo* cat = c.FindCategory(CaseKind::kEvent, "0401");
  REQUIRE(cat != nullptr);
  CHECK(cat->name == "路面塌陷");
  CHECK(cat->limit == TimeLimit::WorkingDays(5));
  CHECK(cat->emergency_limit == TimeLimit::NaturalHours(2));
  CHECK(cat->verify_limit == TimeLimit::WorkingHours(2));
  CHECK(c.Route(CaseKind::kComponent, "0101", "620102001001001") == "WATER");
  CHECK(c.weights.handling == 40);
  CHECK(c.weights.on_time == 20);
  CHECK(c.weights.extension == 0);
  CHECK(c.policy.yellow_percent == 50);
  CHECK_FALSE(c.policy.enforce_permissions);
  CHECK(c.calendar.holidays.count(*ParseLocalDate("2025-04-04")) == 1);
  CHECK(c.calendar.extra_workdays.count(*ParseLocalDate("2025-04-27")) == 1);
  f.Ok("calendar tz=+09:00");
  c = f.engine->CurrentConfig();
  CHECK(c.calendar.utc_offset_minutes == 540);
  CHECK(c.calendar.periods.size() == 2);   // kept
  CHECK(c.calendar.holidays.size() == 1);  // kept
  // A unit without a name is named by its id.
  f.Ok("unit PARKS");
  CHECK(f.engine->CurrentConfig().units.at("PARKS").name == "PARKS");
}

namespace {

struct RunResult {
  Status status;
  std::string out, err;
};

RunResult RunScript(Fixture& f, const std::string& text) {
  std::istringstream in(text);
  std::ostringstream out, err;
  Status s = f.session->Run(in, out, err);
  return {s, out.str(), err.str()};
}

}  // namespace

// Issue 22: worked.cl on the demo's database failed on line 25 (an `at`
// before the script clock) and left lines 1-24 (its setup) applied.
TEST_CASE("a script that fails on a setup or clock line before its first command applies nothing of it") {
  SUBCASE("a clock line before the script clock") {
    Fixture f;
    DispatchA1(f);  // the clock is at 2025-03-31T10:30
    const Instant head = f.engine->LatestRecordedTime();
    RunResult r = RunScript(f,
                            "unit PARKS name=\"园林局\"\n"
                            "category event 0999 name=\"其他\" limit=1wd\n"
                            "\n"
                            "at 2025-01-01T09:00\n"
                            "report B1 kind=event category=0999 source=inspector by=I1\n");
    CHECK(r.status.IsInvalidArgument());
    CHECK(r.status.message().rfind("line 4: time 2025-01-01T09:00:00+08:00 is before the script clock", 0) ==
          0);
    CHECK(r.err.find("nothing of the script was applied (lines 1 to 2 held setup") != std::string::npos);
    Config c = f.engine->CurrentConfig();
    CHECK(c.units.count("PARKS") == 0);
    CHECK(c.FindCategory(CaseKind::kEvent, "0999") == nullptr);
    CHECK(f.engine->LatestRecordedTime() == head);
  }
  SUBCASE("a refused setup line") {
    Fixture f;
    f.District();
    RunResult r = RunScript(f, "unit PARKS\nroute event 0999 NOPE\nat 2025-03-31T09:00\n");
    CHECK_FALSE(r.status.ok());
    CHECK(r.status.message().rfind("line 2: ", 0) == 0);
    CHECK(f.engine->CurrentConfig().units.count("PARKS") == 0);
  }
  SUBCASE("'advance' on a new database") {
    Fixture f;
    RunResult r = RunScript(f, kDistrict + std::string("advance 1h\n"));
    CHECK(r.status.message().find("'advance' before the first 'at'") != std::string::npos);
    CHECK(f.engine->CurrentConfig().units.empty());
  }
  SUBCASE("a case command's at= before the clock") {
    Fixture f;
    DispatchA1(f);
    RunResult r = RunScript(f,
                            "unit PARKS\nreport B1 kind=event category=0102 source=inspector by=I1 "
                            "at=2025-03-01T09:00\n");
    CHECK(r.status.message().find("is before the script clock") != std::string::npos);
    CHECK(f.engine->CurrentConfig().units.count("PARKS") == 0);
  }
  SUBCASE("held lines see each other, and are applied with the first command, acknowledged in order") {
    ScriptOptions o;
    o.echo = true;
    Fixture f(o);
    // The `at` is read in the zone the held calendar line sets.
    RunResult r =
        RunScript(f, kDistrict + std::string("calendar tz=-05:00\nat 2025-04-01T09:00\nshow NOPE\n"));
    CHECK_FALSE(r.status.ok());  // line 20: no case NOPE; lines 2-19 are applied
    CHECK(f.engine->CurrentConfig().calendar.utc_offset_minutes == -300);
    CHECK(f.engine->CurrentConfig().units.count("WATER") == 1);
    CHECK(f.session->Now() == *ParseInstant("2025-04-01T09:00-05:00", 0));
    CHECK(r.out.rfind("ok 2\nok 3\nok 4\n", 0) == 0);                 // line 1 is a comment
    CHECK(r.out.find("ok 17\nok 18\nok 19\n") != std::string::npos);  // the setup, then the `at`
    CHECK(r.out.find("ok 20") == std::string::npos);
  }
  SUBCASE("a script of setup only is applied at its end") {
    Fixture f;
    RunResult r = RunScript(f, "unit PARKS\nunit ROADS\n");
    CHECK(r.status.ok());
    CHECK(f.engine->CurrentConfig().units.size() == 2);
  }
  SUBCASE("a query releases the setup before it") {
    Fixture f;
    DispatchA1(f);
    RunResult r = RunScript(f, "unit PARKS\nrates from=2025-03-01 to=2025-04-01 unit=PARKS\n");
    CHECK_MESSAGE(r.status.ok(), r.err);
    CHECK(r.out.find("\"unit\":\"PARKS\"") != std::string::npos);
  }
  SUBCASE("keep_going: a failed clock line is skipped, the held setup applied with the next good one") {
    ScriptOptions o;
    o.keep_going = true;
    Fixture f(o);
    DispatchA1(f);
    RunResult r = RunScript(f, "unit PARKS\nat 2025-01-01T09:00\nat 2025-04-01T09:00\n");
    CHECK_FALSE(r.status.ok());
    CHECK(r.status.message().rfind("line 2: ", 0) == 0);
    CHECK(f.engine->CurrentConfig().units.count("PARKS") == 1);
    CHECK(f.session->Now() == *ParseInstant("2025-04-01T09:00", 480));
  }
}

// Issue 22: --now was ignored by `run`.
TEST_CASE("the system clock: commands are stamped with the system time, at lines are refused") {
  ScriptOptions o;
  o.system_now = true;
  SUBCASE("commands and setup at the system time") {
    Fixture f(o);
    const Instant before = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
    RunResult r =
        RunScript(f, kDistrict + std::string("report A1 kind=component category=0101 source=inspector "
                                             "by=I1\nexpect A1 state=reported\n"));
    REQUIRE_MESSAGE(r.status.ok(), r.err);
    const Instant after = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
    auto st = f.engine->State("A1");
    REQUIRE(st.ok());
    CHECK(st->reported_at >= before);
    CHECK(st->reported_at <= after);
    CHECK(f.session->Now() >= before);
  }
  SUBCASE("at, advance and at= are refused, naming the mode") {
    Fixture f(o);
    f.District();
    RunResult r = RunScript(f, "unit PARKS\nat 2025-03-31T10:00\n");
    CHECK(
        r.status.message() ==
        "line 2: 'at' sets the script clock, and this script runs on the system clock (--now): every command "
        "is stamped with the system time. Remove it, or run the script without --now");
    CHECK(f.engine->CurrentConfig().units.count("PARKS") == 0);  // nothing of it applied
    CHECK(f.Error("advance 1h").find("'advance' sets the script clock") == 0);
    CHECK(f.Error("report A1 kind=component category=0101 source=inspector by=I1 at=2025-03-31T10:00")
              .find("'report''s at= sets the script clock") == 0);
    CHECK(f.engine->State("A1").status().IsNotFound());
  }
  SUBCASE("a database whose history is ahead of the system time refuses commands") {
    Fixture f;  // the manual clock first: a history in the future
    f.District();
    f.Ok("at 2999-01-01T09:00");
    f.Ok("report A1 kind=component category=0101 source=inspector by=I1");
    auto s = ScriptSession::Create(f.engine.get(), o);
    REQUIRE(s.ok());
    Status refused = (*s)->Execute("register A1 by=L1").status();
    CHECK(refused.message().find("is before the latest recorded instant 2999-01-01T09:00:00+08:00") !=
          std::string::npos);
    CHECK(f.engine->State("A1")->state == LifecycleState::kReported);
  }
}

// Issue 22: overdue gave natural hours only, and the queries' JSON only the
// units' ids.
TEST_CASE("overdue: working hours beside natural hours; rates, overdue and workload name the unit") {
  Fixture f;
  // A1's 4 working hours from Thu 2025-04-03 13:00 end at 17:00; Fri 04-04 is
  // a holiday, 04-05/06 a weekend: at Mon 04-07 11:00 it is 90 natural hours
  // and 2 working hours (09:00-11:00) overdue.
  f.District();
  f.Ok("at 2025-04-03T12:50");
  f.Ok("report A1 kind=component category=0101 source=inspector grid=620102001001001 by=I1");
  f.Ok("register A1 by=L1");
  f.Ok("dispatch A1 by=D1 at=2025-04-03T13:00");
  f.Ok("at 2025-04-07T11:00");
  CHECK(f.One("overdue") ==
        R"({"case":"A1","unit":"WATER","unit_name":"水务局","deadline":"2025-04-03T17:00:00+08:00",)"
        R"("overdue_hours":90.0,"overdue_working_hours":2.0})");
  auto typed = f.engine->Overdue(*ParseInstant("2025-04-07T11:00", 480));
  REQUIRE(typed.ok());
  REQUIRE(typed->size() == 1);
  CHECK(typed->front().overdue_working_hours == 2.0);
  CHECK(typed->front().unit_name == "水务局");
  const auto workload = f.Out("workload");
  CHECK(std::find(workload.begin(), workload.end(),
                  R"({"unit":"WATER","unit_name":"水务局","open_tasks":1,"overdue_tasks":1})") !=
        workload.end());
  CHECK(f.One("rates from=2025-04-01 to=2025-05-01 unit=WATER")
            .rfind(R"({"unit":"WATER","unit_name":"水务局",)", 0) == 0);
}
