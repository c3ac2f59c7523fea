// OpenRocksDbStore: the durable EventStore on RocksDB. Keys, record layout and
// options are described in docs/format.md.
//
// One object implements both the log (EventStore) and the projection storage
// (ProjectionStore): they share one database, so a projection commit and its
// checkpoint are one WriteBatch through the same WAL as the appends.
//
// Writes follow LevelDB's DBImpl::Write: every write (append, projection
// commit, flush, close) enqueues a Writer; the writer at the front
// of the queue is the leader. The leader takes the queued writers behind it
// (up to StoreOptions::max_group_writers / kMaxGroupBytes), checks each
// append's expected version against the stream versions (including earlier
// appends of the same group), assigns versions and gap-free positions, writes
// ONE WriteBatch with the strongest durability of the group, publishes the new
// head and wakes every follower with its own result.
//
// Group-commit window (StoreOptions::group_commit_window): 0 = the leader
// never waits, so an idle store commits a lone append at once. With a window,
// the leader waits (on leader_cv_, mu_ released) only while it expects more
// writers — fewer are queued than were in the previous group, written less
// than max(kRecentGroup, 10 windows) ago — and at most the window (see
// event_store.h).
//
// Asynchronous appends (AppendAsync) queue a heap-allocated Writer with a
// completion and return. No caller thread waits for them, so when one is at
// the front of the queue the store's commit thread (started by the first
// AppendAsync) leads its group. A leader that finishes hands the lead to the
// next front: its own thread for a synchronous writer, the commit thread for
// an asynchronous one. Completions run after the group, without any store
// lock, on the thread that led it.
//
// Locks, always taken in this order when nested: db_mu_ (shared by readers
// and the leader, exclusive for Close) before mu_ (the writer queue, the
// stream-version cache and the published head). The leader never holds mu_
// during I/O.
#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caseloop/event_store.h"
#include "store/live_store.h"
#include "store/postgres_store.h"
#include "store/projection_store.h"
#include "store/record_codec.h"
#include "store/store_directory.h"
#include "store/store_internal.h"

namespace caseloop {
namespace {

using namespace store_internal;

constexpr std::size_t kMaxGroupBytes = 4u << 20;
// With a group-commit window W, the previous group predicts the next one only
// when it was written less than max(kRecentGroup, 10 W) ago; an idle store's
// lone writer never waits.
constexpr std::chrono::milliseconds kRecentGroup{100};
constexpr std::size_t kMaxCheckProblems = 1000;
constexpr std::size_t kReadChunk = 256;
// Log scans of at least this many records (~4 MiB of typical records) read
// ahead kLongScanReadahead and do not fill the block cache. Measured on a
// 300,000-record log (warm page cache): ScanAll 690 -> 500 ns per record;
// 256 KiB and 4 MiB of readahead were slower, adaptive_readahead did not
// help, and readahead on short scans (ReadAll in chunks of 1024, a new
// iterator each) made them 10x slower: it reads 2 MiB for every chunk.
constexpr std::uint64_t kLongScanRecords = 16384;
constexpr std::size_t kLongScanReadahead = 2u << 20;

class RocksDbStore;
// The stores open read-write in this process, by directory (device, inode),
// for WithLiveDb (live_store.h). A store registers at the end of a
// successful Open and leaves at the start of Close, before Close takes
// db_mu_ exclusively: WithLiveDb takes db_mu_ shared while it holds
// g_live_mu, so a store it finds is still open.
std::mutex g_live_mu;
std::map<std::pair<std::uint64_t, std::uint64_t>, RocksDbStore*> g_live;

std::optional<std::pair<std::uint64_t, std::uint64_t>> DirectoryId(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  return std::make_pair(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = fmt::format("{}: {}", what, s.ToString());
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  return Status::IOError(std::move(msg));
}

// RocksDB's info log ("LOG" in the database directory), written with stdio so
// that a failed write is dropped. Debian's librocksdb is built with assertions
// on, and its own file logger aborts the process when it writes again after a
// failed write — which is what a full disk does to it (found by
// tests/torture/full_disk_main.cc). The previous log is kept as LOG.old.
// A null file (read-only open, or LOG cannot be created) drops every line.
class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(std::FILE* file) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(file) {}
  ~InfoLog() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char buffer[1024];
    va_list again;
    va_copy(again, ap);
    const int n = std::vsnprintf(buffer, sizeof buffer, format, ap);
    if (n < 0) buffer[0] = '\0';
    std::string long_line;
    if (n >= static_cast<int>(sizeof buffer)) {  // a long line (RocksDB's options dump): whole
      long_line.resize(static_cast<std::size_t>(n) + 1);
      std::vsnprintf(long_line.data(), long_line.size(), format, again);
      long_line.pop_back();
    }
    va_end(again);
    const char* line = long_line.empty() ? buffer : long_line.c_str();
    std::lock_guard l(mu_);
    Note(line);
    if (file_ == nullptr) return;
    struct timeval now {};
    gettimeofday(&now, nullptr);
    struct tm t {};
    time_t secs = now.tv_sec;
    localtime_r(&secs, &t);
    std::fprintf(file_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %s\n", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                 t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec), line);
    std::fflush(file_);  // errors (ENOSPC) stay in the stream's error flag: ignored
  }

  // What RocksDB said about the write-ahead logs it recovered: every
  // "Recovering log #N" (as N, in order), and the last damage it reported in
  // one ("DIR/000012.log: dropping 2339 bytes; Corruption: checksum mismatch").
  std::vector<std::uint64_t> recovered_wals() const {
    std::lock_guard l(mu_);
    return recovered_wals_;
  }
  std::string wal_damage() const {
    std::lock_guard l(mu_);
    return wal_damage_;
  }

 private:
  // REQUIRES: mu_ held.
  void Note(std::string_view line) {
    constexpr std::string_view kRecovering = "Recovering log #";
    if (auto at = line.find(kRecovering); at != std::string_view::npos) {
      std::uint64_t n = 0;
      const char* begin = line.data() + at + kRecovering.size();
      if (auto [ptr, ec] = std::from_chars(begin, line.data() + line.size(), n); ec == std::errc()) {
        recovered_wals_.push_back(n);
      }
      return;
    }
    if (auto at = line.find(".log: dropping "); at != std::string_view::npos) {
      // "[WARN] [db/db_impl/db_impl_open.cc:982] /dir/000004.log: dropping ...": from the path on.
      std::size_t begin = line.rfind(' ', at);
      begin = begin == std::string_view::npos ? 0 : begin + 1;
      wal_damage_ = std::string(line.substr(begin));
    }
  }

  mutable std::mutex mu_;
  std::FILE* file_;
  std::vector<std::uint64_t> recovered_wals_;
  std::string wal_damage_;
};

std::shared_ptr<InfoLog> OpenInfoLog(const std::string& dir, bool read_only) {
  if (read_only) return std::make_shared<InfoLog>(nullptr);
  const std::string path = dir + "/LOG";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) std::filesystem::rename(path, path + ".old", ec);
  return std::make_shared<InfoLog>(std::fopen(path.c_str(), "w"));
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Prefix of a "streams" key: the stream name and its 0x00 terminator, i.e.
// the key without its 8-byte version. Lets ReadStream use prefix bloom
// filters and stop at the end of the stream.
class StreamPrefixTransform final : public rocksdb::SliceTransform {
 public:
  // Part of the on-disk format (recorded in table properties). Do not rename.
  const char* Name() const override { return "caseloop.StreamPrefix.1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 9; }
};

class RocksDbStore final : public EventStore, public ProjectionStore {
 public:
  RocksDbStore(std::string path, const StoreOptions& options) : path_(std::move(path)), options_(options) {}
  ~RocksDbStore() override {
    if (db_ != nullptr) (void)Close();
    StopCommitThread();
  }

  // accept_loss: open even when the log ends before the acknowledged
  // position (RepairRocksDbStore), recording the log's head as acknowledged.
  Status Open();
  void set_accept_loss() { accept_loss_ = true; }
  // What an accept_loss open accepted ("" when nothing was wrong).
  const std::string& accepted() const { return accepted_; }

