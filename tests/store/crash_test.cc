// Crash test: a child process appends in kSync mode from several threads (one
// of them with AppendAsync) and reports every acknowledged append through a
// pipe; the parent SIGKILLs it at
// a random moment, reopens the store and checks that every acknowledged
// append is there whole and that no append is there in part. Repeated on the
// same directory (CASELOOP_CRASH_CYCLES, default 20; CASELOOP_CRASH_SEED).
//
// The child is this test binary re-executed (fork + execve) with a filter that
// runs only "crash: child": a fresh process, so none of the parent's RocksDB
// threads or locks leak into it.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "caseloop/event_store.h"
#include "store_test_util.h"

using namespace caseloop;
using caseloop::testing::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t Fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h ^ 0xFF;  // separator, so ("ab","c") and ("a","bc") differ
}
constexpr std::uint64_t kFnvBasis = 14695981039346656037ull;

// What the child reports for each acknowledged append.
struct Ack {
  std::string stream;
  std::uint64_t first_version = 0, last_version = 0, first_position = 0, last_position = 0, hash = 0;
};

// An append as found in the log, from its events' payloads "<id>|<i>|<n>|filler".
struct Found {
  std::string stream;
  std::uint64_t first_version = 0, last_version = 0, first_position = 0, last_position = 0, hash = kFnvBasis;
  std::uint64_t count = 0, n = 0;
};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

void WriteLine(int fd, const std::string& line) {
  // One write() of at most PIPE_BUF bytes is atomic on a pipe.
  (void)!write(fd, line.data(), line.size());
}

// Reads what is available on `fd` into `buffer` until `deadline`; returns
// false at end of file.
bool ReadUntil(int fd, std::string& buffer, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

// Verifies the store against every acknowledged append so far.
void VerifyStore(const std::string& path, const std::map<std::string, Ack>& acks, int cycle) {
  CAPTURE(cycle);
  auto opened = OpenRocksDbStore(path);
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  auto& store = *opened;
  auto problems = store->Check();
  REQUIRE(problems.ok());
  for (const auto& p : *problems) FAIL_CHECK("check: " << p);

  auto all = store->ReadAll(1, SIZE_MAX);
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  REQUIRE(all->size() == store->HeadPosition());
  std::map<std::string, Found> found;
  std::map<std::string, std::uint64_t> stream_versions;
  for (std::size_t i = 0; i < all->size(); ++i) {
    const EventRecord& e = (*all)[i];
    REQUIRE(e.position == i + 1);
    REQUIRE(e.version == ++stream_versions[e.stream]);  // contiguous versions per stream
    std::istringstream parts(e.payload);
    std::string id, index, n;
    REQUIRE(std::getline(parts, id, '|'));
    REQUIRE(std::getline(parts, index, '|'));
    REQUIRE(std::getline(parts, n, '|'));
    Found& f = found[id];
    if (f.count == 0) {
      f.stream = e.stream;
      f.first_position = e.position;
      f.first_version = e.version;
      f.n = std::stoull(n);
    }
    // An append's events are adjacent, in order, on one stream.
    REQUIRE(std::stoull(index) == f.count);
    REQUIRE(e.stream == f.stream);
    REQUIRE(e.position == f.first_position + f.count);
    REQUIRE(e.version == f.first_version + f.count);
    f.last_position = e.position;
    f.last_version = e.version;
    f.hash = Fnv1a(f.hash, e.payload);
    ++f.count;
  }
  for (const auto& [id, f] : found) {
    CAPTURE(id);
    CHECK(f.count == f.n);  // all of an append or none of it
  }
  for (const auto& [id, a] : acks) {
    CAPTURE(id);
    auto it = found.find(id);
    REQUIRE_MESSAGE(it != found.end(), "acknowledged append " << id << " is lost");
    const Found& f = it->second;
    CHECK(f.stream == a.stream);
    CHECK(f.first_position == a.first_position);
    CHECK(f.last_position == a.last_position);
    CHECK(f.first_version == a.first_version);
    CHECK(f.last_version == a.last_version);
    CHECK(f.hash == a.hash);
  }
  for (const auto& [stream, version] : stream_versions) {
    auto events = store->ReadStream(stream, 1);
    REQUIRE(events.ok());
    REQUIRE(events->size() == version);
    for (std::size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].version == i + 1);
    CHECK(*store->StreamVersion(stream) == version);
  }
  REQUIRE(store->Close().ok());
}

}  // namespace

