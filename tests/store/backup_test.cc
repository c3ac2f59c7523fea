// Online backups and restores of the RocksDB store (caseloop/backup.h):
// taken while appends go on, restored as a prefix of the log that opens
// (no "acknowledged events are missing") and passes its check; incremental
// backups; damaged backups refused; the keys file carried along; the paths
// that are refused.
#include "caseloop/backup.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caseloop/event_store.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void AppendN(EventStore& store, const std::string& prefix, int n, Durability d = Durability::kSync) {
  for (int i = 0; i < n; ++i) {
    AppendOptions o;
    o.durability = d;
    o.command_id = prefix + "-" + std::to_string(i);
    auto r =
        store.Append(prefix + std::to_string(i % 7), ExpectedVersion::Any(),
                     {MakeEvent("Ev", prefix + " payload " + std::to_string(i) + std::string(100, 'x'))}, o);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  }
}

std::vector<EventRecord> ReadLog(const std::string& dir) {
  StoreOptions so;
  so.read_only = true;
  auto store = OpenRocksDbStore(dir, so);
  REQUIRE_MESSAGE(store.ok(), store.status().ToString());
  auto all = (*store)->ReadAll(1, SIZE_MAX);
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  REQUIRE((*store)->Close().ok());
  return *all;
}

bool SameRecord(const EventRecord& a, const EventRecord& b) {
  return a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
         a.event_id == b.event_id && a.command_id == b.command_id && a.payload == b.payload &&
         a.recorded_us == b.recorded_us && a.actor == b.actor;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The largest file under `dir`/shared_checksum (a table file of a backup).
std::string LargestSharedFile(const std::string& dir) {
  std::string best;
  std::uintmax_t size = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string p = e.path().string();
    if (p.find("/shared_checksum/") == std::string::npos) continue;
    if (e.file_size() > size) {
      size = e.file_size();
      best = p;
    }
  }
  return best;
}

}  // namespace

TEST_CASE("backup: taken while appends go on; the restore is a prefix of the log and opens") {
  TempDir db("bk-db"), backups("bk-dir"), restored("bk-restored");
  auto opened = OpenRocksDbStore(db.path());
  REQUIRE(opened.ok());
  EventStore& store = **opened;
  AppendN(store, "A", 300);

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    int i = 0;
    while (!stop.load()) {
      auto r = store.Append("W" + std::to_string(i % 11), ExpectedVersion::Any(),
                            {MakeEvent("Ev", "w" + std::to_string(i)), MakeEvent("Ev2", "w2")});
      if (!r.ok()) break;
      ++i;
      written.store(i);
    }
  });
  while (written.load() < 20) std::this_thread::yield();
  const std::uint64_t head_before = store.HeadPosition();
  auto info = BackupDatabase(db.path(), backups.path());  // through the open store
  const int during = written.load();
  stop.store(true);
  writer.join();
  REQUIRE_MESSAGE(info.ok(), info.status().ToString());
  CHECK(info->id == 1);
  CHECK(info->head_at_start >= head_before);
  CHECK(info->bytes > 0);
  CHECK(info->source == db.path());
  CHECK_FALSE(info->has_keys);
  MESSAGE("backup under load: " << during << " appends during it, " << info->bytes << " bytes");
  const std::uint64_t final_head = store.HeadPosition();
  REQUIRE(store.Close().ok());

  auto r = RestoreDatabase(backups.path(), restored.path());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->backup_id == 1);
  CHECK(r->head >= info->head_at_start);
  CHECK(r->head <= final_head);
  CHECK(r->keys_file.empty());

  const auto original = ReadLog(db.path());
  const auto copy = ReadLog(restored.path());  // opens: the marker is there, at the restored end
  REQUIRE(copy.size() == r->head);
  for (std::size_t i = 0; i < copy.size(); ++i) {
    CAPTURE(i);
    REQUIRE(SameRecord(copy[i], original[i]));
  }
  // Read-write too: the restored store takes appends after its end.
  auto again = OpenRocksDbStore(restored.path());
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  auto problems = (*again)->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
  auto next = (*again)->Append("after", ExpectedVersion::NoStream(), {MakeEvent("Ev", "x")});
  REQUIRE(next.ok());
  CHECK(next->first_position == r->head + 1);
  // A command id of the backup is known to the restored store (the dedup index came along).
  AppendOptions dup;
  dup.command_id = "A-5";
  auto d = (*again)->Append("A5", ExpectedVersion::Any(), {MakeEvent("Ev", "again")}, dup);
  REQUIRE(d.ok());
  CHECK(d->duplicate);
  REQUIRE((*again)->Close().ok());
}

