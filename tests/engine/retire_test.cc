// Configuration that changes over the years (issue 23): retired units,
// inspectors, staff and categories; renamed units; the re-dispatch list.
// Every change affects only later commands, and a reopened engine (the log
// replayed) answers the same.
#include <doctest/doctest.h>

#include "engine_test_util.h"

namespace caseloop::test {
namespace {

ConfigChange RetireUnit(const std::string& id) {
  ConfigChange c;
  c.type = ConfigChangeType::kRetireUnit;
  c.unit.id = id;
  return c;
}

void MustConfigure(Engine& e, const ConfigChange& c) {
  Result<CommandAck> r = e.Configure(c);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

void CheckRefused(Engine& e, const Command& c, const std::string& message) {
  const std::uint64_t head = e.HeadPosition();
  Result<CommandAck> r = e.Submit(c);
  INFO(Name(c.type), " ", c.case_id);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsRejected());
  CHECK(r.status().message() == message);
  CHECK(e.HeadPosition() == head);  // nothing written
}

const UnitRates* RowOf(const std::vector<UnitRates>& rows, const std::string& unit) {
  for (const UnitRates& r : rows)
    if (r.unit == unit) return &r;
  return nullptr;
}

PeriodQuery Month(const char* from, const char* to) {
  PeriodQuery q;
  q.from = T(from);
  q.to = T(to);
  return q;
}

TEST_CASE(
    "a retired unit: past figures stay, later commands naming it are refused, its open tasks are listed") {
  TempDir dir;
  auto e = MustOpen(ManualOptions(T("2025-03-03T08:00"), dir.path()));
  ConfigureDistrict(*e);
  // March: W1 handled on time, W2 accepted and still open, W3 dispatched and
  // suspended; all at WATER.
  OpenWaterCase(*e, "W1", T("2025-03-03T09:00"));
  Command fb = Cmd(CommandType::kFeedback, "W1", "WATER", T("2025-03-03T10:00"));
  MustSubmit(*e, fb);
  Command pass = Cmd(CommandType::kVerify, "W1", "I1", T("2025-03-03T10:30"));
  pass.verify_pass = true;
  MustSubmit(*e, pass);
  OpenWaterCase(*e, "W2", T("2025-03-04T09:00"));
  OpenWaterCase(*e, "W3", T("2025-03-05T09:00"));
  Command suspend = Cmd(CommandType::kSuspend, "W3", "WATER", T("2025-03-05T10:00"));
  suspend.reason = "waiting for parts";
  MustSubmit(*e, suspend);
  MustSubmit(*e, Cmd(CommandType::kApprove, "W3", "D1", T("2025-03-05T10:10")));

  // March as of its last day (the same instant before and after the retirement).
  REQUIRE(e->AdvanceTo(T("2025-03-31T12:00")).ok());
  PeriodQuery march = Month("2025-03-01", "2025-04-01");
  march.at = T("2025-03-31T12:00");
  Result<std::vector<UnitRates>> before = e->Rates(march);
  REQUIRE(before.ok());
  REQUIRE(RowOf(*before, "WATER") != nullptr);
  const UnitRates water_before = *RowOf(*before, "WATER");
  CHECK(water_before.due == 2);  // W1 handled, W2 overdue; W3 suspended is left out

  REQUIRE(e->AdvanceTo(T("2025-04-01T09:00")).ok());
  MustConfigure(*e, RetireUnit("WATER"));
  const Instant retired = T("2025-04-01T09:00");
  CHECK(e->CurrentConfig().UnitRetired("WATER") == retired);

  // The rankings of March are those of before; April (it was active on its
  // first morning) still lists it, May has no WATER row.
  Result<std::vector<UnitRates>> after = e->Rates(march);
  REQUIRE(after.ok());
  REQUIRE(RowOf(*after, "WATER") != nullptr);
  CHECK(RowOf(*after, "WATER")->due == water_before.due);
  CHECK(RowOf(*after, "WATER")->handled == water_before.handled);
  CHECK(RowOf(*after, "WATER")->score == water_before.score);
  CHECK(RowOf(*after, "WATER")->unit_name == "WATER unit");
  Result<std::vector<UnitRates>> april = e->Rates(Month("2025-04-01", "2025-05-01"));
  REQUIRE(april.ok());
  CHECK(RowOf(*april, "WATER") != nullptr);
  Result<std::vector<UnitRates>> may = e->Rates(Month("2025-05-01", "2025-06-01"));
  REQUIRE(may.ok());
  CHECK(RowOf(*may, "WATER") == nullptr);
  CHECK(RowOf(*may, "POWER") != nullptr);
  PeriodQuery may_water = Month("2025-05-01", "2025-06-01");
  may_water.unit = "WATER";
  Result<std::vector<UnitRates>> named = e->Rates(may_water);  // asked by name: a row of zeros
  REQUIRE(named.ok());
  REQUIRE(named->size() == 1);
  CHECK((*named)[0].due == 0);

  // Later commands naming it are refused with when it was retired.
  MustSubmit(*e, Report("N1", CaseKind::kComponent, "0101"));
  MustSubmit(*e, Cmd(CommandType::kRegister, "N1", "L1"));
  Command to_water = Cmd(CommandType::kDispatch, "N1", "D1");
  to_water.unit = "WATER";
  CheckRefused(*e, to_water, "dispatch N1: unit WATER was retired at 2025-04-01T09:00:00+08:00");
  CheckRefused(*e, Cmd(CommandType::kFeedback, "W2", "WATER"),
               "feedback W2: actor WATER was retired at 2025-04-01T09:00:00+08:00");
  // Routing never picks it: the case goes to coordination.
  MustSubmit(*e, Cmd(CommandType::kDispatch, "N1", "D1"));
  CHECK(e->Show("N1")->state == LifecycleState::kCoordinating);
  // Defining a route to it again is refused too.
  Result<CommandAck> route = e->Configure(Route(CaseKind::kComponent, "0101", "WATER"));
  CHECK(route.status().IsRejected());

  // Its open tasks are listed for re-dispatch (the closed W1 is not).
  Result<std::vector<RedispatchTask>> list = e->Redispatch();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].case_id == "W2");
  CHECK((*list)[0].unit == "WATER");
  CHECK((*list)[0].unit_name == "WATER unit");
  CHECK((*list)[0].retired == retired);
  CHECK((*list)[0].state == LifecycleState::kHandling);
  CHECK((*list)[0].light == Light::kRed);
  CHECK((*list)[1].case_id == "W3");
  CHECK((*list)[1].state == LifecycleState::kSuspended);
  CHECK(!(*list)[1].light);

