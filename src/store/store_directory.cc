#include "store/store_directory.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include "store/record_codec.h"

namespace caseloop::store_internal {
namespace {

namespace fs = std::filesystem;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Files RocksDB writes before a database exists (the lock, its info log).
bool IsPreDatabaseFile(std::string_view name) {
  return name == "LOCK" || name == "LOG" || StartsWith(name, "LOG.old");
}

// Files that belong to a database: a directory holding one of these has (or
// had) a database in it.
bool IsDatabaseFile(std::string_view name) {
  return StartsWith(name, "MANIFEST-") || StartsWith(name, "OPTIONS-") || name == "IDENTITY" ||
         EndsWith(name, ".sst") || EndsWith(name, ".log") || EndsWith(name, ".blob") ||
         name == kAckMarkerFile || name == "CURRENT.dbtmp";
}

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// Slot layout (little-endian), part of the on-disk format:
//   0  "CLAK"   4  u32 layout version (1)   8  u64 sequence   16  u64 position
//   24 u32 CRC32C of bytes 0..23            28  u32 zero
constexpr std::size_t kSlotBytes = 32;
constexpr char kSlotMagic[4] = {'C', 'L', 'A', 'K'};
constexpr std::uint32_t kSlotVersion = 1;

void Put32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void Put64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::uint32_t Get32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint64_t Get64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

struct Slot {
  std::uint64_t sequence = 0;
  std::uint64_t position = 0;
};

std::optional<Slot> DecodeSlot(const char* p) {
  if (std::memcmp(p, kSlotMagic, 4) != 0 || Get32(p + 4) != kSlotVersion) return std::nullopt;
  if (Get32(p + 24) != Crc32c(std::string_view(p, 24))) return std::nullopt;
  return Slot{Get64(p + 8), Get64(p + 16)};
}

}  // namespace

Result<DirectoryKind> CheckDirectory(const std::string& dir, bool create) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Status::IOError(fmt::format("cannot read {}: {}", dir, ec.message()));
  if (!fs::exists(st)) {
    if (create) return DirectoryKind::kMissing;
    return Status::IOError(fmt::format("no database at {}: the directory does not exist", dir));
  }
  if (!fs::is_directory(st)) return Status::IOError(fmt::format("{} is not a directory", dir));

  bool has_current = false;
  std::vector<std::string> database_files, other_files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "CURRENT") {
      has_current = true;
    } else if (IsDatabaseFile(name)) {
      database_files.push_back(name);
    } else if (!IsPreDatabaseFile(name)) {
      other_files.push_back(name);
    }
  }
  if (ec) return Status::IOError(fmt::format("cannot list {}: {}", dir, ec.message()));
  if (has_current) return DirectoryKind::kDatabase;

  if (!database_files.empty()) {
    std::sort(database_files.begin(), database_files.end());
    std::vector<std::string> manifests;
    std::size_t tables = 0, logs = 0, others = 0;
    for (const auto& f : database_files) {
      if (StartsWith(f, "MANIFEST-")) {
        manifests.push_back(f);
      } else if (EndsWith(f, ".sst")) {
        ++tables;
      } else if (EndsWith(f, ".log")) {
        ++logs;
      } else {
        ++others;
      }
    }
    std::vector<std::string> found;
    if (!manifests.empty()) found.push_back(fmt::format("{}", fmt::join(manifests, ", ")));
    if (tables > 0) found.push_back(Plural(tables, "table file (.sst)", "table files (.sst)"));
    if (logs > 0) found.push_back(Plural(logs, "write-ahead log (.log)", "write-ahead logs (.log)"));
    if (others > 0) found.push_back(Plural(others, "other database file", "other database files"));
    std::string recover =
        manifests.empty()
            ? "restore it from a backup, or rebuild its manifest from the table files (caseloop repair)"
            : fmt::format(
                  "restore it from a backup, or name its newest manifest in CURRENT (caseloop "
                  "repair, or: printf '{}\\n' > {}/CURRENT)",
                  manifests.back(), dir);
    return Status::Corruption(fmt::format(
        "the database at {} is damaged: its CURRENT file is missing, but it holds {}. Nothing was changed "
        "(a new database is never created over an old one). To recover: {}; then run caseloop check",
        dir, fmt::join(found, ", "), recover));
  }
  if (!other_files.empty()) {
    std::sort(other_files.begin(), other_files.end());
    const std::size_t shown = std::min<std::size_t>(other_files.size(), 5);
    return Status::InvalidArgument(fmt::format(
        "{} holds no database but is not empty ({}{}): a new database is created only in a new or empty "
        "directory",
        dir, fmt::join(other_files.begin(), other_files.begin() + static_cast<std::ptrdiff_t>(shown), ", "),
        other_files.size() > shown ? fmt::format(" and {} more", other_files.size() - shown) : ""));
  }
  if (create) return DirectoryKind::kEmpty;
  return Status::IOError(fmt::format("no database at {}: the directory holds none", dir));
}

