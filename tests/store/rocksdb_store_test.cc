// RocksDB-specific behaviour: corruption on disk, Check, locking, read-only
// opens, bad directories, the format marker.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "caseloop/event_store.h"
#include "store/projection_store.h"
#include "store/store_internal.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;

namespace {

std::unique_ptr<EventStore> MustOpen(const std::string& path, const StoreOptions& o = {}) {
  auto r = OpenRocksDbStore(path, o);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}

void AppendEvents(EventStore& s, const std::string& stream, int n) {
  std::vector<NewEvent> events;
  for (int i = 0; i < n; ++i) events.push_back(MakeEvent("Evt", stream + "#" + std::to_string(i)));
  auto r = s.Append(stream, ExpectedVersion::Any(), std::move(events));
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
}

// Raw access to the column families, bypassing the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &db_);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    for (std::size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }
  std::string Get(const char* cf, const std::string& key) {
    std::string v;
    REQUIRE(db_->Get(rocksdb::ReadOptions(), by_name_.at(cf), key, &v).ok());
    return v;
  }
  void Put(const char* cf, const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(rocksdb::WriteOptions(), by_name_.at(cf), key, value).ok());
  }
  void Delete(const char* cf, const std::string& key) {
    REQUIRE(db_->Delete(rocksdb::WriteOptions(), by_name_.at(cf), key).ok());
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

bool AnyLineHas(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("rocksdb: a flipped byte in a stored record is Corruption naming its position") {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    AppendEvents(*store, "C1", 3);
    AppendEvents(*store, "C2", 1);
    REQUIRE(store->Close().ok());
  }
  {
    RawDb raw(dir.path());
    std::string key = store_internal::PositionKey(2);
    std::string value = raw.Get(store_internal::kLogCf, key);
    value[value.size() / 2] ^= 0x10;
    raw.Put(store_internal::kLogCf, key, value);
  }
  auto store = MustOpen(dir.path());
  auto all = store->ReadAll(1, 10);
  REQUIRE(all.status().IsCorruption());
  CHECK(all.status().message().find("position 2") != std::string::npos);
  auto stream = store->ReadStream("C1", 1);
  REQUIRE(stream.status().IsCorruption());
  CHECK(stream.status().message().find("position 2") != std::string::npos);
  // ScanAll visits the records before it, then fails naming it.
  for (EventStore* s : {store.get()}) {
    std::vector<std::uint64_t> visited;
    Status scan = s->ScanAll(1, 10, [&](const EventRecordView& v) {
      visited.push_back(v.position);
      return true;
    });
    REQUIRE(scan.IsCorruption());
    CHECK(scan.message().find("record at position 2: checksum mismatch") != std::string::npos);
    CHECK(visited == std::vector<std::uint64_t>{1});
    CHECK(s->ScanAll(1, 1, [](const EventRecordView&) { return true; }).ok());
    CHECK(s->ScanAll(1, 10, [](const EventRecordView&) { return false; }).ok());  // stopped before it
    visited.clear();
    CHECK(s->ScanAll(3, 10, [&](const EventRecordView& v) {
             visited.push_back(v.position);
             return true;
           }).ok());
    CHECK(visited == std::vector<std::uint64_t>{3, 4});
  }
  // Records around it still read.
  CHECK(store->ReadAll(3, 10)->size() == 2);
  CHECK(store->ReadStream("C1", 3)->size() == 1);
  CHECK(store->ReadStream("C2", 1)->size() == 1);
  auto problems = store->Check();
  REQUIRE(problems.ok());
  CHECK_MESSAGE(problems->size() == 1, Joined(*problems));
  CHECK(AnyLineHas(*problems, "position 2: checksum mismatch"));
}

TEST_CASE("rocksdb: Check reports gaps, unindexed records and bad index entries") {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    AppendEvents(*store, "C1", 3);  // 1..3
    AppendEvents(*store, "C2", 2);  // 4..5
    AppendEvents(*store, "C3", 1);  // 6
    REQUIRE(store->Check()->empty());
    REQUIRE(store->Close().ok());
  }
  {
    RawDb raw(dir.path());
    raw.Delete(store_internal::kLogCf, store_internal::PositionKey(2));               // a gap
    raw.Delete(store_internal::kStreamsCf, store_internal::StreamIndexKey("C2", 2));  // unindexed record 5
    raw.Put(store_internal::kStreamsCf, store_internal::StreamIndexKey("C3", 1),      // points at C2's record
            store_internal::PositionKey(4));
  }
  auto store = MustOpen(dir.path());
  auto problems = store->Check();
  REQUIRE(problems.ok());
  INFO(Joined(*problems));
  CHECK(AnyLineHas(*problems, "log: position 2 is missing"));
  CHECK(AnyLineHas(*problems, "stream C1 version 2: index points at position 2, which is missing"));
  CHECK(AnyLineHas(*problems, "record at position 5: stream C2 version 2 is not in the stream index"));
  CHECK(AnyLineHas(*problems, "stream C2: version is 2 but the index ends at version 1"));
  CHECK(AnyLineHas(*problems,
                   "stream C3 version 1: index points at position 4, which holds stream C2 version 1"));
  CHECK(
      AnyLineHas(*problems, "record at position 6: the index entry of stream C3 version 1 points elsewhere"));
  CHECK(store->ReadAll(1, 10).status().IsCorruption());
  std::vector<std::uint64_t> visited;
  Status scan = store->ScanAll(1, 10, [&](const EventRecordView& v) {
    visited.push_back(v.position);
    return true;
  });
  CHECK(scan.message() == "store " + dir.path() + ": log position 2 is missing");
  CHECK(visited == std::vector<std::uint64_t>{1});
  auto c3 = store->ReadStream("C3", 1);
  REQUIRE(c3.status().IsCorruption());
  CHECK(c3.status().message().find("position 4") != std::string::npos);
}

