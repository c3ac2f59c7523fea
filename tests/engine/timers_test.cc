// Durable deadline timers: deadline order with the manual clock, exactly once
// across advances and restarts, deadlines that pass while the engine is
// closed, real Asio timers with the system clock.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <mutex>
#include <thread>

#include "engine_test_util.h"

namespace caseloop::test {
namespace {

std::vector<LoggedEvent> AllOverdue(Engine& e) {
  Result<std::vector<LoggedEvent>> log = e.ReadLog(1, SIZE_MAX);
  REQUIRE(log.ok());
  std::vector<LoggedEvent> out;
  for (const LoggedEvent& le : *log)
    if (le.event && le.event->type == EventType::kTaskOverdue) out.push_back(le);
  return out;
}

TEST_CASE("manual clock: timers fire in deadline order, stepping the clock") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T09:00")));
  ConfigureDistrict(*e);
  // Dispatched in reverse deadline order: 3 wd (A, Wed 17:00), 1 wd (B, Mon 17:00), 4 wh (C, Mon 14:00).
  MustSubmit(*e, Report("A", CaseKind::kComponent, "0109"));
  MustSubmit(*e, Cmd(CommandType::kRegister, "A", "L1"));
  MustSubmit(*e, Cmd(CommandType::kDispatch, "A", "D1"));
  Command b = Report("B", CaseKind::kEvent, "0102");
  MustSubmit(*e, b);
  MustSubmit(*e, Cmd(CommandType::kRegister, "B", "L1"));
  MustSubmit(*e, Cmd(CommandType::kDispatch, "B", "D1"));
  OpenWaterCase(*e, "C", e->Now());

  // Record the clock each time a task_overdue is delivered to a subscriber.
  std::mutex mu;
  std::vector<std::string> order;
  auto sub = e->Subscribe(e->HeadPosition() + 1, [&](const LoggedEvent& le) {
    if (le.event && le.event->type == EventType::kTaskOverdue) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(le.record.stream);
    }
  });
  REQUIRE(sub.ok());

  // Exactly at C's deadline nothing fires: overdue means after the deadline.
  REQUIRE(e->AdvanceTo(T("2025-03-31T14:00")).ok());
  CHECK(AllOverdue(*e).empty());
  REQUIRE(e->AdvanceTo(T("2025-04-10T00:00")).ok());
  CHECK(e->Now() == T("2025-04-10T00:00"));
  std::vector<LoggedEvent> marks = AllOverdue(*e);
  REQUIRE(marks.size() == 3);
  CHECK(marks[0].record.stream == "C");
  CHECK(marks[1].record.stream == "B");
  CHECK(marks[2].record.stream == "A");
  CHECK(marks[0].record.recorded_us == MicrosOf(T("2025-03-31T14:00")) + 1);
  CHECK(marks[1].record.recorded_us == MicrosOf(T("2025-03-31T17:00")) + 1);
  CHECK(marks[2].record.recorded_us == MicrosOf(T("2025-04-02T17:00")) + 1);
  for (const LoggedEvent& m : marks) {
    CHECK(m.record.actor == "$timer");
    CHECK(m.record.command_id == "overdue/" + m.record.stream + "/1");
  }
  // The subscriber saw them in the same order.
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (order.size() == 3) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*sub)->Cancel();
  CHECK(order == std::vector<std::string>{"C", "B", "A"});
}

TEST_CASE("overdue exactly once: advance twice, reopen, advance") {
  TempDir dir;
  {
    auto e = MustOpen(ManualOptions(T("2025-03-31T10:30"), dir.path()));
    ConfigureDistrict(*e);
    OpenWaterCase(*e, "A1", e->Now());
    REQUIRE(e->AdvanceTo(T("2025-03-31T16:00")).ok());
    REQUIRE(e->AdvanceTo(T("2025-04-01T16:00")).ok());
    CHECK(AllOverdue(*e).size() == 1);
    REQUIRE(e->Close().ok());
  }
  {
    auto e = MustOpen(ManualOptions(T("2025-04-01T16:00"), dir.path()));
    REQUIRE(e->AdvanceTo(T("2025-04-09T16:00")).ok());
    CHECK(AllOverdue(*e).size() == 1);
    // Even a hand-made retry of the timer's command is answered, not repeated.
    Command c = Cmd(CommandType::kMarkOverdue, "A1", "$timer", T("2025-03-31T15:30") + Micros(1));
    c.task = 1;
    c.command_id = "overdue/A1/1";
    Result<CommandAck> r = e->Submit(c);
    REQUIRE(r.ok());
    CHECK(r->duplicate);
    CHECK(AllOverdue(*e).size() == 1);
  }
}

