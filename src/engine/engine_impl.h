// EngineImpl: the implementation behind caseloop::Engine (engine.h).
//
// Threading model (docs/engine.md has the prose):
//  * Submit runs in the caller's thread. It owns the case's stripe of a
//    striped lock table (CaseLocks) from deciding to its acknowledgment, so
//    commands on one case are serialized while different cases run
//    concurrently and their appends meet inside the store's group commit
//    (one write batch and one fsync for many).
//  * SubmitAsync queues for the case's stripe (LockAsync); once it owns it, a
//    worker of the Asio pool (`worker_threads`) decides and hands the append
//    to the store (EventStore::AppendAsync) without waiting for the fsync.
//    The store's completion (on a store thread) updates the cache, releases
//    the stripe and posts the callback to the pool. So pool workers never
//    block on an fsync or a stripe, and the commands in flight are bounded
//    only by the callers, not by the pool.
//  * The deadline timer has its own thread (timer_pool_), so that its
//    synchronous commands never wait for pool work.
//  * A projector thread catches the projections up after commits; queries
//    additionally call CatchUp inline until every acknowledged position is
//    applied (read-your-writes).
//  * Each subscription has its own delivery thread (subscription.h).
//  * A gate counts operations in flight; Close() closes the gate and waits
//    for them, so each command is either acknowledged or refused.
#ifndef CASELOOP_ENGINE_ENGINE_IMPL_H_
#define CASELOOP_ENGINE_ENGINE_IMPL_H_

#include <atomic>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "caseloop/engine.h"
#include "engine/case_cache.h"
#include "engine/subscription.h"
#include "projections/projections.h"
#include "store/projection_store.h"

namespace caseloop {

class EngineImpl final : public Engine {
 public:
  EngineImpl(const EngineOptions& options, Storage storage);
  ~EngineImpl() override;

  // Loads the configuration, catches the projections up, starts the threads
  // and fires the deadlines that passed while the engine was down.
  Status Init();

  Result<CommandAck> Submit(const Command& command) override;
  void SubmitAsync(Command command, std::function<void(Result<CommandAck>)> done) override;
  // Bulk path; in bulk.cc.
  std::vector<CaseBatchResult> SubmitBatch(const std::vector<CaseBatch>& batch) override;
  Result<CommandAck> Configure(const ConfigChange& change, std::optional<Instant> at) override;
  Result<CommandAck> ConfigureOnce(const ConfigChange& change, const std::string& command_id,
                                   std::optional<Instant> at) override;
  Config CurrentConfig() const override;

