// src/store/store_directory.h — the RocksDB store's directory before RocksDB
// touches it, and the acknowledged-position marker kept apart from the WAL.
//
// Two ways a whole database used to be lost (docs/reliability.md, bugs 10 and
// 12):
//  * RocksDB, asked to create a database where CURRENT is missing, writes a
//    new CURRENT and MANIFEST and then deletes every table file it does not
//    know: a query on a damaged but recoverable database emptied it.
//    CheckDirectory refuses to initialise a database anywhere but in a new or
//    empty directory, and says what it found and how to recover.
//  * A truncated or deleted write-ahead log opened as a shorter, healthy log.
//    AckMarker keeps the highest acknowledged position in its own small file,
//    so that open and Check can tell that acknowledged events are missing.
#ifndef CASELOOP_STORE_STORE_DIRECTORY_H_
#define CASELOOP_STORE_STORE_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "caseloop/status.h"

namespace caseloop::store_internal {

// The marker's file name in the store directory. Part of the on-disk format.
inline constexpr char kAckMarkerFile[] = "ACKNOWLEDGED";

// What CheckDirectory found.
enum class DirectoryKind {
  kMissing,   // no such directory (created when allowed)
  kEmpty,     // nothing but files RocksDB leaves before a database exists (LOCK, LOG)
  kDatabase,  // CURRENT is there: an existing database (RocksDB checks the rest)
};

// Decides whether `dir` may be opened, before RocksDB runs:
//  * a directory with CURRENT is an existing database: kDatabase;
//  * a missing or empty directory is a new database: kMissing / kEmpty when
//    `create`, else IOError "no database at DIR ...";
//  * CURRENT missing beside the files of a database (MANIFEST, tables, logs,
//    OPTIONS, IDENTITY, the marker): Corruption naming what is there, that a
//    new database is not created over it, and how to recover;
//  * anything else in it: InvalidArgument (a new database only goes into a
//    new or empty directory);
//  * `dir` is not a directory, or cannot be read: IOError saying so.
Result<DirectoryKind> CheckDirectory(const std::string& dir, bool create);

// Why this process cannot write in the existing directory `dir`, or OK when
// it can (or `dir` does not exist: the open says what is missing). IOError
// naming the directory: "... is on a read-only file system" (EROFS), "...
// cannot be written by this process (permission denied)" (EACCES).
Status CheckWritable(const std::string& dir);

// This process's hold on a store directory's LOCK file, RocksDB's fcntl lock
// (a write lock held by a read-write open, in any process).
//  * kShared (a read-only open): a shared fcntl lock (F_RDLCK) on LOCK,
//    opened read-only, so it works on read-only media. Read-only opens run
//    side by side; a read-write open (in any process) is refused while one
//    is held, and a read-only open while a read-write one is. A directory
//    without LOCK (never opened read-write) is not locked.
//  * kExclusive (repair, while RocksDB is not open on it): an exclusive fcntl
//    lock (F_WRLCK) on LOCK, created when missing.
//  * kRocksDb (a read-write open): RocksDB takes the exclusive lock itself;
//    this only records that this process holds the directory.
// fcntl locks belong to the process, and closing ANY descriptor of LOCK
// releases all of them, RocksDB's included. So this process never opens
// LOCK while it holds the directory in any mode: a process-wide registry
// (keyed by the directory's device and inode) refuses a second hold in this
// process, except that kShared holds share one descriptor.
// Errors: IOError naming what is wrong — "database DIR is locked by another
// process (...)", LOCK not a regular file (e.g. a directory), a read-only
// file system or permissions for kExclusive, a LOCK that cannot be opened.
class DirectoryLock {
 public:
  enum class Mode { kShared, kExclusive, kRocksDb };

  DirectoryLock() = default;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&& other) noexcept;
  ~DirectoryLock() { Release(); }

  // REQUIRES: `dir` exists.
  static Result<DirectoryLock> Acquire(const std::string& dir, Mode mode);
  // Gives the hold up (kShared: the last holder of this process closes the
  // descriptor). For kRocksDb: call after RocksDB closed the database.
  void Release();
  bool held() const { return held_; }

 private:
  bool held_ = false;
  std::uint64_t device_ = 0;
  std::uint64_t inode_ = 0;
};

// Classifies RocksDB's failure to open `dir` as a Status naming what is
// wrong with its LOCK file: "database DIR is locked by another process (...)"
// when RocksDB could not take the lock, "cannot open DIR/LOCK: <reason>" when
// it could not open the file; nullopt when the failure is not about LOCK.
std::optional<Status> LockFailure(const std::string& dir, const std::string& rocksdb_message);

// The highest log position acknowledged at "survives kill -9" level or
// stronger, recorded outside RocksDB's write-ahead log: two 32-byte slots
// written alternately with pwrite (no fsync of their own), each with a
// sequence number and a CRC32C; the valid slot with the higher sequence wins.
// A record is written only after the log write it covers returned (after its
// fsync, for kSync), so the marker never runs ahead of what RocksDB can
// recover — after a power loss it may lag behind, never the other way — and
// a log that ends before the marker has lost acknowledged events.
//
// Thread-safety: Record is called by one thread at a time (the store's group
// leader); the rest before or after writes.
class AckMarker {
 public:
  AckMarker() = default;
  AckMarker(const AckMarker&) = delete;
  AckMarker& operator=(const AckMarker&) = delete;
  AckMarker(AckMarker&& other) noexcept;
  AckMarker& operator=(AckMarker&& other) noexcept;
  ~AckMarker();

  // Reads DIR/ACKNOWLEDGED. `writable` opens it for Record (creating it when
  // missing). Errors: IOError when it cannot be opened or read.
  static Result<AckMarker> Open(const std::string& dir, bool writable);

  // The recorded position: nullopt when the file was missing (a store made
  // before the marker, or the file was deleted) or holds no valid slot.
  std::optional<std::uint64_t> position() const { return position_; }
  // True when the file existed but neither slot was valid.
  bool damaged() const { return damaged_; }
  const std::string& path() const { return path_; }

  // Records `position` (no fsync). Errors: IOError.
  Status Record(std::uint64_t position);
  // fdatasync of the marker (at Flush and Close).
  Status Sync();

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t sequence_ = 0;
  std::optional<std::uint64_t> position_;
  bool damaged_ = false;
};

// The problem line when the log head is behind the acknowledged position, or
// nullopt when it is not: "N acknowledged events are missing: ..." with the
// recovery.
std::optional<std::string> LostEventsProblem(const std::string& dir, std::uint64_t head,
                                             std::uint64_t acknowledged);

}  // namespace caseloop::store_internal

#endif  // CASELOOP_STORE_STORE_DIRECTORY_H_
