// Helpers shared by the engine tests: a tiny district (the one of
// shared/scenarios/worked.cl), instants, commands and temporary directories.
#ifndef CASELOOP_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
#define CASELOOP_TESTS_ENGINE_ENGINE_TEST_UTIL_H_

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/engine.h"

#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
#include "postgres/pg_test_util.h"
#endif

namespace caseloop::test {

inline Instant T(const char* text) {
  Result<Instant> t = ParseInstant(text, 8 * 60);
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  return *t;
}

inline std::string Fmt(Instant t) { return FormatInstant(t, 8 * 60); }

inline ConfigChange Unit(const std::string& id) {
  ConfigChange c;
  c.type = ConfigChangeType::kDefineUnit;
  c.unit = {id, id + " unit"};
  return c;
}
inline ConfigChange Staff(const std::string& id, Role role) {
  ConfigChange c;
  c.type = ConfigChangeType::kDefineStaff;
  c.staff = {id, {role}};
  return c;
}
inline ConfigChange Category(CaseKind kind, const std::string& code, TimeLimit limit,
                             std::optional<TimeLimit> emergency = {}) {
  ConfigChange c;
  c.type = ConfigChangeType::kDefineCategory;
  c.category.kind = kind;
  c.category.code = code;
  c.category.name = "category " + code;
  c.category.limit = limit;
  c.category.emergency_limit = emergency;
  return c;
}
inline ConfigChange Route(CaseKind kind, const std::string& code, const std::string& unit) {
  ConfigChange c;
  c.type = ConfigChangeType::kDefineRoute;
  c.route = {kind, code, unit, ""};
  return c;
}

// The district of worked.cl: default calendar, 2025-04-04 a holiday.
inline std::vector<ConfigChange> District() {
  std::vector<ConfigChange> out;
  ConfigChange cal;
  cal.type = ConfigChangeType::kSetCalendar;
  out.push_back(cal);
  ConfigChange holiday;
  holiday.type = ConfigChangeType::kAddHoliday;
  holiday.date = *ParseLocalDate("2025-04-04");
  out.push_back(holiday);
  for (const char* u : {"WATER", "STREET", "POWER", "BUILD"}) out.push_back(Unit(u));
  ConfigChange insp;
  insp.type = ConfigChangeType::kDefineInspector;
  insp.inspector = {"I1", "620102"};
  out.push_back(insp);
  out.push_back(Staff("R1", Role::kReceiver));
  out.push_back(Staff("L1", Role::kShiftLeader));
  out.push_back(Staff("D1", Role::kDispatcher));
  out.push_back(Staff("S1", Role::kSupervisor));
  out.push_back(Category(CaseKind::kComponent, "0101", TimeLimit::WorkingHours(4)));
  out.push_back(Category(CaseKind::kEvent, "0102", TimeLimit::WorkingDays(1)));
  out.push_back(Category(CaseKind::kComponent, "0109", TimeLimit::WorkingDays(3)));
  out.push_back(Category(CaseKind::kEvent, "0301", TimeLimit::WorkingDays(5)));
  out.push_back(Category(CaseKind::kEvent, "0401", TimeLimit::WorkingDays(5), TimeLimit::NaturalHours(2)));
  out.push_back(Route(CaseKind::kComponent, "0101", "WATER"));
  out.push_back(Route(CaseKind::kEvent, "0102", "STREET"));
  out.push_back(Route(CaseKind::kComponent, "0109", "POWER"));
  out.push_back(Route(CaseKind::kEvent, "0301", "BUILD"));
  out.push_back(Route(CaseKind::kEvent, "0401", "BUILD"));
  return out;
}

inline void ConfigureDistrict(Engine& e) {
  for (const ConfigChange& c : District()) {
    Result<CommandAck> r = e.Configure(c);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  }
}

inline Command Cmd(CommandType type, const std::string& case_id, const std::string& actor,
                   std::optional<Instant> at = {}) {
  Command c;
  c.type = type;
  c.case_id = case_id;
  c.actor = actor;
  c.at = at;
  return c;
}

// report by I1 with a category of the district.
inline Command Report(const std::string& id, CaseKind kind, const std::string& category,
                      std::optional<Instant> at = {}) {
  Command c = Cmd(CommandType::kReport, id, "I1", at);
  c.kind = kind;
  c.category = category;
  c.source = ReportSource::kInspector;
  c.grid = "620102001001001";
  return c;
}

inline CommandAck MustSubmit(Engine& e, const Command& c) {
  Result<CommandAck> r = e.Submit(c);
  std::string what = std::string(Name(c.type)) + " " + c.case_id + ": " + r.status().ToString();
  REQUIRE_MESSAGE(r.ok(), what);
  return *r;
}

// report + register + dispatch (+ accept by `unit`) of a 4 wh water case.
inline void OpenWaterCase(Engine& e, const std::string& id, Instant at, bool accept = true) {
  MustSubmit(e, Report(id, CaseKind::kComponent, "0101", at));
  MustSubmit(e, Cmd(CommandType::kRegister, id, "L1", at));
  MustSubmit(e, Cmd(CommandType::kDispatch, id, "D1", at));
  if (accept) MustSubmit(e, Cmd(CommandType::kAccept, id, "WATER", at));
}

// A fresh temporary directory, removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("caseloop-engine-" + std::to_string(rd()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
  // tests/postgres runs these tests with every store in PostgreSQL.
  std::string path() const { return pg_path_; }
#else
  std::string path() const { return (path_ / "db").string(); }
#endif

