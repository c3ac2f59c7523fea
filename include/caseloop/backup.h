// caseloop/backup.h — online backups of the embedded RocksDB store, and
// restores (docs/operations.md).
//
// A backup is taken with RocksDB's BackupEngine while the store is in use:
// when an engine in this process has the store open, the backup is taken
// through that open database (appends go on while it runs); otherwise the
// store is opened for the backup and closed again. The backup directory
// holds any number of backups; table files are shared between them, so each
// backup after the first copies only what changed (incremental). Every file
// is copied with a checksum that a restore verifies first: a damaged backup
// is refused, never restored.
//
// What a backup holds: the whole database — the event log, the stream and
// command-id indexes, the configuration (a stream of the log) and the
// projections' state with their checkpoints — as of one point of the log,
// and a copy of the API keys file of `caseloop serve` (DIR.keys, or the
// file named) when there is one. Not in it: the ACKNOWLEDGED marker (a
// restore writes a new one, at the restored log's end) and RocksDB's LOG.
//
// A PostgreSQL store (a postgresql:// path) is refused: back it up with
// PostgreSQL's tools (pg_dump, pg_basebackup).
//
// Thread-safety: the functions may be called from any thread, also while an
// engine in this process appends to the store being backed up. Two backups
// into one backup directory at the same time are kept apart by a lock file
// there (caseloop-backup.lock): the second is refused (IOError).
#ifndef CASELOOP_BACKUP_H_
#define CASELOOP_BACKUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caseloop/status.h"

namespace caseloop {

struct BackupOptions {
  // The API keys file to copy with the backup. Empty: `DB.keys` next to the
  // database directory (the default of `caseloop serve`), when it exists.
  std::string keys_file;
  // After the backup, keep only the newest `keep` backups (0: keep all).
  std::uint32_t keep = 0;
};

struct BackupInfo {
  std::uint32_t id = 0;             // RocksDB's backup id: 1, 2, 3 ...
  std::int64_t created_unix_s = 0;  // when it was taken (seconds since the epoch, UTC)
  std::uint64_t bytes = 0;          // the size of the database it holds
  std::uint32_t files = 0;          // its files (shared ones included)
  // The log head when the backup began: the backup holds at least the log
  // up to here (appends acknowledged during the backup may be in it too; a
  // restore says exactly where its log ends).
  std::uint64_t head_at_start = 0;
  bool has_keys = false;  // an API keys file was copied with it
  std::string source;     // the database directory it was taken from
};

// Takes a new backup of the RocksDB store in directory `db` into `backup_dir`
// (created when missing). Errors: InvalidArgument (a PostgreSQL URI, :memory:,
// a backup directory inside the database, or a database as backup
// directory), IOError (e.g. the store is locked by another process: take
// the backup in that process, or stop it), Corruption (the store refuses to
// open, e.g. acknowledged events are missing).
Result<BackupInfo> BackupDatabase(const std::string& db, const std::string& backup_dir,
                                  const BackupOptions& options = {});

// The backups in `backup_dir`, oldest first. Errors: NotFound (no backups
// there), IOError, Corruption.
Result<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);

struct RestoreOptions {
  // Which backup; empty: the newest.
  std::optional<std::uint32_t> backup_id;
  // Where to write the API keys file of the backup, if it has one. Empty:
  // `DB.keys` next to the restored database directory.
  std::string keys_file;
};

struct RestoreResult {
  std::uint32_t backup_id = 0;
  std::uint64_t head = 0;  // the position of the last event of the restored log
  std::string keys_file;   // where the keys were written ("" when the backup has none)
};

// Restores a backup of `backup_dir` into the new directory `db`, which must
// not exist or be empty (a restore never writes over a database). The
// backup is verified (every file's size and checksum) before anything is
// written; the restored store is then opened and checked (caseloop check).
// On any failure nothing is left in `db`. Errors: InvalidArgument (`db`
// holds something, a PostgreSQL URI, the keys file exists already),
// NotFound (no backups, no such backup id), Corruption (a damaged backup;
// the message names the file and how to go on), IOError.
Result<RestoreResult> RestoreDatabase(const std::string& backup_dir, const std::string& db,
                                      const RestoreOptions& options = {});

// Verifies the backups of `backup_dir` (every file's size and checksum): one
// line per damaged backup, empty when all are sound. Errors: NotFound (no
// backups), IOError.
Result<std::vector<std::string>> VerifyBackups(const std::string& backup_dir);

}  // namespace caseloop

#endif  // CASELOOP_BACKUP_H_
