// caseloop_bench [--quick] [--json] [SCENARIO...]
//
// Throughput and latency of caseloop's store, engine, projections, queries,
// CSV import and memory, with raw RocksDB baselines in the same run. Prints
// one aligned table per scenario; with --json, one JSON object per result row
// on stdout (the tables then go to stderr). Exits non-zero when a scenario
// fails or prints no rows. bench/RESULTS.md records a full run.
#include <fmt/format.h>
#include <rocksdb/version.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "scenarios.h"

namespace caseloop::bench {

Plan PlanFor(const BenchOptions& options) {
  Plan p;
  if (options.quick) {
    p.row_seconds = 0.2;
    p.lifecycle_clients = {1, 2, 8, 64};
    p.query_sizes = {1000, 10000};
    p.rebuild_cases = 2000;
    p.import_rows = 2000;
    p.memory_closed = 10000;
    p.memory_open = 100;
    p.fsync_samples = 50;
  } else {
    p.row_seconds = 2.0;
    p.lifecycle_clients = {1, 2, 8, 64};
    p.query_sizes = {10000, 100000, 1000000};
    p.rebuild_cases = 200000;
    p.import_rows = 100000;
    p.memory_closed = 1000000;
    p.memory_open = 10000;
    p.fsync_samples = 500;
    p.query_settle_seconds = 20;
  }
  return p;
}

namespace {

struct Scenario {
  const char* name;
  const char* title;
  Status (*run)(Context&, Report&);
};

const Scenario kScenarios[] = {
    {"append", "EventStore::Append by batch size and durability", RunAppend},
    {"baseline", "raw RocksDB writes of the lifecycle's bytes, and a bare fdatasync", RunBaseline},
    {"lifecycle", "whole cases through the Engine, C clients, each durability", RunLifecycle},
    {"rebuild", "projections rebuilt from the log vs a raw RocksDB scan", RunRebuild},
    {"query", "quarter rates and show as history grows", RunQuery},
    {"import", "ImportCsv of a Boston-shaped CSV", RunImport},
    {"memory", "peak RSS of an engine after closed and open cases", RunMemory},
    {"http", "whole cases over HTTP (caseloop serve) vs Engine::Submit, 1/8/64 connections", RunHttp},
    {"case_list", "case list pages (Engine::FindCases) at 10^6 cases", RunCaseList},
    {"postgres", "lifecycle on PostgreSQL (1, 3 engines) vs raw libpq inserts; named only", RunPostgres},
};

void Usage(std::ostream& out) {
  out << "usage: caseloop_bench [--quick] [--json] [SCENARIO...]\n"
         "  --quick   small sizes and short runs (the ctest smoke pass, < ~30 s)\n"
         "  --json    one JSON object per result row on stdout; tables go to stderr\n"
         "scenarios (default: all, in this order):\n";
  for (const Scenario& s : kScenarios) out << fmt::format("  {:<10} {}\n", s.name, s.title);
}

std::string Today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm);
  return buf;
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--http-child") {
    return HttpChildMain(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (!args.empty() && args[0] == "--memory-child") {
    return MemoryChildMain(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  Context ctx;
  ctx.options.self = "/proc/self/exe";
  {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) ctx.options.self.assign(buf, static_cast<std::size_t>(n));
  }
  std::vector<const Scenario*> chosen;
  for (const std::string& a : args) {
    if (a == "--quick") {
      ctx.options.quick = true;
    } else if (a == "--json") {
      ctx.options.json = true;
    } else if (a == "-h" || a == "--help") {
      Usage(std::cout);
      return 0;
    } else {
      const Scenario* found = nullptr;
      for (const Scenario& s : kScenarios)
        if (a == s.name) found = &s;
      if (!found) {
        std::cerr << "caseloop_bench: unknown scenario or option '" << a << "'\n";
        Usage(std::cerr);
        return 2;
      }
      chosen.push_back(found);
    }
  }
  if (chosen.empty()) {
    for (const Scenario& s : kScenarios)
      if (std::string_view(s.name) != "postgres") chosen.push_back(&s);  // needs a server: named only
  } else {
    // Run in the canonical order (baseline before lifecycle) whatever the order given.
    std::vector<const Scenario*> ordered;
    for (const Scenario& s : kScenarios)
      for (const Scenario* c : chosen)
        if (c == &s && std::find(ordered.begin(), ordered.end(), c) == ordered.end()) ordered.push_back(c);
    chosen = ordered;
  }

  std::ostream& info = ctx.options.json ? std::cerr : std::cout;
  std::string cmdline;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) cmdline += ' ';
    cmdline += argv[i];
  }
  info << "caseloop_bench: " << cmdline << "\n"
       << fmt::format("date {}, nproc {}, load {:.2f}, RocksDB {}.{}.{}, {} run\n", Today(),
                      std::thread::hardware_concurrency(), LoadAverage().value_or(-1), ROCKSDB_MAJOR,
                      ROCKSDB_MINOR, ROCKSDB_PATCH, ctx.options.quick ? "quick" : "full");

  int failures = 0;
  const auto t0 = SteadyClock::now();
  for (const Scenario* s : chosen) {
    Report report(ctx.options, s->name, s->title);
    const double load = LoadAverage().value_or(-1);
    const auto s0 = SteadyClock::now();
    Status st = s->run(ctx, report);
    report.Note(fmt::format("{:.1f} s, load average {:.2f} at start", SecondsSince(s0), load));
    std::size_t rows = report.Finish();
    if (!st.ok()) {
      std::cerr << "caseloop_bench: scenario " << s->name << " failed: " << st.ToString() << "\n";
      ++failures;
    } else if (rows == 0) {
      std::cerr << "caseloop_bench: scenario " << s->name << " printed no rows\n";
      ++failures;
    }
  }
  info << fmt::format("\ntotal {:.1f} s, {} scenario(s) failed\n", SecondsSince(t0), failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace caseloop::bench

int main(int argc, char** argv) { return caseloop::bench::Main(argc, argv); }