TEST_CASE("rocksdb: a second open of the same directory is refused") {
  TempDir dir;
  auto store = MustOpen(dir.path());
  AppendEvents(*store, "C1", 1);
  auto second = OpenRocksDbStore(dir.path());
  REQUIRE(second.status().IsIOError());
  CHECK(second.status().message().find("database " + dir.path() + " is locked by another process") == 0);
  // Another process.
  // Everything the child needs is built before fork: after it, only exec.
  std::string dir_env = "CASELOOP_LOCK_CHILD_DIR=" + dir.path();
  char* argv[] = {const_cast<char*>("store_test"), const_cast<char*>("-tc=rocksdb: lock child"),
                  const_cast<char*>("--no-version"), nullptr};
  std::vector<std::string> env = caseloop::testing::SanitizerEnv();
  env.push_back(dir_env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    execve("/proc/self/exe", argv, envp.data());
    _exit(99);
  }
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 42);  // the child saw the expected IOError
  REQUIRE(store->Close().ok());
  CHECK(OpenRocksDbStore(dir.path()).ok());
}

// Runs only as the child of the test above.
TEST_CASE("rocksdb: lock child") {
  const char* dir = std::getenv("CASELOOP_LOCK_CHILD_DIR");
  if (dir == nullptr) return;
  auto r = OpenRocksDbStore(dir);
  bool expected = r.status().IsIOError() &&
                  r.status().message().find("is locked by another process") != std::string::npos;
  std::_Exit(expected ? 42 : 1);
}

TEST_CASE("rocksdb: read-only open reads and refuses writes") {
  TempDir dir;
  {
    auto storage = OpenRocksDbStorage(dir.path());
    REQUIRE(storage.ok());
    AppendEvents(*storage->log, "C1", 2);
    REQUIRE(storage->projections->CommitProjection("p", {{KvOp::Kind::kPut, "k", "v"}}, 2).ok());
    REQUIRE(storage->log->Close().ok());
  }
  StoreOptions ro;
  ro.read_only = true;
  auto storage = OpenRocksDbStorage(dir.path(), ro);
  REQUIRE(storage.ok());
  EventStore* store = storage->log.get();
  ProjectionStore* projections = storage->projections.get();
  CHECK(store->HeadPosition() == 2);
  CHECK(store->ReadStream("C1", 1)->size() == 2);
  CHECK(**projections->Get("k") == "v");
  CHECK(store->Check()->empty());
  auto w = store->Append("C1", ExpectedVersion::Any(), {MakeEvent("Evt", "x")});
  REQUIRE(w.status().IsIOError());
  CHECK(w.status().message().find("read-only") != std::string::npos);
  CHECK(projections->CommitProjection("p", {}, 3).IsIOError());
  CHECK(projections->ResetProjection("p", "").IsIOError());
  CHECK(store->Flush().ok());
  CHECK(store->Close().ok());

  TempDir missing;
  auto none = OpenRocksDbStore(missing.path(), ro);
  CHECK(none.status().IsIOError());
}

