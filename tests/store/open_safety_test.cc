// Regressions of the hostile-user probes (docs/reliability.md, bugs 10-13):
//  * with CURRENT missing, an open that may create a database wrote a new
//    CURRENT and MANIFEST, and RocksDB then deleted every table file: a query
//    emptied a damaged but recoverable database;
//  * a truncated or deleted write-ahead log opened as a shorter, healthy log
//    (acknowledged events gone, Check() clean);
//  * every open left one more empty .log file behind;
//  * a database was created in any directory, also one full of other files;
//  * a read-only directory or mount and a LOCK that is a directory were
//    reported as "locked by another process" (the tests at the end).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <rocksdb/db.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

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

// ---- What is wrong with a directory that cannot be locked or written ------
// Regressions (docs/reliability.md, "store and engine"): a read-only
// directory, a read-only mount and a LOCK that is a directory were all
// reported as "locked by another process", and nothing could be read from
// read-only media.

namespace {

constexpr int kChildOk = 42;
constexpr int kChildSkip = 77;

// Runs this test binary again as a child, only test case `test_case`, with
// `env` added. `setup` runs in the child between fork and exec (raw system
// calls only: the parent may have threads) and returns 0, or the exit status
// to end the child with. Returns the child's exit status.
int RunChild(const char* test_case, const std::vector<std::string>& env, int (*setup)(const char*),
             const char* setup_arg) {
  std::string filter = std::string("-tc=") + test_case;
  char* argv[] = {const_cast<char*>("store_test"), filter.data(), const_cast<char*>("--no-version"), nullptr};
  std::vector<std::string> all = caseloop::testing::SanitizerEnv();
  all.insert(all.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : all) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    if (setup != nullptr) {
      int code = setup(setup_arg);
      if (code != 0) _exit(code);
    }
    execve("/proc/self/exe", argv, envp.data());
    _exit(99);
  }
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  return WEXITSTATUS(wstatus);
}

// In the child: without the capabilities that let root write anywhere, for
// good (the bounding set survives exec). Non-root needs nothing.
int DropWriteAnywhere(const char*) {
  if (geteuid() != 0) return 0;
  if (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) != 0) return kChildSkip;
  if (prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) != 0) return kChildSkip;
  return 0;
}

// In the child: a private mount namespace in which `dir` + ".ro" is `dir`
// mounted read-only (gone with the child).
int MountReadOnly(const char* dir) {
  static char target[4096];
  std::size_t n = 0;
  while (dir[n] != '\0' && n + 4 < sizeof target) {
    target[n] = dir[n];
    ++n;
  }
  target[n++] = '.';
  target[n++] = 'r';
  target[n++] = 'o';
  target[n] = '\0';
  if (unshare(CLONE_NEWNS) != 0) return kChildSkip;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kChildSkip;
  if (mount(dir, target, nullptr, MS_BIND, nullptr) != 0) return kChildSkip;
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) return kChildSkip;
  return 0;
}

// The child's checks on `dir`, which this process cannot write: a read-write
// open says why (naming the directory and the reason, not a lock), a
// read-only open reads everything, and an Engine query works read-only.
int CheckUnwritable(const std::string& dir, const std::string& reason) {
  auto rw = OpenRocksDbStore(dir);
  if (rw.ok() || !rw.status().IsIOError()) return 1;
  const std::string m = rw.status().message();
  if (m.find(dir) == std::string::npos || m.find(reason) == std::string::npos) return 2;
  if (m.find("locked") != std::string::npos) return 3;
  if (CheckStoreWritable(dir).message() != m) return 4;
  StoreOptions ro;
  ro.read_only = true;
  ro.create_if_missing = false;
  auto store = OpenRocksDbStore(dir, ro);
  if (!store.ok()) return 5;
  if ((*store)->HeadPosition() != 30) return 6;
  auto all = (*store)->ReadAll(1, SIZE_MAX);
  if (!all.ok() || all->size() != 30) return 7;
  auto problems = (*store)->Check();
  if (!problems.ok() || !problems->empty()) return 8;
  if (!(*store)->Close().ok()) return 9;
  return kChildOk;
}

}  // namespace

TEST_CASE("open: a LOCK that is a directory is named as such, not as a lock held elsewhere") {
  TempDir dir("lock-dir");
  Fill(dir.path(), 3);
  fs::remove(dir.path() + "/LOCK");
  fs::create_directory(dir.path() + "/LOCK");
  for (bool read_only : {false, true}) {
    CAPTURE(read_only);
    StoreOptions o;
    o.read_only = read_only;
    auto store = OpenRocksDbStore(dir.path(), o);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().IsIOError());
    CHECK_MESSAGE(Contains(store.status().message(), dir.path() + "/LOCK is a directory"),
                  store.status().message());
    CHECK_FALSE(Contains(store.status().message(), "locked by another process"));
  }
  fs::remove(dir.path() + "/LOCK");
  auto store = OpenRocksDbStore(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->HeadPosition() == 3);
}

