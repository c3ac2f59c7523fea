// bench/scenarios.h — the scenarios of caseloop_bench and the state they
// share within one run (the raw RocksDB baselines the engine rows compare to).
#ifndef CASELOOP_BENCH_SCENARIOS_H_
#define CASELOOP_BENCH_SCENARIOS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop::bench {

// What one run measures once and several scenarios use.
struct Context {
  BenchOptions options;
  // Raw RocksDB events/s per (durability, clients), filled by the baseline
  // scenario (or on demand by lifecycle).
  std::map<std::pair<Durability, int>, double> baseline_events_per_s;
  // Bare 4 KiB write + fdatasync latency, microseconds.
  std::optional<double> fsync_p50_us;
  std::optional<double> fsync_p99_us;
  // The query scenario's largest history (closed cases 0..history_cases-1),
  // kept for the memory scenario; removed at exit.
  std::shared_ptr<TempDir> history_dir;
  std::string history_path;
  std::uint64_t history_cases = 0;
};

// Durations and sizes of the run (quick or full).
struct Plan {
  double row_seconds;                      // measured time per throughput row
  std::vector<int> lifecycle_clients;      // 1, 2, 8, 64
  std::vector<std::uint64_t> query_sizes;  // cases
  std::uint64_t rebuild_cases;
  std::uint64_t import_rows;
  std::uint64_t memory_closed;
  std::uint64_t memory_open;
  int fsync_samples;
  // query: seconds to leave the engine idle after the timed queries (RocksDB
  // compacts the catch-up's writes meanwhile) before timing rates again.
  int query_settle_seconds = 0;
};
Plan PlanFor(const BenchOptions& options);

inline constexpr Durability kDurabilities[] = {Durability::kSync, Durability::kBuffered, Durability::kNone};

Status RunAppend(Context& ctx, Report& report);
Status RunBaseline(Context& ctx, Report& report);
Status RunLifecycle(Context& ctx, Report& report);
Status RunRebuild(Context& ctx, Report& report);
Status RunQuery(Context& ctx, Report& report);
Status RunImport(Context& ctx, Report& report);
Status RunMemory(Context& ctx, Report& report);
// http_bench.cc: lifecycles over HTTP next to Engine::Submit; the case list's pages.
Status RunHttp(Context& ctx, Report& report);
Status RunCaseList(Context& ctx, Report& report);
int HttpChildMain(const std::vector<std::string>& args);
// postgres_bench.cc: needs a server (CASELOOP_BENCH_POSTGRES_URL); not in the default run.
Status RunPostgres(Context& ctx, Report& report);

// Raw RocksDB write throughput of the lifecycle's bytes at (durability,
// clients): one WriteBatch per command with a log key and a stream index key
// per event. Fills ctx.baseline_events_per_s and returns the row.
Result<Row> MeasureBaseline(Context& ctx, Durability durability, int clients);
// Fills ctx.fsync_p50_us / p99 and returns the row.
Result<Row> MeasureFsync(Context& ctx);

// The write floor of a rebuild (bench/rebuild_floor.cc): raw RocksDB writing
// the projection keyspace of the store at `store_path` into a new database at
// `scratch_path`, in key order, batches of 16384, no WAL. Times the writes only.
struct WriteFloor {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double cpu = 0;  // process CPU during the writes (incl. RocksDB's flush threads)
};
Result<WriteFloor> MeasureWriteFloor(const std::string& store_path, const std::string& scratch_path);

// The memory scenario's child process: argv after "--memory-child".
int MemoryChildMain(const std::vector<std::string>& args);

}  // namespace caseloop::bench

#endif  // CASELOOP_BENCH_SCENARIOS_H_