TEST_CASE("rocksdb: unusable directories give a status, not a crash") {
  TempDir dir;
  SUBCASE("nested directories are created") {
    auto r = OpenRocksDbStore(dir.path() + "/a/b/c");
    CHECK(r.ok());
  }
  SUBCASE("a regular file") {
    std::ofstream(dir.path()) << "not a directory";
    auto r = OpenRocksDbStore(dir.path());
    CHECK(r.status().IsIOError());
  }
  SUBCASE("create_if_missing = false") {
    StoreOptions o;
    o.create_if_missing = false;
    auto r = OpenRocksDbStore(dir.path(), o);
    CHECK(r.status().IsIOError());
  }
  SUBCASE("garbage CURRENT and MANIFEST") {
    std::filesystem::create_directories(dir.path());
    std::ofstream(dir.path() + "/CURRENT") << "MANIFEST-000001\n";
    std::ofstream(dir.path() + "/MANIFEST-000001") << "garbage garbage garbage garbage";
    auto r = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(r.ok());
    CHECK((r.status().IsCorruption() || r.status().IsIOError()));
    CHECK(r.status().message().find(dir.path()) != std::string::npos);
  }
  SUBCASE("an empty path") { CHECK(OpenRocksDbStore("").status().IsInvalidArgument()); }
}

TEST_CASE("rocksdb: options outside their documented bounds are refused") {
  TempDir dir;
  StoreOptions o;
  o.max_group_writers = 0;
  auto zero = OpenRocksDbStore(dir.path(), o);
  CHECK(zero.status().IsInvalidArgument());
  CHECK(zero.status().message() == "StoreOptions.max_group_writers must be at least 1, got 0");
  o = StoreOptions();
  o.group_commit_window = std::chrono::microseconds(-5);
  CHECK(OpenRocksDbStorage(dir.path(), o).status().IsInvalidArgument());
  CHECK_FALSE(std::filesystem::exists(dir.path()));  // refused before anything is created
}

TEST_CASE("rocksdb: an unknown store format version is refused") {
  TempDir dir;
  {
    auto store = MustOpen(dir.path());
    AppendEvents(*store, "C1", 1);
    REQUIRE(store->Close().ok());
  }
  {
    RawDb raw(dir.path());
    CHECK(raw.Get(store_internal::kMetaCf, store_internal::kFormatKey) == "1");
    raw.Put(store_internal::kMetaCf, store_internal::kFormatKey, "99");
  }
  auto r = OpenRocksDbStore(dir.path());
  REQUIRE(r.status().IsCorruption());
  CHECK(r.status().message().find("format version \"99\"") != std::string::npos);
}

TEST_CASE("rocksdb: buffered and unlogged appends are synced by Flush") {
  TempDir dir;
  StoreOptions o;
  o.durability = Durability::kBuffered;
  auto store = MustOpen(dir.path(), o);
  AppendEvents(*store, "C1", 1);
  CHECK(store->SyncCount() == 0);
  REQUIRE(store->Flush().ok());
  CHECK(store->SyncCount() == 1);
  REQUIRE(store->Flush().ok());  // nothing left to sync
  CHECK(store->SyncCount() == 1);
  AppendOptions sync;
  sync.durability = Durability::kSync;
  REQUIRE(store->Append("C1", ExpectedVersion::Exactly(1), {MakeEvent("Evt", "s")}, sync).ok());
  CHECK(store->SyncCount() == 2);
}

