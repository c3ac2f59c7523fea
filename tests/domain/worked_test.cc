// shared/scenarios/worked.cl (domain.md §8) re-expressed over Decide, Evolve
// and ViewCase: the same commands at the same times, and every `expect` line
// of the script as a check of the case view.
#include <doctest/doctest.h>

#include "domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {

constexpr auto C = CaseKind::kComponent;
constexpr auto E = CaseKind::kEvent;
constexpr auto kInspector = ReportSource::kInspector;
using CT = CommandType;

// One `expect` line: only the fields given are checked. The strings use the
// script's spelling ("null" for an absent value).
struct Expect {
  std::optional<std::string> state, unit, deadline, light, pending, on_time;
  std::optional<bool> overdue;
  std::optional<std::uint32_t> reworks, dispatches, extensions;
};

void Check(Sim& sim, const std::string& id, const Expect& x) {
  CaseView v = sim.View(id);
  INFO("expect ", id, " at ", Fmt(sim.now()));
  if (x.state) CHECK(std::string(Name(v.state)) == *x.state);
  if (x.unit) CHECK(v.unit.value_or("null") == *x.unit);
  if (x.deadline) CHECK(Fmt(v.deadline) == *x.deadline);
  if (x.light) CHECK((v.light ? std::string(Name(*v.light)) : "null") == *x.light);
  if (x.pending) {
    CHECK((v.pending == PendingRequest::kNone ? "null" : std::string(Name(v.pending))) == *x.pending);
  }
  if (x.on_time) CHECK((v.on_time ? (*v.on_time ? "true" : "false") : "null") == *x.on_time);
  if (x.overdue) CHECK(v.overdue == *x.overdue);
  if (x.reworks) CHECK(v.reworks == *x.reworks);
  if (x.dispatches) CHECK(v.dispatches == *x.dispatches);
  if (x.extensions) CHECK(v.extensions == *x.extensions);
}

Command Note(Command c, const std::string& note) {
  c.note = note;
  return c;
}

}  // namespace

