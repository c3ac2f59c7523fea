// caseloop/event_store.h — the append-only event log: the single source of truth.
//
// The log holds streams (one per case, plus "$config" for configuration).
// Every appended event gets a stream version (1, 2, 3 ... per stream) and a
// global position (1, 2, 3 ... over the whole store, gap-free: one writer
// assigns positions, so a reader can never skip an event).
//
// EventStore is the log only. The state of the engine's projections lives
// beside it, in the same database, behind an internal interface of its own
// (src/store/projection_store.h), so that a backend implements the log and
// the projection storage each on its own terms.
//
// Two implementations share this interface and one contract test suite:
// OpenRocksDbStore (embedded, durable) and NewMemoryStore (tests, simulations).
//
// Thread-safety: an EventStore is safe for concurrent use by many threads.
// Concurrent appends are group-committed: they share one write batch and, in
// Durability::kSync, one fsync; each Append returns only after its own events
// are durable at the requested level.
#ifndef CASELOOP_EVENT_STORE_H_
#define CASELOOP_EVENT_STORE_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/status.h"

namespace caseloop {

// What an acknowledged append survives.
//   kSync:     fsync of the write-ahead log before the append returns. Survives a
//              process crash and a power loss / kernel crash.
//   kBuffered: written to the write-ahead log without fsync. Survives a process
//              crash (kill -9), not a power loss.
//   kNone:     no write-ahead log; memtables are flushed at Close(). Survives
//              nothing until Close() (or Flush()) returns. For bulk imports.
// On-disk/ABI note: values appear in benchmark JSON. Do not renumber.
enum class Durability : std::uint8_t { kSync = 0, kBuffered = 1, kNone = 2 };
std::string_view DurabilityName(Durability d);              // "sync" / "buffered" / "none"
Result<Durability> ParseDurability(std::string_view name);  // InvalidArgument otherwise

// An event to append. The store fills in position, stream, version.
struct NewEvent {
  std::string type;                  // e.g. "CaseDispatched"; non-empty, <= 64 bytes
  std::uint32_t schema_version = 1;  // version of the payload's schema for this type
  std::int64_t recorded_us = 0;      // business time, UTC microseconds since epoch (stored as given)
  std::string event_id;              // unique id (the store generates one when empty:
                                     // 32 random lower-case hex digits)
  std::string actor;                 // who caused it ("I1", "D1", "$timer", ...)
  std::string correlation_id;        // optional
  std::string causation_id;          // optional
  std::string payload;               // opaque bytes (caseloop encodes with cereal)
};

// A stored event with its envelope.
struct EventRecord {
  std::uint64_t position = 0;  // global, gap-free, starts at 1
  std::string stream;
  std::uint64_t version = 0;  // per stream, starts at 1
  std::string type;
  std::uint32_t schema_version = 1;
  std::int64_t recorded_us = 0;
  std::string event_id;
  std::string command_id;  // the append's command id ("" if none)
  std::string correlation_id;
  std::string causation_id;
  std::string actor;
  std::string payload;
};

// A stored event borrowed from the store, as EventStore::ScanAll hands it to
// its visitor: the string views point into the store's own buffers and are
// valid only during that one call. Copy what must outlive it.
struct EventRecordView {
  std::uint64_t position = 0;
  std::string_view stream;
  std::uint64_t version = 0;
  std::string_view type;
  std::uint32_t schema_version = 1;
  std::int64_t recorded_us = 0;
  std::string_view event_id;
  std::string_view command_id;
  std::string_view correlation_id;
  std::string_view causation_id;
  std::string_view actor;
  std::string_view payload;
};

// A view of `record` (valid while `record` lives and is not changed).
inline EventRecordView ViewOf(const EventRecord& record) {
  return EventRecordView{record.position,       record.stream,       record.version,  record.type,
                         record.schema_version, record.recorded_us,  record.event_id, record.command_id,
                         record.correlation_id, record.causation_id, record.actor,    record.payload};
}

// The version a stream must have for an append to succeed.
struct ExpectedVersion {
  enum class Kind : std::uint8_t { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  std::uint64_t version = 0;  // for kExact; kExact with 0 means "no stream" too

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exactly(std::uint64_t v) { return {Kind::kExact, v}; }
};

struct AppendOptions {
  // Idempotency key. When non-empty and an earlier append carried the same
  // command id, Append writes nothing and returns the earlier result with
  // `duplicate = true`. Default: "" (no deduplication).
  std::string command_id;
  // Per-append durability; empty = the store's default.
  std::optional<Durability> durability;
};

struct AppendResult {
  std::uint64_t first_position = 0;         // position of the first appended event
  std::uint64_t last_position = 0;          // position of the last appended event
  std::uint64_t next_expected_version = 0;  // the stream's version after the append
  bool duplicate = false;                   // true when the command id was seen before
};

struct StoreOptions {
  // Durability of appends that do not say otherwise. Default: kSync.
  Durability durability = Durability::kSync;
  // Create the database when the directory is missing or empty (never over
  // the remains of one: see OpenRocksDbStore). Default: true.
  bool create_if_missing = true;
  // RocksDB block cache for the log and projections, in bytes. Larger helps
  // rebuilds and queries over old history; it is the store's main memory cost.
  // Default: 32 MiB.
  std::size_t block_cache_bytes = 32u << 20;
  // Open read-only: nothing in the directory is written, so a store on
  // read-only media (a read-only mount, a directory this process may not
  // write) opens too; appends and every other write fail with IOError. The
  // open takes a shared lock on the store's LOCK file, so read-only opens
  // run side by side while a read-write open (which locks exclusively) is
  // refused in both directions: a reader never sees files change under it.
  // An Engine opened with it writes nothing at all (see EngineOptions).
  // Default: false.
  bool read_only = false;

