// Decide: every refusal path with its code and message, permissions, and the
// details of each command's events.
#include <doctest/doctest.h>

#include "domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {

constexpr auto C = CaseKind::kComponent;
constexpr auto E = CaseKind::kEvent;
using CT = CommandType;

// A worked.cl configuration plus a second inspector, a supervisor and a
// shift leader who is also a receiver.
Sim MakeSim() {
  Config config = WorkedConfig();
  for (const ConfigChange& c : {InspectorChange("I2", "620102009"), StaffChange("S1", {Role::kSupervisor}),
                                StaffChange("L2", {Role::kShiftLeader, Role::kReceiver})}) {
    REQUIRE(ApplyConfigChange(config, c).ok());
  }
  Sim sim(std::move(config));
  sim.At("2025-03-31T10:00");
  return sim;
}

// Brings case `id` (component 0101, routed to WATER) to `target`.
void Bring(Sim& sim, const std::string& id, LifecycleState target) {
  sim.Ok(Report(id, C, "0101", ReportSource::kInspector, "620102001001001", "I1"));
  if (target == LifecycleState::kReported) return;
  sim.Ok(Cmd(CT::kRegister, id, "L1"));
  if (target == LifecycleState::kRegistered) return;
  sim.Ok(Cmd(CT::kDispatch, id, "D1"));
  if (target == LifecycleState::kDispatched) return;
  sim.Ok(Cmd(CT::kAccept, id, "WATER"));
  if (target == LifecycleState::kHandling) return;
  if (target == LifecycleState::kSuspended) {
    sim.Ok(WithReason(Cmd(CT::kSuspend, id, "WATER"), "permit"));
    sim.Ok(Cmd(CT::kApprove, id, "D1"));
    return;
  }
  sim.Ok(Cmd(CT::kFeedback, id, "WATER"));
  if (target == LifecycleState::kAwaitingVerification) return;
  sim.Ok(Verify(id, true, "I1"));
  REQUIRE(target == LifecycleState::kClosed);
}

void CheckError(Sim& sim, const Command& cmd, StatusCode code, const std::string& message) {
  const std::uint64_t version = sim.State(cmd.case_id).version;
  Status s = sim.Run(cmd);
  INFO(Name(cmd.type), " ", cmd.case_id, " by ", cmd.actor);
  CHECK(s.code() == code);
  CHECK(s.message() == message);
  if (version > 0) CHECK(sim.State(cmd.case_id).version == version);  // nothing applied
}

}  // namespace

TEST_CASE("existence: report twice is a conflict, anything on a missing case is not found") {
  Sim sim = MakeSim();
  Bring(sim, "C1", LifecycleState::kReported);
  CheckError(sim, Report("C1", C, "0101", ReportSource::kInspector, "", "I1"), StatusCode::kConflict,
             "case C1 already exists");
  for (CT t : {CT::kRegister, CT::kDispatch, CT::kAccept, CT::kApprove, CT::kVerify, CT::kMarkOverdue}) {
    CheckError(sim, Cmd(t, "C9", "D1"), StatusCode::kNotFound, "unknown case C9");
  }
  CheckError(sim, Cmd(CT::kRegister, "", "L1"), StatusCode::kInvalidArgument, "register: case id is empty");
  CheckError(sim, Report("$config", C, "0101", ReportSource::kInspector, "", "I1"),
             StatusCode::kInvalidArgument, "report: case id '$config': ids starting with '$' are reserved");
  CheckError(sim, Report("C 2", C, "0101", ReportSource::kInspector, "", "I1"), StatusCode::kInvalidArgument,
             "report: case id 'C 2': contains a space or control character");
}

