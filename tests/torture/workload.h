// A random mixed workload over the default district (DefaultConfigChanges),
// shared by the crash torture and the full-disk test: every case command of
// domain.md §5, chosen from the case's current state so that most of them are
// accepted, with a few deliberately wrong ones (a wrong actor, a command the
// state does not allow) that the engine must refuse without writing anything.
//
// Thread-safety: pure functions of their arguments (the caller owns the rng).
#ifndef CASELOOP_TESTS_TORTURE_WORKLOAD_H_
#define CASELOOP_TESTS_TORTURE_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/engine.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop::torture {

// A report of a new case `case_id`: a mix of components and events, routed to
// one unit, to a tie (coordination), by grid to a street office, and
// emergencies on natural hours.
Command NewReport(const std::string& case_id, std::mt19937_64& rng);

// The next command for case `case_id` in `state`, or nullopt when the case is
// closed for good (closed, rejected, voided, merged). `merge_target` is
// another case a report may be merged into ("" = no merges).
std::optional<Command> NextCommand(const CaseState& state, std::mt19937_64& rng,
                                   const std::string& merge_target);

// A configuration change a torture run may interleave with commands (a holiday
// far in the future, so that it changes no deadline the run computes).
ConfigChange RandomConfigChange(std::mt19937_64& rng);

// "2025-03-03T09:00:00+08:00"-style text of an instant at +08:00.
std::string Text(Instant t);

// Everything the projections answer, as one text, for before/after
// comparisons (rates, inspectors, centre over every period that matters,
// overdue and workload at `now`). Errors: the first query that fails.
Result<std::string> ProjectionDigest(Engine& engine, Instant now);

// Random integer in [lo, hi].
inline std::int64_t Uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}
inline bool Chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

}  // namespace caseloop::torture

#endif  // CASELOOP_TESTS_TORTURE_WORKLOAD_H_
