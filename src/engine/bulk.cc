// Engine::SubmitBatch: the bulk path used by the CSV import.
//
// Per group (one case): take the case's stripe, load the state (cache, else
// the stream's version and, only for an existing case, its replay), Decide and
// Evolve each command in turn on a working copy, then ONE Append of all the
// accepted events under the group's command id. Compared with Submit per
// command this saves, per case of n commands, n - 1 store writes with their
// command-id lookups, stream-head and command-index keys, and the thread
// hand-offs of SubmitAsync. The projector, subscriptions and timers are told
// once per batch (after the Flush), which is when the batch is acknowledged.
#include <algorithm>
#include <exception>
#include <mutex>
#include <utility>

#include "caseloop/case.h"
#include "engine/engine_impl.h"

namespace caseloop {
namespace {

// The weaker of two durability levels (kSync < kBuffered < kNone in strength order).
Durability Weaker(Durability a, Durability b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

}  // namespace

std::vector<CaseBatchResult> EngineImpl::SubmitBatch(const std::vector<CaseBatch>& batch) {
  std::vector<CaseBatchResult> results(batch.size());
  auto fail_all = [&](const Status& s) {
    for (CaseBatchResult& r : results) {
      r = CaseBatchResult();
      r.status = s;
    }
  };
  if (!Enter()) {
    fail_all(ClosedError("batch of " + std::to_string(batch.size()) + " case(s)"));
    return results;
  }
  GateGuard guard{this};
  try {
    // Appends skip the fsync; one Flush below makes the whole batch durable at
    // the engine's level. A kNone engine stays WAL-free (mixing kNone and WAL
    // writes would make the store flush its memtables before every WAL write).
    const Durability append_durability = Weaker(options_.durability, Durability::kBuffered);
    std::shared_ptr<const Config> cfg = config();
    std::optional<Instant> earliest_deadline;
    std::int64_t max_us = 0;
    std::vector<std::size_t> appended;  // groups that wrote events

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
      const std::string command_id = group.command_id.empty() ? NewCommandId() : group.command_id;

      std::lock_guard case_lock(locks_.For(id));
      for (int attempt = 0;; ++attempt) {
        // The state: cached, or a new case (version 0: nothing to replay), or replayed.
        CaseState state;
        bool was_cached = false;
        if (std::optional<CaseState> cached = cache_.Get(id)) {
          state = std::move(*cached);
          was_cached = true;
        } else {
          Result<std::uint64_t> version = store_->StreamVersion(id);
          if (!version.ok()) {
            result.status = version.status();
            break;
          }
          if (*version == 0) {
            state.id = id;
          } else {
            Result<CaseState> loaded = LoadState(id, *cfg, /*fill_cache=*/false);
            if (!loaded.ok()) {
              result.status = loaded.status();
              break;
            }
            state = std::move(*loaded);
          }
        }

        // Decide each command on a working copy that has seen the previous ones.
        CaseState work = state;
        std::vector<NewEvent> events;
        CommandAck ack;
        ack.case_id = id;
        std::size_t done = 0;
        Status refusal;
        std::int64_t group_max_us = 0;
        for (const Command& command : group.commands) {
          const Instant at = command.at.value_or(clock_->Now());
          CaseLookup lookup;
          if (command.type == CommandType::kMerge) {
            lookup = [this, &cfg](const std::string& other) {
              // As in Submit: without the other case's stripe, so not cached.
              Result<CaseState> s = LoadState(other, *cfg, /*fill_cache=*/false);
              return s.ok() ? s->state : LifecycleState::kNone;
            };
          }
          Result<std::vector<CaseEvent>> decided =
              lookup ? Decide(work, command, *cfg, at, lookup) : Decide(work, command, *cfg, at);
          if (!decided.ok()) {
            refusal = decided.status();
            break;
          }
          CaseState next = work;
          Status evolved;
          for (const CaseEvent& e : *decided) {
            evolved = Evolve(next, e, *cfg);
            if (!evolved.ok()) break;
          }
          if (!evolved.ok()) {  // the decider and the machine disagree: refuse this command
            refusal = evolved;
            break;
          }
          work = std::move(next);
          for (const CaseEvent& e : *decided) {
            events.push_back(EncodeCaseEvent(e));
            group_max_us = std::max(group_max_us, events.back().recorded_us);
            ack.events.push_back(e.type);
          }
          ++done;
        }

        if (events.empty()) {  // refused at once, or commands that decide nothing
          ack.version = state.version;
          result.status = refusal;
          result.done = done;
          result.ack = std::move(ack);
          break;
        }
        AppendOptions ao;
        ao.command_id = command_id;
        ao.durability = append_durability;
        ExpectedVersion expected =
            state.version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exactly(state.version);
        Result<AppendResult> r = store_->Append(id, expected, std::move(events), ao);
        if (!r.ok()) {
          cache_.Erase(id);
          // Another writer moved the stream: reload and decide once more (as Submit).
          if (r.status().IsConflict() && attempt == 0) continue;
          result.status = r.status();
          break;
        }
        if (r->duplicate) {
          cache_.Erase(id);
          Result<CommandAck> earlier =
              AckFromLog(id, r->first_position, r->last_position, /*duplicate=*/true);
          if (earlier.ok()) {
            result.ack = std::move(*earlier);
          } else {
            result.status = earlier.status();
          }
          break;
        }
        ack.first_position = r->first_position;
        ack.last_position = r->last_position;
        ack.version = r->next_expected_version;
        // A state that was cached stays cached (updated); a new one is not
        // put in: an import would only push the working set out of the cache.
        if (work.version == r->next_expected_version) {
          if (work.deadline && (work.deadline != state.deadline || work.task != state.task)) {
            earliest_deadline =
                earliest_deadline ? std::min(*earliest_deadline, *work.deadline) : *work.deadline;
          }
          if (was_cached) cache_.Put(id, std::move(work));
        } else {
          cache_.Erase(id);
        }
        max_us = std::max(max_us, group_max_us);
        appended.push_back(g);
        result.status = refusal;
        result.done = done;
        result.ack = std::move(ack);
        break;
      }
    }

    if (!appended.empty()) {
      if (append_durability != options_.durability) {
        Status flushed = store_->Flush();
        if (!flushed.ok()) {
          // The events are in the log but not durable at the engine's level.
          for (std::size_t g : appended) {
            results[g].status = Status(
                flushed.code(), "the batch's events were written but not made durable: " + flushed.message());
          }
        }
      }
      NoteAppended(max_us);
      if (earliest_deadline) NoteDeadline(*earliest_deadline);
    }
  } catch (const std::exception& e) {
    fail_all(Status::IOError(std::string("batch of ") + std::to_string(batch.size()) +
                             " case(s) failed: " + e.what()));
  }
  return results;
}

}  // namespace caseloop