TEST_CASE("lifecycle refusals name the case, its state and the command") {
  Sim sim = MakeSim();
  Bring(sim, "C7", LifecycleState::kAwaitingVerification);
  CheckError(sim, Cmd(CT::kAccept, "C7", "WATER"), StatusCode::kRejected,
             "case C7 is awaiting_verification: 'accept' is not allowed");
  CheckError(sim, Cmd(CT::kDispatch, "C7", "D1"), StatusCode::kRejected,
             "case C7 is awaiting_verification: 'dispatch' is not allowed");
  CheckError(sim, Cmd(CT::kApprove, "C7", "D1"), StatusCode::kRejected,
             "case C7 is awaiting_verification: 'approve' is not allowed (no pending request)");

  Bring(sim, "C8", LifecycleState::kHandling);
  CheckError(sim, Cmd(CT::kApprove, "C8", "D1"), StatusCode::kRejected,
             "case C8 is handling: 'approve' is not allowed (no pending request)");
  CheckError(sim, WithReason(Cmd(CT::kDeny, "C8", "D1"), "no"), StatusCode::kRejected,
             "case C8 is handling: 'deny' is not allowed (no pending request)");
  sim.Ok(WithReason(Cmd(CT::kReturn, "C8", "WATER"), "not ours"));
  CheckError(sim, WithReason(WithLimit(Cmd(CT::kExtend, "C8", "WATER"), "1wd"), "more"),
             StatusCode::kRejected,
             "case C8 is handling: 'extend' is not allowed (a return request is pending)");
  CheckError(sim, Cmd(CT::kFeedback, "C8", "WATER"), StatusCode::kRejected,
             "case C8 is handling: 'feedback' is not allowed (a return request is pending)");
  CheckError(sim, Cmd(CT::kResume, "C8", "D1"), StatusCode::kRejected,
             "case C8 is handling: 'resume' is not allowed");

  Bring(sim, "C9", LifecycleState::kClosed);
  CheckError(sim, WithReason(Cmd(CT::kVoid, "C9", "L1"), "dup"), StatusCode::kRejected,
             "case C9 is closed: 'void' is not allowed");
  CheckError(sim, Cmd(CT::kSupervise, "C9", "S1"), StatusCode::kRejected,
             "case C9 is closed: 'supervise' is not allowed");

  Bring(sim, "C10", LifecycleState::kReported);
  CheckError(sim, Cmd(CT::kDispatch, "C10", "D1"), StatusCode::kRejected,
             "case C10 is reported: 'dispatch' is not allowed");
  CheckError(sim, Verify("C10", true, "I1"), StatusCode::kRejected,
             "case C10 is reported: 'verify' is not allowed");
}

