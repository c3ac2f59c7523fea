// Online backups and restores of the RocksDB store (caseloop/backup.h,
// docs/operations.md).
//
// RocksDB's BackupEngine does the copying: it takes the live files of the
// open database (after flushing the memtables: kNone appends have no
// write-ahead log) with file deletions held off, shares table files between
// the backups of one directory (each backup after the first copies only new
// table files) and keeps a checksum of every file, which a restore verifies.
// caseloop adds what RocksDB does not know about: the ACKNOWLEDGED marker
// (written anew on restore, at the restored log's end, so the restored store
// opens), the API keys file next to the database (copied beside the backup,
// under caseloop-keys/ID.keys), a lock so that two backups never write one
// backup directory at once, and a check of the restored store.
#include "caseloop/backup.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/backup_engine.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "caseloop/event_store.h"
#include "store/live_store.h"
#include "store/postgres_store.h"
#include "store/store_directory.h"
#include "store/store_internal.h"

namespace caseloop {
namespace {

namespace fs = std::filesystem;
using namespace store_internal;

constexpr char kKeysDir[] = "caseloop-keys";
constexpr char kLockFile[] = "caseloop-backup.lock";
constexpr char kMetadataTag[] = "caseloop-backup 1";

std::string Trimmed(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

Status RefusedPath(const std::string& path, const char* what) {
  if (IsPostgresUrl(path)) {
    return Status::InvalidArgument(fmt::format(
        "{} is for the embedded RocksDB store; back up a PostgreSQL database with PostgreSQL's own tools "
        "(pg_dump for a logical copy, pg_basebackup with WAL archiving for point-in-time recovery; "
        "docs/operations.md)",
        what));
  }
  if (path == ":memory:") return Status::InvalidArgument(fmt::format("{}: :memory: keeps nothing", what));
  if (path.empty()) return Status::InvalidArgument(fmt::format("{}: the path is empty", what));
  return Status::Ok();
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  const std::string text = fmt::format("{}: {}", what, s.ToString());
  if (s.IsCorruption()) return Status::Corruption(text);
  if (s.IsNotFound()) return Status::NotFound(text);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(text);
  return Status::IOError(text);
}

// Whether `inner` is `outer` or lies under it (both made absolute; the
// deepest existing ancestor resolved through symlinks).
bool IsWithin(const std::string& inner, const std::string& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner, ec), ec);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer, ec), ec);
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

// An exclusive flock on BACKUP_DIR/caseloop-backup.lock for the lifetime of
// the object: RocksDB's BackupEngine does not keep two writers of one backup
// directory apart.
class BackupDirLock {
 public:
  ~BackupDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& dir) {
    const std::string path = dir + "/" + kLockFile;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      if (e == EWOULDBLOCK)
        return Status::IOError(fmt::format("another backup into {} is running (it holds {})", dir, path));
      return Status::IOError(fmt::format("cannot lock {}: {}", path, std::strerror(e)));
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

// The BackupEngine options of every backup directory (they must be the same
// each time a directory is opened).
rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions o(backup_dir);
  o.share_table_files = true;          // incremental: table files are shared between backups
  o.share_files_with_checksum = true;  // named by content, so equal files are stored once
  o.sync = true;                       // a backup that returned survives a power loss
  o.max_background_operations = 1;
  o.destroy_old_data = false;
  return o;
}

// The last log position of the database that `env` shows at `dir` (a backup
// opened read-only through BackupInfo::env_for_open, or a directory).
Result<std::uint64_t> ReadHead(rocksdb::Env* env, const std::string& dir) {
  rocksdb::DBOptions dbo;
  dbo.env = env;
  std::vector<std::string> families;
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::ListColumnFamilies(dbo, dir, &families), fmt::format("reading {}", dir)));
  if (std::find(families.begin(), families.end(), kLogCf) == families.end())
    return Status::Corruption(
        fmt::format("{} holds no caseloop log (column families: {})", dir, fmt::join(families, ", ")));
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& f : families) cfs.emplace_back(f, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::OpenForReadOnly(dbo, dir, cfs, &handles, &raw), fmt::format("opening {}", dir)));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::uint64_t head = 0;
  Status st;
  {
    const std::size_t log =
        static_cast<std::size_t>(std::find(families.begin(), families.end(), kLogCf) - families.begin());
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[log]));
    it->SeekToLast();
    if (it->Valid()) {
      auto p = DecodeBE64(std::string_view(it->key().data(), it->key().size()));
      if (!p)
        st = Status::Corruption(fmt::format("{}: malformed last log key", dir));
      else
        head = *p;
    }
    if (st.ok() && !it->status().ok())
      st = FromRocks(it->status(), fmt::format("reading the log of {}", dir));
  }
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
  if (!st.ok()) return st;
  return head;
}