  // ---- Group commit (RocksDB store; the memory store has no fsync to share
  // and ignores both fields) ----
  // Most writers (appends, projection commits) in one group, i.e.
  // sharing one write batch and one fsync. 1 = every write is its own group
  // (one fsync per synced append). A group also stops at 4 MiB of payload.
  // Must be at least 1. Default: 256.
  std::size_t max_group_writers = 256;
  // How long a group's leader may wait for more writers before it writes.
  // 0 = never wait: a write on an idle store goes to disk at once, and groups
  // form only from writers that queued up during the previous write.
  // > 0: the leader waits only when it expects more writers: the previous
  // group had more writers than are queued now and was written less than
  // max(100 ms, 10 windows) ago. It stops waiting as soon as the queue holds as many writers as
  // the previous group, the group is full, a Flush or Close is queued, or the
  // window has passed since it became leader. So a lone writer on an idle
  // store never waits, and a leader waits at most the window.
  // Must not be negative. Default: 0.
  std::chrono::microseconds group_commit_window{0};
};

// A store's counters since it was opened (EventStore::Statistics), for
// monitoring: `caseloop serve` prints them in /metrics.
struct StoreStatistics {
  // Upper bounds of the group-size buckets: writers (appends and projection
  // commits) that shared one written group, i.e. one write and at most one
  // fsync.
  static constexpr std::array<std::uint64_t, 9> kGroupSizeBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  // fsyncs so far (EventStore::SyncCount).
  std::uint64_t syncs = 0;
  // False when the store does not count its groups (the in-memory and the
  // PostgreSQL store): the group fields below are then all 0.
  bool has_groups = false;
  // Groups written, by size: group_sizes[i] counts the groups of n writers
  // with kGroupSizeBounds[i-1] < n <= kGroupSizeBounds[i] (the last entry:
  // more than 256). Not cumulative.
  std::array<std::uint64_t, kGroupSizeBounds.size() + 1> group_sizes{};
  std::uint64_t groups = 0;         // groups written (the sum of group_sizes)
  std::uint64_t group_writers = 0;  // writers in those groups
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Atomically appends `events` (non-empty) to `stream`: all of them or none,
  // in one write together with the stream index, the global log and the
  // command-id index. A stream name is 1..200 bytes without NUL bytes.
  // Errors: InvalidArgument (bad stream name, no events, a type that is empty
  // or longer than 64 bytes), Conflict (expected version does not match; the
  // message carries the actual version, e.g. "stream C7: expected version 3,
  // actual 5"; or the command id was already used for another stream),
  // IOError (also: opened read-only), Unavailable (closed).
  virtual Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected,
                                      std::vector<NewEvent> events, const AppendOptions& options = {}) = 0;

  // The same write as Append, without blocking the caller for it: the append
  // joins the group commit and `done` is called exactly once with what Append
  // would have returned, after the events are durable at the requested level
  // (or with the error). Appends are written in the order their AppendAsync
  // (or Append) calls queued them, so two appends issued one after the other
  // by one thread reach the log in that order.
  // `done` runs on a store thread (the RocksDB store's commit thread, or the
  // thread leading the group), or on the calling thread when the append is
  // refused before it is queued (bad arguments, read-only, closed) and, in
  // the memory store, always. It runs without any store lock held, so it may
  // call the store (not Close()); it must be quick: the writers of the next
  // group wait for it. The default implementation calls Append and then
  // `done` on the calling thread.
  virtual void AppendAsync(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events,
                           AppendOptions options, std::function<void(Result<AppendResult>)> done);

  // Events of `stream` with version >= from_version, oldest first, at most
  // `max` of them. An unknown stream gives an empty vector. Errors:
  // Corruption naming the position of a record that fails its checksum.
  virtual Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version = 1,
                                                      std::size_t max = SIZE_MAX) = 0;

