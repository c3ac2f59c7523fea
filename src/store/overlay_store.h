// src/store/overlay_store.h — an in-memory overlay of a store's projection
// storage, for a read-only engine: its projections catch up (or rebuild)
// without writing to the store.
#ifndef CASELOOP_STORE_OVERLAY_STORE_H_
#define CASELOOP_STORE_OVERLAY_STORE_H_

#include <memory>

#include "store/projection_store.h"

namespace caseloop {

// Projection storage that keeps every write (CommitProjection,
// ResetProjection) in memory, layered over `base`: Get, Scan and
// ProjectionCheckpoint see the base as changed by those writes; the base is
// never written. Memory grows with what the projections write: the log after
// their stored checkpoint (everything after a Rebuild); destroying the
// overlay drops it. REQUIRES: `base` outlives the overlay. Thread-safe.
std::unique_ptr<ProjectionStore> NewProjectionOverlay(ProjectionStore* base);

}  // namespace caseloop

#endif  // CASELOOP_STORE_OVERLAY_STORE_H_
