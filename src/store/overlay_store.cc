// NewProjectionOverlay: see overlay_store.h.
#include "store/overlay_store.h"

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace caseloop {
namespace {

class ProjectionOverlay final : public ProjectionStore {
 public:
  explicit ProjectionOverlay(ProjectionStore* base) : base_(base) {}

  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                          std::uint64_t checkpoint) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    std::unique_lock l(mu_);
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
      auto it = checkpoints_.find(std::string(name));
      if (it != checkpoints_.end()) return it->second;
    }
    return base_->ProjectionCheckpoint(name);
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    {
      std::shared_lock l(mu_);
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
    auto it = entries_.lower_bound(prefix);
    while (it != entries_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix) {
      it = entries_.erase(it);
    }
    resets_.emplace_back(prefix);
    checkpoints_[std::string(name)] = 0;
    return Status::Ok();
  }

 private:
  // REQUIRES: mu_ held. True when a ResetProjection deleted the base's `key`.
  bool ResetCovers(std::string_view key) const {
    for (const std::string& p : resets_)
      if (key.substr(0, p.size()) == p) return true;
    return false;
  }

  ProjectionStore* const base_;
  mutable std::shared_mutex mu_;
  // Key -> value, or nullopt for a key deleted in the overlay.
  std::map<std::string, std::optional<std::string>, std::less<>> entries_;
  std::map<std::string, std::uint64_t> checkpoints_;
  std::vector<std::string> resets_;  // prefixes whose base keys are deleted
};

}  // namespace

std::unique_ptr<ProjectionStore> NewProjectionOverlay(ProjectionStore* base) {
  return std::make_unique<ProjectionOverlay>(base);
}

}  // namespace caseloop
