// Engine::Open, commands, configuration, queries, subscriptions and Close.
// Timers are in timers.cc.
#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <exception>
#include <random>
#include <utility>

#include "caseloop/case.h"
#include "engine/engine_impl.h"
#include "engine/log_decode.h"
#include "projections/deadline_projection.h"
#include "store/overlay_store.h"
#include "store/postgres_store.h"
#include "store/store_internal.h"

namespace caseloop {
namespace {

// Case states kept in memory. A miss replays the case's stream (a few events).
constexpr std::size_t kDefaultCacheSize = 65536;

std::string CommandName(const Command& c) { return std::string(Name(c.type)); }

}  // namespace

// ---------------------------------------------------------------------------
// Open / lifecycle

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  try {
    if (options.worker_threads < 1) {
      return Status::InvalidArgument("EngineOptions.worker_threads must be at least 1, got " +
                                     std::to_string(options.worker_threads));
    }
    if (options.clock && options.clock->IsManual() && !dynamic_cast<ManualClock*>(options.clock.get())) {
      return Status::InvalidArgument("EngineOptions.clock: a manual clock must be a caseloop::ManualClock");
    }
    if (options.clock && options.clock->IsManual()) {
      CASELOOP_RETURN_IF_ERROR(
          CheckInstantRange(options.clock->Now(), "EngineOptions.clock: the manual clock reads"));
    }
    // Checked here for the in-memory store too, which uses neither.
    CASELOOP_RETURN_IF_ERROR(store_internal::ValidateStoreOptions(options.store, "EngineOptions.store"));
    if (options.path.empty()) {
      // An unset variable in a path must not silently select a store that
      // keeps nothing.
      return Status::InvalidArgument(
          "EngineOptions.path is empty: name the store's directory, or kInMemoryPath (\":memory:\") for a "
          "store in memory that keeps nothing");
    }
    const bool in_memory = options.path == kInMemoryPath;
    if (options.store.read_only && in_memory) {
      return Status::InvalidArgument(
          "EngineOptions.store.read_only needs a store path (an in-memory store is empty)");
    }
    Storage storage;
    if (in_memory) {
      storage = NewMemoryStorage();
    } else {
      Result<Storage> opened = IsPostgresUrl(options.path) ? OpenPostgresStorage(options.path, options.store)
                                                           : OpenRocksDbStorage(options.path, options.store);
      if (!opened.ok()) return opened.status();
      storage = std::move(opened).value();
    }
    auto engine = std::make_unique<EngineImpl>(options, std::move(storage));
    Status s = engine->Init();
    if (!s.ok()) {
      (void)engine->Close();
      return s;
    }
    return std::unique_ptr<Engine>(std::move(engine));
  } catch (const std::exception& e) {
    return Status::IOError(std::string("opening the engine failed: ") + e.what());
  }
}

EngineImpl::EngineImpl(const EngineOptions& options, Storage storage)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock()),
      store_(std::move(storage.log)),
      projection_storage_(std::move(storage.projections)),
      config_(std::make_shared<const Config>()),
      cache_(options.case_cache_size > 0 ? options.case_cache_size : kDefaultCacheSize),
      pool_(static_cast<std::size_t>(std::max(options.worker_threads, 1))),
      timer_strand_(boost::asio::make_strand(timer_pool_.get_executor())),
      timer_(timer_pool_.get_executor()) {
  manual_ = dynamic_cast<ManualClock*>(clock_.get());
  std::random_device rd;
  std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r));
  id_prefix_ = std::string("cmd/") + buf + "/";
}

EngineImpl::~EngineImpl() { (void)Close(); }

Status EngineImpl::Init() {
  CASELOOP_RETURN_IF_ERROR(LoadConfig());

  // The latest business time: the maximum over the log's tail. Timer events
  // are stamped at their (earlier) deadlines, so the maximum, not the last.
  std::uint64_t head = store_->HeadPosition();
  if (head > 0) {
    std::uint64_t from = head > 1000 ? head - 999 : 1;
    Result<std::vector<EventRecord>> tail = store_->ReadAll(from, 1000);
    if (!tail.ok()) return tail.status();
    std::int64_t latest = 0;
    for (const EventRecord& r : *tail) latest = std::max(latest, r.recorded_us);
    latest_recorded_us_.store(latest);
  }

  if (options_.store.read_only) {
    // The projections catch up into memory: nothing is written to the store.
    projection_overlay_ = NewProjectionOverlay(projection_storage_.get());
    projections_ = Projections::Create(store_.get(), projection_overlay_.get(), options_.projections);
  } else {
    projections_ = Projections::Create(store_.get(), projection_storage_.get(), options_.projections);
  }
  if (!projections_) return Status::IOError("the projections could not be created");
  CASELOOP_RETURN_IF_ERROR(projections_->CatchUp());
  // The log's tail is not enough after an import (appended out of time order):
  // the projections keep the maximum over the whole log.
  if (projections_->LatestRecordedMicros() > latest_recorded_us_.load()) {
    latest_recorded_us_.store(projections_->LatestRecordedMicros());
  }
  if (options_.store.read_only) return Status::Ok();  // no projector, no timers: queries catch up inline
  projector_ = std::thread([this] { ProjectorLoop(); });

  if (options_.timers) {
    // Deadlines that passed while the engine was down, stamped at their deadline.
    Result<std::optional<Instant>> next = RunDue(clock_->Now(), /*step_clock=*/false);
    if (!next.ok()) return next.status();
    if (!manual_ && next->has_value()) NoteDeadline(**next);
  }
  return Status::Ok();
}