std::string Metadata(std::uint64_t head_at_start, const std::string& source, bool keys) {
  return fmt::format("{}\nhead_at_start={}\nsource={}\nkeys={}\n", kMetadataTag, head_at_start, source,
                     keys ? 1 : 0);
}

BackupInfo InfoOf(const rocksdb::BackupInfo& r) {
  BackupInfo info;
  info.id = r.backup_id;
  info.created_unix_s = r.timestamp;
  info.bytes = r.size;
  info.files = r.number_files;
  std::istringstream lines(r.app_metadata);
  std::string line;
  while (std::getline(lines, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "head_at_start") info.head_at_start = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "source") info.source = value;
    if (key == "keys") info.has_keys = value == "1";
  }
  return info;
}

// Copies `from` to `to` (a new file) and fsyncs it. The keys file is small
// and not RocksDB's: RocksDB has nothing to copy it with.
Status CopySmallFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("cannot read {}", from));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("cannot read {}", from));
  const std::string bytes = data.str();
  const std::string tmp = to + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::IOError(fmt::format("cannot write {}: {}", tmp, std::strerror(e)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IOError(fmt::format("cannot sync {}: {}", tmp, std::strerror(e)));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::IOError(fmt::format("cannot rename {} to {}: {}", tmp, to, std::strerror(e)));
  }
  return Status::Ok();
}

Result<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(const std::string& backup_dir) {
  std::error_code ec;
  if (!fs::is_directory(backup_dir + "/meta", ec))
    return Status::NotFound(fmt::format("no backups at {} (no {}/meta)", backup_dir, backup_dir));
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw),
                fmt::format("opening the backups at {}", backup_dir)));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

// Removes everything in `dir` (left by a failed restore); the directory
// itself only when the restore created it.
void Clean(const std::string& dir, bool created) {
  std::error_code ec;
  if (created) {
    fs::remove_all(dir, ec);
    return;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

}  // namespace

Result<BackupInfo> BackupDatabase(const std::string& db_path, const std::string& backup_dir_in,
                                  const BackupOptions& options) {
  CASELOOP_RETURN_IF_ERROR(RefusedPath(db_path, "backup"));
  if (backup_dir_in.empty()) return Status::InvalidArgument("backup: the backup directory is empty");
  const std::string db = Trimmed(db_path);
  const std::string backup_dir = Trimmed(backup_dir_in);
  if (IsWithin(backup_dir, db) || IsWithin(db, backup_dir)) {
    return Status::InvalidArgument(
        fmt::format("backup directory {} and database {} overlap: a backup goes to a directory of its own, "
                    "best on another disk",
                    backup_dir, db));
  }
  std::error_code ec;
  if (fs::exists(backup_dir + "/CURRENT", ec)) {
    return Status::InvalidArgument(fmt::format(
        "{} holds a database, not backups: name a directory of its own for the backups", backup_dir));
  }
  // An engine of this process has the store open: the backup goes through
  // it. Otherwise the store is opened for the backup (its checks run: a store
  // that lost acknowledged events is not backed up) and closed after it.
  std::unique_ptr<EventStore> opened;
  if (WithLiveDb(db, [](const LiveDb&) { return Status::Ok(); }).IsNotFound()) {
    StoreOptions so;
    so.create_if_missing = false;
    auto store = OpenRocksDbStore(db, so);
    if (!store.ok()) {
      const bool locked =
          store.status().IsIOError() && store.status().message().find("locked") != std::string::npos;
      return Status(
          store.status().code(),
          fmt::format("cannot open the database {} for the backup: {}{}", db, store.status().message(),
                      locked ? " (back it up from the process that has it open, with "
                               "caseloop::BackupDatabase, or stop that process first)"
                             : ""));
    }
    opened = std::move(*store);
  }
  auto close_opened = [&](Status s) {
    if (opened) {
      Status closed = opened->Close();
      opened.reset();
      if (s.ok() && !closed.ok()) return closed;
    }
    return s;
  };
  fs::create_directories(backup_dir + "/" + kKeysDir, ec);
  if (ec)
    return close_opened(
        Status::IOError(fmt::format("cannot create the backup directory {}: {}", backup_dir, ec.message())));
  BackupDirLock dir_lock;
  if (Status l = dir_lock.Acquire(backup_dir); !l.ok()) return close_opened(l);

  const std::string keys = options.keys_file.empty() ? DefaultKeysFile(db) : options.keys_file;
  if (!options.keys_file.empty() && !fs::is_regular_file(keys, ec))
    return close_opened(
        Status::InvalidArgument(fmt::format("backup: the keys file {} does not exist", keys)));
  const bool with_keys = fs::is_regular_file(keys, ec);

  rocksdb::BackupEngine* raw = nullptr;
  if (Status o =
          FromRocks(rocksdb::BackupEngine::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw),
                    fmt::format("opening the backups at {}", backup_dir));
      !o.ok())
    return close_opened(o);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);

  rocksdb::BackupID id = 0;
  auto take = [&](const LiveDb& live) -> Status {
    rocksdb::CreateBackupOptions co;
    co.flush_before_backup = true;  // kNone appends live in memtables only
    return FromRocks(
        engine->CreateNewBackupWithMetadata(co, live.db, Metadata(live.head, live.path, with_keys), &id),
        fmt::format("backing up {} into {}", db, backup_dir));
  };
  Status s = WithLiveDb(db, take);
  if (opened) {
    Status closed = opened->Close();
    if (s.ok() && !closed.ok()) s = closed;
  }
  CASELOOP_RETURN_IF_ERROR(s);

  if (with_keys) {
    Status k = CopySmallFile(keys, fmt::format("{}/{}/{}.keys", backup_dir, kKeysDir, id));
    if (!k.ok()) {
      (void)engine->DeleteBackup(id);
      return Status(k.code(),
                    fmt::format("backup {} deleted: copying the keys file failed: {}", id, k.message()));
    }
  }
  if (options.keep > 0) {
    CASELOOP_RETURN_IF_ERROR(FromRocks(engine->PurgeOldBackups(options.keep),
                                       fmt::format("removing old backups from {}", backup_dir)));
    std::vector<rocksdb::BackupInfo> left;
    engine->GetBackupInfo(&left);
    std::vector<std::uint32_t> ids;
    for (const auto& b : left) ids.push_back(b.backup_id);
    for (fs::directory_iterator it(backup_dir + "/" + kKeysDir, ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string stem = it->path().stem().string();
      const auto n = std::strtoul(stem.c_str(), nullptr, 10);
      if (std::find(ids.begin(), ids.end(), n) == ids.end()) {
        std::error_code rm;
        fs::remove(it->path(), rm);
      }
    }
  }
  rocksdb::BackupInfo made;
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(engine->GetBackupInfo(id, &made), fmt::format("backup {} in {}", id, backup_dir)));
  return InfoOf(made);
}