TEST_CASE("required fields") {
  Sim sim = MakeSim();
  Command r = Report("C1", C, "0101", ReportSource::kInspector, "", "I1");
  Command no_kind = r;
  no_kind.kind.reset();
  CheckError(sim, no_kind, StatusCode::kInvalidArgument, "report C1: missing kind");
  Command no_cat = r;
  no_cat.category = "";
  CheckError(sim, no_cat, StatusCode::kInvalidArgument, "report C1: missing category");
  Command no_source = r;
  no_source.source.reset();
  CheckError(sim, no_source, StatusCode::kInvalidArgument, "report C1: missing source");
  Command unknown_cat = r;
  unknown_cat.kind = E;
  unknown_cat.category = "0999";
  CheckError(sim, unknown_cat, StatusCode::kNotFound, "unknown category event 0999");
  Command bad_cat = r;
  bad_cat.category = "01a";
  CheckError(sim, bad_cat, StatusCode::kInvalidArgument, "report C1: category '01a' must be 4 digits");
  Command bad_grid = r;
  bad_grid.grid = "62010200100100";
  CheckError(sim, bad_grid, StatusCode::kInvalidArgument,
             "report C1: grid '62010200100100' must be 15 digits");
  Command bad_component = r;
  bad_component.component = "62010201x1000001";
  CheckError(sim, bad_component, StatusCode::kInvalidArgument,
             "report C1: component '62010201x1000001' must be 16 digits");
  Command bad_lat = r;
  bad_lat.lat = 91;
  CheckError(sim, bad_lat, StatusCode::kInvalidArgument, "report C1: lat must be within -90..90");
  Command bad_kind = r;
  bad_kind.kind = static_cast<CaseKind>(7);
  CheckError(sim, bad_kind, StatusCode::kInvalidArgument, "report C1: unknown kind 7");
  Command bad_source = r;
  bad_source.source = static_cast<ReportSource>(9);
  bad_source.actor = "R1";
  CheckError(sim, bad_source, StatusCode::kInvalidArgument, "report C1: unknown source 9");
  CHECK(sim.cases().count("C1") == 0);

  Bring(sim, "C1", LifecycleState::kReported);
  Command reg = Cmd(CT::kRegister, "C1", "L1");
  reg.category = "0102";
  CheckError(sim, reg, StatusCode::kNotFound, "unknown category component 0102");
  CheckError(sim, Cmd(CT::kReject, "C1", "R1"), StatusCode::kInvalidArgument, "reject C1: missing reason");
  CheckError(sim, Cmd(CT::kMerge, "C1", "R1"), StatusCode::kInvalidArgument, "merge C1: missing into");
  Command merge = Cmd(CT::kMerge, "C1", "R1");
  merge.into = "C1";
  CheckError(sim, merge, StatusCode::kInvalidArgument, "merge C1: a case cannot be merged into itself");
  merge.into = "C404";
  CheckError(sim, merge, StatusCode::kNotFound, "unknown case C404");
  CheckError(sim, Cmd(CT::kVoid, "C1", "L1"), StatusCode::kInvalidArgument, "void C1: missing reason");

  Bring(sim, "C2", LifecycleState::kRegistered);
  Command named = Cmd(CT::kDispatch, "C2", "D1");
  named.unit = "X";
  CheckError(sim, named, StatusCode::kNotFound, "unknown unit X");
  Command both = WithLimit(Cmd(CT::kDispatch, "C2", "D1"), "1wd");
  both.no_deadline = true;
  CheckError(sim, both, StatusCode::kInvalidArgument,
             "dispatch C2: give at most one of limit, deadline and no_deadline");
  Command zero = Cmd(CT::kDispatch, "C2", "D1");
  zero.limit = TimeLimit::WorkingHours(0);
  CheckError(sim, zero, StatusCode::kInvalidArgument, "dispatch C2: limit: time limit must be positive");
  zero.limit = TimeLimit::WorkingDays(5000);
  CheckError(sim, zero, StatusCode::kInvalidArgument, "dispatch C2: limit: time limit longer than ten years");
  zero.limit = TimeLimit{static_cast<TimeLimit::Unit>(5), 10};
  CheckError(sim, zero, StatusCode::kInvalidArgument, "dispatch C2: limit: unknown time limit unit");
  sim.Ok(Cmd(CT::kDispatch, "C2", "D1"));
  CheckError(sim, Cmd(CT::kReturn, "C2", "WATER"), StatusCode::kInvalidArgument, "return C2: missing reason");
  sim.Ok(Cmd(CT::kAccept, "C2", "WATER"));
  CheckError(sim, WithReason(Cmd(CT::kExtend, "C2", "WATER"), "r"), StatusCode::kInvalidArgument,
             "extend C2: missing limit");
  CheckError(sim, WithLimit(Cmd(CT::kExtend, "C2", "WATER"), "1wd"), StatusCode::kInvalidArgument,
             "extend C2: missing reason");
  CheckError(sim, Cmd(CT::kSuspend, "C2", "WATER"), StatusCode::kInvalidArgument,
             "suspend C2: missing reason");
  sim.Ok(WithReason(Cmd(CT::kSuspend, "C2", "WATER"), "permit"));
  CheckError(sim, Cmd(CT::kDeny, "C2", "D1"), StatusCode::kInvalidArgument, "deny C2: missing reason");
  sim.Ok(WithReason(Cmd(CT::kDeny, "C2", "D1"), "no"));
  sim.Ok(Cmd(CT::kFeedback, "C2", "WATER"));
  CheckError(sim, Cmd(CT::kVerify, "C2", "I1"), StatusCode::kInvalidArgument, "verify C2: missing result");
}

TEST_CASE("a command may not go back in time") {
  Sim sim = MakeSim();
  Bring(sim, "C1", LifecycleState::kReported);
  sim.At("2025-03-31T09:59");
  CheckError(sim, Cmd(CT::kRegister, "C1", "L1"), StatusCode::kInvalidArgument,
             "register C1: time 2025-03-31T09:59:00+08:00 is before the case's last event at "
             "2025-03-31T10:00:00+08:00");
}