  // Online backups (live_store.h): this store in g_live while it is open
  // read-write; Unregister is idempotent.
  void Register();
  void Unregister();
  friend Status store_internal::WithLiveDb(const std::string& dir,
                                           const std::function<Status(const LiveDb&)>& fn);

  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected, std::vector<NewEvent> events,
                              const AppendOptions& options) override;
  void AppendAsync(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events,
                   AppendOptions options, std::function<void(Result<AppendResult>)> done) override;
  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) override;
  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override;
  Status ScanAll(std::uint64_t from, std::size_t max,
                 const std::function<bool(const EventRecordView&)>& visit) override;
  std::uint64_t HeadPosition() const override { return head_.load(std::memory_order_acquire); }
  Result<std::uint64_t> StreamVersion(std::string_view stream) override;
  Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) override;
  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                          std::uint64_t checkpoint) override;
  Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) override;
  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;
  Status ResetProjection(std::string_view name, std::string_view prefix) override;
  Result<std::vector<std::string>> Check() override;
  Status Flush() override;
  std::uint64_t SyncCount() const override { return sync_count_.load(std::memory_order_relaxed); }
  StoreStatistics Statistics() const override;
  Status Close() override;

 private:
  enum class WriterKind { kAppend, kBatch, kFlush, kClose };

  // One queued write. A synchronous one lives on the caller's stack until
  // `done`; an asynchronous one (`async`) is heap-allocated, owns its
  // arguments and is deleted after its completion ran.
  struct Writer {
    WriterKind kind = WriterKind::kAppend;
    Durability durability = Durability::kSync;
    std::size_t bytes = 0;
    // kAppend
    std::string_view stream;
    ExpectedVersion expected;
    std::vector<NewEvent>* events = nullptr;
    std::string_view command_id;
    // kBatch: adds its operations to the group's batch (leader context).
    std::function<Status(rocksdb::WriteBatch&)> build;
    // Results, set by the leader.
    Status status;
    AppendResult result;
    bool done = false;
    std::condition_variable cv;
    // Asynchronous appends: the owned arguments and the completion.
    bool async = false;
    std::string owned_stream;
    std::vector<NewEvent> owned_events;
    std::string owned_command_id;
    std::function<void(Result<AppendResult>)> completion;
  };
  bool IsWrite(const Writer* x) const {
    return x->kind == WriterKind::kAppend || x->kind == WriterKind::kBatch;
  }

  Status CheckOpenLocked() const {
    return db_ == nullptr ? Status::Unavailable(fmt::format("event store {} is closed", path_))
                          : Status::Ok();
  }
  Status ReadOnlyError() const { return Status::IOError(fmt::format("store {} is open read-only", path_)); }

  // Enqueues `w` and returns once it is done (as a follower or as leader).
  void Submit(Writer& w);
  // REQUIRES: mu_ held. Queues `w` and wakes whoever must act on it: the
  // commit thread for an asynchronous front, a leader waiting for writers.
  void EnqueueLocked(Writer* w);
  // REQUIRES: mu_ held via `l`, `w` at the front of the queue. Leads one
  // group starting at `w` (releasing mu_ for the I/O), pops it, wakes its
  // synchronous members and the next leader. Returns the asynchronous
  // writers that are finished; the caller runs their completions after
  // releasing mu_ (RunCompletions).
  std::vector<Writer*> LeadLocked(Writer& w, std::unique_lock<std::mutex>& l);
  // REQUIRES: mu_ held via `l`. With a group-commit window: waits while more
  // writers are expected (see the file comment).
  void WaitForWritersLocked(std::unique_lock<std::mutex>& l);
  static void RunCompletions(const std::vector<Writer*>& finished);
  void CommitLoop();
  void StopCommitThread();
  // Leader: writes `group` (appends and batches) as one WriteBatch.
  void WriteGroup(const std::vector<Writer*>& group);
  // Counts a written group of `writers` writers (Statistics).
  void CountGroup(std::size_t writers);
  // Leader or Close: makes kNone / kBuffered writes durable.
  Status FlushLocked();
  Status SubmitBatch(std::function<Status(rocksdb::WriteBatch&)> build, std::size_t bytes,
                     std::optional<Durability> durability = std::nullopt);
  Result<std::uint64_t> ReadStreamVersion(std::string_view stream);
  Status ReadLogRecords(const std::vector<std::uint64_t>& positions, std::vector<EventRecord>& out);
  // REQUIRES: db_mu_ held (shared) and the store open. The log records with
  // positions [from, from + max) up to the published head, in order, each
  // decoded in place (DecodeRecordView) and passed to visit(view), which
  // returns false to stop. The views point into the iterator's buffers:
  // valid only during the call. Checks positions are gap-free. Used by
  // ReadAll (which copies) and ScanAll.
  template <typename Visit>
  Status ScanLogLocked(std::uint64_t from, std::size_t max, Visit&& visit);

  // Reads the acknowledged-position marker and compares it with the log head;
  // creates it for a store that has none.
  Status OpenAckMarker(std::uint64_t head);
  // For a Corruption of the open: the write-ahead log it is in, as RocksDB
  // reported it to the info log (" in the write-ahead log DIR/000012.log
  // (...)"), or "" when RocksDB named none or `message` names a file.
  std::string WalDamage(const std::string& message) const;
  std::string WalEndNote() const;
  void RemoveEmptyOldWals();

 public:
  // After a loss was accepted (RepairRocksDbStore): removes what refers to
  // positions beyond the log head — command-id entries of lost appends (a
  // retried command would otherwise be reported a duplicate of an append
  // that is gone), and, when any projection's
  // checkpoint is beyond the head, the whole projection keyspace (rebuilt on
  // the next open). Appends one line per kind of thing removed to `done`.
  Status DropStateBeyondHead(std::vector<std::string>& done);

 private:
  const std::string path_;
  const StoreOptions options_;
  bool accept_loss_ = false;
  std::string accepted_;
  // The highest position written to the WAL or flushed (leader only).
  AckMarker marker_;
  std::shared_ptr<InfoLog> info_log_;
  // This process's hold on the directory (store_directory.h): shared for a
  // read-only open, recorded for RocksDB's own lock otherwise.
  DirectoryLock lock_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> live_id_;  // guarded by g_live_mu

  // db_mu_: readers and the leader hold it shared; Close exclusive.
  mutable std::shared_mutex db_mu_;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, log, streams, meta, proj
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* proj_ = nullptr;
  std::shared_ptr<rocksdb::Cache> cache_;

  // mu_ guards the queue, closed_, write_error_ and versions_.
  std::mutex mu_;
  std::deque<Writer*> writers_;
  bool closed_ = false;
  Status write_error_;  // sticky: after a failed write the store refuses writes
  // Published stream versions. Only the leader changes an entry; it makes sure
  // each stream of its group has an entry before it writes, so a reader that
  // misses the cache and reads the version from RocksDB can tell whether the
  // value it read may be unpublished (see StreamVersion).
  std::unordered_map<std::string, std::uint64_t> versions_;
  std::atomic<std::uint64_t> head_{0};  // published head position

  // Leader-only state (only the current leader touches it).
  bool nowal_dirty_ = false;   // kNone writes sit in memtables only
  bool wal_unsynced_ = false;  // kBuffered writes in an unsynced WAL

  std::atomic<std::uint64_t> sync_count_{0};
  // Written groups by size (StoreStatistics::group_sizes) and their writers.
  std::array<std::atomic<std::uint64_t>, StoreStatistics::kGroupSizeBounds.size() + 1> group_sizes_{};
  std::atomic<std::uint64_t> group_writers_{0};

  // Group-commit window state, guarded by mu_.
  std::condition_variable leader_cv_;  // a waiting leader: a writer arrived
  bool leader_waiting_ = false;
  std::size_t previous_group_ = 0;
  std::chrono::steady_clock::time_point previous_group_end_{};

  // Commit thread for asynchronous writers (guarded by mu_; joined by
  // StopCommitThread, which Close and the destructor call).
  std::condition_variable commit_cv_;
  std::thread commit_thread_;
  bool commit_started_ = false;
  bool commit_stop_ = false;
};

