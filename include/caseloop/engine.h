// caseloop/engine.h — the one object a host application talks to.
//
// Submit commands from many threads; each is acknowledged only when its events
// are durable at the engine's durability level. Commands for one case are
// serialized; different cases run concurrently and are group-committed (many
// commands share one write batch and one fsync). Deadline timers append one
// task_overdue event per task, exactly once, across restarts. Subscribers get
// the log from a position, then live.
//
// Thread-safety: every method may be called from any thread, except that
// Close() must not race with itself. Callbacks run on engine threads; they
// must not block for long and must not call Close().
#ifndef CASELOOP_ENGINE_H_
#define CASELOOP_ENGINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/projection_options.h"
#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

// The engine's source of "now". SystemClock reads the wall clock; a
// ManualClock only moves when told (tests, simulations, scripts).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
  virtual bool IsManual() const { return false; }
};
std::shared_ptr<Clock> SystemClock();

class ManualClock : public Clock {
 public:
  // Engine::Open refuses a manual clock whose reading is outside
  // [kEarliestInstant, kLatestInstant] (time.h).
  explicit ManualClock(Instant start = Instant{}) : now_(MicrosOf(start)) {}
  Instant Now() const override;
  bool IsManual() const override { return true; }
  // Only the engine moves a manual clock it owns (Engine::AdvanceTo), so that
  // timers fire in order; hosts call Engine::AdvanceTo / Advance instead.
  // Errors: InvalidArgument when `t` is outside [kEarliestInstant,
  // kLatestInstant] (the clock is left as it is).
  Status Set(Instant t);

 private:
  std::atomic<std::int64_t> now_;
};

// EngineOptions::path of a store that lives in memory and keeps nothing.
inline constexpr char kInMemoryPath[] = ":memory:";

struct EngineOptions {
  // Where the store lives: the directory of the embedded RocksDB store, or
  // kInMemoryPath (":memory:") for a store in memory (tests, simulations),
  // or a PostgreSQL connection URI ("postgresql://..." / "postgres://...",
  // src/store/postgres_store.h and docs/scale.md: several engines may share
  // one database, each with ?caseloop_projections=NAME of its own).
  // An empty path is refused (InvalidArgument): it is what an unset variable
  // gives, and must not quietly keep nothing. Default: kInMemoryPath.
  std::string path = kInMemoryPath;
  // The store: durability (what an acknowledgment survives; default kSync),
  // create_if_missing, read_only, group commit (max_group_writers,
  // group_commit_window) and the block cache; StoreOptions has each field's
  // trade-off and default. The in-memory store syncs and caches nothing and
  // uses only the checks. For the engine, store.read_only means more: the
  // engine writes nothing. `path` must name an existing store (on read-only
  // media too); no timer is armed or fired (AdvanceTo only moves the clock),
  // no default configuration is appended, and the projections catch up in
  // memory when the stored ones are behind the log (queries are answered as
  // usual; the stored projections stay as they are). Submit, SubmitAsync and
  // Configure fail with Rejected.
  //   EngineOptions o;
  //   o.path = "/var/lib/district/cases";
  //   o.store.durability = Durability::kBuffered;
  StoreOptions store;
  // The projections' batch sizes (ProjectionOptions). Default: as there.
  ProjectionOptions projections;
  // Threads that decide SubmitAsync commands and run their callbacks. They
  // never wait for an fsync (the store completes the append), so this bounds
  // CPU parallelism, not the number of commands in flight. Default: 2.
  int worker_threads = 2;
  // Events buffered per subscriber before the feed pauses for it (the
  // subscriber is held back, never skipped past events). Default: 4096.
  std::size_t subscriber_queue = 4096;
  // The clock; null = SystemClock(). Default: null.
  std::shared_ptr<Clock> clock;
  // Append DefaultConfigChanges() when the store has no configuration.
  // Default: false.
  bool default_config = false;
  // Arm deadline timers that append task_overdue events. Default: true.
  bool timers = true;
  // Several engines on one database (a postgresql:// path, docs/scale.md):
  // how often an idle engine reads what the other engines appended, so that
  // their configuration changes apply here and the deadlines of their cases
  // are armed here too, without waiting for a command or query of this
  // engine's own. A command or Configure also reads newer configuration
  // first (at most every 20 ms, as the head). 0: only then. Not used for a
  // store only this engine writes (RocksDB, ":memory:"). Default: 500 ms.
  std::chrono::milliseconds peer_poll_interval{500};
  // Case states kept in memory (least recently used dropped first). A miss
  // replays the case's stream, so this bounds memory, not correctness, however
  // many cases the log holds. About 1 KiB per state. Default: 65536.
  std::size_t case_cache_size = 65536;
};

struct CommandAck {
  std::string case_id;
  std::uint64_t first_position = 0;
  std::uint64_t last_position = 0;
  std::uint64_t version = 0;  // the case stream's version after the command
  bool duplicate = false;     // the command id had been seen: nothing new was written
  std::vector<EventType> events;
};

