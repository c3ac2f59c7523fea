// Subscriptions: the log from a position, then live (see Engine::Subscribe).
//
// Each subscription owns one delivery thread. The thread reads the log with
// EventStore::ReadAll in batches of at most `batch` events starting at its
// own position and calls the handler for each, in position order; when it
// reaches the head it waits on the engine's HeadSignal for the next commit.
// A slow handler therefore holds back only its own subscription (it buffers
// at most one batch), is never skipped past events, and never sees an event
// twice.
//
// Thread-safety: Stop() may be called from any thread, also from inside the
// handler (then it only marks the subscription stopped; the thread exits when
// the handler returns).
#ifndef CASELOOP_ENGINE_SUBSCRIPTION_H_
#define CASELOOP_ENGINE_SUBSCRIPTION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "caseloop/engine.h"
#include "caseloop/event_store.h"

namespace caseloop {

// A commit counter that writers bump after each durable append; waiters
// sleep until it moves. Wakeups are never lost: a waiter reads Seq() before
// it checks the store's head, and waits only while Seq() is unchanged.
class HeadSignal {
 public:
  void Notify();
  std::uint64_t Seq();
  // Returns when Seq() != seen, when stop() is true, or after `timeout`.
  void Wait(std::uint64_t seen, const std::function<bool()>& stop, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t seq_ = 0;
};

class SubscriptionCore {
 public:
  // REQUIRES: store stays valid until Stop() has returned.
  SubscriptionCore(EventStore* store, std::shared_ptr<HeadSignal> signal,
                   std::function<void(const LoggedEvent&)> handler, std::size_t batch);
  ~SubscriptionCore();

  // Starts the delivery thread at `from` (positions start at 1).
  void Start(std::uint64_t from);
  // Stops delivery and joins the thread (unless called on it).
  void Stop();
  std::uint64_t Position() const { return position_.load(std::memory_order_acquire); }

 private:
  void Run(std::uint64_t from);

  EventStore* store_;
  std::shared_ptr<HeadSignal> signal_;
  std::function<void(const LoggedEvent&)> handler_;
  std::size_t batch_;
  std::atomic<std::uint64_t> position_{0};
  std::atomic<bool> stopped_{false};
  std::mutex thread_mu_;
  std::thread thread_;
};

// The handle given to the host.
class SubscriptionHandle final : public Subscription {
 public:
  explicit SubscriptionHandle(std::shared_ptr<SubscriptionCore> core) : core_(std::move(core)) {}
  ~SubscriptionHandle() override { core_->Stop(); }
  void Cancel() override { core_->Stop(); }
  std::uint64_t Position() const override { return core_->Position(); }

 private:
  std::shared_ptr<SubscriptionCore> core_;
};

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_SUBSCRIPTION_H_
