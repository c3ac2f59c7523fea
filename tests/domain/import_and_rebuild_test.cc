// Dispatch with an explicit deadline or none (imported history), and rebuild:
// replaying a case's events into a fresh CaseState gives the live state, for
// random command sequences.
#include <doctest/doctest.h>

#include <random>

#include "domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {
constexpr auto C = CaseKind::kComponent;
using CT = CommandType;

void ToRegistered(Sim& sim, const std::string& id) {
  sim.Ok(Report(id, C, "0101", ReportSource::kHotline, "620102001001001", "R1"));
  sim.Ok(Cmd(CT::kRegister, id, "L1"));
}
}  // namespace

TEST_CASE("dispatch with an explicit deadline (imported history)") {
  Sim sim(WorkedConfig());
  sim.At("2025-03-31T10:00");
  ToRegistered(sim, "N1");
  Command d = Cmd(CT::kDispatch, "N1", "D1");
  d.deadline = T("2025-04-02T10:00");
  sim.Ok(d);
  const CaseEvent& e = sim.LastEvents().at(0);
  CHECK(e.type == EventType::kCaseDispatched);
  CHECK(!e.limit);
  CHECK(Fmt(e.deadline) == "2025-04-02T10:00:00+08:00");
  const CaseState& s = sim.State("N1");
  CHECK(s.clock == TimeLimit::Unit::kNatural);
  CHECK(s.task_length == std::chrono::hours(48));
  CHECK(!s.no_deadline);
  CaseView v = sim.View("N1");
  CHECK(Fmt(v.deadline) == "2025-04-02T10:00:00+08:00");
  CHECK(v.light == Light::kGreen);
  sim.At("2025-04-02T00:00");  // 38 of 48 natural hours: 79 %
  CHECK(sim.View("N1").light == Light::kGreen);
  sim.At("2025-04-02T01:00");
  CHECK(sim.View("N1").light == Light::kYellow);
  sim.At("2025-04-02T10:00:01");
  CHECK(sim.View("N1").overdue);
  sim.Ok(Cmd(CT::kAccept, "N1", "WATER"));
  sim.Ok(Cmd(CT::kFeedback, "N1", "WATER"));
  CHECK(sim.View("N1").on_time == false);

  // Only dispatchers may use it, like any dispatch.
  ToRegistered(sim, "N2");
  Command by_leader = d;
  by_leader.case_id = "N2";
  by_leader.actor = "L1";
  CHECK(sim.Run(by_leader).IsRejected());
}

TEST_CASE("dispatch without a deadline (imported history)") {
  Sim sim(WorkedConfig());
  sim.At("2025-03-31T10:00");
  ToRegistered(sim, "N3");
  Command d = Cmd(CT::kDispatch, "N3", "D1");
  d.no_deadline = true;
  Command by_receiver = d;
  by_receiver.actor = "R1";
  CHECK(sim.Run(by_receiver).message() == "actor R1 may not 'dispatch' case N3: not a dispatcher");
  sim.Ok(d);
  const CaseEvent& e = sim.LastEvents().at(0);
  CHECK(!e.deadline);
  CHECK(!e.limit);
  CHECK(e.task == 1);
  CHECK(sim.State("N3").no_deadline);
  sim.At("2026-01-01T00:00");
  CaseView v = sim.View("N3");
  CHECK(v.unit == "WATER");
  CHECK(!v.deadline);
  CHECK(!v.light);
  CHECK(!v.overdue);
  Command m = Cmd(CT::kMarkOverdue, "N3", "$timer");
  m.task = 1;
  CHECK(sim.Run(m).message() == "mark_overdue N3: task 1 has no deadline");
  sim.Ok(Cmd(CT::kAccept, "N3", "WATER"));
  CHECK(sim.Run(WithReason(WithLimit(Cmd(CT::kExtend, "N3", "WATER"), "1wd"), "r")).message() ==
        "extend N3: the task has no deadline to extend");
  sim.Ok(WithReason(Cmd(CT::kSuspend, "N3", "WATER"), "r"));
  sim.Ok(Cmd(CT::kApprove, "N3", "D1"));
  sim.Ok(Cmd(CT::kResume, "N3", "D1"));
  CHECK(!sim.LastEvents().at(0).deadline);
  CHECK(!sim.View("N3").deadline);
  sim.Ok(Cmd(CT::kFeedback, "N3", "WATER"));
  CHECK(sim.View("N3").on_time == true);
  // A failed verification keeps the task without a deadline.
  sim.Ok(Verify("N3", false, "I1"));
  CHECK(!sim.State("N3").deadline);
  CHECK(sim.State("N3").no_deadline);
  CHECK(sim.State("N3").task == 2);
  CHECK(!sim.View("N3").light);
}