TEST_CASE("a deadline that passes while the engine is closed fires once on reopen, stamped at the deadline") {
  TempDir dir;
  {
    auto e = MustOpen(ManualOptions(T("2025-03-31T10:30"), dir.path()));
    ConfigureDistrict(*e);
    OpenWaterCase(*e, "A1", e->Now());  // deadline 15:30
    OpenWaterCase(*e, "A2", e->Now());
    Command fb = Cmd(CommandType::kFeedback, "A2", "WATER");
    MustSubmit(*e, fb);  // A2 is handled in time: never overdue
    REQUIRE(e->Close().ok());
  }
  for (int round = 0; round < 2; ++round) {
    auto e = MustOpen(ManualOptions(T("2025-04-02T08:00"), dir.path()));
    std::vector<LoggedEvent> marks = AllOverdue(*e);
    REQUIRE(marks.size() == 1);
    CHECK(marks[0].record.stream == "A1");
    CHECK(marks[0].record.recorded_us == MicrosOf(T("2025-03-31T15:30")) + 1);
    CHECK(Fmt(*marks[0].event->deadline) == "2025-03-31T15:30:00+08:00");
    CHECK(e->State("A1")->overdue_marked);
  }
  // The same with the system clock (timers armed for real).
  EngineOptions o;
  o.path = dir.path();
  auto e = MustOpen(o);
  CHECK(AllOverdue(*e).size() == 1);
}

TEST_CASE("a deadline before the case's last event: the mark is stamped at that event") {
  TempDir dir;
  {
    EngineOptions o = ManualOptions(T("2025-03-31T10:30"), dir.path());
    o.timers = false;  // e.g. history imported without timers
    auto e = MustOpen(o);
    ConfigureDistrict(*e);
    OpenWaterCase(*e, "A1", e->Now());  // deadline 15:30
    MustSubmit(*e, Cmd(CommandType::kSupervise, "A1", "S1", T("2025-03-31T16:00")));
  }
  auto e = MustOpen(ManualOptions(T("2025-04-01T09:00"), dir.path()));
  std::vector<LoggedEvent> marks = AllOverdue(*e);
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].record.recorded_us == MicrosOf(T("2025-03-31T16:00")));
  CHECK(Fmt(*marks[0].event->deadline) == "2025-03-31T15:30:00+08:00");
}

TEST_CASE("system clock: an Asio timer fires a near deadline") {
  EngineOptions o;
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  Instant now = e->Now();
  MustSubmit(*e, Report("N1", CaseKind::kComponent, "0101", now));
  MustSubmit(*e, Cmd(CommandType::kRegister, "N1", "L1", now));
  Command d = Cmd(CommandType::kDispatch, "N1", "D1", now);
  Instant deadline = now + std::chrono::milliseconds(300);
  d.deadline = deadline;  // an explicit deadline, as imported history carries
  MustSubmit(*e, d);
  // A later deadline on another case does not delay it.
  MustSubmit(*e, Report("N2", CaseKind::kComponent, "0101", now));
  MustSubmit(*e, Cmd(CommandType::kRegister, "N2", "L1", now));
  Command d2 = Cmd(CommandType::kDispatch, "N2", "D1", now);
  d2.deadline = now + std::chrono::hours(10);
  MustSubmit(*e, d2);

  std::vector<LoggedEvent> marks;
  for (int i = 0; i < 500 && marks.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    marks = EventsOf(*e, "N1", EventType::kTaskOverdue);
  }
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].record.recorded_us == MicrosOf(deadline) + 1);
  CHECK(EventsOf(*e, "N2", EventType::kTaskOverdue).empty());
  CHECK(e->Close().ok());
}