Status RocksDbStore::Open() {
  // RocksDB must never be asked to create a database over the remains of one
  // (CURRENT missing): it would delete every table file it does not know.
  const bool create = !options_.read_only && options_.create_if_missing;
  auto kind = CheckDirectory(path_, create);
  if (!kind.ok()) return kind.status();
  if (*kind == DirectoryKind::kMissing) {
    std::error_code ec;
    std::filesystem::create_directories(path_, ec);
    if (ec) return Status::IOError(fmt::format("cannot create directory {}: {}", path_, ec.message()));
  }
  // Say what is wrong before RocksDB does (it would report a read-only file
  // system or a LOCK that is a directory as trouble with its lock), and keep
  // a read-only open apart from writers.
  if (!options_.read_only) CASELOOP_RETURN_IF_ERROR(CheckWritable(path_));
  {
    auto lock = DirectoryLock::Acquire(
        path_, options_.read_only ? DirectoryLock::Mode::kShared : DirectoryLock::Mode::kRocksDb);
    if (!lock.ok()) return lock.status();
    lock_ = std::move(*lock);
  }
  const bool exists = *kind == DirectoryKind::kDatabase;
  bool create_families = !exists;
  if (exists) {
    // An existing database holds caseloop's column families, or only RocksDB's
    // default one (a creation interrupted before they were added).
    std::vector<std::string> families;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path_, &families);
    if (ls.ok()) {
      const bool ours = std::find(families.begin(), families.end(), kLogCf) != families.end();
      if (!ours && families.size() > 1) {
        return Status::InvalidArgument(
            fmt::format("{} holds a RocksDB database that is not caseloop's (column families: {})", path_,
                        fmt::join(families, ", ")));
      }
      create_families = !ours;
    }  // else: DB::Open reports what is wrong
  }

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = create && !exists;
  dbo.create_missing_column_families = create && create_families;
  dbo.atomic_flush = true;  // kNone writes have no WAL: flush all column families together
  dbo.manual_wal_flush = false;
  dbo.max_background_jobs = 2;
  info_log_ = OpenInfoLog(path_, options_.read_only);
  dbo.info_log = info_log_;
  // A crash can leave only an incomplete record at the end of the WAL (every
  // acknowledged append was written whole, and fsynced in kSync); that tail is
  // dropped. A damaged record before the end is corruption: the default
  // (kPointInTimeRecovery) would silently drop it and every acknowledged
  // append after it (found by tests/torture/corruption_test.sh).
  dbo.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  dbo.paranoid_checks = true;
  // Recovery replays the WAL into memtables without flushing them, and keeps
  // the WAL: an open that caseloop then refuses (a loss of acknowledged
  // events, a damaged table) has not turned the log into table files and
  // deleted it (docs/reliability.md, corruption sweep). It also spares every
  // short-lived CLI open a tiny table file per column family.
  dbo.avoid_flush_during_recovery = true;

  cache_ = rocksdb::NewLRUCache(options_.block_cache_bytes);
  auto cf_options = [&](bool bloom, std::size_t write_buffer) {
    rocksdb::ColumnFamilyOptions cf;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache_;
    if (bloom) {
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      t.whole_key_filtering = true;
    }
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    cf.write_buffer_size = write_buffer;
    cf.level_compaction_dynamic_level_bytes = true;
    return cf;
  };
  rocksdb::ColumnFamilyOptions streams_options = cf_options(true, 16u << 20);
  streams_options.prefix_extractor = std::make_shared<StreamPrefixTransform>();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_options(false, 4u << 20)},
      {kLogCf, cf_options(false, 64u << 20)},
      {kStreamsCf, streams_options},
      {kMetaCf, cf_options(true, 16u << 20)},
      {kProjCf, cf_options(false, 32u << 20)},
  };

  rocksdb::Status s;
  try {
    if (options_.read_only) {
      s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(dbo), path_, cfs, &handles_, &db_);
    } else {
      s = rocksdb::DB::Open(dbo, path_, cfs, &handles_, &db_);
    }
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("open {}: {}", path_, e.what()));
  }
  if (!s.ok()) {
    std::string text = s.ToString();
    if (s.IsIOError()) {
      if (std::optional<Status> lock = LockFailure(path_, text)) return *lock;
    }
    if (s.IsCorruption())
      return Status::Corruption(fmt::format("open {}: {}{}", path_, text, WalDamage(text)));
    return Status::IOError(fmt::format("open {}: {}", path_, text));
  }
  log_ = handles_[1];
  streams_ = handles_[2];
  meta_ = handles_[3];
  proj_ = handles_[4];

  // Recover the head from the last log key.
  std::uint64_t head = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
    it->SeekToLast();
    if (it->Valid()) {
      auto p = DecodeBE64(ToView(it->key()));
      if (!p) {
        Status st = Status::Corruption(fmt::format("store {}: malformed last log key", path_));
        (void)Close();
        return st;
      }
      head = *p;
    }
    if (!it->status().ok()) {
      Status st = FromRocks(it->status(), fmt::format("store {}: reading the log", path_));
      it.reset();
      (void)Close();
      return st;
    }
  }
  head_.store(head, std::memory_order_release);

  // The store format marker.
  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), meta_, kFormatKey, &format);
  Status st;
  if (s.IsNotFound()) {
    if (head != 0) {
      st = Status::Corruption(fmt::format("store {} holds events but no format marker", path_));
    } else if (!options_.read_only) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      st = FromRocks(db_->Put(wo, meta_, kFormatKey, std::to_string(kStoreFormatVersion)),
                     fmt::format("store {}: writing the format marker", path_));
    }
  } else if (!s.ok()) {
    st = FromRocks(s, fmt::format("store {}: reading the format marker", path_));
  } else if (format != std::to_string(kStoreFormatVersion)) {
    st = Status::Corruption(fmt::format("store {} has format version \"{}\"; this build reads version {}",
                                        path_, format, kStoreFormatVersion));
  }
  if (st.ok()) st = OpenAckMarker(head);
  if (st.ok() && !options_.read_only) {
    // The store is sound: now turn what recovery replayed into table files
    // (RocksDB deletes the old logs then), as RocksDB's own recovery would
    // have done before the checks above, and drop the empty old logs.
    rocksdb::FlushOptions fo;
    fo.wait = true;
    st = FromRocks(db_->Flush(fo, handles_), fmt::format("store {}: flushing the recovered log", path_));
    if (st.ok()) RemoveEmptyOldWals();
  }
  if (!st.ok()) {
    (void)Close();
    return st;
  }
  if (!options_.read_only) Register();
  return Status::Ok();
}

void RocksDbStore::Register() {
  auto id = DirectoryId(path_);
  if (!id) return;  // not found again: no online backup through this store
  std::lock_guard g(g_live_mu);
  if (g_live.emplace(*id, this).second) live_id_ = id;
}

void RocksDbStore::Unregister() {
  std::lock_guard g(g_live_mu);
  if (!live_id_) return;
  auto it = g_live.find(*live_id_);
  if (it != g_live.end() && it->second == this) g_live.erase(it);
  live_id_.reset();
}

// "DIR/000004.log: dropping 2339 bytes; Corruption: checksum mismatch" (what
// InfoLog keeps) -> {"DIR/000004.log", "dropping 2339 bytes; Corruption: …"}.
std::pair<std::string, std::string> SplitWalDamage(const std::string& damage) {
  const std::size_t colon = damage.find(".log: ");
  if (colon == std::string::npos) return {"", damage};
  return {damage.substr(0, colon + 4), damage.substr(colon + 6)};
}

// For a log that ends before the acknowledged position: which write-ahead
// log RocksDB stopped in. A damaged record can read as the torn tail of a
// crash (a bad length or type at the end of the data RocksDB read): RocksDB
// then opens the shorter log without a word, and only the marker finds the
// loss (docs/reliability.md, bug 12).
std::string RocksDbStore::WalEndNote() const {
  if (info_log_ == nullptr) return "";
  const std::string damage = info_log_->wal_damage();
  if (!damage.empty()) {
    const auto [file, what] = SplitWalDamage(damage);
    return fmt::format(" RocksDB reported damage in the write-ahead log {} ({}).", file, what);
  }
  // The last log that held anything: a refused open before this one leaves
  // the empty log it started behind, and RocksDB recovers that one last.
  std::optional<std::uint64_t> wal;
  for (std::uint64_t n : info_log_->recovered_wals()) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(fmt::format("{}/{:06}.log", path_, n), ec);
    if (!ec && size > 0) wal = n;
  }
  if (!wal) return " RocksDB found no write-ahead log with records to recover.";
  return fmt::format(
      " RocksDB stopped reading in the write-ahead log {}/{:06}.log, the last it recovered: a record "
      "damaged there reads as the end of a log cut short by a crash.",
      path_, *wal);
}

std::string RocksDbStore::WalDamage(const std::string& message) const {
  if (info_log_ == nullptr) return "";
  const std::string damage = info_log_->wal_damage();
  if (!damage.empty()) {
    const auto [file, what] = SplitWalDamage(damage);
    return fmt::format(
        " in the write-ahead log {} (RocksDB: {}). RocksDB stops reading that log at the damage, so what "
        "was appended after it cannot be recovered from it: restore {} from a backup",
        file, what, path_);
  }
  const std::vector<std::uint64_t> wals = info_log_->recovered_wals();
  if (wals.empty() || message.find(path_ + "/") != std::string::npos) return "";
  return fmt::format(" while recovering the write-ahead log {}/{:06}.log", path_, wals.back());
}

// RocksDB 7.8 starts a new write-ahead log at every open and, when the old
// one held nothing to recover, never deletes it: an empty memtable is not
// flushed, so the log number to keep never moves (1,000 queries left 1,002
// empty .log files; docs/reliability.md). An empty log older than the one
// RocksDB just started holds no record and is never written again, so it
// goes here, while this process holds the database's lock.
void RocksDbStore::RemoveEmptyOldWals() {
  std::unique_ptr<rocksdb::LogFile> current;
  if (!db_->GetCurrentWalFile(&current).ok() || current == nullptr) return;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
    std::uint64_t number = 0;
    auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size() - 4, number);
    if (err != std::errc() || ptr != name.data() + name.size() - 4 || number >= current->LogNumber())
      continue;
    std::error_code size_ec;
    if (it->file_size(size_ec) != 0 || size_ec) continue;
    std::filesystem::remove(it->path(), size_ec);  // a failure only leaves the empty file
  }
}

