// caseloop_torture — crash torture of the engine on RocksDB.
//
//   caseloop_torture --cycles N --dir D --seed S [--threads T] [--min-ms A] [--max-ms B]
//                    [--full-every F] [--sample K] [--quiet]
//
// Each cycle forks a child (this program re-executed, so that no RocksDB
// thread or lock of the parent leaks into it) that opens an Engine on D in
// kSync mode with a manual clock and runs a random mixed workload of every
// case command from T threads while one more thread advances the clock
// (which fires deadline timers). The child writes each acknowledgment — the
// command id, the case, the first and last positions, the event types — to a
// pipe after Submit returned. The parent SIGKILLs the child at a random moment
// (now and then while it is still opening), reopens the engine at the latest
// clock the child announced and checks:
//   * the store's and the engine's Check() find nothing;
//   * every command acknowledged in any cycle so far is in the log with its
//     events at its positions (nothing acknowledged is lost, ever);
//   * no command is half-applied: the events of one command id are adjacent,
//     on one stream, and an acknowledged one has exactly its events;
//   * every case replays (Evolve accepts its stream) and decodes;
//   * no task has two task_overdue events;
//   * deadlines that passed while the engine was down have fired at reopen
//     (each task the overdue list shows at the reopen instant is marked);
//   * the projections after crash recovery equal a fresh rebuild (rates,
//     inspectors, centre, overdue, workload);
//   * advancing the clock after reopen fires the remaining deadlines once,
//     and a second reopen at the same instant appends nothing.
// Checking the whole log in every cycle makes a long run quadratic, so each
// cycle checks what is new since the last check (every event appended, every
// command acknowledged in the cycle, every deadline passed since) plus a
// rotating sample of K old acknowledged commands (re-read at their
// positions) and of K old overdue tasks; every F cycles, in the first three
// and in the last one, a full check reads the whole log, verifies every
// acknowledgment ever made and compares the projections with a rebuild.
// With --quiet a progress line is printed every 30 s.
// CASELOOP_TORTURE_CYCLES, when set, overrides --cycles.
// Exit status 0 when every cycle passed, 1 on the first failed check (the
// message names the cycle and the seed to reproduce it), 2 on a usage error.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/engine.h"
#include "workload.h"

namespace fs = std::filesystem;
using namespace caseloop;
using namespace caseloop::torture;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Monday 2025-03-03 09:00 +08:00: where a new database's clock starts.
constexpr std::int64_t kStartUs = 1740963600000000LL;
constexpr int kChildFd = 3;

struct Options {
  int cycles = 100;
  std::string dir;
  std::uint64_t seed = 1;
  int threads = 3;
  int min_ms = 10;
  int max_ms = 300;
  int full_every = 10;
  int sample = 500;
  bool quiet = false;
  // Child only.
  bool child = false;
  int cycle = 0;
  std::int64_t clock_us = kStartUs;
};

[[noreturn]] void Usage(const std::string& message) {
  std::cerr << "caseloop_torture: " << message << "\n"
            << "usage: caseloop_torture --cycles N --dir DIR --seed S [--threads T] [--min-ms A] [--max-ms B]"
               " [--full-every F] [--sample K] [--quiet]\n";
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> long long {
      std::string v = value();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') Usage("bad number '" + v + "' for " + a);
      return n;
    };
    if (a == "--cycles")
      o.cycles = static_cast<int>(number());
    else if (a == "--dir")
      o.dir = value();
    else if (a == "--seed")
      o.seed = static_cast<std::uint64_t>(number());
    else if (a == "--threads")
      o.threads = static_cast<int>(number());
    else if (a == "--min-ms")
      o.min_ms = static_cast<int>(number());
    else if (a == "--max-ms")
      o.max_ms = static_cast<int>(number());
    else if (a == "--full-every")
      o.full_every = static_cast<int>(number());
    else if (a == "--sample")
      o.sample = static_cast<int>(number());
    else if (a == "--quiet")
      o.quiet = true;
    else if (a == "--child")
      o.child = true;
    else if (a == "--cycle")
      o.cycle = static_cast<int>(number());
    else if (a == "--clock")
      o.clock_us = number();
    else
      Usage("unknown argument '" + a + "'");
  }
  if (o.dir.empty()) Usage("--dir is required");
  // Sanitizer builds run fewer cycles (scripts/sanitize.sh).
  if (const char* env = std::getenv("CASELOOP_TORTURE_CYCLES"); env != nullptr && !o.child) {
    o.cycles = std::atoi(env);
  }
  if (o.cycles < 1 || o.threads < 1 || o.min_ms < 0 || o.max_ms < o.min_ms || o.full_every < 1 ||
      o.sample < 0)
    Usage("bad numbers");
  return o;
}

