// The projections over the durable RocksDB store: the same state as over the
// memory store, and the checkpoint survives closing and reopening.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

#include "history.h"

namespace caseloop::testing {
namespace {

std::vector<std::pair<std::string, std::string>> Keyspace(ProjectionStore* store) {
  std::vector<std::pair<std::string, std::string>> d;
  REQUIRE(store
              ->Scan("", "",
                     [&](std::string_view k, std::string_view v) {
                       d.emplace_back(k, v);
                       return true;
                     })
              .ok());
  return d;
}

TEST_CASE("projections over RocksDB: resume after reopen, same keyspace as the memory store") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("caseloop_projections_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  History h;
  for (int i = 0; i < 30; ++i) {
    const std::string c = "C" + std::to_string(i);
    const Instant t = Hours(At("2025-04-01T09:00"), i * 5);
    h.Open(c, t, i % 2 ? "A" : "B", Hours(t, 20));
    if (i % 3 == 0) h.Feedback(c, Hours(t, 10 + i), i % 2 ? "A" : "B", 10 + i <= 20);
    if (i % 6 == 0) h.Pass(c, Hours(t, 11 + i));
  }
  Storage memory = NewMemoryStorage();
  History copy = h;
  copy.Flush(memory.log.get());
  auto reference = Projections::Create(memory.log.get(), memory.projections.get());
  REQUIRE(reference->CatchUp().ok());

  StoreOptions options;
  options.durability = Durability::kBuffered;
  {
    auto store = OpenRocksDbStorage(dir.string(), options);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    h.Flush(store->log.get());
    auto p = Projections::Create(store->log.get(), store->projections.get(), ProjectionOptions{16});
    REQUIRE(p->CatchUp(50).ok());
    CHECK(p->Checkpoint() == 50);
    REQUIRE(store->log->Close().ok());
  }
  {
    auto store = OpenRocksDbStorage(dir.string(), options);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    auto p = Projections::Create(store->log.get(), store->projections.get());
    CHECK(p->Checkpoint() == 50);
    CHECK(p->Lag() == store->log->HeadPosition() - 50);
    REQUIRE(p->CatchUp().ok());
    CHECK(Keyspace(store->projections.get()) == Keyspace(memory.projections.get()));
    PeriodQuery q{At("2025-04-01"), At("2025-05-01"), std::nullopt, ""};
    auto a = p->Rates(q, Config{});
    auto b = reference->Rates(q, Config{});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(a->size() == 2);
    for (std::size_t i = 0; i < a->size(); ++i) {
      CHECK((*a)[i].unit == (*b)[i].unit);
      CHECK((*a)[i].due == (*b)[i].due);
      CHECK((*a)[i].handled == (*b)[i].handled);
      CHECK((*a)[i].score == (*b)[i].score);
    }
    CHECK((*a)[0].due > 0);
    REQUIRE(p->Rebuild().ok());
    CHECK(Keyspace(store->projections.get()) == Keyspace(memory.projections.get()));
    auto problems = p->Check();
    REQUIRE(problems.ok());
    CHECK(problems->empty());
    REQUIRE(store->log->Close().ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace caseloop::testing
