// Configuration: routing, validation of every change type, the config codec,
// and the default district.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {
constexpr auto C = CaseKind::kComponent;
constexpr auto E = CaseKind::kEvent;

void CheckApply(Config& config, const ConfigChange& change, StatusCode code, const std::string& message) {
  Status s = ApplyConfigChange(config, change);
  INFO(ConfigEventTypeName(change.type));
  CHECK(s.code() == code);
  CHECK(s.message() == message);
}
}  // namespace

TEST_CASE("routing: the most specific grid prefix wins; no match or a tie -> coordination") {
  Config config;
  for (const char* u : {"STREET", "ST2", "ENFORCE", "OTHER"})
    REQUIRE(ApplyConfigChange(config, UnitChange(u, u)).ok());
  REQUIRE(ApplyConfigChange(config, CategoryChange(E, "0102", "暴露垃圾", "1wd")).ok());
  REQUIRE(ApplyConfigChange(config, CategoryChange(C, "0102", "污水井盖", "4wh")).ok());
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "ENFORCE")).ok());
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "STREET", "620102001")).ok());
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "ST2", "620102001002")).ok());
  // Defining the same rule twice changes nothing.
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "ST2", "620102001002")).ok());
  CHECK(config.routes.size() == 3);

  CHECK(config.Route(E, "0102", "620102001001001") == "STREET");
  CHECK(config.Route(E, "0102", "620102001002001") == "ST2");
  CHECK(config.Route(E, "0102", "620102002001001") == "ENFORCE");  // grid-less fallback
  CHECK(config.Route(E, "0102", "") == "ENFORCE");
  CHECK(config.Route(C, "0102", "620102001001001") == std::nullopt);  // other kind: no rule
  CHECK(config.Route(E, "0103", "620102001001001") == std::nullopt);

  // Two equally specific rules naming different units: a tie.
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "OTHER", "620102001")).ok());
  CHECK(config.Route(E, "0102", "620102001001001") == std::nullopt);
  CHECK(config.Route(E, "0102", "620102001002001") == "ST2");  // a longer rule still wins
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "OTHER", "")).ok());
  CHECK(config.Route(E, "0102", "") == std::nullopt);
}

TEST_CASE("FindCategory and HasRole") {
  Config config = WorkedConfig();
  REQUIRE(config.FindCategory(C, "0101") != nullptr);
  CHECK(config.FindCategory(C, "0101")->name == "上水井盖");
  CHECK(config.FindCategory(E, "0101") == nullptr);
  CHECK(config.FindCategory(E, "0401")->emergency_limit == TimeLimit::NaturalHours(2));
  CHECK(config.HasRole("D1", Role::kDispatcher));
  CHECK(!config.HasRole("D1", Role::kReceiver));
  CHECK(!config.HasRole("WATER", Role::kDispatcher));
  CHECK(!config.HasRole("nobody", Role::kReceiver));
}