// One case's commands for Engine::SubmitBatch.
struct CaseBatch {
  // The commands, all on the same case, in the order they are to run. Their
  // own command_id fields are not used (see command_id below).
  std::vector<Command> commands;
  // Idempotency key of the group's one append; "" = a generated one. An
  // append with a command id seen before writes nothing (ack.duplicate).
  std::string command_id;
};

struct CaseBatchResult {
  // OK; or why commands[done] was refused (the commands after it were not
  // run); or why nothing could be appended (then done == 0).
  Status status;
  // How many of the group's commands (a prefix) have their events appended.
  std::size_t done = 0;
  // The group's one append: positions, the case's version after it, the event
  // types. With duplicate = true nothing was written and done == 0.
  CommandAck ack;
};

// One event of the global log, decoded, for history and subscriptions.
// caseloop/json.h prints it (ToJson, Write).
struct LoggedEvent {
  EventRecord record;
  // A case stream's record: the decoded event.
  std::optional<CaseEvent> event;
  // A "$config" record: the decoded configuration change.
  std::optional<ConfigChange> change;
  // OK; or why the payload did not decode (Corruption naming the position,
  // stream and type), and then neither `event` nor `change` is set. History
  // and ReadLog fail on such a record instead; a subscription delivers it
  // with this status, so that it is not stuck behind it. A record of another
  // "$" stream decodes to nothing, with OK.
  Status decode_status;
};

class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops delivery; after it returns the handler is not called again.
  virtual void Cancel() = 0;
  // The position of the last event handed to the handler.
  virtual std::uint64_t Position() const = 0;
};

class Engine {
 public:
  // Opens the store (creating it), loads the configuration, catches the
  // projections up, fires deadlines that passed while the engine was down
  // (stamped with their deadline instant) and arms timers for the rest.
  // Errors: IOError (e.g. the directory is locked by another process), Corruption.
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  virtual ~Engine() = default;

  // Runs a case command; returns after its events are durable at the
  // engine's Durability (an acknowledgment with kSync survives kill -9 and a
  // power loss). Commands on one case are serialized: each is decided on the
  // state left by the one before it. The command's `at` and `deadline`, and
  // every instant its events would store (a computed deadline), must be in
  // [kEarliestInstant, kLatestInstant] (time.h): else InvalidArgument and
  // nothing is appended.
  virtual Result<CommandAck> Submit(const Command& command) = 0;
  // Same, asynchronous; returns at once. `done` runs exactly once on an
  // engine worker thread, after the events are durable (or with the error;
  // Unavailable when Close() refused the command before it was decided).
  // Commands on one case are decided one after the other in the order
  // their SubmitAsync calls were made (a Submit on the same case may go
  // first); commands on different cases are decided concurrently and their
  // appends share group commits, however many are in flight. `done` must not
  // block: it must not call Submit or State (use SubmitAsync), nor Close().
  virtual void SubmitAsync(Command command, std::function<void(Result<CommandAck>)> done) = 0;
  // Bulk path (CSV import): runs many cases' commands in one call, on the
  // calling thread. Groups run in order. Within a group the commands are
  // decided one after the other, each seeing the events of the previous ones,
  // with the same validation and the same events as Submit one at a time; the
  // events of the accepted prefix go to the case in ONE atomic append under
  // the group's command id, so a crash leaves each group whole or absent and
  // the log holds a prefix of the groups. The appends are written with
  // Durability::kBuffered (or the engine's, when weaker) and made durable at
  // the engine's level by one Flush before SubmitBatch returns: the batch is
  // acknowledged as a whole when it returns, not group by group. Cached
  // states, projections, subscriptions and deadline timers see the appended
  // events exactly as if they had been submitted one by one. The appends go
  // to the store's group commit while later groups are decided; each case's
  // stripe is held until the batch is done, so a Submit on a case of the
  // batch waits for the whole batch. Results: one per group, in order; engine
  // errors (closed) fail every group.
  virtual std::vector<CaseBatchResult> SubmitBatch(const std::vector<CaseBatch>& batch) = 0;
  // Appends a configuration change (affects only later commands). `at`
  // (default: the clock's now) must be in [kEarliestInstant, kLatestInstant].
  virtual Result<CommandAck> Configure(const ConfigChange& change, std::optional<Instant> at = {}) = 0;
  // Configure with an idempotency key (an HTTP Idempotency-Key): when a
  // change was appended under `command_id` before, nothing is appended and
  // that change's acknowledgment is returned with duplicate = true (even if
  // the change would now be refused); else as Configure, the change carrying
  // `command_id` in the log, so that this holds across restarts. An empty
  // command_id is Configure. (Not pure, so that an engine written elsewhere
  // still compiles: the default refuses a command id with InvalidArgument.)
  virtual Result<CommandAck> ConfigureOnce(const ConfigChange& change, const std::string& command_id,
                                           std::optional<Instant> at = {}) {
    if (command_id.empty()) return Configure(change, at);
    return Status::InvalidArgument("this engine keeps no command ids for configuration changes");
  }
  virtual Config CurrentConfig() const = 0;

