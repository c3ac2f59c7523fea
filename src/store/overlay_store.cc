// NewProjectionOverlay: see overlay_store.h.
#include "store/overlay_store.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/store_internal.h"

namespace caseloop {
namespace {

class ProjectionOverlay final : public EventStore {
 public:
  explicit ProjectionOverlay(EventStore* base) : base_(base) {}

  Result<AppendResult> Append(std::string_view stream, ExpectedVersion, std::vector<NewEvent>,
                              const AppendOptions&) override {
    return Status::IOError(fmt::format("append to stream {}: the store is open read-only", stream));
  }
  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) override {
    return base_->ReadStream(stream, from_version, max);
  }
  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override {
    return base_->ReadAll(from, max);
  }
  Status ScanAll(std::uint64_t from, std::size_t max,
                 const std::function<bool(const EventRecordView&)>& visit) override {
    return base_->ScanAll(from, max, visit);  // the base's own (zero-copy) scan
  }
  std::uint64_t HeadPosition() const override { return base_->HeadPosition(); }
  Result<std::uint64_t> StreamVersion(std::string_view stream) override {
    return base_->StreamVersion(stream);
  }
  Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) override {
    return base_->ListStreams(after, max);
  }
  Status SaveSnapshot(std::string_view stream, std::uint64_t, std::string_view) override {
    return Status::IOError(fmt::format("snapshot of stream {}: the store is open read-only", stream));
  }
  Result<std::optional<std::pair<std::uint64_t, std::string>>> LoadSnapshot(
      std::string_view stream) override {
    return base_->LoadSnapshot(stream);
  }

  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                          std::uint64_t checkpoint) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    for (const KvOp& op : ops) {
      if (op.kind == KvOp::Kind::kPut) {
        entries_[op.key] = op.value;
      } else {
        entries_[op.key] = std::nullopt;
      }
    }
    checkpoints_[std::string(name)] = checkpoint;
    return Status::Ok();
  }

  Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) override {
    {
      std::shared_lock l(mu_);
      CASELOOP_RETURN_IF_ERROR(CheckOpen());
      auto it = checkpoints_.find(std::string(name));
      if (it != checkpoints_.end()) return it->second;
    }
    return base_->ProjectionCheckpoint(name);
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    {
      std::shared_lock l(mu_);
      CASELOOP_RETURN_IF_ERROR(CheckOpen());
      auto it = entries_.find(key);
      if (it != entries_.end()) return it->second;
      if (ResetCovers(key)) return std::optional<std::string>();
    }
    return base_->Get(key);
  }

  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    // The overlay's entries in range, copied, so that fn runs without locks.
    std::vector<std::pair<std::string, std::optional<std::string>>> mine;
    std::vector<std::string> resets;
    {
      std::shared_lock l(mu_);
      CASELOOP_RETURN_IF_ERROR(CheckOpen());
      auto it = entries_.lower_bound(start);
      auto stop = end.empty() ? entries_.end() : entries_.lower_bound(end);
      for (; it != stop; ++it) mine.emplace_back(it->first, it->second);
      resets = resets_;
    }
    auto reset = [&](std::string_view key) {
      for (const std::string& p : resets)
        if (key.substr(0, p.size()) == p) return true;
      return false;
    };
    std::size_t i = 0;
    bool stopped = false;
    // Emits the overlay's entries before `key` (all when key is null).
    auto emit_before = [&](const std::string_view* key) {
      for (; i < mine.size() && (key == nullptr || mine[i].first < *key); ++i) {
        if (mine[i].second && !fn(mine[i].first, *mine[i].second)) {
          stopped = true;
          return false;
        }
      }
      return true;
    };
    Status s = base_->Scan(start, end, [&](std::string_view key, std::string_view value) {
      if (!emit_before(&key)) return false;
      if (i < mine.size() && mine[i].first == key) {
        const auto& entry = mine[i++];
        if (!entry.second) return true;  // deleted in the overlay
        if (!fn(entry.first, *entry.second)) {
          stopped = true;
          return false;
        }
        return true;
      }
      if (reset(key)) return true;
      if (!fn(key, value)) {
        stopped = true;
        return false;
      }
      return true;
    });
    CASELOOP_RETURN_IF_ERROR(s);
    if (!stopped) emit_before(nullptr);
    return Status::Ok();
  }

  Status ResetProjection(std::string_view name, std::string_view prefix) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    std::unique_lock l(mu_);
    CASELOOP_RETURN_IF_ERROR(CheckOpen());
    auto it = entries_.lower_bound(prefix);
    while (it != entries_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix) {
      it = entries_.erase(it);
    }
    resets_.emplace_back(prefix);
    checkpoints_[std::string(name)] = 0;
    return Status::Ok();
  }

  Result<std::vector<std::string>> Check() override { return base_->Check(); }
  Status Flush() override { return Status::Ok(); }
  std::uint64_t SyncCount() const override { return base_->SyncCount(); }
  Status Close() override {
    std::unique_lock l(mu_);
    closed_ = true;
    entries_.clear();
    checkpoints_.clear();
    resets_.clear();
    return Status::Ok();
  }

 private:
  Status CheckOpen() const {
    return closed_ ? Status::Unavailable("the projection overlay is closed") : Status::Ok();
  }
  // REQUIRES: mu_ held. True when a ResetProjection deleted the base's `key`.
  bool ResetCovers(std::string_view key) const {
    for (const std::string& p : resets_)
      if (key.substr(0, p.size()) == p) return true;
    return false;
  }

  EventStore* const base_;
  mutable std::shared_mutex mu_;
  bool closed_ = false;
  // Key -> value, or nullopt for a key deleted in the overlay.
  std::map<std::string, std::optional<std::string>, std::less<>> entries_;
  std::map<std::string, std::uint64_t> checkpoints_;
  std::vector<std::string> resets_;  // prefixes whose base keys are deleted
};

}  // namespace

std::unique_ptr<EventStore> NewProjectionOverlay(EventStore* base) {
  return std::make_unique<ProjectionOverlay>(base);
}

}  // namespace caseloop