Status RocksDbStore::OpenAckMarker(std::uint64_t head) {
  auto marker = AckMarker::Open(path_, !options_.read_only);
  if (!marker.ok()) return marker.status();
  marker_ = std::move(*marker);
  std::string flag;
  rocksdb::Status fs = db_->Get(rocksdb::ReadOptions(), meta_, kAckMarkerKey, &flag);
  if (!fs.ok() && !fs.IsNotFound())
    return FromRocks(fs, fmt::format("store {}: reading the marker flag", path_));
  const bool had_marker = fs.ok();
  std::optional<std::string> problem;
  if (marker_.damaged()) {
    problem = fmt::format(
        "{} is damaged (no valid record): it cannot be told whether acknowledged events are missing. Restore "
        "{} from a backup; or accept the log as it is (caseloop repair --accept-loss)",
        marker_.path(), path_);
  } else if (!marker_.position()) {
    if (had_marker) {
      problem = fmt::format(
          "{} is missing: it cannot be told whether acknowledged events are missing. Restore {} from a "
          "backup; or accept the log as it is (caseloop repair --accept-loss)",
          marker_.path(), path_);
    }
  } else {
    problem = LostEventsProblem(path_, head, *marker_.position());
    if (problem) *problem += WalEndNote();
  }
  if (problem) {
    // Read-only opens too: nothing reads a log that lost acknowledged events
    // as if it were whole (caseloop check reports the refusal).
    if (!accept_loss_) return Status::Corruption(fmt::format("store {}: {}", path_, *problem));
    const std::uint64_t acknowledged = marker_.position().value_or(head);
    accepted_ = acknowledged > head
                    ? fmt::format(
                          "accepted the loss of {} acknowledged event(s) (positions {}..{}): the log "
                          "continues from position {}",
                          acknowledged - head, head + 1, acknowledged, head)
                    : fmt::format("accepted the log as it is, up to position {} ({})", head, *problem);
  }
  if (options_.read_only) return Status::Ok();
  CASELOOP_RETURN_IF_ERROR(marker_.Record(head));
  CASELOOP_RETURN_IF_ERROR(marker_.Sync());
  if (!had_marker) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    CASELOOP_RETURN_IF_ERROR(FromRocks(db_->Put(wo, meta_, kAckMarkerKey, "1"),
                                       fmt::format("store {}: writing the marker flag", path_)));
  }
  return Status::Ok();
}

// ---- Writes ------------------------------------------------------------------

void RocksDbStore::EnqueueLocked(Writer* w) {
  writers_.push_back(w);
  if (writers_.front() == w) {
    if (w->async) commit_cv_.notify_one();
  } else if (leader_waiting_) {
    leader_cv_.notify_one();
  }
}