TEST_CASE("open: read-only opens share the directory; a writer and a reader exclude each other") {
  TempDir dir("shared");
  Fill(dir.path(), 2);
  StoreOptions ro;
  ro.read_only = true;
  {
    auto writer = OpenRocksDbStore(dir.path());
    REQUIRE(writer.ok());
    auto reader = OpenRocksDbStore(dir.path(), ro);
    REQUIRE_FALSE(reader.ok());
    CHECK(Contains(reader.status().message(), "database " + dir.path() + " is locked by another process"));
    // Another process, read-only, is refused too.
    CHECK(RunChild("open: lock child", {"CASELOOP_LOCK_CHILD_DIR=" + dir.path(), "CASELOOP_LOCK_CHILD_RO=1"},
                   nullptr, nullptr) == kChildOk);
  }
  auto r1 = OpenRocksDbStore(dir.path(), ro);
  REQUIRE(r1.ok());
  auto r2 = OpenRocksDbStore(dir.path(), ro);
  REQUIRE(r2.ok());
  CHECK((*r2)->HeadPosition() == 2);
  auto writer = OpenRocksDbStore(dir.path());
  REQUIRE_FALSE(writer.ok());
  CHECK(Contains(writer.status().message(), "database " + dir.path() + " is locked by another process"));
  // Another process, read-write, is refused while the readers hold the lock.
  CHECK(RunChild("open: lock child", {"CASELOOP_LOCK_CHILD_DIR=" + dir.path()}, nullptr, nullptr) ==
        kChildOk);
  REQUIRE((*r1)->Close().ok());
  CHECK_FALSE(OpenRocksDbStore(dir.path()).ok());  // r2 still holds it
  REQUIRE((*r2)->Close().ok());
  auto again = OpenRocksDbStore(dir.path());
  REQUIRE(again.ok());
  CHECK((*again)->HeadPosition() == 2);
}

// Runs only as the child of the test above: the open must be refused as locked.
TEST_CASE("open: lock child") {
  const char* dir = std::getenv("CASELOOP_LOCK_CHILD_DIR");
  if (dir == nullptr) return;
  StoreOptions o;
  o.read_only = std::getenv("CASELOOP_LOCK_CHILD_RO") != nullptr;
  auto r = OpenRocksDbStore(dir, o);
  const bool expected = r.status().IsIOError() &&
                        r.status().message().find("is locked by another process") != std::string::npos;
  std::_Exit(expected ? kChildOk : 1);
}

TEST_CASE("open: a directory this process may not write opens read-only; read-write says why") {
  TempDir dir("no-write");
  Fill(dir.path(), 30);
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                  fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const int code = RunChild("open: unwritable child", {"CASELOOP_UNWRITABLE_DIR=" + dir.path()},
                            DropWriteAnywhere, nullptr);
  fs::permissions(dir.path(), fs::perms::owner_all, fs::perm_options::add);
  if (code == kChildSkip) {
    MESSAGE("skipped: cannot drop root's capabilities here");
    return;
  }
  CHECK_MESSAGE(code == kChildOk, "child check failed at step " << code);
}

TEST_CASE("open: unwritable child") {
  const char* dir = std::getenv("CASELOOP_UNWRITABLE_DIR");
  if (dir == nullptr) return;
  std::_Exit(CheckUnwritable(dir, "cannot be written by this process (permission denied)"));
}

TEST_CASE("open: a database on a read-only mount opens read-only; read-write says why") {
  TempDir dir("ro-mount");
  Fill(dir.path(), 30);
  fs::create_directory(dir.path() + ".ro");
  const int code = RunChild("open: read-only mount child", {"CASELOOP_RO_MOUNT_DIR=" + dir.path() + ".ro"},
                            MountReadOnly, dir.path().c_str());
  fs::remove(dir.path() + ".ro");
  if (code == kChildSkip) {
    MESSAGE("skipped: mount refused (needs root in a mount namespace)");
    return;
  }
  CHECK_MESSAGE(code == kChildOk, "child check failed at step " << code);
}

TEST_CASE("open: read-only mount child") {
  const char* dir = std::getenv("CASELOOP_RO_MOUNT_DIR");
  if (dir == nullptr) return;
  std::_Exit(CheckUnwritable(dir, "is on a read-only file system"));
}

TEST_CASE("paths in messages: a PostgreSQL URI's password never appears, a directory is kept as it is") {
  CHECK(IsDatabaseUri("postgresql://app:pw@db/cases"));
  CHECK(IsDatabaseUri("postgres://db/cases"));
  CHECK_FALSE(IsDatabaseUri("/var/lib/caseloop/postgresql://x"));
  CHECK_FALSE(IsDatabaseUri("cases"));
  CHECK(PathForMessages("postgresql://app:s3cret@db.example:5432/cases?sslmode=require") ==
        "postgresql://app:***@db.example:5432/cases?sslmode=require");
  CHECK(PathForMessages("postgres://app:p@ss@db/cases") == "postgres://app:***@db/cases");
  CHECK(PathForMessages("postgresql://app@db/cases") == "postgresql://app@db/cases");
  CHECK(PathForMessages("postgresql:///cases?host=/run/postgresql") ==
        "postgresql:///cases?host=/run/postgresql");
  CHECK(PathForMessages("postgresql://db/cases?user=app&password=s3cret&sslmode=require") ==
        "postgresql://db/cases?user=app&password=***&sslmode=require");
  CHECK(PathForMessages("postgresql://db/cases?password=s3cret") == "postgresql://db/cases?password=***");
  CHECK(PathForMessages("/data/a:b@c") == "/data/a:b@c");
  CHECK(DefaultKeysFile("/var/lib/cases/") == "/var/lib/cases.keys");
  CHECK(DefaultKeysFile("cases") == "cases.keys");
  CHECK(DefaultKeysFile(":memory:").empty());
  CHECK(DefaultKeysFile("postgresql://app:pw@db/cases").empty());
}