  Result<CaseView> Show(const std::string& case_id, std::optional<Instant> at) override;
  Result<CaseState> State(const std::string& case_id) override;
  Result<std::vector<LoggedEvent>> History(const std::string& case_id, std::optional<Instant> at) override;
  Result<std::vector<LoggedEvent>> ReadLog(std::uint64_t from_position, std::size_t max) override;
  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q) override;
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) override;
  Result<CentreFigures> Centre(const PeriodQuery& q) override;
  Result<std::vector<OverdueTask>> Overdue(std::optional<Instant> at) override;
  Result<std::vector<UnitWorkload>> Workload(std::optional<Instant> at) override;

  Result<std::unique_ptr<Subscription>> Subscribe(std::uint64_t from_position,
                                                  std::function<void(const LoggedEvent&)> handler) override;

  Status AdvanceTo(Instant t) override;
  Status Advance(Micros d) override;
  Instant Now() const override { return clock_->Now(); }
  Instant LatestRecordedTime() const override {
    return InstantFromMicros(latest_recorded_us_.load(std::memory_order_acquire));
  }

  Status WaitForProjections(std::uint64_t position) override;
  Status RebuildProjections() override;
  Result<std::vector<std::string>> Check() override;
  std::uint64_t SyncCount() const override { return store_->SyncCount(); }
  StoreStatistics StoreStats() const override { return store_->Statistics(); }
  std::uint64_t HeadPosition() const override;
  Result<std::vector<std::string>> ListCases(const std::string& after, std::size_t max) override;
  // In find_cases.cc.
  Result<CasePage> FindCases(const CaseFilter& filter) override;

  Status Close() override;

 private:
  // ---- gate (engine.cc) ----
  // Enter() registers an operation unless the engine is closing.
  bool Enter();
  void Leave();
  struct GateGuard {
    EngineImpl* e;
    ~GateGuard() { e->Leave(); }
  };
  Status ClosedError(const std::string& what) const;

  // ---- commands (engine.cc) ----
  std::shared_ptr<const Config> config() const;
  // `timer`: a timer's command, whose instant (a deadline that passed) may lie
  // before the case's last event; it is then stamped at that event's time.
  Result<CommandAck> SubmitLocked(const Command& command, bool timer = false);
  // A decided command: either answered without an append (`answer`) or the
  // append to make and what to do once it is durable.
  struct Decision {
    std::optional<Result<CommandAck>> answer;
    std::vector<NewEvent> events;
    ExpectedVersion expected;
    AppendOptions append;
    std::vector<CaseEvent> decided;
    CaseState state;  // before the events
    std::int64_t max_recorded_us = 0;
  };
  // Checks the case id and the command's own instants (`at`, `deadline`:
  // CheckCommandInstants); the error answers the command.
  Status CheckCommand(const Command& command) const;
  // The command's own instants are in [kEarliestInstant, kLatestInstant]
  // (time.h); `offset` writes them in the message.
  static Status CheckCommandInstants(const Command& command, int offset);
  // So are the instants its decided events would store (their times and
  // deadlines: a deadline computed late in the year 9999 falls outside).
  static Status CheckEventInstants(const Command& command, const std::vector<CaseEvent>& events, int offset);
  // REQUIRES: the case's stripe is owned.
  Decision DecideOwned(const Command& command, const std::string& command_id, Instant at, bool timer,
                       const std::shared_ptr<const Config>& cfg);
  // After a successful append: cache, projector, subscriptions, timer, ack.
  // REQUIRES: the case's stripe is owned.
  Result<CommandAck> AfterAppend(const std::string& case_id, Decision& d, const AppendResult& appended,
                                 const Config& cfg);
  // SubmitAsync's stages (see the threading model above).
  struct AsyncCommand {
    Command command;
    std::function<void(Result<CommandAck>)> done;
    std::string command_id;
    Instant at{};
    int attempt = 0;
  };
  void RunAsync(std::shared_ptr<AsyncCommand> op);  // on the pool, owning the stripe
  void OnAppended(const std::shared_ptr<AsyncCommand>& op, const std::shared_ptr<Decision>& d,
                  const std::shared_ptr<const Config>& cfg, Result<AppendResult> appended);
  // Releases the stripe and posts `done` to the pool; leaves the gate after it.
  void CompleteAsync(const std::shared_ptr<AsyncCommand>& op, Result<CommandAck> result);
  Status ReadOnlyError(const std::string& what) const;
  // The case's state from the cache, or replayed from its stream (and then
  // cached when `fill_cache`). REQUIRES for fill_cache: the case's stripe lock
  // is held, so that no newer state can be cached meanwhile.
  // q with its instant decided (QueryInstant at the clock's now).
  PeriodQuery Resolved(PeriodQuery q) const;
  Result<CaseState> LoadState(const std::string& case_id, const Config& config, bool fill_cache = true);
  Result<std::optional<CommandAck>> FindCommand(const std::string& case_id, const std::string& command_id);
  Result<CommandAck> AckFromLog(const std::string& stream, std::uint64_t first, std::uint64_t last,
                                bool duplicate);
  std::string NewCommandId();
  // After a durable append: head signal, latest time, projector.
  void NoteAppended(std::int64_t max_recorded_us);
  Result<std::vector<LoggedEvent>> DecodeAll(std::vector<EventRecord> records);
  Status LoadConfig();
  // Several engines on one database (shared_log_): applies the configuration
  // changes appended since this engine last read its stream (by any engine).
  // REQUIRES: configure_mu_ held.
  Status RefreshConfigLocked();
  // RefreshConfigLocked when the log's head moved and the last read is at
  // least 20 ms old; a failure is left to the next call (the command decides
  // on the configuration it has, as before). Only for a shared log.
  void MaybeRefreshConfig();
  // After the projector passed other engines' events: arms the timer for the
  // earliest open deadline (theirs included). Only for a shared log.
  void ArmEarliestDeadline();
  Status CatchUpTo(std::uint64_t position);
  void ProjectorLoop();

  // ---- timers (timers.cc) ----
  // One thing the timer has to do: mark a task overdue, or supervise it
  // automatically (policy auto_supervise_after_working_minutes).
  struct TimerAction {
    Instant at{};
    bool supervise = false;
    std::string case_id;
    std::uint32_t task = 0;
  };
  struct TimerScan {
    std::vector<TimerAction> due;  // at <= the limit, in (at, case, task) order
    std::optional<Instant> next;   // the earliest action after the limit
  };
  Result<TimerScan> ScanTimers(Instant limit);
  // Performs one action; refusals by the decider are expected (the task was
  // handled or marked meanwhile) and are not errors.
  Status Fire(const TimerAction& action);
  // Fires everything due at or before `limit` (re-scanning until nothing is
  // left); returns the next action's instant. With `step_clock`, the manual
  // clock is set to each action's instant as it fires.
  Result<std::optional<Instant>> RunDue(Instant limit, bool step_clock);
  // A command set a deadline: arm the real timer earlier if needed.
  void NoteDeadline(Instant deadline);
  void ArmOnStrand(Instant at);  // REQUIRES: on timer_strand_
  void OnTimerOnStrand();        // REQUIRES: on timer_strand_
  void StopTimers();

  EngineOptions options_;
  std::shared_ptr<Clock> clock_;
  ManualClock* manual_ = nullptr;  // set when clock_ is a ManualClock
  // The log and the projection storage (one database).
  std::shared_ptr<EventStore> store_;
  std::shared_ptr<ProjectionStore> projection_storage_;
  // Read-only engine: the projections write into this in-memory overlay of
  // the projection storage (store/overlay_store.h). Null otherwise.
  std::unique_ptr<ProjectionStore> projection_overlay_;
  std::unique_ptr<Projections> projections_;

  mutable std::mutex config_mu_;  // guards config_
  std::shared_ptr<const Config> config_;
  std::mutex configure_mu_;           // serializes Configure
  std::uint64_t config_version_ = 0;  // guarded by configure_mu_
  // Other engines may append to the log (PostgreSQL): their configuration
  // changes and deadlines are read from it (peer_poll_interval).
  bool shared_log_ = false;
  std::uint64_t config_checked_head_ = 0;        // guarded by configure_mu_
  std::atomic<std::int64_t> config_read_ns_{0};  // steady clock, last RefreshConfigLocked

  CaseCache cache_;
  CaseLocks locks_;
  std::string id_prefix_;
  std::atomic<std::uint64_t> id_counter_{0};
  std::atomic<std::int64_t> latest_recorded_us_{0};

  // Gate.
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  std::atomic<bool> closing_{false};
  int in_flight_ = 0;
  bool closed_ = false;
  Status close_status_;
  std::mutex close_mu_;

  // Commit notifications (subscriptions, projector).
  std::shared_ptr<HeadSignal> head_signal_ = std::make_shared<HeadSignal>();

  // Projector thread.
  std::thread projector_;
  std::atomic<bool> projector_stop_{false};

  // Subscriptions (weak: the host owns them).
  std::mutex subs_mu_;
  std::vector<std::weak_ptr<SubscriptionCore>> subs_;

  // Asio: worker pool; the timer's own thread, its strand and the deadline timer.
  boost::asio::thread_pool pool_;
  boost::asio::thread_pool timer_pool_{1};
  boost::asio::strand<boost::asio::thread_pool::executor_type> timer_strand_;
  boost::asio::system_timer timer_;
  std::optional<Instant> armed_;                   // on timer_strand_
  bool timers_stopped_ = false;                    // on timer_strand_
  std::atomic<std::int64_t> armed_us_{INT64_MAX};  // mirror of armed_ for NoteDeadline
  std::mutex advance_mu_;                          // serializes AdvanceTo and timer runs
  std::mutex refused_mu_;
  std::set<std::pair<std::string, std::uint32_t>> refused_;     // overdue marks the decider refused
  std::set<std::pair<std::string, std::uint32_t>> supervised_;  // auto-supervisions done
};

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_ENGINE_IMPL_H_