Status CheckWritable(const std::string& dir) {
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK, AT_EACCESS) == 0) return Status::Ok();
  const int err = errno;
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::Ok();  // nothing there: the open says what is missing
    case EROFS:
      return Status::IOError(fmt::format(
          "{} is on a read-only file system: the database can only be opened read-only there", dir));
    case EACCES:
    case EPERM:
      return Status::IOError(fmt::format(
          "{} cannot be written by this process (permission denied): the database can only be opened "
          "read-only",
          dir));
    default:
      return Status::IOError(fmt::format("cannot write in {}: {}", dir, std::strerror(err)));
  }
}

namespace {

// The directories this process holds (DirectoryLock), by device and inode.
struct Hold {
  DirectoryLock::Mode mode = DirectoryLock::Mode::kShared;
  int shared = 0;  // kShared holders
  int fd = -1;     // kShared, kExclusive: our descriptor of LOCK (-1: none)
};

std::mutex& HoldsMutex() {
  static std::mutex mu;
  return mu;
}

std::map<std::pair<std::uint64_t, std::uint64_t>, Hold>& Holds() {
  static std::map<std::pair<std::uint64_t, std::uint64_t>, Hold> holds;
  return holds;
}

Status LockedByAnotherProcess(const std::string& dir, const std::string& detail) {
  return Status::IOError(fmt::format("database {} is locked by another process ({})", dir, detail));
}

// An fcntl lock of the whole file, without waiting.
bool FcntlLock(int fd, short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  return ::fcntl(fd, F_SETLK, &fl) == 0;
}

}  // namespace

Result<DirectoryLock> DirectoryLock::Acquire(const std::string& dir, Mode mode) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return Status::IOError(fmt::format("cannot read {}: {}", dir, std::strerror(errno)));
  const std::string lock = dir + "/LOCK";
  struct stat lst {};
  const bool exists = ::lstat(lock.c_str(), &lst) == 0;
  if (exists && !S_ISREG(lst.st_mode)) {
    return Status::IOError(
        fmt::format("{} is {}, not RocksDB's lock file: remove it (the database takes a new one)", lock,
                    S_ISDIR(lst.st_mode) ? "a directory" : "not a regular file"));
  }

  const auto key =
      std::make_pair(static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
  std::lock_guard l(HoldsMutex());
  auto& holds = Holds();
  if (auto it = holds.find(key); it != holds.end()) {
    if (mode == Mode::kShared && it->second.mode == Mode::kShared) {
      ++it->second.shared;
    } else {
      return LockedByAnotherProcess(
          dir, fmt::format("{} is held by another store {} in this process", lock,
                           it->second.mode == Mode::kShared ? "open read-only" : "open read-write"));
    }
  } else {
    Hold hold;
    hold.mode = mode;
    if (mode == Mode::kShared) {
      hold.shared = 1;
      if (exists) {
        hold.fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
        if (hold.fd < 0)
          return Status::IOError(fmt::format("cannot open {}: {}", lock, std::strerror(errno)));
        if (!FcntlLock(hold.fd, F_RDLCK)) {
          const int err = errno;
          ::close(hold.fd);  // this process holds no other lock on it: nothing else is released
          if (err == EAGAIN || err == EACCES)
            return LockedByAnotherProcess(dir, fmt::format("{}: a read-write open holds it", lock));
          return Status::IOError(fmt::format("cannot lock {}: {}", lock, std::strerror(err)));
        }
      }
    } else if (mode == Mode::kExclusive) {
      hold.fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (hold.fd < 0) return Status::IOError(fmt::format("cannot open {}: {}", lock, std::strerror(errno)));
      if (!FcntlLock(hold.fd, F_WRLCK)) {
        const int err = errno;
        ::close(hold.fd);
        if (err == EAGAIN || err == EACCES) return LockedByAnotherProcess(dir, lock);
        return Status::IOError(fmt::format("cannot lock {}: {}", lock, std::strerror(err)));
      }
    }
    holds.emplace(key, hold);
  }
  DirectoryLock out;
  out.held_ = true;
  out.device_ = key.first;
  out.inode_ = key.second;
  return out;
}

