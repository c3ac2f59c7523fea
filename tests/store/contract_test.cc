// The store contracts: the log (EventStore) against the memory and RocksDB
// stores, the projection storage (ProjectionStore) against the memory and
// RocksDB stores and the read-only engine's in-memory overlay.
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "caseloop/event_store.h"
#include "forwarding_store.h"
#include "store/overlay_store.h"
#include "store/projection_store.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;

namespace {

struct MemoryFactory {
  static constexpr bool kDurable = false;
  std::unique_ptr<EventStore> Open(const StoreOptions& = {}) { return NewMemoryStore(); }
  // The store with its projection storage.
  Storage OpenStorage(const StoreOptions& = {}) { return NewMemoryStorage(); }
};

struct RocksFactory {
  static constexpr bool kDurable = true;
  TempDir dir{"contract"};
  std::unique_ptr<EventStore> Open(const StoreOptions& options = {}) {
    auto r = OpenRocksDbStore(dir.path(), options);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return std::move(r).value();
  }
  Storage OpenStorage(const StoreOptions& options = {}) {
    auto r = OpenRocksDbStorage(dir.path(), options);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return std::move(r).value();
  }
};

// Projection storage factories. Open() (again) gives the storage, Close()
// closes the database it lives in.
struct MemoryProjections {
  static constexpr bool kDurable = false;
  static constexpr bool kClosable = true;
  Storage storage;
  ProjectionStore* Open(const StoreOptions& = {}) {
    storage = NewMemoryStorage();
    return storage.projections.get();
  }
  Status Close() { return storage.log->Close(); }
};

struct RocksProjections {
  static constexpr bool kDurable = true;
  static constexpr bool kClosable = true;
  TempDir dir{"contract"};
  Storage storage;
  ProjectionStore* Open(const StoreOptions& options = {}) {
    storage = Storage();  // the previous one, closed or not, goes first
    auto r = OpenRocksDbStorage(dir.path(), options);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    storage = std::move(r).value();
    return storage.projections.get();
  }
  Status Close() { return storage.log->Close(); }
};

// The read-only engine's overlay, over an empty memory store.
struct OverlayProjections {
  static constexpr bool kDurable = false;
  static constexpr bool kClosable = false;
  Storage base = NewMemoryStorage();
  std::unique_ptr<ProjectionStore> overlay;
  ProjectionStore* Open(const StoreOptions& = {}) {
    overlay = NewProjectionOverlay(base.projections.get());
    return overlay.get();
  }
  Status Close() { return Status::Ok(); }
};

std::vector<NewEvent> Events(int n, const std::string& tag = "e") {
  std::vector<NewEvent> v;
  for (int i = 0; i < n; ++i) v.push_back(MakeEvent("Evt", tag + std::to_string(i)));
  return v;
}

AppendResult MustAppend(EventStore& s, std::string_view stream, ExpectedVersion ev,
                        std::vector<NewEvent> events, const AppendOptions& o = {}) {
  auto r = s.Append(stream, ev, std::move(events), o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::vector<EventRecord> MustReadAll(EventStore& s, std::uint64_t from = 1, std::size_t max = SIZE_MAX) {
  auto r = s.ReadAll(from, max);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::vector<EventRecord> MustReadStream(EventStore& s, std::string_view stream, std::uint64_t from = 1,
                                        std::size_t max = SIZE_MAX) {
  auto r = s.ReadStream(stream, from, max);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

std::string BulkKey(int i) {
  std::string n = std::to_string(i);
  return "m/" + std::string(5 - n.size(), '0') + n;
}

void CheckSameRecord(const EventRecordView& v, const EventRecord& r) {
  CHECK(v.position == r.position);
  CHECK(v.stream == r.stream);
  CHECK(v.version == r.version);
  CHECK(v.type == r.type);
  CHECK(v.schema_version == r.schema_version);
  CHECK(v.recorded_us == r.recorded_us);
  CHECK(v.event_id == r.event_id);
  CHECK(v.command_id == r.command_id);
  CHECK(v.correlation_id == r.correlation_id);
  CHECK(v.causation_id == r.causation_id);
  CHECK(v.actor == r.actor);
  CHECK(v.payload == r.payload);
}

// ScanAll(from, max) compared field by field with ReadAll(from, max).
void CheckScanMatchesReadAll(EventStore& s, std::uint64_t from, std::size_t max) {
  CAPTURE(from);
  CAPTURE(max);
  const std::vector<EventRecord> expected = MustReadAll(s, from, max);
  std::size_t i = 0;
  Status st = s.ScanAll(from, max, [&](const EventRecordView& v) {
    REQUIRE(i < expected.size());
    CheckSameRecord(v, expected[i]);
    ++i;
    return true;
  });
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  CHECK(i == expected.size());
}

// Forwards to a memory store, except that ReadAll fails on any range that
// includes position `bad` (as a store with a corrupt record there would):
// exercises EventStore's default ScanAll.
class BadRecordStore final : private std::unique_ptr<EventStore>, public testing::ForwardingStore {
 public:
  // The memory store (the first base) exists before ForwardingStore gets it.
  explicit BadRecordStore(std::uint64_t bad)
      : std::unique_ptr<EventStore>(NewMemoryStore()), ForwardingStore(get()), bad_(bad) {}

  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override {
    auto r = ForwardingStore::ReadAll(from, max);
    if (r.ok() && !r->empty() && r->front().position <= bad_ && bad_ <= r->back().position) {
      return Status::Corruption("record at position " + std::to_string(bad_) + ": checksum mismatch");
    }
    return r;
  }

 private:
  std::uint64_t bad_;
};

}  // namespace

// tests/postgres/contract_test.cc includes this file with the PostgreSQL
// factories in their place.
#ifdef CONTRACT_STORE_TYPES
#define STORE_TYPES CONTRACT_STORE_TYPES
#define PROJECTION_TYPES CONTRACT_PROJECTION_TYPES
#else
#define STORE_TYPES MemoryFactory, RocksFactory
#define PROJECTION_TYPES MemoryProjections, RocksProjections, OverlayProjections
#endif

TEST_CASE_TEMPLATE("contract: append and read back every envelope field", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  NewEvent full;
  full.type = "CaseReported";
  full.schema_version = 3;
  full.recorded_us = 1743388200000000;
  full.event_id = "ev-1";
  full.actor = "I7";
  full.correlation_id = "corr";
  full.causation_id = "cause";
  full.payload = std::string("bin\0ary\xff", 8);
  std::vector<NewEvent> first;
  first.push_back(full);
  first.push_back(MakeEvent("CaseRegistered", "p2"));
  first.push_back(MakeEvent("CaseDispatched", "p3"));
  AppendOptions o;
  o.command_id = "cmd-1";
  AppendResult a = MustAppend(*store, "C1", ExpectedVersion::NoStream(), std::move(first), o);
  CHECK(a.first_position == 1);
  CHECK(a.last_position == 3);
  CHECK(a.next_expected_version == 3);
  CHECK_FALSE(a.duplicate);

  AppendResult b = MustAppend(*store, "C2", ExpectedVersion::Any(), Events(2));
  CHECK(b.first_position == 4);
  CHECK(b.last_position == 5);
  CHECK(b.next_expected_version == 2);
  AppendResult c = MustAppend(*store, "C1", ExpectedVersion::Exactly(3), Events(1));
  CHECK(c.first_position == 6);
  CHECK(c.next_expected_version == 4);
  CHECK(store->HeadPosition() == 6);

  auto c1 = MustReadStream(*store, "C1");
  REQUIRE(c1.size() == 4);
  const EventRecord& r = c1[0];
  CHECK(r.position == 1);
  CHECK(r.stream == "C1");
  CHECK(r.version == 1);
  CHECK(r.type == "CaseReported");
  CHECK(r.schema_version == 3);
  CHECK(r.recorded_us == 1743388200000000);
  CHECK(r.event_id == "ev-1");
  CHECK(r.command_id == "cmd-1");
  CHECK(r.correlation_id == "corr");
  CHECK(r.causation_id == "cause");
  CHECK(r.actor == "I7");
  CHECK(r.payload == std::string("bin\0ary\xff", 8));
  CHECK(c1[1].command_id == "cmd-1");
  CHECK(c1[3].command_id.empty());
  std::vector<std::uint64_t> positions, versions;
  for (const auto& e : c1) {
    positions.push_back(e.position);
    versions.push_back(e.version);
  }
  CHECK(positions == std::vector<std::uint64_t>{1, 2, 3, 6});
  CHECK(versions == std::vector<std::uint64_t>{1, 2, 3, 4});

  // Generated event ids: 32 hex digits, unique; recorded time stored as given.
  std::set<std::string> ids;
  for (const auto& e : MustReadAll(*store)) ids.insert(e.event_id);
  CHECK(c1[1].recorded_us == 0);
  CHECK(ids.size() == 6);
  CHECK(c1[1].event_id.size() == 32);
  CHECK(c1[1].event_id.find_first_not_of("0123456789abcdef") == std::string::npos);

  auto part = MustReadStream(*store, "C1", 3, 1);
  REQUIRE(part.size() == 1);
  CHECK(part[0].version == 3);
  CHECK(MustReadStream(*store, "C1", 5).empty());
  CHECK(MustReadStream(*store, "nope").empty());

  auto all = MustReadAll(*store);
  REQUIRE(all.size() == 6);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].position == i + 1);
  CHECK(all[3].stream == "C2");
  auto mid = MustReadAll(*store, 4, 2);
  REQUIRE(mid.size() == 2);
  CHECK(mid[0].position == 4);
  CHECK(mid[1].position == 5);
  CHECK(MustReadAll(*store, 7, 10).empty());
  CHECK(MustReadAll(*store, 0, 1).at(0).position == 1);
  CHECK(MustReadAll(*store, 1, 0).empty());

  CHECK(*store->StreamVersion("C1") == 4);
  CHECK(*store->StreamVersion("C2") == 2);
  CHECK(*store->StreamVersion("C3") == 0);
  CHECK(*store->ListStreams("", 10) == std::vector<std::string>{"C1", "C2"});
  CHECK(*store->ListStreams("C1", 10) == std::vector<std::string>{"C2"});
  CHECK(*store->ListStreams("", 1) == std::vector<std::string>{"C1"});
  auto check = store->Check();
  REQUIRE(check.ok());
  CHECK(check->empty());
}

TEST_CASE_TEMPLATE("contract: ScanAll visits exactly what ReadAll returns", F, STORE_TYPES) {
  F f;
  StoreOptions o;
  o.durability = Durability::kBuffered;
  auto store = f.Open(o);
  CheckScanMatchesReadAll(*store, 1, SIZE_MAX);  // empty store
  // More than one chunk of the default implementation (1024), every field set.
  for (int a = 0; a < 25; ++a) {
    std::vector<NewEvent> events;
    for (int i = 0; i < 100; ++i) {
      NewEvent e = MakeEvent(i % 2 ? "CaseReported" : "CaseDispatched",
                             std::string("p\0", 2) + std::to_string(a * 1000 + i) + std::string(i, '\xff'));
      e.schema_version = 1 + static_cast<std::uint32_t>(i % 3);
      e.recorded_us = (a % 2 ? -1 : 1) * (1743388200000000LL + i);
      if (i % 5 == 0) e.correlation_id = "corr-" + std::to_string(i);
      if (i % 7 == 0) e.causation_id = "cause-" + std::to_string(i);
      events.push_back(std::move(e));
    }
    AppendOptions ao;
    if (a % 3 == 0) ao.command_id = "cmd-" + std::to_string(a);
    MustAppend(*store, "C" + std::to_string(a % 4), ExpectedVersion::Any(), std::move(events), ao);
  }
  const std::uint64_t head = store->HeadPosition();
  REQUIRE(head == 2500);
  const std::pair<std::uint64_t, std::size_t> ranges[] = {
      {0, SIZE_MAX},    {1, SIZE_MAX},        {0, 3},         {1, 0},       {7, 0},
      {2, 1},           {500, 1024},          {1000, 1500},   {1024, 1025}, {2499, 10},
      {head, SIZE_MAX}, {head + 1, SIZE_MAX}, {head + 100, 5}};
  for (const auto& [from, max] : ranges) {
    CheckScanMatchesReadAll(*store, from, max);
  }

  // visit returning false stops the scan, which is then Ok.
  for (std::size_t stop_after : {1u, 2u, 1024u, 1025u, 2499u}) {
    CAPTURE(stop_after);
    std::size_t visits = 0;
    std::uint64_t last = 0;
    Status st = store->ScanAll(1, SIZE_MAX, [&](const EventRecordView& v) {
      last = v.position;
      return ++visits < stop_after;
    });
    CHECK(st.ok());
    CHECK(visits == stop_after);
    CHECK(last == stop_after);
  }
  REQUIRE(store->Close().ok());
  CHECK(store->ScanAll(1, 10, [](const EventRecordView&) { return true; }).IsUnavailable());
}

TEST_CASE("contract: the default ScanAll visits the records before a bad one, then fails") {
  for (std::uint64_t bad : {1u, 2u, 1000u, 1024u, 1025u, 1500u}) {
    CAPTURE(bad);
    BadRecordStore store(bad);
    for (int a = 0; a < 3; ++a)
      MustAppend(store, "C" + std::to_string(a), ExpectedVersion::Any(), Events(600));
    std::vector<std::uint64_t> visited;
    Status st = store.ScanAll(1, SIZE_MAX, [&](const EventRecordView& v) {
      visited.push_back(v.position);
      return true;
    });
    REQUIRE(st.IsCorruption());
    CHECK(st.message().find("position " + std::to_string(bad)) != std::string::npos);
    REQUIRE(visited.size() == bad - 1);
    for (std::size_t i = 0; i < visited.size(); ++i) CHECK(visited[i] == i + 1);
    // A visitor that stops before the bad record sees no error.
    if (bad > 2) {
      CHECK(store.ScanAll(1, SIZE_MAX, [&](const EventRecordView& v) { return v.position + 1 < bad; }).ok());
    }
  }
}

TEST_CASE_TEMPLATE("contract: bad arguments are InvalidArgument and write nothing", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  CHECK(store->Append("", ExpectedVersion::Any(), Events(1)).status().IsInvalidArgument());
  CHECK(store->Append("C1", ExpectedVersion::Any(), {}).status().IsInvalidArgument());
  CHECK(
      store->Append(std::string("C\0x", 3), ExpectedVersion::Any(), Events(1)).status().IsInvalidArgument());
  CHECK(store->Append(std::string(201, 'c'), ExpectedVersion::Any(), Events(1)).status().IsInvalidArgument());
  auto bad_type = Events(2);
  bad_type[1].type = "";
  auto s = store->Append("C1", ExpectedVersion::Any(), std::move(bad_type)).status();
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("event 1") != std::string::npos);
  auto long_type = Events(1);
  long_type[0].type = std::string(65, 't');
  CHECK(store->Append("C1", ExpectedVersion::Any(), std::move(long_type)).status().IsInvalidArgument());
  CHECK(store->HeadPosition() == 0);
  CHECK(store->ReadStream("", 1).status().IsInvalidArgument());
}

TEST_CASE_TEMPLATE("contract: expected-version conflicts carry the actual version", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  MustAppend(*store, "C7", ExpectedVersion::NoStream(), Events(5));
  auto r = store->Append("C7", ExpectedVersion::Exactly(3), Events(1));
  REQUIRE(r.status().IsConflict());
  CHECK(r.status().message() == "stream C7: expected version 3, actual 5");
  r = store->Append("C7", ExpectedVersion::NoStream(), Events(1));
  REQUIRE(r.status().IsConflict());
  CHECK(r.status().message() == "stream C7: expected no stream, actual version 5");
  r = store->Append("C7", ExpectedVersion::Exactly(0), Events(1));
  CHECK(r.status().IsConflict());
  r = store->Append("C8", ExpectedVersion::Exactly(2), Events(1));
  REQUIRE(r.status().IsConflict());
  CHECK(r.status().message() == "stream C8: expected version 2, actual 0");
  CHECK(store->HeadPosition() == 5);
  CHECK(*store->StreamVersion("C7") == 5);
  CHECK(*store->StreamVersion("C8") == 0);
  CHECK(store->ListStreams("", 10)->size() == 1);
  auto ok = MustAppend(*store, "C7", ExpectedVersion::Exactly(5), Events(1));
  CHECK(ok.first_position == 6);
  CHECK(ok.next_expected_version == 6);
}

TEST_CASE_TEMPLATE("contract: a retried command id returns the original result", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  AppendOptions o;
  o.command_id = "dispatch-C1-1";
  AppendResult first = MustAppend(*store, "C1", ExpectedVersion::NoStream(), Events(2), o);
  MustAppend(*store, "C2", ExpectedVersion::Any(), Events(1));
  // The retry's expected version is stale: it is still answered from the index.
  AppendResult again = MustAppend(*store, "C1", ExpectedVersion::NoStream(), Events(2), o);
  CHECK(again.duplicate);
  CHECK(again.first_position == first.first_position);
  CHECK(again.last_position == first.last_position);
  CHECK(again.next_expected_version == first.next_expected_version);
  CHECK(store->HeadPosition() == 3);
  CHECK(MustReadStream(*store, "C1").size() == 2);
  auto other = store->Append("C9", ExpectedVersion::Any(), Events(1), o);
  REQUIRE(other.status().IsConflict());
  CHECK(other.status().message().find("dispatch-C1-1") != std::string::npos);
  // A conflicting append does not consume its command id.
  AppendOptions o2;
  o2.command_id = "k2";
  CHECK(store->Append("C1", ExpectedVersion::Exactly(9), Events(1), o2).status().IsConflict());
  AppendResult k2 = MustAppend(*store, "C1", ExpectedVersion::Exactly(2), Events(1), o2);
  CHECK_FALSE(k2.duplicate);
  CHECK(k2.first_position == 4);

  if constexpr (F::kDurable) {
    REQUIRE(store->Close().ok());
    store = f.Open();
    AppendResult after = MustAppend(*store, "C1", ExpectedVersion::Any(), Events(2), o);
    CHECK(after.duplicate);
    CHECK(after.first_position == 1);
    CHECK(store->HeadPosition() == 4);
  }
}

TEST_CASE_TEMPLATE("contract: concurrent retries of one command id append once", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  constexpr int kThreads = 8;
  std::vector<AppendResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AppendOptions o;
      o.command_id = "same";
      auto r = store->Append("C1", ExpectedVersion::Any(), Events(3), o);
      if (r.ok()) results[t] = *r;
    });
  }
  for (auto& t : threads) t.join();
  int originals = 0;
  for (const auto& r : results) {
    CHECK(r.first_position == 1);
    CHECK(r.last_position == 3);
    if (!r.duplicate) ++originals;
  }
  CHECK(originals == 1);
  CHECK(store->HeadPosition() == 3);
}

