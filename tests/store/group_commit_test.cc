// Group commit of the RocksDB store: the group size limit, the group-commit
// window, asynchronous appends, and that no append returns before its fsync.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "caseloop/event_store.h"
#include "store/store_internal.h"
#include "store_test_util.h"

namespace caseloop {
namespace {

using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;

std::unique_ptr<EventStore> Open(const std::string& path, const StoreOptions& o = {}) {
  auto r = OpenRocksDbStore(path, o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}

std::vector<NewEvent> One(const std::string& payload) {
  std::vector<NewEvent> v;
  v.push_back(MakeEvent("Evt", payload));
  return v;
}

// `threads` threads each append `each` synced events to their own stream.
// Checks that every append saw at least one fsync complete while it was in
// flight (it is not acknowledged before its fsync). Returns the fsyncs.
std::uint64_t RunSyncedWriters(EventStore& store, int threads, int each) {
  const std::uint64_t before = store.SyncCount();
  std::atomic<int> failures{0}, early{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      AppendOptions o;
      o.durability = Durability::kSync;
      const std::string stream = "W" + std::to_string(t);
      for (int i = 0; i < each; ++i) {
        const std::uint64_t syncs_before = store.SyncCount();
        auto r = store.Append(stream, ExpectedVersion::Exactly(i), One(stream), o);
        if (!r.ok()) ++failures;
        if (store.SyncCount() <= syncs_before) ++early;
      }
    });
  }
  for (auto& t : pool) t.join();
  CHECK(failures == 0);
  CHECK(early == 0);
  CHECK(store.HeadPosition() >= static_cast<std::uint64_t>(threads * each));
  return store.SyncCount() - before;
}

TEST_CASE("group commit: max_group_writers = 1 gives one fsync per synced append") {
  TempDir dir("group");
  StoreOptions o;
  o.max_group_writers = 1;
  auto store = Open(dir.path(), o);
  std::vector<std::size_t> groups;
  std::mutex groups_mu;
  store_internal::LeaderHookForTesting() = [&](std::size_t n) {
    std::lock_guard l(groups_mu);
    groups.push_back(n);
  };
  const std::uint64_t syncs = RunSyncedWriters(*store, 8, 10);
  store_internal::LeaderHookForTesting() = nullptr;
  CHECK(syncs == 80);
  for (std::size_t n : groups) CHECK(n == 1);
  CHECK(store->Check()->empty());
}

TEST_CASE("group commit: by default concurrent synced appends share fsyncs") {
  TempDir dir("group");
  auto store = Open(dir.path());
  // The first leader holds its group until every other writer has queued, so
  // that at least one group is shared whatever the scheduling.
  std::atomic<int> queued{0};
  std::atomic<bool> first{true};
  std::size_t largest = 0;
  std::mutex mu;
  store_internal::LeaderHookForTesting() = [&](std::size_t n) {
    {
      std::lock_guard l(mu);
      largest = std::max(largest, n);
    }
    if (first.exchange(false)) {
      while (queued.load() < 8) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  std::vector<std::thread> pool;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (i == 0) ++queued;
        if (!store->Append("D" + std::to_string(t), ExpectedVersion::Exactly(i), One("d")).ok()) ++failures;
      }
    });
  }
  for (auto& t : pool) t.join();
  store_internal::LeaderHookForTesting() = nullptr;
  CHECK(failures == 0);
  MESSAGE("80 appends, fsyncs: " << store->SyncCount() << ", largest group " << largest);
  CHECK(largest >= 2);
  CHECK(store->SyncCount() < 80);
}