TEST_CASE("permissions") {
  Sim sim = MakeSim();
  SUBCASE("unknown and missing actors") {
    CheckError(sim, Report("C1", C, "0101", ReportSource::kInspector, "", "X"), StatusCode::kNotFound,
               "unknown actor X");
    CheckError(sim, Report("C1", C, "0101", ReportSource::kInspector, "", ""), StatusCode::kInvalidArgument,
               "report C1: missing actor");
  }
  SUBCASE("report: inspectors with source inspector, receivers with the other sources") {
    CheckError(sim, Report("C1", C, "0101", ReportSource::kInspector, "", "R1"), StatusCode::kRejected,
               "actor R1 may not 'report' case C1: source inspector requires an inspector");
    CheckError(sim, Report("C1", C, "0101", ReportSource::kHotline, "", "I1"), StatusCode::kRejected,
               "actor I1 may not 'report' case C1: source hotline is entered by a receiver (an inspector "
               "reports with source inspector)");
    CheckError(sim, Report("C1", C, "0101", ReportSource::kVideo, "", "D1"), StatusCode::kRejected,
               "actor D1 may not 'report' case C1: source video is entered by a receiver");
    sim.Ok(Report("C1", C, "0101", ReportSource::kCitizen, "", "R1"));
    sim.Ok(Report("C2", C, "0101", ReportSource::kGrid, "", "L2"));
  }
  SUBCASE("centre roles") {
    Bring(sim, "C1", LifecycleState::kReported);
    CheckError(sim, Cmd(CT::kRegister, "C1", "R1"), StatusCode::kRejected,
               "actor R1 may not 'register' case C1: not a shift_leader");
    CheckError(sim, WithReason(Cmd(CT::kReject, "C1", "D1"), "x"), StatusCode::kRejected,
               "actor D1 may not 'reject' case C1: not a receiver or shift_leader");
    CheckError(sim, WithReason(Cmd(CT::kVoid, "C1", "R1"), "x"), StatusCode::kRejected,
               "actor R1 may not 'void' case C1: not a shift_leader");
    sim.Ok(Cmd(CT::kRegister, "C1", "L1"));
    CheckError(sim, Cmd(CT::kDispatch, "C1", "L1"), StatusCode::kRejected,
               "actor L1 may not 'dispatch' case C1: not a dispatcher");
    CheckError(sim, Cmd(CT::kDispatch, "C1", "WATER"), StatusCode::kRejected,
               "actor WATER may not 'dispatch' case C1: not a dispatcher");
    sim.Ok(Cmd(CT::kDispatch, "C1", "D1"));
    CheckError(sim, Cmd(CT::kSupervise, "C1", "D1"), StatusCode::kRejected,
               "actor D1 may not 'supervise' case C1: not a supervisor");
    sim.Ok(Cmd(CT::kSupervise, "C1", "S1"));
    CHECK(sim.State("C1").supervisions == 1);
    sim.Ok(WithReason(Cmd(CT::kReturn, "C1", "WATER"), "not ours"));
    CheckError(sim, Cmd(CT::kApprove, "C1", "WATER"), StatusCode::kRejected,
               "actor WATER may not 'approve' case C1: not a dispatcher");
    CheckError(sim, WithReason(Cmd(CT::kDeny, "C1", "R1"), "no"), StatusCode::kRejected,
               "actor R1 may not 'deny' case C1: not a dispatcher");
  }
  SUBCASE("a unit acts only on a case dispatched to it") {
    Bring(sim, "A1", LifecycleState::kDispatched);
    CheckError(sim, Cmd(CT::kAccept, "A1", "POWER"), StatusCode::kRejected,
               "unit POWER may not 'accept' case A1: it is dispatched to WATER");
    CheckError(sim, Cmd(CT::kAccept, "A1", "D1"), StatusCode::kRejected,
               "actor D1 may not 'accept' case A1: it is dispatched to WATER");
    sim.Ok(Cmd(CT::kAccept, "A1", "WATER"));
    CheckError(sim, Cmd(CT::kFeedback, "A1", "POWER"), StatusCode::kRejected,
               "unit POWER may not 'feedback' case A1: it is dispatched to WATER");
    CheckError(sim, WithReason(Cmd(CT::kSuspend, "A1", "STREET"), "x"), StatusCode::kRejected,
               "unit STREET may not 'suspend' case A1: it is dispatched to WATER");
  }
  SUBCASE("verification: an inspector, the assigned one when there is one") {
    Bring(sim, "A1", LifecycleState::kAwaitingVerification);
    CHECK(sim.State("A1").verifier == "I1");  // the reporting inspector
    CheckError(sim, Verify("A1", true, "I2"), StatusCode::kRejected,
               "inspector I2 may not verify case A1: assigned to I1");
    CheckError(sim, Verify("A1", true, "D1"), StatusCode::kRejected,
               "actor D1 may not 'verify' case A1: not an inspector");
    sim.Ok(Verify("A1", true, "I1"));
  }
  SUBCASE("verifier: by grid when a receiver reported, any inspector when no grid matches") {
    sim.Ok(Report("G1", C, "0101", ReportSource::kHotline, "620102009001001", "R1"));
    sim.Ok(Report("G2", C, "0101", ReportSource::kHotline, "", "R1"));
    sim.Ok(Report("G3", C, "0101", ReportSource::kHotline, "620102001001001", "R1"));
    for (std::string id : {"G1", "G2", "G3"}) {
      sim.Ok(Cmd(CT::kRegister, id, "L1"));
      sim.Ok(Cmd(CT::kDispatch, id, "D1"));
      sim.Ok(Cmd(CT::kAccept, id, "WATER"));
      sim.Ok(Cmd(CT::kFeedback, id, "WATER"));
    }
    // G1's grid is patrolled by I1 (620102) and I2 (620102009): the most
    // specific patrol area wins, whatever the ids' order.
    CHECK(sim.State("G1").verifier == "I2");
    CHECK(sim.State("G2").verifier == "");
    CHECK(sim.State("G3").verifier == "I1");
    sim.Ok(Verify("G2", true, "I2"));  // any inspector
    CheckError(sim, Verify("G1", true, "I1"), StatusCode::kRejected,
               "inspector I1 may not verify case G1: assigned to I2");
  }
  SUBCASE("mark_overdue: only the timer") {
    Bring(sim, "A1", LifecycleState::kDispatched);
    sim.At("2025-03-31T16:00");
    Command m = Cmd(CT::kMarkOverdue, "A1", "D1");
    m.task = 1;
    CheckError(
        sim, m, StatusCode::kRejected,
        "actor D1 may not 'mark_overdue' case A1: only the deadline timer ($timer) marks a task overdue");
  }
  SUBCASE("policy enforce_permissions = false lets anyone act") {
    sim.config().policy.enforce_permissions = false;
    sim.Ok(Report("C1", C, "0101", ReportSource::kHotline, "", "anyone"));
    sim.Ok(Cmd(CT::kRegister, "C1", "someone"));
    sim.Ok(Cmd(CT::kDispatch, "C1", "x"));
    sim.Ok(Cmd(CT::kAccept, "C1", "POWER"));
  }
}