TEST_CASE("crash: acknowledged appends survive SIGKILL and no append is partial") {
  TempDir dir("crash");
  const int cycles = EnvInt("CASELOOP_CRASH_CYCLES", 20);
  const unsigned seed = static_cast<unsigned>(EnvInt("CASELOOP_CRASH_SEED", 20250331));
  INFO("crash test: " << cycles << " cycles, seed " << seed);
  std::mt19937 rng(seed);
  std::map<std::string, Ack> acks;
  std::size_t killed_mid_run = 0;

  for (int cycle = 0; cycle < cycles; ++cycle) {
    CAPTURE(cycle);
    const unsigned child_seed = rng();
    const int kill_after_ms = 20 + static_cast<int>(rng() % 131);  // 20..150 ms
    const caseloop::testing::TestChild child = caseloop::testing::SpawnTestChild(
        "crash: child",
        {"CASELOOP_CRASH_CHILD_DIR=" + dir.path(), "CASELOOP_CRASH_CHILD_CYCLE=" + std::to_string(cycle),
         "CASELOOP_CRASH_CHILD_SEED=" + std::to_string(child_seed)},
        "CASELOOP_CRASH_CHILD_FD");
    REQUIRE(child.pid > 0);
    const pid_t pid = child.pid;

    std::string buffer;
    bool open = true;
    auto ready_deadline = Clock::now() + std::chrono::seconds(20);
    while (open && buffer.find("READY\n") == std::string::npos && Clock::now() < ready_deadline) {
      open =
          ReadUntil(child.fd, buffer, std::min(ready_deadline, Clock::now() + std::chrono::milliseconds(50)));
    }
    bool ready = buffer.find("READY\n") != std::string::npos;
    if (ready && open)
      open = ReadUntil(child.fd, buffer, Clock::now() + std::chrono::milliseconds(kill_after_ms));
    bool alive = waitpid(pid, nullptr, WNOHANG) == 0;
    kill(pid, SIGKILL);
    int wstatus = 0;
    REQUIRE(waitpid(pid, &wstatus, 0) == pid);
    while (ReadUntil(child.fd, buffer, Clock::now() + std::chrono::seconds(5))) {
    }
    close(child.fd);
    REQUIRE_MESSAGE(ready, "child never became ready; output: " << buffer);
    REQUIRE_MESSAGE(buffer.find("FAIL") == std::string::npos, buffer);
    if (alive && WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) ++killed_mid_run;

    std::istringstream lines(buffer);
    std::string word;
    std::size_t acked = 0;
    while (lines >> word) {
      if (word != "ACK") continue;
      std::string id;
      Ack a;
      lines >> id >> a.stream >> a.first_version >> a.last_version >> a.first_position >> a.last_position >>
          a.hash;
      REQUIRE(lines);
      acks[id] = a;
      ++acked;
    }
    INFO("cycle " << cycle << ": killed after " << kill_after_ms << " ms, " << acked
                  << " acknowledged appends");
    VerifyStore(dir.path(), acks, cycle);
  }
  CHECK(killed_mid_run == static_cast<std::size_t>(cycles));
  CHECK(acks.size() > 0);
  std::size_t async_acks = 0;
  for (const auto& [id, a] : acks) async_acks += id.find("t4n") != std::string::npos;
  CHECK(async_acks > 0);  // the AppendAsync writer was acknowledged too
  MESSAGE("crash test: " << cycles << " cycles (seed " << seed << "), " << acks.size()
                         << " acknowledged appends (" << async_acks << " asynchronous), all intact");
}

