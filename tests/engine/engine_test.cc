// Engine basics: configuration, commands, queries, read-your-writes, the
// worked deadlines of domain.md §8, idempotency, the bounded case cache.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "caseloop/json.h"
#include "engine_test_util.h"

namespace caseloop::test {
namespace {

TEST_CASE("HeadPosition and ListCases: the log's head, the case ids in byte order without system streams") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  CHECK(e->HeadPosition() == 0);
  CHECK(e->ListCases("", 10)->empty());
  ConfigureDistrict(*e);  // the "$config" stream
  const std::uint64_t configured = e->HeadPosition();
  CHECK(configured > 0);
  CHECK(e->ListCases("", 10)->empty());
  for (const char* id : {"B2", "A10", "A1", "C"}) MustSubmit(*e, Report(id, CaseKind::kComponent, "0101"));
  CHECK(e->HeadPosition() == configured + 4);
  CHECK(*e->ListCases("", 10) == std::vector<std::string>{"A1", "A10", "B2", "C"});
  CHECK(*e->ListCases("", 2) == std::vector<std::string>{"A1", "A10"});
  CHECK(*e->ListCases("A10", 10) == std::vector<std::string>{"B2", "C"});
  CHECK(e->ListCases("C", 10)->empty());
  CHECK(e->ListCases("", 0)->empty());
  REQUIRE(e->Close().ok());
  CHECK(e->ListCases("", 10).status().IsUnavailable());
}

TEST_CASE("open, configure and run one case through its loop") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  CHECK(e->CurrentConfig().units.count("WATER") == 1);
  CHECK(e->CurrentConfig().calendar.holidays.size() == 1);

  REQUIRE(e->AdvanceTo(T("2025-03-31T10:30")).ok());
  CommandAck ack = MustSubmit(*e, Report("A1", CaseKind::kComponent, "0101"));
  CHECK(ack.case_id == "A1");
  CHECK(ack.version == 1);
  CHECK(ack.events == std::vector<EventType>{EventType::kCaseReported});
  CHECK_FALSE(ack.duplicate);
  MustSubmit(*e, Cmd(CommandType::kRegister, "A1", "L1"));
  ack = MustSubmit(*e, Cmd(CommandType::kDispatch, "A1", "D1"));
  CHECK(ack.version == 3);
  CHECK(ack.first_position == ack.last_position);

  Result<CaseView> v = e->Show("A1");
  REQUIRE(v.ok());
  CHECK(v->state == LifecycleState::kDispatched);
  CHECK(v->unit == std::optional<std::string>("WATER"));
  REQUIRE(v->deadline);
  CHECK(Fmt(*v->deadline) == "2025-03-31T15:30:00+08:00");

  // Read-your-writes: the projections already know the task.
  Result<std::vector<UnitWorkload>> w = e->Workload();
  REQUIRE(w.ok());
  bool found = false;
  for (const UnitWorkload& u : *w)
    if (u.unit == "WATER") found = u.open_tasks == 1;
  CHECK(found);

  MustSubmit(*e, Cmd(CommandType::kAccept, "A1", "WATER"));
  Command fb = Cmd(CommandType::kFeedback, "A1", "WATER", T("2025-03-31T14:40"));
  fb.note = "cover replaced";
  MustSubmit(*e, fb);
  Command vf = Cmd(CommandType::kVerify, "A1", "I1", T("2025-03-31T15:10"));
  vf.verify_pass = true;
  MustSubmit(*e, vf);
  v = e->Show("A1", T("2025-03-31T16:00"));
  REQUIRE(v.ok());
  CHECK(v->state == LifecycleState::kClosed);
  CHECK(v->on_time == std::optional<bool>(true));
  CHECK(e->LatestRecordedTime() == T("2025-03-31T15:10"));