TEST_CASE("dispatch: routing, coordination, named units, limits") {
  Sim sim = MakeSim();
  const CaseKind kC = C;
  REQUIRE(ApplyConfigChange(sim.config(), CategoryChange(kC, "0201", "路灯", "2wd")).ok());
  REQUIRE(ApplyConfigChange(sim.config(), RouteChange(kC, "0201", "POWER", "620102001")).ok());
  REQUIRE(ApplyConfigChange(sim.config(), RouteChange(kC, "0201", "STREET", "620102001")).ok());
  REQUIRE(ApplyConfigChange(sim.config(), RouteChange(kC, "0201", "WATER", "")).ok());

  SUBCASE("a tie sends the case to coordination; a named dispatch takes it from there") {
    sim.Ok(Report("C1", kC, "0201", ReportSource::kInspector, "620102001001001", "I1"));
    sim.Ok(Cmd(CT::kRegister, "C1", "L1"));
    sim.Ok(Cmd(CT::kDispatch, "C1", "D1"));
    REQUIRE(sim.LastEvents().size() == 1);
    CHECK(sim.LastEvents()[0].type == EventType::kCaseSentToCoordination);
    CaseView v = sim.View("C1");
    CHECK(v.state == LifecycleState::kCoordinating);
    CHECK(!v.unit);
    CHECK(!v.deadline);
    CHECK(!v.light);
    CheckError(sim, Cmd(CT::kDispatch, "C1", "D1"), StatusCode::kRejected,
               "case C1 is coordinating: 'dispatch' is not allowed (routing finds no single unit for "
               "component 0201; name the unit)");
    sim.At("2025-03-31T11:00");
    Command named = Cmd(CT::kDispatch, "C1", "D1");
    named.unit = "POWER";
    sim.Ok(named);
    v = sim.View("C1");
    CHECK(v.state == LifecycleState::kDispatched);
    CHECK(v.unit == "POWER");
    CHECK(Fmt(v.deadline) == "2025-04-02T11:00:00+08:00");
    CHECK(sim.State("C1").task == 1);
    CHECK(v.dispatches == 1);
  }
  SUBCASE("outside the tied prefix the grid-less rule routes") {
    sim.Ok(Report("C2", kC, "0201", ReportSource::kInspector, "620102002001001", "I1"));
    sim.Ok(Cmd(CT::kRegister, "C2", "L1"));
    sim.Ok(WithLimit(Cmd(CT::kDispatch, "C2", "D1"), "3h"));
    const CaseState& s = sim.State("C2");
    CHECK(s.unit == "WATER");
    CHECK(Fmt(s.deadline) == "2025-03-31T13:00:00+08:00");  // natural hours: lunch counts
    CHECK(s.clock == TimeLimit::Unit::kNatural);
    REQUIRE(sim.LastEvents()[0].limit.has_value());
    CHECK(FormatTimeLimit(*sim.LastEvents()[0].limit) == "3h");
  }
  SUBCASE("register may reclassify; the category's emergency limit applies to emergencies") {
    sim.Ok(Report("C3", E, "0102", ReportSource::kHotline, "620102002001001", "R1", true));
    Command reg = Cmd(CT::kRegister, "C3", "L1");
    reg.category = "0401";
    sim.Ok(reg);
    CHECK(sim.State("C3").category == "0401");
    sim.Ok(Cmd(CT::kDispatch, "C3", "D1"));
    CHECK(sim.State("C3").unit == "BUILD");
    CHECK(Fmt(sim.State("C3").deadline) == "2025-03-31T12:00:00+08:00");  // 2h natural
  }
  SUBCASE("return approved: the case leaves the unit and can be dispatched again") {
    Bring(sim, "C4", LifecycleState::kHandling);
    sim.Ok(WithReason(Cmd(CT::kReturn, "C4", "WATER"), "not ours"));
    CHECK(sim.View("C4").pending == PendingRequest::kReturn);
    sim.Ok(Cmd(CT::kApprove, "C4", "D1"));
    CaseView v = sim.View("C4");
    CHECK(v.state == LifecycleState::kRegistered);
    CHECK(!v.unit);
    CHECK(!v.deadline);
    CHECK(sim.State("C4").unit == "");
    CHECK(!sim.State("C4").deadline);
    Command named = Cmd(CT::kDispatch, "C4", "D1");
    named.unit = "STREET";
    sim.Ok(named);
    CHECK(sim.State("C4").task == 2);
    CHECK(sim.View("C4").dispatches == 2);
    CHECK(sim.View("C4").unit == "STREET");
  }
}