// Runs only as the child of the test above.
TEST_CASE("crash: child") {
  const char* dir = std::getenv("CASELOOP_CRASH_CHILD_DIR");
  if (dir == nullptr) return;
  const int fd = EnvInt("CASELOOP_CRASH_CHILD_FD", -1);
  const int cycle = EnvInt("CASELOOP_CRASH_CHILD_CYCLE", 0);
  const unsigned seed = static_cast<unsigned>(EnvInt("CASELOOP_CRASH_CHILD_SEED", 1));
  auto opened = OpenRocksDbStore(dir);  // kSync by default
  if (!opened.ok()) {
    WriteLine(fd, "FAIL open " + opened.status().ToString() + "\n");
    std::_Exit(3);
  }
  EventStore& store = **opened;
  WriteLine(fd, "READY\n");
  const auto stop = Clock::now() + std::chrono::seconds(20);  // the parent kills us long before
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(seed + t);
      for (int seq = 0; Clock::now() < stop; ++seq) {
        const std::string id =
            "c" + std::to_string(cycle) + "t" + std::to_string(t) + "n" + std::to_string(seq);
        const std::string stream = "S" + std::to_string(rng() % 8);
        const int n = 1 + static_cast<int>(rng() % 6);
        std::vector<NewEvent> events;
        std::uint64_t hash = kFnvBasis;
        for (int i = 0; i < n; ++i) {
          NewEvent e;
          e.type = "Crash";
          e.actor = "t" + std::to_string(t);
          e.payload =
              id + "|" + std::to_string(i) + "|" + std::to_string(n) + "|" + std::string(rng() % 300, 'x');
          hash = Fnv1a(hash, e.payload);
          events.push_back(std::move(e));
        }
        ExpectedVersion expected = ExpectedVersion::Any();
        if (seq % 2 == 1) {
          auto v = store.StreamVersion(stream);
          if (v.ok()) expected = ExpectedVersion::Exactly(*v);
        }
        AppendOptions options;
        if (seq % 3 == 0) options.command_id = id;
        auto r = store.Append(stream, expected, std::move(events), options);
        if (!r.ok()) {
          if (r.status().IsConflict()) continue;
          WriteLine(fd, "FAIL append " + r.status().ToString() + "\n");
          std::_Exit(4);
        }
        if (r->duplicate) {
          WriteLine(fd, "FAIL unexpected duplicate " + id + "\n");
          std::_Exit(5);
        }
        std::ostringstream line;
        line << "ACK " << id << ' ' << stream << ' ' << (r->next_expected_version - n + 1) << ' '
             << r->next_expected_version << ' ' << r->first_position << ' ' << r->last_position << ' ' << hash
             << '\n';
        WriteLine(fd, line.str());
      }
    });
  }
  // A fifth writer appends asynchronously (EventStore::AppendAsync), up to 32
  // appends in flight, and reports each from its completion: an asynchronous
  // acknowledgment must be as durable as a synchronous one.
  threads.emplace_back([&] {
    std::mt19937 rng(seed + 4);
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    for (int seq = 0; Clock::now() < stop; ++seq) {
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return in_flight < 32; });
        ++in_flight;
      }
      const std::string id = "c" + std::to_string(cycle) + "t4n" + std::to_string(seq);
      const std::string stream = "S" + std::to_string(rng() % 8);
      const int n = 1 + static_cast<int>(rng() % 6);
      std::vector<NewEvent> events;
      std::uint64_t hash = kFnvBasis;
      for (int i = 0; i < n; ++i) {
        NewEvent e;
        e.type = "Crash";
        e.actor = "t4";
        e.payload =
            id + "|" + std::to_string(i) + "|" + std::to_string(n) + "|" + std::string(rng() % 300, 'x');
        hash = Fnv1a(hash, e.payload);
        events.push_back(std::move(e));
      }
      AppendOptions options;
      if (seq % 3 == 0) options.command_id = id;
      store.AppendAsync(stream, ExpectedVersion::Any(), std::move(events), options,
                        [&, id, stream, n, hash](Result<AppendResult> r) {
                          if (!r.ok()) {
                            WriteLine(fd, "FAIL async append " + r.status().ToString() + "\n");
                            std::_Exit(6);
                          }
                          std::ostringstream line;
                          line << "ACK " << id << ' ' << stream << ' ' << (r->next_expected_version - n + 1)
                               << ' ' << r->next_expected_version << ' ' << r->first_position << ' '
                               << r->last_position << ' ' << hash << '\n';
                          WriteLine(fd, line.str());
                          std::lock_guard<std::mutex> l(mu);
                          --in_flight;
                          cv.notify_all();
                        });
    }
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return in_flight == 0; });
  });
  for (auto& t : threads) t.join();
  std::_Exit(0);
}
