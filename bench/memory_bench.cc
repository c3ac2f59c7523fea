// memory: peak RSS of an engine process after a history of closed cases and
// some open ones. The engine runs in a child process (this program re-run
// with --memory-child), so the other scenarios do not pollute its peak.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>

#include "scenarios.h"
#include "workload.h"

extern char** environ;

namespace caseloop::bench {
namespace {

// Runs `argv` with stdout to a pipe; returns what it printed. Errors: the
// spawn failed or the child exited non-zero (its stderr passes through).
Result<std::string> RunChild(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::IOError(std::string("memory: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::IOError("memory: spawning " + argv[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError(fmt::format("memory: the child process failed (status {:#x}); it printed: {}",
                                       status, out.substr(0, 400)));
  }
  return out;
}

Instant ChildNow() { return *ParseInstant("2025-03-31T10:00", 8 * 60); }

}  // namespace

// Child: argv = path, first engine case, engine closed cases, open cases,
// clients, case states to read first.
int MemoryChildMain(const std::vector<std::string>& args) {
  if (args.size() != 6) {
    std::cerr << "--memory-child: expected PATH FIRST CLOSED OPEN CLIENTS STATES\n";
    return 2;
  }
  std::uint64_t first = 0, closed = 0, open = 0, states = 0;
  int clients = 1;
  try {
    first = std::stoull(args[1]);
    closed = std::stoull(args[2]);
    open = std::stoull(args[3]);
    clients = std::stoi(args[4]);
    states = std::stoull(args[5]);
  } catch (const std::exception& e) {
    std::cerr << "--memory-child: bad number: " << e.what() << "\n";
    return 2;
  }
  const std::string path = args[0];

  EngineOptions eo;
  eo.path = path;
  eo.store.durability = Durability::kBuffered;
  eo.clock = std::make_shared<ManualClock>(ChildNow());
  const auto o0 = SteadyClock::now();
  Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
  if (!opened.ok()) {
    std::cerr << "memory child: " << opened.status().ToString() << "\n";
    return 1;
  }
  const double open_secs = SecondsSince(o0);
  const std::optional<std::int64_t> peak_after_open = PeakRssKib();
  std::unique_ptr<Engine> engine = std::move(opened).value();

  // Read the states of `states` stored cases, as commands on old cases
  // would: this fills the engine's case cache the way a long run does.
  std::atomic<std::uint64_t> next{0}, events{0}, commands{0};
  std::mutex mu;
  Status error;
  RunThreads(clients, [&](int) {
    for (;;) {
      const std::uint64_t k = next.fetch_add(1);
      if (k >= states || first == 0) return;
      Result<CaseState> s = engine->State(CaseId((k * 2654435761ull) % first));
      if (!s.ok() || s->state != LifecycleState::kClosed) {
        std::lock_guard<std::mutex> lock(mu);
        if (error.ok()) error = s.ok() ? Status::Corruption("case not closed") : s.status();
        return;
      }
    }
  });
  next = 0;

  // Closed cases (at their history times), then open ones (at the clock).
  const std::uint64_t total = closed + open;
  const auto t0 = SteadyClock::now();
  RunThreads(error.ok() ? clients : 0, [&](int) {
    for (;;) {
      const std::uint64_t k = next.fetch_add(1);
      if (k >= total) return;
      const std::uint64_t i = first + k;
      std::vector<Command> cmds =
          k < closed ? ClosedCaseCommands(i, HistoryTime(i)) : OpenCaseCommands(i, std::nullopt);
      for (const Command& c : cmds) {
        Result<CommandAck> ack = engine->Submit(c);
        if (!ack.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.ok()) error = ack.status();
          return;
        }
        events.fetch_add(ack->last_position - ack->first_position + 1);
        commands.fetch_add(1);
      }
    }
  });
  const double secs = SecondsSince(t0);
  if (error.ok()) {
    PeriodQuery q;
    q.from = QuarterStart();
    q.to = QuarterEnd();
    Result<std::vector<UnitRates>> rates = engine->Rates(q);
    if (!rates.ok()) error = rates.status();
    for (std::uint64_t k = 0; k < 100 && error.ok(); ++k) {
      Result<CaseView> v = engine->Show(CaseId((k * 7919) % (first + total)));
      if (!v.ok()) error = v.status();
    }
    Result<std::vector<UnitWorkload>> w = engine->Workload();
    if (!w.ok() && error.ok()) error = w.status();
  }
  const std::optional<std::int64_t> rss = CurrentRssKib();
  const std::uint64_t head = engine->HeadPosition();
  Status c = engine->Close();
  if (!error.ok() || !c.ok()) {
    std::cerr << "memory child: " << (error.ok() ? c : error).ToString() << "\n";
    return 1;
  }
  nlohmann::ordered_json j;
  j["peak_rss_kib"] = PeakRssKib().value_or(-1);
  j["peak_after_open_kib"] = peak_after_open.value_or(-1);
  j["rss_kib"] = rss.value_or(-1);
  j["open_s"] = open_secs;
  j["seconds"] = secs;
  j["events"] = events.load();
  j["commands"] = commands.load();
  j["head"] = head;
  std::cout << j.dump() << std::endl;
  return 0;
}

Status RunMemory(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  // Most closed cases are history written straight into the store (the
  // query scenario's, when it ran); 1 % more go through the engine in the
  // child, and it reads the state of 70 000 old cases (a full case cache).
  const std::uint64_t engine_closed = plan.memory_closed / 100;
  const std::uint64_t states = std::min<std::uint64_t>(70000, plan.memory_closed);
  const int clients = 8;
  std::shared_ptr<TempDir> dir;
  std::string path;
  std::uint64_t direct = 0;
  std::string built;
  if (ctx.history_dir && ctx.history_cases + engine_closed >= plan.memory_closed) {
    dir = ctx.history_dir;
    path = ctx.history_path;
    direct = ctx.history_cases;
    built = "the query scenario's store (projections caught up)";
  } else {
    dir = std::make_shared<TempDir>("memory");
    path = dir->Sub("db");
    direct = plan.memory_closed - engine_closed;
    CASELOOP_RETURN_IF_ERROR(CreateHistoryStore(path));
    const auto b0 = SteadyClock::now();
    Result<std::uint64_t> written = ExtendHistory(path, 0, direct);
    if (!written.ok()) return written.status();
    built = fmt::format("a fresh store, written in {:.1f} s (projections empty: caught up on open)",
                        SecondsSince(b0));
  }

  Result<std::string> out = RunChild({ctx.options.self, "--memory-child", path, std::to_string(direct),
                                      std::to_string(engine_closed), std::to_string(plan.memory_open),
                                      std::to_string(clients), std::to_string(states)});
  if (!out.ok()) return out.status();
  nlohmann::json j = nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("peak_rss_kib")) {
    return Status::Corruption("memory: the child printed no result: " + out->substr(0, 200));
  }
  const double seconds = j["seconds"].get<double>();
  Row row("memory", Durability::kBuffered, clients);
  row.Set("events_per_s", PerSecond(j["events"].get<double>(), seconds));
  row.SetInt("closed_cases", static_cast<std::int64_t>(direct + engine_closed));
  row.SetInt("open_cases", static_cast<std::int64_t>(plan.memory_open));
  row.SetInt("log_events", j["head"].get<std::int64_t>());
  row.Set("peak_rss_mib", j["peak_rss_kib"].get<double>() / 1024.0, 1);
  row.Set("peak_after_open_mib", j["peak_after_open_kib"].get<double>() / 1024.0, 1);
  row.Set("end_rss_mib", j["rss_kib"].get<double>() / 1024.0, 1);
  row.Set("open_s", j["open_s"].get<double>(), 2);
  row.Set("run_s", seconds, 2);
  report.Add(std::move(row));
  report.Note(fmt::format(
      "{} closed cases written straight into the store: {}; the child process opens an engine on it "
      "(peak_after_open), reads the state of {} of them (fills the case cache), submits {} more closed cases "
      "(6 commands each) and {} open ones (4 commands) from {} client threads with Durability buffered, then "
      "queries the quarter's rates, 100 shows and the workload; peak = VmHWM of the child",
      direct, built, states, engine_closed, plan.memory_open, clients));
  return Status::Ok();
}

}  // namespace caseloop::bench