TEST_CASE("backup: incremental backups; restore by id; a closed store is opened for the backup") {
  TempDir db("bk-db"), backups("bk-dir"), r1("bk-r1"), r2("bk-r2");
  {
    auto s = OpenRocksDbStore(db.path());
    REQUIRE(s.ok());
    AppendN(**s, "A", 2000);
    REQUIRE((*s)->Close().ok());
  }
  auto first = BackupDatabase(db.path(), backups.path());  // not open: opened and closed
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(first->head_at_start == 2000);
  {
    auto s = OpenRocksDbStore(db.path());
    REQUIRE(s.ok());
    AppendN(**s, "B", 100, Durability::kNone);  // memtable only: the backup flushes first
    auto second = BackupDatabase(db.path(), backups.path());
    REQUIRE_MESSAGE(second.ok(), second.status().ToString());
    CHECK(second->id == 2);
    CHECK(second->head_at_start == 2100);
    REQUIRE((*s)->Close().ok());
  }
  auto list = ListBackups(backups.path());
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == 1);
  CHECK((*list)[1].id == 2);
  // Incremental: the second backup's new table files are far smaller than a
  // second full copy would be.
  std::uintmax_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(backups.path()))
    if (e.is_regular_file()) total += e.file_size();
  CHECK(total < (*list)[0].bytes + (*list)[1].bytes);

  RestoreOptions o;
  o.backup_id = 1;
  auto a = RestoreDatabase(backups.path(), r1.path(), o);
  REQUIRE_MESSAGE(a.ok(), a.status().ToString());
  CHECK(a->head == 2000);
  auto b = RestoreDatabase(backups.path(), r2.path());
  REQUIRE_MESSAGE(b.ok(), b.status().ToString());
  CHECK(b->backup_id == 2);
  CHECK(b->head == 2100);
  CHECK(ReadLog(r2.path()).back().payload.rfind("B payload 99", 0) == 0);

  // keep = 1 drops the older one.
  BackupOptions keep;
  keep.keep = 1;
  auto third = BackupDatabase(db.path(), backups.path(), keep);
  REQUIRE(third.ok());
  auto left = ListBackups(backups.path());
  REQUIRE(left.ok());
  REQUIRE(left->size() == 1);
  CHECK((*left)[0].id == 3);
}

TEST_CASE("backup: a damaged backup is refused with a clear error and nothing is restored") {
  TempDir db("bk-db"), backups("bk-dir"), restored("bk-restored");
  {
    auto s = OpenRocksDbStore(db.path());
    REQUIRE(s.ok());
    AppendN(**s, "A", 500);
    REQUIRE((*s)->Close().ok());
  }
  REQUIRE(BackupDatabase(db.path(), backups.path()).ok());
  auto sound = VerifyBackups(backups.path());
  REQUIRE(sound.ok());
  CHECK(sound->empty());

  const std::string victim = LargestSharedFile(backups.path());
  REQUIRE_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(fs::file_size(victim) / 2));
    f.write(&c, 1);
  }
  auto r = RestoreDatabase(backups.path(), restored.path());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsCorruption());
  INFO(r.status().message());
  CHECK(r.status().message().find("backup 1") != std::string::npos);
  CHECK(r.status().message().find("damaged") != std::string::npos);
  CHECK_FALSE(fs::exists(restored.path()));  // nothing written

  auto damaged = VerifyBackups(backups.path());
  REQUIRE(damaged.ok());
  REQUIRE(damaged->size() == 1);
  CHECK((*damaged)[0].find("backup 1") != std::string::npos);

  // A truncated file too.
  fs::resize_file(victim, fs::file_size(victim) / 2);
  auto t = RestoreDatabase(backups.path(), restored.path());
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().IsCorruption());
}