// ---------------------------------------------------------------------------
// Child

std::atomic<bool> g_child_stop{false};

// One write() of at most PIPE_BUF bytes on a pipe is atomic: lines of
// different threads never interleave, and a line is either whole or absent.
void Emit(const std::string& line) {
  std::string l = line.size() > 500 ? line.substr(0, 500) : line;
  l += '\n';
  (void)!write(kChildFd, l.data(), l.size());
}

bool Unexpected(const Status& s) { return s.IsCorruption() || s.IsIOError() || s.IsUnavailable(); }

std::string TypesOf(const CommandAck& ack) {
  std::string out;
  for (EventType t : ack.events) {
    if (!out.empty()) out += ',';
    out += Name(t);
  }
  return out.empty() ? "-" : out;
}

void Worker(Engine& engine, const Options& o, int t, std::vector<std::string> pool, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  int next_case = 0;
  std::uint64_t seq = 0;
  while (!g_child_stop.load()) {
    Command cmd;
    bool is_report = false;
    if (pool.size() < 4 || Chance(rng, 0.15)) {
      char id[64];
      std::snprintf(id, sizeof id, "k%04d-%d-%03d", o.cycle, t, next_case++);
      cmd = NewReport(id, rng);
      is_report = true;
    } else {
      std::size_t i = static_cast<std::size_t>(Uniform(rng, 0, static_cast<std::int64_t>(pool.size()) - 1));
      Result<CaseState> state = engine.State(pool[i]);
      if (!state.ok()) {
        Emit("fail state of " + pool[i] + ": " + state.status().ToString());
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      std::string target =
          pool[static_cast<std::size_t>(Uniform(rng, 0, static_cast<std::int64_t>(pool.size()) - 1))];
      if (target == pool[i] || !Chance(rng, 0.5)) target.clear();
      std::optional<Command> next = NextCommand(*state, rng, target);
      if (!next) {
        pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      cmd = std::move(*next);
    }
    cmd.command_id = "c" + std::to_string(o.cycle) + "/t" + std::to_string(t) + "/" + std::to_string(++seq);
    Result<CommandAck> r = engine.Submit(cmd);
    if (!r.ok()) {
      if (Unexpected(r.status())) Emit("fail " + cmd.command_id + " " + r.status().ToString());
      continue;
    }
    if (r->first_position != 0) {
      Emit("ack " + cmd.command_id + " " + r->case_id + " " + std::to_string(r->first_position) + " " +
           std::to_string(r->last_position) + " " + TypesOf(*r));
    }
    if (is_report) pool.push_back(cmd.case_id);
    if (Chance(rng, 0.05)) {  // a client retrying a command it was not sure went through
      Result<CommandAck> again = engine.Submit(cmd);
      if (!again.ok() || !again->duplicate || again->first_position != r->first_position ||
          again->last_position != r->last_position) {
        Emit("fail retry of " + cmd.command_id + " was not answered with the first result: " +
             (again.ok() ? "positions " + std::to_string(again->first_position) + ".." +
                               std::to_string(again->last_position)
                         : again.status().ToString()));
      }
    }
    if (t == 0 && Chance(rng, 0.01)) {
      Result<CommandAck> c = engine.Configure(RandomConfigChange(rng));
      if (c.ok()) {
        Emit("cfg " + std::to_string(c->first_position) + " " + std::to_string(c->last_position));
      } else if (Unexpected(c.status())) {
        Emit("fail configure: " + c.status().ToString());
      }
    }
  }
}

void Advancer(Engine& engine, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  while (!g_child_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(Uniform(rng, 2, 15)));
    Instant target = engine.Now() + std::chrono::minutes(Uniform(rng, 5, 180));
    Emit("adv " + std::to_string(MicrosOf(target)));  // before: the parent reopens at least here
    Status s = engine.AdvanceTo(target);
    if (!s.ok()) Emit("fail advance to " + Text(target) + ": " + s.ToString());
  }
}

int ChildMain(const Options& o) {
  EngineOptions eo;
  eo.path = o.dir;
  eo.store.durability = Durability::kSync;
  eo.clock = std::make_shared<ManualClock>(InstantFromMicros(o.clock_us));
  eo.default_config = true;
  eo.timers = true;
  Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
  if (!opened.ok()) {
    Emit("fail child open: " + opened.status().ToString());
    return 3;
  }
  Engine& engine = **opened;

  // The open cases of earlier cycles are carried on (their state rebuilt
  // after a crash), the most recent ones first.
  std::vector<std::string> open;
  Result<std::vector<std::string>> streams = engine.ListCases("", SIZE_MAX);
  if (!streams.ok()) {
    Emit("fail list streams: " + streams.status().ToString());
    return 3;
  }
  for (auto it = streams->rbegin(); it != streams->rend() && open.size() < 60; ++it) {
    if (it->empty() || (*it)[0] == '$') continue;
    Result<CaseState> s = engine.State(*it);
    if (!s.ok()) {
      Emit("fail state of " + *it + " at child open: " + s.status().ToString());
      continue;
    }
    if (IsOpen(s->state)) open.push_back(*it);
  }
  Emit("ready");

  std::mt19937_64 seeds(o.seed);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<std::string> mine;
    for (std::size_t i = static_cast<std::size_t>(t); i < open.size();
         i += static_cast<std::size_t>(o.threads))
      mine.push_back(open[i]);
    threads.emplace_back(Worker, std::ref(engine), std::cref(o), t, std::move(mine), seeds());
  }
  threads.emplace_back(Advancer, std::ref(engine), seeds());
  // The parent kills us long before this; if it does not, end cleanly.
  std::this_thread::sleep_for(std::chrono::seconds(120));
  g_child_stop = true;
  for (auto& th : threads) th.join();
  Status closed = engine.Close();
  if (!closed.ok()) Emit("fail close: " + closed.ToString());
  return 0;
}

