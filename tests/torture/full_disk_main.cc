// caseloop_full_disk — the engine on a disk that fills up.
//
//   caseloop_full_disk [--size-mb N]      (default 16)
//
// Mounts a small tmpfs (root; exits 77 = skipped, with a message, where
// mounting is not permitted), opens an Engine on it in kSync mode, fills the
// rest of the file system with a ballast file and runs the random workload
// until the storage refuses. Then checks:
//   1. commands fail with a storage error (IOError or Unavailable), never a
//      crash or a hang, and keep failing while the disk is full; reads of
//      acknowledged cases still answer;
//   2. after the ballast is deleted, the engine (reopened: RocksDB stops
//      writing after a failed write) has every acknowledged command, checks
//      clean, its projections equal a rebuild, and accepts commands again;
//   3. a disk that is full before the open: the open either works or fails
//      with a clear IOError; after `mount -o remount,size=` grows the file
//      system, everything acknowledged is there and commands work again.
// Exit status 0 on success, 1 on a failed check, 77 when skipped.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "caseloop/engine.h"
#include "workload.h"

namespace fs = std::filesystem;
using namespace caseloop;
using namespace caseloop::torture;

namespace {

constexpr std::int64_t kStartUs = 1740963600000000LL;  // Monday 2025-03-03 09:00 +08:00

int g_failures = 0;

void Fail(const std::string& what) {
  ++g_failures;
  std::cerr << "FAIL: " << what << std::endl;
}

struct Ack {
  std::string stream;
  std::uint64_t first = 0, last = 0;
};

class FullDisk {
 public:
  FullDisk(std::string mnt, int size_mb) : mnt_(std::move(mnt)), db_(mnt_ + "/db"), size_mb_(size_mb) {}

  int Run() {
    std::cout << "full_disk: tmpfs of " << size_mb_ << " MiB at " << mnt_ << std::endl;
    // 1. Fill the disk under a running engine.
    {
      Result<std::unique_ptr<Engine>> e = Open();
      if (!e.ok()) {
        Fail("open on an empty " + std::to_string(size_mb_) + " MiB disk: " + e.status().ToString());
        return 1;
      }
      Workload(**e, 50, /*expect_success=*/true, "warm-up");
      std::uint64_t ballast = FillDisk(mnt_ + "/ballast", 256 << 10);
      std::cout << "full_disk: ballast " << ballast / 1024 << " KiB, " << FreeBytes() / 1024 << " KiB left"
                << std::endl;
      RunUntilFull(**e);
      CheckReadsWhileFull(**e);
      Status closed = (*e)->Close();
      std::cout << "full_disk: close on a full disk: " << closed.ToString() << std::endl;
    }
    // 2. Free the space: reopen, check, work again.
    fs::remove(mnt_ + "/ballast");
    std::cout << "full_disk: ballast deleted, " << FreeBytes() / 1024 << " KiB free" << std::endl;
    if (!VerifyAndWork("after deleting the ballast")) return 1;

    // 3. Full before the open, then grow the file system.
    std::uint64_t ballast = FillDisk(mnt_ + "/ballast2", 0);
    std::cout << "full_disk: disk full again (ballast " << ballast / 1024 << " KiB, " << FreeBytes()
              << " bytes free)" << std::endl;
    {
      Result<std::unique_ptr<Engine>> e = Open();
      if (!e.ok()) {
        std::cout << "full_disk: open on a full disk refused: " << e.status().ToString() << std::endl;
        if (!e.status().IsIOError() && !e.status().IsCorruption()) {
          Fail("open on a full disk: expected IOError, got " + e.status().ToString());
        }
        if (e.status().IsCorruption())
          Fail("open on a full disk reports corruption: " + e.status().ToString());
      } else {
        RunUntilFull(**e);
        Status closed = (*e)->Close();
        std::cout << "full_disk: close on a full disk: " << closed.ToString() << std::endl;
      }
    }
    std::string opts = "size=" + std::to_string(size_mb_ * 4) + "m";
    if (mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) != 0) {
      Fail(std::string("remount bigger: ") + std::strerror(errno));
      return 1;
    }
    std::cout << "full_disk: remounted with " << opts << ", " << FreeBytes() / 1024 << " KiB free"
              << std::endl;
    if (!VerifyAndWork("after growing the file system")) return 1;
    std::cout << "full_disk: " << acks_.size() << " acknowledged commands, " << refused_storage_
              << " refused with a storage error, 0 lost" << std::endl;
    return g_failures == 0 ? 0 : 1;
  }