TEST_CASE("validation of every change type") {
  Config config = WorkedConfig();
  const Config before = config;

  ConfigChange cal = Change(ConfigChangeType::kSetCalendar);
  cal.calendar.periods = {{13 * 60, 17 * 60}, {9 * 60, 12 * 60}};
  CHECK(ApplyConfigChange(config, cal).IsInvalidArgument());
  cal.calendar.periods = {};
  CHECK(ApplyConfigChange(config, cal).IsInvalidArgument());
  cal.calendar = Calendar{};
  cal.calendar.workdays = 0;
  CHECK(ApplyConfigChange(config, cal).IsInvalidArgument());
  cal.calendar = Calendar{};
  cal.calendar.utc_offset_minutes = 15 * 60;
  CheckApply(config, cal, StatusCode::kInvalidArgument, "calendar: UTC offset 900 minutes is out of range");

  // kSetCalendar keeps holidays and adjusted working days.
  cal.calendar = Calendar{};
  cal.calendar.utc_offset_minutes = -5 * 60;
  cal.calendar.workdays = 0x3F;  // mon-sat
  cal.calendar.holidays.insert(1);
  REQUIRE(ApplyConfigChange(config, cal).ok());
  CHECK(config.calendar.utc_offset_minutes == -300);
  CHECK(config.calendar.workdays == 0x3F);
  CHECK(config.calendar.holidays == before.calendar.holidays);  // not replaced by the change's
  ConfigChange wd = Change(ConfigChangeType::kAddWorkday);
  wd.date = *ParseLocalDate("2025-04-04");
  REQUIRE(ApplyConfigChange(config, wd).ok());  // the holiday becomes a working day
  CHECK(config.calendar.holidays.empty());
  CHECK(config.calendar.extra_workdays.count(wd.date) == 1);
  ConfigChange hol = Change(ConfigChangeType::kAddHoliday);
  hol.date = -1;
  CHECK(ApplyConfigChange(config, hol).IsInvalidArgument());

  CheckApply(config, UnitChange("", "x"), StatusCode::kInvalidArgument, "unit id is empty");
  CheckApply(config, UnitChange("$timer", "x"), StatusCode::kInvalidArgument,
             "unit id '$timer': ids starting with '$' are reserved");
  CheckApply(config, InspectorChange("I9", "62a"), StatusCode::kInvalidArgument,
             "inspector I9: grid prefix '62a' must be at most 15 digits");
  CheckApply(config, InspectorChange("I9", "6201020010010011"), StatusCode::kInvalidArgument,
             "inspector I9: grid prefix '6201020010010011' must be at most 15 digits");
  CheckApply(config, StaffChange("X1", {}), StatusCode::kInvalidArgument,
             "staff X1: at least one role is required");
  REQUIRE(ApplyConfigChange(config, StaffChange("X1", {Role::kDispatcher, Role::kDispatcher})).ok());
  CHECK(config.staff["X1"].roles.size() == 1);

  CheckApply(config, CategoryChange(E, "102", "x", "1wd"), StatusCode::kInvalidArgument,
             "category event 102: code must be 4 digits");
  ConfigChange cat = CategoryChange(E, "0501", "x", "1wd");
  cat.category.limit.amount = 0;
  CheckApply(config, cat, StatusCode::kInvalidArgument,
             "category event 0501 limit: time limit must be positive");
  cat.category.limit = TimeLimit::WorkingDays(1);
  cat.category.emergency_limit = TimeLimit::NaturalHours(-1);
  CheckApply(config, cat, StatusCode::kInvalidArgument,
             "category event 0501 emergency_limit: time limit must be positive");

  CheckApply(config, RouteChange(E, "0102", "STREETX"), StatusCode::kNotFound,
             "route event 0102 → unit STREETX: unknown unit");
  CheckApply(config, RouteChange(E, "0999", "STREET"), StatusCode::kNotFound,
             "route event 0999 → unit STREET: unknown category");
  CheckApply(config, RouteChange(E, "0102", "STREET", "62x"), StatusCode::kInvalidArgument,
             "route event 0102 grid 62x → unit STREET: grid prefix '62x' must be at most 15 digits");
  CheckApply(config, RouteChange(E, "01022", "STREET"), StatusCode::kInvalidArgument,
             "route event 01022 → unit STREET: code must be 4 digits");

  ConfigChange w = Change(ConfigChangeType::kSetWeights);
  w.weights.rework = -1;
  CheckApply(config, w, StatusCode::kInvalidArgument, "weights: rework must be a finite number >= 0, got -1");
  w.weights.rework = std::numeric_limits<double>::quiet_NaN();
  CHECK(ApplyConfigChange(config, w).IsInvalidArgument());
  w.weights.rework = std::numeric_limits<double>::infinity();
  CHECK(ApplyConfigChange(config, w).IsInvalidArgument());
  w.weights = {0, 0, 0, 0, 0};
  CheckApply(config, w, StatusCode::kInvalidArgument, "weights: the weights must sum to a positive number");
  w.weights = {1, 0, 0, 0, 0};
  REQUIRE(ApplyConfigChange(config, w).ok());
  CHECK(config.weights.handling == 1);

  ConfigChange p = Change(ConfigChangeType::kSetPolicy);
  p.policy.yellow_percent = 101;
  CheckApply(config, p, StatusCode::kInvalidArgument,
             "policy: yellow_percent must be within 0..100, got 101");
  p.policy.yellow_percent = 70;
  p.policy.grid_group_digits = 0;
  CHECK(ApplyConfigChange(config, p).IsInvalidArgument());
  p.policy.grid_group_digits = 9;
  p.policy.auto_supervise_after_working_minutes = -1;
  CHECK(ApplyConfigChange(config, p).IsInvalidArgument());
  p.policy.auto_supervise_after_working_minutes = 60;
  REQUIRE(ApplyConfigChange(config, p).ok());
  CHECK(config.policy.yellow_percent == 70);

  ConfigChange bad;
  bad.type = static_cast<ConfigChangeType>(42);
  CHECK(ApplyConfigChange(config, bad).IsInvalidArgument());
}