TEST_CASE("worked.cl: the deadlines of domain.md section 8") {
  Sim sim(WorkedConfig());

  // Case 4 (five working days; suspended after 7 of 35 working hours; resumed with 28 left) starts first.
  sim.At("2025-03-31T09:00");
  sim.Ok(Report("A4", E, "0301", kInspector, "620102001001004", "I1"));
  sim.Ok(Cmd(CT::kRegister, "A4", "L1"));
  sim.Ok(Cmd(CT::kDispatch, "A4", "D1"));
  Check(sim, "A4", {.state = "dispatched", .unit = "BUILD", .deadline = "2025-04-07T17:00:00+08:00"});
  sim.At("2025-03-31T09:10");
  sim.Ok(Cmd(CT::kAccept, "A4", "BUILD"));

  // Case 1: four working hours across the lunch break, handled on time.
  sim.At("2025-03-31T10:10");
  sim.Ok(Report("A1", C, "0101", kInspector, "620102001001001", "I1"));
  sim.At("2025-03-31T10:20");
  sim.Ok(Cmd(CT::kRegister, "A1", "L1"));
  sim.At("2025-03-31T10:30");
  sim.Ok(Cmd(CT::kDispatch, "A1", "D1"));
  Check(sim, "A1",
        {.state = "dispatched", .unit = "WATER", .deadline = "2025-03-31T15:30:00+08:00", .light = "green"});
  sim.At("2025-03-31T10:40");
  sim.Ok(Cmd(CT::kAccept, "A1", "WATER"));

  // Case 3: three working days (extended below).
  sim.At("2025-03-31T14:00");
  sim.Ok(Report("A3", C, "0109", kInspector, "620102001001003", "I1"));
  sim.Ok(Cmd(CT::kRegister, "A3", "L1"));
  sim.Ok(Cmd(CT::kDispatch, "A3", "D1"));
  Check(sim, "A3", {.unit = "POWER", .deadline = "2025-04-03T14:00:00+08:00"});
  sim.At("2025-03-31T14:10");
  sim.Ok(Cmd(CT::kAccept, "A3", "POWER"));

  sim.At("2025-03-31T14:40");
  sim.Ok(Note(Cmd(CT::kFeedback, "A1", "WATER"), "cover replaced"));
  Check(sim, "A1", {.state = "awaiting_verification", .on_time = "true"});
  sim.At("2025-03-31T15:10");
  sim.Ok(Verify("A1", true, "I1"));
  Check(sim, "A1", {.state = "closed", .on_time = "true"});

  // Case 4 is suspended: the request waits for the dispatcher; the clock stops at approval.
  sim.At("2025-04-01T08:55");
  sim.Ok(WithReason(Cmd(CT::kSuspend, "A4", "BUILD"), "waiting for the road closure permit"));
  Check(sim, "A4", {.state = "handling", .pending = "suspend"});
  sim.At("2025-04-01T09:00");
  sim.Ok(Cmd(CT::kApprove, "A4", "D1"));
  Check(sim, "A4", {.state = "suspended", .deadline = "null", .light = "null", .pending = "null"});
  CHECK(sim.State("A4").remaining == std::chrono::hours(28));

  // Case 2: one working day; verification fails and the unit gets a fresh working day at once.
  sim.At("2025-04-01T15:40");
  sim.Ok(Report("A2", E, "0102", kInspector, "620102001001002", "I1"));
  sim.At("2025-04-01T15:50");
  sim.Ok(Cmd(CT::kRegister, "A2", "L1"));
  sim.At("2025-04-01T16:00");
  sim.Ok(Cmd(CT::kDispatch, "A2", "D1"));
  Check(sim, "A2", {.unit = "STREET", .deadline = "2025-04-02T16:00:00+08:00"});
  sim.At("2025-04-01T16:10");
  sim.Ok(Cmd(CT::kAccept, "A2", "STREET"));

  // Case 3 asks for two more working days before its deadline; approved, they skip the holiday and the
  // weekend.
  sim.At("2025-04-02T10:00");
  sim.Ok(WithReason(WithLimit(Cmd(CT::kExtend, "A3", "POWER"), "2wd"), "replacement lamp on order"));
  Check(sim, "A3", {.deadline = "2025-04-03T14:00:00+08:00", .pending = "extend"});
  sim.At("2025-04-02T11:00");
  sim.Ok(Cmd(CT::kApprove, "A3", "D1"));
  Check(sim, "A3", {.deadline = "2025-04-08T14:00:00+08:00", .pending = "null", .extensions = 1});

  sim.At("2025-04-02T11:05");
  sim.Ok(Note(Cmd(CT::kFeedback, "A2", "STREET"), "swept"));
  sim.At("2025-04-02T11:40");
  sim.Ok(Note(Verify("A2", false, "I1"), "garbage still there"));
  Check(sim, "A2",
        {.state = "dispatched",
         .unit = "STREET",
         .deadline = "2025-04-03T11:40:00+08:00",
         .on_time = "null",
         .reworks = 1,
         .dispatches = 2});

  // The fresh task's traffic light: green up to 80 % of 7 working hours, yellow to 100 %, red after.
  sim.At("2025-04-03T10:00");
  Check(sim, "A2", {.light = "green", .overdue = false});
  sim.At("2025-04-03T10:30");
  Check(sim, "A2", {.light = "yellow", .overdue = false});
  sim.At("2025-04-03T11:45");
  Check(sim, "A2", {.light = "red", .overdue = true});
  sim.Ok(Cmd(CT::kAccept, "A2", "STREET"));
  sim.At("2025-04-03T12:10");
  sim.Ok(Note(Cmd(CT::kFeedback, "A2", "STREET"), "swept again"));
  Check(sim, "A2", {.state = "awaiting_verification", .on_time = "false"});
  sim.At("2025-04-03T13:30");
  sim.Ok(Verify("A2", true, "I1"));
  Check(sim, "A2", {.state = "closed", .on_time = "false", .reworks = 1});

  // Case 5: an emergency counts natural hours, through the night and the weekend.
  sim.At("2025-04-05T22:10");
  sim.Ok(Report("A5", E, "0401", ReportSource::kHotline, "620102001001005", "R1", /*emergency=*/true));
  sim.At("2025-04-05T22:15");
  sim.Ok(Cmd(CT::kRegister, "A5", "L1"));
  sim.At("2025-04-05T22:20");
  sim.Ok(Cmd(CT::kDispatch, "A5", "D1"));
  Check(sim, "A5", {.unit = "BUILD", .deadline = "2025-04-06T00:20:00+08:00"});
  sim.At("2025-04-06T00:30");
  Check(sim, "A5", {.light = "red", .overdue = true});

  // Case 4 resumes: 28 working hours remain.
  sim.At("2025-04-14T09:00");
  sim.Ok(Cmd(CT::kResume, "A4", "D1"));
  Check(sim, "A4", {.state = "handling", .deadline = "2025-04-17T17:00:00+08:00"});
}
