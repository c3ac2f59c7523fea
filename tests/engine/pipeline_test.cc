// The asynchronous command pipeline and the group-commit options: SubmitAsync
// is not bounded by the worker pool, per-case order holds without waiting,
// nothing is acknowledged before its fsync, store.max_group_writers and the window reach
// the store; and the read-only engine.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "engine_test_util.h"
#include "store/projection_store.h"
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
#include "store/postgres_store.h"
#endif

namespace caseloop::test {
namespace {

// Waits for `n` completions.
class Latch {
 public:
  void Done() {
    std::lock_guard l(mu_);
    ++count_;
    cv_.notify_all();
  }
  void Wait(int n) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return count_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

TEST_CASE("SubmitAsync from one thread: per-case order, few fsyncs, acks after fsync, rebuild equals live") {
  TempDir dir;
  const Instant start = T("2025-03-31T10:00");
  EngineOptions o = ManualOptions(start, dir.path());
  o.store.durability = Durability::kSync;
  o.worker_threads = 2;
  std::map<std::string, std::string> live;
  std::string figures;
  const Instant eval_at = T("2025-04-30T10:00");
  constexpr int kCases = 200;
  {
    auto e = MustOpen(o);
    ConfigureDistrict(*e);
    const std::uint64_t syncs_before = e->SyncCount();
    // Five commands per case, all issued at once without waiting: each case's
    // commands must be decided in issue order, each on the state the previous
    // one left, although none was acknowledged when the next was issued.
    std::vector<Command> commands;
    for (int step = 0; step < 5; ++step) {
      for (int c = 0; c < kCases; ++c) {
        const std::string id = "A" + std::to_string(c);
        const Instant at = start + std::chrono::minutes(step);
        switch (step) {
          case 0:
            commands.push_back(Report(id, CaseKind::kComponent, "0101", at));
            break;
          case 1:
            commands.push_back(Cmd(CommandType::kRegister, id, "L1", at));
            break;
          case 2:
            commands.push_back(Cmd(CommandType::kDispatch, id, "D1", at));
            break;
          case 3:
            commands.push_back(Cmd(CommandType::kAccept, id, "WATER", at));
            break;
          default:
            commands.push_back(Cmd(CommandType::kFeedback, id, "WATER", at));
        }
      }
    }
    const int n = static_cast<int>(commands.size());
    std::vector<std::atomic<int>> calls(n);
    std::vector<std::string> errors(n);
    std::atomic<int> early{0};
    Latch latch;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t issued_at = e->SyncCount();
      e->SubmitAsync(commands[i], [&, i, issued_at](Result<CommandAck> r) {
        if (!r.ok()) errors[i] = r.status().ToString();
        // Acknowledged only after an fsync that began after it was issued.
        if (e->SyncCount() <= issued_at) ++early;
        ++calls[i];
        latch.Done();
      });
    }
    latch.Wait(n);
    const std::uint64_t syncs = e->SyncCount() - syncs_before;
    MESSAGE(n << " SubmitAsync commands from one thread on " << kCases
              << " cases, 2 workers, fsyncs: " << syncs);
    for (int i = 0; i < n; ++i) {
      CHECK(calls[i] == 1);
      CHECK_MESSAGE(errors[i].empty(),
                    commands[i].case_id << " " << Name(commands[i].type) << ": " << errors[i]);
    }
    CHECK(early == 0);
    CHECK(syncs > 0);
    CHECK(syncs * 5 < static_cast<std::uint64_t>(n));  // the pool of 2 used to give ~n/2
    for (int c = 0; c < kCases; ++c) {
      Result<CaseState> s = e->State("A" + std::to_string(c));
      REQUIRE(s.ok());
      CHECK(s->state == LifecycleState::kAwaitingVerification);
      CHECK(s->version == 5);
      live[s->id] = Describe(*s);
    }
    figures = Describe(*e, eval_at);
    CHECK(e->Check()->empty());
  }
  // A fresh engine replays every case from the log and rebuilds projections.
  auto e = MustOpen(ManualOptions(start, dir.path()));
  REQUIRE(e->RebuildProjections().ok());
  for (const auto& [id, brief] : live) {
    Result<CaseState> s = e->State(id);
    REQUIRE(s.ok());
    CHECK(Describe(*s) == brief);
  }
  CHECK(Describe(*e, eval_at) == figures);
}

TEST_CASE("SubmitAsync and Submit on the same cases from many threads keep each case consistent") {
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"));
  o.worker_threads = 1;  // a single worker must not deadlock with synchronous callers
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  constexpr int kCases = 20;
  for (int c = 0; c < kCases; ++c)
    MustSubmit(*e, Report("M" + std::to_string(c), CaseKind::kComponent, "0101"));
  // Every case gets supervised many times by async and sync callers at once:
  // each supervision must see the previous one (the version grows by one).
  std::atomic<int> ok{0};
  Latch latch;
  std::vector<std::thread> threads;
  for (int c = 0; c < kCases; ++c) {
    MustSubmit(*e, Cmd(CommandType::kRegister, "M" + std::to_string(c), "L1"));
    MustSubmit(*e, Cmd(CommandType::kDispatch, "M" + std::to_string(c), "D1"));
  }
  constexpr int kEach = 10;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        for (int c = 0; c < kCases; ++c) {
          Command cmd = Cmd(CommandType::kSupervise, "M" + std::to_string(c), "S1");
          if (t == 0) {
            e->SubmitAsync(cmd, [&](Result<CommandAck> r) {
              if (r.ok()) ++ok;
              latch.Done();
            });
          } else {
            if (e->Submit(cmd).ok()) ++ok;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  latch.Wait(kEach * kCases);
  CHECK(ok == 2 * kEach * kCases);
  for (int c = 0; c < kCases; ++c) {
    Result<CaseState> s = e->State("M" + std::to_string(c));
    REQUIRE(s.ok());
    CHECK(s->supervisions == 2 * kEach);
    CHECK(s->version == 3 + 2 * kEach);
    Result<std::vector<LoggedEvent>> h = e->History(s->id);
    REQUIRE(h.ok());
    for (std::size_t v = 0; v < h->size(); ++v) CHECK((*h)[v].record.version == v + 1);
  }
}

TEST_CASE("store.max_group_writers = 1: one fsync per synced command, also under concurrency") {
  TempDir dir;
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"), dir.path());
  o.store.max_group_writers = 1;
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  const std::uint64_t before = e->SyncCount();
  constexpr int kThreads = 8, kEach = 5;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (e->Submit(Report("B" + std::to_string(t) + "-" + std::to_string(i), CaseKind::kEvent, "0102"))
                .ok())
          ++ok;
      }
    });
  }
  Latch latch;
  for (int i = 0; i < 40; ++i) {
    e->SubmitAsync(Report("BA" + std::to_string(i), CaseKind::kEvent, "0102"), [&](Result<CommandAck> r) {
      if (r.ok()) ++ok;
      latch.Done();
    });
  }
  for (auto& t : threads) t.join();
  latch.Wait(40);
  CHECK(ok == kThreads * kEach + 40);
  CHECK(e->SyncCount() - before == static_cast<std::uint64_t>(kThreads * kEach + 40));
}

