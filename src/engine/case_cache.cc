#include "engine/case_cache.h"

#include <functional>

namespace caseloop {

CaseCache::CaseCache(std::size_t capacity)
    : per_shard_(capacity / kShards > 0 ? capacity / kShards : 1), shards_(new Shard[kShards]) {}

CaseCache::Shard& CaseCache::ShardOf(const std::string& id) {
  return shards_[std::hash<std::string>{}(id) % kShards];
}

std::optional<CaseState> CaseCache::Get(const std::string& id) {
  Shard& s = ShardOf(id);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.index.find(id);
  if (it == s.index.end()) return std::nullopt;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

void CaseCache::Put(const std::string& id, CaseState state) {
  Shard& s = ShardOf(id);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.index.find(id);
  if (it != s.index.end()) {
    it->second->second = std::move(state);
    s.lru.splice(s.lru.begin(), s.lru, it->second);
    return;
  }
  s.lru.emplace_front(id, std::move(state));
  s.index.emplace(std::string_view(s.lru.front().first), s.lru.begin());
  while (s.lru.size() > per_shard_) {
    s.index.erase(std::string_view(s.lru.back().first));
    s.lru.pop_back();
  }
}

void CaseCache::Erase(const std::string& id) {
  Shard& s = ShardOf(id);
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.index.find(id);
  if (it == s.index.end()) return;
  auto node = it->second;
  s.index.erase(it);
  s.lru.erase(node);
}

std::size_t CaseCache::Size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].lru.size();
  }
  return n;
}

CaseLocks::CaseLocks(std::size_t stripes) : n_(stripes > 0 ? stripes : 1), stripes_(new Stripe[n_]) {}

CaseLocks::Stripe& CaseLocks::For(std::string_view case_id) {
  return stripes_[std::hash<std::string_view>{}(case_id) % n_];
}

void CaseLocks::Stripe::lock() {
  std::unique_lock<std::mutex> l(mu_);
  ++sync_waiting_;
  cv_.wait(l, [this] { return !owned_; });
  --sync_waiting_;
  owned_ = true;
}

void CaseLocks::Stripe::unlock() {
  std::function<void()> next;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (sync_waiting_ > 0) {
      owned_ = false;
      cv_.notify_one();
      return;
    }
    if (queued_.empty()) {
      owned_ = false;
      return;
    }
    next = std::move(queued_.front());  // handed over: stays owned
    queued_.pop_front();
  }
  next();
}

void CaseLocks::Stripe::LockAsync(std::function<void()> granted) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (owned_ || sync_waiting_ > 0 || !queued_.empty()) {
      queued_.push_back(std::move(granted));
      return;
    }
    owned_ = true;
  }
  granted();
}

}  // namespace caseloop
