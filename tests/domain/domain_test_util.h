// Helpers for the domain tests: times, the worked.cl configuration, and a
// tiny in-memory "engine" that runs Decide + Evolve over a map of cases.
#ifndef CASELOOP_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
#define CASELOOP_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"

namespace caseloop::testing {

// A local time at +08:00, e.g. T("2025-03-31T10:30").
inline Instant T(const std::string& text) {
  auto r = ParseInstant(text, 8 * 60);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

inline std::string Fmt(const std::optional<Instant>& t) { return t ? FormatInstant(*t, 8 * 60) : "null"; }

// An event with every field set to a non-default value (codec and JSON tests).
inline CaseEvent Full(EventType type) {
  CaseEvent e;
  e.type = type;
  e.case_id = "A1";
  e.time = T("2025-03-31T10:30");
  e.actor = "D1";
  e.kind = CaseKind::kComponent;
  e.category = "0101";
  e.source = ReportSource::kCitizen;
  e.grid = "620102001001001";
  e.component = "6201020101000001";
  e.lat = 36.0611;
  e.lon = 103.8343;
  e.address = "西津西路 12 号";
  e.description = "井盖缺失";
  e.media_url = "https://example.org/p/1.jpg";
  e.address_id = "620102-0012";
  e.attributes = {{"DEPTH", "30"}, {"LANE", ""}};
  e.contact = {"a@example.org", "dev-1", "acc-9", "Li", "Wei", "+86 931 000"};
  e.emergency = true;
  e.into = "A0";
  e.unit = "WATER";
  e.reason = "r";
  e.note = "n";
  e.limit = TimeLimit::WorkingHours(4);
  e.deadline = T("2025-03-31T15:30");
  e.task = 3;
  e.remaining_us = 28LL * 3600 * 1000000;
  e.verifier = "I1";
  e.on_time = false;
  e.request = PendingRequest::kSuspend;
  return e;
}

inline ConfigChange Change(ConfigChangeType type) {
  ConfigChange c;
  c.type = type;
  return c;
}

inline ConfigChange UnitChange(const std::string& id, const std::string& name) {
  ConfigChange c = Change(ConfigChangeType::kDefineUnit);
  c.unit = {id, name};
  return c;
}
inline ConfigChange InspectorChange(const std::string& id, const std::string& grid) {
  ConfigChange c = Change(ConfigChangeType::kDefineInspector);
  c.inspector = {id, grid};
  return c;
}
inline ConfigChange StaffChange(const std::string& id, std::vector<Role> roles) {
  ConfigChange c = Change(ConfigChangeType::kDefineStaff);
  c.staff = {id, std::move(roles)};
  return c;
}
inline ConfigChange CategoryChange(CaseKind kind, const std::string& code, const std::string& name,
                                   const std::string& limit, const std::string& emergency = "") {
  ConfigChange c = Change(ConfigChangeType::kDefineCategory);
  c.category.kind = kind;
  c.category.code = code;
  c.category.name = name;
  auto l = ParseTimeLimit(limit);
  REQUIRE(l.ok());
  c.category.limit = *l;
  if (!emergency.empty()) {
    auto e = ParseTimeLimit(emergency);
    REQUIRE(e.ok());
    c.category.emergency_limit = *e;
  }
  return c;
}
inline ConfigChange RouteChange(CaseKind kind, const std::string& code, const std::string& unit,
                                const std::string& prefix = "") {
  ConfigChange c = Change(ConfigChangeType::kDefineRoute);
  c.route = {kind, code, unit, prefix};
  return c;
}

// The configuration at the top of shared/scenarios/worked.cl.
inline Config WorkedConfig() {
  std::vector<ConfigChange> changes;
  changes.push_back(Change(ConfigChangeType::kSetCalendar));  // +08:00, mon-fri, 09-12,13-17
  ConfigChange holiday = Change(ConfigChangeType::kAddHoliday);
  auto d = ParseLocalDate("2025-04-04");
  REQUIRE(d.ok());
  holiday.date = *d;
  changes.push_back(holiday);
  changes.push_back(UnitChange("WATER", "水务局"));
  changes.push_back(UnitChange("STREET", "西园街道"));
  changes.push_back(UnitChange("POWER", "供电局"));
  changes.push_back(UnitChange("BUILD", "规划建设局"));
  changes.push_back(InspectorChange("I1", "620102"));
  changes.push_back(StaffChange("R1", {Role::kReceiver}));
  changes.push_back(StaffChange("L1", {Role::kShiftLeader}));
  changes.push_back(StaffChange("D1", {Role::kDispatcher}));
  const CaseKind C = CaseKind::kComponent, E = CaseKind::kEvent;
  changes.push_back(CategoryChange(C, "0101", "上水井盖", "4wh"));
  changes.push_back(CategoryChange(E, "0102", "暴露垃圾", "1wd"));
  changes.push_back(CategoryChange(C, "0109", "路灯", "3wd"));
  changes.push_back(CategoryChange(E, "0301", "施工管理", "5wd"));
  changes.push_back(CategoryChange(E, "0401", "路面塌陷", "5wd", "2h"));
  changes.push_back(RouteChange(C, "0101", "WATER"));
  changes.push_back(RouteChange(E, "0102", "STREET"));
  changes.push_back(RouteChange(C, "0109", "POWER"));
  changes.push_back(RouteChange(E, "0301", "BUILD"));
  changes.push_back(RouteChange(E, "0401", "BUILD"));
  Config config;
  for (const ConfigChange& c : changes) {
    Status s = ApplyConfigChange(config, c);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  return config;
}

// Runs commands against a map of cases, as the engine would: Decide, then
// Evolve every decided event. Keeps the full event log per case.
class Sim {
 public:
  explicit Sim(Config config) : config_(std::move(config)) {}

  Config& config() { return config_; }
  void At(const std::string& local) { now_ = T(local); }
  Instant now() const { return now_; }

  // Runs `cmd` at the current time; returns the status (events applied on OK).
  Status Run(Command cmd) {
    CaseState& s = cases_[cmd.case_id];
    CaseLookup lookup = [this](const std::string& id) {
      auto it = cases_.find(id);
      return it == cases_.end() ? LifecycleState::kNone : it->second.state;
    };
    auto r = Decide(s, cmd, config_, now_, lookup);
    if (!r.ok()) {
      if (s.state == LifecycleState::kNone) cases_.erase(cmd.case_id);
      return r.status();
    }
    for (const CaseEvent& e : *r) {
      Status st = Evolve(s, e, config_);
      if (!st.ok()) return st;
      log_[cmd.case_id].push_back(e);
    }
    last_events_ = *r;
    return Status::Ok();
  }
  // Runs `cmd` and fails the test unless it succeeds.
  void Ok(Command cmd) {
    std::string what = std::string(Name(cmd.type)) + " " + cmd.case_id;
    Status s = Run(std::move(cmd));
    REQUIRE_MESSAGE(s.ok(), what << ": " << s.ToString());
  }

  const CaseState& State(const std::string& id) { return cases_[id]; }
  CaseView View(const std::string& id) { return ViewCase(cases_[id], config_, now_); }
  const std::vector<CaseEvent>& Log(const std::string& id) { return log_[id]; }
  const std::vector<CaseEvent>& LastEvents() const { return last_events_; }
  const std::map<std::string, CaseState>& cases() const { return cases_; }

 private:
  Config config_;
  Instant now_{};
  std::map<std::string, CaseState> cases_;
  std::map<std::string, std::vector<CaseEvent>> log_;
  std::vector<CaseEvent> last_events_;
};

// Command builders.
inline Command Cmd(CommandType type, const std::string& id, const std::string& actor) {
  Command c;
  c.type = type;
  c.case_id = id;
  c.actor = actor;
  return c;
}
inline Command Report(const std::string& id, CaseKind kind, const std::string& category, ReportSource source,
                      const std::string& grid, const std::string& actor, bool emergency = false) {
  Command c = Cmd(CommandType::kReport, id, actor);
  c.kind = kind;
  c.category = category;
  c.source = source;
  c.grid = grid;
  c.emergency = emergency;
  return c;
}
inline Command WithReason(Command c, const std::string& reason) {
  c.reason = reason;
  return c;
}
inline Command WithLimit(Command c, const std::string& limit) {
  auto l = ParseTimeLimit(limit);
  REQUIRE(l.ok());
  c.limit = *l;
  return c;
}
inline Command Verify(const std::string& id, bool pass, const std::string& actor) {
  Command c = Cmd(CommandType::kVerify, id, actor);
  c.verify_pass = pass;
  return c;
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_DOMAIN_DOMAIN_TEST_UTIL_H_