TEST_CASE("config event type names") {
  std::set<std::string> seen;
  for (int i = 0; i <= static_cast<int>(ConfigChangeType::kSetPolicy); ++i) {
    auto t = static_cast<ConfigChangeType>(i);
    std::string name(ConfigEventTypeName(t));
    CHECK(ParseConfigEventType(name) == t);
    seen.insert(name);
  }
  CHECK(seen.size() == 10);
  CHECK(ConfigEventTypeName(ConfigChangeType::kDefineRoute) == "route_defined");
  CHECK(ConfigEventTypeName(ConfigChangeType::kSetCalendar) == "calendar_set");
  CHECK(!ParseConfigEventType("case_reported"));
}

TEST_CASE("config codec: every change of the default district round-trips") {
  std::vector<ConfigChange> changes = DefaultConfigChanges();
  ConfigChange cal = Change(ConfigChangeType::kSetCalendar);
  cal.calendar.utc_offset_minutes = -330;
  cal.calendar.periods = {{8 * 60, 12 * 60 + 30}};
  changes.push_back(cal);
  ConfigChange hol = Change(ConfigChangeType::kAddHoliday);
  hol.date = 20182;
  changes.push_back(hol);
  hol.type = ConfigChangeType::kAddWorkday;
  changes.push_back(hol);
  ConfigChange w = Change(ConfigChangeType::kSetWeights);
  w.weights = {1.5, 2, 3, 4, 0.25};
  changes.push_back(w);
  ConfigChange p = Change(ConfigChangeType::kSetPolicy);
  p.policy = {false, false, 65, 120, 12};
  changes.push_back(p);
  changes.push_back(StaffChange("M", {Role::kReceiver, Role::kSupervisor}));

  Config direct, decoded;
  for (const ConfigChange& c : changes) {
    std::string payload = EncodeConfigChange(c);
    auto back = DecodeConfigChange(payload, 1);
    REQUIRE_MESSAGE(back.ok(), back.status().ToString());
    CHECK(back->type == c.type);
    CHECK(EncodeConfigChange(*back) == payload);
    REQUIRE(ApplyConfigChange(direct, c).ok());
    REQUIRE(ApplyConfigChange(decoded, *back).ok());
  }
  CHECK(direct.calendar == decoded.calendar);
  CHECK(direct.units.size() == decoded.units.size());
  CHECK(direct.routes.size() == decoded.routes.size());
  CHECK(decoded.weights.extension == 0.25);
  CHECK(decoded.policy.grid_group_digits == 12);
  CHECK(!decoded.policy.enforce_permissions);
  CHECK(decoded.staff["M"].roles == std::vector<Role>{Role::kReceiver, Role::kSupervisor});
  for (const auto& [key, cat] : direct.categories) {
    const CategoryInfo& d = decoded.categories.at(key);
    CHECK(d.name == cat.name);
    CHECK(d.limit == cat.limit);
    CHECK(d.emergency_limit == cat.emergency_limit);
    CHECK(d.verify_limit == cat.verify_limit);
  }
}

