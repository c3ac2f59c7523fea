// Engine::SubmitBatch: the bulk path used by the CSV import.
//
// Two phases, on the calling thread:
//  1. Decide. Per group (one case): own the case's stripe (kept until the end
//     of the batch), load the state (this batch's own result for the case if
//     an earlier group touched it, else the cache, else the stream's version
//     and, only for an existing case, its replay), Decide and Evolve each
//     command in turn on a working copy, then hand ONE append of all the
//     accepted events, under the group's command id, to the store's group
//     commit (EventStore::AppendAsync) without waiting for it. The store
//     writes appends in the order they were queued, so later groups of the
//     same case find the version they expect, and the store's commit thread
//     writes while this thread decides the next groups.
//  2. Complete. Wait for every append, update the cache, Flush once (the
//     batch's acknowledgment), then tell the projector, subscriptions and
//     timers once, and release the stripes.
// Compared with Submit per command this saves, per case of n commands, n - 1
// store writes with their command-id lookups, stream-head and command-index
// keys, and the thread hand-offs of SubmitAsync.
//
// Stripes of every case of the batch are taken before phase 1, in address
// order, and held to the end of the batch, so a Submit on a case of the batch
// waits for the batch (an import takes 1024 rows per batch). No deadlock:
// Submit and SubmitAsync own one stripe at a time and wait for nothing but
// the store while owning it; two concurrent batches take their stripes in the
// same global order; and the store's completions here only record results.
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "caseloop/case.h"
#include "engine/engine_impl.h"

namespace caseloop {
namespace {

// The weaker of two durability levels (kSync < kBuffered < kNone in strength order).
Durability Weaker(Durability a, Durability b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

// What phase 1 leaves for phase 2 about one group whose append is queued.
struct Queued {
  std::string id;
  CaseState before;  // the state the group was decided on
  CaseState after;   // with the group's events
  bool was_cached = false;
  std::int64_t max_us = 0;
  std::optional<Result<AppendResult>> appended;  // set by the store's completion
};

}  // namespace

std::vector<CaseBatchResult> EngineImpl::SubmitBatch(const std::vector<CaseBatch>& batch) {
  std::vector<CaseBatchResult> results(batch.size());
  auto fail_all = [&](const Status& s) {
    for (CaseBatchResult& r : results) {
      if (r.status.ok() && r.done > 0) continue;  // appended before the failure: keep its result
      r = CaseBatchResult();
      r.status = s;
    }
  };
  if (options_.store.read_only) {
    fail_all(ReadOnlyError("batch of " + std::to_string(batch.size()) + " case(s)"));
    return results;
  }
  if (!Enter()) {
    fail_all(ClosedError("batch of " + std::to_string(batch.size()) + " case(s)"));
    return results;
  }
  GateGuard guard{this};

  // Owned stripes, released when the batch is done (also on an exception).
  std::vector<CaseLocks::Stripe*> owned;
  std::unordered_set<CaseLocks::Stripe*> owned_set;
  // Appends queued in the store and not yet completed; their completions
  // write into `queued`, so they must all have run before this returns.
  std::mutex mu;
  std::condition_variable cv;
  std::size_t outstanding = 0;
  std::vector<Queued> queued(batch.size());
  auto wait_all = [&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return outstanding == 0; });
  };
  struct Cleanup {
    std::function<void()> wait;
    std::vector<CaseLocks::Stripe*>& owned;
    ~Cleanup() {
      wait();
      for (CaseLocks::Stripe* s : owned) s->unlock();
    }
  } cleanup{wait_all, owned};