 private:
  Result<std::unique_ptr<Engine>> Open() {
    EngineOptions eo;
    eo.path = db_;
    eo.store.durability = Durability::kSync;
    eo.clock = std::make_shared<ManualClock>(InstantFromMicros(clock_us_));
    eo.default_config = true;
    return Engine::Open(eo);
  }

  std::uint64_t FreeBytes() const {
    struct statvfs v {};
    if (statvfs(mnt_.c_str(), &v) != 0) return 0;
    return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
  }

  // Writes `path` until only `leave` bytes are free (or the disk is full).
  std::uint64_t FillDisk(const std::string& path, std::uint64_t leave) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
      Fail("create " + path + ": " + std::strerror(errno));
      return 0;
    }
    std::vector<char> chunk(64 << 10, 'x');
    std::uint64_t written = 0;
    for (;;) {
      std::uint64_t free = FreeBytes();
      if (free <= leave) break;
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), free - leave));
      ssize_t w = write(fd, chunk.data(), n);
      if (w <= 0) break;  // ENOSPC
      written += static_cast<std::uint64_t>(w);
    }
    close(fd);
    return written;
  }

  // One random command; returns its status.
  Status Step(Engine& engine) {
    Command cmd;
    bool is_report = false;
    if (pool_.size() < 6 || Chance(rng_, 0.2)) {
      cmd = NewReport("F" + std::to_string(++next_case_), rng_);
      // Some reports carry a large description, to fill the disk sooner.
      if (Chance(rng_, 0.3))
        cmd.description = std::string(static_cast<std::size_t>(Uniform(rng_, 1, 64)) << 10, 'd');
      is_report = true;
    } else {
      std::size_t i = static_cast<std::size_t>(Uniform(rng_, 0, static_cast<std::int64_t>(pool_.size()) - 1));
      Result<CaseState> state = engine.State(pool_[i]);
      if (!state.ok()) return state.status();
      std::optional<Command> next = NextCommand(*state, rng_, "");
      if (!next) {
        pool_.erase(pool_.begin() + static_cast<std::ptrdiff_t>(i));
        return Status::Ok();
      }
      cmd = std::move(*next);
    }
    cmd.command_id = "fd/" + std::to_string(++seq_);
    Result<CommandAck> r = engine.Submit(cmd);
    if (r.ok()) {
      if (r->first_position != 0)
        acks_[cmd.command_id] = Ack{r->case_id, r->first_position, r->last_position};
      if (is_report) pool_.push_back(cmd.case_id);
      last_acked_case_ = cmd.case_id;
    }
    if (Chance(rng_, 0.05)) {
      clock_us_ += Uniform(rng_, 1, 120) * 60 * 1000000LL;
      Status s = engine.AdvanceTo(InstantFromMicros(clock_us_));
      if (!s.ok()) return s;
    }
    return r.ok() ? Status::Ok() : r.status();
  }

  static bool IsStorageError(const Status& s) { return s.IsIOError() || s.IsUnavailable(); }

  void Workload(Engine& engine, int n, bool expect_success, const char* what) {
    int storage = 0;
    for (int i = 0; i < n; ++i) {
      Status s = Step(engine);
      if (IsStorageError(s) || s.IsCorruption()) {
        ++storage;
        if (expect_success) Fail(std::string(what) + ": storage error with space free: " + s.ToString());
      }
    }
    (void)storage;
  }

  void RunUntilFull(Engine& engine) {
    Status first;
    int steps = 0;
    for (; steps < 200000; ++steps) {
      Status s = Step(engine);
      if (s.IsCorruption()) Fail("a full disk reported as corruption: " + s.ToString());
      if (IsStorageError(s)) {
        first = s;
        break;
      }
    }
    if (first.ok()) {
      Fail("the disk never filled up after " + std::to_string(steps) + " commands");
      return;
    }
    ++refused_storage_;
    std::cout << "full_disk: first storage error after " << steps << " commands: " << first.ToString()
              << std::endl;
    // While the disk stays full every write keeps failing cleanly.
    const std::size_t acked_before = acks_.size();
    int storage = 0;
    for (int i = 0; i < 100; ++i) {
      Status s = Step(engine);
      if (IsStorageError(s)) ++storage;
      if (s.IsCorruption()) Fail("a full disk reported as corruption: " + s.ToString());
    }
    refused_storage_ += storage;
    if (acks_.size() != acked_before) {
      Fail("commands were acknowledged after the store had failed a write on the full disk");
    }
    std::cout << "full_disk: 100 more steps on the full disk: " << storage
              << " refused with a storage error, none acknowledged" << std::endl;
  }

  void CheckReadsWhileFull(Engine& engine) {
    if (last_acked_case_.empty()) return;
    Result<CaseState> s = engine.State(last_acked_case_);
    if (!s.ok() && !IsStorageError(s.status())) {
      Fail("reading case " + last_acked_case_ + " on a full disk: " + s.status().ToString());
    }
    Result<std::vector<LoggedEvent>> h = engine.History(last_acked_case_);
    if (!h.ok() && !IsStorageError(h.status())) {
      Fail("history of " + last_acked_case_ + " on a full disk: " + h.status().ToString());
    }
  }

  bool VerifyAndWork(const std::string& when) {
    Result<std::unique_ptr<Engine>> opened = Open();
    if (!opened.ok()) {
      Fail("reopen " + when + ": " + opened.status().ToString());
      return false;
    }
    Engine& engine = **opened;
    Result<std::vector<std::string>> problems = engine.Check();
    if (!problems.ok())
      Fail("Check " + when + ": " + problems.status().ToString());
    else
      for (const auto& p : *problems) Fail("check " + when + ": " + p);

    Result<std::vector<LoggedEvent>> all = engine.ReadLog(1, SIZE_MAX);
    if (!all.ok()) {
      Fail("ReadLog " + when + ": " + all.status().ToString());
      return false;
    }
    std::map<std::string, Ack> found;
    for (const LoggedEvent& logged : *all) {
      const EventRecord& r = logged.record;
      if (r.command_id.empty()) continue;
      auto [it, fresh] = found.try_emplace(r.command_id, Ack{r.stream, r.position, r.position});
      if (!fresh) {
        if (r.position != it->second.last + 1 || r.stream != it->second.stream)
          Fail("command " + r.command_id + " is split " + when);
        it->second.last = r.position;
      }
    }
    std::size_t lost = 0;
    for (const auto& [id, a] : acks_) {
      auto it = found.find(id);
      if (it == found.end() || it->second.stream != a.stream || it->second.first != a.first ||
          it->second.last != a.last) {
        if (++lost <= 10)
          Fail("acknowledged command " + id + " on " + a.stream + " is lost or moved " + when);
      }
    }
    Result<std::string> before = ProjectionDigest(engine, engine.Now());
    Status rebuilt = engine.RebuildProjections();
    Result<std::string> after = ProjectionDigest(engine, engine.Now());
    if (!before.ok() || !rebuilt.ok() || !after.ok()) {
      Fail("projections " + when + ": " + before.status().ToString() + " / " + rebuilt.ToString() + " / " +
           after.status().ToString());
    } else if (*before != *after) {
      Fail("projections " + when + " differ from a rebuild");
    }
    std::cout << "full_disk: " << when << ": " << acks_.size() << " acknowledged commands all present, head "
              << engine.HeadPosition() << std::endl;
    Workload(engine, 100, /*expect_success=*/true, when.c_str());
    Status closed = engine.Close();
    if (!closed.ok()) Fail("close " + when + ": " + closed.ToString());
    return g_failures == 0;
  }

  std::string mnt_, db_;
  int size_mb_;
  std::mt19937_64 rng_{7};
  std::int64_t clock_us_ = kStartUs;
  std::vector<std::string> pool_;
  std::map<std::string, Ack> acks_;
  std::string last_acked_case_;
  int next_case_ = 0;
  std::uint64_t seq_ = 0;
  int refused_storage_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int size_mb = 16;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--size-mb" && i + 1 < argc) {
      size_mb = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: caseloop_full_disk [--size-mb N]\n";
      return 2;
    }
  }
  if (size_mb < 2) size_mb = 2;
  char base[] = "/tmp/caseloop-full-disk-XXXXXX";
  if (mkdtemp(base) == nullptr) {
    std::cerr << "mkdtemp: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string mnt = std::string(base) + "/mnt";
  fs::create_directories(mnt);
  std::string opts = "size=" + std::to_string(size_mb) + "m,mode=0700";
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
    std::cout << "SKIP full_disk: cannot mount a tmpfs here (" << std::strerror(errno)
              << "); run as root where mount(2) is permitted" << std::endl;
    fs::remove_all(base);
    return 77;
  }
  int rc = FullDisk(mnt, size_mb).Run();
  if (umount2(mnt.c_str(), MNT_DETACH) != 0)
    std::cerr << "umount " << mnt << ": " << std::strerror(errno) << "\n";
  std::error_code ec;
  fs::remove_all(base, ec);
  if (rc == 0) std::cout << "full_disk: ok" << std::endl;
  return rc;
}