TEST_CASE("config codec: bad payloads are corruption, never a crash") {
  std::string payload = EncodeConfigChange(CategoryChange(E, "0102", "暴露垃圾", "1wd", "2h"));
  for (std::size_t n = 0; n < payload.size(); ++n) {
    auto r = DecodeConfigChange(payload.substr(0, n), 1);
    CHECK(r.status().IsCorruption());
  }
  CHECK(DecodeConfigChange(payload + "x", 1).status().IsCorruption());
  auto newer = DecodeConfigChange(payload, 3);
  CHECK(newer.status().IsCorruption());
  CHECK(newer.status().message() == "configuration change: newer schema 3 > 1");
  std::string bad_type = payload;
  bad_type[0] = 77;
  CHECK(DecodeConfigChange(bad_type, 1).status().IsCorruption());
  // A corrupted string length must not make the decoder allocate wildly or crash.
  std::string bad_len = payload;
  for (int i = 2; i < 9; ++i) bad_len[i] = '\xff';
  CHECK(DecodeConfigChange(bad_len, 1).status().IsCorruption());
}

TEST_CASE("the default district") {
  Config config;
  for (const ConfigChange& c : DefaultConfigChanges()) {
    Status s = ApplyConfigChange(config, c);
    REQUIRE_MESSAGE(s.ok(), ConfigEventTypeName(c.type), ": ", s.ToString());
  }
  CHECK(config.calendar == Calendar{});
  for (const char* u : {"POLICE",        "CIVIL",         "PLANNING",      "TRANSPORT",   "ENV",
                        "ENFORCE",       "ST_XIHU",       "ST_JIANLANLU",  "ST_XIYUAN",   "ST_XIZHAN",
                        "ST_DUNHUANGLU", "ST_GONGJIAWAN", "ST_YANJIAPING", "ST_XIUCHUAN", "POWER",
                        "TELECOM",       "POST",          "MOBILE",        "UNICOM",      "WATER"}) {
    CHECK_MESSAGE(config.units.count(u) == 1, u);
  }
  CHECK(config.units.at("ST_XIYUAN").name == "西园街道");
  for (const char* s : {"R1", "L1", "D1", "S1"}) CHECK(config.staff.count(s) == 1);
  CHECK(config.HasRole("L1", Role::kShiftLeader));
  CHECK(config.HasRole("S1", Role::kSupervisor));
  CHECK(config.inspectors.size() >= 3);

  // The classes of domain.md §3: components 01-06, events 01-05, each with subclasses.
  for (int cls = 1; cls <= 6; ++cls) {
    std::string code = "0" + std::to_string(cls) + "01";
    CHECK_MESSAGE(config.FindCategory(C, code) != nullptr, "component ", code);
  }
  for (int sub = 1; sub <= 6; ++sub) {
    CHECK(config.FindCategory(E, "010" + std::to_string(sub)) != nullptr);
  }
  for (int cls = 2; cls <= 5; ++cls) {
    CHECK(config.FindCategory(E, "0" + std::to_string(cls) + "01") != nullptr);
  }
  CHECK(config.FindCategory(C, "0101")->name == "上水井盖");
  CHECK(config.FindCategory(E, "0102")->name == "暴露垃圾");
  // Emergencies carry natural-hour emergency limits.
  for (const auto& [key, cat] : config.categories) {
    if (key.first == E && key.second.substr(0, 2) == "04") {
      REQUIRE(cat.emergency_limit.has_value());
      CHECK(cat.emergency_limit->unit == TimeLimit::Unit::kNatural);
    }
  }

  // Components by owner; events by locality with a fallback where sensible.
  CHECK(config.Route(C, "0101", "620102003001001") == "WATER");
  CHECK(config.Route(C, "0301", "") == "POWER");  // 路灯
  CHECK(config.Route(C, "0201", "") == "POLICE");
  CHECK(config.Route(C, "0204", "") == "TRANSPORT");
  CHECK(config.Route(E, "0102", "620102003001001") == "ST_XIYUAN");
  CHECK(config.Route(E, "0102", "620102008001001") == "ST_XIUCHUAN");
  CHECK(config.Route(E, "0102", "") == std::nullopt);  // no grid, no locality: coordination
  CHECK(config.Route(E, "0101", "620102001001001") == "ST_XIHU");
  CHECK(config.Route(E, "0101", "") == "ENFORCE");
  CHECK(config.Route(E, "0402", "") == "WATER");
  CHECK(config.Route(C, "0106", "620102001001001") == std::nullopt);  // telecom cover: three carriers
  // Every category can be routed somewhere or is deliberately left to coordination.
  for (const auto& [key, cat] : config.categories) {
    bool has_rule = false;
    for (const RouteRule& r : config.routes) has_rule |= r.kind == key.first && r.code == key.second;
    CHECK_MESSAGE(has_rule, Name(key.first), " ", key.second);
  }
}