TEST_CASE("requests: extension after the deadline, denial, approval") {
  Sim sim = MakeSim();
  Bring(sim, "A1", LifecycleState::kHandling);  // 4wh from Mon 10:00 -> 15:00
  CHECK(Fmt(sim.State("A1").deadline) == "2025-03-31T15:00:00+08:00");
  sim.At("2025-03-31T15:01");
  CheckError(sim, WithReason(WithLimit(Cmd(CT::kExtend, "A1", "WATER"), "1wd"), "late"),
             StatusCode::kRejected,
             "extend A1: a request after the deadline (2025-03-31T15:00:00+08:00) is refused");
  CHECK(sim.State("A1").last_event_time == T("2025-03-31T10:00"));  // the refusal left nothing
  sim.At("2025-03-31T15:00");  // exactly at the deadline is still in time
  sim.Ok(WithReason(WithLimit(Cmd(CT::kExtend, "A1", "WATER"), "1wd"), "r"));
  CheckError(sim, WithReason(Cmd(CT::kSuspend, "A1", "WATER"), "r"), StatusCode::kRejected,
             "case A1 is handling: 'suspend' is not allowed (an extend request is pending)");
  CHECK(sim.State("A1").pending_limit == TimeLimit::WorkingDays(1));
  CHECK(sim.State("A1").pending_actor == "WATER");
  sim.Ok(WithReason(Cmd(CT::kDeny, "A1", "D1"), "no"));
  CHECK(sim.LastEvents()[0].request == PendingRequest::kExtend);
  CHECK(sim.View("A1").pending == PendingRequest::kNone);
  CHECK(sim.View("A1").extensions == 0);
  CHECK(Fmt(sim.State("A1").deadline) == "2025-03-31T15:00:00+08:00");
  sim.Ok(WithReason(WithLimit(Cmd(CT::kExtend, "A1", "WATER"), "3wh"), "r"));
  sim.Ok(Cmd(CT::kApprove, "A1", "D1"));
  CHECK(Fmt(sim.State("A1").deadline) == "2025-04-01T10:00:00+08:00");
  CHECK(sim.State("A1").task_length == std::chrono::hours(7));
  CHECK(sim.View("A1").extensions == 1);
}