TEST_CASE_TEMPLATE("contract: concurrent appends get gap-free positions and versions", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  // payload "t<thread>-a<append>-<i>/<n>"
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      for (int a = 0; a < kAppendsPerThread; ++a) {
        std::string stream = "S" + std::to_string(rng() % 6);
        int n = 1 + static_cast<int>(rng() % 3);
        std::vector<NewEvent> events;
        for (int i = 0; i < n; ++i) {
          events.push_back(MakeEvent("Evt", "t" + std::to_string(t) + "-a" + std::to_string(a) + "-" +
                                                std::to_string(i) + "/" + std::to_string(n)));
        }
        ExpectedVersion ev = ExpectedVersion::Any();
        if (a % 2 == 1) {
          // Optimistic concurrency, retried on conflict.
          for (;;) {
            auto v = store->StreamVersion(stream);
            if (!v.ok()) break;
            auto r = store->Append(stream, ExpectedVersion::Exactly(*v), events);
            if (r.ok()) break;
            if (!r.status().IsConflict()) {
              ++failures;
              break;
            }
          }
          continue;
        }
        if (!store->Append(stream, ev, std::move(events)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);

  auto all = MustReadAll(*store);
  CHECK(all.size() == store->HeadPosition());
  std::map<std::string, std::uint64_t> last_version;
  std::map<std::string, std::pair<std::uint64_t, int>> appends;  // append -> (first position, count)
  for (std::size_t i = 0; i < all.size(); ++i) {
    const EventRecord& e = all[i];
    REQUIRE(e.position == i + 1);
    CHECK(e.version == ++last_version[e.stream]);
    auto dash = e.payload.rfind('-');
    std::string append = e.payload.substr(0, dash);
    int index = std::stoi(e.payload.substr(dash + 1));
    auto& [first, count] = appends[append];
    if (index == 0) first = e.position;
    CHECK(e.position == first + index);  // one append's events are contiguous
    ++count;
  }
  CHECK(appends.size() == kThreads * kAppendsPerThread);
  for (const auto& [stream, version] : last_version) {
    auto events = MustReadStream(*store, stream);
    REQUIRE(events.size() == version);
    for (std::size_t i = 0; i < events.size(); ++i) CHECK(events[i].version == i + 1);
    CHECK(*store->StreamVersion(stream) == version);
  }
  CHECK(store->Check()->empty());
}

TEST_CASE_TEMPLATE("contract: concurrent synced appends share fsyncs", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      AppendOptions o;
      o.durability = Durability::kSync;
      for (int a = 0; a < kAppendsPerThread; ++a) {
        if (!store->Append("T" + std::to_string(t), ExpectedVersion::Exactly(a), Events(1), o).ok())
          ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(store->HeadPosition() == kThreads * kAppendsPerThread);
  MESSAGE("syncs: " << store->SyncCount() << " for " << kThreads * kAppendsPerThread << " appends");
  CHECK(store->SyncCount() < kThreads * kAppendsPerThread);
  if constexpr (F::kDurable) CHECK(store->SyncCount() > 0);
}

TEST_CASE_TEMPLATE("contract: projection keyspace commit, scan and reset", F, PROJECTION_TYPES) {
  F f;
  ProjectionStore* store = f.Open();
  CHECK(*store->ProjectionCheckpoint("deadline") == 0);
  std::vector<KvOp> ops = {{KvOp::Kind::kPut, "d/a", "1"},
                           {KvOp::Kind::kPut, "d/b", "2"},
                           {KvOp::Kind::kPut, "d/c", "3"},
                           {KvOp::Kind::kPut, "e/x", "9"}};
  REQUIRE(store->CommitProjection("deadline", ops, 5).ok());
  CHECK(*store->ProjectionCheckpoint("deadline") == 5);
  CHECK(*store->ProjectionCheckpoint("evaluation") == 0);
  CHECK(**store->Get("d/b") == "2");
  CHECK_FALSE(store->Get("d/z")->has_value());

  std::vector<std::string> seen;
  auto collect = [&](std::string_view k, std::string_view v) {
    seen.push_back(std::string(k) + "=" + std::string(v));
    return true;
  };
  REQUIRE(store->Scan("d/a", "d/c", collect).ok());
  CHECK(seen == std::vector<std::string>{"d/a=1", "d/b=2"});
  seen.clear();
  REQUIRE(store->Scan("", "", collect).ok());
  CHECK(seen.size() == 4);
  seen.clear();
  REQUIRE(store
              ->Scan("d/", "",
                     [&](std::string_view k, std::string_view) {
                       seen.emplace_back(k);
                       // Re-entering the store from the callback is allowed.
                       CHECK(store->Get(k)->has_value());
                       return seen.size() < 2;
                     })
              .ok());
  CHECK(seen == std::vector<std::string>{"d/a", "d/b"});

  REQUIRE(store
              ->CommitProjection("deadline",
                                 {{KvOp::Kind::kDelete, "d/a", ""}, {KvOp::Kind::kPut, "d/b", "22"}}, 7)
              .ok());
  CHECK_FALSE(store->Get("d/a")->has_value());
  CHECK(**store->Get("d/b") == "22");
  CHECK(*store->ProjectionCheckpoint("deadline") == 7);

  // Many keys: scans cross the store's internal chunks.
  std::vector<KvOp> many;
  for (int i = 0; i < 700; ++i) many.push_back({KvOp::Kind::kPut, BulkKey(i), std::to_string(i)});
  REQUIRE(store->CommitProjection("bulk", many, 1).ok());
  int count = 0;
  std::string previous;
  REQUIRE(store
              ->Scan("m/", "m0",
                     [&](std::string_view k, std::string_view v) {
                       CHECK(std::string(k) > previous);
                       previous = std::string(k);
                       CHECK(v == std::to_string(count));
                       ++count;
                       return true;
                     })
              .ok());
  CHECK(count == 700);

  REQUIRE(store->ResetProjection("deadline", "d/").ok());
  CHECK(*store->ProjectionCheckpoint("deadline") == 0);
  CHECK_FALSE(store->Get("d/b")->has_value());
  CHECK(**store->Get("e/x") == "9");
  CHECK(*store->ProjectionCheckpoint("bulk") == 1);

  if constexpr (F::kDurable) {
    REQUIRE(f.Close().ok());
    store = f.Open();
    CHECK(**store->Get("e/x") == "9");
    CHECK(**store->Get("m/00010") == "10");
    CHECK(*store->ProjectionCheckpoint("bulk") == 1);
  }
  // An empty prefix clears the whole keyspace.
  REQUIRE(store->ResetProjection("bulk", "").ok());
  count = 0;
  REQUIRE(store
              ->Scan("", "",
                     [&](std::string_view, std::string_view) {
                       ++count;
                       return true;
                     })
              .ok());
  CHECK(count == 0);
  CHECK(store->CommitProjection("", {}, 1).IsInvalidArgument());
}

TEST_CASE_TEMPLATE("contract: every call after Close is Unavailable", F, STORE_TYPES) {
  F f;
  auto store = f.Open();
  MustAppend(*store, "C1", ExpectedVersion::Any(), Events(1));
  REQUIRE(store->Close().ok());
  CHECK(store->Append("C1", ExpectedVersion::Any(), Events(1)).status().IsUnavailable());
  CHECK(store->ReadStream("C1", 1).status().IsUnavailable());
  CHECK(store->ReadAll(1, 10).status().IsUnavailable());
  CHECK(store->StreamVersion("C1").status().IsUnavailable());
  CHECK(store->ListStreams("", 10).status().IsUnavailable());
  CHECK(store->Check().status().IsUnavailable());
  CHECK(store->Flush().IsUnavailable());
  CHECK(store->Close().IsUnavailable());
  CHECK(store->HeadPosition() == 1);
}

TEST_CASE_TEMPLATE("contract: projection storage calls after its database closed are Unavailable", F,
                   PROJECTION_TYPES) {
  if constexpr (F::kClosable) {
    F f;
    ProjectionStore* store = f.Open();
    REQUIRE(store->CommitProjection("p", {{KvOp::Kind::kPut, "k", "v"}}, 1).ok());
    REQUIRE(f.Close().ok());
    CHECK(store->CommitProjection("p", {}, 1).IsUnavailable());
    CHECK(store->ProjectionCheckpoint("p").status().IsUnavailable());
    CHECK(store->Get("k").status().IsUnavailable());
    CHECK(store->Scan("", "", [](std::string_view, std::string_view) { return true; }).IsUnavailable());
    CHECK(store->ResetProjection("p", "").IsUnavailable());
  }
}

TEST_CASE("contract: the overlay reads through to its base and never writes it") {
  Storage base = NewMemoryStorage();
  REQUIRE(base.projections
              ->CommitProjection("d",
                                 {{KvOp::Kind::kPut, "d/a", "1"},
                                  {KvOp::Kind::kPut, "d/b", "2"},
                                  {KvOp::Kind::kPut, "e/x", "9"}},
                                 4)
              .ok());
  auto overlay = NewProjectionOverlay(base.projections.get());
  auto all = [](ProjectionStore& s) {
    std::vector<std::string> seen;
    REQUIRE(s.Scan("", "", [&](std::string_view k, std::string_view v) {
               seen.push_back(std::string(k) + "=" + std::string(v));
               return true;
             }).ok());
    return seen;
  };
  CHECK(*overlay->ProjectionCheckpoint("d") == 4);
  CHECK(**overlay->Get("d/a") == "1");
  CHECK(all(*overlay) == std::vector<std::string>{"d/a=1", "d/b=2", "e/x=9"});

  // Puts and deletes shadow the base's keys, in key order.
  REQUIRE(overlay
              ->CommitProjection("d",
                                 {{KvOp::Kind::kDelete, "d/a", ""},
                                  {KvOp::Kind::kPut, "d/b", "22"},
                                  {KvOp::Kind::kPut, "d/c", "3"}},
                                 6)
              .ok());
  CHECK_FALSE(overlay->Get("d/a")->has_value());
  CHECK(all(*overlay) == std::vector<std::string>{"d/b=22", "d/c=3", "e/x=9"});
  CHECK(*overlay->ProjectionCheckpoint("d") == 6);
  // A scan stopped early stops in the overlay's entries too.
  std::vector<std::string> first;
  REQUIRE(overlay
              ->Scan("d/", "",
                     [&](std::string_view k, std::string_view) {
                       first.emplace_back(k);
                       return first.size() < 2;
                     })
              .ok());
  CHECK(first == std::vector<std::string>{"d/b", "d/c"});

  // A reset hides the base's keys under the prefix, not the others.
  REQUIRE(overlay->ResetProjection("d", "d/").ok());
  CHECK(*overlay->ProjectionCheckpoint("d") == 0);
  CHECK_FALSE(overlay->Get("d/b")->has_value());
  CHECK(all(*overlay) == std::vector<std::string>{"e/x=9"});
  REQUIRE(overlay->CommitProjection("d", {{KvOp::Kind::kPut, "d/z", "26"}}, 2).ok());
  CHECK(all(*overlay) == std::vector<std::string>{"d/z=26", "e/x=9"});

  // The base is as it was.
  CHECK(*base.projections->ProjectionCheckpoint("d") == 4);
  CHECK(all(*base.projections) == std::vector<std::string>{"d/a=1", "d/b=2", "e/x=9"});
}

TEST_CASE_TEMPLATE("contract: reopen recovers head, versions and the log", F, STORE_TYPES) {
  if constexpr (F::kDurable) {
    F f;
    auto store = f.Open();
    MustAppend(*store, "C1", ExpectedVersion::Any(), Events(3, "a"));
    MustAppend(*store, "$config", ExpectedVersion::Any(), Events(2, "cfg"));
    REQUIRE(store->Close().ok());
    store = f.Open();
    CHECK(store->HeadPosition() == 5);
    CHECK(*store->StreamVersion("C1") == 3);
    CHECK(*store->StreamVersion("$config") == 2);
    CHECK(*store->ListStreams("", 10) == std::vector<std::string>{"$config", "C1"});
    AppendResult r = MustAppend(*store, "C1", ExpectedVersion::Exactly(3), Events(1, "b"));
    CHECK(r.first_position == 6);
    CHECK(r.next_expected_version == 4);
    auto all = MustReadAll(*store);
    REQUIRE(all.size() == 6);
    CHECK(all[0].payload == "a0");
    CHECK(all[3].stream == "$config");
    CHECK(all[5].payload == "b0");
    CHECK(store->Check()->empty());
  }
}

TEST_CASE_TEMPLATE("contract: every durability mode survives Close", F, STORE_TYPES) {
  F f;
  for (Durability d : {Durability::kBuffered, Durability::kNone, Durability::kSync}) {
    CAPTURE(DurabilityName(d));
    StoreOptions so;
    so.durability = d;
    Storage storage = f.OpenStorage(so);
    EventStore* store = storage.log.get();
    std::uint64_t before = store->HeadPosition();
    MustAppend(*store, "C1", ExpectedVersion::Any(), Events(2));
    // Per-append overrides, mixing modes inside one store.
    for (Durability per : {Durability::kNone, Durability::kSync, Durability::kBuffered, Durability::kNone}) {
      AppendOptions o;
      o.durability = per;
      MustAppend(*store, "C2", ExpectedVersion::Any(), Events(1), o);
    }
    REQUIRE(storage.projections
                ->CommitProjection("p", {{KvOp::Kind::kPut, "k", std::string(DurabilityName(d))}}, 3)
                .ok());
    REQUIRE(store->Flush().ok());
    REQUIRE(store->Close().ok());
    if constexpr (F::kDurable) {
      storage = f.OpenStorage(so);
      store = storage.log.get();
      CHECK(store->HeadPosition() == before + 6);
      CHECK(MustReadAll(*store).size() == before + 6);
      CHECK(**storage.projections->Get("k") == DurabilityName(d));
      CHECK(store->Check()->empty());
      REQUIRE(store->Close().ok());
    }
  }
}

TEST_CASE("durability names") {
  for (Durability d : {Durability::kSync, Durability::kBuffered, Durability::kNone}) {
    CHECK(*ParseDurability(DurabilityName(d)) == d);
  }
  CHECK(DurabilityName(Durability::kSync) == "sync");
  CHECK(ParseDurability("fsync").status().IsInvalidArgument());
}
