// Regression: a full disk under the RocksDB store. Debian's librocksdb is
// built with assertions, and its default info logger aborted the process
// ("Assertion `sync_without_flush_called_' failed" in WritableFileWriter) when
// it wrote to LOG again after a write had failed for lack of space. Appends
// must instead fail with IOError, and everything acknowledged must be there
// after space is freed. Mounts a small tmpfs (root only; skipped elsewhere).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "caseloop/event_store.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::MakeEvent;
using caseloop::testing::TempDir;

namespace {

std::uint64_t FreeBytes(const std::string& dir) {
  struct statvfs v {};
  if (statvfs(dir.c_str(), &v) != 0) return 0;
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

// Fills `dir` with a ballast file until `leave` bytes are free.
void Fill(const std::string& path, const std::string& dir, std::uint64_t leave) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  std::vector<char> chunk(64 << 10, 'x');
  for (;;) {
    std::uint64_t free = FreeBytes(dir);
    if (free <= leave) break;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), free - leave));
    if (write(fd, chunk.data(), n) <= 0) break;
  }
  close(fd);
}

}  // namespace

TEST_CASE("rocksdb: a full disk fails appends with IOError, loses nothing, and recovers") {
  TempDir base("full-disk");
  const std::string mnt = base.path();
  std::filesystem::create_directories(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0) {
    MESSAGE("skipped: cannot mount a tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string db = mnt + "/db";

  std::vector<std::pair<std::string, AppendResult>> acked;
  Status first_error;
  {
    auto opened = OpenRocksDbStore(db);
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    auto& store = *opened;
    Fill(mnt + "/ballast", mnt, 128 << 10);
    const std::string payload(4096, 'p');
    for (int i = 0; i < 100000 && first_error.ok(); ++i) {
      std::string stream = "C" + std::to_string(i % 50);
      std::vector<NewEvent> events;
      events.push_back(MakeEvent("CaseReported", payload));
      auto r = store->Append(stream, ExpectedVersion::Any(), std::move(events));
      if (r.ok()) {
        acked.emplace_back(stream, *r);
      } else {
        first_error = r.status();
      }
    }
    REQUIRE_FALSE(first_error.ok());
    CHECK_MESSAGE(first_error.IsIOError(), first_error.ToString());
    // It keeps failing cleanly while the disk is full.
    for (int i = 0; i < 20; ++i) {
      std::vector<NewEvent> events;
      events.push_back(MakeEvent("CaseReported", payload));
      auto r = store->Append("C0", ExpectedVersion::Any(), std::move(events));
      CHECK_FALSE(r.ok());
    }
    // Flush and Close report the failed write; neither may ask RocksDB to
    // sync the failed WAL again (that aborted too).
    CHECK_FALSE(store->Flush().ok());
    (void)store->Close();
  }
  std::filesystem::remove(mnt + "/ballast");
  auto reopened = OpenRocksDbStore(db);
  REQUIRE_MESSAGE(reopened.ok(), reopened.status().ToString());
  auto& store = *reopened;
  auto problems = store->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
  REQUIRE_FALSE(acked.empty());
  for (const auto& [stream, r] : acked) {
    auto events = store->ReadAll(r.first_position, 1);
    REQUIRE(events.ok());
    REQUIRE(events->size() == 1);
    CHECK((*events)[0].stream == stream);
  }
  std::vector<NewEvent> events;
  events.push_back(MakeEvent("CaseReported", "after"));
  CHECK(store->Append("C0", ExpectedVersion::Any(), std::move(events)).ok());
  CHECK(store->Close().ok());
}
