// Engines on the PostgreSQL backend: one engine's lifecycle, reopen and
// rebuild; several engines on one database (per-case expected version,
// command ids across engines, one task_overdue per deadline); the global log
// without gaps under concurrent writers of several stores.
#include "caseloop/engine.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "../engine/engine_test_util.h"
#include "pg_test_util.h"
#include "store/postgres_store.h"

using namespace caseloop;
using namespace caseloop::test;
using caseloop::testing::PgSchema;

namespace {

std::size_t Overdues(Engine& e, const std::string& id) {
  return EventsOf(e, id, EventType::kTaskOverdue).size();
}

}  // namespace

TEST_CASE("postgres engine: lifecycle, reopen and rebuild agree; overdue once") {
  PgSchema db;
  std::string before;
  std::string state_before;
  {
    auto e = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url()));
    ConfigureDistrict(*e);
    OpenWaterCase(*e, "A1", e->Now());
    OpenWaterCase(*e, "A2", e->Now(), /*accept=*/false);
    MustSubmit(*e, Cmd(CommandType::kSupervise, "A2", "S1", e->Now()));
    REQUIRE(e->AdvanceTo(T("2025-04-01T16:00")).ok());
    CHECK(Overdues(*e, "A1") == 1);
    CHECK(Overdues(*e, "A2") == 1);
    before = Describe(*e, e->Now());
    state_before = Describe(*e->State("A1"));
    CHECK(e->Check()->empty());
    REQUIRE(e->Close().ok());
  }
  auto e = MustOpen(ManualOptions(T("2025-04-01T16:00"), db.url()));
  CHECK(Describe(*e, e->Now()) == before);
  CHECK(Describe(*e->State("A1")) == state_before);
  REQUIRE(e->AdvanceTo(T("2025-04-09T16:00")).ok());
  CHECK(Overdues(*e, "A1") == 1);
  REQUIRE(e->RebuildProjections().ok());
  CHECK(Describe(*e, T("2025-04-01T16:00")) == before);
  REQUIRE(e->Close().ok());
}

TEST_CASE("postgres engine: a second engine on the same projection scope is refused") {
  PgSchema db;
  auto a = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url()));
  Result<std::unique_ptr<Engine>> b = Engine::Open(ManualOptions(T("2025-03-31T10:30"), db.url()));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().IsIOError());
  CHECK(b.status().message().find("in use by another engine") != std::string::npos);
  auto c = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=c")));
  REQUIRE(c->Close().ok());
  REQUIRE(a->Close().ok());
}