TEST_CASE("backup: the API keys file goes with the backup and comes back with the restore") {
  TempDir db("bk-db"), backups("bk-dir"), restored("bk-restored");
  {
    auto s = OpenRocksDbStore(db.path());
    REQUIRE(s.ok());
    AppendN(**s, "A", 10);
    REQUIRE((*s)->Close().ok());
  }
  const std::string keys = "k1a2b3c4d5 D1 hash 2025-01-01T00:00:00Z -\n";
  { std::ofstream(db.path() + ".keys") << keys; }
  auto info = BackupDatabase(db.path(), backups.path());
  REQUIRE(info.ok());
  CHECK(info->has_keys);
  { std::ofstream(db.path() + ".keys") << "changed later\n"; }  // the backup keeps its own copy

  auto r = RestoreDatabase(backups.path(), restored.path());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->keys_file == restored.path() + ".keys");
  CHECK(ReadFile(restored.path() + ".keys") == keys);

  // A restore never overwrites a keys file.
  TempDir other("bk-other");
  { std::ofstream(other.path() + ".keys") << "mine\n"; }
  auto refused = RestoreDatabase(backups.path(), other.path());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().IsInvalidArgument());
  CHECK(refused.status().message().find(".keys exists already") != std::string::npos);
  CHECK(ReadFile(other.path() + ".keys") == "mine\n");
  fs::remove(other.path() + ".keys");
  fs::remove(db.path() + ".keys");
  fs::remove(restored.path() + ".keys");
}

TEST_CASE("backup: refused paths") {
  TempDir db("bk-db"), backups("bk-dir");
  {
    auto s = OpenRocksDbStore(db.path());
    REQUIRE(s.ok());
    AppendN(**s, "A", 3);
    REQUIRE((*s)->Close().ok());
  }
  auto pg = BackupDatabase("postgresql://localhost/caseloop", backups.path());
  REQUIRE_FALSE(pg.ok());
  CHECK(pg.status().IsInvalidArgument());
  CHECK(pg.status().message().find("pg_dump") != std::string::npos);
  CHECK(pg.status().message().find("pg_basebackup") != std::string::npos);
  auto pgr = RestoreDatabase(backups.path(), "postgres://x/y");
  REQUIRE_FALSE(pgr.ok());
  CHECK(pgr.status().message().find("pg_dump") != std::string::npos);

  auto inside = BackupDatabase(db.path(), db.path() + "/backups");
  REQUIRE_FALSE(inside.ok());
  CHECK(inside.status().message().find("overlap") != std::string::npos);

  auto none = BackupDatabase(db.path() + "-missing", backups.path());
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("no database") != std::string::npos);

  auto nothing = RestoreDatabase(backups.path(), db.path() + "-r");
  REQUIRE_FALSE(nothing.ok());
  CHECK(nothing.status().IsNotFound());
  CHECK(nothing.status().message().find("no backups at") != std::string::npos);

  REQUIRE(BackupDatabase(db.path(), backups.path()).ok());
  auto over = RestoreDatabase(backups.path(), db.path());  // never over a database
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().IsInvalidArgument());
  CHECK(over.status().message().find("not empty") != std::string::npos);
  RestoreOptions o;
  o.backup_id = 7;
  auto missing = RestoreDatabase(backups.path(), db.path() + "-r", o);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().IsNotFound());
  CHECK(missing.status().message().find("no backup 7") != std::string::npos);
  CHECK(ReadLog(db.path()).size() == 3);  // untouched
}