 private:
  std::filesystem::path path_;
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
  std::string pg_path_ = caseloop::testing::NewPostgresPath();
#endif
};

inline std::unique_ptr<Engine> MustOpen(const EngineOptions& o) {
  Result<std::unique_ptr<Engine>> e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(e).value();
}

// Engine options with a manual clock at `start`.
inline EngineOptions ManualOptions(Instant start, std::string path = kInMemoryPath) {
  EngineOptions o;
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
  if (path == kInMemoryPath) path = caseloop::testing::NewPostgresPath();
#endif
  o.path = std::move(path);
  o.clock = std::make_shared<ManualClock>(start);
  return o;
}

// The log's events of `type` for `case_id`.
inline std::vector<LoggedEvent> EventsOf(Engine& e, const std::string& case_id, EventType type) {
  Result<std::vector<LoggedEvent>> h = e.History(case_id);
  REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  std::vector<LoggedEvent> out;
  for (const LoggedEvent& le : *h)
    if (le.event && le.event->type == type) out.push_back(le);
  return out;
}

// A case's state on one line (every field a rebuild must reproduce), to compare.
inline std::string Describe(const CaseState& s) {
  std::ostringstream o;
  o << s.id << " " << Name(s.state) << " pending=" << Name(s.pending) << " unit=" << s.unit
    << " task=" << s.task << " deadline=" << (s.deadline ? MicrosOf(*s.deadline) : -1)
    << " remaining=" << s.remaining.count() << " marked=" << s.overdue_marked
    << " feedback=" << (s.feedback_time ? MicrosOf(*s.feedback_time) : -1)
    << " on_time=" << (s.on_time ? int(*s.on_time) : -1) << " verifier=" << s.verifier
    << " dispatches=" << s.dispatches << " reworks=" << s.reworks << " extensions=" << s.extensions
    << " supervisions=" << s.supervisions << " version=" << s.version
    << " last=" << MicrosOf(s.last_event_time);
  return o.str();
}

// The projections' figures (rates, centre, workload, overdue list for
// March–April 2025) evaluated at `at`, as text to compare.
inline std::string Describe(Engine& e, Instant at) {
  std::ostringstream o;
  PeriodQuery q;
  q.from = T("2025-03-01T00:00");
  q.to = T("2025-05-01T00:00");
  q.at = at;
  Result<std::vector<UnitRates>> rates = e.Rates(q);
  REQUIRE_MESSAGE(rates.ok(), rates.status().ToString());
  for (const UnitRates& r : *rates)
    o << r.unit << " due=" << r.due << " handled=" << r.handled << " on_time=" << r.on_time
      << " late=" << r.late << " open=" << r.overdue_open << " reworked=" << r.reworked
      << " extended=" << r.extended << " score=" << r.score.value_or(-1) << "\n";
  Result<CentreFigures> c = e.Centre(q);
  REQUIRE(c.ok());
  o << "centre " << c->received << " " << c->registered << " " << c->rejected << " " << c->voided << " "
    << c->closed << " " << c->closed_on_time << "\n";
  Result<std::vector<UnitWorkload>> w = e.Workload(at);
  REQUIRE(w.ok());
  for (const UnitWorkload& u : *w)
    o << u.unit << " open=" << u.open_tasks << " overdue=" << u.overdue_tasks << "\n";
  Result<std::vector<OverdueTask>> od = e.Overdue(at);
  REQUIRE(od.ok());
  for (const OverdueTask& t : *od)
    o << "overdue " << t.case_id << " " << t.unit << " " << MicrosOf(t.deadline) << "\n";
  return o.str();
}

}  // namespace caseloop::test

#endif  // CASELOOP_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
