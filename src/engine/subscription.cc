#include "engine/subscription.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "engine/log_decode.h"

namespace caseloop {

void HeadSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++seq_;
  }
  cv_.notify_all();
}

std::uint64_t HeadSignal::Seq() {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

void HeadSignal::Wait(std::uint64_t seen, const std::function<bool()>& stop,
                      std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return seq_ != seen || stop(); });
}

SubscriptionCore::SubscriptionCore(EventStore* store, std::shared_ptr<HeadSignal> signal,
                                   std::function<void(const LoggedEvent&)> handler, std::size_t batch)
    : store_(store),
      signal_(std::move(signal)),
      handler_(std::move(handler)),
      batch_(std::max<std::size_t>(batch, 1)) {}

SubscriptionCore::~SubscriptionCore() { Stop(); }

void SubscriptionCore::Start(std::uint64_t from) {
  position_.store(from > 0 ? from - 1 : 0, std::memory_order_release);
  std::lock_guard<std::mutex> lock(thread_mu_);
  thread_ = std::thread([this, from] { Run(from); });
}

void SubscriptionCore::Stop() {
  stopped_.store(true, std::memory_order_release);
  signal_->Notify();  // wake the delivery thread if it waits for the head
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) return;  // from the handler: exits by itself
    t = std::move(thread_);
  }
  t.join();
}

void SubscriptionCore::Run(std::uint64_t from) {
  std::uint64_t pos = std::max<std::uint64_t>(from, 1);
  auto stopped = [this] { return stopped_.load(std::memory_order_acquire); };
  while (!stopped()) {
    std::uint64_t seen = signal_->Seq();
    if (store_->HeadPosition() < pos) {
      signal_->Wait(seen, stopped, std::chrono::milliseconds(200));
      continue;
    }
    Result<std::vector<EventRecord>> records = store_->ReadAll(pos, batch_);
    if (!records.ok()) {
      if (records.status().IsUnavailable()) return;  // the store is closed
      signal_->Wait(seen, stopped, std::chrono::milliseconds(200));
      continue;
    }
    if (records->empty()) {
      signal_->Wait(seen, stopped, std::chrono::milliseconds(200));
      continue;
    }
    for (EventRecord& record : *records) {
      if (stopped()) return;
      if (record.position < pos) continue;  // never deliver twice
      std::uint64_t position = record.position;
      // Delivered even when its payload does not decode (decode_status), so
      // that the subscriber is not stuck behind it; the record is intact.
      LoggedEvent event = DecodeLoggedEvent(std::move(record));
      try {
        handler_(event);
      } catch (...) {
        // A throwing handler ends its subscription (it cannot be skipped past
        // the event, and no exception may escape an engine thread).
        stopped_.store(true, std::memory_order_release);
        return;
      }
      position_.store(position, std::memory_order_release);
      pos = position + 1;
    }
  }
}

}  // namespace caseloop
