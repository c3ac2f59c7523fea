// Backup under load, end to end (issue 23): a writer process runs an engine
// (cases reported, dispatched, handled, verified; deadlines firing as its
// manual clock moves) and takes a backup through caseloop::BackupDatabase
// while it keeps writing; the test kills it with SIGKILL, restores the
// backup, and compares the restored engine with an engine rebuilt from the
// original log up to the backup's last position: every case, every rate, the
// centre, workload and overdue list. Then both move on in time: the pending
// deadlines fire the same way, and once only (a reopened restored engine
// fires nothing again).
//
// The writer is this binary re-executed (fork + execve, "-tc=ops: writer
// child"), as tests/store/crash_test.cc does.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "caseloop/backup.h"
#include "caseloop/engine.h"
#include "caseloop/event_store.h"
#include "caseloop/json.h"
#include "engine/engine_test_util.h"
#include "store/store_test_util.h"

using namespace caseloop;
using namespace caseloop::test;

namespace {

using SteadyClock = std::chrono::steady_clock;

void WriteLine(int fd, const std::string& line) { (void)!write(fd, line.data(), line.size()); }

bool ReadSome(int fd, std::string& buffer, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r <= 0) return true;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) return false;
  buffer.append(buf, static_cast<std::size_t>(n));
  return true;
}

// Copies the original log's records 1..head into a new store at `dir`, one
// append per command (same stream, version, ids, times, payloads), so that
// an engine opened on it rebuilds its projections from that prefix alone.
void CopyPrefix(const std::string& from, const std::string& dir, std::uint64_t head) {
  StoreOptions ro;
  ro.read_only = true;
  auto src = OpenRocksDbStore(from, ro);
  REQUIRE_MESSAGE(src.ok(), src.status().ToString());
  auto records = (*src)->ReadAll(1, head);
  REQUIRE(records.ok());
  REQUIRE(records->size() == head);
  REQUIRE((*src)->Close().ok());
  StoreOptions wo;
  wo.durability = Durability::kBuffered;
  auto dst = OpenRocksDbStore(dir, wo);
  REQUIRE(dst.ok());
  std::size_t i = 0;
  while (i < records->size()) {
    const EventRecord& first = (*records)[i];
    std::size_t j = i + 1;
    while (j < records->size() && !first.command_id.empty() && (*records)[j].command_id == first.command_id &&
           (*records)[j].stream == first.stream)
      ++j;
    std::vector<NewEvent> events;
    for (std::size_t k = i; k < j; ++k) {
      const EventRecord& r = (*records)[k];
      NewEvent e;
      e.type = r.type;
      e.schema_version = r.schema_version;
      e.recorded_us = r.recorded_us;
      e.event_id = r.event_id;
      e.actor = r.actor;
      e.correlation_id = r.correlation_id;
      e.causation_id = r.causation_id;
      e.payload = r.payload;
      events.push_back(std::move(e));
    }
    AppendOptions o;
    o.command_id = first.command_id;
    auto a = (*dst)->Append(first.stream, ExpectedVersion::Exactly(first.version - 1), std::move(events), o);
    REQUIRE_MESSAGE(a.ok(), a.status().ToString());
    REQUIRE(a->first_position == first.position);
    i = j;
  }
  REQUIRE((*dst)->Close().ok());
}

std::int64_t LastRecordedUs(const std::string& dir) {
  StoreOptions ro;
  ro.read_only = true;
  auto s = OpenRocksDbStore(dir, ro);
  REQUIRE(s.ok());
  auto last = (*s)->ReadAll((*s)->HeadPosition(), 1);
  REQUIRE(last.ok());
  REQUIRE(last->size() == 1);
  std::int64_t us = last->front().recorded_us;
  REQUIRE((*s)->Close().ok());
  return us;
}

