// src/store/projection_store.h — where projections keep their state: a
// key-value space with one checkpoint per projection. Internal: the engine
// and the projections use it; hosts see only the log (caseloop/event_store.h).
//
// A backend provides two things: the log (EventStore, public) and this
// projection storage. The built-in stores keep both in one database and one
// object implements both interfaces (RocksDB: the "proj" column family and
// the "p/" checkpoints of "meta", written in the same WAL as the log); a
// backend may as well implement them as two objects (Storage below holds
// either). The overlay of a read-only engine (overlay_store.h) implements
// only this interface, over another ProjectionStore.
//
// Thread-safety: a ProjectionStore is safe for concurrent use by many threads.
#ifndef CASELOOP_STORE_PROJECTION_STORE_H_
#define CASELOOP_STORE_PROJECTION_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop {

// One write in the projection keyspace (see CommitProjection).
struct KvOp {
  enum class Kind : std::uint8_t { kPut, kDelete };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;
};

class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;

  // Writes `ops` and sets the checkpoint of projection `name` (non-empty) to
  // `checkpoint` in ONE atomic write, so that after a crash state and
  // checkpoint always agree (a promise every backend keeps). Durability: the
  // store's default, except that a kSync store commits projections as
  // kBuffered (derived state, redone from the older checkpoint after a power
  // cut; no fsync of its own). Errors: InvalidArgument (empty name), IOError
  // (also: opened read-only), Unavailable (closed).
  virtual Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                                  std::uint64_t checkpoint) = 0;
  // The checkpoint of projection `name` (0 when never committed).
  virtual Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) = 0;
  // Value of `key` in the projection keyspace.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Calls fn(key, value) for keys in [start, end) in byte order until fn
  // returns false. An empty `end` means "to the end of the keyspace". `fn`
  // runs without store locks held: it may call the store again.
  virtual Status Scan(std::string_view start, std::string_view end,
                      const std::function<bool(std::string_view, std::string_view)>& fn) = 0;
  // Deletes every key whose key starts with `prefix` (an empty prefix: the
  // whole keyspace) and sets the checkpoint of `name` to 0, in one atomic
  // write — used by rebuild.
  virtual Status ResetProjection(std::string_view name, std::string_view prefix) = 0;
};

// A database's log and its projection storage. For the built-in stores both
// point into one object (shared ownership: it lives while either does);
// closing the log closes the database, after which the projection storage
// answers Unavailable.
struct Storage {
  std::shared_ptr<EventStore> log;
  std::shared_ptr<ProjectionStore> projections;
};

// The RocksDB store of OpenRocksDbStore (same arguments and errors), with its
// projection storage.
Result<Storage> OpenRocksDbStorage(const std::string& path, const StoreOptions& options = {});
// The memory store of NewMemoryStore, with its projection storage.
Storage NewMemoryStorage();

}  // namespace caseloop

#endif  // CASELOOP_STORE_PROJECTION_STORE_H_