TEST_CASE("policy rework_fresh_limit = false keeps the previous deadline") {
  Sim sim(WorkedConfig());
  sim.config().policy.rework_fresh_limit = false;
  sim.At("2025-03-31T10:00");
  ToRegistered(sim, "P1");
  sim.Ok(Cmd(CT::kDispatch, "P1", "D1"));  // 4wh -> 15:00
  sim.Ok(Cmd(CT::kAccept, "P1", "WATER"));
  sim.At("2025-03-31T11:00");
  sim.Ok(Cmd(CT::kFeedback, "P1", "WATER"));
  sim.Ok(Verify("P1", false, "I1"));
  const CaseState& s = sim.State("P1");
  CHECK(Fmt(s.deadline) == "2025-03-31T15:00:00+08:00");
  CHECK(s.task == 2);
  CHECK(s.reworks == 1);
  CHECK(s.dispatches == 2);
  CHECK(s.task_start == T("2025-03-31T10:00"));
  CHECK(!s.on_time);
}

namespace {

// Compares every field of two case states.
void CheckEqual(const CaseState& a, const CaseState& b) {
  CHECK(a.id == b.id);
  CHECK(a.state == b.state);
  CHECK(a.pending == b.pending);
  CHECK(a.pending_limit == b.pending_limit);
  CHECK(a.pending_actor == b.pending_actor);
  CHECK(a.kind == b.kind);
  CHECK(a.category == b.category);
  CHECK(a.source == b.source);
  CHECK(a.grid == b.grid);
  CHECK(a.component == b.component);
  CHECK(a.emergency == b.emergency);
  CHECK(a.reporter == b.reporter);
  CHECK(a.reported_at == b.reported_at);
  CHECK(a.unit == b.unit);
  CHECK(a.task == b.task);
  CHECK(a.task_start == b.task_start);
  CHECK(a.task_limit == b.task_limit);
  CHECK(a.clock == b.clock);
  CHECK(a.task_length == b.task_length);
  CHECK(a.deadline == b.deadline);
  CHECK(a.remaining == b.remaining);
  CHECK(a.overdue_marked == b.overdue_marked);
  CHECK(a.no_deadline == b.no_deadline);
  CHECK(a.feedback_time == b.feedback_time);
  CHECK(a.on_time == b.on_time);
  CHECK(a.verifier == b.verifier);
  CHECK(a.verify_deadline == b.verify_deadline);
  CHECK(a.dispatches == b.dispatches);
  CHECK(a.reworks == b.reworks);
  CHECK(a.extensions == b.extensions);
  CHECK(a.supervisions == b.supervisions);
  CHECK(a.merged_into == b.merged_into);
  CHECK(a.version == b.version);
  CHECK(a.last_event_time == b.last_event_time);
}

// A random command for case `id`, with a plausible actor most of the time.
Command RandomCommand(std::mt19937& rng, const std::string& id, const CaseState& s) {
  auto pick = [&rng](std::initializer_list<const char*> xs) {
    std::uniform_int_distribution<std::size_t> d(0, xs.size() - 1);
    return std::string(*(xs.begin() + d(rng)));
  };
  std::uniform_int_distribution<int> type_d(0, kCommandTypeCount - 1);
  CT type = static_cast<CT>(type_d(rng));
  // Terminal commands end a sequence early: draw them less often.
  while ((type == CT::kVoid || type == CT::kReject || type == CT::kMerge) && rng() % 5 != 0) {
    type = static_cast<CT>(type_d(rng));
  }
  Command c = Cmd(type, id, "");
  const std::string unit = s.unit.empty() ? "WATER" : s.unit;
  switch (c.type) {
    case CT::kReport:
      c.kind = rng() % 2 ? CaseKind::kComponent : CaseKind::kEvent;
      c.category =
          c.kind == CaseKind::kComponent ? pick({"0101", "0109"}) : pick({"0102", "0301", "0401", "0501"});
      c.source = rng() % 2 ? ReportSource::kInspector : ReportSource::kHotline;
      c.actor = *c.source == ReportSource::kInspector ? "I1" : "R1";
      c.grid = rng() % 3 ? "620102001001001" : "";
      c.emergency = rng() % 4 == 0;
      break;
    case CT::kRegister:
    case CT::kVoid:
      c.actor = "L1";
      break;
    case CT::kReject:
    case CT::kMerge:
      c.actor = pick({"R1", "L1"});
      c.into = pick({"R0", "R1", "R2"});
      break;
    case CT::kDispatch:
      c.actor = "D1";
      switch (rng() % 6) {
        case 0:
          c.unit = pick({"WATER", "POWER", "STREET"});
          break;
        case 1:
          c.limit = pick({"2h", "3wh"}) == "2h" ? TimeLimit::NaturalHours(2) : TimeLimit::WorkingHours(3);
          break;
        case 2:
          c.no_deadline = true;
          break;
        case 3:
          c.deadline = InstantFromMicros(MicrosOf(s.last_event_time) + 36LL * 3600 * 1000000);
          break;
        default:
          break;
      }
      break;
    case CT::kApprove:
    case CT::kDeny:
    case CT::kResume:
      c.actor = "D1";
      break;
    case CT::kAccept:
    case CT::kReturn:
    case CT::kExtend:
    case CT::kSuspend:
    case CT::kFeedback:
      c.actor = rng() % 8 ? unit : "POWER";
      if (c.type == CT::kExtend) c.limit = rng() % 2 ? TimeLimit::WorkingDays(1) : TimeLimit::NaturalHours(5);
      break;
    case CT::kVerify:
      c.actor = "I1";
      c.verify_pass = rng() % 2 == 0;
      break;
    case CT::kSupervise:
      c.actor = "S1";
      break;
    case CT::kMarkOverdue:
      c.actor = "$timer";
      c.task = s.task;
      break;
  }
  if (rng() % 5) c.reason = "because";
  if (rng() % 3) c.note = "note";
  return c;
}

}  // namespace