TEST_CASE("mark_overdue: current task, passed deadline, once per task") {
  Sim sim = MakeSim();
  Bring(sim, "A1", LifecycleState::kDispatched);  // deadline 15:00
  Command m = Cmd(CT::kMarkOverdue, "A1", "$timer");
  m.task = 1;
  sim.At("2025-03-31T15:00");
  CheckError(sim, m, StatusCode::kRejected,
             "mark_overdue A1: the deadline 2025-03-31T15:00:00+08:00 of task 1 has not passed");
  sim.At("2025-03-31T15:00:01");
  Command wrong = m;
  wrong.task = 2;
  CheckError(sim, wrong, StatusCode::kRejected, "mark_overdue A1: task 2 is not the current task 1");
  sim.Ok(m);
  REQUIRE(sim.LastEvents().size() == 1);
  CHECK(sim.LastEvents()[0].type == EventType::kTaskOverdue);
  CHECK(Fmt(sim.LastEvents()[0].deadline) == "2025-03-31T15:00:00+08:00");
  CHECK(sim.LastEvents()[0].unit == "WATER");
  CHECK(sim.State("A1").overdue_marked);
  CheckError(sim, m, StatusCode::kRejected, "mark_overdue A1: task 1 is already marked overdue");
  CHECK(sim.View("A1").state == LifecycleState::kDispatched);  // overdue is not a state
}

TEST_CASE("void from any open state; supervise only on an open task") {
  for (LifecycleState target :
       {LifecycleState::kReported, LifecycleState::kRegistered, LifecycleState::kDispatched,
        LifecycleState::kHandling, LifecycleState::kSuspended, LifecycleState::kAwaitingVerification}) {
    Sim sim = MakeSim();
    Bring(sim, "V", target);
    INFO("from ", Name(target));
    sim.Ok(WithReason(Cmd(CT::kVoid, "V", "L1"), "duplicate entry"));
    CaseView v = sim.View("V");
    CHECK(v.state == LifecycleState::kVoided);
    CHECK(!v.deadline);
    CHECK(!v.light);
    CHECK(!v.overdue);
    if (target == LifecycleState::kReported || target == LifecycleState::kRegistered) {
      CHECK(!v.unit);  // voided before any dispatch
    } else {
      CHECK(v.unit == "WATER");
    }
  }
}