TEST_CASE("group commit: the window makes a leader wait for the writers of the previous group") {
  TempDir dir("group");
  StoreOptions o;
  o.group_commit_window = std::chrono::seconds(20);  // ends early: the writers arrive
  auto store = Open(dir.path(), o);
  auto& waits = store_internal::LeaderWaitsForTesting();

  // A lone writer on an idle store does not wait.
  std::uint64_t waits_before = waits.load();
  REQUIRE(store->Append("A", ExpectedVersion::NoStream(), One("a")).ok());
  REQUIRE(store->Append("A", ExpectedVersion::Exactly(1), One("a")).ok());
  CHECK(waits.load() == waits_before);

  // A group of 3: the first leader (B) blocks until three more writers queued.
  std::vector<std::size_t> groups;
  std::mutex mu;
  std::atomic<int> arrived{0};
  std::atomic<bool> blocking{false};
  store_internal::LeaderHookForTesting() = [&](std::size_t n) {
    std::size_t count;
    {
      std::lock_guard l(mu);
      groups.push_back(n);
      count = groups.size();
    }
    if (count == 1 && arrived.load() < 100) {
      blocking = true;
      while (arrived.load() < 3) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  auto writers = [&](int n, const std::string& prefix, std::chrono::milliseconds stagger) {
    std::vector<std::thread> pool;
    for (int t = 0; t < n; ++t) {
      pool.emplace_back([&, t, prefix] {
        std::this_thread::sleep_for(stagger * t);
        ++arrived;
        auto r = store->Append(prefix + std::to_string(t), ExpectedVersion::NoStream(), One("g"));
        CHECK_MESSAGE(r.ok(), r.status().ToString());
      });
    }
    for (auto& t : pool) t.join();
  };
  std::thread blocker([&] { REQUIRE(store->Append("B", ExpectedVersion::NoStream(), One("b")).ok()); });
  while (!blocking) std::this_thread::yield();
  writers(3, "Q", std::chrono::milliseconds(0));
  blocker.join();
  // Now the previous group had several writers: the next leader waits for as
  // many, although they arrive one by one, 20 ms apart.
  std::size_t previous;
  {
    std::lock_guard l(mu);
    previous = groups.back();
    groups.clear();
  }
  MESSAGE("previous group: " << previous);
  REQUIRE(previous == 3);
  arrived = 100;  // the hook no longer blocks
  const std::uint64_t syncs_before = store->SyncCount();
  waits_before = waits.load();
  writers(static_cast<int>(previous), "C", std::chrono::milliseconds(20));
  store_internal::LeaderHookForTesting() = nullptr;
  CHECK(waits.load() > waits_before);
  {
    std::lock_guard l(mu);
    REQUIRE(!groups.empty());
    CHECK(groups.front() == previous);  // all of them in one group
  }
  CHECK(store->SyncCount() - syncs_before == 1);
  CHECK(store->Check()->empty());
}

TEST_CASE("group commit: with a window, concurrent writers still commit and share fsyncs") {
  TempDir dir("group");
  StoreOptions o;
  o.group_commit_window = std::chrono::microseconds(500);
  auto store = Open(dir.path(), o);
  const std::uint64_t syncs = RunSyncedWriters(*store, 16, 10);
  MESSAGE("160 appends with a 500 us window, fsyncs: " << syncs);
  CHECK(syncs < 160);
  CHECK(store->Check()->empty());
}

TEST_CASE("AppendAsync: one thread, many appends, few fsyncs, each acknowledged after its fsync") {
  TempDir dir("group");
  auto store = Open(dir.path());
  constexpr int kStreams = 50, kEach = 20;
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  std::atomic<int> failures{0}, early{0};
  std::vector<std::atomic<int>> calls(kStreams * kEach);
  const std::uint64_t syncs_before = store->SyncCount();
  for (int i = 0; i < kEach; ++i) {
    for (int s = 0; s < kStreams; ++s) {
      const int index = i * kStreams + s;
      const std::uint64_t issued_at = store->SyncCount();
      // Versions chain without waiting: appends reach the log in issue order.
      store->AppendAsync("S" + std::to_string(s), ExpectedVersion::Exactly(i), One("x"), AppendOptions{},
                         [&, index, issued_at](Result<AppendResult> r) {
                           if (!r.ok()) ++failures;
                           if (store->SyncCount() <= issued_at) ++early;
                           ++calls[index];
                           std::lock_guard l(mu);
                           ++completed;
                           cv.notify_all();
                         });
    }
  }
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return completed == kStreams * kEach; });
  }
  const std::uint64_t syncs = store->SyncCount() - syncs_before;
  MESSAGE(kStreams * kEach << " asynchronous appends from one thread, fsyncs: " << syncs);
  CHECK(failures == 0);
  CHECK(early == 0);
  for (auto& c : calls) CHECK(c == 1);
  CHECK(syncs < static_cast<std::uint64_t>(kStreams * kEach) / 4);
  CHECK(store->HeadPosition() == kStreams * kEach);
  for (int s = 0; s < kStreams; ++s) CHECK(*store->StreamVersion("S" + std::to_string(s)) == kEach);
  CHECK(store->Check()->empty());
}