Result<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir_in) {
  const std::string backup_dir = Trimmed(backup_dir_in);
  auto engine = OpenReadOnly(backup_dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> all;
  (*engine)->GetBackupInfo(&all);
  if (all.empty()) return Status::NotFound(fmt::format("no backups at {}", backup_dir));
  std::vector<BackupInfo> out;
  for (const auto& b : all) out.push_back(InfoOf(b));
  return out;
}

Result<std::vector<std::string>> VerifyBackups(const std::string& backup_dir_in) {
  const std::string backup_dir = Trimmed(backup_dir_in);
  auto engine = OpenReadOnly(backup_dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> all;
  (*engine)->GetBackupInfo(&all);
  std::vector<rocksdb::BackupID> corrupt;
  (*engine)->GetCorruptedBackups(&corrupt);
  if (all.empty() && corrupt.empty()) return Status::NotFound(fmt::format("no backups at {}", backup_dir));
  std::vector<std::string> problems;
  for (rocksdb::BackupID id : corrupt)
    problems.push_back(
        fmt::format("backup {} in {}: its description (meta/{}) is damaged", id, backup_dir, id));
  for (const auto& b : all) {
    rocksdb::IOStatus v = (*engine)->VerifyBackup(b.backup_id, /*verify_with_checksum=*/true);
    if (!v.ok())
      problems.push_back(
          fmt::format("backup {} in {} is damaged: {}", b.backup_id, backup_dir, v.ToString()));
  }
  return problems;
}

Result<RestoreResult> RestoreDatabase(const std::string& backup_dir_in, const std::string& db_path,
                                      const RestoreOptions& options) {
  CASELOOP_RETURN_IF_ERROR(RefusedPath(db_path, "restore"));
  const std::string backup_dir = Trimmed(backup_dir_in);
  const std::string db = Trimmed(db_path);
  std::error_code ec;
  bool created = false;
  if (fs::exists(db, ec)) {
    if (!fs::is_directory(db, ec))
      return Status::InvalidArgument(fmt::format("restore: {} is not a directory", db));
    if (!fs::is_empty(db, ec) || ec)
      return Status::InvalidArgument(fmt::format(
          "restore: {} is not empty; a restore goes into a new or empty directory, never over a database",
          db));
  } else {
    created = true;
  }
  if (IsWithin(db, backup_dir) || IsWithin(backup_dir, db))
    return Status::InvalidArgument(
        fmt::format("restore: {} and the backup directory {} overlap", db, backup_dir));

  auto opened = OpenReadOnly(backup_dir);
  if (!opened.ok()) return opened.status();
  auto& engine = *opened;
  rocksdb::BackupID id = 0;
  if (options.backup_id) {
    id = *options.backup_id;
    rocksdb::BackupInfo info;
    rocksdb::Status s = engine->GetBackupInfo(id, &info);
    if (!s.ok()) {
      std::vector<rocksdb::BackupInfo> all;
      engine->GetBackupInfo(&all);
      std::string ids;
      for (const auto& b : all) ids += (ids.empty() ? "" : ", ") + std::to_string(b.backup_id);
      if (s.IsCorruption())
        return Status::Corruption(fmt::format("backup {} in {} is damaged ({}); the sound ones: {}", id,
                                              backup_dir, s.ToString(), ids.empty() ? "none" : ids));
      return Status::NotFound(
          fmt::format("no backup {} in {} (backups: {})", id, backup_dir, ids.empty() ? "none" : ids));
    }
  } else {
    rocksdb::BackupInfo info;
    rocksdb::Status s = engine->GetLatestBackupInfo(&info);
    if (s.IsNotFound()) return Status::NotFound(fmt::format("no backups at {}", backup_dir));
    if (!s.ok()) return FromRocks(s, fmt::format("no backup to restore in {}", backup_dir));
    id = info.backup_id;
  }
  // Verify every file before writing anything.
  rocksdb::IOStatus v = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!v.ok()) {
    return Status::Corruption(fmt::format(
        "backup {} in {} is damaged and was not restored: {}. Run caseloop backup --verify {} to see which "
        "backups are sound, and restore one of them with --id",
        id, backup_dir, v.ToString(), backup_dir));
  }
  const std::string keys_from = fmt::format("{}/{}/{}.keys", backup_dir, kKeysDir, id);
  const bool with_keys = fs::is_regular_file(keys_from, ec);
  const std::string keys_to = options.keys_file.empty() ? DefaultKeysFile(db) : options.keys_file;
  if (with_keys && fs::exists(keys_to, ec))
    return Status::InvalidArgument(fmt::format(
        "restore: the keys file {} exists already; move it away or name another with the keys file option",
        keys_to));

  fs::create_directories(db, ec);
  if (ec) return Status::IOError(fmt::format("restore: cannot create {}: {}", db, ec.message()));
  auto fail = [&](Status s) -> Status {
    Clean(db, created);
    return s;
  };
  rocksdb::RestoreOptions ro;
  rocksdb::IOStatus r = engine->RestoreDBFromBackup(ro, id, db, db);
  if (!r.ok())
    return fail(FromRocks(r, fmt::format("restoring backup {} of {} into {}", id, backup_dir, db)));
  auto head = ReadHead(rocksdb::Env::Default(), db);
  if (!head.ok()) return fail(head.status());
  {
    // The restored store's acknowledged position is its log's end.
    auto marker = AckMarker::Open(db, /*writable=*/true);
    if (!marker.ok()) return fail(marker.status());
    Status m = marker->Record(*head);
    if (m.ok()) m = marker->Sync();
    if (!m.ok()) return fail(m);
  }
  {
    StoreOptions so;
    so.create_if_missing = false;
    auto store = OpenRocksDbStore(db, so);
    if (!store.ok())
      return fail(Status(store.status().code(),
                         fmt::format("the restored store does not open: {}", store.status().message())));
    auto problems = (*store)->Check();
    Status closed = (*store)->Close();
    if (!problems.ok()) return fail(problems.status());
    if (!problems->empty())
      return fail(Status::Corruption(fmt::format("the restored store fails its check ({} problem(s)): {}",
                                                 problems->size(), problems->front())));
    if (!closed.ok()) return fail(closed);
  }
  RestoreResult result;
  result.backup_id = id;
  result.head = *head;
  if (with_keys) {
    Status k = CopySmallFile(keys_from, keys_to);
    if (!k.ok()) return fail(k);
    result.keys_file = keys_to;
  }
  return result;
}

}  // namespace caseloop