TEST_CASE("rebuild: replaying the appended events gives the live state (random sequences)") {
  Config config = WorkedConfig();
  REQUIRE(ApplyConfigChange(config, StaffChange("S1", {Role::kSupervisor})).ok());
  // A category without a route: dispatch sends it to coordination.
  REQUIRE(ApplyConfigChange(config, CategoryChange(CaseKind::kEvent, "0501", "无证经营", "2wh")).ok());
  std::mt19937 rng(20250331);
  int applied = 0, refused = 0;
  int seen[kEventTypeCount] = {};
  for (int round = 0; round < 100; ++round) {
    Sim sim(config);
    Instant now = T("2025-03-28T08:00");
    const std::string ids[] = {"R0", "R1", "R2"};
    for (int step = 0; step < 60; ++step) {
      now += std::chrono::minutes(std::uniform_int_distribution<int>(0, 300)(rng));
      sim.At(FormatInstant(now, 480));
      const std::string& id = ids[rng() % 3];
      // Try random commands until one is accepted (most are refused: wrong
      // state, actor or fields), at most 20 per step.
      for (int attempt = 0; attempt < 20; ++attempt) {
        Command c = RandomCommand(rng, id, sim.State(id));
        if (sim.Run(c).ok()) {
          ++applied;
          break;
        }
        ++refused;
      }
      // The view never misbehaves, whatever the state.
      CaseView v = sim.View(id);
      if (v.light) CHECK(v.deadline.has_value());
      if (v.overdue) CHECK(v.light == Light::kRed);
    }
    for (const std::string& id : ids) {
      if (!sim.cases().count(id)) continue;
      for (const CaseEvent& e : sim.Log(id)) ++seen[static_cast<int>(e.type)];
      // Replay through the codec into a fresh state.
      CaseState rebuilt;
      for (const CaseEvent& e : sim.Log(id)) {
        NewEvent n = EncodeCaseEvent(e);
        EventRecord r;
        r.stream = id;
        r.type = n.type;
        r.schema_version = n.schema_version;
        r.recorded_us = n.recorded_us;
        r.actor = n.actor;
        r.payload = n.payload;
        auto decoded = DecodeCaseEvent(r);
        REQUIRE(decoded.ok());
        Status s = Evolve(rebuilt, *decoded, config);
        REQUIRE_MESSAGE(s.ok(), s.ToString());
      }
      CheckEqual(rebuilt, sim.State(id));
    }
  }
  // The generator must actually exercise the lifecycle.
  CHECK(applied > 1500);
  CHECK(refused > 1000);
  for (int i = 0; i < kEventTypeCount; ++i) {
    INFO(Name(static_cast<EventType>(i)), " ", seen[i]);
    CHECK(seen[i] >= 5);
  }
}

TEST_CASE("Evolve refuses an event the lifecycle does not allow") {
  Config config = WorkedConfig();
  CaseState s;
  CaseEvent accepted;
  accepted.type = EventType::kCaseAccepted;
  accepted.case_id = "Z1";
  Status st = Evolve(s, accepted, config);
  CHECK(st.IsCorruption());
  CHECK(st.message() == "case Z1 is none: event 'case_accepted' at version 1 is not allowed");
  CHECK(s.version == 0);
  CaseEvent bad;
  bad.type = static_cast<EventType>(99);
  CHECK(Evolve(s, bad, config).IsCorruption());
}