TEST_CASE("postgres engines: concurrent commands on one case from two engines, each acked once") {
  PgSchema db;
  auto a = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=a")));
  ConfigureDistrict(*a);
  OpenWaterCase(*a, "C1", a->Now());
  auto b = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=b")));
  constexpr int kPerThread = 15;
  std::atomic<int> acked{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Engine& e = t % 2 == 0 ? *a : *b;
      for (int i = 0; i < kPerThread; ++i) {
        Command c = Cmd(CommandType::kSupervise, "C1", "S1", T("2025-03-31T10:30"));
        c.command_id = "sup/" + std::to_string(t) + "/" + std::to_string(i);
        Result<CommandAck> r = e.Submit(c);
        if (r.ok() && !r->duplicate) {
          ++acked;
        } else if (!r.ok() && r.status().IsConflict()) {
          ++conflicts;  // decided twice and lost twice: reported, not written
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  MESSAGE("acked " << acked.load() << ", conflicts " << conflicts.load());
  Result<std::vector<LoggedEvent>> h = a->History("C1");
  REQUIRE(h.ok());
  std::set<std::string> ids;
  std::uint64_t version = 0;
  int supervised = 0;
  for (const LoggedEvent& le : *h) {
    CHECK(le.record.version == ++version);  // no version twice, no gap
    if (le.event && le.event->type == EventType::kCaseSupervised) {
      ++supervised;
      CHECK(ids.insert(le.record.command_id).second);  // every command once
    }
  }
  CHECK(supervised == acked.load());
  // A retry of an acknowledged command on the other engine writes nothing.
  Command again = Cmd(CommandType::kSupervise, "C1", "S1", T("2025-03-31T10:30"));
  again.command_id = *ids.begin();
  Result<CommandAck> r = b->Submit(again);
  REQUIRE(r.ok());
  CHECK(r->duplicate);
  CHECK(EventsOf(*a, "C1", EventType::kCaseSupervised).size() == static_cast<std::size_t>(supervised));
  CHECK(a->Check()->empty());
  REQUIRE(b->Close().ok());
  REQUIRE(a->Close().ok());
}

TEST_CASE("postgres engines: one task_overdue per deadline across engines, also when the armer is gone") {
  PgSchema db;
  auto a = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=a")));
  ConfigureDistrict(*a);
  OpenWaterCase(*a, "D1", a->Now());
  OpenWaterCase(*a, "D2", a->Now());
  auto b = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=b")));
  // Both engines armed D1 and D2 (b from its catch-up of the log); both pass
  // the deadline, concurrently.
  std::thread ta([&] { CHECK(a->AdvanceTo(T("2025-04-01T16:00")).ok()); });
  std::thread tb([&] { CHECK(b->AdvanceTo(T("2025-04-01T16:00")).ok()); });
  ta.join();
  tb.join();
  CHECK(Overdues(*a, "D1") == 1);
  CHECK(Overdues(*a, "D2") == 1);
  // a opens D3 and goes away before its deadline; c, opened after, fires it.
  OpenWaterCase(*a, "D3", a->Now());
  REQUIRE(a->Close().ok());
  auto c = MustOpen(ManualOptions(T("2025-04-01T16:00"), db.url("caseloop_projections=c")));
  REQUIRE(c->AdvanceTo(T("2025-04-03T16:00")).ok());
  REQUIRE(b->AdvanceTo(T("2025-04-03T16:00")).ok());
  CHECK(Overdues(*c, "D3") == 1);
  CHECK(Overdues(*c, "D1") == 1);
  REQUIRE(b->Close().ok());
  REQUIRE(c->Close().ok());
}

// Waits up to `limit` for `done()`; true when it came true.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST_CASE("postgres engines: a configuration change through one engine reaches the others live") {
  PgSchema db;
  auto a = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=a")));
  ConfigureDistrict(*a);
  auto b = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=b")));
  CHECK(b->CurrentConfig().units.count("PARKS") == 0);

  // An idle engine reads it (peer_poll_interval), without a reopen.
  REQUIRE(a->Configure(Unit("PARKS")).ok());
  CHECK(Eventually([&] { return b->CurrentConfig().units.count("PARKS") == 1; }));

  // A change through b right after one through a applies to the newest
  // configuration (here it needs a's unit) and is not refused as a conflict.
  REQUIRE(a->Configure(Unit("GREEN")).ok());
  REQUIRE(a->Configure(Category(CaseKind::kEvent, "0199", TimeLimit::WorkingDays(1))).ok());
  Result<CommandAck> route = b->Configure(Route(CaseKind::kEvent, "0199", "GREEN"));
  REQUIRE_MESSAGE(route.ok(), route.status().ToString());

  // A command on a after the head's 20 ms decides on b's route.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  MustSubmit(*a, Report("G1", CaseKind::kEvent, "0199", a->Now()));
  MustSubmit(*a, Cmd(CommandType::kRegister, "G1", "L1", a->Now()));
  MustSubmit(*a, Cmd(CommandType::kDispatch, "G1", "D1", a->Now()));
  Result<CaseState> g1 = a->State("G1");
  REQUIRE(g1.ok());
  CHECK(g1->unit == "GREEN");

  // Both engines end with the same configuration, equal to a fresh read.
  CHECK(Eventually([&] { return b->CurrentConfig().units.count("GREEN") == 1; }));
  auto c = MustOpen(ManualOptions(T("2025-03-31T10:30"), db.url("caseloop_projections=c")));
  CHECK(c->CurrentConfig().routes.size() == a->CurrentConfig().routes.size());
  CHECK(c->CurrentConfig().routes.size() == b->CurrentConfig().routes.size());
  CHECK(c->CurrentConfig().units.size() == b->CurrentConfig().units.size());
  REQUIRE(c->Close().ok());
  REQUIRE(b->Close().ok());
  REQUIRE(a->Close().ok());
}

TEST_CASE("postgres engines: an idle engine arms and fires the deadline of a case another engine opened") {
  PgSchema db;
  const Instant now = SystemClock()->Now();
  // a works at a time one hour and two seconds ago on a manual clock (it
  // fires nothing itself); its case's one-natural-hour deadline passes two
  // seconds from now.
  const Instant a_time = now - std::chrono::hours(1) + std::chrono::seconds(2);
  auto a = MustOpen(ManualOptions(a_time, db.url("caseloop_projections=a")));
  ConfigureDistrict(*a);
  REQUIRE(a->Configure(Category(CaseKind::kComponent, "0110", TimeLimit::NaturalHours(1))).ok());
  REQUIRE(a->Configure(Route(CaseKind::kComponent, "0110", "WATER")).ok());
  // b: the system clock, timers on, opened before the case exists.
  EngineOptions bo;
  bo.path = db.url("caseloop_projections=b");
  bo.peer_poll_interval = std::chrono::milliseconds(200);
  auto b = MustOpen(bo);
  MustSubmit(*a, Report("H1", CaseKind::kComponent, "0110", a_time));
  MustSubmit(*a, Cmd(CommandType::kRegister, "H1", "L1", a_time));
  MustSubmit(*a, Cmd(CommandType::kDispatch, "H1", "D1", a_time));
  // Without a command or query of its own, b marks it overdue once.
  CHECK(Eventually([&] { return Overdues(*a, "H1") == 1; }, std::chrono::seconds(15)));
  std::vector<LoggedEvent> marks = EventsOf(*a, "H1", EventType::kTaskOverdue);
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].record.actor == "$timer");
  REQUIRE(b->Close().ok());
  REQUIRE(a->Close().ok());
}

