// RunDemo (caseloop/tools.h): a simulated quarter in the default district.
//
// Planning and execution are separate. First every case's whole story is
// drawn from one seeded std::mt19937_64 (arrival, source, category, routing,
// the unit's punctuality profile, returns, suspensions, extensions, late or
// punctual feedback, failed verifications, supervision), with deadlines
// computed by the calendar exactly as the engine will. Then the stories run
// through the real engine in windows of simulated time: the engine's manual
// clock is moved to the window's start (firing the deadline timers due by
// then) and the window's commands are submitted, many cases in flight, each
// case's commands in order. The plan depends only on the seed, so the same
// seed gives the same events per case and the same ranking.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <new>
#include <ostream>
#include <random>
#include <set>

#include "caseloop/calendar.h"
#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "tools/completion_queue.h"
#include "tools/progress_bar.h"
#include "tools/text_table.h"

namespace caseloop {
namespace {

constexpr Micros kMinute = std::chrono::minutes(1);
constexpr Micros kHour = std::chrono::hours(1);
constexpr Micros kDay = std::chrono::hours(24);
// Simulated time per window: timers fire at window boundaries. Longer windows
// mean fewer barriers (6 h: 11 s for the default quarter in memory; 2 h: 17 s).
constexpr Micros kWindow = std::chrono::hours(6);
constexpr std::size_t kMaxInFlight = 1024;

// Portable uniform draws (the standard distributions differ between
// libraries; these depend only on the engine's output).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : gen_(seed) {}
  double U01() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  double U(double a, double b) { return a + (b - a) * U01(); }
  bool Chance(double p) { return U01() < p; }
  std::size_t Index(std::size_t n) { return static_cast<std::size_t>(U01() * static_cast<double>(n)) % n; }
  std::size_t Weighted(const std::vector<double>& cumulative) {
    double x = U01() * cumulative.back();
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), x);
    return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative.begin()), cumulative.size() - 1);
  }

 private:
  std::mt19937_64 gen_;
};

Micros Scale(Micros d, double f) {
  return Micros(static_cast<std::int64_t>(static_cast<double>(d.count()) * f));
}

struct UnitProfile {
  double late = 0.05;     // feedback after the deadline
  double never = 0.01;    // no feedback within the quarter
  double rework = 0.05;   // verification fails
  double extend = 0.03;   // asks for more time
  double ret = 0.02;      // "not our responsibility"
  double suspend = 0.01;  // 挂账
};

struct Action {
  Instant at{};
  CommandType type = CommandType::kReport;
  std::string actor;  // "" for verify: the inspector the engine assigned
  std::string unit;   // dispatch: a named unit
  std::optional<TimeLimit> limit;
  bool pass = true;
  std::int32_t into = -1;  // merge: the case index
  const char* reason = "";
};

struct SimCase {
  std::string id;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  ReportSource source = ReportSource::kInspector;
  std::string reporter;
  std::string grid;
  bool emergency = false;
  Instant reported{};
  Instant done = Instant::max();  // closed / rejected / merged / voided (planned)
  bool mergeable = false;         // a dispatched case others may duplicate
  std::vector<Action> actions;
  std::size_t next = 0;
  bool failed = false;
};

struct Cast {
  std::vector<std::string> receivers, leaders, dispatchers, supervisors, inspectors;
  std::vector<std::string> inspector_prefix;  // parallel to inspectors
  std::vector<std::string> units;
  std::map<std::string, UnitProfile> profiles;
  std::vector<std::pair<CaseKind, std::string>> categories;
  std::vector<double> category_cumulative;
};

class Demo {
 public:
  Demo(Engine& engine, const DemoOptions& options, std::ostream& out)
      : engine_(engine), options_(options), out_(out), rng_(options.seed) {}
  Status Run();

 private:
  Status Setup();
  Status Define(const ConfigChange& change);
  void Plan();
  void PlanCase(std::size_t index, Instant arrival, ReportSource source);
  void PlanTask(SimCase& c, Instant t, const std::string& first_unit);
  Status Execute();
  void SubmitNext(std::size_t index);
  Status Report();

  const std::string& Pick(const std::vector<std::string>& v) { return v[rng_.Index(v.size())]; }
  std::string GridUnder(const std::string& prefix);
  // Appends an action at `at` or just after the case's previous one.
  Action& Push(SimCase& c, Instant at, CommandType type, std::string actor);

