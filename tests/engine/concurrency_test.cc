// Concurrency: many threads, many cases, random commands; no lost update; the
// cached states and the projections equal a rebuild; group commit groups;
// shutdown with commands in flight; subscriber catch-up-to-live handover.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine_test_util.h"

namespace caseloop::test {
namespace {

// The next command for a case in state `s` (racy by design: another thread
// may move the case first; the decider then refuses and nothing is written).
std::optional<Command> NextCommand(const std::string& id, const std::optional<CaseState>& s,
                                   std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  if (!s) {
    return (id.back() % 2) ? Report(id, CaseKind::kComponent, "0101") : Report(id, CaseKind::kEvent, "0102");
  }
  const std::string unit = s->unit;
  switch (s->state) {
    case LifecycleState::kReported:
      if (pick(10) == 0) {
        Command c = Cmd(CommandType::kReject, id, "L1");
        c.reason = "duplicate";
        return c;
      }
      return Cmd(CommandType::kRegister, id, "L1");
    case LifecycleState::kRegistered:
      return Cmd(CommandType::kDispatch, id, "D1");
    case LifecycleState::kDispatched:
      if (pick(5) == 0) return Cmd(CommandType::kSupervise, id, "S1");
      return Cmd(CommandType::kAccept, id, unit);
    case LifecycleState::kHandling:
      if (s->pending != PendingRequest::kNone) {
        if (pick(3) == 0) {
          Command c = Cmd(CommandType::kDeny, id, "D1");
          c.reason = "no";
          return c;
        }
        return Cmd(CommandType::kApprove, id, "D1");
      }
      switch (pick(6)) {
        case 0: {
          Command c = Cmd(CommandType::kExtend, id, unit);
          c.limit = TimeLimit::WorkingHours(2);
          c.reason = "parts";
          return c;
        }
        case 1: {
          Command c = Cmd(CommandType::kSuspend, id, unit);
          c.reason = "permit";
          return c;
        }
        default:
          return Cmd(CommandType::kFeedback, id, unit);
      }
    case LifecycleState::kSuspended:
      return Cmd(CommandType::kResume, id, "D1");
    case LifecycleState::kAwaitingVerification: {
      Command c = Cmd(CommandType::kVerify, id, "I1");
      c.verify_pass = pick(3) != 0;
      return c;
    }
    default:
      return std::nullopt;
  }
}

TEST_CASE("16 threads, random commands: no lost update, cache and projections equal a rebuild") {
  TempDir dir;
  constexpr int kCases = 48;
  constexpr int kThreads = 16;
  constexpr int kCommandsPerThread = 60;
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"), dir.path());
  o.store.durability = Durability::kBuffered;
  o.case_cache_size = 32;  // smaller than the working set: misses replay streams
  std::vector<std::string> ids;
  for (int i = 0; i < kCases; ++i) ids.push_back("K" + std::to_string(i));
  std::vector<std::atomic<std::uint64_t>> acked(kCases);
  std::map<std::string, std::string> cached;
  std::string projections_before;
  const Instant eval_at = T("2025-04-30T00:00");
  {
    auto e = MustOpen(o);
    ConfigureDistrict(*e);
    std::atomic<int> refused{0}, failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(1234 + t);
        for (int n = 0; n < kCommandsPerThread; ++n) {
          int k = static_cast<int>(rng() % kCases);
          Result<CaseState> s = e->State(ids[k]);
          std::optional<CaseState> state;
          if (s.ok()) state = *s;
          std::optional<Command> c = NextCommand(ids[k], state, rng);
          if (!c) continue;
          Result<CommandAck> r = e->Submit(*c);
          if (r.ok()) {
            acked[k] += r->events.size();
          } else if (r.status().IsRejected() || r.status().IsConflict() || r.status().IsNotFound()) {
            ++refused;
          } else {
            ++failed;
            MESSAGE(r.status().ToString());
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failed == 0);
    MESSAGE("refused (raced) commands: " << refused.load());
    // Mark whatever became overdue, so the timer path runs in the mix too.
    REQUIRE(e->AdvanceTo(T("2025-04-08T10:00")).ok());

    for (int k = 0; k < kCases; ++k) {
      // The case stream's version: the version of its last event (0: no stream).
      Result<std::vector<LoggedEvent>> history = e->History(ids[k]);
      REQUIRE((history.ok() || history.status().IsNotFound()));
      const std::uint64_t v = history.ok() ? history->back().record.version : 0;
      Result<CaseState> s = e->State(ids[k]);
      std::uint64_t marks = 0;
      if (s.ok()) {
        marks = EventsOf(*e, ids[k], EventType::kTaskOverdue).size();
        cached[ids[k]] = Describe(*s);
        CHECK(s->version == v);
      }
      CHECK_MESSAGE(acked[k] + marks == v, ids[k]);  // every acknowledged event is there, nothing else
    }
    projections_before = Describe(*e, eval_at);
    REQUIRE(e->RebuildProjections().ok());
    CHECK(Describe(*e, eval_at) == projections_before);
    Result<std::vector<std::string>> problems = e->Check();
    REQUIRE(problems.ok());
    CHECK(problems->empty());
    REQUIRE(e->Close().ok());
  }
  // Reopen: every state replayed from the log equals the cached one.
  auto e = MustOpen(ManualOptions(T("2025-04-08T10:00"), dir.path()));
  for (const auto& [id, desc] : cached) {
    Result<CaseState> s = e->State(id);
    REQUIRE(s.ok());
    CHECK(Describe(*s) == desc);
  }
  CHECK(Describe(*e, eval_at) == projections_before);
}

TEST_CASE("group commit: 32 threads with fsync share syncs") {
  TempDir dir;
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"), dir.path());
  o.store.durability = Durability::kSync;
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  std::uint64_t syncs_before = e->SyncCount();
  constexpr int kThreads = 32, kEach = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (e->Submit(Report("G" + std::to_string(t) + "-" + std::to_string(i), CaseKind::kComponent, "0101"))
                .ok())
          ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kThreads * kEach);
  std::uint64_t syncs = e->SyncCount() - syncs_before;
  MESSAGE("commands: " << kThreads * kEach << ", fsyncs: " << syncs);
  CHECK(syncs > 0);
  CHECK(syncs < static_cast<std::uint64_t>(kThreads * kEach));
}

TEST_CASE("Close with commands in flight: each SubmitAsync completes once; every ok one is durable") {
  TempDir dir;
  constexpr int kCommands = 300;
  std::vector<std::atomic<int>> calls(kCommands);
  std::vector<std::atomic<int>> outcome(kCommands);  // 1 ok, 2 unavailable, 3 other
  {
    EngineOptions o = ManualOptions(T("2025-03-31T10:00"), dir.path());
    o.store.durability = Durability::kSync;
    o.worker_threads = 4;
    auto e = MustOpen(o);
    ConfigureDistrict(*e);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < kCommands; i += 3) {
          e->SubmitAsync(Report("S" + std::to_string(i), CaseKind::kComponent, "0101"),
                         [&, i](Result<CommandAck> r) {
                           ++calls[i];
                           outcome[i] = r.ok() ? 1 : r.status().IsUnavailable() ? 2 : 3;
                         });
        }
      });
    }
    // Close while commands are queued and being appended: after some are acknowledged.
    auto acked = [&] {
      int n = 0;
      for (int i = 0; i < kCommands; ++i) n += outcome[i] == 1;
      return n;
    };
    for (int i = 0; i < 5000 && acked() < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Status closed = e->Close();
    CHECK(closed.ok());
    for (auto& t : threads) t.join();
  }
  int ok = 0, refused = 0;
  for (int i = 0; i < kCommands; ++i) {
    CHECK(calls[i] == 1);
    CHECK(outcome[i] != 3);
    ok += outcome[i] == 1;
    refused += outcome[i] == 2;
  }
  MESSAGE("acknowledged " << ok << ", refused " << refused);
  CHECK(ok >= 40);
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:00"), dir.path()));
  for (int i = 0; i < kCommands; ++i) {
    Result<CaseState> s = e->State("S" + std::to_string(i));
    if (outcome[i] == 1) CHECK_MESSAGE(s.ok(), "S" << i);
    if (outcome[i] == 2) CHECK_MESSAGE(s.status().IsNotFound(), "S" << i);
  }
}

