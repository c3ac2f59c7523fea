// tools/completion_queue.h — completions handed from engine threads to the
// thread that drives a tool (private to src/tools).
#ifndef CASELOOP_TOOLS_COMPLETION_QUEUE_H_
#define CASELOOP_TOOLS_COMPLETION_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

namespace caseloop::tools {

// Completions posted by engine threads, consumed by the thread that drives a
// tool: callbacks only Push; the driver Waits and handles them, so every
// decision and every Submit happens on one thread.
//
// Thread-safety: Push from any thread; WaitAll from the driver only.
template <typename T>
class CompletionQueue {
 public:
  void Push(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }
  // Blocks until at least one item is there, then takes them all.
  std::deque<T> WaitAll() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    std::deque<T> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_COMPLETION_QUEUE_H_
