// Regressions of the hostile-user probes (docs/reliability.md, bugs 10-13):
//  * with CURRENT missing, an open that may create a database wrote a new
//    CURRENT and MANIFEST, and RocksDB then deleted every table file: a query
//    emptied a damaged but recoverable database;
//  * a truncated or deleted write-ahead log opened as a shorter, healthy log
//    (acknowledged events gone, Check() clean);
//  * every open left one more empty .log file behind;
//  * a database was created in any directory, also one full of other files.
#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "caseloop/event_store.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Appends `n` single-event appends to stream "s" (command ids "cmd-<i>"),
// synced, and closes the store (kSync: the newest events stay in the WAL).
void Fill(const std::string& dir, int n, bool flush = false) {
  auto store = OpenRocksDbStore(dir);
  REQUIRE(store.ok());
  for (int i = 0; i < n; ++i) {
    AppendOptions ao;
    ao.command_id = "cmd-" + std::to_string(i);
    REQUIRE((*store)->Append("s", ExpectedVersion::Any(), {MakeEvent("E", std::string(200, 'x'))}, ao).ok());
  }
  if (flush) {
    // Forces everything into table files (kNone writes are flushed).
    AppendOptions ao;
    ao.durability = Durability::kNone;
    REQUIRE((*store)->Append("t", ExpectedVersion::Any(), {MakeEvent("E", "y")}, ao).ok());
    REQUIRE((*store)->Flush().ok());
  }
  REQUIRE((*store)->Close().ok());
}

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::vector<std::string> WithSuffix(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& name : Files(dir)) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
      out.push_back(dir + "/" + name);
  }
  return out;
}

std::uint64_t Head(const std::string& dir) {
  StoreOptions ro;
  ro.read_only = true;
  auto store = OpenRocksDbStore(dir, ro);
  REQUIRE(store.ok());
  return (*store)->HeadPosition();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("open: CURRENT missing is Corruption, changes nothing, and repair brings every event back") {
  TempDir dir("no-current");
  Fill(dir.path(), 50, /*flush=*/true);
  fs::remove(dir.path() + "/CURRENT");
  const auto before = Files(dir.path());
  REQUIRE_FALSE(WithSuffix(dir.path(), ".sst").empty());

  // Every kind of open: create allowed (the old bug), not allowed, read-only.
  for (int mode = 0; mode < 3; ++mode) {
    CAPTURE(mode);
    StoreOptions o;
    o.create_if_missing = mode == 0;
    o.read_only = mode == 2;
    auto store = OpenRocksDbStore(dir.path(), o);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsCorruption());
    CHECK(Contains(store.status().message(), "CURRENT file is missing"));
    CHECK(Contains(store.status().message(), "MANIFEST-"));
    CHECK(Contains(store.status().message(), "caseloop repair"));
    auto after = Files(dir.path());
    after.erase("LOG");  // the info log of the attempt
    after.erase("LOG.old");
    auto expected = before;
    expected.erase("LOG");
    expected.erase("LOG.old");
    CHECK(after == expected);
  }

  auto repaired = RepairRocksDbStore(dir.path());
  REQUIRE(repaired.ok());
  REQUIRE(repaired->size() == 1);
  CHECK(Contains(repaired->front(), "wrote CURRENT naming MANIFEST-"));
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->HeadPosition() == 51);
  auto events = (*store)->ReadStream("s");
  REQUIRE(events.ok());
  CHECK(events->size() == 50);
  auto problems = (*store)->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
}

TEST_CASE("repair: with CURRENT and the manifest gone, RocksDB's RepairDB rebuilds it from the tables") {
  TempDir dir("no-manifest");
  Fill(dir.path(), 40, /*flush=*/true);
  fs::remove(dir.path() + "/CURRENT");
  for (const auto& m : Files(dir.path())) {
    if (m.rfind("MANIFEST-", 0) == 0) fs::remove(dir.path() + "/" + m);
  }
  auto refused = OpenRocksDbStore(dir.path());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().IsCorruption());
  CHECK(Contains(refused.status().message(), "rebuild its manifest"));

  auto repaired = RepairRocksDbStore(dir.path());
  REQUIRE_MESSAGE(repaired.ok(), repaired.status().ToString());
  REQUIRE_FALSE(repaired->empty());
  CHECK(Contains(repaired->front(), "RepairDB"));
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->HeadPosition() == 41);
  auto events = (*store)->ReadStream("s");
  REQUIRE(events.ok());
  CHECK(events->size() == 40);
}

TEST_CASE("open: a new database only in a missing or empty directory") {
  TempDir dir("create");
  SUBCASE("no create: a missing directory is not made") {
    StoreOptions o;
    o.create_if_missing = false;
    auto store = OpenRocksDbStore(dir.path(), o);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsIOError());
    CHECK(Contains(store.status().message(), "no database at"));
    CHECK_FALSE(fs::exists(dir.path()));
  }
  SUBCASE("no create: an empty directory stays empty") {
    fs::create_directories(dir.path());
    StoreOptions o;
    o.create_if_missing = false;
    auto store = OpenRocksDbStore(dir.path(), o);
    REQUIRE_FALSE(store.ok());
    CHECK(Contains(store.status().message(), "no database at"));
    CHECK(Files(dir.path()).empty());
  }
  SUBCASE("a directory of other files is refused, and not written") {
    fs::create_directories(dir.path());
    std::ofstream(dir.path() + "/notes.txt") << "mine";
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsInvalidArgument());
    CHECK(Contains(store.status().message(), "notes.txt"));
    CHECK(Files(dir.path()) == std::set<std::string>{"notes.txt"});
  }
  SUBCASE("an empty directory, or one left by an interrupted creation (LOCK, LOG), is created") {
    fs::create_directories(dir.path());
    std::ofstream(dir.path() + "/LOCK");
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE(store.ok());
    CHECK((*store)->Append("s", ExpectedVersion::NoStream(), {MakeEvent("E", "x")}).ok());
  }
  SUBCASE("a file is not a directory") {
    fs::create_directories(fs::path(dir.path()).parent_path());
    std::ofstream(dir.path()) << "x";
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(store.ok());
    CHECK(Contains(store.status().message(), "is not a directory"));
    fs::remove(dir.path());
  }
}

