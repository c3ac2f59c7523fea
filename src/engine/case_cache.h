// The engine's case cache and per-case lock table.
//
// CaseCache is a bounded LRU cache of CaseState by case id, split into shards
// so that threads working on different cases rarely contend. Memory stays
// bounded however many cases the log holds: a miss is served by replaying the
// case stream (the caller's job), and the least recently used state is
// dropped when a shard is full.
//
// CaseLocks is a striped lock table: the commands of one case always take
// the same stripe, so they are serialized; different cases usually take
// different stripes and run concurrently. A stripe is owned, not merely
// locked by a thread: a synchronous command owns it from deciding to its
// acknowledgment on one thread (lock()/unlock(), BasicLockable), while an
// asynchronous command takes it with LockAsync and releases it from the
// store thread that completes its append.
//
// Thread-safety: both classes are safe for concurrent use.
#ifndef CASELOOP_ENGINE_CASE_CACHE_H_
#define CASELOOP_ENGINE_CASE_CACHE_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caseloop/case.h"

namespace caseloop {

class CaseCache {
 public:
  // `capacity` states in total (at least one per shard).
  explicit CaseCache(std::size_t capacity);

  // A copy of the cached state, or nullopt; marks it most recently used.
  std::optional<CaseState> Get(const std::string& id);
  // Inserts or replaces; may evict the least recently used entry of the shard.
  void Put(const std::string& id, CaseState state);
  void Erase(const std::string& id);
  std::size_t Size() const;
  std::size_t Capacity() const { return per_shard_ * kShards; }

 private:
  static constexpr std::size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    // Front = most recently used.
    std::list<std::pair<std::string, CaseState>> lru;
    std::unordered_map<std::string_view, std::list<std::pair<std::string, CaseState>>::iterator> index;
  };
  Shard& ShardOf(const std::string& id);

  std::size_t per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

class CaseLocks {
 public:
  // One stripe. Waiting synchronous owners go before queued asynchronous
  // ones; asynchronous ones are granted in the order they were queued.
  class Stripe {
   public:
    // Blocks until the stripe is free, then owns it.
    void lock();
    // Releases the stripe: to a waiting lock(), else to the oldest queued
    // LockAsync (whose `granted` runs on this thread, after the stripe's
    // mutex is released), else it becomes free.
    // REQUIRES: the caller's command owns the stripe (any thread may call).
    void unlock();
    // Owns the stripe and calls `granted` on this thread when it is free and
    // nobody waits for it; otherwise queues `granted` for unlock().
    // REQUIRES: `granted` is quick and does not block (it posts work).
    void LockAsync(std::function<void()> granted);

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool owned_ = false;
    int sync_waiting_ = 0;
    std::list<std::function<void()>> queued_;
  };

  explicit CaseLocks(std::size_t stripes = 4096);
  Stripe& For(std::string_view case_id);

 private:
  std::size_t n_;
  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_CASE_CACHE_H_
