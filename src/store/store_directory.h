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

// Takes the store's LOCK file the way RocksDB does (an fcntl write lock),
// for work on the directory while RocksDB is not open on it (repair), or
// beside a read-only open, which takes no lock (caseloop check). The lock is
// released when the returned descriptor is closed. Returns -1 when there is
// no LOCK file and `create` is false. Errors: IOError naming what is wrong —
// locked by another process, a LOCK that is not a regular file, a read-only
// directory or file system, permissions.
// WARNING: closing any descriptor of LOCK in this process releases every
// fcntl lock the process holds on it, RocksDB's included: never call this
// while a read-write RocksDB open of the same directory is live.
Result<int> LockDirectory(const std::string& dir, bool create);

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