// Every case (state and history), every rate and figure, as text.
std::string Everything(Engine& e, Instant at) {
  std::string out;
  std::string after;
  for (;;) {
    auto ids = e.ListCases(after, 1000);
    REQUIRE(ids.ok());
    if (ids->empty()) break;
    for (const auto& id : *ids) {
      auto st = e.State(id);
      REQUIRE(st.ok());
      out += Describe(*st) + "\n";
      auto v = e.Show(id, at);
      REQUIRE(v.ok());
      out += ToJson(*v, 8 * 60) + "\n";
      auto h = e.History(id);
      REQUIRE(h.ok());
      for (const auto& le : *h) out += ToJson(le, 8 * 60) + "\n";
    }
    after = ids->back();
  }
  PeriodQuery q;
  q.from = T("2025-03-01T00:00");
  q.to = T("2025-06-01T00:00");
  q.at = at;
  auto rates = e.Rates(q);
  REQUIRE(rates.ok());
  for (const auto& r : *rates) out += ToJson(r) + "\n";
  auto ins = e.Inspectors(q);
  REQUIRE(ins.ok());
  for (const auto& r : *ins) out += ToJson(r) + "\n";
  auto c = e.Centre(q);
  REQUIRE(c.ok());
  out += ToJson(*c) + "\n";
  out += Describe(e, at);
  return out;
}

std::size_t CountOverdueEvents(Engine& e, std::uint64_t after) {
  auto log = e.ReadLog(after + 1, SIZE_MAX);
  REQUIRE(log.ok());
  std::size_t n = 0;
  for (const auto& le : *log) n += le.event && le.event->type == EventType::kTaskOverdue;
  return n;
}

}  // namespace