  try {
    // Appends skip the fsync; one Flush below makes the whole batch durable at
    // the engine's level. A kNone engine stays WAL-free (mixing kNone and WAL
    // writes would make the store flush its memtables before every WAL write).
    const Durability append_durability = Weaker(options_.store.durability, Durability::kBuffered);
    std::shared_ptr<const Config> cfg = config();
    // The state after this batch's groups so far, per case it touched.
    std::unordered_map<std::string, CaseState> touched;

    // Own every stripe the batch needs, in one global order (see the top).
    for (const CaseBatch& group : batch) {
      if (group.commands.empty() || group.commands[0].case_id.empty()) continue;
      CaseLocks::Stripe* stripe = &locks_.For(group.commands[0].case_id);
      if (owned_set.insert(stripe).second) owned.push_back(stripe);
    }
    std::sort(owned.begin(), owned.end(), std::less<CaseLocks::Stripe*>());
    for (std::size_t i = 0; i < owned.size(); ++i) {
      try {
        owned[i]->lock();
      } catch (...) {
        owned.resize(i);  // Cleanup unlocks only what was locked
        throw;
      }
    }

    // ---- Phase 1: decide and queue the appends.
    for (std::size_t g = 0; g < batch.size(); ++g) {
      const CaseBatch& group = batch[g];
      CaseBatchResult& result = results[g];
      if (group.commands.empty()) {
        result.status = Status::InvalidArgument("batch group " + std::to_string(g) + ": no commands");
        continue;
      }
      const std::string& id = group.commands[0].case_id;
      const std::string first_name(Name(group.commands[0].type));
      if (id.empty()) {
        result.status = Status::InvalidArgument("command '" + first_name + "': the case id is empty");
        continue;
      }
      if (id[0] == '$') {
        result.status = Status::InvalidArgument("command '" + first_name + "': case id '" + id +
                                                "' is reserved (ids starting with '$' name system streams)");
        continue;
      }
      bool same_case = true;
      for (const Command& c : group.commands) same_case = same_case && c.case_id == id;
      if (!same_case) {
        result.status = Status::InvalidArgument("batch group " + std::to_string(g) + " (case " + id +
                                                "): every command of a group must be on the same case");
        continue;
      }

      // The state: this batch's, cached, a new case (nothing to replay), or replayed.
      Queued& q = queued[g];
      q.id = id;
      if (auto t = touched.find(id); t != touched.end()) {
        q.before = t->second;
      } else if (std::optional<CaseState> cached = cache_.Get(id)) {
        q.before = std::move(*cached);
        q.was_cached = true;
      } else {
        Result<std::uint64_t> version = store_->StreamVersion(id);
        if (!version.ok()) {
          result.status = version.status();
          continue;
        }
        if (*version == 0) {
          q.before.id = id;
        } else {
          Result<CaseState> loaded = LoadState(id, *cfg, /*fill_cache=*/false);
          if (!loaded.ok()) {
            result.status = loaded.status();
            continue;
          }
          q.before = std::move(*loaded);
        }
      }

      // Decide each command on a working copy that has seen the previous ones.
      q.after = q.before;
      std::vector<NewEvent> events;
      CommandAck& ack = result.ack;
      ack.case_id = id;
      Status refusal;
      const int offset = OffsetAt(cfg->calendar, Now());
      for (const Command& command : group.commands) {
        if (Status s = CheckCommandInstants(command, offset); !s.ok()) {
          refusal = std::move(s);
          break;
        }
        const Instant at = command.at.value_or(clock_->Now());
        CaseLookup lookup;
        if (command.type == CommandType::kMerge) {
          lookup = [this, &cfg, &touched](const std::string& other) {
            if (auto t = touched.find(other); t != touched.end()) return t->second.state;
            // As in Submit: without the other case's stripe, so not cached.
            Result<CaseState> s = LoadState(other, *cfg, /*fill_cache=*/false);
            return s.ok() ? s->state : LifecycleState::kNone;
          };
        }
        Result<std::vector<CaseEvent>> decided =
            lookup ? Decide(q.after, command, *cfg, at, lookup) : Decide(q.after, command, *cfg, at);
        if (!decided.ok()) {
          refusal = decided.status();
          break;
        }
        if (Status s = CheckEventInstants(command, *decided, offset); !s.ok()) {
          refusal = std::move(s);
          break;
        }
        CaseState next = q.after;
        Status evolved;
        for (const CaseEvent& e : *decided) {
          evolved = Evolve(next, e, *cfg);
          if (!evolved.ok()) break;
        }
        if (!evolved.ok()) {  // the decider and the machine disagree: refuse this command
          refusal = evolved;
          break;
        }
        q.after = std::move(next);
        for (const CaseEvent& e : *decided) {
          events.push_back(EncodeCaseEvent(e));
          q.max_us = std::max(q.max_us, events.back().recorded_us);
          ack.events.push_back(e.type);
        }
        ++result.done;
      }
      result.status = refusal;
      if (events.empty()) {  // refused at once, or commands that decide nothing
        ack.version = q.before.version;
        continue;
      }
      touched[id] = q.after;
      AppendOptions ao;
      ao.command_id = group.command_id.empty() ? NewCommandId() : group.command_id;
      ao.durability = append_durability;
      const ExpectedVersion expected =
          q.before.version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(q.before.version);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++outstanding;
      }
      auto done = [&mu, &cv, &outstanding, &q](Result<AppendResult> r) {
        std::lock_guard<std::mutex> lock(mu);
        q.appended = std::move(r);
        if (--outstanding == 0) cv.notify_all();
      };
      try {
        store_->AppendAsync(id, expected, std::move(events), std::move(ao), done);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!q.appended) --outstanding;  // not queued: no completion will come
        throw;
      }
    }

    // ---- Phase 2: complete.
    wait_all();
    std::optional<Instant> earliest_deadline;
    std::int64_t max_us = 0;
    bool wrote = false;
    std::unordered_set<std::string> failed;  // cases with a failed append in this batch
    for (std::size_t g = 0; g < batch.size(); ++g) {
      Queued& q = queued[g];
      if (!q.appended) continue;
      CaseBatchResult& result = results[g];
      const Result<AppendResult>& r = *q.appended;
      if (!r.ok() || r->duplicate) {
        // Nothing written. Later groups of this case were decided on a state
        // that is not in the log (their appends fail on the version).
        failed.insert(q.id);
        cache_.Erase(q.id);
        result.done = 0;
        result.ack = CommandAck();
        result.ack.case_id = q.id;
        if (!r.ok()) {
          result.status = r.status();
        } else {
          result.status = Status::Ok();
          Result<CommandAck> earlier =
              AckFromLog(q.id, r->first_position, r->last_position, /*duplicate=*/true);
          if (earlier.ok()) {
            result.ack = std::move(*earlier);
          } else {
            result.status = earlier.status();
          }
        }
        continue;
      }
      wrote = true;
      result.ack.first_position = r->first_position;
      result.ack.last_position = r->last_position;
      result.ack.version = r->next_expected_version;
      max_us = std::max(max_us, q.max_us);
      if (q.after.deadline && (q.after.deadline != q.before.deadline || q.after.task != q.before.task)) {
        earliest_deadline =
            earliest_deadline ? std::min(*earliest_deadline, *q.after.deadline) : *q.after.deadline;
      }
      // A state that was cached stays cached (updated); a new one is not put
      // in: an import would only push the working set out of the cache.
      if (q.was_cached && !failed.count(q.id) && q.after.version == r->next_expected_version) {
        cache_.Put(q.id, q.after);
      } else {
        cache_.Erase(q.id);
      }
    }

    if (wrote) {
      if (append_durability != options_.store.durability) {
        Status flushed = store_->Flush();
        if (!flushed.ok()) {
          // The events are in the log but not durable at the engine's level.
          for (std::size_t g = 0; g < batch.size(); ++g) {
            if (!queued[g].appended || !queued[g].appended->ok()) continue;
            results[g].status = Status(
                flushed.code(), "the batch's events were written but not made durable: " + flushed.message());
          }
        }
      }
      NoteAppended(max_us);
      if (earliest_deadline) NoteDeadline(*earliest_deadline);
    }
  } catch (const std::exception& e) {
    wait_all();
    fail_all(Status::IOError(std::string("batch of ") + std::to_string(batch.size()) +
                             " case(s) failed: " + e.what()));
  }
  return results;
}

}  // namespace caseloop
