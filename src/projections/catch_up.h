// The catch-up loop shared by the registered projections: one read of the
// log feeds every projection whose checkpoint is behind; each projection's
// writes and its new checkpoint go to the store in one CommitProjection call
// per batch (docs/projections.md, "The catch-up loop").
//
// Thread-safety: CatchUp, Rebuild and Check must be serialized by the caller;
// Checkpoint may be called from any thread at any time.
#ifndef CASELOOP_PROJECTIONS_CATCH_UP_H_
#define CASELOOP_PROJECTIONS_CATCH_UP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caseloop/event_store.h"
#include "caseloop/projection_options.h"
#include "caseloop/status.h"
#include "projections/batch.h"
#include "projections/projection.h"
#include "store/projection_store.h"

namespace caseloop::projections {

class CatchUpLoop {
 public:
  // Reads `log`, keeps the projections' state and checkpoints in `store`.
  // REQUIRES: log, store and every projection outlive the loop; names
  // distinct, no prefix a prefix of another. Commits go in the order given.
  CatchUpLoop(EventStore* log, ProjectionStore* store, const ProjectionOptions& options,
              std::vector<Projection*> projections);

  // Applies the log after each projection's checkpoint, up to the head (or
  // `until`). A projection whose stored format differs from its code's is
  // dropped and replayed from position 1. Errors: Corruption (an event that
  // cannot be decoded or applied, a gap in the log; the events before it are
  // committed and the message names its position), IOError.
  Status CatchUp(std::uint64_t until);
  // Drops every projection's keys and checkpoint, then CatchUp(UINT64_MAX).
  Status Rebuild();
  // The smallest checkpoint.
  std::uint64_t Checkpoint() const;
  // A checkpoint beyond the log head, then each projection's own Check.
  Status Check(std::vector<std::string>* problems);

 private:
  struct Member {
    Projection* projection = nullptr;
    std::string format_key;  // <prefix>~format
    std::atomic<std::uint64_t> checkpoint{0};
  };

  // Drops a projection's keys and checkpoint (a rebuild).
  Status Reset(Member& m);
  // Applies entries[0, n) to fresh batches and commits each projection whose
  // checkpoint moves; resets the projections that asked for a rebuild. On an
  // apply error, returns it with *failed_at set to the index of the offending
  // entry (nothing is committed then).
  Status ApplyAndCommit(const std::vector<LogEntry>& entries, std::size_t n, std::vector<std::uint64_t>& cp,
                        std::vector<Carry>& carry, std::size_t* failed_at);

  EventStore* log_;
  ProjectionStore* store_;
  ProjectionOptions options_;
  std::vector<std::unique_ptr<Member>> members_;
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_CATCH_UP_H_