  Engine& engine_;
  const DemoOptions& options_;
  std::ostream& out_;
  Rng rng_;
  Config config_;
  Cast cast_;
  Instant start_{}, end_{};
  int offset_ = 480;
  std::vector<SimCase> cases_;

  // Execution.
  struct Completion {
    std::size_t index;
    Result<CommandAck> result;
  };
  tools::CompletionQueue<Completion> queue_;
  Instant window_end_{};
  std::size_t in_flight_ = 0;
  std::int64_t commands_ = 0;
  std::int64_t refused_ = 0;
  std::vector<std::string> refusals_;
  Status fatal_;
};

Status Demo::Define(const ConfigChange& change) {
  auto ack = engine_.Configure(change);
  if (!ack.ok()) return ack.status();
  return ApplyConfigChange(config_, change);
}

std::string Demo::GridUnder(const std::string& prefix) {
  // 15 digits: county 6 + street 3 + community 3 + grid 3.
  std::string g = prefix.substr(0, 15);
  while (g.size() < 6) g += "620103"[g.size()];
  if (g.size() < 9) g += fmt::format("{:03}", 1 + rng_.Index(8)).substr(0, 9 - g.size());
  if (g.size() < 12) g += fmt::format("{:03}", 1 + rng_.Index(4)).substr(0, 12 - g.size());
  if (g.size() < 15) g += fmt::format("{:03}", 1 + rng_.Index(6)).substr(0, 15 - g.size());
  return g;
}