  // A refused command names the case and writes nothing.
  std::uint64_t head = e->HeadPosition();
  Result<CommandAck> bad = e->Submit(Cmd(CommandType::kAccept, "A1", "WATER", T("2025-03-31T15:20")));
  CHECK_MESSAGE(bad.status().IsRejected(), bad.status().ToString());
  CHECK(bad.status().message().find("A1") != std::string::npos);
  CHECK(e->HeadPosition() == head);
  CHECK(e->Submit(Cmd(CommandType::kAccept, "NOPE", "WATER")).status().IsNotFound());
  CHECK(e->Submit(Cmd(CommandType::kAccept, "", "WATER")).status().IsInvalidArgument());
  CHECK(e->Submit(Cmd(CommandType::kAccept, "$config", "WATER")).status().IsInvalidArgument());
  CHECK(e->Show("NOPE").status().IsNotFound());
  CHECK(e->History("NOPE").status().IsNotFound());
  CHECK(e->Close().ok());
  CHECK(e->Submit(Report("A2", CaseKind::kComponent, "0101")).status().IsUnavailable());
  CHECK(e->Show("A1").status().IsUnavailable());
  CHECK(e->Close().ok());  // idempotent
}

namespace {
// The fields of a logged event as caseloop/json.h prints them (the calendar is at +08:00).
nlohmann::json Fields(const LoggedEvent& le) {
  REQUIRE(le.decode_status.ok());
  if (le.event) return nlohmann::json::parse(CaseEventFieldsJson(*le.event, 8 * 60));
  REQUIRE(le.change);
  return nlohmann::json::parse(ConfigChangeFieldsJson(*le.change));
}
}  // namespace

TEST_CASE("history and log decode case and configuration events to JSON") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  ConfigureDistrict(*e);
  OpenWaterCase(*e, "A1", T("2025-03-31T10:30"), /*accept=*/false);

  Result<std::vector<LoggedEvent>> h = e->History("A1");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK((*h)[2].record.stream == "A1");
  CHECK((*h)[2].record.version == 3);
  REQUIRE((*h)[2].event);
  CHECK((*h)[2].event->type == EventType::kCaseDispatched);
  nlohmann::json f = Fields((*h)[2]);
  CHECK(f["unit"] == "WATER");
  CHECK(f["deadline"] == "2025-03-31T15:30:00+08:00");

  Result<std::vector<LoggedEvent>> log = e->ReadLog(1, 1000);
  REQUIRE(log.ok());
  REQUIRE(log->size() == District().size() + 3);
  for (std::size_t i = 0; i < log->size(); ++i) CHECK((*log)[i].record.position == i + 1);
  // Configuration events: no case event, their own fields.
  const LoggedEvent& cal = (*log)[0];
  CHECK(cal.record.stream == kConfigStream);
  CHECK_FALSE(cal.event);
  nlohmann::json c = Fields(cal);
  CHECK(c["tz"] == "+08:00");
  CHECK(c["periods"] == "09:00-12:00,13:00-17:00");
  nlohmann::json holiday = Fields((*log)[1]);
  CHECK(holiday["date"] == "2025-04-04");
  nlohmann::json unit = Fields((*log)[2]);
  CHECK(unit["id"] == "WATER");
  bool saw_route = false, saw_staff = false, saw_category = false;
  for (const LoggedEvent& le : *log) {
    if (le.record.type == "route_defined") {
      saw_route = true;
      CHECK(Fields(le).contains("unit"));
    }
    if (le.record.type == "staff_defined") {
      saw_staff = true;
      CHECK(Fields(le)["roles"].is_array());
    }
    if (le.record.type == "category_defined" && !saw_category) {
      saw_category = true;
      CHECK(Fields(le)["limit"] == "4wh");
    }
  }
  CHECK(saw_route);
  CHECK(saw_staff);
  CHECK(saw_category);
  CHECK(e->ReadLog(log->size() + 1, 10)->empty());
}

TEST_CASE("configuration: validated before it is appended, replayed on reopen") {
  TempDir dir;
  {
    auto e = MustOpen(ManualOptions(T("2025-03-31T08:00"), dir.path()));
    ConfigureDistrict(*e);
    std::uint64_t head = e->HeadPosition();
    // A route to an unknown unit is refused; nothing is written.
    Result<CommandAck> bad = e->Configure(Route(CaseKind::kEvent, "0102", "NOBODY"));
    CHECK_FALSE(bad.ok());
    CHECK(e->HeadPosition() == head);
    Result<CommandAck> ok = e->Configure(Unit("PARKS"));
    REQUIRE(ok.ok());
    CHECK(ok->case_id == kConfigStream);
    CHECK(ok->version == District().size() + 1);
    REQUIRE(e->Close().ok());
  }
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00"), dir.path()));
  Config c = e->CurrentConfig();
  CHECK(c.units.size() == 5);
  CHECK(c.units.count("PARKS") == 1);
  CHECK(c.routes.size() == 5);
  CHECK(c.calendar.holidays.size() == 1);
  // Later changes still append with the right expected version.
  CHECK(e->Configure(Unit("ZOO")).ok());
}

