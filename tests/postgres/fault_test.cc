// Fault test: three engines (child processes, each this binary re-executed
// with -tc="postgres fault: engine child") share one PostgreSQL database;
// each runs client threads that submit lifecycle commands with stable
// command ids (a client's retry of a failed command reuses its id) and
// reports every acknowledged command id through a pipe. The parent kills
// engines with SIGKILL at random moments and starts them again, and restarts
// the PostgreSQL server once in the middle. A last round runs the three
// engines without faults until every deadline has passed. Then:
//   * every acknowledged command id is in the log exactly once (one append);
//   * no stream has a version twice or a gap (caseloop_log, Check());
//   * every dispatched case has exactly one task_overdue;
//   * each engine's projections (its scope) answer as a rebuild from the log.
// CASELOOP_FAULT_CYCLES (default 6) and CASELOOP_FAULT_SEED tune it.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "../engine/engine_test_util.h"
#include "../store/store_test_util.h"
#include "caseloop/engine.h"
#include "pg_test_util.h"
#include "store/postgres_store.h"
#include "store/projection_store.h"

using namespace caseloop;
using namespace caseloop::test;

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kEngines = 3;
constexpr int kCases = 40;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

void WriteLine(int fd, const std::string& line) {
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

Instant Start() { return T("2025-03-31T09:00"); }
Instant End() { return T("2025-05-30T09:00"); }  // every deadline of the run has passed

// The next command of a case, from its state, with the id a client would
// give it (the same on every engine and every retry).
std::optional<Command> NextCommand(Engine& e, const std::string& id, Instant at) {
  Result<CaseState> s = e.State(id);
  if (!s.ok() && !s.status().IsNotFound()) return std::nullopt;
  Command c;
  switch (s.ok() ? s->state : LifecycleState::kNone) {
    case LifecycleState::kNone:
      c = Report(id, CaseKind::kComponent, "0101", at);
      break;
    case LifecycleState::kReported:
      c = Cmd(CommandType::kRegister, id, "L1", at);
      break;
    case LifecycleState::kRegistered:
      c = Cmd(CommandType::kDispatch, id, "D1", at);
      break;
    case LifecycleState::kDispatched:
      c = Cmd(CommandType::kAccept, id, "WATER", at);
      break;
    case LifecycleState::kHandling:
      if (s->supervisions >= 3) return std::nullopt;
      c = Cmd(CommandType::kSupervise, id, "S1", at);
      c.command_id = "c/" + id + "/sup" + std::to_string(s->supervisions);
      return c;
    default:
      return std::nullopt;
  }
  c.command_id = "c/" + id + "/" + std::string(Name(c.type));
  return c;
}

EngineOptions EngineFor(const std::string& url, int engine, bool timers) {
  EngineOptions o = ManualOptions(Start(), url + "&caseloop_projections=e" + std::to_string(engine));
  o.timers = timers;
  return o;
}

}  // namespace

