// http: whole case lifecycles through `caseloop serve`'s HTTP API (1, 8, 64
// keep-alive connections, kSync) next to the same commands through
// Engine::Submit in this process, in the same run. The server runs in a child
// process (this program re-run with --http-child: the library caseloop::server
// on its own engine, as `caseloop serve` runs it), so its CPU time per request
// is read from /proc/PID/stat apart from the clients'. Each connection runs
// the six commands of a closed case (workload.h) one after the other, waiting
// for each answer (a 2xx is sent after the fsync).
//
// case_list: Engine::FindCases (GET /api/v1/cases's index) at N cases: a
// first page and a whole walk for several filters, p50/p99 per page.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "caseloop/engine.h"
#include "caseloop/server.h"
#include "scenarios.h"
#include "workload.h"

extern char** environ;

namespace caseloop::bench {
namespace {

const char* const kActors[] = {"I1", "L1", "D1", "R1", "U0", "U1", "U2", "U3", "U4", "U5", "U6", "U7"};

// The server process: PID, port, the pipe it printed on.
struct ServerChild {
  pid_t pid = 0;
  std::uint16_t port = 0;
  int out = -1;
};

Result<ServerChild> SpawnServer(const std::string& self, const std::string& db, const std::string& keys) {
  int fds[2];
  if (::pipe(fds) != 0) return Status::IOError(std::string("http: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<std::string> argv = {self, "--http-child", db, keys};
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  ServerChild c;
  int rc = posix_spawn(&c.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::IOError("http: spawning the server: " + std::string(std::strerror(rc)));
  }
  c.out = fds[0];
  std::string line;
  char ch;
  while (::read(c.out, &ch, 1) == 1 && ch != '\n') line.push_back(ch);
  if (line.rfind("port ", 0) != 0) {
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
    ::close(c.out);
    return Status::IOError("http: the server child did not start: '" + line + "'");
  }
  c.port = static_cast<std::uint16_t>(std::stoi(line.substr(5)));
  return c;
}

Status StopServer(ServerChild& c) {
  ::kill(c.pid, SIGTERM);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(c.out);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::IOError(fmt::format("http: the server child exited with status {:#x}", status));
  return Status::Ok();
}

// User + system CPU seconds of process `pid` (/proc/PID/stat).
double ProcessCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double SelfCpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A keep-alive HTTP/1.1 connection to 127.0.0.1:port.
class Connection {
 public:
  explicit Connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

  // Sends one request, reads the answer; returns the status (0: the connection failed).
  int Post(const std::string& target, const std::string& key, const std::string& body, std::string* answer) {
    std::string req = "POST " + target +
                      " HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
                      key + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < req.size();) {
      ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      sent += static_cast<std::size_t>(n);
    }
    std::size_t header_end;
    while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return 0;
    }
    const std::string head = buf_.substr(0, header_end);
    int status = head.size() > 12 ? std::atoi(head.c_str() + 9) : 0;
    std::size_t length = 0;
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto p = lower.find("content-length:"); p != std::string::npos)
      length = std::strtoul(lower.c_str() + p + 15, nullptr, 10);
    while (buf_.size() < header_end + 4 + length) {
      if (!Fill()) return 0;
    }
    if (answer) *answer = buf_.substr(header_end + 4, length);
    buf_.erase(0, header_end + 4 + length);
    return status;
  }