TEST_CASE("ConfigureOnce: a change under a command id is appended once, across reopens") {
  TempDir dir;
  CommandAck first;
  std::uint64_t head = 0;
  {
    auto e = MustOpen(ManualOptions(T("2025-03-31T08:00"), dir.path()));
    ConfigureDistrict(*e);
    Result<CommandAck> a = e->ConfigureOnce(Unit("PARKS"), "http:$admin:k1");
    REQUIRE(a.ok());
    CHECK_FALSE(a->duplicate);
    first = *a;
    head = e->HeadPosition();
    CHECK(first.first_position == head);
    Result<CommandAck> again = e->ConfigureOnce(Unit("PARKS"), "http:$admin:k1");
    REQUIRE(again.ok());
    CHECK(again->duplicate);
    CHECK(again->first_position == first.first_position);
    CHECK(again->version == first.version);
    CHECK(e->HeadPosition() == head);
    // A refused change uses no id.
    CHECK_FALSE(e->ConfigureOnce(Route(CaseKind::kEvent, "0102", "NOBODY"), "http:$admin:k2").ok());
    Result<CommandAck> k2 = e->ConfigureOnce(Unit("ZOO"), "http:$admin:k2");
    REQUIRE(k2.ok());
    CHECK_FALSE(k2->duplicate);
    head = e->HeadPosition();
    // The store counts its fsyncs and group sizes.
    StoreStatistics st = e->StoreStats();
    CHECK(st.syncs > 0);
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
    CHECK_FALSE(st.has_groups);  // PostgreSQL: its synchronous commits only (docs/server.md)
#else
    CHECK(st.has_groups);
    std::uint64_t groups = 0;
    for (std::uint64_t n : st.group_sizes) groups += n;
    CHECK(groups == st.groups);
    CHECK(st.groups > 0);
    CHECK(st.group_writers >= st.groups);
#endif
    REQUIRE(e->Close().ok());
  }
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00"), dir.path()));
  // After a reopen: the first answer, even for a change that would now be refused.
  Result<CommandAck> again = e->ConfigureOnce(Route(CaseKind::kEvent, "0102", "NOBODY"), "http:$admin:k1");
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->first_position == first.first_position);
  CHECK(e->HeadPosition() == head);
  CHECK(e->CurrentConfig().units.count("ZOO") == 1);
}

TEST_CASE("default configuration is appended once, only to an empty store") {
  TempDir dir;
  std::uint64_t head = 0;
  {
    EngineOptions o = ManualOptions(T("2025-03-31T08:00"), dir.path());
    o.default_config = true;
    auto e = MustOpen(o);
    head = e->HeadPosition();
    CHECK(head == DefaultConfigChanges().size());
    CHECK_FALSE(e->CurrentConfig().units.empty());
  }
  EngineOptions o = ManualOptions(T("2025-03-31T08:00"), dir.path());
  o.default_config = true;
  auto e = MustOpen(o);
  CHECK(e->HeadPosition() == head);
}