TEST_CASE("the default district runs a case end to end") {
  Config config;
  for (const ConfigChange& c : DefaultConfigChanges()) REQUIRE(ApplyConfigChange(config, c).ok());
  Sim sim(std::move(config));
  sim.At("2025-03-31T09:00");
  sim.Ok(Report("K1", E, "0102", ReportSource::kHotline, "620102003001001", "R1"));
  sim.Ok(Cmd(CommandType::kRegister, "K1", "L1"));
  sim.Ok(Cmd(CommandType::kDispatch, "K1", "D1"));
  CHECK(sim.State("K1").unit == "ST_XIYUAN");
  CHECK(Fmt(sim.State("K1").deadline) == "2025-03-31T14:00:00+08:00");  // 4wh
  sim.Ok(Cmd(CommandType::kAccept, "K1", "ST_XIYUAN"));
  sim.Ok(Cmd(CommandType::kSupervise, "K1", "S1"));
  sim.Ok(Cmd(CommandType::kFeedback, "K1", "ST_XIYUAN"));
  CHECK(sim.State("K1").verifier == "I3");  // patrols 620102003
  CHECK(Fmt(sim.State("K1").verify_deadline) == "2025-03-31T10:00:00+08:00");
  sim.Ok(Verify("K1", true, "I3"));
  CHECK(sim.View("K1").state == LifecycleState::kClosed);
}

TEST_CASE("docs/domain-rules.md lists every unit and category of the default district") {
  std::ifstream in(std::string(CASELOOP_SOURCE_DIR) + "/docs/domain-rules.md");
  REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string doc = buf.str();
  Config config;
  for (const ConfigChange& c : DefaultConfigChanges()) REQUIRE(ApplyConfigChange(config, c).ok());
  for (const auto& [id, unit] : config.units) {
    CHECK_MESSAGE(doc.find(id) != std::string::npos, id);
    CHECK_MESSAGE(doc.find(unit.name) != std::string::npos, unit.name);
  }
  for (const auto& [key, cat] : config.categories) {
    std::string row = "| " + key.second + " | " + cat.name + " | " + FormatTimeLimit(cat.limit) + " | ";
    CHECK_MESSAGE(doc.find(row) != std::string::npos, row);
  }
}

// ---- Changes over the years (issue 23) -----------------------------------------

namespace {
ConfigChange Retire(ConfigChangeType type, const std::string& id, Instant when) {
  ConfigChange c = Change(type);
  c.unit.id = c.inspector.id = c.staff.id = id;
  c.time = when;
  return c;
}
ConfigChange RetireCategory(CaseKind kind, const std::string& code, Instant when) {
  ConfigChange c = Change(ConfigChangeType::kRetireCategory);
  c.category.kind = kind;
  c.category.code = code;
  c.time = when;
  return c;
}
}  // namespace