TEST_CASE("rocksdb: one group checks versions and command ids across its writers") {
  TempDir dir;
  auto store = MustOpen(dir.path());
  std::vector<std::size_t> groups;
  std::atomic<int> waiting{0};
  std::atomic<bool> blocking{false};
  // The first leader (the blocker) waits until the others are queued, so the
  // next leader takes all of them in one group.
  store_internal::LeaderHookForTesting() = [&](std::size_t n) {
    groups.push_back(n);
    if (groups.size() == 1) {
      blocking = true;
      while (waiting.load() < 5) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
    }
  };
  std::thread blocker([&] { AppendEvents(*store, "B", 1); });
  while (!blocking) std::this_thread::yield();

  std::vector<Result<AppendResult>> results(5, Status::IOError("not run"));
  std::vector<std::thread> threads;
  auto run = [&](int i, std::string stream, ExpectedVersion ev, std::string cmd) {
    threads.emplace_back([&, i, stream, ev, cmd] {
      AppendOptions o;
      o.command_id = cmd;
      ++waiting;
      results[i] = store->Append(stream, ev, {MakeEvent("Evt", "r" + std::to_string(i))}, o);
    });
  };
  run(0, "G", ExpectedVersion::NoStream(), "");
  // Queue order is not fixed; each writer's outcome is checked by kind below.
  run(1, "G", ExpectedVersion::Any(), "cmd-x");
  run(2, "G", ExpectedVersion::Any(), "cmd-x");
  run(3, "H", ExpectedVersion::Any(), "cmd-x");
  run(4, "H", ExpectedVersion::Any(), "");
  for (auto& t : threads) t.join();
  blocker.join();
  store_internal::LeaderHookForTesting() = nullptr;

  REQUIRE(groups.size() >= 2);
  CHECK(groups[0] == 1);
  CHECK(groups[1] == 5);  // everything queued behind the blocker went in one group
  CHECK(store->SyncCount() == 2);
  for (auto& r : results) REQUIRE_MESSAGE((r.ok() || r.status().IsConflict()), r.status().ToString());
  // The NoStream append conflicts only if a cmd-x append to G came first.
  // Exactly one of the three cmd-x appends is the original, one of the other
  // two is its duplicate (same stream) or a Conflict (other stream).
  int originals = 0, duplicates = 0, reused = 0;
  for (int i = 1; i <= 3; ++i) {
    if (!results[i].ok()) {
      CHECK(results[i].status().message().find("cmd-x") != std::string::npos);
      ++reused;
    } else if (results[i]->duplicate) {
      ++duplicates;
    } else {
      ++originals;
    }
  }
  CHECK(originals == 1);
  CHECK(duplicates + reused == 2);
  CHECK(results[4].ok());
  if (!results[0].ok()) {
    CHECK(results[0].status().message() == "stream G: expected no stream, actual version 1");
  }
  std::size_t written = 1;  // the blocker
  for (auto& r : results) written += r.ok() && !r->duplicate ? 1 : 0;
  auto all = store->ReadAll(1, 100);
  REQUIRE(all.ok());
  CHECK(all->size() == written);
  CHECK(all->size() == store->HeadPosition());
  CHECK(store->Check()->empty());
}

TEST_CASE("rocksdb: a long ScanAll (read ahead, block cache not filled) reads what ReadAll reads") {
  TempDir dir;
  StoreOptions o;
  o.durability = Durability::kNone;
  auto store = MustOpen(dir.path(), o);
  constexpr int kEvents = 20000;  // more than a long scan's threshold
  for (int a = 0; a < kEvents / 500; ++a) AppendEvents(*store, "C" + std::to_string(a % 9), 500);
  REQUIRE(store->Flush().ok());    // into table files, where readahead applies
  AppendEvents(*store, "C1", 10);  // and a few in the memtable
  const std::uint64_t head = store->HeadPosition();
  REQUIRE(head == kEvents + 10);
  for (std::uint64_t from : {std::uint64_t{1}, std::uint64_t{3000}}) {
    auto all = store->ReadAll(from, SIZE_MAX);
    REQUIRE(all.ok());
    std::size_t i = 0;
    Status st = store->ScanAll(from, SIZE_MAX, [&](const EventRecordView& v) {
      REQUIRE(i < all->size());
      const EventRecord& r = (*all)[i++];
      CHECK(v.position == r.position);
      CHECK(v.stream == r.stream);
      CHECK(v.version == r.version);
      CHECK(v.event_id == r.event_id);
      CHECK(v.payload == r.payload);
      return true;
    });
    REQUIRE_MESSAGE(st.ok(), st.ToString());
    CHECK(i == head - from + 1);
  }
}
