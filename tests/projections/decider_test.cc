// Events produced by the real decider (Decide / Evolve) drive the projections:
// the worked deadlines of domain.md §8 show up in DueBefore / Overdue, and the
// evaluation agrees with the decider's on-time verdicts.
#include <doctest/doctest.h>

#include <map>

#include "history.h"

namespace caseloop::testing {
namespace {

Config WorkedDistrict() {
  std::vector<ConfigChange> changes;
  auto add = [&](ConfigChangeType type) -> ConfigChange& {
    changes.emplace_back();
    changes.back().type = type;
    return changes.back();
  };
  add(ConfigChangeType::kSetCalendar);
  auto holiday = ParseLocalDate("2025-04-04");
  REQUIRE(holiday.ok());
  add(ConfigChangeType::kAddHoliday).date = *holiday;
  for (const char* u : {"WATER", "POWER", "BUILD"}) add(ConfigChangeType::kDefineUnit).unit = {u, u};
  add(ConfigChangeType::kDefineInspector).inspector = {"I1", "620102"};
  add(ConfigChangeType::kDefineStaff).staff = {"R1", {Role::kReceiver}};
  add(ConfigChangeType::kDefineStaff).staff = {"L1", {Role::kShiftLeader}};
  add(ConfigChangeType::kDefineStaff).staff = {"D1", {Role::kDispatcher}};
  struct Cat {
    CaseKind kind;
    const char* code;
    TimeLimit limit;
    const char* unit;
  };
  for (const Cat& c : {Cat{CaseKind::kComponent, "0101", TimeLimit::WorkingHours(4), "WATER"},
                       Cat{CaseKind::kComponent, "0109", TimeLimit::WorkingDays(3), "POWER"},
                       Cat{CaseKind::kEvent, "0301", TimeLimit::WorkingDays(5), "BUILD"}}) {
    auto& cat = add(ConfigChangeType::kDefineCategory).category;
    cat.kind = c.kind;
    cat.code = c.code;
    cat.name = c.code;
    cat.limit = c.limit;
    add(ConfigChangeType::kDefineRoute).route = {c.kind, c.code, c.unit, ""};
  }
  Config config;
  for (const auto& c : changes) {
    Status s = ApplyConfigChange(config, c);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  return config;
}

// Decide + Evolve + append, as the engine does.
class Driver {
 public:
  Driver()
      : config_(WorkedDistrict()),
        storage_(NewMemoryStorage()),
        store_(storage_.log),
        p_(Projections::Create(store_.get(), storage_.projections.get())) {}

  void Run(const char* at, CommandType type, const std::string& case_id, const std::string& actor,
           void (*fill)(Command&) = nullptr) {
    Command cmd;
    cmd.type = type;
    cmd.case_id = case_id;
    cmd.actor = actor;
    cmd.at = At(at);
    if (fill) fill(cmd);
    CaseState& s = cases_[case_id];
    auto events = Decide(s, cmd, config_, At(at));
    REQUIRE_MESSAGE(events.ok(), case_id, " ", Name(type), ": ", events.status().ToString());
    std::vector<NewEvent> encoded;
    for (const CaseEvent& e : *events) {
      Status st = Evolve(s, e, config_);
      REQUIRE_MESSAGE(st.ok(), st.ToString());
      encoded.push_back(EncodeCaseEvent(e));
    }
    REQUIRE(store_->Append(case_id, ExpectedVersion::Any(), std::move(encoded)).ok());
    REQUIRE(p_->CatchUp().ok());
  }
  // Report (inspector I1, grid in their patrol), register, dispatch by routing.
  void Open(const char* report_at, const char* dispatch_at, const std::string& id, CaseKind kind,
            const std::string& code) {
    Command cmd;
    cmd.type = CommandType::kReport;
    cmd.case_id = id;
    cmd.actor = "I1";
    cmd.kind = kind;
    cmd.category = code;
    cmd.source = ReportSource::kInspector;
    cmd.grid = "620102001001001";
    CaseState& s = cases_[id];
    auto events = Decide(s, cmd, config_, At(report_at));
    REQUIRE_MESSAGE(events.ok(), events.status().ToString());
    for (const CaseEvent& e : *events) {
      REQUIRE(Evolve(s, e, config_).ok());
      REQUIRE(store_->Append(id, ExpectedVersion::Any(), {EncodeCaseEvent(e)}).ok());
    }
    Run(report_at, CommandType::kRegister, id, "L1");
    Run(dispatch_at, CommandType::kDispatch, id, "D1");
  }

  Config& config() { return config_; }
  Projections& p() { return *p_; }
  CaseState& state(const std::string& id) { return cases_[id]; }

 private:
  Config config_;
  Storage storage_;
  std::shared_ptr<EventStore> store_;
  std::unique_ptr<Projections> p_;
  std::map<std::string, CaseState> cases_;
};

std::map<std::string, Instant> Deadlines(Projections& p) {
  auto due = p.DueBefore(At("2030-01-01"), 100);
  REQUIRE(due.ok());
  std::map<std::string, Instant> out;
  for (const auto& t : *due) out[t.case_id] = t.deadline;
  return out;
}

TEST_CASE("decider events: the worked deadlines of domain.md §8 and the evaluation") {
  Driver d;
  // §8.1: 4 wh dispatched Mon 10:30 -> Mon 15:30.
  d.Open("2025-03-31T10:00", "2025-03-31T10:30", "A", CaseKind::kComponent, "0101");
  // §8.3: 3 wd dispatched Mon 14:00 -> Thu 04-03 14:00; +2 wd approved Wed -> Tue 04-08 14:00.
  d.Open("2025-03-31T13:00", "2025-03-31T14:00", "B", CaseKind::kComponent, "0109");
  // §8.4: 5 wd dispatched Mon 09:00 -> Mon 04-07 17:00.
  d.Open("2025-03-31T08:00", "2025-03-31T09:00", "C", CaseKind::kEvent, "0301");
  auto dl = Deadlines(d.p());
  CHECK(dl.at("A") == At("2025-03-31T15:30"));
  CHECK(dl.at("B") == At("2025-04-03T14:00"));
  CHECK(dl.at("C") == At("2025-04-07T17:00"));

  d.Run("2025-03-31T14:30", CommandType::kAccept, "B", "POWER");
  d.Run("2025-04-02T10:00", CommandType::kExtend, "B", "POWER", [](Command& c) {
    c.limit = TimeLimit::WorkingDays(2);
    c.reason = "parts";
  });
  d.Run("2025-04-02T10:30", CommandType::kApprove, "B", "D1");
  CHECK(Deadlines(d.p()).at("B") == At("2025-04-08T14:00"));

  // §8.4: suspended Tue 04-01 09:00, resumed Mon 04-14 09:00 -> Thu 04-17 17:00.
  d.Run("2025-03-31T09:30", CommandType::kAccept, "C", "BUILD");
  d.Run("2025-04-01T09:00", CommandType::kSuspend, "C", "BUILD", [](Command& c) { c.reason = "permit"; });
  d.Run("2025-04-01T09:00", CommandType::kApprove, "C", "D1");
  CHECK(Deadlines(d.p()).count("C") == 0);
  auto overdue = d.p().Overdue(At("2025-04-10T09:00"));
  REQUIRE(overdue.ok());
  REQUIRE(overdue->size() == 2);  // C is suspended; A's feedback comes later in this test
  CHECK((*overdue)[0].case_id == "A");
  CHECK((*overdue)[1].case_id == "B");

  // A: feedback exactly at its deadline is on time; verified by I1.
  d.Run("2025-03-31T15:30", CommandType::kAccept, "A", "WATER");
  d.Run("2025-03-31T15:30", CommandType::kFeedback, "A", "WATER");
  CHECK(d.state("A").on_time == true);
  d.Run("2025-03-31T16:00", CommandType::kVerify, "A", "I1", [](Command& c) { c.verify_pass = true; });

  // The timer marks B overdue once: it leaves DueBefore.
  d.Run("2025-04-08T14:00:01", CommandType::kMarkOverdue, "B", "$timer", [](Command& c) { c.task = 1; });
  CHECK(Deadlines(d.p()).count("B") == 0);
  overdue = d.p().Overdue(At("2025-04-08T16:00"));
  REQUIRE(overdue.ok());
  REQUIRE(overdue->size() == 1);
  CHECK((*overdue)[0].case_id == "B");
  CHECK((*overdue)[0].overdue_hours == 2.0);

  d.Run("2025-04-14T09:00", CommandType::kResume, "C", "D1");
  CHECK(Deadlines(d.p()).at("C") == At("2025-04-17T17:00"));

  PeriodQuery q{At("2025-03-01"), At("2025-05-01"), At("2025-04-16T12:00"), ""};
  auto rates = d.p().Rates(q, d.config());
  REQUIRE(rates.ok());
  REQUIRE(rates->size() == 3);
  CHECK((*rates)[0].unit == "WATER");
  CHECK((*rates)[0].score == 100.0);
  CHECK((*rates)[1].unit == "POWER");
  CHECK((*rates)[1].due == 1);
  CHECK((*rates)[1].overdue_open == 1);
  CHECK((*rates)[1].extended == 1);
  CHECK((*rates)[2].unit == "BUILD");  // resumed, not yet due: null score, last
  CHECK_FALSE((*rates)[2].score.has_value());
  q.at = At("2025-04-18T09:00");
  rates = d.p().Rates(q, d.config());
  REQUIRE(rates.ok());
  const UnitRates* build = FindUnit(*rates, "BUILD");
  REQUIRE(build != nullptr);
  CHECK(build->due == 1);
  CHECK(build->overdue_open == 1);

  auto ins = d.p().Inspectors(q);
  REQUIRE(ins.ok());
  REQUIRE(ins->size() == 1);
  CHECK((*ins)[0].reports == 3);
  CHECK((*ins)[0].valid == 3);
  CHECK((*ins)[0].verifications == 1);
  CHECK((*ins)[0].verified_on_time == 1);  // 30 min after feedback, limit 1 wh
  auto centre = d.p().Centre(q, d.config());
  REQUIRE(centre.ok());
  CHECK(centre->closed == 1);
  CHECK(centre->closed_on_time == 1);
  CHECK(centre->received_by_category.at("component/0109") == 1);
  CHECK(centre->received_by_grid.at("620102001") == 3);
  auto check = d.p().Check();
  REQUIRE(check.ok());
  CHECK(check->empty());
}

}  // namespace
}  // namespace caseloop::testing