TEST_CASE("a group-commit window: concurrent commands commit and share fsyncs") {
  TempDir dir;
  EngineOptions o = ManualOptions(T("2025-03-31T10:00"), dir.path());
  o.store.group_commit_window = std::chrono::milliseconds(2);
  auto e = MustOpen(o);
  ConfigureDistrict(*e);
  // A lone command on an idle store is acknowledged (it does not wait for
  // writers that never come).
  MustSubmit(*e, Report("W0", CaseKind::kEvent, "0102"));
  const std::uint64_t before = e->SyncCount();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i)
        if (e->Submit(Report("W" + std::to_string(t) + "-" + std::to_string(i), CaseKind::kEvent, "0102"))
                .ok())
          ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 128);
  const std::uint64_t syncs = e->SyncCount() - before;
  MESSAGE("128 commands from 16 threads with a 2 ms window, fsyncs: " << syncs);
  CHECK(syncs < 128);
}

TEST_CASE("engine options are checked") {
  EngineOptions o;
  o.store.max_group_writers = 0;
  CHECK(Engine::Open(o).status().IsInvalidArgument());
  o = EngineOptions();
  o.store.group_commit_window = std::chrono::microseconds(-1);
  CHECK(Engine::Open(o).status().IsInvalidArgument());
  o = EngineOptions();
  o.store.read_only = true;  // an in-memory store cannot be read-only
  Result<std::unique_ptr<Engine>> r = Engine::Open(o);
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message().find("read_only") != std::string::npos);
  TempDir dir;
  o.path = dir.path();  // nothing there
  CHECK(!Engine::Open(o).ok());
}

// The store at `path`: RocksDB, or PostgreSQL when tests/postgres runs this file.
Result<Storage> OpenTestStorage(const std::string& path, const StoreOptions& so = {}) {
#ifdef CASELOOP_ENGINE_TESTS_ON_POSTGRES
  return OpenPostgresStorage(path, so);
#else
  return OpenRocksDbStorage(path, so);
#endif
}