TEST_CASE("retire: a unit keeps its entry, loses its routes, and is never routed to or defined again") {
  Config config = WorkedConfig();
  const Instant when = T("2025-04-01T09:00");
  REQUIRE(config.Route(E, "0102", "") == "STREET");
  REQUIRE(ApplyConfigChange(config, Retire(ConfigChangeType::kRetireUnit, "STREET", when)).ok());
  CHECK(config.units.at("STREET").name == "西园街道");  // still there, for its past cases
  CHECK(config.UnitRetired("STREET") == when);
  CHECK(config.ActorRetired("STREET") == when);
  CHECK(!config.UnitRetired("WATER"));
  CHECK(config.Route(E, "0102", "") == std::nullopt);  // its rule went with it
  for (const RouteRule& r : config.routes) CHECK(r.unit != "STREET");

  CheckApply(config, Retire(ConfigChangeType::kRetireUnit, "STREET", when), StatusCode::kRejected,
             "unit STREET was retired at 2025-04-01T09:00:00+08:00 already");
  CheckApply(config, UnitChange("STREET", "新街道"), StatusCode::kRejected,
             "unit STREET was retired at 2025-04-01T09:00:00+08:00; a retired id is not defined again");
  CheckApply(config, RouteChange(E, "0102", "STREET"), StatusCode::kRejected,
             "route event 0102 → unit STREET: unit STREET was retired at 2025-04-01T09:00:00+08:00");
  ConfigChange rename = Change(ConfigChangeType::kRenameUnit);
  rename.unit = {"STREET", "新街道", std::nullopt};
  CheckApply(config, rename, StatusCode::kRejected, "unit STREET was retired at 2025-04-01T09:00:00+08:00");
  CheckApply(config, Retire(ConfigChangeType::kRetireUnit, "NOPE", when), StatusCode::kNotFound,
             "retire: unknown unit NOPE");
  ConfigChange far = Retire(ConfigChangeType::kRetireUnit, "WATER", kLatestInstant + Micros(1));
  CHECK(ApplyConfigChange(config, far).IsInvalidArgument());
  CHECK(!config.UnitRetired("WATER"));

  // A rule naming a retired unit that is somehow left (a log written by hand)
  // is skipped: routing never picks a retired unit.
  config.routes.push_back({E, "0102", "STREET", ""});
  CHECK(config.Route(E, "0102", "") == std::nullopt);
  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "WATER")).ok());
  CHECK(config.Route(E, "0102", "") == "WATER");
}