void RocksDbStore::Submit(Writer& w) {
  std::unique_lock l(mu_);
  if (closed_) {
    w.status = Status::Unavailable(fmt::format("event store {} is closed", path_));
    return;
  }
  if (!write_error_.ok() && IsWrite(&w)) {
    w.status = write_error_;
    return;
  }
  EnqueueLocked(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(l);
  if (w.done) return;
  std::vector<Writer*> finished = LeadLocked(w, l);
  l.unlock();
  RunCompletions(finished);
}

void RocksDbStore::WaitForWritersLocked(std::unique_lock<std::mutex>& l) {
  const auto window = options_.group_commit_window;
  const std::size_t max_writers = std::max<std::size_t>(options_.max_group_writers, 1);
  if (window.count() <= 0 || max_writers <= 1) return;
  const auto start = std::chrono::steady_clock::now();
  const auto recent = std::max<std::chrono::steady_clock::duration>(kRecentGroup, 10 * window);
  if (previous_group_ <= 1 || start - previous_group_end_ >= recent) return;
  const std::size_t expected = std::min(previous_group_, max_writers);
  // True when waiting longer cannot help or is not needed.
  auto enough = [&] {
    if (closed_) return true;
    std::size_t n = 0, bytes = 0;
    for (Writer* x : writers_) {
      if (!IsWrite(x)) return true;  // a Flush or Close ends the group anyway
      ++n;
      bytes += x->bytes;
      if (n >= expected || bytes >= kMaxGroupBytes) return true;
    }
    return false;
  };
  if (enough()) return;
  LeaderWaitsForTesting().fetch_add(1, std::memory_order_relaxed);
  leader_waiting_ = true;
  leader_cv_.wait_until(l, start + window, enough);
  leader_waiting_ = false;
}

std::vector<RocksDbStore::Writer*> RocksDbStore::LeadLocked(Writer& w, std::unique_lock<std::mutex>& l) {
  std::vector<Writer*> group;
  if (IsWrite(&w)) {
    WaitForWritersLocked(l);
    const std::size_t max_writers = std::max<std::size_t>(options_.max_group_writers, 1);
    std::size_t bytes = 0;
    for (Writer* x : writers_) {
      if (!IsWrite(x)) break;
      if (group.size() >= max_writers) break;
      if (!group.empty() && bytes + x->bytes > kMaxGroupBytes) break;
      bytes += x->bytes;
      group.push_back(x);
    }
    l.unlock();
    {
      std::shared_lock dl(db_mu_);
      WriteGroup(group);
    }
    l.lock();
    previous_group_ = group.size();
    previous_group_end_ = std::chrono::steady_clock::now();
  } else if (w.kind == WriterKind::kFlush) {
    group.push_back(&w);
    // After a failed write RocksDB must not be asked to sync that WAL again:
    // Debian's librocksdb asserts (aborts) in SyncWAL on a writer that has
    // seen an error (full disk: tests/store/full_disk_test.cc).
    const Status sticky = write_error_;
    l.unlock();
    {
      std::shared_lock dl(db_mu_);
      w.status = sticky.ok() ? FlushLocked() : sticky;
    }
    l.lock();
  } else {  // kClose
    group.push_back(&w);
    const Status sticky = write_error_;
    l.unlock();
    {
      std::unique_lock dl(db_mu_);
      Status s = sticky.ok() ? FlushLocked() : sticky;
      if (s.ok() && !options_.read_only) s = marker_.Sync();
      for (auto* h : handles_) {
        rocksdb::Status ds = db_->DestroyColumnFamilyHandle(h);
        if (s.ok()) s = FromRocks(ds, fmt::format("close {}", path_));
      }
      handles_.clear();
      rocksdb::Status cs = db_->Close();
      if (s.ok() && !cs.ok() && !cs.IsAborted()) s = FromRocks(cs, fmt::format("close {}", path_));
      delete db_;
      db_ = nullptr;
      lock_.Release();  // after RocksDB let go of LOCK
      w.status = s;
    }
    l.lock();
    closed_ = true;
  }

  std::vector<Writer*> finished;
  for (Writer* x : group) {
    writers_.pop_front();
    if (x->async) {
      finished.push_back(x);
    } else if (x != &w) {
      x->done = true;
      x->cv.notify_one();
    }
  }
  if (closed_) {
    // Writers queued behind Close.
    while (!writers_.empty()) {
      Writer* x = writers_.front();
      writers_.pop_front();
      x->status = Status::Unavailable(fmt::format("event store {} is closed", path_));
      if (x->async) {
        finished.push_back(x);
      } else {
        x->done = true;
        x->cv.notify_one();
      }
    }
  }
  w.done = true;
  if (!writers_.empty()) {
    Writer* next = writers_.front();
    if (next->async) {
      commit_cv_.notify_one();
    } else {
      next->cv.notify_one();
    }
  }
  return finished;
}

void RocksDbStore::RunCompletions(const std::vector<Writer*>& finished) {
  for (Writer* x : finished) {
    std::unique_ptr<Writer> owned(x);
    if (!owned->completion) continue;
    Result<AppendResult> r =
        owned->status.ok() ? Result<AppendResult>(owned->result) : Result<AppendResult>(owned->status);
    try {
      owned->completion(std::move(r));
    } catch (...) {
      // A completion must not throw; nothing escapes a store thread.
    }
  }
}

void RocksDbStore::CommitLoop() {
  std::unique_lock l(mu_);
  for (;;) {
    commit_cv_.wait(l, [&] { return commit_stop_ || (!writers_.empty() && writers_.front()->async); });
    if (writers_.empty() || !writers_.front()->async) {
      if (commit_stop_) return;
      continue;
    }
    std::vector<Writer*> finished = LeadLocked(*writers_.front(), l);
    l.unlock();
    RunCompletions(finished);
    l.lock();
  }
}

void RocksDbStore::StopCommitThread() {
  {
    std::lock_guard l(mu_);
    if (!commit_started_) return;
    commit_stop_ = true;
  }
  commit_cv_.notify_all();
  if (commit_thread_.joinable() && commit_thread_.get_id() != std::this_thread::get_id()) {
    commit_thread_.join();
  }
}

void RocksDbStore::WriteGroup(const std::vector<Writer*>& group) {
  if (db_ == nullptr) {  // Cannot happen: Close runs as a leader itself.
    for (Writer* x : group) x->status = Status::Unavailable(fmt::format("event store {} is closed", path_));
    return;
  }
  if (const auto& hook = LeaderHookForTesting(); hook) hook(group.size());
  // 1. Current versions of the group's streams: from the cache, else from the
  //    store (authoritative: only the leader writes). Entries are inserted
  //    into the cache before the write so readers can rely on them.
  std::unordered_map<std::string, std::uint64_t> versions;
  std::vector<std::string> missing;
  {
    std::lock_guard l(mu_);
    for (Writer* x : group) {
      if (x->kind != WriterKind::kAppend) continue;
      std::string s(x->stream);
      if (versions.count(s)) continue;
      auto it = versions_.find(s);
      if (it != versions_.end()) {
        versions[s] = it->second;
      } else {
        versions[s] = 0;
        missing.push_back(std::move(s));
      }
    }
  }
  std::vector<Status> group_status(group.size());
  if (!missing.empty()) {
    Status failure;
    for (const std::string& s : missing) {
      auto v = ReadStreamVersion(s);
      if (!v.ok()) {
        failure = v.status();
        break;
      }
      versions[s] = *v;
    }
    if (!failure.ok()) {
      for (Writer* x : group) x->status = failure;
      return;
    }
    std::lock_guard l(mu_);
    for (const std::string& s : missing) versions[s] = versions_.try_emplace(s, versions[s]).first->second;
  }

  // 2. Check and build.
  rocksdb::WriteBatch batch;
  std::uint64_t head = head_.load(std::memory_order_relaxed);
  std::unordered_map<std::string, CommandEntry> group_commands;
  std::vector<Writer*> contributors;  // their status depends on the write
  Durability strongest = Durability::kNone;
  bool any_write = false;
  auto stronger = [](Durability a, Durability b) {
    return static_cast<int>(a) < static_cast<int>(b) ? a : b;
  };

  for (Writer* x : group) {
    if (x->kind == WriterKind::kBatch) {
      batch.SetSavePoint();
      Status s = x->build(batch);
      if (!s.ok()) {
        (void)batch.RollbackToSavePoint();
        x->status = s;
        continue;
      }
      contributors.push_back(x);
      strongest = stronger(strongest, x->durability);
      any_write = true;
      continue;
    }
    // kAppend
    const std::string stream(x->stream);
    if (!x->command_id.empty()) {
      std::string cmd(x->command_id);
      std::optional<CommandEntry> seen;
      if (auto it = group_commands.find(cmd); it != group_commands.end()) {
        seen = it->second;
        contributors.push_back(x);  // the original is in this very write
      } else {
        std::string value;
        rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_, ToSlice(kCommandPrefix + cmd), &value);
        if (rs.ok()) {
          seen = DecodeCommandEntry(value);
          if (!seen) {
            x->status =
                Status::Corruption(fmt::format("store {}: malformed command-id entry for {}", path_, cmd));
            continue;
          }
        } else if (!rs.IsNotFound()) {
          x->status = FromRocks(rs, fmt::format("store {}: reading command id {}", path_, cmd));
          continue;
        }
      }
      if (seen) {
        if (seen->stream != stream) {
          x->status = CommandReused(cmd, stream, seen->stream);
        } else {
          x->result = seen->result;
          x->result.duplicate = true;
        }
        continue;
      }
    }
    std::uint64_t& version = versions[stream];
    Status s = CheckExpected(stream, x->expected, version);
    if (!s.ok()) {
      x->status = s;
      continue;
    }
    AppendResult r;
    r.first_position = head + 1;
    EventRecord rec;
    rec.stream = stream;
    rec.command_id = std::string(x->command_id);
    for (NewEvent& e : *x->events) {
      rec.position = ++head;
      rec.version = ++version;
      rec.type = std::move(e.type);
      rec.schema_version = e.schema_version;
      rec.recorded_us = e.recorded_us;
      rec.event_id = std::move(e.event_id);
      rec.correlation_id = std::move(e.correlation_id);
      rec.causation_id = std::move(e.causation_id);
      rec.actor = std::move(e.actor);
      rec.payload = std::move(e.payload);
      batch.Put(log_, PositionKey(rec.position), EncodeRecord(rec));
      batch.Put(streams_, StreamIndexKey(stream, rec.version), PositionKey(rec.position));
    }
    r.last_position = head;
    r.next_expected_version = version;
    batch.Put(meta_, kHeadPrefix + stream, EncodeBE64(version));
    if (!x->command_id.empty()) {
      CommandEntry entry{stream, r};
      batch.Put(meta_, ToSlice(kCommandPrefix + std::string(x->command_id)), EncodeCommandEntry(entry));
      group_commands.emplace(std::string(x->command_id), std::move(entry));
    }
    x->result = r;
    contributors.push_back(x);
    strongest = stronger(strongest, x->durability);
    any_write = true;
  }

  // 3. Write once.
  Status write_status;
  if (any_write) {
    rocksdb::WriteOptions wo;
    wo.sync = strongest == Durability::kSync;
    wo.disableWAL = strongest == Durability::kNone;
    if (!wo.disableWAL && nowal_dirty_) {
      // Earlier kNone writes exist only in memtables. A WAL write replayed
      // after a crash without them would leave a gap in the log: flush first.
      write_status = FlushLocked();
    }
    if (write_status.ok()) {
      write_status = FromRocks(db_->Write(wo, &batch), fmt::format("store {}: write", path_));
    }
    if (write_status.ok()) {
      if (wo.sync) {
        sync_count_.fetch_add(1, std::memory_order_relaxed);
        wal_unsynced_ = false;
      } else if (wo.disableWAL) {
        nowal_dirty_ = true;
      } else {
        wal_unsynced_ = true;
      }
      CountGroup(group.size());
      // The group is in the WAL (fsynced for kSync): it survives kill -9.
      if (!wo.disableWAL && head != marker_.position()) write_status = marker_.Record(head);
    }
  }

  // 4. Publish.
  std::lock_guard l(mu_);
  if (write_status.ok()) {
    for (const auto& [stream, version] : versions) versions_[stream] = version;
    head_.store(head, std::memory_order_release);
  } else {
    write_error_ = write_status;
    for (Writer* x : contributors) {
      x->status = write_status;
      x->result = AppendResult();
    }
  }
}

void RocksDbStore::CountGroup(std::size_t writers) {
  const auto& bounds = StoreStatistics::kGroupSizeBounds;
  std::size_t i = 0;
  while (i < bounds.size() && writers > bounds[i]) ++i;
  group_sizes_[i].fetch_add(1, std::memory_order_relaxed);
  group_writers_.fetch_add(writers, std::memory_order_relaxed);
}

StoreStatistics RocksDbStore::Statistics() const {
  StoreStatistics s;
  s.syncs = sync_count_.load(std::memory_order_relaxed);
  s.has_groups = true;
  for (std::size_t i = 0; i < group_sizes_.size(); ++i) {
    s.group_sizes[i] = group_sizes_[i].load(std::memory_order_relaxed);
    s.groups += s.group_sizes[i];
  }
  s.group_writers = group_writers_.load(std::memory_order_relaxed);
  return s;
}

Status RocksDbStore::FlushLocked() {
  if (db_ == nullptr || options_.read_only) return Status::Ok();
  if (nowal_dirty_) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    CASELOOP_RETURN_IF_ERROR(FromRocks(db_->Flush(fo, handles_), fmt::format("store {}: flush", path_)));
    nowal_dirty_ = false;
    // Every published append is in table files now.
    CASELOOP_RETURN_IF_ERROR(marker_.Record(head_.load(std::memory_order_acquire)));
  }
  if (wal_unsynced_) {
    CASELOOP_RETURN_IF_ERROR(FromRocks(db_->SyncWAL(), fmt::format("store {}: sync", path_)));
    sync_count_.fetch_add(1, std::memory_order_relaxed);
    wal_unsynced_ = false;
  }
  return Status::Ok();
}

Result<AppendResult> RocksDbStore::Append(std::string_view stream, ExpectedVersion expected,
                                          std::vector<NewEvent> events, const AppendOptions& options) {
  CASELOOP_RETURN_IF_ERROR(PrepareAppend(stream, events, options));
  if (options_.read_only) return ReadOnlyError();
  Writer w;
  w.kind = WriterKind::kAppend;
  w.durability = options.durability.value_or(options_.durability);
  w.stream = stream;
  w.expected = expected;
  w.events = &events;
  w.command_id = options.command_id;
  for (const NewEvent& e : events) w.bytes += e.payload.size() + e.type.size() + 64;
  Submit(w);
  if (!w.status.ok()) return w.status;
  return w.result;
}