TEST_CASE("postgres log: readers never skip an event while three stores append concurrently") {
  PgSchema db;
  std::vector<Storage> stores;
  for (int i = 0; i < 3; ++i) {
    auto r = OpenPostgresStorage(db.url("caseloop_projections=w" + std::to_string(i)));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    stores.push_back(std::move(r).value());
  }
  constexpr int kAppends = 60;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  // The reader follows the log from its own store: positions it has read
  // must never be followed by a lower one appearing later.
  std::vector<std::uint64_t> seen;
  std::thread reader([&] {
    std::uint64_t next = 1;
    while (!done.load() || next <= stores[0].log->HeadPosition()) {
      auto r = stores[0].log->ReadAll(next, 1000);
      if (!r.ok()) {
        ++failures;
        return;
      }
      for (const EventRecord& e : *r) {
        if (e.position != next) ++failures;
        seen.push_back(e.position);
        next = e.position + 1;
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      EventStore& s = *stores[w % 3].log;
      for (int i = 0; i < kAppends; ++i) {
        std::vector<NewEvent> ev(1 + i % 3);
        for (NewEvent& e : ev) {
          e.type = "Evt";
          e.payload = std::to_string(w);
        }
        if (!s.Append("S" + std::to_string(i % 4), ExpectedVersion::Any(), std::move(ev)).ok()) ++failures;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  CHECK(failures == 0);
  const std::uint64_t head = stores[1].log->HeadPosition();
  CHECK(seen.size() == head);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i + 1);
  CHECK(stores[2].log->Check()->empty());
  for (Storage& s : stores) REQUIRE(s.log->Close().ok());
}

TEST_CASE("postgres: bad URIs and an unreachable server are clear errors") {
  Result<Storage> bad_scope =
      OpenPostgresStorage(caseloop::testing::PostgresUrl() + "&caseloop_projections=");
  REQUIRE_FALSE(bad_scope.ok());
  CHECK(bad_scope.status().IsInvalidArgument());
  CHECK(bad_scope.status().message().find("caseloop_projections") != std::string::npos);
  Result<Storage> nowhere = OpenPostgresStorage("postgresql://u:secret@/db?host=/nonexistent-caseloop");
  REQUIRE_FALSE(nowhere.ok());
  CHECK(nowhere.status().IsIOError());
  CHECK(nowhere.status().message().find("cannot connect") != std::string::npos);
  CHECK(nowhere.status().message().find("secret") == std::string::npos);  // no password in messages
  Result<std::vector<std::string>> repair = RepairRocksDbStore("postgresql:///db");
  REQUIRE_FALSE(repair.ok());
  CHECK(repair.status().IsInvalidArgument());
  // A database without caseloop tables is not created without create_if_missing.
  PgSchema db;
  StoreOptions so;
  so.create_if_missing = false;
  Result<Storage> missing = OpenPostgresStorage(db.url(), so);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("no caseloop tables") != std::string::npos);
}