TEST_CASE(
    "open: a truncated write-ahead log is reported as lost acknowledged events, not opened as shorter") {
  TempDir dir("wal-truncated");
  Fill(dir.path(), 200);
  auto wals = WithSuffix(dir.path(), ".log");
  REQUIRE(wals.size() == 1);
  const auto size = fs::file_size(wals[0]);
  REQUIRE(size > 10000);
  fs::resize_file(wals[0], size / 2);

  auto store = OpenRocksDbStore(dir.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().IsCorruption());
  CHECK(Contains(store.status().message(), "acknowledged events are missing"));
  CHECK(Contains(store.status().message(), "position 200 was acknowledged"));
  CHECK(Contains(store.status().message(), "--accept-loss"));

  // Read-only (caseloop check, dumps): refused the same way; nothing reads
  // the shorter log as if it were whole.
  {
    StoreOptions ro;
    ro.read_only = true;
    auto reader = OpenRocksDbStore(dir.path(), ro);
    REQUIRE_FALSE(reader.ok());
    CHECK(reader.status().IsCorruption());
    CHECK(Contains(reader.status().message(), "acknowledged events are missing"));
  }

  // Repair without accepting changes nothing.
  auto refused = RepairRocksDbStore(dir.path());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().IsCorruption());

  RepairOptions accept;
  accept.accept_loss = true;
  auto repaired = RepairRocksDbStore(dir.path(), accept);
  REQUIRE(repaired.ok());
  REQUIRE_FALSE(repaired->empty());
  CHECK(Contains(repaired->front(), "accepted the loss of"));
  const std::uint64_t head = Head(dir.path());
  CHECK(head < 200);

  // The store opens, checks clean, continues at head + 1, and a command id
  // of a lost append is free again (its append is gone).
  auto reopened = OpenRocksDbStore(dir.path());
  REQUIRE(reopened.ok());
  auto problems = (*reopened)->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
  AppendOptions ao;
  ao.command_id = "cmd-199";
  auto r = (*reopened)->Append("s", ExpectedVersion::Any(), {MakeEvent("E", "again")}, ao);
  REQUIRE(r.ok());
  CHECK_FALSE(r->duplicate);
  CHECK(r->first_position == head + 1);
}

TEST_CASE("open: a deleted write-ahead log, or a deleted marker, is reported") {
  TempDir dir("wal-deleted");
  Fill(dir.path(), 30);
  SUBCASE("the log") {
    for (const auto& w : WithSuffix(dir.path(), ".log")) fs::remove(w);
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(store.ok());
    CHECK(Contains(store.status().message(), "30 acknowledged events are missing"));
  }
  SUBCASE("the marker") {
    fs::remove(dir.path() + "/ACKNOWLEDGED");
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(store.ok());
    CHECK(Contains(store.status().message(), "ACKNOWLEDGED is missing"));
    RepairOptions accept;
    accept.accept_loss = true;
    REQUIRE(RepairRocksDbStore(dir.path(), accept).ok());
    auto reopened = OpenRocksDbStore(dir.path());
    REQUIRE(reopened.ok());
    CHECK((*reopened)->HeadPosition() == 30);
  }
  SUBCASE("a damaged marker") {
    std::ofstream(dir.path() + "/ACKNOWLEDGED", std::ios::binary | std::ios::trunc) << std::string(64, 'z');
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE_FALSE(store.ok());
    CHECK(Contains(store.status().message(), "ACKNOWLEDGED is damaged"));
  }
}

TEST_CASE("open: a healthy store never reports a loss: kNone writes count once flushed") {
  TempDir dir("marker-none");
  {
    StoreOptions o;
    o.durability = Durability::kNone;
    auto store = OpenRocksDbStore(dir.path(), o);
    REQUIRE(store.ok());
    for (int i = 0; i < 100; ++i)
      REQUIRE((*store)->Append("s", ExpectedVersion::Any(), {MakeEvent("E", "x")}).ok());
    REQUIRE((*store)->Flush().ok());
    for (int i = 0; i < 10; ++i)
      REQUIRE((*store)
                  ->Append("s", ExpectedVersion::Any(), {MakeEvent("E", "x")}, {"", Durability::kBuffered})
                  .ok());
    REQUIRE((*store)->Close().ok());
  }
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->HeadPosition() == 110);
  auto problems = (*store)->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
}

TEST_CASE("open: reopening does not leave an empty write-ahead log behind each time") {
  TempDir dir("wal-count");
  Fill(dir.path(), 5);
  for (int i = 0; i < 20; ++i) {
    auto store = OpenRocksDbStore(dir.path());
    REQUIRE(store.ok());
    REQUIRE((*store)->Close().ok());
  }
  CHECK(WithSuffix(dir.path(), ".log").size() <= 2);
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->HeadPosition() == 5);
}

TEST_CASE("open: a RocksDB database that is not caseloop's is refused, untouched") {
  TempDir dir("foreign");
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"theirs", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(o), dir.path(), cfs, &handles, &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], "k", "v").ok());
    for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().IsInvalidArgument());
  CHECK(Contains(store.status().message(), "not caseloop's"));
  CHECK(Contains(store.status().message(), "theirs"));
  std::vector<std::string> families;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir.path(), &families).ok());
  CHECK(families.size() == 2);
}
