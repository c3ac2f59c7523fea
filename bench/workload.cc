#include "workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace caseloop::bench {
namespace {

constexpr std::int64_t kMinute = 60'000'000;

Instant Local(const char* text, int utc_offset_minutes) {
  Result<Instant> t = ParseInstant(text, utc_offset_minutes);
  return t.ok() ? *t : Instant{};
}

}  // namespace

std::vector<ConfigChange> BenchConfigChanges(int utc_offset_minutes) {
  std::vector<ConfigChange> out;
  ConfigChange cal;
  cal.type = ConfigChangeType::kSetCalendar;
  cal.calendar.utc_offset_minutes = utc_offset_minutes;
  out.push_back(cal);
  for (int u = 0; u < kBenchUnits; ++u) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineUnit;
    c.unit = {fmt::format("U{}", u), fmt::format("Unit {}", u)};
    out.push_back(c);
  }
  ConfigChange insp;
  insp.type = ConfigChangeType::kDefineInspector;
  insp.inspector = {"I1", ""};
  out.push_back(insp);
  const std::pair<const char*, Role> staff[] = {{"R1", Role::kReceiver},
                                                {"L1", Role::kShiftLeader},
                                                {"D1", Role::kDispatcher},
                                                {"S1", Role::kSupervisor}};
  for (const auto& [id, role] : staff) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineStaff;
    c.staff = {id, {role}};
    out.push_back(c);
  }
  for (int u = 0; u < kBenchUnits; ++u) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineCategory;
    c.category.kind = CaseKind::kEvent;
    c.category.code = fmt::format("01{:02}", u + 1);
    c.category.name = fmt::format("category 01{:02}", u + 1);
    c.category.limit = u % 2 == 0 ? TimeLimit::WorkingDays(1) : TimeLimit::WorkingHours(4);
    out.push_back(c);
  }
  for (int u = 0; u < kBenchUnits; ++u) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineRoute;
    c.route = {CaseKind::kEvent, fmt::format("01{:02}", u + 1), fmt::format("U{}", u), ""};
    out.push_back(c);
  }
  return out;
}

Config BenchConfig(int utc_offset_minutes) {
  Config cfg;
  for (const ConfigChange& c : BenchConfigChanges(utc_offset_minutes)) (void)ApplyConfigChange(cfg, c);
  return cfg;
}

Status ConfigureBench(Engine& engine, int utc_offset_minutes) {
  for (const ConfigChange& c : BenchConfigChanges(utc_offset_minutes)) {
    Result<CommandAck> r = engine.Configure(c);
    if (!r.ok()) return Annotate(r.status(), "configuring the bench district");
  }
  return Status::Ok();
}

std::string CaseId(std::uint64_t i) { return fmt::format("C{:08}", i); }
std::string UnitOf(std::uint64_t i) { return fmt::format("U{}", i % kBenchUnits); }

namespace {

Command Make(CommandType type, std::uint64_t i, const char* actor, std::optional<Instant> at) {
  Command c;
  c.type = type;
  c.case_id = CaseId(i);
  c.actor = actor;
  c.at = at;
  return c;
}

std::optional<Instant> Plus(std::optional<Instant> at, std::int64_t us) {
  if (!at) return std::nullopt;
  return *at + Micros(us);
}

}  // namespace

std::vector<Command> OpenCaseCommands(std::uint64_t i, std::optional<Instant> at) {
  std::vector<Command> out;
  Command report = Make(CommandType::kReport, i, "I1", at);
  report.kind = CaseKind::kEvent;
  report.category = fmt::format("01{:02}", i % kBenchUnits + 1);
  report.source = ReportSource::kInspector;
  report.grid = fmt::format("620102{:03}{:03}{:03}", i % 7 + 1, i % 13 + 1, i % 97 + 1);
  report.lat = 36.06 + static_cast<double>(i % 1000) / 10000.0;
  report.lon = 103.83 + static_cast<double>(i % 777) / 10000.0;
  report.address = fmt::format("No. {} Binhe Road, Qilihe District", i % 2000 + 1);
  report.description = "garbage piled on the pavement next to the bus stop";
  out.push_back(std::move(report));
  out.push_back(Make(CommandType::kRegister, i, "L1", Plus(at, 5 * kMinute)));
  out.push_back(Make(CommandType::kDispatch, i, "D1", Plus(at, 10 * kMinute)));
  std::string unit = UnitOf(i);
  Command accept = Make(CommandType::kAccept, i, "", Plus(at, 30 * kMinute));
  accept.actor = unit;
  out.push_back(std::move(accept));
  return out;
}