Status Demo::Setup() {
  config_ = engine_.CurrentConfig();
  if (config_.units.empty()) {
    for (const ConfigChange& c : DefaultConfigChanges()) CASELOOP_RETURN_IF_ERROR(Define(c));
  }
  if (config_.units.empty() || config_.categories.empty()) {
    return Status::InvalidArgument("demo: the district has no units or no categories");
  }
  offset_ = config_.calendar.utc_offset_minutes;

  // The period: from 2025-01-01, or the day after the engine's clock if it
  // is past that (Run refuses a store with cases; configuration events do
  // not count: they may carry any time).
  auto first_day = ParseLocalDate("2025-01-01");
  if (!first_day.ok()) return first_day.status();
  start_ = LocalMidnight(*first_day, offset_);
  const Instant latest = engine_.Now();
  const bool fresh = latest <= start_;
  if (!fresh) start_ = LocalMidnight(LocalDateOf(latest, offset_) + 1, offset_);
  end_ = start_ + options_.days * kDay;
  if (fresh) {
    // Spring Festival 2025: Jan 28 - Feb 4 off, Jan 26 (Sun) and Feb 8 (Sat) worked.
    for (const char* d :
         {"2025-01-01", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-02-03", "2025-02-04"}) {
      auto date = ParseLocalDate(d);
      if (!date.ok()) return date.status();
      if (config_.calendar.holidays.count(*date)) continue;
      ConfigChange c;
      c.type = ConfigChangeType::kAddHoliday;
      c.date = *date;
      CASELOOP_RETURN_IF_ERROR(Define(c));
    }
    for (const char* d : {"2025-01-26", "2025-02-08"}) {
      auto date = ParseLocalDate(d);
      if (!date.ok()) return date.status();
      if (config_.calendar.extra_workdays.count(*date)) continue;
      ConfigChange c;
      c.type = ConfigChangeType::kAddWorkday;
      c.date = *date;
      CASELOOP_RETURN_IF_ERROR(Define(c));
    }
  }

  // Centre staff: those the district has, else the demo's own.
  auto staff_with = [&](Role role, std::vector<std::string>& into,
                        std::vector<std::string> fallback) -> Status {
    for (const auto& [id, info] : config_.staff) {
      if (id.rfind("import", 0) != 0 && config_.HasRole(id, role)) into.push_back(id);
    }
    if (!into.empty()) return Status::Ok();
    for (const std::string& id : fallback) {
      ConfigChange c;
      c.type = ConfigChangeType::kDefineStaff;
      c.staff = {id, {role}};
      CASELOOP_RETURN_IF_ERROR(Define(c));
      into.push_back(id);
    }
    return Status::Ok();
  };
  CASELOOP_RETURN_IF_ERROR(staff_with(Role::kReceiver, cast_.receivers, {"R1", "R2", "R3"}));
  CASELOOP_RETURN_IF_ERROR(staff_with(Role::kShiftLeader, cast_.leaders, {"L1", "L2"}));
  CASELOOP_RETURN_IF_ERROR(staff_with(Role::kDispatcher, cast_.dispatchers, {"D1", "D2"}));
  CASELOOP_RETURN_IF_ERROR(staff_with(Role::kSupervisor, cast_.supervisors, {"S1"}));

  // Inspectors: the district's, else 16 patrolling two per street.
  std::string county = "620103";
  for (const auto& [id, info] : config_.inspectors) {
    if (id.rfind("import", 0) == 0) continue;
    cast_.inspectors.push_back(id);
    cast_.inspector_prefix.push_back(info.grid_prefix);
  }
  for (const RouteRule& r : config_.routes) {
    if (r.grid_prefix.size() >= 6) county = r.grid_prefix.substr(0, 6);
  }
  // Every street of the routing table gets an inspector who patrols it.
  std::set<std::string> streets;
  for (const RouteRule& r : config_.routes) {
    if (r.grid_prefix.size() == 9) streets.insert(r.grid_prefix);
  }
  int next_inspector = 1;
  for (const std::string& street : streets) {
    if (std::find(cast_.inspector_prefix.begin(), cast_.inspector_prefix.end(), street) !=
        cast_.inspector_prefix.end()) {
      continue;
    }
    while (config_.inspectors.count(fmt::format("I{}", next_inspector))) ++next_inspector;
    ConfigChange c;
    c.type = ConfigChangeType::kDefineInspector;
    c.inspector = {fmt::format("I{}", next_inspector), street};
    CASELOOP_RETURN_IF_ERROR(Define(c));
    cast_.inspectors.push_back(c.inspector.id);
    cast_.inspector_prefix.push_back(street);
  }
  if (cast_.inspectors.empty()) {
    for (int i = 1; i <= 16; ++i) {
      ConfigChange c;
      c.type = ConfigChangeType::kDefineInspector;
      c.inspector = {fmt::format("I{:02}", i), fmt::format("{}{:03}", county, (i + 1) / 2)};
      CASELOOP_RETURN_IF_ERROR(Define(c));
      cast_.inspectors.push_back(c.inspector.id);
      cast_.inspector_prefix.push_back(c.inspector.grid_prefix);
    }
  }

  // Units and their punctuality profiles (in id order, from the seed).
  for (const auto& [id, info] : config_.units) cast_.units.push_back(id);
  for (const std::string& u : cast_.units) {
    UnitProfile p;
    // Most units are punctual; a few are not, and leave cases unhandled.
    double skew = rng_.U01();
    p.late = 0.02 + 0.45 * skew * skew;
    p.never = 0.003 + 0.3 * p.late * skew * skew;
    p.rework = rng_.U(0.02, 0.08) + 0.15 * skew * rng_.U01();
    p.extend = rng_.U(0.01, 0.05) + 0.1 * skew * rng_.U01();
    p.ret = rng_.U(0.005, 0.035);
    p.suspend = rng_.U(0.003, 0.015);
    cast_.profiles[u] = p;
  }
  // Category frequencies.
  double sum = 0;
  for (const auto& [key, info] : config_.categories) {
    if (info.name == "imported (no category)") continue;
    cast_.categories.push_back(key);
    sum += std::exp(rng_.U(-1.5, 1.5));
    cast_.category_cumulative.push_back(sum);
  }
  if (cast_.categories.empty()) return Status::InvalidArgument("demo: the district has no categories");
  return Status::Ok();
}

Action& Demo::Push(SimCase& c, Instant at, CommandType type, std::string actor) {
  if (!c.actions.empty() && at <= c.actions.back().at) at = c.actions.back().at + std::chrono::seconds(1);
  Action a;
  a.at = at;
  a.type = type;
  a.actor = std::move(actor);
  c.actions.push_back(std::move(a));
  return c.actions.back();
}

void Demo::Plan() {
  // Arrivals: working days busier than weekends and holidays; the hour of day
  // depends on the source.
  const std::int64_t n = options_.cases;
  std::vector<double> day_cumulative;
  double sum = 0;
  for (int d = 0; d < options_.days; ++d) {
    LocalDate date = LocalDateOf(config_.calendar, start_ + d * kDay + 12 * kHour);
    sum += config_.calendar.IsWorkingDay(date) ? 1.0 : 0.5;
    day_cumulative.push_back(sum);
  }
  struct Arrival {
    Instant at;
    ReportSource source;
  };
  std::vector<Arrival> arrivals;
  arrivals.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    double s = rng_.U01();
    ReportSource source = s < 0.55   ? ReportSource::kInspector
                          : s < 0.67 ? ReportSource::kVideo
                          : s < 0.90 ? ReportSource::kHotline
                          : s < 0.95 ? ReportSource::kGrid
                                     : ReportSource::kCitizen;
    double from_h = 8, to_h = 18;
    if (source == ReportSource::kVideo) from_h = 0, to_h = 24;
    if (source == ReportSource::kHotline || source == ReportSource::kCitizen) from_h = 7, to_h = 22;
    std::size_t day = rng_.Weighted(day_cumulative);
    Instant at = start_ + static_cast<std::int64_t>(day) * kDay + Scale(kHour, rng_.U(from_h, to_h));
    arrivals.push_back({std::chrono::floor<std::chrono::seconds>(at), source});
  }
  std::stable_sort(arrivals.begin(), arrivals.end(),
                   [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
  cases_.resize(arrivals.size());
  const std::string prefix = "C" + FormatLocalDate(LocalDateOf(start_, offset_)).substr(2);
  std::string compact;
  for (char ch : prefix) {
    if (ch != '-') compact.push_back(ch);
  }
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    cases_[i].id = fmt::format("{}-{:05}", compact, i + 1);
    PlanCase(i, arrivals[i].at, arrivals[i].source);
  }
}

void Demo::PlanCase(std::size_t index, Instant t, ReportSource source) {
  SimCase& c = cases_[index];
  c.source = source;
  c.reported = t;
  std::size_t cat = rng_.Weighted(cast_.category_cumulative);
  c.kind = cast_.categories[cat].first;
  c.category = cast_.categories[cat].second;
  const CategoryInfo* info = config_.FindCategory(c.kind, c.category);
  c.emergency = info->emergency_limit.has_value() && rng_.Chance(0.15);
  if (source == ReportSource::kInspector) {
    std::size_t k = rng_.Index(cast_.inspectors.size());
    c.reporter = cast_.inspectors[k];
    c.grid = GridUnder(cast_.inspector_prefix[k]);
  } else {
    c.reporter = Pick(cast_.receivers);
    if (!(source == ReportSource::kHotline && rng_.Chance(0.1))) {
      c.grid = GridUnder(cast_.inspector_prefix[rng_.Index(cast_.inspector_prefix.size())]);
    }
  }
  Push(c, t, CommandType::kReport, c.reporter);

  // Invalid reports and duplicates are settled by the receivers.
  double r = rng_.U01();
  if (r < 0.035) {
    Action& a = Push(c, t + Scale(kMinute, rng_.U(10, 90)), CommandType::kReject, Pick(cast_.receivers));
    a.reason = "not a city-management problem";
    c.done = a.at;
    return;
  }
  if (r < 0.07) {
    // A case reported 3 h to 3 days ago, still open in an hour.
    std::vector<std::size_t> candidates;
    for (std::size_t j = index; j-- > 0 && candidates.size() < 64;) {
      const SimCase& o = cases_[j];
      if (o.reported > t - 3 * kHour) continue;
      if (o.reported < t - 3 * kDay) break;
      if (o.mergeable && o.done > t + 2 * kHour && o.kind == c.kind) candidates.push_back(j);
    }
    if (!candidates.empty()) {
      Action& a = Push(c, t + Scale(kMinute, rng_.U(5, 40)), CommandType::kMerge, Pick(cast_.receivers));
      a.into = static_cast<std::int32_t>(candidates[rng_.Index(candidates.size())]);
      c.done = a.at;
      return;
    }
  }
  t = Push(c, t + Scale(kMinute, rng_.U(5, 60)), CommandType::kRegister, Pick(cast_.leaders)).at;
  if (rng_.Chance(0.004)) {
    Action& a = Push(c, t + Scale(kMinute, rng_.U(60, 240)), CommandType::kVoid, Pick(cast_.leaders));
    a.reason = "entered twice by mistake";
    c.done = a.at;
    return;
  }
  t = Push(c, t + Scale(kMinute, rng_.U(3, 30)), CommandType::kDispatch, Pick(cast_.dispatchers)).at;
  std::string unit;
  if (auto routed = config_.Route(c.kind, c.category, c.grid)) {
    unit = *routed;
  } else {
    // Coordination (责任不清): a coordinator names the unit later.
    unit = Pick(cast_.units);
    Action& a = Push(c, t + Scale(kMinute, rng_.U(60, 360)), CommandType::kDispatch, Pick(cast_.dispatchers));
    a.unit = unit;
    t = a.at;
  }
  c.mergeable = true;
  PlanTask(c, t, unit);
}

void Demo::PlanTask(SimCase& c, Instant t0, const std::string& first_unit) {
  const Calendar& cal = config_.calendar;
  const CategoryInfo* info = config_.FindCategory(c.kind, c.category);
  const TimeLimit limit = c.emergency && info->emergency_limit ? *info->emergency_limit : info->limit;
  const TimeLimit::Unit clock =
      limit.unit == TimeLimit::Unit::kNatural ? TimeLimit::Unit::kNatural : TimeLimit::Unit::kWorking;
  const Micros length = LimitLength(cal, limit);
  auto on_clock = [&](Instant from, Micros d) { return AddOnClock(cal, clock, from, d); };
  auto between = [&](Instant a, Instant b) {
    return clock == TimeLimit::Unit::kNatural ? std::max(Micros(0), b - a) : WorkingTimeBetween(cal, a, b);
  };

  std::string unit = first_unit;
  bool returned = false, suspended = false, extended = false, supervised = false;
  int reworks = 0;
  Instant deadline = DeadlineAfter(cal, t0, limit);
  for (;;) {
    const UnitProfile& p = cast_.profiles[unit];
    // "Not our responsibility": returned with approval, dispatched elsewhere.
    if (!returned && reworks == 0 && cast_.units.size() > 1 && rng_.Chance(p.ret)) {
      returned = true;
      Action& req = Push(c, on_clock(t0, Scale(length, rng_.U(0.05, 0.3))), CommandType::kReturn, unit);
      req.reason = "not our responsibility";
      Instant ok =
          Push(c, req.at + Scale(kMinute, rng_.U(20, 120)), CommandType::kApprove, Pick(cast_.dispatchers))
              .at;
      std::string other = unit;
      while (other == unit) other = Pick(cast_.units);
      Action& again =
          Push(c, ok + Scale(kMinute, rng_.U(10, 60)), CommandType::kDispatch, Pick(cast_.dispatchers));
      again.unit = other;
      unit = other;
      t0 = again.at;
      deadline = DeadlineAfter(cal, t0, limit);
      continue;
    }
    Instant t = Push(c, std::max(t0 + kMinute, on_clock(t0, Scale(length, rng_.U(0.01, 0.08)))),
                     CommandType::kAccept, unit)
                    .at;
    // Suspension (挂账): the clock stops until the dispatcher resumes it.
    if (!suspended && reworks == 0 && rng_.Chance(p.suspend)) {
      suspended = true;
      Instant ask = on_clock(t, Scale(between(t, deadline), rng_.U(0.05, 0.3)));
      Instant approve = ask + Scale(kMinute, rng_.U(20, 90));
      if (ask > t && approve < deadline) {
        Push(c, ask, CommandType::kSuspend, unit).reason = "waiting for a road-works permit";
        approve = Push(c, approve, CommandType::kApprove, Pick(cast_.dispatchers)).at;
        Micros remaining = RemainingTime(cal, clock, approve, deadline);
        Instant resume = NextWorkingMoment(cal, approve + Scale(kDay, rng_.U(2, 10)));
        resume = Push(c, resume, CommandType::kResume, Pick(cast_.dispatchers)).at;
        deadline = AddOnClock(cal, clock, resume, remaining);
        t = resume;
      }
    }
    // Extension (延期): asked before the deadline; mostly approved.
    if (!extended && reworks == 0 && rng_.Chance(p.extend)) {
      extended = true;
      Instant ask = on_clock(t, Scale(between(t, deadline), rng_.U(0.3, 0.7)));
      Instant answer = ask + Scale(kMinute, rng_.U(20, 90));
      if (ask > t && answer < deadline) {
        TimeLimit more = clock == TimeLimit::Unit::kNatural
                             ? TimeLimit::NaturalHours(static_cast<std::int64_t>(rng_.U(2, 12)))
                             : TimeLimit::WorkingDays(1 + static_cast<std::int64_t>(rng_.U(0, 3)));
        Action& req = Push(c, ask, CommandType::kExtend, unit);
        req.limit = more;
        req.reason = "materials on order";
        if (rng_.Chance(0.8)) {
          Push(c, answer, CommandType::kApprove, Pick(cast_.dispatchers));
          // As the engine does: the extra time is added as working time.
          deadline = AddOnClock(cal, TimeLimit::Unit::kWorking, deadline, LimitLength(cal, more));
        } else {
          Push(c, answer, CommandType::kDeny, Pick(cast_.dispatchers)).reason = "no reason to wait";
        }
        t = c.actions.back().at;
      }
    }
    // Handling: punctual, late, or not at all within the quarter.
    double r = rng_.U01();
    const double late = reworks > 0 ? p.late * 0.5 : p.late;
    std::optional<Instant> feedback;
    if (r < p.never) {
      // Left open: supervised once it is overdue.
    } else if (r < p.never + late) {
      feedback = on_clock(deadline, Scale(length, rng_.U(0.05, 1.2)));
    } else {
      feedback = on_clock(t, Scale(between(t, deadline), rng_.U(0.2, 0.97)));
    }
    if (!supervised && (!feedback || *feedback > deadline + 6 * kHour)) {
      supervised = true;
      Instant when = deadline + Scale(kHour, rng_.U(2, 6));
      if (!feedback || when < *feedback) {
        Push(c, when, CommandType::kSupervise, Pick(cast_.supervisors)).reason = "overdue: handle at once";
      }
    }
    if (!feedback) return;
    Instant fb = Push(c, std::max(*feedback, t + kMinute), CommandType::kFeedback, unit).at;
    // Verification by the inspector the engine assigns, within 核查时限 or not.
    const Micros vlen = LimitLength(cal, info->verify_limit);
    const TimeLimit::Unit vclock = info->verify_limit.unit == TimeLimit::Unit::kNatural
                                       ? TimeLimit::Unit::kNatural
                                       : TimeLimit::Unit::kWorking;
    double vf = rng_.Chance(0.12) ? rng_.U(1.1, 3.0) : rng_.U(0.1, 0.95);
    bool pass = !rng_.Chance(reworks == 0 ? p.rework : p.rework * 0.3);
    Action& v = Push(c, AddOnClock(cal, vclock, fb, Scale(vlen, vf)), CommandType::kVerify, "");
    v.pass = pass;
    if (pass) {
      c.done = v.at;
      return;
    }
    // Rework (二次抄告): the same unit, a fresh full limit from the failure.
    ++reworks;
    t0 = v.at;
    if (config_.policy.rework_fresh_limit) deadline = DeadlineAfter(cal, t0, limit);
  }
}

void Demo::SubmitNext(std::size_t index) {
  SimCase& c = cases_[index];
  const Action& a = c.actions[c.next];
  Command cmd;
  cmd.type = a.type;
  cmd.case_id = c.id;
  cmd.actor = a.actor;
  cmd.at = a.at;
  cmd.command_id = fmt::format("demo/{}/{}", c.id, c.next);
  switch (a.type) {
    case CommandType::kReport:
      cmd.kind = c.kind;
      cmd.category = c.category;
      cmd.source = c.source;
      cmd.grid = c.grid;
      cmd.emergency = c.emergency;
      cmd.description = "simulated";
      break;
    case CommandType::kMerge:
      cmd.into = cases_[static_cast<std::size_t>(a.into)].id;
      break;
    case CommandType::kDispatch:
      cmd.unit = a.unit;
      break;
    case CommandType::kExtend:
      cmd.limit = a.limit;
      break;
    case CommandType::kVerify: {
      cmd.verify_pass = a.pass;
      auto state = engine_.State(c.id);
      if (state.ok() && !state->verifier.empty()) {
        cmd.actor = state->verifier;
      } else if (c.source == ReportSource::kInspector) {
        cmd.actor = c.reporter;
      } else {
        cmd.actor = cast_.inspectors.front();
      }
      break;
    }
    default:
      break;
  }
  cmd.reason = a.reason;
  if (a.type == CommandType::kSupervise) cmd.note = a.reason;
  ++in_flight_;
  ++commands_;
  engine_.SubmitAsync(std::move(cmd), [this, index](Result<CommandAck> r) {
    queue_.Push(Completion{index, std::move(r)});
  });
}

Status Demo::Execute() {
  // Actions in time order, to find each window's cases.
  std::vector<std::pair<Instant, std::uint32_t>> order;
  for (std::size_t i = 0; i < cases_.size(); ++i) {
    for (const Action& a : cases_[i].actions) {
      if (a.at < end_) order.emplace_back(a.at, static_cast<std::uint32_t>(i));
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  tools::ProgressBar bar(options_.progress, "demo", "commands");
  std::size_t pos = 0;
  std::vector<std::size_t> waiting;
  for (Instant ws = start_; ws < end_ && fatal_.ok(); ws += kWindow) {
    window_end_ = std::min(ws + kWindow, end_);
    CASELOOP_RETURN_IF_ERROR(engine_.AdvanceTo(ws));  // timers due by now fire first
    std::set<std::size_t> touched;
    waiting.clear();
    for (; pos < order.size() && order[pos].first < window_end_; ++pos) {
      if (touched.insert(order[pos].second).second) waiting.push_back(order[pos].second);
    }
    std::size_t w = 0;
    auto start_more = [&] {
      while (w < waiting.size() && in_flight_ < kMaxInFlight) {
        std::size_t i = waiting[w++];
        SimCase& c = cases_[i];
        if (!c.failed && c.next < c.actions.size() && c.actions[c.next].at < window_end_) SubmitNext(i);
      }
    };
    start_more();
    while (in_flight_ > 0) {
      for (Completion& done : queue_.WaitAll()) {
        --in_flight_;
        SimCase& c = cases_[done.index];
        if (!done.result.ok()) {
          Status s = done.result.status();
          if (s.IsIOError() || s.IsUnavailable() || s.IsCorruption()) {
            if (fatal_.ok()) fatal_ = s;
          }
          ++refused_;
          if (refusals_.size() < 5) {
            refusals_.push_back(fmt::format("{} '{}': {}", c.id, Name(c.actions[c.next].type), s.ToString()));
          }
          c.failed = true;  // the rest of its story would be refused too
          continue;
        }
        ++c.next;
        if (fatal_.ok() && c.next < c.actions.size() && c.actions[c.next].at < window_end_)
          SubmitNext(done.index);
      }
      if (fatal_.ok()) start_more();
    }
    bar.Update(
        static_cast<double>((window_end_ - start_).count()) / static_cast<double>((end_ - start_).count()),
        commands_, fmt::format("day {}/{}", (window_end_ - start_) / kDay, options_.days));
  }
  bar.Finish();
  if (!fatal_.ok()) return fatal_;
  return engine_.AdvanceTo(end_);
}

// "Quarterly r" for a quarter (90 to 92 days), else "R": the title of the
// ranking ("Ranking of units, 2025-01-01 to 2025-01-30").
std::string RankingTitle(int days) { return days >= 90 && days <= 92 ? "Quarterly r" : "R"; }

std::string Percent(const std::optional<double>& v) {
  return v ? fmt::format("{:.2f}%", *v * 100) : std::string("-");
}

Status Demo::Report() {
  PeriodQuery q;
  q.from = start_;
  q.to = end_;
  q.at = end_;
  auto rates = engine_.Rates(q);
  if (!rates.ok()) return rates.status();
  auto inspectors = engine_.Inspectors(q);
  if (!inspectors.ok()) return inspectors.status();
  auto centre = engine_.Centre(q);
  if (!centre.ok()) return centre.status();

  const std::string period = fmt::format("{} to {}", FormatLocalDate(LocalDateOf(start_, offset_)),
                                         FormatLocalDate(LocalDateOf(end_ - kMinute, offset_)));
  out_ << fmt::format("\n{}anking of units, {} (as of {})\n", RankingTitle(options_.days), period,
                      FormatInstant(end_, offset_));
  // Columns: rank, unit, name, counts, rates, score, grade.
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"rank", "unit", "name", "due", "handled", "on time", "late", "overdue", "rework", "ext",
                  "handling", "on-time", "rework%", "overdue%", "ext%", "score", "grade"});
  std::set<std::string> listed;
  int rank = 0;
  for (const UnitRates& u : *rates) {
    listed.insert(u.unit);
    auto it = config_.units.find(u.unit);
    rows.push_back(
        {u.score ? std::to_string(++rank) : "-", u.unit, it == config_.units.end() ? "" : it->second.name,
         std::to_string(u.due), std::to_string(u.handled), std::to_string(u.on_time), std::to_string(u.late),
         std::to_string(u.overdue_open), std::to_string(u.reworked), std::to_string(u.extended),
         Percent(u.handling_rate), Percent(u.on_time_rate), Percent(u.rework_rate),
         Percent(u.overdue_open_rate), Percent(u.extension_rate),
         u.score ? fmt::format("{:.2f}", *u.score) : "-", u.grade ? std::string(1, *u.grade) : "-"});
  }
  for (const auto& [id, info] : config_.units) {
    if (listed.count(id)) continue;
    rows.push_back(
        {"-", id, info.name, "0", "0", "0", "0", "0", "0", "0", "-", "-", "-", "-", "-", "-", "-"});
  }
  out_ << tools::FormatTable(rows, {1, 2});

  // Inspectors: valid reports first, then verification on time.
  std::vector<InspectorRates> ins = *inspectors;
  std::stable_sort(ins.begin(), ins.end(), [](const InspectorRates& a, const InspectorRates& b) {
    double av = a.valid_rate.value_or(-1), bv = b.valid_rate.value_or(-1);
    if (av != bv) return av > bv;
    double aw = a.verification_on_time_rate.value_or(-1), bw = b.verification_on_time_rate.value_or(-1);
    if (aw != bw) return aw > bw;
    return a.inspector < b.inspector;
  });
  out_ << fmt::format("\nInspectors, {}\n", period);
  std::vector<std::vector<std::string>> irows;
  irows.push_back(
      {"rank", "inspector", "reports", "valid", "valid rate", "verifications", "on time", "on-time rate"});
  rank = 0;
  for (const InspectorRates& i : ins) {
    if (i.inspector.rfind("import", 0) == 0) continue;
    irows.push_back({std::to_string(++rank), i.inspector, std::to_string(i.reports), std::to_string(i.valid),
                     Percent(i.valid_rate), std::to_string(i.verifications),
                     std::to_string(i.verified_on_time), Percent(i.verification_on_time_rate)});
  }
  out_ << tools::FormatTable(irows, {1});

  const CentreFigures& f = *centre;
  out_ << fmt::format(
      "\nCentre, {}: received {}, registered {}, rejected {}, voided {}, closed {}, closed on time {}{}\n",
      period, f.received, f.registered, f.rejected, f.voided, f.closed, f.closed_on_time,
      f.closed ? fmt::format(" ({:.2f}%)", 100.0 * f.closed_on_time / f.closed) : "");
  if (!options_.html.empty()) {
    ReportOptions ro;
    ro.from = start_;
    ro.to = end_;
    ro.at = end_;
    ro.html = options_.html;
    CASELOOP_RETURN_IF_ERROR(WriteHtmlReport(engine_, ro));
    out_ << "report written to " << options_.html << '\n';
  }
  return Status::Ok();
}

Status Demo::Run() {
  if (options_.cases <= 0 || options_.cases > kDemoMaxCases) {
    return Status::InvalidArgument(
        fmt::format("demo: the number of cases must be within 1..{}, not {}", kDemoMaxCases, options_.cases));
  }
  if (options_.days <= 0 || options_.days > kDemoMaxDays) {
    return Status::InvalidArgument(
        fmt::format("demo: the number of days must be within 1..{}, not {}", kDemoMaxDays, options_.days));
  }
  {
    Status s = engine_.AdvanceTo(engine_.Now());
    if (!s.ok()) {
      return Status::InvalidArgument("demo: the engine must run on a manual clock (" + s.ToString() + ")");
    }
  }
  {
    // The demo simulates a district of its own from 2025-01-01: on a
    // database that holds cases its cases and figures would mix with them
    // (issue 22). Refused before anything is written.
    auto cases = engine_.ListCases("", 1);
    if (!cases.ok()) return cases.status();
    if (!cases->empty()) {
      return Status::InvalidArgument(fmt::format(
          "demo: the database already holds cases (e.g. '{}'): the demo simulates its own district and its "
          "figures would mix with them. Run it on a new database (--db DIR, or --db :memory:); nothing "
          "was changed",
          cases->front()));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  CASELOOP_RETURN_IF_ERROR(Setup());
  Plan();
  CASELOOP_RETURN_IF_ERROR(Execute());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out_ << fmt::format(
      "simulated {} cases over {} days from {} (seed {}): {} commands in {:.1f} s ({:.0f}/s)\n",
      cases_.size(), options_.days, FormatLocalDate(LocalDateOf(start_, offset_)), options_.seed, commands_,
      secs, secs > 0 ? commands_ / secs : 0.0);
  if (refused_ > 0) {
    out_ << fmt::format("note: {} commands were refused; their cases stopped there. First:\n", refused_);
    for (const std::string& r : refusals_) out_ << "  " << r << '\n';
  }
  return Report();
}

}  // namespace

Status RunDemo(Engine& engine, const DemoOptions& options, std::ostream& out) {
  try {
    Demo demo(engine, options, out);
    return demo.Run();
  } catch (const std::bad_alloc&) {
    return Status::IOError("demo: out of memory");
  } catch (const std::exception& e) {
    return Status::IOError(std::string("demo: ") + e.what());
  }
}

}  // namespace caseloop