  // Queries. Without `at`, a query is evaluated at QueryInstant (queries.h):
  // the clock's now, or the end of the period if earlier. Reads wait until the
  // projections have applied every acknowledged command (read-your-writes).
  //
  // Show: the case as it was at `at` — state, unit, deadline, light, pending
  // request — replayed from its events whose times are at or before `at` (the
  // prefix of its history up to the first later one). NotFound when the case
  // does not exist, or had no event yet at `at`. Without `at`: the case as it
  // is now, with its light at the clock's now.
  virtual Result<CaseView> Show(const std::string& case_id, std::optional<Instant> at = {}) = 0;
  // The case's full state as the decider sees it: CaseState (case.h) is the
  // state of the public Decide / Evolve, which replay a case from its
  // events; Show gives the view to display.
  virtual Result<CaseState> State(const std::string& case_id) = 0;
  // The case's events, oldest first; with `at`, those Show(case_id, at)
  // replays (up to the first event after `at`). NotFound as Show.
  virtual Result<std::vector<LoggedEvent>> History(const std::string& case_id,
                                                   std::optional<Instant> at = {}) = 0;
  virtual Result<std::vector<LoggedEvent>> ReadLog(std::uint64_t from_position, std::size_t max) = 0;
  virtual Result<std::vector<UnitRates>> Rates(const PeriodQuery& q) = 0;
  virtual Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) = 0;
  virtual Result<CentreFigures> Centre(const PeriodQuery& q) = 0;
  virtual Result<std::vector<OverdueTask>> Overdue(std::optional<Instant> at = {}) = 0;
  virtual Result<std::vector<UnitWorkload>> Workload(std::optional<Instant> at = {}) = 0;

  // Live feed: events with position >= from_position, in order, without gaps
  // or duplicates: first the stored ones (catch-up), then live ones.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(
      std::uint64_t from_position, std::function<void(const LoggedEvent&)> handler) = 0;

  // Manual clock only: moves the clock to `t`, firing every deadline timer
  // due at or before `t` in deadline order before returning. Errors:
  // InvalidArgument when t is before the clock or outside [kEarliestInstant,
  // kLatestInstant] (time.h), Rejected with a system clock.
  virtual Status AdvanceTo(Instant t) = 0;
  virtual Status Advance(Micros d) = 0;
  virtual Instant Now() const = 0;
  // The latest business time recorded in the log (0 when empty).
  virtual Instant LatestRecordedTime() const = 0;

  // Blocks until projections have applied the log up to `position`.
  virtual Status WaitForProjections(std::uint64_t position) = 0;
  virtual Status RebuildProjections() = 0;
  // Store + projection checks; one line per problem.
  virtual Result<std::vector<std::string>> Check() = 0;
  // fsyncs so far (group commit makes this smaller than synced commands).
  virtual std::uint64_t SyncCount() const = 0;
  // The store's counters: fsyncs and, for the RocksDB store, the sizes of
  // its group commits (StoreStatistics, event_store.h). (Not pure, so that
  // an engine written elsewhere still compiles: the default gives
  // SyncCount() and no group sizes.)
  virtual StoreStatistics StoreStats() const {
    StoreStatistics s;
    s.syncs = SyncCount();
    return s;
  }
  // The position of the last event in the log (0 when empty). Subscribe from
  // HeadPosition() + 1 to receive only what is appended from now on.
  virtual std::uint64_t HeadPosition() const = 0;
  // Case ids in byte order, starting after `after` (exclusive), at most
  // `max` of them. Errors: Unavailable (closed), Corruption, IOError.
  virtual Result<std::vector<std::string>> ListCases(const std::string& after, std::size_t max) = 0;
  // The case list: one page of the cases matching `filter` (queries.h),
  // read from the case-list index (docs/projections.md), never from a scan
  // of every case; lights at filter.at (default: the clock's now), as show
  // computes them. Reads wait for the acknowledged commands, as the other
  // queries. Errors: InvalidArgument (a bad cursor or limit), Unavailable
  // (closed), Corruption, IOError. (Not pure, so that an engine written
  // elsewhere still compiles: the default refuses.)
  virtual Result<CasePage> FindCases(const CaseFilter& filter) {
    (void)filter;
    return Status::InvalidArgument("this engine has no case list");
  }

  // The open tasks of retired units (queries.h RedispatchTask), by unit then
  // case id; lights at `at` (default: the clock's now). Read from the case
  // list (FindCases) and the configuration. Errors: as FindCases.
  Result<std::vector<RedispatchTask>> Redispatch(std::optional<Instant> at = {});

  // Stops accepting commands, acknowledges or refuses (Unavailable) each one
  // in flight, stops timers and subscriptions, flushes and closes the store.
  virtual Status Close() = 0;
};

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_H_
