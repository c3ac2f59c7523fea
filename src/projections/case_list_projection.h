// The case-list projection: what the case list (Engine::FindCases, the
// server's GET /api/v1/cases) filters on, kept as secondary indexes so that a
// page is read from an index range, never from a scan of every case. Keys
// (all under "cl/"; see docs/projections.md):
//   cl/c/<case>                     -> the case's summary (below)
//   cl/s/<state byte><case>         -> the summary   (by lifecycle state)
//   cl/u/<unit>\0<case>             -> the summary   (by current or last unit)
//   cl/n/<unit>\0<state byte><case> -> the summary   (a unit's cases in one state)
//   cl/k/<category>\0<case>         -> the summary   (by category code)
//   cl/g/<grid>\0<case>             -> the summary   (by grid; a prefix scan finds a street or community)
//   cl/r/<be64 reported><case>      -> the summary   (by report time)
//   cl/d/<be64 deadline><case>      -> the summary   (open tasks with a deadline, by deadline)
// Every index entry carries the summary, so that a page filters on the
// other fields without one point read per candidate.
//
// The summary is the part of the case's CaseState it keeps, moved by the
// engine's own Evolve (so state, unit, grid, verifier and deadline are the
// decider's, not a second copy of the lifecycle).
//
// Thread-safety: Apply is called by one CatchUp at a time; Find only reads
// the store and may run concurrently.
#ifndef CASELOOP_PROJECTIONS_CASE_LIST_PROJECTION_H_
#define CASELOOP_PROJECTIONS_CASE_LIST_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "caseloop/queries.h"
#include "projections/batch.h"
#include "projections/projection.h"
#include "store/projection_store.h"

namespace caseloop::projections {

class CaseListProjection final : public Projection {
 public:
  static constexpr char kName[] = "case_list";
  static constexpr char kPrefix[] = "cl/";
  static constexpr char kFormat[] = "1";  // the layout version (Projection::format)
  // Index entries a page examines at most (bounds a page's time whatever the
  // filter; a page that runs out returns what it found and a cursor).
  static constexpr std::size_t kScanBudget = 4096;

  explicit CaseListProjection(ProjectionStore* store) : store_(store) {}

  std::string_view name() const override { return kName; }
  std::string_view prefix() const override { return kPrefix; }
  std::string_view format() const override { return kFormat; }
  std::vector<std::string> carried_prefixes() const override { return {}; }
  Status Load(std::uint64_t /*checkpoint*/) override { return Status::Ok(); }
  Result<Applied> Apply(Batch& batch, const LogEntry& entry) override;
  // Cross-checks every index entry against the per-case summaries.
  Status Check(std::vector<std::string>* problems) override;

  // One page of the cases matching `filter` (lights evaluated at `at`).
  // `accept` is called for each candidate that matches the indexed fields; it
  // may fill the row's light and returns whether the row is kept (the
  // engine checks the light and the caller's visibility there).
  // Errors: InvalidArgument (a cursor that is malformed or belongs to another
  // filter), Corruption (a stored value that does not decode), IOError.
  Result<CasePage> Find(const CaseFilter& filter, Instant at,
                        const std::function<bool(CaseSummary&)>& accept);

 private:
  ProjectionStore* store_;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_CASE_LIST_PROJECTION_H_