Status EngineImpl::LoadConfig() {
  Result<std::vector<EventRecord>> records = store_->ReadStream(kConfigStream);
  if (!records.ok()) return records.status();
  Config cfg;
  for (const EventRecord& r : *records) {
    Result<ConfigChange> change = DecodeConfigChange(r.payload, r.schema_version);
    if (!change.ok()) {
      return Status::Corruption("configuration event at position " + std::to_string(r.position) + " (" +
                                r.type + "): " + change.status().message());
    }
    Status s = ApplyConfigChange(cfg, *change);
    if (!s.ok()) {
      return Status::Corruption("configuration event at position " + std::to_string(r.position) + " (" +
                                r.type + ") does not apply: " + s.message());
    }
  }
  std::uint64_t version = records->empty() ? 0 : records->back().version;

  if (version == 0 && options_.default_config && !options_.store.read_only) {
    std::vector<NewEvent> events;
    Instant now = clock_->Now();
    for (const ConfigChange& change : DefaultConfigChanges()) {
      Status s = ApplyConfigChange(cfg, change);
      if (!s.ok()) return Status::InvalidArgument("the default configuration does not apply: " + s.message());
      NewEvent e;
      e.type = std::string(ConfigEventTypeName(change.type));
      e.recorded_us = MicrosOf(now);
      e.actor = "$config";
      e.payload = EncodeConfigChange(change);
      events.push_back(std::move(e));
    }
    if (!events.empty()) {
      Result<AppendResult> r = store_->Append(kConfigStream, ExpectedVersion::NoStream(), std::move(events));
      if (!r.ok()) return r.status();
      version = r->next_expected_version;
      NoteAppended(MicrosOf(now));
    }
  }
  {
    std::lock_guard<std::mutex> lock(configure_mu_);
    config_version_ = version;
  }
  std::lock_guard<std::mutex> lock(config_mu_);
  config_ = std::make_shared<const Config>(std::move(cfg));
  return Status::Ok();
}

void EngineImpl::ProjectorLoop() {
  auto stop = [this] { return projector_stop_.load(std::memory_order_acquire); };
  while (!stop()) {
    std::uint64_t seen = head_signal_->Seq();
    if (projections_->Checkpoint() < store_->HeadPosition()) {
      Status s = projections_->CatchUp();
      if (s.ok()) continue;
      // Queries report the error when they catch up inline; retry later.
    }
    head_signal_->Wait(seen, stop, std::chrono::milliseconds(500));
  }
}

bool EngineImpl::Enter() {
  std::lock_guard<std::mutex> lock(gate_mu_);
  if (closing_.load(std::memory_order_relaxed)) return false;
  ++in_flight_;
  return true;
}

void EngineImpl::Leave() {
  std::lock_guard<std::mutex> lock(gate_mu_);
  if (--in_flight_ == 0) gate_cv_.notify_all();
}

Status EngineImpl::ClosedError(const std::string& what) const {
  return Status::Unavailable("the engine is closed or closing: " + what + " refused");
}