// Copies the log of `from` into a fresh store at `to` (no projection state).
void CopyLog(Engine& from, const std::string& to) {
  Result<Storage> opened = OpenTestStorage(to);
  REQUIRE(opened.ok());
  EventStore& dst = *opened->log;
  Result<std::vector<LoggedEvent>> logged = from.ReadLog(1, SIZE_MAX);
  REQUIRE(logged.ok());
  std::vector<EventRecord> records;
  for (LoggedEvent& e : *logged) records.push_back(std::move(e.record));
  const std::vector<EventRecord>* all = &records;
  std::size_t i = 0;
  while (i < all->size()) {
    const EventRecord& first = (*all)[i];
    std::vector<NewEvent> events;
    std::size_t j = i;
    for (; j < all->size() && (*all)[j].stream == first.stream && (*all)[j].command_id == first.command_id &&
           (j == i || !first.command_id.empty());
         ++j) {
      const EventRecord& r = (*all)[j];
      NewEvent e;
      e.type = r.type;
      e.schema_version = r.schema_version;
      e.recorded_us = r.recorded_us;
      e.event_id = r.event_id;
      e.actor = r.actor;
      e.correlation_id = r.correlation_id;
      e.causation_id = r.causation_id;
      e.payload = r.payload;
      events.push_back(std::move(e));
    }
    AppendOptions ao;
    ao.command_id = first.command_id;
    Result<AppendResult> a =
        dst.Append(first.stream, ExpectedVersion::Exactly(first.version - 1), std::move(events), ao);
    REQUIRE_MESSAGE(a.ok(), a.status().ToString());
    REQUIRE(a->first_position == first.position);
    i = j;
  }
  REQUIRE(dst.Close().ok());
}

std::size_t ProjectionKeys(const std::string& path) {
  StoreOptions so;
  so.read_only = true;
  Result<Storage> s = OpenTestStorage(path, so);
  REQUIRE(s.ok());
  std::size_t n = 0;
  REQUIRE(s->projections
              ->Scan("", "",
                     [&](std::string_view, std::string_view) {
                       ++n;
                       return true;
                     })
              .ok());
  return n;
}

TEST_CASE(
    "read-only engine: writes nothing, refuses commands, answers queries (projections caught up in memory)") {
  TempDir live_dir, copy_dir;
  const Instant start = T("2025-03-31T10:00");
  const Instant later = T("2025-04-02T10:00");  // after the 4 working-hour deadlines
  std::string figures, state_a1;
  std::size_t history_a1 = 0;
  std::uint64_t head = 0;
  {
    auto e = MustOpen(ManualOptions(start, live_dir.path()));
    ConfigureDistrict(*e);
    for (int c = 0; c < 10; ++c) OpenWaterCase(*e, "R" + std::to_string(c), start, /*accept=*/c % 2 == 0);
    MustSubmit(*e, Cmd(CommandType::kFeedback, "R0", "WATER", start + std::chrono::hours(1)));
    figures = Describe(*e, later);
    state_a1 = Describe(*e->State("R1"));
    history_a1 = e->History("R1")->size();
    head = e->HeadPosition();
    CopyLog(*e, copy_dir.path());
  }
  REQUIRE(ProjectionKeys(copy_dir.path()) == 0);  // the copy has a log and no projections

  EngineOptions o = ManualOptions(start, copy_dir.path());
  o.store.read_only = true;
  o.default_config = true;  // ignored: nothing is appended
  {
    auto e = MustOpen(o);
    CHECK(e->HeadPosition() == head);
    Result<CommandAck> r = e->Submit(Report("X", CaseKind::kEvent, "0102"));
    CHECK(r.status().IsRejected());
    CHECK(r.status().message().find("read-only") != std::string::npos);
    std::promise<Status> p;
    e->SubmitAsync(Report("Y", CaseKind::kEvent, "0102"),
                   [&](Result<CommandAck> a) { p.set_value(a.status()); });
    CHECK(p.get_future().get().IsRejected());
    CHECK(e->Configure(Unit("NEW")).status().IsRejected());
    CaseBatch batch;
    batch.commands.push_back(Report("Z", CaseKind::kEvent, "0102"));
    std::vector<CaseBatchResult> batched = e->SubmitBatch({batch});
    REQUIRE(batched.size() == 1);
    CHECK(batched[0].status.IsRejected());
    CHECK(batched[0].status.message().find("read-only") != std::string::npos);
    CHECK(e->State("X").status().IsNotFound());
    // Queries see the whole log although the stored projections are empty.
    CHECK(Describe(*e, later) == figures);
    CHECK(Describe(*e->State("R1")) == state_a1);
    CHECK(e->History("R1")->size() == history_a1);
    // The clock moves, no timer fires: the deadlines passed, nothing appended.
    CHECK(e->AdvanceTo(later).ok());
    CHECK(e->HeadPosition() == head);
    CHECK(e->RebuildProjections().ok());
    CHECK(Describe(*e, later) == figures);
    Result<std::vector<std::string>> problems = e->Check();
    REQUIRE(problems.ok());
    CHECK(problems->empty());
    CHECK(e->Close().ok());
  }
  CHECK(ProjectionKeys(copy_dir.path()) == 0);  // still nothing written
  {
    // A writable engine on the copy catches its projections up and fires the
    // deadlines the read-only one left alone.
    auto e = MustOpen(ManualOptions(start, copy_dir.path()));
    CHECK(Describe(*e, later) == figures);
    CHECK(e->AdvanceTo(later).ok());
    CHECK(e->HeadPosition() > head);
  }
  CHECK(ProjectionKeys(copy_dir.path()) > 0);
}

}  // namespace
}  // namespace caseloop::test