TEST_CASE("ops: back up under load, kill -9 the writer, restore: the same answers, deadlines fire once") {
  caseloop::testing::TempDir db("ops-db"), backups("ops-bk"), restored("ops-restored"), prefix("ops-prefix");
  const caseloop::testing::TestChild child = caseloop::testing::SpawnTestChild(
      "ops: writer child",
      {"CASELOOP_OPS_CHILD_DB=" + db.path(), "CASELOOP_OPS_CHILD_BACKUPS=" + backups.path()},
      "CASELOOP_OPS_CHILD_FD");
  REQUIRE(child.pid > 0);
  const pid_t pid = child.pid;
  std::string buffer;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(120);
  bool open = true;
  while (open && buffer.find("BACKUP ") == std::string::npos && buffer.find("FAIL") == std::string::npos &&
         SteadyClock::now() < deadline)
    open = ReadSome(child.fd, buffer, 100);
  // Let the writer go on past the backup, then kill it mid-write.
  const auto more = SteadyClock::now() + std::chrono::milliseconds(300);
  while (open && SteadyClock::now() < more) open = ReadSome(child.fd, buffer, 50);
  const bool alive = waitpid(pid, nullptr, WNOHANG) == 0;
  kill(pid, SIGKILL);
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  while (ReadSome(child.fd, buffer, 200) && buffer.size() < (1u << 20)) {
    pollfd p{child.fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
  }
  close(child.fd);
  INFO("writer said: " << buffer.substr(0, 2000));
  REQUIRE(buffer.find("FAIL") == std::string::npos);
  REQUIRE(buffer.find("BACKUP ") != std::string::npos);
  CHECK(alive);  // killed while writing, not after it stopped
  CHECK((WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL));

  // The writer's commands during the backup.
  const std::size_t at_backup = buffer.find("BACKUP ");
  std::uint64_t head_at_start = std::strtoull(buffer.c_str() + at_backup + 7, nullptr, 10);

  auto r = RestoreDatabase(backups.path(), restored.path());
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const std::uint64_t h = r->head;
  CHECK(h >= head_at_start);
  CopyPrefix(db.path(), prefix.path(), h);  // the original log (recovered after the kill) up to h
  {
    StoreOptions ro;
    ro.read_only = true;
    auto original = OpenRocksDbStore(db.path(), ro);
    REQUIRE(original.ok());
    const std::uint64_t original_head = (*original)->HeadPosition();
    MESSAGE("backup under load: head " << head_at_start << " when it began, " << h << " in the backup, "
                                       << original_head << " when the writer was killed");
    CHECK(original_head > h);  // the writer went on after the backup
    REQUIRE((*original)->Close().ok());
  }

  const Instant now{Micros{LastRecordedUs(restored.path())}};
  const Instant later = now + std::chrono::hours(24 * 20);
  std::string restored_view, prefix_view;
  std::uint64_t restored_head = 0, prefix_head = 0;
  std::size_t restored_fired = 0, prefix_fired = 0;
  {
    auto re = MustOpen(ManualOptions(now, restored.path()));
    auto pe = MustOpen(ManualOptions(now, prefix.path()));
    auto problems = re->Check();
    REQUIRE(problems.ok());
    CHECK(problems->empty());  // caseloop check passes on the restored copy
    CHECK(re->HeadPosition() == pe->HeadPosition());
    restored_view = Everything(*re, now);
    prefix_view = Everything(*pe, now);
    CHECK(restored_view.size() > 1000);
    CHECK(restored_view == prefix_view);

    REQUIRE(re->AdvanceTo(later).ok());
    REQUIRE(pe->AdvanceTo(later).ok());
    restored_fired = CountOverdueEvents(*re, h);
    prefix_fired = CountOverdueEvents(*pe, h);
    CHECK(restored_fired > 0);
    CHECK(restored_fired == prefix_fired);
    CHECK(Everything(*re, later) == Everything(*pe, later));
    restored_head = re->HeadPosition();
    prefix_head = pe->HeadPosition();
    CHECK(restored_head == prefix_head);
    REQUIRE(re->Close().ok());
    REQUIRE(pe->Close().ok());
  }
  {
    // Reopened later still: nothing fires a second time.
    auto re = MustOpen(ManualOptions(later + std::chrono::hours(1), restored.path()));
    CHECK(re->HeadPosition() == restored_head);
    REQUIRE(re->AdvanceTo(later + std::chrono::hours(48)).ok());
    CHECK(CountOverdueEvents(*re, h) == restored_fired);
    REQUIRE(re->Close().ok());
  }
}

// Runs only as the child of the test above: an engine writing cases while a
// second thread backs the store up; killed by the parent.
TEST_CASE("ops: writer child") {
  const char* db = std::getenv("CASELOOP_OPS_CHILD_DB");
  const char* backups = std::getenv("CASELOOP_OPS_CHILD_BACKUPS");
  const char* fd_text = std::getenv("CASELOOP_OPS_CHILD_FD");
  if (db == nullptr || backups == nullptr || fd_text == nullptr) return;
  const int fd = std::atoi(fd_text);
  EngineOptions o;
  o.path = db;
  o.clock = std::make_shared<ManualClock>(T("2025-03-03T08:00"));
  auto opened = Engine::Open(o);
  if (!opened.ok()) {
    WriteLine(fd, "FAIL open " + opened.status().ToString() + "\n");
    std::_Exit(3);
  }
  Engine& e = **opened;
  for (const ConfigChange& c : District()) {
    if (!e.Configure(c).ok()) {
      WriteLine(fd, "FAIL configure\n");
      std::_Exit(3);
    }
  }
  auto submit = [&](const Command& c) {
    auto r = e.Submit(c);
    if (!r.ok()) {
      WriteLine(fd, "FAIL " + c.case_id + " " + r.status().ToString() + "\n");
      std::_Exit(3);
    }
  };
  std::thread backup;
  Instant t = T("2025-03-03T08:00");
  for (int i = 0;; ++i) {
    const std::string id = "C" + std::to_string(i);
    const int kind = i % 4;
    submit(Report(id, kind == 3 ? CaseKind::kEvent : CaseKind::kComponent, kind == 3 ? "0102" : "0101", t));
    submit(Cmd(CommandType::kRegister, id, "L1", t));
    submit(Cmd(CommandType::kDispatch, id, "D1", t));
    const std::string unit = kind == 3 ? "STREET" : "WATER";
    if (kind != 2) submit(Cmd(CommandType::kAccept, id, unit, t));
    if (kind == 0 || kind == 3) {
      Command fb = Cmd(CommandType::kFeedback, id, unit, t + std::chrono::minutes(30 + 7 * (i % 11)));
      fb.note = "done";
      submit(fb);
      Command vf = Cmd(CommandType::kVerify, id, "I1", t + std::chrono::minutes(50 + 7 * (i % 11)));
      vf.verify_pass = i % 5 != 0;
      submit(vf);
    }
    if (i % 6 == 5) {
      t += std::chrono::hours(1);
      if (!e.AdvanceTo(t).ok()) {  // fires the deadlines that passed
        WriteLine(fd, "FAIL advance\n");
        std::_Exit(3);
      }
    }
    if (i == 60) {
      backup = std::thread([&] {
        auto info = BackupDatabase(db, backups);
        if (!info.ok()) {
          WriteLine(fd, "FAIL backup " + info.status().ToString() + "\n");
          return;
        }
        WriteLine(fd, "BACKUP " + std::to_string(info->head_at_start) + "\n");
      });
    }
    if (i % 20 == 0) WriteLine(fd, "N " + std::to_string(i) + "\n");
  }
}