Status EngineImpl::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  {
    std::unique_lock<std::mutex> lock(gate_mu_);
    if (closed_) return close_status_;
    closing_.store(true, std::memory_order_release);
    // Every operation that passed the gate finishes (a queued SubmitAsync
    // sees `closing_` and is refused with Unavailable, its callback runs).
    gate_cv_.wait(lock, [this] { return in_flight_ == 0; });
  }
  StopTimers();
  timer_pool_.join();
  pool_.join();  // nothing is left to run: no command in flight, the timer cancelled

  projector_stop_.store(true, std::memory_order_release);
  head_signal_->Notify();
  if (projector_.joinable()) projector_.join();

  std::vector<std::shared_ptr<SubscriptionCore>> subs;
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    for (auto& w : subs_)
      if (auto s = w.lock()) subs.push_back(std::move(s));
    subs_.clear();
  }
  for (auto& s : subs) s->Stop();

  Status result;
  if (projections_) {
    if (!options_.store.read_only) {
      Status s = projections_->CatchUp();  // so that the next Open starts without lag
      (void)s;                             // not fatal: the next Open catches up
    }
    projections_.reset();
  }
  projection_overlay_.reset();
  if (store_) {
    Status f = store_->Flush();
    Status c = store_->Close();
    if (!f.ok())
      result = f;
    else if (!c.ok() && !c.IsUnavailable())
      result = c;
  }
  std::lock_guard<std::mutex> lock(gate_mu_);
  closed_ = true;
  close_status_ = result;
  return result;
}

// ---------------------------------------------------------------------------
// Commands

std::shared_ptr<const Config> EngineImpl::config() const {
  std::lock_guard<std::mutex> lock(config_mu_);
  return config_;
}

Config EngineImpl::CurrentConfig() const { return *config(); }