  // A dispatcher gives W2 back for the retired unit and dispatches it elsewhere.
  Command back = Cmd(CommandType::kReturn, "W2", "D1");
  back.reason = "WATER was merged into POWER";
  MustSubmit(*e, back);
  MustSubmit(*e, Cmd(CommandType::kApprove, "W2", "D1"));
  Command to_power = Cmd(CommandType::kDispatch, "W2", "D1");
  to_power.unit = "POWER";
  MustSubmit(*e, to_power);
  CHECK(e->Show("W2")->unit == std::optional<std::string>("POWER"));
  // Only a dispatcher returns a case for its unit, and only for a retired unit.
  Command for_power = Cmd(CommandType::kReturn, "W2", "D1");
  for_power.reason = "x";
  CHECK(e->Submit(for_power).status().IsRejected());
  MustSubmit(*e, Cmd(CommandType::kResume, "W3", "D1"));
  Command not_dispatcher = Cmd(CommandType::kReturn, "W3", "L1");
  not_dispatcher.reason = "x";
  CHECK(e->Submit(not_dispatcher).status().IsRejected());
  list = e->Redispatch();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].case_id == "W3");
  CHECK((*list)[0].state == LifecycleState::kHandling);

  // The past still answers the same: W2 was WATER's overdue task in March.
  after = e->Rates(march);
  REQUIRE(after.ok());
  CHECK(RowOf(*after, "WATER")->due == water_before.due);
  CHECK(RowOf(*after, "WATER")->overdue_open == water_before.overdue_open);

  // Reopened: the log replays to the same configuration and answers.
  REQUIRE(e->Close().ok());
  e = MustOpen(ManualOptions(T("2025-04-01T09:00"), dir.path()));
  CHECK(e->CurrentConfig().UnitRetired("WATER") == retired);
  CHECK(e->CurrentConfig().Route(CaseKind::kComponent, "0101", "") == std::nullopt);
  list = e->Redispatch();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].retired == retired);
  CHECK(e->Submit(to_water).status().IsRejected());
}