// ---------------------------------------------------------------------------
// Parent

struct Ack {
  std::string stream;
  std::uint64_t first = 0, last = 0;
  std::string types;
  int cycle = 0;
};

struct Failure {
  std::string what;
};

class Torture {
 public:
  explicit Torture(Options o) : o_(std::move(o)), rng_(o_.seed) {}

  int Run() {
    auto start = SteadyClock::now();
    auto last_progress = start;
    for (int cycle = 1; cycle <= o_.cycles; ++cycle) {
      const bool ok = Cycle(cycle);
      auto now = SteadyClock::now();
      if (ok && o_.quiet && (now - last_progress >= std::chrono::seconds(30) || cycle == o_.cycles)) {
        last_progress = now;
        const double secs = std::chrono::duration<double>(now - start).count();
        const double eta = secs / cycle * (o_.cycles - cycle);
        std::cout << "torture: cycle " << cycle << "/" << o_.cycles << ", " << acks_.size()
                  << " acknowledged commands, head " << head_ << ", " << static_cast<long>(secs) << " s, ETA "
                  << static_cast<long>(eta) << " s" << std::endl;
      }
      if (!ok) {
        std::cerr << "torture: FAILED in cycle " << cycle << " of " << o_.cycles << "\n";
        for (const auto& f : failures_) std::cerr << "  " << f << "\n";
        std::cerr << "reproduce: caseloop_torture --cycles " << o_.cycles << " --dir " << o_.dir << " --seed "
                  << o_.seed << " --threads " << o_.threads << " --min-ms " << o_.min_ms << " --max-ms "
                  << o_.max_ms << "\n";
        return 1;
      }
    }
    double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
    std::cout << "torture: " << o_.cycles << " cycles survived (" << kills_ << " kills, " << kills_opening_
              << " while opening), " << acks_.size() << " acknowledged commands, " << config_acks_.size()
              << " configuration changes, " << head_ << " events, " << overdue_events_
              << " task_overdue events, 0 lost, " << secs << " s (seed " << o_.seed << ")\n";
    return 0;
  }