TEST_CASE("retire: inspectors, staff and categories; rename units and categories") {
  Config config = WorkedConfig();
  const Instant when = T("2025-04-01T09:00");
  REQUIRE(ApplyConfigChange(config, Retire(ConfigChangeType::kRetireInspector, "I1", when)).ok());
  REQUIRE(ApplyConfigChange(config, Retire(ConfigChangeType::kRetireStaff, "D1", when)).ok());
  CHECK(config.InspectorRetired("I1") == when);
  CHECK(config.StaffRetired("D1") == when);
  CHECK(config.ActorRetired("D1") == when);
  CHECK(!config.ActorRetired("L1"));
  CHECK(config.HasRole("D1", Role::kDispatcher));  // the roles stay; decide refuses the actor
  CheckApply(config, InspectorChange("I1", "620102"), StatusCode::kRejected,
             "inspector I1 was retired at 2025-04-01T09:00:00+08:00; a retired id is not defined again");
  CheckApply(config, StaffChange("D1", {Role::kDispatcher}), StatusCode::kRejected,
             "staff D1 was retired at 2025-04-01T09:00:00+08:00; a retired id is not defined again");
  CheckApply(config, Retire(ConfigChangeType::kRetireStaff, "nobody", when), StatusCode::kNotFound,
             "retire: unknown staff nobody");

  REQUIRE(ApplyConfigChange(config, RetireCategory(C, "0109", when)).ok());
  CHECK(config.CategoryRetired(C, "0109") == when);
  CHECK(config.FindCategory(C, "0109") != nullptr);  // its cases go on
  CHECK(config.Route(C, "0109", "") == std::nullopt);
  CheckApply(
      config, CategoryChange(C, "0109", "路灯", "3wd"), StatusCode::kRejected,
      "category component 0109 was retired at 2025-04-01T09:00:00+08:00; a retired code is not defined "
      "again");
  CheckApply(config, RetireCategory(E, "0109", when), StatusCode::kNotFound, "unknown category event 0109");

  ConfigChange rename = Change(ConfigChangeType::kRenameUnit);
  rename.unit = {"WATER", "水务集团", std::nullopt};
  REQUIRE(ApplyConfigChange(config, rename).ok());
  CHECK(config.units.at("WATER").name == "水务集团");
  rename.unit.name = "";
  CheckApply(config, rename, StatusCode::kInvalidArgument, "unit WATER: the new name is empty");
  ConfigChange cat = Change(ConfigChangeType::kRenameCategory);
  cat.category.kind = C;
  cat.category.code = "0101";
  cat.category.name = "供水井盖";
  REQUIRE(ApplyConfigChange(config, cat).ok());
  CHECK(config.FindCategory(C, "0101")->name == "供水井盖");
  CHECK(config.FindCategory(C, "0101")->limit == TimeLimit::WorkingHours(4));  // only the name

  // Redefining an active category changes its limits for later dispatches.
  REQUIRE(ApplyConfigChange(config, CategoryChange(C, "0101", "供水井盖", "6wh")).ok());
  CHECK(config.FindCategory(C, "0101")->limit == TimeLimit::WorkingHours(6));
}

TEST_CASE("remove and replace route rules") {
  Config config = WorkedConfig();
  ConfigChange remove = RouteChange(E, "0102", "STREET");
  remove.type = ConfigChangeType::kRemoveRoute;
  ConfigChange replace = RouteChange(E, "0102", "WATER");
  replace.type = ConfigChangeType::kReplaceRoute;

  REQUIRE(ApplyConfigChange(config, RouteChange(E, "0102", "POWER", "620102001")).ok());
  REQUIRE(ApplyConfigChange(config, replace).ok());  // the grid-less rule: STREET -> WATER
  CHECK(config.Route(E, "0102", "") == "WATER");
  CHECK(config.Route(E, "0102", "620102001001001") == "POWER");  // the grid rule stays
  CheckApply(config, remove, StatusCode::kNotFound, "route event 0102 → unit STREET: no such route rule");
  remove.route.unit = "WATER";
  REQUIRE(ApplyConfigChange(config, remove).ok());
  CHECK(config.Route(E, "0102", "") == std::nullopt);
  CHECK(config.Route(E, "0102", "620102001001001") == "POWER");
  CheckApply(config, replace, StatusCode::kNotFound,
             "route event 0102 → unit WATER: no route rule of that category and grid to replace");
  replace.route.unit = "NOPE";
  replace.route.grid_prefix = "620102001";
  CheckApply(config, replace, StatusCode::kNotFound,
             "route event 0102 grid 620102001 → unit NOPE: unknown unit");
}