void RocksDbStore::AppendAsync(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events,
                               AppendOptions options, std::function<void(Result<AppendResult>)> done) {
  auto fail = [&](Status s) {
    if (!done) return;
    try {
      done(std::move(s));
    } catch (...) {
    }
  };
  if (Status s = PrepareAppend(stream, events, options); !s.ok()) return fail(std::move(s));
  if (options_.read_only) return fail(ReadOnlyError());
  auto w = std::make_unique<Writer>();
  w->kind = WriterKind::kAppend;
  w->async = true;
  w->durability = options.durability.value_or(options_.durability);
  w->owned_stream = std::move(stream);
  w->owned_events = std::move(events);
  w->owned_command_id = std::move(options.command_id);
  w->stream = w->owned_stream;
  w->events = &w->owned_events;
  w->command_id = w->owned_command_id;
  w->expected = expected;
  for (const NewEvent& e : w->owned_events) w->bytes += e.payload.size() + e.type.size() + 64;
  std::unique_lock l(mu_);
  if (closed_) {
    l.unlock();
    return fail(Status::Unavailable(fmt::format("event store {} is closed", path_)));
  }
  if (!write_error_.ok()) {
    Status s = write_error_;
    l.unlock();
    return fail(std::move(s));
  }
  if (!commit_started_) {
    try {
      commit_thread_ = std::thread([this] { CommitLoop(); });
    } catch (const std::exception& e) {
      l.unlock();
      return fail(
          Status::IOError(fmt::format("store {}: cannot start the commit thread: {}", path_, e.what())));
    }
    commit_started_ = true;
  }
  w->completion = std::move(done);  // only now: `fail` above calls `done`
  EnqueueLocked(w.release());
}

Status RocksDbStore::SubmitBatch(std::function<Status(rocksdb::WriteBatch&)> build, std::size_t bytes,
                                 std::optional<Durability> durability) {
  if (options_.read_only) return ReadOnlyError();
  Writer w;
  w.kind = WriterKind::kBatch;
  w.durability = durability.value_or(options_.durability);
  w.build = std::move(build);
  w.bytes = bytes;
  Submit(w);
  return w.status;
}

Status RocksDbStore::Flush() {
  Writer w;
  w.kind = WriterKind::kFlush;
  Submit(w);
  return w.status;
}

Status RocksDbStore::Close() {
  Unregister();
  Writer w;
  w.kind = WriterKind::kClose;
  Submit(w);
  StopCommitThread();
  return w.status;
}

Status RocksDbStore::CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                                      std::uint64_t checkpoint) {
  if (name.empty()) return Status::InvalidArgument("projection name is empty");
  std::size_t bytes = 0;
  for (const KvOp& op : ops) bytes += op.key.size() + op.value.size() + 16;
  return SubmitBatch(
      [&](rocksdb::WriteBatch& b) {
        for (const KvOp& op : ops) {
          rocksdb::Status s =
              op.kind == KvOp::Kind::kPut ? b.Put(proj_, op.key, op.value) : b.Delete(proj_, op.key);
          CASELOOP_RETURN_IF_ERROR(FromRocks(s, fmt::format("store {}: projection {}", path_, name)));
        }
        return FromRocks(b.Put(meta_, kCheckpointPrefix + std::string(name), EncodeBE64(checkpoint)),
                         fmt::format("store {}: projection {}", path_, name));
      },
      bytes,
      // Projection state is derived from the log and committed atomically with
      // its checkpoint: a commit lost to a power cut is simply redone from the
      // older checkpoint. So it never needs an fsync of its own (it still goes
      // through the write-ahead log, and rides along when a group syncs).
      options_.durability == Durability::kSync ? std::optional<Durability>(Durability::kBuffered)
                                               : std::nullopt);
}

Status RocksDbStore::ResetProjection(std::string_view name, std::string_view prefix) {
  if (name.empty()) return Status::InvalidArgument("projection name is empty");
  return SubmitBatch(
      [&](rocksdb::WriteBatch& b) {
        const std::string where = fmt::format("store {}: reset of projection {}", path_, name);
        std::string end = PrefixSuccessor(prefix);
        if (!end.empty()) {
          CASELOOP_RETURN_IF_ERROR(FromRocks(b.DeleteRange(proj_, ToSlice(prefix), end), where));
        } else {
          // No key bounds the prefix: delete up to and including the last key.
          std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), proj_));
          it->SeekToLast();
          if (it->Valid() && ToView(it->key()) >= prefix) {
            std::string last = it->key().ToString();
            CASELOOP_RETURN_IF_ERROR(FromRocks(b.DeleteRange(proj_, ToSlice(prefix), last), where));
            CASELOOP_RETURN_IF_ERROR(FromRocks(b.Delete(proj_, last), where));
          }
          CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), where));
        }
        return FromRocks(b.Put(meta_, kCheckpointPrefix + std::string(name), EncodeBE64(0)), where);
      },
      64);
}

// ---- Reads -------------------------------------------------------------------

Result<std::uint64_t> RocksDbStore::ReadStreamVersion(std::string_view stream) {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_, ToSlice(kHeadPrefix + std::string(stream)), &value);
  if (s.IsNotFound()) return std::uint64_t{0};
  if (!s.ok()) return FromRocks(s, fmt::format("store {}: version of stream {}", path_, stream));
  auto v = DecodeBE64(value);
  if (!v)
    return Status::Corruption(fmt::format("store {}: malformed version entry of stream {}", path_, stream));
  return *v;
}

Result<std::uint64_t> RocksDbStore::StreamVersion(std::string_view stream) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::string key(stream);
  {
    std::lock_guard l(mu_);
    if (auto it = versions_.find(key); it != versions_.end()) return it->second;
  }
  auto v = ReadStreamVersion(stream);
  if (!v.ok()) return v;
  // A stream without a cache entry has no write in flight (the leader inserts
  // the entry before writing), so `v` is published, unless the entry appeared
  // meanwhile: then the entry is the published value. Unknown streams (0) are
  // not cached, so lookups of arbitrary names do not grow the cache.
  std::lock_guard l(mu_);
  if (auto it = versions_.find(key); it != versions_.end()) return it->second;
  if (*v != 0) versions_.emplace(std::move(key), *v);
  return *v;
}

Status RocksDbStore::ReadLogRecords(const std::vector<std::uint64_t>& positions,
                                    std::vector<EventRecord>& out) {
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (std::uint64_t p : positions) keys.push_back(PositionKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), log_);
  std::vector<std::string> values;
  std::vector<rocksdb::Status> st = db_->MultiGet(rocksdb::ReadOptions(), cfs, slices, &values);
  for (std::size_t i = 0; i < positions.size(); ++i) {
    if (st[i].IsNotFound()) {
      return Status::Corruption(
          fmt::format("store {}: record at position {} is missing from the log", path_, positions[i]));
    }
    CASELOOP_RETURN_IF_ERROR(
        FromRocks(st[i], fmt::format("store {}: reading position {}", path_, positions[i])));
    auto rec = DecodeRecord(values[i], positions[i]);
    if (!rec.ok()) return rec.status();
    out.push_back(std::move(*rec));
  }
  return Status::Ok();
}

Result<std::vector<EventRecord>> RocksDbStore::ReadStream(std::string_view stream, std::uint64_t from_version,
                                                          std::size_t max) {
  CASELOOP_RETURN_IF_ERROR(ValidateStream(stream));
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  const std::string prefix = StreamPrefix(stream);
  std::vector<EventRecord> out;
  std::vector<std::uint64_t> positions;
  std::vector<std::uint64_t> versions;
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_));
  auto flush_chunk = [&]() -> Status {
    std::size_t first = out.size();
    CASELOOP_RETURN_IF_ERROR(ReadLogRecords(positions, out));
    for (std::size_t i = 0; i < positions.size(); ++i) {
      const EventRecord& r = out[first + i];
      if (r.stream != stream || r.version != versions[i]) {
        return Status::Corruption(fmt::format(
            "store {}: stream {} version {} is indexed at position {}, which holds stream {} version {}",
            path_, stream, versions[i], positions[i], r.stream, r.version));
      }
    }
    positions.clear();
    versions.clear();
    return Status::Ok();
  };
  std::uint64_t expect_version = std::max<std::uint64_t>(from_version, 1);
  for (it->Seek(StreamIndexKey(stream, expect_version)); it->Valid() && out.size() + positions.size() < max;
       it->Next()) {
    std::string_view key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    auto parsed = ParseStreamIndexKey(key);
    auto pos = DecodeBE64(ToView(it->value()));
    if (!parsed || !pos) {
      return Status::Corruption(fmt::format("store {}: malformed index entry of stream {}", path_, stream));
    }
    if (*pos > head) break;  // not yet published
    if (parsed->second != expect_version) {
      return Status::Corruption(fmt::format("store {}: stream {} index has version {} where {} was expected",
                                            path_, stream, parsed->second, expect_version));
    }
    ++expect_version;
    positions.push_back(*pos);
    versions.push_back(parsed->second);
    if (positions.size() == kReadChunk) CASELOOP_RETURN_IF_ERROR(flush_chunk());
  }
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(it->status(), fmt::format("store {}: reading stream {}", path_, stream)));
  CASELOOP_RETURN_IF_ERROR(flush_chunk());
  return out;
}