std::vector<Command> ClosedCaseCommands(std::uint64_t i, std::optional<Instant> at) {
  std::vector<Command> out = OpenCaseCommands(i, at);
  std::int64_t feedback_after = i % 10 == 0 ? 3 * 24 * 60 * kMinute : 120 * kMinute;
  Command feedback = Make(CommandType::kFeedback, i, "", Plus(at, feedback_after));
  feedback.actor = UnitOf(i);
  feedback.note = "cleared and disinfected";
  out.push_back(std::move(feedback));
  Command verify = Make(CommandType::kVerify, i, "I1", Plus(at, feedback_after + 30 * kMinute));
  verify.verify_pass = true;
  verify.note = "checked on site";
  out.push_back(std::move(verify));
  return out;
}

Result<std::vector<std::vector<CaseEvent>>> DecideCase(const std::vector<Command>& commands,
                                                       const Config& config, Instant now) {
  std::vector<std::vector<CaseEvent>> out;
  CaseState state;
  if (!commands.empty()) state.id = commands.front().case_id;
  for (const Command& c : commands) {
    Result<std::vector<CaseEvent>> events = Decide(state, c, config, c.at.value_or(now));
    if (!events.ok()) return events.status();
    for (const CaseEvent& e : *events) CASELOOP_RETURN_IF_ERROR(Evolve(state, e, config));
    out.push_back(std::move(events).value());
  }
  return out;
}

Instant QuarterStart(int utc_offset_minutes) { return Local("2025-01-01T00:00", utc_offset_minutes); }
Instant QuarterEnd(int utc_offset_minutes) { return Local("2025-04-01T00:00", utc_offset_minutes); }

Instant HistoryTime(std::uint64_t i, int utc_offset_minutes) {
  // Leave the last 4 days free so that late feedback still falls in the quarter.
  const std::uint64_t span_minutes = (90 - 4) * 24 * 60;
  std::uint64_t minute = (i * 2654435761ull) % span_minutes;
  return QuarterStart(utc_offset_minutes) + Micros(static_cast<std::int64_t>(minute) * kMinute);
}

Result<std::uint64_t> WriteHistory(EventStore& store, const Config& config, std::uint64_t first,
                                   std::uint64_t count, int threads) {
  std::atomic<std::uint64_t> next{first};
  std::atomic<std::uint64_t> written{0};
  std::mutex mu;
  Status error;
  const std::uint64_t end = first + count;
  RunThreads(threads, [&](int) {
    for (;;) {
      std::uint64_t i = next.fetch_add(1);
      if (i >= end) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!error.ok()) return;
      }
      Instant at = HistoryTime(i, config.calendar.utc_offset_minutes);
      Result<std::vector<std::vector<CaseEvent>>> decided = DecideCase(ClosedCaseCommands(i, at), config, at);
      Status s;
      if (!decided.ok()) {
        s = Annotate(decided.status(), "deciding case " + CaseId(i));
      } else {
        std::vector<NewEvent> events;
        for (const auto& per_command : *decided)
          for (const CaseEvent& e : per_command) events.push_back(EncodeCaseEvent(e));
        std::size_t n = events.size();
        AppendOptions ao;
        ao.durability = Durability::kNone;
        ao.command_id = "bench/history/" + CaseId(i);
        Result<AppendResult> r = store.Append(CaseId(i), ExpectedVersion::NoStream(), std::move(events), ao);
        if (r.ok()) {
          written.fetch_add(n);
        } else {
          s = Annotate(r.status(), "appending case " + CaseId(i));
        }
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = s;
        return;
      }
    }
  });
  if (!error.ok()) return error;
  return written.load();
}

Status CreateHistoryStore(const std::string& path, int utc_offset_minutes) {
  EngineOptions eo;
  eo.path = path;
  eo.store.durability = Durability::kNone;
  eo.clock = std::make_shared<ManualClock>(QuarterStart(utc_offset_minutes) - Micros(24LL * 60 * kMinute));
  Result<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  if (!engine.ok()) return Annotate(engine.status(), "history: opening the engine at " + path);
  Status s = ConfigureBench(**engine, utc_offset_minutes);
  Status c = (*engine)->Close();
  if (!s.ok()) return s;
  return Annotate(c, "history: closing the engine");
}

Result<std::uint64_t> ExtendHistory(const std::string& path, std::uint64_t first, std::uint64_t count,
                                    int utc_offset_minutes) {
  StoreOptions so;
  so.durability = Durability::kNone;
  Result<std::unique_ptr<EventStore>> store = OpenRocksDbStore(path, so);
  if (!store.ok()) return Annotate(store.status(), "history: opening the store at " + path);
  Result<std::uint64_t> written = WriteHistory(**store, BenchConfig(utc_offset_minutes), first, count, 3);
  Status c = (*store)->Close();
  if (!written.ok()) return written.status();
  if (!c.ok()) return Annotate(c, "history: closing the store");
  return written;
}

void RunThreads(int n, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) threads.emplace_back(fn, t);
  for (std::thread& t : threads) t.join();
}

}  // namespace caseloop::bench