 private:
  void Fail(const std::string& what) {
    if (failures_.size() < 20) failures_.push_back(what);
  }

  bool Cycle(int cycle) {
    auto t0 = SteadyClock::now();
    int fds[2];
    if (pipe(fds) != 0) {
      Fail(std::string("pipe: ") + std::strerror(errno));
      return false;
    }
    const std::uint64_t child_seed = rng_();
    pid_t pid = fork();
    if (pid < 0) {
      Fail(std::string("fork: ") + std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      close(fds[0]);
      if (fds[1] != kChildFd) {
        dup2(fds[1], kChildFd);
        close(fds[1]);
      }
      std::vector<std::string> args = {"caseloop_torture",
                                       "--child",
                                       "--dir",
                                       o_.dir,
                                       "--seed",
                                       std::to_string(child_seed),
                                       "--cycle",
                                       std::to_string(cycle),
                                       "--clock",
                                       std::to_string(clock_us_),
                                       "--threads",
                                       std::to_string(o_.threads)};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    close(fds[1]);

    // Now and then kill the child while it is still opening (recovering the
    // previous crash, firing the deadlines that passed); otherwise once it
    // has run its workload for a random while.
    const bool kill_opening = Chance(rng_, 0.1);
    const int run_ms =
        static_cast<int>(kill_opening ? Uniform(rng_, 0, 60) : Uniform(rng_, o_.min_ms, o_.max_ms));
    std::string buffer;
    bool eof = false, ready = false;
    auto deadline = SteadyClock::now() + std::chrono::milliseconds(run_ms);
    if (!kill_opening) {
      // Wait for "ready" (opening may take a while on a busy machine).
      auto ready_deadline = SteadyClock::now() + std::chrono::seconds(120);
      while (!ready && !eof && SteadyClock::now() < ready_deadline) {
        eof = !ReadSome(fds[0], buffer, SteadyClock::now() + std::chrono::milliseconds(50));
        ready = buffer.find("ready\n") != std::string::npos;
      }
      if (!ready) Fail("cycle " + std::to_string(cycle) + ": the child did not become ready");
      deadline = SteadyClock::now() + std::chrono::milliseconds(run_ms);
    }
    while (!eof && SteadyClock::now() < deadline) eof = !ReadSome(fds[0], buffer, deadline);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    while (!eof) eof = !ReadSome(fds[0], buffer, SteadyClock::now() + std::chrono::seconds(5));
    close(fds[0]);
    ++kills_;
    if (kill_opening && buffer.find("ready\n") == std::string::npos) ++kills_opening_;
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      Fail("cycle " + std::to_string(cycle) + ": the child ended before the kill (status " +
           std::to_string(status) + ")");
    }
    const std::size_t acks_before = acks_.size();
    ParseChildOutput(buffer, cycle);
    if (!failures_.empty()) return false;

    auto t1 = SteadyClock::now();
    Verify(cycle);
    auto t2 = SteadyClock::now();
    if (!o_.quiet) {
      auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
      std::cout << "cycle " << cycle << ": killed after " << run_ms << " ms"
                << (kill_opening ? " (opening)" : "") << ", +" << (acks_.size() - acks_before) << " acks ("
                << acks_.size() << "), head " << head_ << ", clock " << Text(InstantFromMicros(clock_us_))
                << ", run " << ms(t1 - t0) << " ms, verify " << ms(t2 - t1) << " ms"
                << (failures_.empty() ? "" : " FAILED") << std::endl;
    }
    return failures_.empty();
  }

  // Reads what is available until `until`; false at end of file.
  static bool ReadSome(int fd, std::string& buffer, SteadyClock::time_point until) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()).count();
      if (left < 0) left = 0;
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return true;
      char chunk[8192];
      ssize_t n = read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
      if (left == 0) return true;
    }
  }

  void ParseChildOutput(const std::string& buffer, int cycle) {
    std::istringstream in(buffer);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline: cannot happen (atomic writes), ignore
      std::istringstream words(line);
      std::string kind;
      words >> kind;
      if (kind == "ack") {
        std::string id;
        Ack a;
        a.cycle = cycle;
        words >> id >> a.stream >> a.first >> a.last >> a.types;
        if (acks_.count(id)) Fail("command id " + id + " acknowledged twice");
        acks_[id] = a;
        ack_order_.push_back(id);
        unchecked_acks_.push_back(id);
      } else if (kind == "cfg") {
        std::uint64_t first = 0, last = 0;
        words >> first >> last;
        config_acks_.emplace_back(first, last);
      } else if (kind == "adv") {
        std::int64_t us = 0;
        words >> us;
        clock_us_ = std::max(clock_us_, us);
      } else if (kind == "fail") {
        Fail("cycle " + std::to_string(cycle) + " child: " + line.substr(5));
      } else if (kind != "ready") {
        Fail("cycle " + std::to_string(cycle) + ": unexpected child output '" + line + "'");
      }
    }
  }

  Result<std::unique_ptr<Engine>> Open() {
    EngineOptions eo;
    eo.path = o_.dir;
    eo.store.durability = Durability::kSync;
    eo.clock = std::make_shared<ManualClock>(InstantFromMicros(clock_us_));
    eo.default_config = true;
    eo.timers = true;
    return Engine::Open(eo);
  }

  // The log checks: gap-free positions, commands whole, acknowledged commands
  // present, streams that decode and replay, one task_overdue per task.
  // `full`: the whole log and every acknowledgment ever made; otherwise the
  // events after the last check, the acknowledgments not yet checked and a
  // rotating sample of the older ones, re-read at their positions.
  // `replay_from`: streams with an event at or after this position are
  // replayed through State (the older ones were replayed by earlier cycles).
  void CheckLog(Engine& engine, int cycle, std::uint64_t replay_from, bool full) {
    const std::string where = "cycle " + std::to_string(cycle) + ": ";
    const std::uint64_t from = full ? 1 : checked_head_ + 1;
    Result<std::vector<LoggedEvent>> fresh_events = engine.ReadLog(from, SIZE_MAX);
    if (!fresh_events.ok()) {
      Fail(where + "ReadLog from " + std::to_string(from) + ": " + fresh_events.status().ToString());
      return;
    }
    const std::vector<LoggedEvent>& events = *fresh_events;
    head_ = engine.HeadPosition();
    if (from - 1 + events.size() != head_) {
      Fail(where + "the log holds " + std::to_string(from - 1 + events.size()) + " events, head is " +
           std::to_string(head_));
    }
    if (full) {
      overdue_.clear();
      overdue_events_ = 0;
      logged_commands_.clear();
    }
    struct Group {
      std::string stream;
      std::uint64_t first = 0, last = 0;
      std::string types;
    };
    std::map<std::string, Group> groups;
    std::set<std::string> streams;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const EventRecord& r = events[i].record;
      if (r.position != from + i) {
        Fail(where + "position " + std::to_string(from + i) + " holds the record of position " +
             std::to_string(r.position));
        return;
      }
      if (r.stream != kConfigStream) {
        if (r.position >= replay_from) streams.insert(r.stream);
        Result<CaseEvent> e = DecodeCaseEvent(r);
        if (!e.ok()) {
          Fail(where + "event at position " + std::to_string(r.position) +
               " does not decode: " + e.status().ToString());
        } else if (e->type == EventType::kTaskOverdue) {
          ++overdue_events_;
          if (++overdue_[{r.stream, e->task}] == 2) {
            Fail(where + "case " + r.stream + " task " + std::to_string(e->task) +
                 " has two task_overdue events (second at position " + std::to_string(r.position) + ")");
          }
        }
      }
      if (r.command_id.empty()) continue;
      auto [it, fresh] = groups.try_emplace(r.command_id);
      Group& g = it->second;
      if (fresh) {
        if (!logged_commands_.insert(r.command_id).second) {
          Fail(where + "command " + r.command_id + " appears again at position " +
               std::to_string(r.position) + ", after the events of an earlier check");
        }
        g.stream = r.stream;
        g.first = r.position;
        g.types = r.type;
      } else {
        if (r.position != g.last + 1 || r.stream != g.stream) {
          Fail(where + "command " + r.command_id + " is split: position " + std::to_string(r.position) +
               " on " + r.stream + " after position " + std::to_string(g.last) + " on " + g.stream);
        }
        g.types += "," + r.type;
      }
      g.last = r.position;
    }
    auto check_ack = [&](const std::string& id, const Ack& a, const Group* g) {
      if (g == nullptr) {
        Fail(where + "acknowledged command " + id + " (cycle " + std::to_string(a.cycle) + ", case " +
             a.stream + ", positions " + std::to_string(a.first) + ".." + std::to_string(a.last) +
             ") is LOST");
      } else if (g->stream != a.stream || g->first != a.first || g->last != a.last || g->types != a.types) {
        Fail(where + "acknowledged command " + id + " differs: acknowledged " + a.stream + " " +
             std::to_string(a.first) + ".." + std::to_string(a.last) + " [" + a.types + "], log has " +
             g->stream + " " + std::to_string(g->first) + ".." + std::to_string(g->last) + " [" + g->types +
             "]");
      }
    };
    auto group_of = [&](const std::string& id) -> const Group* {
      auto it = groups.find(id);
      return it == groups.end() ? nullptr : &it->second;
    };
    if (full) {
      for (const auto& [id, a] : acks_) check_ack(id, a, group_of(id));
    } else {
      // Acknowledged since the last check: all at positions after it.
      for (const std::string& id : unchecked_acks_) check_ack(id, acks_.at(id), group_of(id));
      // A rotating sample of the older ones, read back at their positions.
      const std::size_t old = ack_order_.size() - unchecked_acks_.size();
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(o_.sample), old);
      for (std::size_t k = 0; k < n; ++k) {
        const std::string& id = ack_order_[sample_cursor_++ % old];
        const Ack& a = acks_.at(id);
        Result<std::vector<LoggedEvent>> back = engine.ReadLog(a.first, a.last - a.first + 1);
        if (!back.ok()) {
          Fail(where + "ReadLog of acknowledged command " + id + ": " + back.status().ToString());
          continue;
        }
        Group g;
        bool whole = !back->empty();
        for (const LoggedEvent& e : *back) {
          const EventRecord& r = e.record;
          whole = whole && r.command_id == id;
          if (g.first == 0) {
            g.stream = r.stream;
            g.first = r.position;
            g.types = r.type;
          } else {
            g.types += "," + r.type;
            if (r.stream != g.stream) g.stream += "|" + r.stream;
          }
          g.last = r.position;
        }
        check_ack(id, a, whole ? &g : nullptr);
      }
      sample_cursor_ %= std::max<std::size_t>(old, 1);
    }
    unchecked_acks_.clear();
    for (std::size_t c = full ? 0 : config_checked_; c < config_acks_.size(); ++c) {
      const auto& [first, last] = config_acks_[c];
      for (std::uint64_t p = first; p <= last; ++p) {
        Result<std::vector<LoggedEvent>> back = engine.ReadLog(p, 1);
        if (p == 0 || !back.ok() || back->size() != 1 || (*back)[0].record.stream != kConfigStream) {
          Fail(where + "acknowledged configuration change at position " + std::to_string(p) + " is LOST");
        }
      }
    }
    config_checked_ = config_acks_.size();
    for (const std::string& s : streams) {
      Result<CaseState> state = engine.State(s);
      if (!state.ok()) Fail(where + "case " + s + " does not replay: " + state.status().ToString());
    }
    checked_head_ = head_;
  }

  // Every task the overdue list shows at `now` has been marked by its timer:
  // all of them when `full`, else those due since the last check and a
  // rotating sample of the others (checked then, their marks in the log).
  void CheckOverdueMarked(Engine& engine, Instant now, int cycle, const char* when, bool full) {
    const std::string where = "cycle " + std::to_string(cycle) + " (" + when + "): ";
    Result<std::vector<OverdueTask>> overdue = engine.Overdue(now);
    if (!overdue.ok()) {
      Fail(where + "Overdue: " + overdue.status().ToString());
      return;
    }
    std::size_t sampled = 0;
    const std::size_t total = overdue->size();
    for (std::size_t i = 0; i < total; ++i) {
      const OverdueTask& t = (*overdue)[(i + overdue_cursor_) % total];
      const bool due_since = !overdue_checked_until_ || t.deadline > *overdue_checked_until_;
      if (!full && !due_since) {
        if (sampled >= static_cast<std::size_t>(o_.sample)) continue;
        ++sampled;
      }
      Result<CaseState> s = engine.State(t.case_id);
      if (!s.ok()) {
        Fail(where + "State " + t.case_id + ": " + s.status().ToString());
      } else if (!s->overdue_marked) {
        Fail(where + "case " + t.case_id + " is overdue since " + Text(t.deadline) + " at " + Text(now) +
             " but its timer has not fired");
      }
    }
    overdue_cursor_ += static_cast<std::size_t>(o_.sample);
    if (!overdue_checked_until_ || now > *overdue_checked_until_) overdue_checked_until_ = now;
  }

  void CompareWithRebuild(Engine& engine, Instant now, int cycle, const char* when) {
    const std::string where = "cycle " + std::to_string(cycle) + " (" + when + "): ";
    Result<std::string> before = ProjectionDigest(engine, now);
    if (!before.ok()) {
      Fail(where + "projection queries: " + before.status().ToString());
      return;
    }
    Status s = engine.RebuildProjections();
    if (!s.ok()) {
      Fail(where + "RebuildProjections: " + s.ToString());
      return;
    }
    Result<std::string> after = ProjectionDigest(engine, now);
    if (!after.ok()) {
      Fail(where + "projection queries after rebuild: " + after.status().ToString());
      return;
    }
    if (*before != *after) {
      std::istringstream a(*before), b(*after);
      std::string la, lb;
      int line = 0;
      while (true) {
        bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
        ++line;
        if (!ga && !gb) break;
        if (!ga) la = "<end>";
        if (!gb) lb = "<end>";
        if (la != lb) {
          Fail(where + "projections after recovery differ from a rebuild at line " + std::to_string(line) +
               ":\n    recovered: " + la + "\n    rebuilt:   " + lb);
          break;
        }
      }
    }
  }

  void Verify(int cycle) {
    const std::string where = "cycle " + std::to_string(cycle) + ": ";
    Result<std::unique_ptr<Engine>> opened = Open();
    if (!opened.ok()) {
      Fail(where + "reopen after the kill failed: " + opened.status().ToString());
      return;
    }
    Engine& engine = **opened;
    Result<std::vector<std::string>> problems = engine.Check();
    if (!problems.ok())
      Fail(where + "Check: " + problems.status().ToString());
    else
      for (const auto& p : *problems) Fail(where + "check: " + p);
    const bool full = cycle <= 3 || cycle % o_.full_every == 0 || cycle == o_.cycles;
    CheckLog(engine, cycle, replayed_head_ + 1, full);
    const Instant reopened_at = engine.Now();
    CheckOverdueMarked(engine, reopened_at, cycle, "deadlines passed while down", full);
    if (full) CompareWithRebuild(engine, reopened_at, cycle, "after recovery");
    if (!failures_.empty()) return;

    // Advance past more deadlines: each fires once.
    Instant later = reopened_at + std::chrono::minutes(Uniform(rng_, 30, 3 * 24 * 60));
    Status s = engine.AdvanceTo(later);
    if (!s.ok()) Fail(where + "AdvanceTo " + Text(later) + ": " + s.ToString());
    clock_us_ = MicrosOf(engine.Now());
    const std::uint64_t before_advance = head_;
    CheckLog(engine, cycle, before_advance + 1, false);
    replayed_head_ = head_;
    CheckOverdueMarked(engine, engine.Now(), cycle, "after advancing the clock", false);
    if (full) CompareWithRebuild(engine, engine.Now(), cycle, "after advancing the clock");
    const std::uint64_t head = engine.HeadPosition();
    s = engine.Close();
    if (!s.ok()) Fail(where + "Close: " + s.ToString());

    if (cycle % 5 == 0 && failures_.empty()) {
      // A clean reopen at the same instant appends nothing (no timer fires twice).
      Result<std::unique_ptr<Engine>> again = Open();
      if (!again.ok()) {
        Fail(where + "second reopen: " + again.status().ToString());
        return;
      }
      if ((*again)->HeadPosition() != head) {
        Fail(where + "a reopen at the same instant appended " +
             std::to_string((*again)->HeadPosition() - head) + " events");
      }
      s = (*again)->Close();
      if (!s.ok()) Fail(where + "Close after the second reopen: " + s.ToString());
    }
  }

  Options o_;
  std::mt19937_64 rng_;
  std::int64_t clock_us_ = kStartUs;
  std::map<std::string, Ack> acks_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> config_acks_;
  std::vector<std::string> failures_;
  std::uint64_t head_ = 0;
  std::uint64_t replayed_head_ = 0;  // streams with events up to here replayed already
  std::uint64_t checked_head_ = 0;   // log positions up to here checked
  std::map<std::pair<std::string, std::uint32_t>, int> overdue_;  // task_overdue events per task
  std::set<std::string> logged_commands_;                         // command ids up to checked_head_
  std::vector<std::string> ack_order_;                            // acks_ in the order they came
  std::vector<std::string> unchecked_acks_;                       // acknowledged since the last check
  std::size_t sample_cursor_ = 0;
  std::size_t config_checked_ = 0;
  std::optional<Instant> overdue_checked_until_;
  std::size_t overdue_cursor_ = 0;
  std::uint64_t overdue_events_ = 0;
  int kills_ = 0;
  int kills_opening_ = 0;
};

// Removes `dir` when it is absent, empty or a database this tool made
// (a RocksDB CURRENT file); refuses anything else.
bool PrepareDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    bool empty = fs::is_directory(dir, ec) && fs::directory_iterator(dir, ec) == fs::directory_iterator();
    if (!empty && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
      std::cerr << "caseloop_torture: " << dir << " exists and is not a caseloop database; not touching it\n";
      return false;
    }
    fs::remove_all(dir, ec);
    if (ec) {
      std::cerr << "caseloop_torture: cannot remove " << dir << ": " << ec.message() << "\n";
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseOptions(argc, argv);
  if (o.child) return ChildMain(o);
  if (!PrepareDir(o.dir)) return 2;
  std::cout << "torture: " << o.cycles << " cycles on " << o.dir << ", seed " << o.seed << ", " << o.threads
            << " threads, kill after " << o.min_ms << ".." << o.max_ms << " ms" << std::endl;
  int rc = Torture(o).Run();
  return rc;
}