TEST_CASE("reject and merge") {
  Sim sim = MakeSim();
  Bring(sim, "C1", LifecycleState::kRegistered);
  Bring(sim, "C2", LifecycleState::kReported);
  Command merge = Cmd(CT::kMerge, "C2", "L2");
  merge.into = "C1";
  sim.Ok(merge);
  CaseView v = sim.View("C2");
  CHECK(v.state == LifecycleState::kMerged);
  CHECK(v.merged_into == "C1");
  CHECK(!v.unit);
  Bring(sim, "C3", LifecycleState::kReported);
  merge.case_id = "C3";
  merge.into = "C2";
  CheckError(sim, merge, StatusCode::kRejected, "merge C3: case C2 is merged");
  sim.Ok(WithReason(Cmd(CT::kReject, "C3", "R1"), "not a public-space problem"));
  CHECK(sim.View("C3").state == LifecycleState::kRejected);
  CHECK(!sim.View("C3").merged_into);

  // Without a lookup, Decide checks only that `into` is given and different.
  CaseState s = sim.State("C1");
  Command m2 = Cmd(CT::kMerge, "C9", "R1");
  m2.into = "nowhere";
  CaseState reported;
  REQUIRE(Evolve(reported,
                 Decide(CaseState{}, Report("C9", C, "0101", ReportSource::kHotline, "", "R1"), sim.config(),
                        sim.now())
                     ->at(0),
                 sim.config())
              .ok());
  CHECK(Decide(reported, m2, sim.config(), sim.now()).ok());
}

TEST_CASE("suspension with the clock on natural hours; resume re-arms from the remaining time") {
  Sim sim = MakeSim();
  sim.At("2025-04-05T22:10");
  sim.Ok(Report("A5", E, "0401", ReportSource::kHotline, "620102001001005", "R1", true));
  sim.Ok(Cmd(CT::kRegister, "A5", "L1"));
  sim.Ok(Cmd(CT::kDispatch, "A5", "D1"));  // 2h natural -> 00:10
  sim.Ok(Cmd(CT::kAccept, "A5", "BUILD"));
  sim.At("2025-04-05T23:00");
  sim.Ok(WithReason(Cmd(CT::kSuspend, "A5", "BUILD"), "power cut"));
  sim.Ok(Cmd(CT::kApprove, "A5", "D1"));
  CHECK(sim.State("A5").remaining == std::chrono::minutes(70));
  CHECK(!sim.View("A5").light);
  sim.At("2025-04-06T10:00");
  CHECK(!sim.View("A5").overdue);  // suspended: never overdue
  sim.Ok(Cmd(CT::kResume, "A5", "D1"));
  CHECK(Fmt(sim.State("A5").deadline) == "2025-04-06T11:10:00+08:00");
  CHECK(sim.View("A5").light == Light::kGreen);  // 70 of 120 minutes left
  sim.At("2025-04-06T10:46");
  CHECK(sim.View("A5").light == Light::kGreen);  // 96 of 120 minutes elapsed: exactly 80 %
  sim.At("2025-04-06T10:47");
  CHECK(sim.View("A5").light == Light::kYellow);
  sim.At("2025-04-06T11:10");
  CHECK(sim.View("A5").light == Light::kYellow);
  CHECK(!sim.View("A5").overdue);
  sim.At("2025-04-06T11:10:01");
  CHECK(sim.View("A5").light == Light::kRed);
  CHECK(sim.View("A5").overdue);
}

TEST_CASE("the deadline timer: dated at the deadline even after later events; automatic supervision") {
  Sim sim = MakeSim();
  Bring(sim, "A1", LifecycleState::kDispatched);  // deadline 15:00
  sim.At("2025-03-31T16:00");
  sim.Ok(Cmd(CT::kAccept, "A1", "WATER"));  // accepted late, before the timer ran
  sim.At("2025-03-31T15:00:00.000001");     // the timer's command is dated deadline + 1 µs
  Command m = Cmd(CT::kMarkOverdue, "A1", "$timer");
  m.task = 1;
  sim.Ok(m);
  CHECK(sim.State("A1").overdue_marked);
  CHECK(sim.State("A1").last_event_time == T("2025-03-31T16:00"));  // never goes back
  // Anyone else still may not go back in time.
  CHECK(sim.Run(Cmd(CT::kSupervise, "A1", "S1")).IsInvalidArgument());
  sim.Ok(Cmd(CT::kSupervise, "A1", "$timer"));  // automatic supervision
  CHECK(sim.State("A1").supervisions == 1);
  sim.At("2025-03-31T16:30");
  sim.Ok(Cmd(CT::kSupervise, "A1", "S1"));
  CHECK(sim.State("A1").supervisions == 2);
}