 private:
  bool Fill() {
    char tmp[8192];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

// The command's body: its fields as the command table names them.
std::string BodyOf(const Command& c) {
  nlohmann::json j = nlohmann::json::object();
  switch (c.type) {
    case CommandType::kReport:
      j["kind"] = "event";
      j["category"] = c.category;
      j["source"] = "inspector";
      j["grid"] = c.grid;
      if (c.lat) j["lat"] = *c.lat;
      if (c.lon) j["lon"] = *c.lon;
      j["address"] = c.address;
      j["desc"] = c.description;
      break;
    case CommandType::kFeedback:
      j["note"] = c.note;
      break;
    case CommandType::kVerify:
      j["result"] = "pass";
      j["note"] = c.note;
      break;
    default:
      break;
  }
  return j.dump();
}

struct Measured {
  std::uint64_t commands = 0;
  double seconds = 0;
  double cpu = 0;
  Latencies latencies;
  Status error;
};

Measured InProcess(int clients, double seconds) {
  Measured m;
  TempDir dir("http-inproc");
  EngineOptions eo;
  eo.path = dir.Sub("db");
  eo.store.durability = Durability::kSync;
  Result<std::unique_ptr<Engine>> e = Engine::Open(eo);
  if (!e.ok()) {
    m.error = e.status();
    return m;
  }
  if (Status s = ConfigureBench(**e); !s.ok()) {
    m.error = s;
    return m;
  }
  std::atomic<std::uint64_t> next{0}, commands{0};
  std::vector<Latencies> lat(static_cast<std::size_t>(clients));
  std::mutex mu;
  const double cpu0 = SelfCpu();
  const auto t0 = SteadyClock::now();
  const auto stop = t0 + std::chrono::duration<double>(seconds);
  RunThreads(clients, [&](int t) {
    while (SteadyClock::now() < stop) {
      for (const Command& c : ClosedCaseCommands(next.fetch_add(1), std::nullopt)) {
        const auto c0 = SteadyClock::now();
        Result<CommandAck> ack = (*e)->Submit(c);
        lat[static_cast<std::size_t>(t)].Add(NanosSince(c0));
        if (!ack.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (m.error.ok()) m.error = ack.status();
          return;
        }
        commands.fetch_add(1);
      }
    }
  });
  m.seconds = SecondsSince(t0);
  m.cpu = SelfCpu() - cpu0;
  m.commands = commands.load();
  for (auto& l : lat) m.latencies.Merge(l);
  (void)(*e)->Close();
  return m;
}

Measured OverHttp(const std::string& self, int clients, double seconds) {
  Measured m;
  TempDir dir("http-serve");
  const std::string keys_file = dir.Sub("keys");
  std::map<std::string, std::string> keys;
  for (const char* actor : kActors) {
    Result<std::string> k = KeyStore::Issue(keys_file, actor, Instant{});
    if (!k.ok()) {
      m.error = k.status();
      return m;
    }
    keys[actor] = *k;
  }
  Result<ServerChild> child = SpawnServer(self, dir.Sub("db"), keys_file);
  if (!child.ok()) {
    m.error = child.status();
    return m;
  }
  std::atomic<std::uint64_t> next{0}, commands{0};
  std::vector<Latencies> lat(static_cast<std::size_t>(clients));
  std::mutex mu;
  auto fail = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (m.error.ok()) m.error = std::move(s);
  };
  const double cpu0 = ProcessCpu(child->pid);
  const auto t0 = SteadyClock::now();
  const auto stop = t0 + std::chrono::duration<double>(seconds);
  RunThreads(clients, [&](int t) {
    Connection conn(child->port);
    if (!conn.ok()) return fail(Status::IOError("http: cannot connect"));
    std::string answer;
    while (SteadyClock::now() < stop) {
      for (const Command& c : ClosedCaseCommands(next.fetch_add(1), std::nullopt)) {
        const std::string target = "/api/v1/cases/" + c.case_id + "/" + std::string(Name(c.type));
        const auto c0 = SteadyClock::now();
        const int status = conn.Post(target, keys[c.actor], BodyOf(c), &answer);
        lat[static_cast<std::size_t>(t)].Add(NanosSince(c0));
        if (status < 200 || status > 299)
          return fail(Status::IOError(fmt::format("http: {} answered {}: {}", target, status, answer)));
        commands.fetch_add(1);
      }
    }
  });
  m.seconds = SecondsSince(t0);
  m.cpu = ProcessCpu(child->pid) - cpu0;
  m.commands = commands.load();
  for (auto& l : lat) m.latencies.Merge(l);
  Status stopped = StopServer(*child);
  if (m.error.ok() && !stopped.ok()) m.error = stopped;
  return m;
}

}  // namespace

// Child: argv = database, keys file. Serves until SIGTERM.
int HttpChildMain(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::cerr << "--http-child: expected DB KEYS\n";
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: only sigwait sees it
  EngineOptions eo;
  eo.path = args[0];
  eo.store.durability = Durability::kSync;
  Result<std::unique_ptr<Engine>> e = Engine::Open(eo);
  if (!e.ok()) {
    std::cerr << "--http-child: " << e.status().ToString() << "\n";
    return 1;
  }
  if ((*e)->HeadPosition() == 0) {
    if (Status s = ConfigureBench(**e); !s.ok()) {
      std::cerr << "--http-child: " << s.ToString() << "\n";
      return 1;
    }
  }
  ServerOptions so;
  so.port = 0;
  so.keys_file = args[1];
  Result<std::unique_ptr<Server>> server = Server::Start(e->get(), so);
  if (!server.ok()) {
    std::cerr << "--http-child: " << server.status().ToString() << "\n";
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  (*server)->Stop();
  return (*e)->Close().ok() ? 0 : 1;
}

Status RunHttp(Context& ctx, Report& report) {
  const double seconds = ctx.options.quick ? 0.5 : 5.0;
  for (int clients : {1, 8, 64}) {
    Measured in = InProcess(clients, seconds);
    if (!in.error.ok()) return Annotate(in.error, "http: in-process row");
    Measured http = OverHttp(ctx.options.self, clients, seconds);
    if (!http.error.ok()) return Annotate(http.error, "http: HTTP row");
    const auto in_rate = PerSecond(static_cast<double>(in.commands), in.seconds);
    const auto http_rate = PerSecond(static_cast<double>(http.commands), http.seconds);
    Row row("http", Durability::kSync, clients);
    row.Set("events_per_s", std::nullopt);
    row.Set("http_cmds_per_s", http_rate);
    row.Set("submit_cmds_per_s", in_rate);
    row.Set("ratio", Ratio(http_rate, in_rate), 3);
    row.Set("http_p50_us", http.latencies.QuantileUs(0.5));
    row.Set("http_p99_us", http.latencies.QuantileUs(0.99));
    row.Set("submit_p50_us", in.latencies.QuantileUs(0.5));
    row.Set("submit_p99_us", in.latencies.QuantileUs(0.99));
    row.Set("server_cpu_us_per_req",
            http.commands ? std::optional<double>(http.cpu * 1e6 / static_cast<double>(http.commands))
                          : std::nullopt,
            1);
    row.Set(
        "inproc_cpu_us_per_cmd",
        in.commands ? std::optional<double>(in.cpu * 1e6 / static_cast<double>(in.commands)) : std::nullopt,
        1);
    report.Add(std::move(row));
  }
  report.Note(
      "server: the library caseloop::server in a child process (2 threads), its own engine at kSync; "
      "clients: one thread per keep-alive connection, each request waits for its answer");
  return Status::Ok();
}

// case_list: N closed cases of history (workload.h) plus `open` open ones in
// handling, then pages of Engine::FindCases for several filters.
Status RunCaseList(Context& ctx, Report& report) {
  const std::uint64_t size = ctx.options.quick ? 5000 : 1000000;
  const std::uint64_t open = ctx.options.quick ? 200 : 2000;
  const int samples = ctx.options.quick ? 20 : 200;
  TempDir dir("case-list");
  const std::string path = dir.Sub("db");
  CASELOOP_RETURN_IF_ERROR(CreateHistoryStore(path));
  const auto b0 = SteadyClock::now();
  Result<std::uint64_t> written = ExtendHistory(path, 0, size);
  if (!written.ok()) return written.status();
  const double build_secs = SecondsSince(b0);
  EngineOptions eo;
  eo.path = path;
  eo.store.durability = Durability::kBuffered;
  eo.clock = std::make_shared<ManualClock>(QuarterEnd() + Micros(2LL * 3600 * 1000000));
  const auto o0 = SteadyClock::now();
  Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
  if (!opened.ok()) return Annotate(opened.status(), "case_list: opening the engine");
  const double open_secs = SecondsSince(o0);
  std::unique_ptr<Engine> engine = std::move(opened).value();
  // Open cases in handling, dispatched at the clock's now.
  std::atomic<std::uint64_t> next{size};
  Status error;
  std::mutex mu;
  RunThreads(4, [&](int) {
    for (std::uint64_t i; (i = next.fetch_add(1)) < size + open;) {
      for (const Command& c : OpenCaseCommands(i, std::nullopt)) {
        Result<CommandAck> a = engine->Submit(c);
        if (!a.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.ok()) error = Annotate(a.status(), "case_list: open case");
          return;
        }
      }
    }
  });
  if (!error.ok()) return error;
  struct Probe {
    const char* name;
    CaseFilter filter;
  };
  std::vector<Probe> probes;
  auto add = [&](const char* name, auto fill) {
    CaseFilter f;
    fill(f);
    probes.push_back({name, std::move(f)});
  };
  add("all", [](CaseFilter&) {});
  add("state=handling", [](CaseFilter& f) { f.state = LifecycleState::kHandling; });
  add("unit=U3", [](CaseFilter& f) { f.unit = "U3"; });
  add("unit=U3&state=handling", [](CaseFilter& f) {
    f.unit = "U3";
    f.state = LifecycleState::kHandling;
  });
  add("light=green", [](CaseFilter& f) { f.light = Light::kGreen; });
  add("grid=620102003", [](CaseFilter& f) { f.grid = "620102003"; });
  add("category=0105", [](CaseFilter& f) { f.category = "0105"; });
  add("period=Feb", [](CaseFilter& f) {
    f.reported_from = *ParseInstant("2025-02-01T00:00", kBenchOffsetMinutes);
    f.reported_to = *ParseInstant("2025-03-01T00:00", kBenchOffsetMinutes);
  });
  add("grid=620102003&state=handling", [](CaseFilter& f) {
    f.grid = "620102003";
    f.state = LifecycleState::kHandling;
  });
  for (Probe& p : probes) {
    // Pages of 100 along the list: the first, then following the cursor.
    Latencies pages;
    std::uint64_t rows = 0;
    CaseFilter f = p.filter;
    for (int k = 0; k < samples; ++k) {
      const auto t0 = SteadyClock::now();
      Result<CasePage> page = engine->FindCases(f);
      pages.Add(NanosSince(t0));
      if (!page.ok()) return Annotate(page.status(), std::string("case_list: ") + p.name);
      rows += page->cases.size();
      f.cursor = page->next;
      if (f.cursor.empty()) f = p.filter;  // the end: from the start again
    }
    Row row("case_list", std::nullopt, 1);
    row.Set("events_per_s", std::nullopt);
    row.Set("filter", p.name);
    row.SetInt("cases", static_cast<std::int64_t>(size + open));
    row.Set("rows_per_page", static_cast<double>(rows) / samples, 1);
    row.Set("p50_ms", pages.QuantileUs(0.5).value_or(0) / 1000, 3);
    row.Set("p99_ms", pages.QuantileUs(0.99).value_or(0) / 1000, 3);
    report.Add(std::move(row));
  }
  report.Note(
      fmt::format("{} closed cases written to the log in {:.1f} s, projected (case list included) when "
                  "the engine opened in {:.1f} s; {} open cases in handling; pages of 100",
                  size, build_secs, open_secs, open));
  return engine->Close();
}

}  // namespace caseloop::bench