TEST_CASE("retired inspectors, staff and categories; a renamed unit shows its new name") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  ConfigChange insp;
  insp.type = ConfigChangeType::kDefineInspector;
  insp.inspector = {"I2", "620102001"};
  MustConfigure(*e, insp);
  REQUIRE(e->AdvanceTo(T("2025-03-31T09:00")).ok());
  OpenWaterCase(*e, "A1", T("2025-03-31T09:00"));  // reported by I1
  OpenWaterCase(*e, "A2", T("2025-03-31T09:00"));

  REQUIRE(e->AdvanceTo(T("2025-03-31T10:00")).ok());
  ConfigChange c;
  c.type = ConfigChangeType::kRetireInspector;
  c.inspector.id = "I1";
  MustConfigure(*e, c);
  c = ConfigChange{};
  c.type = ConfigChangeType::kRetireStaff;
  c.staff.id = "R1";
  MustConfigure(*e, c);
  c = ConfigChange{};
  c.type = ConfigChangeType::kRetireCategory;
  c.category.kind = CaseKind::kEvent;
  c.category.code = "0301";
  MustConfigure(*e, c);
  c = ConfigChange{};
  c.type = ConfigChangeType::kRenameUnit;
  c.unit = {"WATER", "水务集团", std::nullopt};
  MustConfigure(*e, c);

  CheckRefused(*e, Report("B1", CaseKind::kComponent, "0101"),
               "report B1: actor I1 was retired at 2025-03-31T10:00:00+08:00");
  Command hotline = Report("B1", CaseKind::kEvent, "0102");
  hotline.actor = "R1";
  hotline.source = ReportSource::kHotline;
  CheckRefused(*e, hotline, "report B1: actor R1 was retired at 2025-03-31T10:00:00+08:00");
  Command retired_category = Report("B1", CaseKind::kEvent, "0301");
  retired_category.actor = "I2";
  CheckRefused(*e, retired_category,
               "report B1: category event 0301 was retired at 2025-03-31T10:00:00+08:00");

  // The feedback assigns a verifier: not the retired reporter I1, but I2.
  MustSubmit(*e, Cmd(CommandType::kFeedback, "A1", "WATER", T("2025-03-31T11:00")));
  CHECK(e->State("A1")->verifier == "I2");

  // The renamed unit: its new name everywhere from now on, its figures under its id.
  REQUIRE(e->AdvanceTo(T("2025-03-31T12:00")).ok());
  Result<std::vector<UnitWorkload>> w = e->Workload();
  REQUIRE(w.ok());
  bool found = false;
  for (const UnitWorkload& u : *w)
    if (u.unit == "WATER") found = u.unit_name == "水务集团";
  CHECK(found);
  Result<std::vector<UnitRates>> r = e->Rates(Month("2025-03-01", "2025-04-01"));
  REQUIRE(r.ok());
  REQUIRE(RowOf(*r, "WATER") != nullptr);
  CHECK(RowOf(*r, "WATER")->unit_name == "水务集团");
  CHECK(RowOf(*r, "WATER")->due == 1);  // A1 handled; A2 not due yet
}

}  // namespace
}  // namespace caseloop::test