// The engine process. Runs only when re-executed by the test below.
TEST_CASE("postgres fault: engine child") {
  const char* url = std::getenv("CASELOOP_FAULT_URL");
  if (url == nullptr) return;
  const int fd = EnvInt("CASELOOP_FAULT_FD", -1);
  const int engine = EnvInt("CASELOOP_FAULT_ENGINE", 0);
  const bool final_round = EnvInt("CASELOOP_FAULT_FINAL", 0) != 0;
  std::unique_ptr<Engine> e;
  for (int attempt = 0; attempt < 100 && !e; ++attempt) {  // the server may be restarting
    Result<std::unique_ptr<Engine>> opened = Engine::Open(EngineFor(url, engine, true));
    if (opened.ok()) {
      e = std::move(opened).value();
    } else {
      // The scope lock of a killed engine's session lasts until the server
      // notices the closed connection.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!e) {
    WriteLine(fd, "FAIL open\n");
    std::_Exit(3);
  }
  // This engine's clock continues from the latest event (another engine's
  // may be ahead; commands are stamped with this clock).
  if (e->LatestRecordedTime() > e->Now()) (void)e->AdvanceTo(e->LatestRecordedTime());
  WriteLine(fd, "READY\n");
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(engine * 100 + t + ::getpid()));
      while (!stop.load()) {
        const std::string id = "F" + std::to_string(rng() % kCases);
        std::optional<Command> c = NextCommand(*e, id, e->Now());
        if (!c) continue;
        Result<CommandAck> r = e->Submit(*c);
        if (r.ok()) WriteLine(fd, "ACK " + c->command_id + "\n");
      }
    });
  }
  // The clock: 10 minutes per 10 ms, timers firing as it passes deadlines.
  const auto until = SteadyClock::now() + std::chrono::seconds(final_round ? 2 : 60);
  while (SteadyClock::now() < until && e->Now() < End()) {
    (void)e->AdvanceTo(std::min(End(), e->Now() + std::chrono::minutes(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (auto& t : clients) t.join();
  if (final_round) {
    for (int i = 0; i < 50 && !e->AdvanceTo(End()).ok(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    WriteLine(fd, e->Now() >= End() ? "DONE\n" : "FAIL advance\n");
  }
  (void)e->Close();
  std::_Exit(0);
}

TEST_CASE("postgres fault: 3 engines, kill -9, a server restart: acked once, one overdue, rebuild equal") {
  const std::string base = caseloop::testing::NewPostgresPath();
  const char* pg_ctl = std::getenv("CASELOOP_TEST_PG_CTL");
  REQUIRE_MESSAGE(pg_ctl != nullptr, "run through tests/postgres/pg_env.sh");
  {
    // The district, once.
    auto e = MustOpen(EngineFor(base, 9, false));
    ConfigureDistrict(*e);
    REQUIRE(e->Close().ok());
  }
  const int cycles = EnvInt("CASELOOP_FAULT_CYCLES", 6);
  const unsigned seed = static_cast<unsigned>(EnvInt("CASELOOP_FAULT_SEED", 20251205));
  INFO("fault test: " << cycles << " cycles, seed " << seed);
  std::mt19937 rng(seed);

  struct Child {
    pid_t pid = -1;
    int fd = -1;
    std::string buffer;
  };
  std::set<std::string> acked;
  auto spawn = [&](int engine, bool final_round) {
    const caseloop::testing::TestChild child = caseloop::testing::SpawnTestChild(
        "postgres fault: engine child",
        {"CASELOOP_FAULT_URL=" + base, "CASELOOP_FAULT_ENGINE=" + std::to_string(engine),
         std::string("CASELOOP_FAULT_FINAL=") + (final_round ? "1" : "0"),
         "CASELOOP_TEST_POSTGRES_URL=" + caseloop::testing::PostgresUrl()},
        "CASELOOP_FAULT_FD");
    REQUIRE(child.pid > 0);
    Child c;
    c.pid = child.pid;
    c.fd = child.fd;
    return c;
  };
  // Reads what the children wrote until `deadline`; collects the acks.
  auto pump = [&](std::vector<Child>& children, SteadyClock::time_point deadline) {
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
      std::vector<pollfd> p;
      for (Child& c : children)
        if (c.fd >= 0) p.push_back({c.fd, POLLIN, 0});
      if (left <= 0 || p.empty()) return;
      if (poll(p.data(), p.size(), static_cast<int>(left)) <= 0) continue;
      for (Child& c : children) {
        if (c.fd < 0) continue;
        pollfd one{c.fd, POLLIN, 0};
        if (poll(&one, 1, 0) <= 0) continue;
        char chunk[4096];
        ssize_t n = read(c.fd, chunk, sizeof chunk);
        if (n <= 0) {
          close(c.fd);
          c.fd = -1;
          continue;
        }
        c.buffer.append(chunk, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = c.buffer.find('\n')) != std::string::npos) {
          std::string line = c.buffer.substr(0, nl);
          c.buffer.erase(0, nl + 1);
          if (line.rfind("ACK ", 0) == 0) acked.insert(line.substr(4));
          if (line.rfind("FAIL", 0) == 0) FAIL("engine child: " << line);
        }
      }
    }
  };
  auto kill_child = [&](Child& c) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
  };

  std::vector<Child> children;
  for (int i = 0; i < kEngines; ++i) children.push_back(spawn(i, false));
  int kills = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    pump(children, SteadyClock::now() + std::chrono::milliseconds(300 + rng() % 500));
    if (cycle == cycles / 2) {
      // The server restarts under the running engines.
      const std::string cmd = std::string(pg_ctl) + " -m fast -w restart >/dev/null 2>&1";
      REQUIRE(std::system(cmd.c_str()) == 0);
      MESSAGE("postgresql restarted in cycle " << cycle);
      continue;
    }
    const int victim = static_cast<int>(rng() % kEngines);
    kill_child(children[victim]);
    ++kills;
    children[victim] = spawn(victim, false);
  }
  for (Child& c : children) kill_child(c);
  // The last round: no faults, every deadline passes on every engine.
  children.clear();
  for (int i = 0; i < kEngines; ++i) children.push_back(spawn(i, true));
  for (Child& c : children) {
    int status = 0;
    REQUIRE(waitpid(c.pid, &status, 0) == c.pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  pump(children, SteadyClock::now() + std::chrono::seconds(2));
  MESSAGE(acked.size() << " acknowledged command ids, " << kills << " engines killed");
  CHECK(acked.size() > 50);

  // The log, straight from the tables of a store.
  auto opened = OpenPostgresStorage(base + "&caseloop_projections=verify");
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  Storage storage = std::move(opened).value();
  Result<std::vector<std::string>> problems = storage.log->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
  Result<std::vector<EventRecord>> all = storage.log->ReadAll(1, SIZE_MAX);
  REQUIRE(all.ok());
  std::map<std::string, std::vector<std::uint64_t>> positions_of;  // command id -> positions
  std::map<std::string, std::uint64_t> last_version;
  for (const EventRecord& r : *all) {
    CHECK(r.version == ++last_version[r.stream]);  // no version twice, no gap
    if (!r.command_id.empty()) positions_of[r.command_id].push_back(r.position);
  }
  for (const std::string& id : acked) {
    CAPTURE(id);
    auto it = positions_of.find(id);
    REQUIRE(it != positions_of.end());  // acknowledged: in the log
    // Once: one append, its events contiguous.
    const auto& p = it->second;
    CHECK(p.back() - p.front() + 1 == p.size());
  }
  REQUIRE(storage.log->Close().ok());

  // One task_overdue per dispatched case (every deadline has passed), and
  // each engine's projections equal a rebuild; the engines agree.
  std::string first;
  for (int i = 0; i < kEngines; ++i) {
    CAPTURE(i);
    auto e = MustOpen(EngineFor(base, i, false));
    REQUIRE(e->AdvanceTo(End()).ok());
    if (i == 0) {
      for (int c = 0; c < kCases; ++c) {
        const std::string id = "F" + std::to_string(c);
        CAPTURE(id);
        Result<CaseState> s = e->State(id);
        if (!s.ok() && s.status().IsNotFound()) continue;  // never reported
        REQUIRE(s.ok());
        const std::size_t overdue = EventsOf(*e, id, EventType::kTaskOverdue).size();
        if (s->dispatches > 0) {
          CHECK(overdue == 1);
        } else {
          CHECK(overdue == 0);
        }
      }
    }
    const std::string live = Describe(*e, End());
    REQUIRE(e->RebuildProjections().ok());
    CHECK(Describe(*e, End()) == live);
    if (i == 0) first = live;
    CHECK(live == first);
    REQUIRE(e->Close().ok());
  }
}
