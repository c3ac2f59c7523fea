// NewMemoryStore / NewMemoryStorage: the EventStore and ProjectionStore
// contracts held in RAM, for tests and simulations. One object implements
// both; one mutex serializes writes (no group commit is needed: there is
// nothing to sync); readers share it.
#include <fmt/format.h>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "caseloop/event_store.h"
#include "store/projection_store.h"
#include "store/store_internal.h"

namespace caseloop {
namespace {

using namespace store_internal;

class MemoryStore final : public EventStore, public ProjectionStore {
 public:
  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected, std::vector<NewEvent> events,
                              const AppendOptions& options) override {
    CASELOOP_RETURN_IF_ERROR(PrepareAppend(stream, events, options));
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    if (!options.command_id.empty()) {
      auto it = commands_.find(options.command_id);
      if (it != commands_.end()) {
        if (it->second.stream != stream) return CommandReused(options.command_id, stream, it->second.stream);
        AppendResult r = it->second.result;
        r.duplicate = true;
        return r;
      }
    }
    auto& positions = streams_[std::string(stream)];
    if (Status s = CheckExpected(stream, expected, positions.size()); !s.ok()) {
      if (positions.empty()) streams_.erase(std::string(stream));
      return s;
    }
    AppendResult r;
    r.first_position = log_.size() + 1;
    for (NewEvent& e : events) {
      EventRecord rec;
      rec.position = log_.size() + 1;
      rec.stream = std::string(stream);
      rec.version = positions.size() + 1;
      rec.type = std::move(e.type);
      rec.schema_version = e.schema_version;
      rec.recorded_us = e.recorded_us;
      rec.event_id = std::move(e.event_id);
      rec.command_id = options.command_id;
      rec.correlation_id = std::move(e.correlation_id);
      rec.causation_id = std::move(e.causation_id);
      rec.actor = std::move(e.actor);
      rec.payload = std::move(e.payload);
      positions.push_back(rec.position);
      log_.push_back(std::move(rec));
    }
    r.last_position = log_.size();
    r.next_expected_version = positions.size();
    if (!options.command_id.empty()) commands_[options.command_id] = CommandEntry{std::string(stream), r};
    return r;
  }

  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) override {
    CASELOOP_RETURN_IF_ERROR(ValidateStream(stream));
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    std::vector<EventRecord> out;
    auto it = streams_.find(std::string(stream));
    if (it == streams_.end()) return out;
    const auto& positions = it->second;
    for (std::uint64_t v = std::max<std::uint64_t>(from_version, 1);
         v <= positions.size() && out.size() < max; ++v) {
      out.push_back(log_[positions[v - 1] - 1]);
    }
    return out;
  }

  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    std::vector<EventRecord> out;
    for (std::uint64_t p = std::max<std::uint64_t>(from, 1); p <= log_.size() && out.size() < max; ++p) {
      out.push_back(log_[p - 1]);
    }
    return out;
  }

  std::uint64_t HeadPosition() const override {
    std::shared_lock l(mu_);
    return log_.size();
  }

  Result<std::uint64_t> StreamVersion(std::string_view stream) override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    auto it = streams_.find(std::string(stream));
    return it == streams_.end() ? std::uint64_t{0} : std::uint64_t{it->second.size()};
  }

  Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    std::vector<std::string> out;
    for (auto it = streams_.upper_bound(std::string(after)); it != streams_.end() && out.size() < max; ++it) {
      out.push_back(it->first);
    }
    return out;
  }

  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                          std::uint64_t checkpoint) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    for (const KvOp& op : ops) {
      if (op.kind == KvOp::Kind::kPut) {
        proj_[op.key] = op.value;
      } else {
        proj_.erase(op.key);
      }
    }
    checkpoints_[std::string(name)] = checkpoint;
    return Status::Ok();
  }

  Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    auto it = checkpoints_.find(std::string(name));
    return it == checkpoints_.end() ? std::uint64_t{0} : it->second;
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    auto it = proj_.find(std::string(key));
    if (it == proj_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    // Copy the range first so that fn may call back into the store.
    std::vector<std::pair<std::string, std::string>> items;
    {
      std::shared_lock l(mu_);
      CASELOOP_RETURN_IF_ERROR(CheckOpen());
      auto last = end.empty() ? proj_.end() : proj_.lower_bound(std::string(end));
      for (auto it = proj_.lower_bound(std::string(start)); it != last && it != proj_.end(); ++it) {
        if (!end.empty() && it->first >= end) break;
        items.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [k, v] : items) {
      if (!fn(k, v)) break;
    }
    return Status::Ok();
  }

  Status ResetProjection(std::string_view name, std::string_view prefix) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    auto it = proj_.lower_bound(std::string(prefix));
    while (it != proj_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix) {
      it = proj_.erase(it);
    }
    checkpoints_[std::string(name)] = 0;
    return Status::Ok();
  }

  Result<std::vector<std::string>> Check() override {
    std::shared_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    return std::vector<std::string>();
  }

  Status Flush() override {
    std::shared_lock l(mu_);
    return CheckOpen();
  }

  std::uint64_t SyncCount() const override { return 0; }

  Status Close() override {
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    closed_ = true;
    return Status::Ok();
  }

 private:
  Status CheckOpen() const { return closed_ ? Status::Unavailable("event store is closed") : Status::Ok(); }

  mutable std::shared_mutex mu_;
  bool closed_ = false;
  std::vector<EventRecord> log_;                               // log_[p - 1] has position p
  std::map<std::string, std::vector<std::uint64_t>> streams_;  // version v at [v - 1]
  std::unordered_map<std::string, CommandEntry> commands_;
  std::map<std::string, std::string> proj_;
  std::unordered_map<std::string, std::uint64_t> checkpoints_;
};

}  // namespace

std::unique_ptr<EventStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

Storage NewMemoryStorage() {
  auto store = std::make_shared<MemoryStore>();
  return Storage{store, store};
}

}  // namespace caseloop