template <typename Visit>
Status RocksDbStore::ScanLogLocked(std::uint64_t from, std::size_t max, Visit&& visit) {
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  if (from == 0) from = 1;
  if (from > head || max == 0) return Status::Ok();
  std::uint64_t last = head;
  if (max - 1 < head - from) last = from + max - 1;
  const std::string upper = PositionKey(last + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  if (last - from + 1 >= kLongScanRecords) {
    // A long sequential scan (a rebuild): read the table files ahead in large
    // pieces, and leave the block cache to the working set of queries.
    ro.readahead_size = kLongScanReadahead;
    ro.fill_cache = false;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
  std::uint64_t expect = from;
  for (it->Seek(PositionKey(from)); it->Valid(); it->Next()) {
    auto p = DecodeBE64(ToView(it->key()));
    if (!p)
      return Status::Corruption(
          fmt::format("store {}: malformed log key after position {}", path_, expect - 1));
    if (*p != expect) {
      return Status::Corruption(fmt::format("store {}: log position {} is missing", path_, expect));
    }
    Result<EventRecordView> rec = DecodeRecordView(ToView(it->value()), *p);
    if (!rec.ok()) return rec.status();
    ++expect;
    if (!visit(*rec)) return Status::Ok();
  }
  CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: reading the log", path_)));
  if (expect != last + 1) {
    return Status::Corruption(fmt::format("store {}: log position {} is missing", path_, expect));
  }
  return Status::Ok();
}

Result<std::vector<EventRecord>> RocksDbStore::ReadAll(std::uint64_t from, std::size_t max) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::vector<EventRecord> out;
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  if (from <= head && max > 0) {
    const std::uint64_t first = std::max<std::uint64_t>(from, 1);
    out.reserve(static_cast<std::size_t>(
        std::min<std::uint64_t>({head - first + 1, static_cast<std::uint64_t>(max), 4096})));
  }
  CASELOOP_RETURN_IF_ERROR(ScanLogLocked(from, max, [&](const EventRecordView& v) {
    out.push_back(ToRecord(v));
    return true;
  }));
  return out;
}

Status RocksDbStore::ScanAll(std::uint64_t from, std::size_t max,
                             const std::function<bool(const EventRecordView&)>& visit) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  return ScanLogLocked(from, max, visit);
}

Result<std::vector<std::string>> RocksDbStore::ListStreams(std::string_view after, std::size_t max) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::vector<std::string> out;
  const std::string prefix = kHeadPrefix;
  const std::string start = prefix + std::string(after);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(start); it->Valid() && out.size() < max; it->Next()) {
    std::string_view key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (key == start) continue;
    out.emplace_back(key.substr(prefix.size()));
  }
  CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: listing streams", path_)));
  return out;
}

Result<std::uint64_t> RocksDbStore::ProjectionCheckpoint(std::string_view name) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_, ToSlice(kCheckpointPrefix + std::string(name)), &value);
  if (s.IsNotFound()) return std::uint64_t{0};
  CASELOOP_RETURN_IF_ERROR(FromRocks(s, fmt::format("store {}: checkpoint of projection {}", path_, name)));
  auto v = DecodeBE64(value);
  if (!v)
    return Status::Corruption(fmt::format("store {}: malformed checkpoint of projection {}", path_, name));
  return *v;
}

Result<std::optional<std::string>> RocksDbStore::Get(std::string_view key) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), proj_, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  CASELOOP_RETURN_IF_ERROR(FromRocks(s, fmt::format("store {}: projection key", path_)));
  return std::optional<std::string>(std::move(value));
}

Status RocksDbStore::Scan(std::string_view start, std::string_view end,
                          const std::function<bool(std::string_view, std::string_view)>& fn) {
  // Reads in chunks and calls fn without holding locks, so fn may call back
  // into the store.
  std::string next(start);
  bool first = true;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> items;
    bool more = false;
    {
      std::shared_lock dl(db_mu_);
      CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
      rocksdb::ReadOptions ro;
      rocksdb::Slice upper(end.data(), end.size());
      if (!end.empty()) ro.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, proj_));
      it->Seek(next);
      if (!first && it->Valid() && ToView(it->key()) == next) it->Next();
      for (; it->Valid(); it->Next()) {
        if (items.size() == kReadChunk) {
          more = true;
          break;
        }
        items.emplace_back(it->key().ToString(), it->value().ToString());
      }
      CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: projection scan", path_)));
    }
    for (const auto& [k, v] : items) {
      if (!fn(k, v)) return Status::Ok();
    }
    if (!more || items.empty()) return Status::Ok();
    next = items.back().first;
    first = false;
  }
}

Status RocksDbStore::DropStateBeyondHead(std::vector<std::string>& done) {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  const std::uint64_t head = head_.load(std::memory_order_acquire);
  const std::string what = fmt::format("store {}: dropping state beyond the log head", path_);
  rocksdb::WriteBatch batch;
  std::size_t commands = 0, checkpoints = 0, projection_keys = 0;
  bool projections_ahead = false;
  std::vector<std::string> checkpoint_keys;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = ToView(it->key());
      const std::string_view value = ToView(it->value());
      if (key.substr(0, 2) == kCommandPrefix) {
        auto entry = DecodeCommandEntry(value);
        if (!entry || entry->result.last_position > head) {
          CASELOOP_RETURN_IF_ERROR(FromRocks(batch.Delete(meta_, it->key()), what));
          ++commands;
        }
      } else if (key.substr(0, 2) == kCheckpointPrefix) {
        checkpoint_keys.emplace_back(key);
        auto cp = DecodeBE64(value);
        if (!cp || *cp > head) projections_ahead = true;
      }
    }
    CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), what));
  }
  if (projections_ahead) {
    for (const auto& k : checkpoint_keys) CASELOOP_RETURN_IF_ERROR(FromRocks(batch.Delete(meta_, k), what));
    checkpoints = checkpoint_keys.size();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), proj_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      CASELOOP_RETURN_IF_ERROR(FromRocks(batch.Delete(proj_, it->key()), what));
      ++projection_keys;
    }
    CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), what));
  }
  if (batch.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  CASELOOP_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), what));
  if (commands > 0)
    done.push_back(
        fmt::format("removed {} command id(s) of lost appends (such commands can be sent again)", commands));
  if (projections_ahead)
    done.push_back(fmt::format(
        "dropped the projections ({} checkpoint(s), {} key(s)): they were ahead of the log and are rebuilt "
        "from it on the next open",
        checkpoints, projection_keys));
  return Status::Ok();
}

// ---- Check -------------------------------------------------------------------