TEST_CASE("subscription: catch-up then live while writers run, no gap, no duplicate") {
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"));
  o.subscriber_queue = 7;  // small batches: many catch-up rounds
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  constexpr int kWriters = 4, kEach = 150;
  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (e->Submit(Report("W" + std::to_string(t) + "-" + std::to_string(i), CaseKind::kEvent, "0102"))
                .ok())
          ++written;
      }
    });
  }
  while (written < 100) std::this_thread::yield();

  std::mutex mu;
  std::vector<std::uint64_t> seen, seen_mid;
  auto from_start = e->Subscribe(1, [&](const LoggedEvent& le) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(le.record.position);
  });
  REQUIRE(from_start.ok());
  auto from_mid = e->Subscribe(50, [&](const LoggedEvent& le) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // a slow subscriber
    std::lock_guard<std::mutex> lock(mu);
    seen_mid.push_back(le.record.position);
  });
  REQUIRE(from_mid.ok());
  for (auto& t : writers) t.join();
  const std::uint64_t head = e->HeadPosition();
  CHECK(head == District().size() + kWriters * kEach);
  for (int i = 0; i < 1000; ++i) {
    if ((*from_start)->Position() == head && (*from_mid)->Position() == head) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*from_start)->Cancel();
  (*from_mid)->Cancel();
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(seen.size() == head);
  for (std::uint64_t i = 0; i < head; ++i) REQUIRE(seen[i] == i + 1);
  REQUIRE(seen_mid.size() == head - 49);
  for (std::uint64_t i = 0; i < seen_mid.size(); ++i) REQUIRE(seen_mid[i] == i + 50);
  // Cancelled: later commits are not delivered.
  MustSubmit(*e, Report("AFTER", CaseKind::kEvent, "0102"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(seen.size() == head);
}

TEST_CASE("a subscription can cancel itself from its handler; Close stops the others") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T10:00")));
  ConfigureDistrict(*e);
  std::unique_ptr<Subscription> self;
  std::atomic<int> n{0};
  std::atomic<bool> ready{false};
  auto r = e->Subscribe(1, [&](const LoggedEvent&) {
    ++n;
    while (!ready) std::this_thread::yield();
    self->Cancel();
  });
  REQUIRE(r.ok());
  self = std::move(r).value();
  ready = true;
  std::atomic<int> m{0};
  auto other = e->Subscribe(1, [&](const LoggedEvent&) { ++m; });
  REQUIRE(other.ok());
  // The first delivery (up to 5 s: on PostgreSQL under load a read takes a
  // while), then time for a second one that must not come.
  for (int i = 0; i < 500 && n == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(n == 1);
  REQUIRE(e->Close().ok());
  int after = m;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(m == after);
  (*other)->Cancel();  // after Close: harmless
  self.reset();
}

}  // namespace
}  // namespace caseloop::test