  // Events with position >= from (from 1), in commit order, at most `max`.
  virtual Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) = 0;

  // Calls visit(record) for the events with position >= from (from 1), in
  // commit order, at most `max` of them, until visit returns false. The same
  // records as ReadAll, without copying them: the RocksDB store decodes each
  // record in place (checksum verified first) and hands out views into its
  // read buffers, valid only during the call. `visit` runs on the calling
  // thread while the store holds a read lock: it must not call the store
  // (a writer queued on that lock would deadlock it). Errors as
  // ReadAll (Corruption names the position); records before a corrupt one
  // have been visited. The default implementation goes through ReadAll.
  virtual Status ScanAll(std::uint64_t from, std::size_t max,
                         const std::function<bool(const EventRecordView&)>& visit);

  // The position of the last committed event (0 when empty).
  virtual std::uint64_t HeadPosition() const = 0;
  // The current version of `stream` (0 when it does not exist).
  virtual Result<std::uint64_t> StreamVersion(std::string_view stream) = 0;
  // Names of all streams, in byte order, starting at `after` (exclusive), at most `max`.
  virtual Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) = 0;

  // ---- Maintenance ----------------------------------------------------------
  // Verifies every record's checksum, the stream index against the log, and
  // that positions are gap-free. Returns one line per problem found (empty =
  // healthy). Errors only when the check itself cannot run (IOError).
  virtual Result<std::vector<std::string>> Check() = 0;
  // Makes everything appended so far durable (flush memtables for kNone).
  virtual Status Flush() = 0;
  // Number of fsyncs (WAL syncs) issued so far — group commit makes this
  // smaller than the number of synced appends under concurrency.
  virtual std::uint64_t SyncCount() const = 0;
  // The store's counters (StoreStatistics). The default gives SyncCount()
  // and no group sizes.
  virtual StoreStatistics Statistics() const {
    StoreStatistics s;
    s.syncs = SyncCount();
    return s;
  }
  // Flushes and releases the store; later calls return Unavailable.
  virtual Status Close() = 0;
};

// Opens the RocksDB store in directory `path`, creating it when
// StoreOptions::create_if_missing allows and the directory is missing or
// empty. A new database is never created anywhere else: a directory that
// holds the files of a database without its CURRENT file is Corruption (see
// RepairRocksDbStore), one that holds other files InvalidArgument, and
// without create_if_missing a missing or empty directory is IOError ("no
// database at ..."). A log that ends before the last acknowledged position
// (kept apart from the write-ahead log) is Corruption "N acknowledged events
// are missing ..." (read-only opens too; see RepairRocksDbStore). A
// read-write open takes the directory's lock exclusively, a read-only one
// shared (StoreOptions::read_only): a conflicting open, in another process
// or this one, is refused with IOError ("database DIR is locked by another
// process (...)"). A read-write open of a directory this process cannot
// write is IOError saying why (CheckStoreWritable), a LOCK that is not a
// file IOError saying so. Errors: IOError, Corruption, InvalidArgument.
Result<std::unique_ptr<EventStore>> OpenRocksDbStore(const std::string& path,
                                                     const StoreOptions& options = {});

// Whether this process can write in the store directory `path`: OK, or
// IOError saying why not ("... is on a read-only file system", "... cannot
// be written by this process (permission denied)"). A missing directory is
// OK (an open says what is missing). For hosts that open read-only
// (StoreOptions::read_only) when the media cannot be written, as the CLI's
// queries do: a read-write open there fails with the same message.
Status CheckStoreWritable(const std::string& path);

// Whether a database path names a server rather than a directory: a
// PostgreSQL connection URI ("postgresql://..." or "postgres://...").
bool IsDatabaseUri(std::string_view path);

// `path` as it may appear in a message or a log: a URI's password is
// replaced by "***" ("postgresql://app:***@db/cases"); a directory is
// returned as it is.
std::string PathForMessages(const std::string& path);

// The API keys file of `caseloop serve` that belongs to the database at
// `path`: "DIR.keys" beside its directory (not inside it: RocksDB owns the
// directory), trailing slashes ignored. "" for ":memory:" and for a
// PostgreSQL URI, which have no directory to keep it beside (name one).
// Backups copy this file with the database (caseloop/backup.h).
std::string DefaultKeysFile(const std::string& path);

struct RepairOptions {
  // Accept the loss of acknowledged events: when the log ends before the
  // position the store last acknowledged (a truncated or deleted write-ahead
  // log; see docs/reliability.md), record the log's end as acknowledged so
  // that the store opens again and continues from there. Without it, such a
  // store is reported and left as it is. Default: false.
  bool accept_loss = false;
};

// Repairs what OpenRocksDbStore refuses to open, without losing what can be
// read: a missing CURRENT file is written again, naming the newest manifest
// (or, with no manifest left, the manifest is rebuilt from the table files
// and logs by RocksDB's RepairDB); with accept_loss, a log that ends before
// the acknowledged position is accepted. Then the store is opened and closed
// once. Returns one line per thing done (empty: nothing needed repair).
// Errors: IOError (e.g. locked by another process), Corruption when the store
// still cannot be opened (the message says why: e.g. the loss of
// acknowledged events without accept_loss).
Result<std::vector<std::string>> RepairRocksDbStore(const std::string& path,
                                                    const RepairOptions& options = {});

// A store that lives in memory only; Durability is ignored.
std::unique_ptr<EventStore> NewMemoryStore();

}  // namespace caseloop

#endif  // CASELOOP_EVENT_STORE_H_