TEST_CASE("timers = false: nothing fires") {
  EngineOptions o = ManualOptions(T("2025-03-31T10:30"));
  o.timers = false;
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  OpenWaterCase(*e, "A1", e->Now());
  REQUIRE(e->AdvanceTo(T("2025-04-30T10:30")).ok());
  CHECK(AllOverdue(*e).empty());
}

TEST_CASE("automatic supervision after the configured working minutes (policy)") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  ConfigureDistrict(*e);
  ConfigChange p;
  p.type = ConfigChangeType::kSetPolicy;
  p.policy.auto_supervise_after_working_minutes = 60;
  p.policy.enforce_permissions = false;  // "$timer" holds no supervisor role
  REQUIRE(e->Configure(p).ok());
  OpenWaterCase(*e, "A1", e->Now());  // deadline 15:30, supervision 16:30
  REQUIRE(e->AdvanceTo(T("2025-03-31T16:00")).ok());
  CHECK(EventsOf(*e, "A1", EventType::kTaskOverdue).size() == 1);
  CHECK(EventsOf(*e, "A1", EventType::kCaseSupervised).empty());
  REQUIRE(e->AdvanceTo(T("2025-04-02T10:00")).ok());
  std::vector<LoggedEvent> sup = EventsOf(*e, "A1", EventType::kCaseSupervised);
  REQUIRE(sup.size() == 1);
  CHECK(sup[0].record.actor == "$timer");
  CHECK(sup[0].record.recorded_us == MicrosOf(T("2025-03-31T16:30")) + 1);
  REQUIRE(e->AdvanceTo(T("2025-04-09T10:00")).ok());
  CHECK(EventsOf(*e, "A1", EventType::kCaseSupervised).size() == 1);
}