TEST_CASE("config codec: the changes over the years round-trip; older payloads still decode") {
  const Instant when = T("2025-04-01T09:00");
  std::vector<ConfigChange> changes = {Retire(ConfigChangeType::kRetireUnit, "WATER", when),
                                       Retire(ConfigChangeType::kRetireInspector, "I1", when),
                                       Retire(ConfigChangeType::kRetireStaff, "D1", when),
                                       RetireCategory(C, "0109", when)};
  ConfigChange rename = Change(ConfigChangeType::kRenameUnit);
  rename.unit = {"STREET", "城管街道办", std::nullopt};
  changes.push_back(rename);
  ConfigChange cat = Change(ConfigChangeType::kRenameCategory);
  cat.category.kind = C;
  cat.category.code = "0101";
  cat.category.name = "供水井盖";
  changes.push_back(cat);
  ConfigChange replace = RouteChange(E, "0102", "POWER");
  replace.type = ConfigChangeType::kReplaceRoute;
  changes.push_back(replace);
  ConfigChange remove = RouteChange(E, "0102", "POWER");
  remove.type = ConfigChangeType::kRemoveRoute;
  changes.push_back(remove);

  Config direct = WorkedConfig(), decoded = WorkedConfig();
  for (const ConfigChange& c : changes) {
    INFO(ConfigEventTypeName(c.type));
    std::string payload = EncodeConfigChange(c);
    auto back = DecodeConfigChange(payload, 1);
    REQUIRE_MESSAGE(back.ok(), back.status().ToString());
    CHECK(back->type == c.type);
    CHECK(EncodeConfigChange(*back) == payload);
    for (std::size_t n = 0; n < payload.size(); ++n)
      CHECK(DecodeConfigChange(payload.substr(0, n), 1).status().IsCorruption());
    REQUIRE(ApplyConfigChange(direct, c).ok());
    REQUIRE(ApplyConfigChange(decoded, *back).ok());
  }
  CHECK(decoded.UnitRetired("WATER") == when);
  CHECK(decoded.InspectorRetired("I1") == when);
  CHECK(decoded.StaffRetired("D1") == when);
  CHECK(decoded.CategoryRetired(C, "0109") == when);
  CHECK(decoded.units.at("STREET").name == "城管街道办");
  CHECK(decoded.FindCategory(C, "0101")->name == "供水井盖");
  CHECK(decoded.Route(E, "0102", "") == std::nullopt);
  CHECK(decoded.routes.size() == direct.routes.size());

  // A unit_defined payload as the first schema-1 logs wrote it (cereal's
  // endianness byte, type 3, then two strings: uint64 length + bytes) decodes
  // as before.
  const std::string old_payload(
      "\x01\x03"
      "\x05\x00\x00\x00\x00\x00\x00\x00WATER"
      "\x09\x00\x00\x00\x00\x00\x00\x00\xe6\xb0\xb4\xe5\x8a\xa1\xe5\xb1\x80",
      1 + 1 + 8 + 5 + 8 + 9);
  auto old = DecodeConfigChange(old_payload, 1);
  REQUIRE_MESSAGE(old.ok(), old.status().ToString());
  CHECK(old->type == ConfigChangeType::kDefineUnit);
  CHECK(old->unit.id == "WATER");
  CHECK(old->unit.name == "水务局");
  CHECK(EncodeConfigChange(*old) == old_payload);
  // A type past the last one is still corruption.
  CHECK(DecodeConfigChange(std::string("\x01\x13", 2), 1).status().IsCorruption());
}

TEST_CASE("config event type names: the changes over the years") {
  const std::pair<ConfigChangeType, const char*> names[] = {
      {ConfigChangeType::kRetireUnit, "unit_retired"},
      {ConfigChangeType::kRetireInspector, "inspector_retired"},
      {ConfigChangeType::kRetireStaff, "staff_retired"},
      {ConfigChangeType::kRetireCategory, "category_retired"},
      {ConfigChangeType::kRenameUnit, "unit_renamed"},
      {ConfigChangeType::kRenameCategory, "category_renamed"},
      {ConfigChangeType::kRemoveRoute, "route_removed"},
      {ConfigChangeType::kReplaceRoute, "route_replaced"}};
  for (const auto& [type, name] : names) {
    CHECK(ConfigEventTypeName(type) == name);
    CHECK(ParseConfigEventType(name) == type);
    CHECK(ConfigChangeHasTime(type) == (std::string(name).find("retired") != std::string::npos));
  }
}