// domain.md §8, through the engine, with the manual clock.
TEST_CASE("worked deadlines through the engine") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  auto at = [&](const char* t) { REQUIRE(e->AdvanceTo(T(t)).ok()); };
  auto deadline = [&](const std::string& id) -> std::string {
    Result<CaseView> v = e->Show(id);
    REQUIRE_MESSAGE(v.ok(), v.status().ToString());
    return v->deadline ? Fmt(*v->deadline) : "null";
  };
  auto submit = [&](Command c) { return MustSubmit(*e, c); };

  // 4. five working days, suspended after 7 h, resumed with 28 h left.
  at("2025-03-31T09:00");
  Command r4 = Report("A4", CaseKind::kEvent, "0301");
  r4.grid = "620102001001004";
  submit(r4);
  submit(Cmd(CommandType::kRegister, "A4", "L1"));
  submit(Cmd(CommandType::kDispatch, "A4", "D1"));
  CHECK(deadline("A4") == "2025-04-07T17:00:00+08:00");
  at("2025-03-31T09:10");
  submit(Cmd(CommandType::kAccept, "A4", "BUILD"));

  // 1. four working hours across lunch.
  at("2025-03-31T10:30");
  OpenWaterCase(*e, "A1", e->Now());
  CHECK(deadline("A1") == "2025-03-31T15:30:00+08:00");

  // 3. three working days, +2 wd approved skip the holiday and the weekend.
  at("2025-03-31T14:00");
  submit(Report("A3", CaseKind::kComponent, "0109"));
  submit(Cmd(CommandType::kRegister, "A3", "L1"));
  submit(Cmd(CommandType::kDispatch, "A3", "D1"));
  CHECK(deadline("A3") == "2025-04-03T14:00:00+08:00");
  submit(Cmd(CommandType::kAccept, "A3", "POWER"));
  at("2025-03-31T14:40");
  submit(Cmd(CommandType::kFeedback, "A1", "WATER"));

  at("2025-04-01T08:55");
  Command s4 = Cmd(CommandType::kSuspend, "A4", "BUILD");
  s4.reason = "waiting for the permit";
  submit(s4);
  at("2025-04-01T09:00");
  submit(Cmd(CommandType::kApprove, "A4", "D1"));
  CHECK(deadline("A4") == "null");

  // 2. one working day; a failed verification gives a fresh working day.
  at("2025-04-01T16:00");
  submit(Report("A2", CaseKind::kEvent, "0102"));
  submit(Cmd(CommandType::kRegister, "A2", "L1"));
  submit(Cmd(CommandType::kDispatch, "A2", "D1"));
  CHECK(deadline("A2") == "2025-04-02T16:00:00+08:00");
  submit(Cmd(CommandType::kAccept, "A2", "STREET"));

  at("2025-04-02T10:00");
  Command x3 = Cmd(CommandType::kExtend, "A3", "POWER");
  x3.limit = TimeLimit::WorkingDays(2);
  x3.reason = "lamp on order";
  submit(x3);
  at("2025-04-02T11:00");
  submit(Cmd(CommandType::kApprove, "A3", "D1"));
  CHECK(deadline("A3") == "2025-04-08T14:00:00+08:00");
  at("2025-04-02T11:05");
  submit(Cmd(CommandType::kFeedback, "A2", "STREET"));
  at("2025-04-02T11:40");
  Command v2 = Cmd(CommandType::kVerify, "A2", "I1");
  v2.verify_pass = false;
  submit(v2);
  CHECK(deadline("A2") == "2025-04-03T11:40:00+08:00");
  CHECK(EventsOf(*e, "A2", EventType::kTaskOverdue).empty());

  // The clock passes A2's fresh deadline: the timer marks task 2 overdue.
  at("2025-04-03T11:45");
  std::vector<LoggedEvent> marks = EventsOf(*e, "A2", EventType::kTaskOverdue);
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].event->task == 2);
  CHECK(marks[0].record.actor == "$timer");
  CHECK(marks[0].record.recorded_us == MicrosOf(T("2025-04-03T11:40")) + 1);
  CHECK(Fmt(*marks[0].event->deadline) == "2025-04-03T11:40:00+08:00");
  Result<CaseView> v = e->Show("A2");
  REQUIRE(v.ok());
  CHECK(v->overdue);
  CHECK(v->light == std::optional<Light>(Light::kRed));

  // 5. an emergency counts natural hours through the night.
  at("2025-04-05T22:20");
  Command r5 = Report("A5", CaseKind::kEvent, "0401");
  r5.emergency = true;
  submit(r5);
  submit(Cmd(CommandType::kRegister, "A5", "L1"));
  submit(Cmd(CommandType::kDispatch, "A5", "D1"));
  CHECK(deadline("A5") == "2025-04-06T00:20:00+08:00");

  at("2025-04-14T09:00");
  submit(Cmd(CommandType::kResume, "A4", "D1"));
  CHECK(deadline("A4") == "2025-04-17T17:00:00+08:00");

  // Every deadline that passed on the way was marked once (A3 on 04-08, A5 on
  // 04-06); A4 was suspended, so it was not.
  CHECK(EventsOf(*e, "A3", EventType::kTaskOverdue).size() == 1);
  CHECK(EventsOf(*e, "A5", EventType::kTaskOverdue).size() == 1);
  CHECK(EventsOf(*e, "A4", EventType::kTaskOverdue).empty());
  CHECK(EventsOf(*e, "A2", EventType::kTaskOverdue).size() == 1);
  Result<std::vector<OverdueTask>> overdue = e->Overdue();
  REQUIRE(overdue.ok());
  CHECK(overdue->size() == 3);  // A2, A3, A5 still open
}

