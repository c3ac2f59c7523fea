// bench/workload.h — the cases the benchmarks run: a small district, the six
// commands of a closed case, the events the decider gives for them, and a
// bulk builder of history that writes those events straight into the store.
//
// Thread-safety: pure functions, except WriteHistory, which appends from its
// own threads and may run while nothing else writes to the store.
#ifndef CASELOOP_BENCH_WORKLOAD_H_
#define CASELOOP_BENCH_WORKLOAD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/engine.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop::bench {

// The district's UTC offset unless a scenario says otherwise: +08:00, the
// calendar's default. Every function below taking an offset works in the
// district's local time: a history at -05:00 is the +08:00 one 13 hours later.
inline constexpr int kBenchOffsetMinutes = 8 * 60;

// Units U0..U7, one event category each (0101..0108, 1 wd or 4 wh), routed
// to them; inspector I1 (no grid), shift leader L1, dispatcher D1, receiver R1.
// Default calendar (Mon–Fri 09–12, 13–17) at `utc_offset_minutes`.
std::vector<ConfigChange> BenchConfigChanges(int utc_offset_minutes = kBenchOffsetMinutes);
Config BenchConfig(int utc_offset_minutes = kBenchOffsetMinutes);
// Configures the engine with BenchConfigChanges(utc_offset_minutes).
Status ConfigureBench(Engine& engine, int utc_offset_minutes = kBenchOffsetMinutes);

inline constexpr int kBenchUnits = 8;

// The id of case `i`: "C" + zero-padded decimal, so ids sort like numbers.
std::string CaseId(std::uint64_t i);
// The unit case `i` is routed to ("U" + i % 8).
std::string UnitOf(std::uint64_t i);

// The six commands of a case that closes: report (I1), register (L1),
// dispatch (D1, routed), accept (unit), feedback (unit), verify pass (I1).
// `at` empty: the commands carry no time (the engine's clock). Otherwise
// they are spread from `at`: register +5 min, dispatch +10 min, accept +30
// min, feedback +2 h (one case in ten: +3 days, late), verify +30 min after.
std::vector<Command> ClosedCaseCommands(std::uint64_t i, std::optional<Instant> at);
// The first four: report, register, dispatch, accept (the case stays open,
// in handling).
std::vector<Command> OpenCaseCommands(std::uint64_t i, std::optional<Instant> at);

// Runs `commands` through Decide/Evolve exactly as the engine does (same
// config, same instants) and returns each command's events. `now` is used
// for commands without a time. Errors: the decider's.
Result<std::vector<std::vector<CaseEvent>>> DecideCase(const std::vector<Command>& commands,
                                                       const Config& config, Instant now);

// The business time of case `i` in history: scattered over Q1 2025 by a
// multiplicative hash, so every prefix of ids covers the whole quarter.
Instant HistoryTime(std::uint64_t i, int utc_offset_minutes = kBenchOffsetMinutes);
// 2025-01-01T00:00 and 2025-04-01T00:00 local time: the quarter of history.
Instant QuarterStart(int utc_offset_minutes = kBenchOffsetMinutes);
Instant QuarterEnd(int utc_offset_minutes = kBenchOffsetMinutes);

// Writes closed cases [first, first + count) into `store`: for each case the
// events DecideCase gives for ClosedCaseCommands(i, HistoryTime(i)), encoded
// with EncodeCaseEvent and appended as one Append per case (one command id
// per case, Durability::kNone) from `threads` threads, at the offset of
// config's calendar. The configuration must already be in the store (open an
// Engine and ConfigureBench first).
// Returns the number of events written.
Result<std::uint64_t> WriteHistory(EventStore& store, const Config& config, std::uint64_t first,
                                   std::uint64_t count, int threads);

// A new store at `path` holding only the bench configuration, written
// through an Engine (manual clock at QuarterStart() - 1 day).
Status CreateHistoryStore(const std::string& path, int utc_offset_minutes = kBenchOffsetMinutes);
// Opens the store at `path` (Durability::kNone) and WriteHistory's cases
// [first, first + count) into it with 3 threads. Returns the events written.
Result<std::uint64_t> ExtendHistory(const std::string& path, std::uint64_t first, std::uint64_t count,
                                    int utc_offset_minutes = kBenchOffsetMinutes);

// Runs `fn(thread_index)` on `n` threads and joins them.
void RunThreads(int n, const std::function<void(int)>& fn);

}  // namespace caseloop::bench

#endif  // CASELOOP_BENCH_WORKLOAD_H_