std::string EngineImpl::NewCommandId() {
  return id_prefix_ + std::to_string(id_counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void EngineImpl::NoteAppended(std::int64_t max_recorded_us) {
  std::int64_t cur = latest_recorded_us_.load(std::memory_order_relaxed);
  while (max_recorded_us > cur &&
         !latest_recorded_us_.compare_exchange_weak(cur, max_recorded_us, std::memory_order_acq_rel)) {
  }
  head_signal_->Notify();
}

Status EngineImpl::ReadOnlyError(const std::string& what) const {
  return Status::Rejected(what +
                          ": the engine is open read-only (EngineOptions::read_only); nothing is written");
}

Result<CommandAck> EngineImpl::Submit(const Command& command) {
  if (!Enter()) return ClosedError("command '" + CommandName(command) + "' on case " + command.case_id);
  GateGuard guard{this};
  if (options_.store.read_only)
    return ReadOnlyError("command '" + CommandName(command) + "' on case " + command.case_id);
  try {
    return SubmitLocked(command);
  } catch (const std::exception& e) {
    return Status::IOError("command '" + CommandName(command) + "' on case " + command.case_id +
                           " failed: " + e.what());
  }
}

void EngineImpl::SubmitAsync(Command command, std::function<void(Result<CommandAck>)> done) {
  if (!Enter()) {
    Status s = ClosedError("command '" + CommandName(command) + "' on case " + command.case_id);
    if (done) {
      try {
        done(s);
      } catch (...) {
      }
    }
    return;
  }
  auto op = std::make_shared<AsyncCommand>();
  op->at = command.at.value_or(clock_->Now());
  op->command_id = command.command_id.empty() ? NewCommandId() : command.command_id;
  op->command = std::move(command);
  op->done = std::move(done);
  Status refused =
      options_.store.read_only
          ? ReadOnlyError("command '" + CommandName(op->command) + "' on case " + op->command.case_id)
          : CheckCommand(op->command);
  if (!refused.ok()) {
    boost::asio::post(pool_, [this, op, refused] {
      if (op->done) {
        try {
          op->done(refused);
        } catch (...) {
        }
      }
      Leave();
    });
    return;
  }
  // Queue for the case's stripe; once owned, decide on the pool.
  locks_.For(op->command.case_id).LockAsync([this, op] {
    boost::asio::post(pool_, [this, op] { RunAsync(op); });
  });
}

void EngineImpl::RunAsync(std::shared_ptr<AsyncCommand> op) {
  const Command& command = op->command;
  auto failed = [&](const std::string& why) {
    return Status::IOError("command '" + CommandName(command) + "' on case " + command.case_id +
                           " failed: " + why);
  };
  if (closing_.load(std::memory_order_acquire)) {
    // Not decided yet: refused without touching the log.
    CompleteAsync(op, ClosedError("command '" + CommandName(command) + "' on case " + command.case_id));
    return;
  }
  try {
    std::shared_ptr<const Config> cfg = config();
    auto d = std::make_shared<Decision>(DecideOwned(command, op->command_id, op->at, /*timer=*/false, cfg));
    if (d->answer) {
      Result<CommandAck> answer = std::move(*d->answer);
      CompleteAsync(op, std::move(answer));
      return;
    }
    std::vector<NewEvent> events = std::move(d->events);
    store_->AppendAsync(command.case_id, d->expected, std::move(events), d->append,
                        [this, op, d, cfg](Result<AppendResult> r) { OnAppended(op, d, cfg, std::move(r)); });
  } catch (const std::exception& e) {
    CompleteAsync(op, failed(e.what()));
  }
}

void EngineImpl::OnAppended(const std::shared_ptr<AsyncCommand>& op, const std::shared_ptr<Decision>& d,
                            const std::shared_ptr<const Config>& cfg, Result<AppendResult> appended) {
  const std::string& id = op->command.case_id;
  try {
    if (!appended.ok()) {
      cache_.Erase(id);
      if (appended.status().IsConflict() && op->attempt == 0) {
        // Another writer moved the stream (only possible across processes or
        // with a stale cache): reload and decide once more, on the pool (the
        // stripe stays owned by this command).
        op->attempt = 1;
        boost::asio::post(pool_, [this, op] { RunAsync(op); });
        return;
      }
      CompleteAsync(op, appended.status());
      return;
    }
    CompleteAsync(op, AfterAppend(id, *d, *appended, *cfg));
  } catch (const std::exception& e) {
    cache_.Erase(id);
    CompleteAsync(op, Status::IOError("command '" + CommandName(op->command) + "' on case " + id +
                                      " failed after its append: " + e.what()));
  }
}

void EngineImpl::CompleteAsync(const std::shared_ptr<AsyncCommand>& op, Result<CommandAck> result) {
  locks_.For(op->command.case_id).unlock();
  auto shared = std::make_shared<Result<CommandAck>>(std::move(result));
  boost::asio::post(pool_, [this, op, shared] {
    if (op->done) {
      try {
        op->done(std::move(*shared));
      } catch (...) {
        // No exception escapes an engine thread.
      }
    }
    Leave();
  });
}

Result<CaseState> EngineImpl::LoadState(const std::string& case_id, const Config& cfg, bool fill_cache) {
  if (std::optional<CaseState> cached = cache_.Get(case_id)) return std::move(*cached);
  Result<std::vector<EventRecord>> records = store_->ReadStream(case_id);
  if (!records.ok()) return records.status();
  CaseState state;
  state.id = case_id;
  for (const EventRecord& r : *records) {
    Result<CaseEvent> event = DecodeCaseEvent(r);
    if (!event.ok()) return event.status();
    CASELOOP_RETURN_IF_ERROR(Evolve(state, *event, cfg));
  }
  if (fill_cache && state.version > 0) cache_.Put(case_id, state);
  return state;
}

Result<CommandAck> EngineImpl::AckFromLog(const std::string& stream, std::uint64_t first, std::uint64_t last,
                                          bool duplicate) {
  CommandAck ack;
  ack.case_id = stream;
  ack.first_position = first;
  ack.last_position = last;
  ack.duplicate = duplicate;
  if (first > 0 && last >= first) {
    Result<std::vector<EventRecord>> records = store_->ReadAll(first, last - first + 1);
    if (!records.ok()) return records.status();
    for (const EventRecord& r : *records) {
      ack.version = std::max(ack.version, r.version);
      if (std::optional<EventType> t = ParseEventType(r.type)) {
        ack.events.push_back(*t);
      } else if (Result<CaseEvent> e = DecodeCaseEvent(r); e.ok()) {
        ack.events.push_back(e->type);
      }
    }
  }
  return ack;
}

Result<std::optional<CommandAck>> EngineImpl::FindCommand(const std::string& case_id,
                                                          const std::string& command_id) {
  Result<std::vector<EventRecord>> records = store_->ReadStream(case_id);
  if (!records.ok()) return records.status();
  std::uint64_t first = 0, last = 0;
  for (const EventRecord& r : *records) {
    if (r.command_id != command_id) continue;
    if (first == 0) first = r.position;
    last = r.position;
  }
  if (first == 0) return std::optional<CommandAck>();
  Result<CommandAck> ack = AckFromLog(case_id, first, last, /*duplicate=*/true);
  if (!ack.ok()) return ack.status();
  return std::optional<CommandAck>(std::move(ack).value());
}

Status EngineImpl::CheckCommand(const Command& command) const {
  const std::string& id = command.case_id;
  if (id.empty())
    return Status::InvalidArgument("command '" + CommandName(command) + "': the case id is empty");
  if (id[0] == '$') {
    return Status::InvalidArgument("command '" + CommandName(command) + "': case id '" + id +
                                   "' is reserved (ids starting with '$' name system streams)");
  }
  return CheckCommandInstants(command, OffsetAt(config()->calendar, Now()));
}

Status EngineImpl::CheckCommandInstants(const Command& command, int offset) {
  const std::string what = "command '" + CommandName(command) + "' on case " + command.case_id + ": ";
  if (command.at) CASELOOP_RETURN_IF_ERROR(CheckInstantRange(*command.at, what + "at", offset));
  if (command.deadline)
    CASELOOP_RETURN_IF_ERROR(CheckInstantRange(*command.deadline, what + "deadline", offset));
  return Status::Ok();
}

Status EngineImpl::CheckEventInstants(const Command& command, const std::vector<CaseEvent>& events,
                                      int offset) {
  for (const CaseEvent& e : events) {
    const std::string what = "command '" + CommandName(command) + "' on case " + command.case_id + ": the " +
                             std::string(Name(e.type)) + " event's ";
    CASELOOP_RETURN_IF_ERROR(CheckInstantRange(e.time, what + "time", offset));
    if (e.deadline) CASELOOP_RETURN_IF_ERROR(CheckInstantRange(*e.deadline, what + "deadline", offset));
  }
  return Status::Ok();
}

Result<CommandAck> EngineImpl::SubmitLocked(const Command& command, bool timer) {
  CASELOOP_RETURN_IF_ERROR(CheckCommand(command));
  if (options_.store.read_only) {
    return ReadOnlyError("command '" + CommandName(command) + "' on case " + command.case_id);
  }
  const std::string& id = command.case_id;
  const Instant at = command.at.value_or(clock_->Now());
  const std::string command_id = command.command_id.empty() ? NewCommandId() : command.command_id;
  std::shared_ptr<const Config> cfg = config();

  std::lock_guard<CaseLocks::Stripe> case_lock(locks_.For(id));
  for (int attempt = 0;; ++attempt) {
    Decision d = DecideOwned(command, command_id, at, timer, cfg);
    if (d.answer) return std::move(*d.answer);
    Result<AppendResult> appended = store_->Append(id, d.expected, std::move(d.events), d.append);
    if (!appended.ok()) {
      cache_.Erase(id);
      // Another writer moved the stream (only possible across processes or
      // with a stale cache): reload and decide once more.
      if (appended.status().IsConflict() && attempt == 0) continue;
      return appended.status();
    }
    return AfterAppend(id, d, *appended, *cfg);
  }
}

EngineImpl::Decision EngineImpl::DecideOwned(const Command& command, const std::string& command_id,
                                             Instant at, bool timer,
                                             const std::shared_ptr<const Config>& cfg) {
  const std::string& id = command.case_id;
  Decision d;
  Result<CaseState> loaded = LoadState(id, *cfg);
  if (!loaded.ok()) {
    d.answer = loaded.status();
    return d;
  }
  d.state = std::move(loaded).value();
  const CaseState& state = d.state;
  const Instant now = timer ? std::max(at, state.last_event_time) : at;

  // If-Match: checked here, under the case's stripe, not before the submit.
  if (command.expected_version && state.version != *command.expected_version) {
    if (!command.command_id.empty() && state.version > 0) {
      Result<std::optional<CommandAck>> earlier = FindCommand(id, command.command_id);
      if (earlier.ok() && earlier->has_value()) {
        d.answer = std::move(**earlier);
        return d;
      }
    }
    d.answer = Status::Conflict("case " + id + " is at version " + std::to_string(state.version) + ", not " +
                                std::to_string(*command.expected_version));
    return d;
  }

  // A merge target must exist and be open: the decider asks for its state.
  CaseLookup lookup;
  if (command.type == CommandType::kMerge) {
    lookup = [this, &cfg](const std::string& other) {
      // Without the other case's stripe (taking it could deadlock), so the
      // replayed state must not go into the cache: it may be outdated by the
      // time it would be stored.
      Result<CaseState> s = LoadState(other, *cfg, /*fill_cache=*/false);
      return s.ok() ? s->state : LifecycleState::kNone;
    };
  }
  Result<std::vector<CaseEvent>> decided =
      lookup ? Decide(state, command, *cfg, now, lookup) : Decide(state, command, *cfg, now);
  if (!decided.ok()) {
    // A retry of a command that already went through is answered with the
    // first result, although the decider would refuse it now.
    if (!command.command_id.empty() && state.version > 0) {
      Result<std::optional<CommandAck>> earlier = FindCommand(id, command.command_id);
      if (earlier.ok() && earlier->has_value()) {
        d.answer = std::move(**earlier);
        return d;
      }
    }
    d.answer = decided.status();
    return d;
  }
  if (decided->empty()) {
    CommandAck ack;
    ack.case_id = id;
    ack.version = state.version;
    d.answer = std::move(ack);
    return d;
  }
  if (Status s = CheckEventInstants(command, *decided, OffsetAt(cfg->calendar, Now())); !s.ok()) {
    d.answer = std::move(s);
    return d;
  }
  d.events.reserve(decided->size());
  for (const CaseEvent& e : *decided) {
    d.events.push_back(EncodeCaseEvent(e));
    d.max_recorded_us = std::max(d.max_recorded_us, d.events.back().recorded_us);
  }
  d.decided = std::move(decided).value();
  d.append.command_id = command_id;
  d.expected = state.version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(state.version);
  return d;
}

Result<CommandAck> EngineImpl::AfterAppend(const std::string& id, Decision& d, const AppendResult& appended,
                                           const Config& cfg) {
  if (appended.duplicate) {
    return AckFromLog(id, appended.first_position, appended.last_position, /*duplicate=*/true);
  }
  // Durable: update the cache, then tell the projector, subscribers, timers.
  CaseState& state = d.state;
  std::optional<Instant> old_deadline = state.deadline;
  std::uint32_t old_task = state.task;
  bool consistent = true;
  for (const CaseEvent& e : d.decided) {
    if (!Evolve(state, e, cfg).ok()) {
      consistent = false;
      break;
    }
  }
  CommandAck ack;
  ack.case_id = id;
  ack.first_position = appended.first_position;
  ack.last_position = appended.last_position;
  ack.version = appended.next_expected_version;
  for (const CaseEvent& e : d.decided) ack.events.push_back(e.type);
  if (consistent && state.version == appended.next_expected_version) {
    std::optional<Instant> deadline = state.deadline;
    bool changed = deadline != old_deadline || state.task != old_task;
    cache_.Put(id, std::move(state));
    if (deadline && changed) NoteDeadline(*deadline);
  } else {
    cache_.Erase(id);  // the next command replays the stream
  }
  NoteAppended(d.max_recorded_us);
  return ack;
}

Result<CommandAck> EngineImpl::Configure(const ConfigChange& change, std::optional<Instant> at) {
  if (!Enter())
    return ClosedError("configuration change '" + std::string(ConfigEventTypeName(change.type)) + "'");
  GateGuard guard{this};
  if (options_.store.read_only) {
    return ReadOnlyError("configuration change '" + std::string(ConfigEventTypeName(change.type)) + "'");
  }
  try {
    if (at) {
      CASELOOP_RETURN_IF_ERROR(CheckInstantRange(
          *at, "configuration change '" + std::string(ConfigEventTypeName(change.type)) + "': at",
          OffsetAt(config()->calendar, Now())));
    }
    std::lock_guard<std::mutex> lock(configure_mu_);
    Config next = *config();
    CASELOOP_RETURN_IF_ERROR(CheckConfigChangeText(change));
    CASELOOP_RETURN_IF_ERROR(ApplyConfigChange(next, change));
    Instant now = at.value_or(clock_->Now());
    NewEvent e;
    e.type = std::string(ConfigEventTypeName(change.type));
    e.recorded_us = MicrosOf(now);
    e.actor = "$config";
    e.payload = EncodeConfigChange(change);
    std::vector<NewEvent> events;
    events.push_back(std::move(e));
    ExpectedVersion expected =
        config_version_ == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(config_version_);
    Result<AppendResult> r = store_->Append(kConfigStream, expected, std::move(events));
    if (!r.ok()) return r.status();
    config_version_ = r->next_expected_version;
    {
      std::lock_guard<std::mutex> cl(config_mu_);
      config_ = std::make_shared<const Config>(std::move(next));
    }
    NoteAppended(MicrosOf(now));
    CommandAck ack;
    ack.case_id = kConfigStream;
    ack.first_position = r->first_position;
    ack.last_position = r->last_position;
    ack.version = r->next_expected_version;
    ack.duplicate = r->duplicate;
    return ack;
  } catch (const std::exception& e) {
    return Status::IOError(std::string("configuration change failed: ") + e.what());
  }
}

// ---------------------------------------------------------------------------
// Queries

Status EngineImpl::CatchUpTo(std::uint64_t position) {
  while (projections_->Checkpoint() < position) {
    std::uint64_t before = projections_->Checkpoint();
    CASELOOP_RETURN_IF_ERROR(projections_->CatchUp(position));
    if (projections_->Checkpoint() == before && before < position) {
      return Status::IOError("projections do not advance past position " + std::to_string(before) +
                             " (waiting for " + std::to_string(position) + ")");
    }
  }
  return Status::Ok();
}

Status EngineImpl::WaitForProjections(std::uint64_t position) {
  if (!Enter()) return ClosedError("waiting for projections");
  GateGuard guard{this};
  return CatchUpTo(std::min(position, store_->HeadPosition()));
}

Status EngineImpl::RebuildProjections() {
  if (!Enter()) return ClosedError("rebuilding projections");
  GateGuard guard{this};
  return projections_->Rebuild();
}

Result<std::vector<std::string>> EngineImpl::Check() {
  if (!Enter()) return ClosedError("check");
  GateGuard guard{this};
  Result<std::vector<std::string>> store_problems = store_->Check();
  if (!store_problems.ok()) return store_problems.status();
  std::vector<std::string> problems = std::move(store_problems).value();
  Result<std::vector<std::string>> proj = projections_->Check();
  if (!proj.ok()) return proj.status();
  for (std::string& p : *proj) problems.push_back(std::move(p));
  return problems;
}

Result<CaseState> EngineImpl::State(const std::string& case_id) {
  if (!Enter()) return ClosedError("state of case " + case_id);
  GateGuard guard{this};
  if (case_id.empty() || case_id[0] == '$')
    return Status::InvalidArgument("'" + case_id + "' is not a case id");
  std::shared_ptr<const Config> cfg = config();
  std::lock_guard<CaseLocks::Stripe> case_lock(locks_.For(case_id));
  Result<CaseState> state = LoadState(case_id, *cfg);
  if (!state.ok()) return state.status();
  if (state->version == 0) return Status::NotFound("case " + case_id + " not found");
  return state;
}

namespace {

// Each row's unit_name: the configured unit's name ("" for a unit only the log knows).
template <typename Row>
void NameUnits(std::vector<Row>& rows, const Config& cfg) {
  for (Row& r : rows) {
    auto it = cfg.units.find(r.unit);
    r.unit_name = it == cfg.units.end() ? std::string() : it->second.name;
  }
}

Status NotYetAt(const std::string& case_id, Instant at, const Config& cfg) {
  return Status::NotFound("case " + case_id + " had not been reported at " + FormatInstant(at, cfg.calendar));
}

}  // namespace

Result<CaseView> EngineImpl::Show(const std::string& case_id, std::optional<Instant> at) {
  const Instant t = QueryInstant(at, std::nullopt, clock_->Now());
  Result<CaseState> state = State(case_id);
  if (!state.ok()) return state.status();
  std::shared_ptr<const Config> cfg = config();
  // Without `at`: the case as it is (every event), its light at the clock's
  // now, also when the clock is behind the case's events (a host's manual
  // clock left at its start while history was imported).
  if (!at || state->last_event_time <= t) return ViewCase(*state, *cfg, t);
  // As of t: replay the events up to t (the current state has later ones).
  Result<std::vector<LoggedEvent>> events = History(case_id, t);
  if (!events.ok()) return events.status();
  CaseState then;
  then.id = case_id;
  for (const LoggedEvent& e : *events) CASELOOP_RETURN_IF_ERROR(Evolve(then, *e.event, *cfg));
  return ViewCase(then, *cfg, t);
}

Result<std::vector<LoggedEvent>> EngineImpl::DecodeAll(std::vector<EventRecord> records) {
  std::vector<LoggedEvent> out;
  out.reserve(records.size());
  for (EventRecord& r : records) {
    LoggedEvent e = DecodeLoggedEvent(std::move(r));
    if (!e.decode_status.ok()) return e.decode_status;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<LoggedEvent>> EngineImpl::History(const std::string& case_id, std::optional<Instant> at) {
  if (!Enter()) return ClosedError("history of case " + case_id);
  GateGuard guard{this};
  if (case_id.empty()) return Status::InvalidArgument("history: the case id is empty");
  Result<std::vector<EventRecord>> records = store_->ReadStream(case_id);
  if (!records.ok()) return records.status();
  if (records->empty()) return Status::NotFound("case " + case_id + " not found");
  Result<std::vector<LoggedEvent>> events = DecodeAll(std::move(records).value());
  if (!events.ok() || !at) return events;
  // Up to the first event after `at`: the prefix Show(case_id, at) replays.
  auto later = std::find_if(events->begin(), events->end(),
                            [&](const LoggedEvent& e) { return !e.event || e.event->time > *at; });
  events->erase(later, events->end());
  if (events->empty()) return NotYetAt(case_id, *at, *config());
  return events;
}

std::uint64_t EngineImpl::HeadPosition() const { return store_->HeadPosition(); }

Result<std::vector<std::string>> EngineImpl::ListCases(const std::string& after, std::size_t max) {
  if (!Enter()) return ClosedError("listing cases");
  GateGuard guard{this};
  // The log's streams are the cases and the system streams ('$config'),
  // which no case id shares a first byte with.
  std::vector<std::string> cases;
  std::string from = after;
  constexpr std::size_t kChunk = 1024;
  while (cases.size() < max) {
    Result<std::vector<std::string>> streams = store_->ListStreams(from, kChunk);
    if (!streams.ok()) return streams.status();
    for (const std::string& s : *streams) {
      if (cases.size() == max) break;
      if (!s.empty() && s[0] != '$') cases.push_back(s);
    }
    if (streams->size() < kChunk) break;
    from = streams->back();
  }
  return cases;
}

Result<std::vector<LoggedEvent>> EngineImpl::ReadLog(std::uint64_t from_position, std::size_t max) {
  if (!Enter()) return ClosedError("reading the log");
  GateGuard guard{this};
  Result<std::vector<EventRecord>> records = store_->ReadAll(std::max<std::uint64_t>(from_position, 1), max);
  if (!records.ok()) return records.status();
  return DecodeAll(std::move(records).value());
}

PeriodQuery EngineImpl::Resolved(PeriodQuery q) const {
  q.at = QueryInstant(q.at, q.to, clock_->Now());
  return q;
}

Result<std::vector<UnitRates>> EngineImpl::Rates(const PeriodQuery& q) {
  if (!Enter()) return ClosedError("rates");
  GateGuard guard{this};
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  std::shared_ptr<const Config> cfg = config();
  const PeriodQuery resolved = Resolved(q);
  if (!q.unit.empty() && cfg->units.count(q.unit) == 0) {
    // Not configured: known only if the log dispatched to it (every unit's row
    // lists it). An unknown unit is an error, not a row of zeros.
    PeriodQuery every = resolved;
    every.unit.clear();
    Result<std::vector<UnitRates>> all = projections_->Rates(every, *cfg);
    if (!all.ok()) return all.status();
    if (std::none_of(all->begin(), all->end(), [&](const UnitRates& r) { return r.unit == q.unit; })) {
      return Status::NotFound("unknown unit '" + q.unit +
                              "': no unit of that id is configured or was ever dispatched to");
    }
  }
  Result<std::vector<UnitRates>> rates = projections_->Rates(resolved, *cfg);
  if (rates.ok()) NameUnits(*rates, *cfg);
  return rates;
}

Result<std::vector<InspectorRates>> EngineImpl::Inspectors(const PeriodQuery& q) {
  if (!Enter()) return ClosedError("inspector rates");
  GateGuard guard{this};
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  return projections_->Inspectors(Resolved(q));
}

Result<CentreFigures> EngineImpl::Centre(const PeriodQuery& q) {
  if (!Enter()) return ClosedError("centre figures");
  GateGuard guard{this};
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  return projections_->Centre(Resolved(q), *config());
}

Result<std::vector<OverdueTask>> EngineImpl::Overdue(std::optional<Instant> at) {
  if (!Enter()) return ClosedError("overdue list");
  GateGuard guard{this};
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  const Instant t = QueryInstant(at, std::nullopt, clock_->Now());
  Result<std::vector<OverdueTask>> overdue = projections_->Overdue(t);
  if (!overdue.ok()) return overdue;
  std::shared_ptr<const Config> cfg = config();
  NameUnits(*overdue, *cfg);
  // Beside the natural hours: the working hours a working-time limit counts.
  for (OverdueTask& o : *overdue)
    o.overdue_working_hours = projections::RoundHours(WorkingTimeBetween(cfg->calendar, o.deadline, t));
  return overdue;
}

Result<std::vector<UnitWorkload>> EngineImpl::Workload(std::optional<Instant> at) {
  if (!Enter()) return ClosedError("workload");
  GateGuard guard{this};
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  Result<std::vector<UnitWorkload>> workload =
      projections_->Workload(QueryInstant(at, std::nullopt, clock_->Now()));
  if (workload.ok()) NameUnits(*workload, *config());
  return workload;
}

// ---------------------------------------------------------------------------
// Subscriptions

Result<std::unique_ptr<Subscription>> EngineImpl::Subscribe(std::uint64_t from_position,
                                                            std::function<void(const LoggedEvent&)> handler) {
  if (!handler) return Status::InvalidArgument("subscribe: the handler is empty");
  if (!Enter()) return ClosedError("subscribe");
  GateGuard guard{this};
  auto core = std::make_shared<SubscriptionCore>(store_.get(), head_signal_, std::move(handler),
                                                 std::max<std::size_t>(options_.subscriber_queue, 1));
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [](const auto& w) { return w.expired(); }),
                subs_.end());
    subs_.push_back(core);
  }
  core->Start(from_position);
  return std::unique_ptr<Subscription>(std::make_unique<SubscriptionHandle>(std::move(core)));
}

}  // namespace caseloop