TEST_CASE("a retried command id returns the first result and appends nothing") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  ConfigureDistrict(*e);
  Command r = Report("A1", CaseKind::kComponent, "0101");
  r.command_id = "client-1";
  CommandAck first = MustSubmit(*e, r);
  std::uint64_t head = e->HeadPosition();
  // The decider would refuse a second report of A1; the retry is recognized.
  CommandAck again = MustSubmit(*e, r);
  CHECK(again.duplicate);
  CHECK(again.first_position == first.first_position);
  CHECK(again.events == first.events);
  CHECK(e->HeadPosition() == head);

  Command reg = Cmd(CommandType::kRegister, "A1", "L1");
  reg.command_id = "client-2";
  CommandAck r1 = MustSubmit(*e, reg);
  CommandAck r2 = MustSubmit(*e, reg);
  CHECK(r2.duplicate);
  CHECK(r2.last_position == r1.last_position);
  CHECK(e->State("A1")->version == 2);
}

TEST_CASE("the case cache is bounded and misses replay the stream") {
  EngineOptions o = ManualOptions(T("2025-03-31T10:30"));
  o.case_cache_size = 16;
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  for (int i = 0; i < 100; ++i) OpenWaterCase(*e, "C" + std::to_string(i), e->Now(), /*accept=*/false);
  for (int i = 0; i < 100; ++i) MustSubmit(*e, Cmd(CommandType::kAccept, "C" + std::to_string(i), "WATER"));
  for (int i = 0; i < 100; ++i) {
    Result<CaseState> s = e->State("C" + std::to_string(i));
    REQUIRE(s.ok());
    CHECK(s->state == LifecycleState::kHandling);
    CHECK(s->version == 4);
  }
}

TEST_CASE("AdvanceTo: backwards is refused, a system clock refuses it") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:30")));
  CHECK(e->AdvanceTo(T("2025-03-31T10:00")).IsInvalidArgument());
  CHECK(e->Advance(std::chrono::hours(1)).ok());
  CHECK(e->Now() == T("2025-03-31T11:30"));
  CHECK(e->Advance(Micros(-1)).IsInvalidArgument());

  EngineOptions o;
  auto sys = MustOpen(o);
  CHECK(sys->AdvanceTo(T("2030-01-01T00:00")).IsRejected());
  Instant before = sys->Now();
  CHECK(before > T("2024-01-01T00:00"));
}

TEST_CASE("Check while commands run: the projector's commits never show as problems") {
  // Check used to read the case records, the counters and the index without
  // the catch-up lock, so a projector commit between two of its scans looked
  // like a broken projection (found by the script fuzzer).
  auto e = MustOpen(ManualOptions(T("2025-03-31T09:00")));
  ConfigureDistrict(*e);
  std::atomic<int> running{4};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 250; ++i) {
        const std::string id = "K" + std::to_string(w) + "-" + std::to_string(i);
        OpenWaterCase(*e, id, T("2025-03-31T09:00"), i % 2 == 0);
      }
      --running;
    });
  }
  std::vector<std::string> seen;
  int checks = 0;
  while (running.load() > 0) {
    Result<std::vector<std::string>> problems = e->Check();
    REQUIRE(problems.ok());
    ++checks;
    for (const auto& p : *problems) seen.push_back(p);
  }
  for (auto& t : writers) t.join();
  Result<std::vector<std::string>> last = e->Check();
  REQUIRE(last.ok());
  CHECK(last->empty());
  INFO("checks run: " << checks
                      << ", first problem: " << (seen.empty() ? std::string("none") : seen.front()));
  CHECK(seen.empty());
  CHECK(checks > 0);
}

}  // namespace
}  // namespace caseloop::test