// Regression (docs/reliability.md, "the instant range"): the timers listed
// deadlines only up to 9999-12-31T23:59:59Z while the clock, commands and
// configuration took any instant, so a task due after that never got its
// task_overdue, and times past the year 9999 did not read back.
TEST_CASE("instant range: a deadline near its end fires, and every entry refuses an instant outside it") {
  CHECK(*ParseInstant("1970-01-01T00:00+14:00", 0) == kEarliestInstant);
  CHECK(*ParseInstant("9999-12-31T23:59:59.999999-14:00", 0) == kLatestInstant);
  CHECK(CheckInstantRange(kLatestInstant, "t").ok());
  CHECK(CheckInstantRange(kEarliestInstant, "t").ok());
  Status after = CheckInstantRange(kLatestInstant + Micros(1), "at", 8 * 60);
  CHECK(after.IsInvalidArgument());
  CHECK(after.message() ==
        "at 10000-01-01T22:00:00+08:00: it is after the latest instant caseloop handles "
        "(9999-12-31T23:59:59-14:00)");
  Status before = CheckInstantRange(kEarliestInstant - Micros(1), "at");
  CHECK(before.message() ==
        "at 1969-12-31T09:59:59+00:00: it is before the earliest instant caseloop handles "
        "(1970-01-01T00:00:00+14:00)");
  CHECK(CheckInstantRange(InstantFromMicros(INT64_MAX), "at").message().find("microseconds") !=
        std::string::npos);

  SUBCASE("a deadline after 9999-12-31T23:59:59Z fires") {
    auto e = MustOpen(ManualOptions(T("9999-12-30T10:00")));
    ConfigureDistrict(*e);
    MustSubmit(*e, Report("E", CaseKind::kComponent, "0101"));
    MustSubmit(*e, Cmd(CommandType::kRegister, "E", "L1"));
    Command d = Cmd(CommandType::kDispatch, "E", "D1");
    d.deadline = kLatestInstant - std::chrono::hours(1);  // imported history: the due date as given
    MustSubmit(*e, d);
    REQUIRE(e->AdvanceTo(kLatestInstant).ok());
    std::vector<LoggedEvent> marks = AllOverdue(*e);
    REQUIRE(marks.size() == 1);
    CHECK(marks[0].record.recorded_us == MicrosOf(*d.deadline) + 1);
    CHECK(e->Now() == kLatestInstant);
    // The clock stops at the end of the range.
    CHECK(e->AdvanceTo(kLatestInstant + Micros(1)).IsInvalidArgument());
    CHECK(e->Advance(Micros(1)).IsInvalidArgument());
    CHECK(e->Advance(Micros(INT64_MAX)).IsInvalidArgument());
    CHECK(e->Now() == kLatestInstant);
  }

  SUBCASE("commands, configuration, batches and clocks outside the range are refused") {
    auto e = MustOpen(ManualOptions(T("9999-12-30T10:00")));
    ConfigureDistrict(*e);
    const std::uint64_t head = e->HeadPosition();
    Result<CommandAck> late =
        e->Submit(Report("X", CaseKind::kComponent, "0101", kLatestInstant + Micros(1)));
    CHECK(late.status().IsInvalidArgument());
    CHECK(late.status().message().find("after the latest instant caseloop handles") != std::string::npos);
    CHECK(e->Submit(Report("X", CaseKind::kComponent, "0101", kEarliestInstant - Micros(1)))
              .status()
              .IsInvalidArgument());
    // A deadline computed past the end: 4 working hours from Friday 9999-12-31 16:00 end on Monday
    // 10000-01-03, after the last instant.
    MustSubmit(*e, Report("X", CaseKind::kComponent, "0101", T("9999-12-31T16:00")));
    MustSubmit(*e, Cmd(CommandType::kRegister, "X", "L1", T("9999-12-31T16:00")));
    const std::uint64_t registered = e->HeadPosition();
    Result<CommandAck> dispatched = e->Submit(Cmd(CommandType::kDispatch, "X", "D1", T("9999-12-31T16:00")));
    CHECK(dispatched.status().IsInvalidArgument());
    CHECK_MESSAGE(dispatched.status().message().find("deadline 10000-01-03") != std::string::npos,
                  dispatched.status().message());
    Command explicit_deadline = Cmd(CommandType::kDispatch, "X", "D1", T("9999-12-31T16:00"));
    explicit_deadline.deadline = kLatestInstant + Micros(1);
    CHECK(e->Submit(explicit_deadline).status().IsInvalidArgument());
    CHECK(e->HeadPosition() == registered);
    CHECK(registered == head + 2);

    std::promise<Status> async;
    e->SubmitAsync(Cmd(CommandType::kDispatch, "X", "D1", kLatestInstant + Micros(1)),
                   [&](Result<CommandAck> r) { async.set_value(r.status()); });
    CHECK(async.get_future().get().IsInvalidArgument());

    ConfigChange unit = District()[2];  // a unit definition
    CHECK(e->Configure(unit, kLatestInstant + Micros(1)).status().IsInvalidArgument());

    CaseBatch group;
    group.commands.push_back(Report("Y", CaseKind::kComponent, "0101", T("9999-12-31T10:00")));
    group.commands.push_back(Cmd(CommandType::kRegister, "Y", "L1", kLatestInstant + Micros(1)));
    std::vector<CaseBatchResult> results = e->SubmitBatch({group});
    REQUIRE(results.size() == 1);
    CHECK(results[0].status.IsInvalidArgument());
    CHECK(results[0].done == 1);  // the report before it is appended
    CHECK(e->HeadPosition() == registered + 1);

    auto clock = std::make_shared<ManualClock>(T("9999-12-31T10:00"));
    CHECK(clock->Set(kLatestInstant + Micros(1)).IsInvalidArgument());
    CHECK(clock->Now() == T("9999-12-31T10:00"));
    EngineOptions o;
    o.clock = std::make_shared<ManualClock>(kLatestInstant + Micros(1));
    CHECK(Engine::Open(o).status().IsInvalidArgument());
  }
}

}  // namespace
}  // namespace caseloop::test
