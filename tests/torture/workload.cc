// The random workload of workload.h.
#include "workload.h"

#include <array>
#include <sstream>

#include "caseloop/calendar.h"
#include "caseloop/case_types.h"

namespace caseloop::torture {
namespace {

struct CategoryPick {
  CaseKind kind;
  const char* code;
};
// Owner-routed, tied (coordination), routed by grid, emergencies (natural hours).
constexpr std::array<CategoryPick, 10> kCategories = {{
    {CaseKind::kComponent, "0101"},  // WATER, 4wh (2h emergency)
    {CaseKind::kComponent, "0106"},  // three carriers tie: coordination
    {CaseKind::kComponent, "0301"},  // POWER, 3wd
    {CaseKind::kComponent, "0305"},  // by grid only: a street office, or coordination
    {CaseKind::kEvent, "0102"},      // by grid: a street office, 4wh
    {CaseKind::kEvent, "0103"},      // by grid, else ENFORCE, 1wd
    {CaseKind::kEvent, "0402"},      // WATER, 4wh (2h emergency)
    {CaseKind::kEvent, "0406"},      // POLICE, 4wh (1h emergency)
    {CaseKind::kEvent, "0503"},      // POLICE, 4wh
    {CaseKind::kEvent, "0506"},      // COMMERCE, 3wd
}};
constexpr std::array<const char*, 5> kGrids = {"620102001001001", "620102002003004", "620102003001002",
                                               "620102004002001", "620102008001001"};
constexpr std::array<const char*, 6> kUnits = {"WATER", "POWER", "POLICE", "ENFORCE", "ST_XIHU", "TELECOM"};
constexpr std::array<const char*, 5> kInspectors = {"I1", "I2", "I3", "I4", "I5"};

template <typename A>
auto Pick(std::mt19937_64& rng, const A& a) {
  return a[static_cast<std::size_t>(Uniform(rng, 0, static_cast<std::int64_t>(a.size()) - 1))];
}

Command Make(CommandType type, const CaseState& s, const std::string& actor) {
  Command c;
  c.type = type;
  c.case_id = s.id;
  c.actor = actor;
  return c;
}

std::optional<TimeLimit> RandomLimit(std::mt19937_64& rng) {
  switch (Uniform(rng, 0, 3)) {
    case 0:
      return TimeLimit::WorkingHours(Uniform(rng, 1, 8));
    case 1:
      return TimeLimit::WorkingDays(Uniform(rng, 1, 3));
    case 2:
      return TimeLimit::NaturalHours(Uniform(rng, 1, 48));
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string Text(Instant t) { return FormatInstant(t, 8 * 60); }

Command NewReport(const std::string& case_id, std::mt19937_64& rng) {
  Command c;
  c.type = CommandType::kReport;
  c.case_id = case_id;
  CategoryPick cat = Pick(rng, kCategories);
  c.kind = cat.kind;
  c.category = cat.code;
  if (Chance(rng, 0.8)) c.grid = Pick(rng, kGrids);
  if (Chance(rng, 0.6)) {
    c.source = ReportSource::kInspector;
    c.actor = Pick(rng, kInspectors);
  } else {
    c.source = static_cast<ReportSource>(Uniform(rng, 1, 4));
    c.actor = "R1";
  }
  c.emergency = Chance(rng, 0.1);
  if (Chance(rng, 0.3)) {
    c.lat = 36.05 + static_cast<double>(Uniform(rng, 0, 1000)) / 1e4;
    c.lon = 103.75 + static_cast<double>(Uniform(rng, 0, 1000)) / 1e4;
  }
  if (Chance(rng, 0.5)) c.address = "No. " + std::to_string(Uniform(rng, 1, 999)) + " 西津西路";
  if (Chance(rng, 0.5)) c.description = "torture case " + case_id + " 井盖缺失";
  return c;
}

std::optional<Command> NextCommand(const CaseState& s, std::mt19937_64& rng,
                                   const std::string& merge_target) {
  const int roll = static_cast<int>(Uniform(rng, 0, 99));
  // A few commands the engine must refuse: the wrong actor for the state.
  if (roll < 3 && IsOpen(s.state)) {
    Command c = Make(static_cast<CommandType>(Uniform(rng, 1, 15)), s, Pick(rng, kUnits));
    c.reason = "refuse me";
    c.verify_pass = true;
    c.limit = TimeLimit::WorkingHours(1);
    return c;
  }
  const std::string unit = s.unit.empty() ? std::string("WATER") : s.unit;
  switch (s.state) {
    case LifecycleState::kReported: {
      if (roll < 70) {
        Command c = Make(CommandType::kRegister, s, "L1");
        if (Chance(rng, 0.2)) c.category = s.category;  // confirmed at registration
        return c;
      }
      if (roll < 80) {
        Command c = Make(CommandType::kReject, s, Chance(rng, 0.5) ? "R1" : "L1");
        c.reason = "not a public-space problem";
        return c;
      }
      if (roll < 90 && !merge_target.empty()) {
        Command c = Make(CommandType::kMerge, s, "R1");
        c.into = merge_target;
        return c;
      }
      Command c = Make(CommandType::kVoid, s, "L1");
      c.reason = "entered twice";
      return c;
    }
    case LifecycleState::kRegistered:
    case LifecycleState::kCoordinating: {
      if (roll < 92) {
        Command c = Make(CommandType::kDispatch, s, "D1");
        if (s.state == LifecycleState::kCoordinating || Chance(rng, 0.2)) c.unit = Pick(rng, kUnits);
        if (Chance(rng, 0.3)) c.limit = RandomLimit(rng);
        return c;
      }
      Command c = Make(CommandType::kVoid, s, "L1");
      c.reason = "no longer relevant";
      return c;
    }
    case LifecycleState::kDispatched:
    case LifecycleState::kHandling: {
      if (s.pending != PendingRequest::kNone) {
        if (roll < 65) return Make(CommandType::kApprove, s, "D1");
        Command c = Make(CommandType::kDeny, s, "D1");
        c.reason = "do it yourself";
        return c;
      }
      if (roll < 10) {
        Command c = Make(CommandType::kSupervise, s, "S1");
        c.note = "hurry up";
        return c;
      }
      if (roll < 16) {
        Command c = Make(CommandType::kReturn, s, unit);
        c.reason = "not ours";
        return c;
      }
      if (roll < 18) {
        Command c = Make(CommandType::kVoid, s, "L1");
        c.reason = "duplicate found late";
        return c;
      }
      if (s.state == LifecycleState::kDispatched) return Make(CommandType::kAccept, s, unit);
      if (roll < 30) {
        Command c = Make(CommandType::kExtend, s, unit);
        c.limit = Chance(rng, 0.5) ? TimeLimit::WorkingDays(1) : TimeLimit::WorkingHours(3);
        c.reason = "parts on order";
        return c;
      }
      if (roll < 38) {
        Command c = Make(CommandType::kSuspend, s, unit);
        c.reason = "waiting for the owner";
        return c;
      }
      Command c = Make(CommandType::kFeedback, s, unit);
      if (Chance(rng, 0.5)) c.note = "fixed";
      return c;
    }
    case LifecycleState::kSuspended: {
      if (roll < 90) return Make(CommandType::kResume, s, "D1");
      Command c = Make(CommandType::kVoid, s, "L1");
      c.reason = "abandoned";
      return c;
    }
    case LifecycleState::kAwaitingVerification: {
      Command c = Make(CommandType::kVerify, s, s.verifier.empty() ? std::string("I5") : s.verifier);
      c.verify_pass = roll < 70;
      if (Chance(rng, 0.5)) c.note = c.verify_pass.value() ? "looks good" : "still broken";
      return c;
    }
    default:
      return std::nullopt;
  }
}

ConfigChange RandomConfigChange(std::mt19937_64& rng) {
  ConfigChange c;
  c.type = ConfigChangeType::kAddHoliday;
  // A Wednesday in 2090 or so: far beyond any deadline of a run.
  Result<LocalDate> d = ParseLocalDate("2090-01-04");
  c.date = (d.ok() ? *d : 0) + static_cast<LocalDate>(7 * Uniform(rng, 0, 500));
  return c;
}

Result<std::string> ProjectionDigest(Engine& engine, Instant now) {
  std::ostringstream out;
  out.precision(17);
  auto opt = [&out](const std::optional<double>& v) -> std::ostream& {
    if (v) return out << *v;
    return out << "null";
  };
  Result<Instant> from = ParseInstant("2020-01-01", 8 * 60);
  Result<Instant> to = ParseInstant("2100-01-01", 8 * 60);
  if (!from.ok()) return from.status();
  if (!to.ok()) return to.status();
  // The whole history, and the month around `now` (an evaluation period that
  // cuts through open tasks).
  std::vector<PeriodQuery> periods;
  periods.push_back(PeriodQuery{*from, *to, now, ""});
  periods.push_back(PeriodQuery{now - std::chrono::hours(24 * 30), now + std::chrono::hours(24), now, ""});
  for (const PeriodQuery& q : periods) {
    out << "period " << Text(q.from) << " .. " << Text(q.to) << "\n";
    Result<std::vector<UnitRates>> rates = engine.Rates(q);
    if (!rates.ok()) return rates.status();
    for (const UnitRates& r : *rates) {
      out << "rates " << r.unit << " due=" << r.due << " handled=" << r.handled << " on_time=" << r.on_time
          << " late=" << r.late << " overdue_open=" << r.overdue_open << " reworked=" << r.reworked
          << " extended=" << r.extended << " score=";
      opt(r.score) << " handling=";
      opt(r.handling_rate) << " on_time_rate=";
      opt(r.on_time_rate) << " rework=";
      opt(r.rework_rate) << " grade=" << (r.grade ? *r.grade : '-') << "\n";
    }
    Result<std::vector<InspectorRates>> inspectors = engine.Inspectors(q);
    if (!inspectors.ok()) return inspectors.status();
    for (const InspectorRates& r : *inspectors) {
      out << "inspector " << r.inspector << " reports=" << r.reports << " valid=" << r.valid
          << " verifications=" << r.verifications << " on_time=" << r.verified_on_time << "\n";
    }
    Result<CentreFigures> centre = engine.Centre(q);
    if (!centre.ok()) return centre.status();
    out << "centre received=" << centre->received << " registered=" << centre->registered
        << " rejected=" << centre->rejected << " voided=" << centre->voided << " closed=" << centre->closed
        << " closed_on_time=" << centre->closed_on_time << "\n";
    for (const auto& [k, n] : centre->received_by_category) out << "  category " << k << "=" << n << "\n";
    for (const auto& [k, n] : centre->received_by_grid) out << "  grid " << k << "=" << n << "\n";
  }
  Result<std::vector<OverdueTask>> overdue = engine.Overdue(now);
  if (!overdue.ok()) return overdue.status();
  for (const OverdueTask& t : *overdue) {
    out << "overdue " << t.case_id << " " << t.unit << " " << Text(t.deadline) << " " << t.overdue_hours
        << "\n";
  }
  Result<std::vector<UnitWorkload>> workload = engine.Workload(now);
  if (!workload.ok()) return workload.status();
  for (const UnitWorkload& w : *workload) {
    out << "workload " << w.unit << " open=" << w.open_tasks << " overdue=" << w.overdue_tasks << "\n";
  }
  return out.str();
}

}  // namespace caseloop::torture