Result<std::vector<std::string>> RocksDbStore::Check() {
  std::shared_lock dl(db_mu_);
  CASELOOP_RETURN_IF_ERROR(CheckOpenLocked());
  std::vector<std::string> problems;
  std::size_t more = 0;
  auto add = [&](std::string line) {
    if (problems.size() < kMaxCheckProblems) {
      problems.push_back(std::move(line));
    } else {
      ++more;
    }
  };
  // One consistent view: batches are atomic, so log, index and heads agree in it.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() {
      if (s != nullptr) db->ReleaseSnapshot(s);
    }
  } release{db_, snapshot};
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.total_order_seek = true;
  ro.fill_cache = false;

  // 1. The log: keys gap-free from 1, every record intact and indexed.
  std::uint64_t expect = 1;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto p = DecodeBE64(ToView(it->key()));
      if (!p) {
        add(fmt::format("log: malformed key of {} bytes after position {}", it->key().size(), expect - 1));
        continue;
      }
      if (*p != expect) {
        add(*p == expect + 1 ? fmt::format("log: position {} is missing", expect)
                             : fmt::format("log: positions {}..{} are missing", expect, *p - 1));
      }
      expect = *p + 1;
      auto rec = DecodeRecord(ToView(it->value()), *p);
      if (!rec.ok()) {
        add(rec.status().message());
        continue;
      }
      std::string value;
      rocksdb::Status s = db_->Get(ro, streams_, StreamIndexKey(rec->stream, rec->version), &value);
      if (s.IsNotFound()) {
        add(fmt::format("record at position {}: stream {} version {} is not in the stream index", *p,
                        rec->stream, rec->version));
      } else if (!s.ok()) {
        return FromRocks(s, fmt::format("store {}: check", path_));
      } else if (DecodeBE64(value) != p) {
        add(fmt::format("record at position {}: the index entry of stream {} version {} points elsewhere", *p,
                        rec->stream, rec->version));
      }
    }
    CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: check", path_)));
  }
  const std::uint64_t head = expect - 1;

  // 2. The stream index: versions 1..n per stream, each entry pointing at the
  //    record of that stream and version.
  std::map<std::string, std::uint64_t> index_heads;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_));
    std::string stream;
    std::uint64_t last = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto parsed = ParseStreamIndexKey(ToView(it->key()));
      if (!parsed) {
        add(fmt::format("stream index: malformed key of {} bytes", it->key().size()));
        continue;
      }
      auto& [s, v] = *parsed;
      if (s != stream) {
        stream = s;
        last = 0;
      }
      if (v != last + 1) {
        add(fmt::format("stream {}: index has version {} after version {}", s, v, last));
      }
      last = v;
      index_heads[s] = v;
      auto pos = DecodeBE64(ToView(it->value()));
      if (!pos) {
        add(fmt::format("stream {} version {}: malformed index value", s, v));
        continue;
      }
      if (*pos == 0 || *pos > head) {
        add(fmt::format("stream {} version {}: index points at position {}, beyond the log head {}", s, v,
                        *pos, head));
        continue;
      }
      std::string value;
      rocksdb::Status gs = db_->Get(ro, log_, PositionKey(*pos), &value);
      if (gs.IsNotFound()) {
        add(fmt::format("stream {} version {}: index points at position {}, which is missing", s, v, *pos));
        continue;
      }
      CASELOOP_RETURN_IF_ERROR(FromRocks(gs, fmt::format("store {}: check", path_)));
      auto rec = DecodeRecord(value, *pos);
      if (!rec.ok()) continue;  // reported with the log
      if (rec->stream != s || rec->version != v) {
        add(fmt::format("stream {} version {}: index points at position {}, which holds stream {} version {}",
                        s, v, *pos, rec->stream, rec->version));
      }
    }
    CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: check", path_)));
  }

  // 3. Stream heads in "meta" agree with the index.
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, meta_));
    const std::string prefix = kHeadPrefix;
    std::map<std::string, std::uint64_t> heads;
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      std::string_view key = ToView(it->key());
      if (key.substr(0, prefix.size()) != prefix) break;
      std::string s(key.substr(prefix.size()));
      auto v = DecodeBE64(ToView(it->value()));
      if (!v) {
        add(fmt::format("stream {}: malformed version entry", s));
        continue;
      }
      heads[s] = *v;
    }
    CASELOOP_RETURN_IF_ERROR(FromRocks(it->status(), fmt::format("store {}: check", path_)));
    for (const auto& [s, v] : heads) {
      auto i = index_heads.find(s);
      std::uint64_t indexed = i == index_heads.end() ? 0 : i->second;
      if (indexed != v)
        add(fmt::format("stream {}: version is {} but the index ends at version {}", s, v, indexed));
    }
    for (const auto& [s, v] : index_heads) {
      if (!heads.count(s))
        add(fmt::format("stream {}: indexed up to version {} but has no version entry", s, v));
    }
  }
  // 4. Every block of every table file, in every keyspace (the projection
  //    keyspace and the rest of "meta" are not read above).
  {
    rocksdb::ReadOptions vo;
    vo.fill_cache = false;
    rocksdb::Status vs = db_->VerifyChecksum(vo);
    if (!vs.ok()) add(fmt::format("table files: {}", vs.ToString()));
  }
  if (more > 0) problems.push_back(fmt::format("... and {} more problems", more));
  return problems;
}

}  // namespace

Result<std::vector<std::string>> RepairRocksDbStore(const std::string& path, const RepairOptions& options) {
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  if (IsPostgresUrl(path)) {
    return Status::InvalidArgument(
        "repair is for the embedded RocksDB store; a PostgreSQL database is repaired with PostgreSQL's own "
        "tools "
        "(docs/scale.md)");
  }
  std::vector<std::string> done;
  auto kind = CheckDirectory(path, /*create=*/false);
  if (!kind.ok() && !kind.status().IsCorruption()) return kind.status();
  if (!kind.ok()) {
    // CURRENT is missing beside the files of a database. Held while CURRENT
    // or the manifest is written again (released before the store opens).
    auto lock = DirectoryLock::Acquire(path, DirectoryLock::Mode::kExclusive);
    if (!lock.ok()) return lock.status();
    std::string manifest;
    std::uint64_t newest = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.rfind("MANIFEST-", 0) != 0) continue;
      std::uint64_t number = 0;
      try {
        number = std::stoull(name.substr(9));
      } catch (const std::exception&) {
        continue;
      }
      if (manifest.empty() || number > newest) {
        newest = number;
        manifest = name;
      }
    }
    if (ec) return Status::IOError(fmt::format("cannot list {}: {}", path, ec.message()));
    if (!manifest.empty()) {
      // As RocksDB writes it: to a temporary file, synced, renamed.
      const std::string tmp = path + "/CURRENT.repair";
      std::FILE* f = std::fopen(tmp.c_str(), "w");
      bool ok = f != nullptr && std::fprintf(f, "%s\n", manifest.c_str()) > 0 && std::fflush(f) == 0 &&
                ::fsync(::fileno(f)) == 0;
      if (f != nullptr && std::fclose(f) != 0) ok = false;
      if (!ok || std::rename(tmp.c_str(), (path + "/CURRENT").c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        return Status::IOError(fmt::format("cannot write {}/CURRENT: {}", path, std::strerror(err)));
      }
      done.push_back(fmt::format("wrote CURRENT naming {}, the newest manifest", manifest));
    } else {
      rocksdb::Options ro;
      ro.create_if_missing = false;
      std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
      for (const char* name :
           {rocksdb::kDefaultColumnFamilyName.c_str(), kLogCf, kStreamsCf, kMetaCf, kProjCf})
        cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
      rocksdb::Status rs =
          rocksdb::RepairDB(path, rocksdb::DBOptions(ro), cfs, rocksdb::ColumnFamilyOptions());
      if (!rs.ok()) return FromRocks(rs, fmt::format("repair {}", path));
      // RepairDB recreates only the column families it found data of.
      rocksdb::DBOptions add(ro);
      add.create_missing_column_families = true;
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      rocksdb::DB* db = nullptr;
      rs = rocksdb::DB::Open(add, path, cfs, &handles, &db);
      if (!rs.ok()) return FromRocks(rs, fmt::format("repair {}: adding column families", path));
      for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
      rs = db->Close();
      delete db;
      if (!rs.ok()) return FromRocks(rs, fmt::format("repair {}: closing", path));
      done.push_back("rebuilt the manifest from the table files and logs (RocksDB RepairDB)");
    }
  }
  StoreOptions so;
  so.create_if_missing = false;
  RocksDbStore store(path, so);
  if (options.accept_loss) store.set_accept_loss();
  CASELOOP_RETURN_IF_ERROR(store.Open());
  if (!store.accepted().empty()) {
    done.push_back(store.accepted());
    CASELOOP_RETURN_IF_ERROR(store.DropStateBeyondHead(done));
  }
  CASELOOP_RETURN_IF_ERROR(store.Close());
  return done;
}

Status CheckStoreWritable(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  return CheckWritable(path);
}

Status store_internal::WithLiveDb(const std::string& dir, const std::function<Status(const LiveDb&)>& fn) {
  auto id = DirectoryId(dir);
  if (!id) return Status::NotFound(fmt::format("no store open at {}", dir));
  std::shared_lock<std::shared_mutex> open;
  RocksDbStore* store = nullptr;
  {
    std::lock_guard g(g_live_mu);
    auto it = g_live.find(*id);
    if (it == g_live.end()) return Status::NotFound(fmt::format("no store open at {} in this process", dir));
    store = it->second;
    open = std::shared_lock(store->db_mu_);  // a Close waits for it (Close unregisters first)
  }
  if (store->db_ == nullptr) return Status::Unavailable(fmt::format("event store {} is closed", dir));
  return fn(LiveDb{store->db_, store->HeadPosition(), store->path_});
}

Result<std::unique_ptr<EventStore>> OpenRocksDbStore(const std::string& path, const StoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  CASELOOP_RETURN_IF_ERROR(ValidateStoreOptions(options, "StoreOptions"));
  auto store = std::make_unique<RocksDbStore>(path, options);
  CASELOOP_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<EventStore>(std::move(store));
}

Result<Storage> OpenRocksDbStorage(const std::string& path, const StoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("store path is empty");
  CASELOOP_RETURN_IF_ERROR(ValidateStoreOptions(options, "StoreOptions"));
  auto store = std::make_shared<RocksDbStore>(path, options);
  CASELOOP_RETURN_IF_ERROR(store->Open());
  return Storage{store, store};
}

}  // namespace caseloop