TEST_CASE("AppendAsync: errors, duplicates, and Close with appends queued") {
  TempDir dir("group");
  auto store = Open(dir.path());
  auto call = [&](const std::string& stream, ExpectedVersion ev, const std::string& cmd) {
    std::promise<Result<AppendResult>> p;
    AppendOptions o;
    o.command_id = cmd;
    store->AppendAsync(stream, ev, One("e"), o, [&](Result<AppendResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto first = call("E", ExpectedVersion::NoStream(), "cmd-1");
  REQUIRE(first.ok());
  auto again = call("E", ExpectedVersion::NoStream(), "cmd-1");
  REQUIRE(again.ok());
  CHECK(again->duplicate);
  CHECK(again->first_position == first->first_position);
  auto conflict = call("E", ExpectedVersion::Exactly(5), "");
  CHECK(conflict.status().IsConflict());
  auto bad = call("", ExpectedVersion::Any(), "");
  CHECK(bad.status().IsInvalidArgument());

  // Close while appends are queued: each completes exactly once, OK or Unavailable.
  constexpr int kQueued = 200;
  std::vector<std::atomic<int>> outcome(kQueued);
  std::atomic<int> done{0};
  for (int i = 0; i < kQueued; ++i) {
    store->AppendAsync("Q" + std::to_string(i), ExpectedVersion::NoStream(), One("q"), AppendOptions{},
                       [&, i](Result<AppendResult> r) {
                         outcome[i] += r.ok() ? 1 : r.status().IsUnavailable() ? 10 : 100;
                         ++done;
                       });
  }
  CHECK(store->Close().ok());
  CHECK(done == kQueued);
  int ok = 0;
  for (auto& o : outcome) {
    CHECK((o == 1 || o == 10));
    ok += o == 1;
  }
  auto after = call("Z", ExpectedVersion::Any(), "");
  CHECK(after.status().IsUnavailable());
  store.reset();
  auto reopened = Open(dir.path());
  CHECK(reopened->HeadPosition() == static_cast<std::uint64_t>(1 + ok));
  CHECK(reopened->Check()->empty());
}

TEST_CASE("AppendAsync: the memory store and a read-only store answer on the calling thread") {
  auto mem = NewMemoryStore();
  bool called = false;
  mem->AppendAsync("M", ExpectedVersion::NoStream(), One("m"), AppendOptions{}, [&](Result<AppendResult> r) {
    CHECK(r.ok());
    called = true;
  });
  CHECK(called);

  TempDir dir("group");
  { auto store = Open(dir.path()); }
  StoreOptions ro;
  ro.read_only = true;
  auto store = Open(dir.path(), ro);
  called = false;
  store->AppendAsync("R", ExpectedVersion::Any(), One("r"), AppendOptions{}, [&](Result<AppendResult> r) {
    CHECK(r.status().IsIOError());
    called = true;
  });
  CHECK(called);
}

}  // namespace
}  // namespace caseloop
