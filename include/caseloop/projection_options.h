// caseloop/projection_options.h — how the engine's read models (projections)
// catch up with the log. See docs/projections.md.
//
// Thread-safety: plain values.
#ifndef CASELOOP_PROJECTION_OPTIONS_H_
#define CASELOOP_PROJECTION_OPTIONS_H_

#include <cstddef>

namespace caseloop {

struct ProjectionOptions {
  // Log events applied per store write (one CommitProjection per projection
  // per batch) while the projections keep up with new commands. Smaller
  // batches commit sooner and bound the memory of a batch. Default: 1024.
  std::size_t batch_events = 1024;
  // Events per batch while the projections are far behind the log: a
  // rebuild, an engine opened on a history written elsewhere, a bulk import.
  // Used whenever at least this many events are still to apply (and it is
  // larger than batch_events). Counters and index keys are then written once
  // per bulk batch instead of once per small batch, which makes a rebuild
  // several times cheaper; the price is memory (a batch holds its pending
  // writes: roughly 1 KiB per event at the default) and that the checkpoint
  // moves in larger steps. Default: 16384.
  std::size_t bulk_batch_events = 16384;
};

}  // namespace caseloop

#endif  // CASELOOP_PROJECTION_OPTIONS_H_