void DirectoryLock::Release() {
  if (!held_) return;
  held_ = false;
  std::lock_guard l(HoldsMutex());
  auto& holds = Holds();
  auto it = holds.find({device_, inode_});
  if (it == holds.end()) return;
  if (it->second.mode == Mode::kShared && --it->second.shared > 0) return;
  if (it->second.fd >= 0) ::close(it->second.fd);
  holds.erase(it);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept { *this = std::move(other); }

DirectoryLock& DirectoryLock::operator=(DirectoryLock&& other) noexcept {
  if (this != &other) {
    Release();
    held_ = std::exchange(other.held_, false);
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

std::optional<Status> LockFailure(const std::string& dir, const std::string& rocksdb_message) {
  const std::string lock = dir + "/LOCK";
  // RocksDB's PosixFileSystem::LockFile: "lock hold by current process ...",
  // "While lock file: DIR/LOCK: <strerror>", "while open a file for lock:
  // DIR/LOCK: <strerror>".
  auto reason = [&]() {
    const std::size_t at = rocksdb_message.find(lock + ": ");
    return at == std::string::npos ? rocksdb_message : rocksdb_message.substr(at + lock.size() + 2);
  };
  if (rocksdb_message.find("lock hold by current process") != std::string::npos)
    return LockedByAnotherProcess(dir, fmt::format("{} is held by another store in this process", lock));
  if (rocksdb_message.find("While lock file") != std::string::npos) {
    const std::string why = reason();
    if (why.find(std::strerror(EAGAIN)) != std::string::npos ||
        why.find(std::strerror(EACCES)) != std::string::npos)
      return LockedByAnotherProcess(dir, rocksdb_message);
    return Status::IOError(fmt::format("cannot lock {}: {}", lock, why));
  }
  if (rocksdb_message.find("while open a file for lock") != std::string::npos)
    return Status::IOError(fmt::format("cannot open {}: {}", lock, reason()));
  return std::nullopt;
}

AckMarker::AckMarker(AckMarker&& other) noexcept { *this = std::move(other); }

AckMarker& AckMarker::operator=(AckMarker&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    sequence_ = other.sequence_;
    position_ = other.position_;
    damaged_ = other.damaged_;
  }
  return *this;
}

AckMarker::~AckMarker() {
  if (fd_ >= 0) ::close(fd_);
}

Result<AckMarker> AckMarker::Open(const std::string& dir, bool writable) {
  AckMarker m;
  m.path_ = dir + "/" + kAckMarkerFile;
  int fd = ::open(m.path_.c_str(), (writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (!writable && errno == ENOENT) return m;
    return Status::IOError(fmt::format("cannot open {}: {}", m.path_, std::strerror(errno)));
  }
  m.fd_ = fd;
  char buf[2 * kSlotBytes];
  ssize_t n;
  do {
    n = ::pread(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::IOError(fmt::format("cannot read {}: {}", m.path_, std::strerror(errno)));
  if (n == 0) return m;  // missing before (just created)
  std::optional<Slot> best;
  for (std::size_t i = 0; (i + 1) * kSlotBytes <= static_cast<std::size_t>(n); ++i) {
    auto slot = DecodeSlot(buf + i * kSlotBytes);
    if (slot && (!best || slot->sequence > best->sequence)) best = slot;
  }
  if (!best) {
    m.damaged_ = true;
    return m;
  }
  m.sequence_ = best->sequence;
  m.position_ = best->position;
  return m;
}

Status AckMarker::Record(std::uint64_t position) {
  if (fd_ < 0) return Status::IOError(fmt::format("{} is not open for writing", path_));
  char slot[kSlotBytes] = {};
  const std::uint64_t sequence = sequence_ + 1;
  std::memcpy(slot, kSlotMagic, 4);
  Put32(slot + 4, kSlotVersion);
  Put64(slot + 8, sequence);
  Put64(slot + 16, position);
  Put32(slot + 24, Crc32c(std::string_view(slot, 24)));
  const off_t offset = static_cast<off_t>((sequence % 2) * kSlotBytes);
  ssize_t n;
  do {
    n = ::pwrite(fd_, slot, kSlotBytes, offset);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(kSlotBytes)) {
    return Status::IOError(
        fmt::format("cannot write {}: {}", path_, n < 0 ? std::strerror(errno) : "short write"));
  }
  sequence_ = sequence;
  position_ = position;
  damaged_ = false;
  return Status::Ok();
}

Status AckMarker::Sync() {
  if (fd_ < 0) return Status::Ok();
  if (::fdatasync(fd_) != 0)
    return Status::IOError(fmt::format("cannot sync {}: {}", path_, std::strerror(errno)));
  return Status::Ok();
}

std::optional<std::string> LostEventsProblem(const std::string& dir, std::uint64_t head,
                                             std::uint64_t acknowledged) {
  if (head >= acknowledged) return std::nullopt;
  return fmt::format(
      "{} acknowledged event{} missing: the log ends at position {}, but position {} was acknowledged "
      "({}/{}). The write-ahead log (*.log) was truncated or deleted, or the disk lost writes. Restore {} "
      "from a backup; or accept the loss and continue from position {} (caseloop repair --accept-loss)",
      acknowledged - head, acknowledged - head == 1 ? " is" : "s are", head, acknowledged, dir,
      kAckMarkerFile, dir, head);
}

}  // namespace caseloop::store_internal

namespace caseloop {

bool IsDatabaseUri(std::string_view path) {
  return path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
}

std::string PathForMessages(const std::string& path) {
  if (!IsDatabaseUri(path)) return path;
  std::string out = path;
  // A password parameter ("?password=..." or "&password=...").
  for (std::size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p == 0 || (out[p - 1] != '?' && out[p - 1] != '&')) continue;
    const std::size_t value = p + 9;
    const std::size_t end = std::min(out.find('&', value), out.size());
    out.replace(value, end - value, "***");
  }
  // The userinfo's password: the userinfo ends at the last '@' before the
  // path ('@' belongs in a password only percent-encoded, but a hand-typed
  // one is redacted too).
  const std::size_t scheme = out.find("://") + 3;
  const std::size_t slash = out.find('/', scheme);
  const std::size_t at = out.rfind('@', slash);
  if (at == std::string::npos || at < scheme) return out;
  const std::size_t colon = out.find(':', scheme);
  if (colon == std::string::npos || colon > at) return out;
  return out.substr(0, colon + 1) + "***" + out.substr(at);
}

std::string DefaultKeysFile(const std::string& path) {
  if (path == ":memory:" || IsDatabaseUri(path)) return "";  // (kInMemoryPath, caseloop/engine.h)
  std::string dir = path;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".keys";
}

}  // namespace caseloop
