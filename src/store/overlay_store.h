// src/store/overlay_store.h — an in-memory overlay of a store's projection
// keyspace, for a read-only engine: its projections catch up (or rebuild)
// without writing to the store.
#ifndef CASELOOP_STORE_OVERLAY_STORE_H_
#define CASELOOP_STORE_OVERLAY_STORE_H_

#include <memory>

#include "caseloop/event_store.h"

namespace caseloop {

// A store that reads the log from `base` and keeps every projection write
// (CommitProjection, ResetProjection) in memory, layered over the base's
// projection keyspace: Get, Scan and ProjectionCheckpoint see the base as
// changed by those writes; the base is never written. Appends and snapshots
// fail with IOError ("read-only"); Flush does nothing; Close drops the
// overlay and leaves the base open. Memory grows with what the projections
// write: the log after their stored checkpoint (everything after a Rebuild).
// REQUIRES: `base` outlives the overlay. Thread-safe.
std::unique_ptr<EventStore> NewProjectionOverlay(EventStore* base);

}  // namespace caseloop

#endif  // CASELOOP_STORE_OVERLAY_STORE_H_
