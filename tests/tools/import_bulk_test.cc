// The bulk import path (Engine::SubmitBatch, ImportCsv's default) against the
// per-command path: same events, same projections, same row errors; bad rows
// in the middle of a batch; idempotent re-import across both paths; a crash in
// the middle of an import leaves whole rows only.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "forwarding_engine.h"
#include "import_test_util.h"
#include "tools/csv_reader.h"
#include "tools/import_internal.h"
#include "tools/time_format.h"

using namespace caseloop;
using caseloop::test::BostonOptions;
using caseloop::test::Data;

namespace {

std::unique_ptr<Engine> OpenEngine(const std::string& path = kInMemoryPath) {
  EngineOptions o;
  o.path = path;
  // A manual clock that stays put: timers fire only when the test advances it.
  o.clock = std::make_shared<ManualClock>(InstantFromMicros(0));
  auto e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "caseloop_import_bulk_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string TempFile(const std::string& name, const std::string& content) {
  std::string path = TempPath(name);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  return path;
}

ImportOptions SmallOptions(const std::string& path) {
  ImportOptions o;
  o.file = path;
  o.id_column = "id";
  o.created_column = "created";
  o.unit_column = "unit";
  o.closed_column = "closed";
  o.due_column = "due";
  return o;
}

struct Run {
  Result<ImportSummary> summary = Status::InvalidArgument("not run");
  std::string out, err;
};

Run Import(Engine& engine, const ImportOptions& o, bool bulk) {
  std::ostringstream out, err;
  Run r;
  r.summary = ImportCsvPath(engine, o, out, err, bulk);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Every stream's events as text: version, type, time, actor, payload bytes
// (command ids differ by design: one per row in bulk, one per command else).
std::map<std::string, std::string> Streams(Engine& engine) {
  std::map<std::string, std::string> out;
  auto log = engine.ReadLog(1, SIZE_MAX);
  REQUIRE_MESSAGE(log.ok(), log.status().ToString());
  for (const LoggedEvent& e : *log) {
    const EventRecord& r = e.record;
    out[r.stream] += std::to_string(r.version) + " " + r.type + " " + std::to_string(r.recorded_us) + " " +
                     r.actor + " " + r.payload + "\n";
  }
  return out;
}

std::string Opt(const std::optional<double>& v) { return v ? std::to_string(*v) : "-"; }

// The projections' answers as text.
std::string Projected(Engine& engine, Instant at) {
  std::ostringstream s;
  PeriodQuery q;
  q.from = InstantFromMicros(0);
  q.to = at;
  auto rates = engine.Rates(q);
  REQUIRE_MESSAGE(rates.ok(), rates.status().ToString());
  for (const UnitRates& u : *rates) {
    s << u.unit << " " << u.due << " " << u.handled << " " << u.on_time << " " << u.late << " "
      << u.overdue_open << " " << u.reworked << " " << u.extended << " " << Opt(u.score) << "\n";
  }
  auto ins = engine.Inspectors(q);
  REQUIRE(ins.ok());
  for (const InspectorRates& i : *ins) s << i.inspector << " " << i.reports << " " << i.verifications << "\n";
  auto centre = engine.Centre(q);
  REQUIRE(centre.ok());
  s << centre->received << " " << centre->registered << " " << centre->closed << " " << centre->closed_on_time
    << "\n";
  for (const auto& [k, n] : centre->received_by_category) s << k << "=" << n << "\n";
  auto overdue = engine.Overdue(at);
  REQUIRE(overdue.ok());
  for (const OverdueTask& t : *overdue) s << t.case_id << " " << t.unit << " " << t.overdue_hours << "\n";
  auto load = engine.Workload(at);
  REQUIRE(load.ok());
  for (const UnitWorkload& w : *load) s << w.unit << " " << w.open_tasks << " " << w.overdue_tasks << "\n";
  return s.str();
}

Instant Utc(const char* text) {
  auto t = ParseInstant(text, 0);
  REQUIRE_MESSAGE(t.ok(), t.status().ToString());
  return *t;
}

}  // namespace

TEST_CASE("bulk import: Boston gives the same events and projections as one command at a time") {
  auto bulk = OpenEngine();
  auto single = OpenEngine();
  Run b = Import(*bulk, BostonOptions(), true);
  Run s = Import(*single, BostonOptions(), false);
  REQUIRE_MESSAGE(b.summary.ok(), b.summary.status().ToString());
  REQUIRE_MESSAGE(s.summary.ok(), s.summary.status().ToString());
  CHECK(b.out == "imported 4995, unchanged 0, skipped 0 of 4995 rows\n");
  CHECK(b.out == s.out);
  CHECK(b.err == s.err);
  CHECK(bulk->HeadPosition() == single->HeadPosition());

  auto bs = Streams(*bulk);
  auto ss = Streams(*single);
  CHECK(bs.size() == 4996);  // the cases and $config
  CHECK(bs.size() == ss.size());
  int differ = 0;
  for (const auto& [stream, text] : bs) {
    if (ss[stream] != text && ++differ <= 3) MESSAGE("stream ", stream, " differs");
  }
  CHECK(differ == 0);

  // Bulk: one append per row, under "import/<case>".
  auto h = bulk->History("101004128563");
  REQUIRE(h.ok());
  CHECK(h->size() == 6);
  for (const LoggedEvent& e : *h) CHECK(e.record.command_id == "import/101004128563");

  const Instant end = Utc("2023-01-01T00:00:00Z");
  CHECK(Projected(*bulk, end) == Projected(*single, end));
  CHECK(bulk->LatestRecordedTime() == single->LatestRecordedTime());

  // The deadline timers see the imported open tasks alike: advancing the
  // clock past every deadline marks the same tasks overdue, once each.
  REQUIRE(bulk->AdvanceTo(end).ok());
  REQUIRE(single->AdvanceTo(end).ok());
  CHECK(bulk->HeadPosition() == single->HeadPosition());
  bs = Streams(*bulk);
  ss = Streams(*single);
  CHECK(bs == ss);
  CHECK(Projected(*bulk, end) == Projected(*single, end));
}

TEST_CASE("bulk import: bad rows in the middle of a batch are reported by line, the rest is imported") {
  // Line 4 has a bad time, line 5's id is reserved (the engine refuses its
  // report inside the batch), line 6 names a case that exists with another
  // created time, line 8 repeats line 3 with another unit; the other rows are
  // imported whole.
  const std::string text =
      "id,created,unit,due,closed\n"
      "A1,2025-03-03 09:00:00,Water,2025-03-04 09:00:00,2025-03-03 15:00:00\n"
      "A2,2025-03-03 10:00:00,Roads,,\n"
      "A3,yesterday,Roads,,\n"
      "$A4,2025-03-03 11:00:00,Roads,,\n"
      "A5,2025-03-03 12:00:00,Roads,,\n"
      "A6,2025-03-03 13:00:00,Parks,2025-03-05 13:00:00,\n"
      "A2,2025-03-03 10:00:00,Parks,,\n"
      "A8,2025-03-03 14:00:00,Water,,2025-03-04 08:00:00\n";
  const std::string path = TempFile("middle.csv", text);
  std::map<bool, std::map<std::string, std::string>> streams;
  std::map<bool, std::string> errors;
  for (bool bulk : {true, false}) {
    auto engine = OpenEngine();
    // A5 exists already (another import of it reported it a minute earlier).
    {
      auto r = Import(
          *engine,
          SmallOptions(TempFile("a5.csv", "id,created,unit,due,closed\nA5,2025-03-03 11:59:00,Roads,,\n")),
          bulk);
      REQUIRE(r.summary.ok());
      REQUIRE(r.summary->imported == 1);
    }
    Run r = Import(*engine, SmallOptions(path), bulk);
    REQUIRE_MESSAGE(r.summary.ok(), r.summary.status().ToString());
    CHECK(r.summary->rows == 8);
    CHECK(r.summary->imported == 4);  // A1 A2 A6 A8
    CHECK(r.summary->skipped == 4);   // A3, $A4, A5, A2's repeat
    CHECK(r.err.find("row 4: case A3: column 'created'") != std::string::npos);
    CHECK(r.err.find("row 5: case $A4: 'report' refused: ") != std::string::npos);
    CHECK(r.err.find("row 6: case A5: already exists with a different created") != std::string::npos);
    CHECK(r.err.find("row 8: case A2: id already on row 3 with a different unit") != std::string::npos);
    errors[bulk] = r.err;
    for (const char* id : {"A1", "A2", "A6", "A8"}) {
      auto v = engine->State(id);
      REQUIRE_MESSAGE(v.ok(), id, ": ", v.status().ToString());
    }
    CHECK(engine->State("A1")->state == LifecycleState::kClosed);
    CHECK(engine->State("A6")->state == LifecycleState::kDispatched);
    CHECK(engine->State("A5")->version == 3);  // untouched
    // The open task of A6 (due 2025-03-05 13:00) is marked overdue once.
    REQUIRE(engine->AdvanceTo(Utc("2025-04-01T00:00:00Z")).ok());
    REQUIRE(engine->AdvanceTo(Utc("2025-05-01T00:00:00Z")).ok());
    auto h = engine->History("A6");
    REQUIRE(h.ok());
    int overdue = 0;
    for (const LoggedEvent& e : *h) overdue += e.event && e.event->type == EventType::kTaskOverdue;
    CHECK(overdue == 1);
    streams[bulk] = Streams(*engine);
  }
  CHECK(errors[true] == errors[false]);
  CHECK(streams[true] == streams[false]);
}

TEST_CASE("bulk import: re-importing is idempotent, across both paths") {
  const std::string v1 = TempFile("re1.csv",
                                  "id,created,unit,due,closed\n"
                                  "R1,2025-03-03 09:00:00,Water,2025-03-04 09:00:00,\n"
                                  "R2,2025-03-03 10:00:00,Roads,,2025-03-03 12:00:00\n");
  const std::string v2 = TempFile("re2.csv",
                                  "id,created,unit,due,closed\n"
                                  "R1,2025-03-03 09:00:00,Water,2025-03-04 09:00:00,2025-03-04 08:00:00\n"
                                  "R2,2025-03-03 10:00:00,Roads,,2025-03-03 12:00:00\n"
                                  "R3,2025-03-03 11:00:00,Roads,,\n");
  for (bool first_bulk : {true, false}) {
    CAPTURE(first_bulk);
    auto engine = OpenEngine();
    Run a = Import(*engine, SmallOptions(v1), first_bulk);
    REQUIRE(a.summary.ok());
    CHECK(a.summary->imported == 2);
    const std::uint64_t head = engine->HeadPosition();
    for (bool bulk : {true, false}) {
      Run again = Import(*engine, SmallOptions(v1), bulk);
      REQUIRE(again.summary.ok());
      CHECK(again.out == "imported 0, unchanged 2, skipped 0 of 2 rows\n");
      CHECK(engine->HeadPosition() == head);
    }
    // A later export: R1 closed since, R3 new; the other path continues it.
    Run b = Import(*engine, SmallOptions(v2), !first_bulk);
    REQUIRE(b.summary.ok());
    CHECK(b.out == "imported 1, updated 1, unchanged 1, skipped 0 of 3 rows\n");
    CHECK(engine->State("R1")->state == LifecycleState::kClosed);
    const std::uint64_t head2 = engine->HeadPosition();
    Run c = Import(*engine, SmallOptions(v2), first_bulk);
    REQUIRE(c.summary.ok());
    CHECK(c.out == "imported 0, unchanged 3, skipped 0 of 3 rows\n");
    CHECK(engine->HeadPosition() == head2);
  }
}

TEST_CASE("SubmitBatch: decides in order, appends the accepted prefix once, refuses the rest") {
  auto engine = OpenEngine();
  ConfigChange unit;
  unit.type = ConfigChangeType::kDefineUnit;
  unit.unit = {"W", "Water"};
  REQUIRE(engine->Configure(unit).ok());
  ConfigChange staff;
  staff.type = ConfigChangeType::kDefineStaff;
  staff.staff = {"S", {Role::kReceiver, Role::kShiftLeader, Role::kDispatcher}};
  REQUIRE(engine->Configure(staff).ok());
  ConfigChange cat;
  cat.type = ConfigChangeType::kDefineCategory;
  cat.category.kind = CaseKind::kEvent;
  cat.category.code = "9000";
  cat.category.name = "x";
  REQUIRE(engine->Configure(cat).ok());

  auto cmd = [](CommandType type, const std::string& id, const char* at) {
    Command c;
    c.type = type;
    c.case_id = id;
    c.actor = "S";
    c.at = Utc(at);
    if (type == CommandType::kReport) {
      c.kind = CaseKind::kEvent;
      c.category = "9000";
      c.source = ReportSource::kHotline;
    }
    if (type == CommandType::kDispatch) {
      c.unit = "W";
      c.no_deadline = true;
    }
    return c;
  };
  std::vector<CaseBatch> batch(4);
  batch[0].command_id = "g/C1";
  batch[0].commands = {cmd(CommandType::kReport, "C1", "2025-03-03T09:00:00Z"),
                       cmd(CommandType::kRegister, "C1", "2025-03-03T09:01:00Z"),
                       cmd(CommandType::kDispatch, "C1", "2025-03-03T09:02:00Z")};
  // The accept comes before the dispatch: refused; report and register stay.
  batch[1].command_id = "g/C2";
  batch[1].commands = {cmd(CommandType::kReport, "C2", "2025-03-03T09:00:00Z"),
                       cmd(CommandType::kRegister, "C2", "2025-03-03T09:01:00Z"),
                       cmd(CommandType::kAccept, "C2", "2025-03-03T09:02:00Z"),
                       cmd(CommandType::kDispatch, "C2", "2025-03-03T09:03:00Z")};
  // A group over two cases is refused whole.
  batch[2].commands = {cmd(CommandType::kReport, "C3", "2025-03-03T09:00:00Z"),
                       cmd(CommandType::kRegister, "C4", "2025-03-03T09:01:00Z")};
  // A later group on C1 sees the first group's events.
  batch[3].commands = {cmd(CommandType::kReport, "C1", "2025-03-03T10:00:00Z")};
  auto results = engine->SubmitBatch(batch);
  REQUIRE(results.size() == 4);
  CHECK(results[0].status.ok());
  CHECK(results[0].done == 3);
  CHECK(results[0].ack.events.size() == 3);
  CHECK(results[0].ack.version == 3);
  CHECK(results[1].status.IsRejected());
  CHECK(results[1].done == 2);
  CHECK(results[1].ack.version == 2);
  CHECK(results[2].status.IsInvalidArgument());
  CHECK(results[2].done == 0);
  CHECK(results[3].status.IsConflict());
  CHECK(results[3].done == 0);
  CHECK(engine->State("C1")->state == LifecycleState::kDispatched);
  CHECK(engine->State("C2")->state == LifecycleState::kRegistered);
  CHECK(engine->State("C3").status().IsNotFound());
  auto h = engine->History("C2");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 2);
  CHECK(h->at(0).record.command_id == "g/C2");
  CHECK(h->at(1).record.command_id == "g/C2");
  CHECK(h->at(1).record.position == h->at(0).record.position + 1);

  // The same group again: the decider refuses the report (the case exists),
  // nothing is appended.
  const std::uint64_t head = engine->HeadPosition();
  auto again = engine->SubmitBatch({batch[0]});
  REQUIRE(again.size() == 1);
  CHECK(again[0].status.IsConflict());
  CHECK(again[0].done == 0);
  CHECK(engine->HeadPosition() == head);

  // A group whose command id was used already appends nothing (duplicate).
  std::vector<CaseBatch> dup(1);
  dup[0].command_id = "g/C1";
  dup[0].commands = {cmd(CommandType::kReport, "C9", "2025-03-03T09:00:00Z")};
  auto d = engine->SubmitBatch(dup);
  CHECK(d[0].done == 0);
  CHECK(engine->HeadPosition() == head);
  CHECK(engine->State("C9").status().IsNotFound());
}

TEST_CASE(
    "SubmitBatch: concurrent batches over the same cases in opposite orders finish (no stripe deadlock)") {
  auto engine = OpenEngine();
  ConfigChange unit;
  unit.type = ConfigChangeType::kDefineStaff;
  unit.staff = {"S", {Role::kReceiver}};
  REQUIRE(engine->Configure(unit).ok());
  ConfigChange cat;
  cat.type = ConfigChangeType::kDefineCategory;
  cat.category.kind = CaseKind::kEvent;
  cat.category.code = "9000";
  cat.category.name = "x";
  REQUIRE(engine->Configure(cat).ok());
  auto report = [](const std::string& id) {
    Command c;
    c.type = CommandType::kReport;
    c.case_id = id;
    c.actor = "S";
    c.at = Utc("2025-03-03T09:00:00Z");
    c.kind = CaseKind::kEvent;
    c.category = "9000";
    c.source = ReportSource::kHotline;
    return c;
  };
  constexpr int kCases = 400;
  for (int round = 0; round < 10; ++round) {
    // Both batches report the same cases, one ascending, one descending: each
    // case is reported by exactly one of them, the other gets Conflict.
    std::vector<CaseBatch> up(kCases), down(kCases);
    for (int i = 0; i < kCases; ++i) {
      const std::string id = "R" + std::to_string(round) + "-" + std::to_string(i);
      up[i].commands = {report(id)};
      up[i].command_id = "up/" + id;
      down[kCases - 1 - i].commands = {report(id)};
      down[kCases - 1 - i].command_id = "down/" + id;
    }
    std::vector<CaseBatchResult> a, b;
    std::thread t([&] { b = engine->SubmitBatch(down); });
    a = engine->SubmitBatch(up);
    t.join();
    REQUIRE(a.size() == kCases);
    REQUIRE(b.size() == kCases);
    int both = 0, neither = 0;
    for (int i = 0; i < kCases; ++i) {
      const bool x = a[i].status.ok(), y = b[kCases - 1 - i].status.ok();
      both += x && y;
      neither += !x && !y;
      if (!x) CHECK(a[i].status.IsConflict());
      if (!y) CHECK(b[kCases - 1 - i].status.IsConflict());
    }
    CHECK(both == 0);
    CHECK(neither == 0);
  }
}

namespace {

constexpr int kCrashRows = 12000;

// Row i: case K<i>, closed (6 events) when i is even, open (3 events) else.
std::string CrashCsv() {
  std::string text = "id,created,unit,due,closed\n";
  for (int i = 0; i < kCrashRows; ++i) {
    const int day = 1 + i % 28, hour = 8 + i % 9;
    char buf[160];
    std::snprintf(buf, sizeof buf, "K%05d,2025-02-%02d %02d:00:00,Unit%d,2025-03-%02d %02d:00:00,%s\n", i,
                  day, hour, i % 7, day, hour, i % 2 == 0 ? "2025-03-01 07:00:00" : "");
    text += buf;
  }
  return text;
}

std::uintmax_t WalBytes(const std::string& dir) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.path().extension() == ".log") total += f.file_size(ec);
  }
  return total;
}

}  // namespace

// Runs only as the child process of the test below (it sets the variable).
TEST_CASE("bulk import crash child") {
  const char* db = std::getenv("CASELOOP_IMPORT_CRASH_DB");
  const char* csv = std::getenv("CASELOOP_IMPORT_CRASH_CSV");
  if (db == nullptr || csv == nullptr) return;
  EngineOptions o;
  o.path = db;  // Durability::kSync: the bulk appends are kBuffered, one Flush per batch
  o.clock = std::make_shared<ManualClock>(InstantFromMicros(0));
  auto e = Engine::Open(o);
  REQUIRE(e.ok());
  std::ostringstream out, err;
  auto r = ImportCsv(**e, SmallOptions(csv), out, err);
  REQUIRE(r.ok());
}

TEST_CASE(
    "bulk import: kill -9 in the middle leaves whole rows, a prefix of the file; re-running completes it") {
  const std::string db = TempPath("crash-db");
  std::filesystem::remove_all(db);
  const std::string csv = TempFile("crash.csv", CrashCsv());
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  REQUIRE(n > 0);
  self[n] = '\0';
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    setenv("CASELOOP_IMPORT_CRASH_DB", db.c_str(), 1);
    setenv("CASELOOP_IMPORT_CRASH_CSV", csv.c_str(), 1);
    execl(self, self, "-tc=bulk import crash child", "-nv", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once some batches are in the write-ahead log (or when it is done:
  // the checks below hold either way; the message says where it stopped).
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && !exited; ++i) {
    if (WalBytes(db) > (512u << 10)) break;
    exited = waitpid(child, &status, WNOHANG) == child;
    if (!exited) usleep(5000);
  }
  if (!exited) {
    kill(child, SIGKILL);
    REQUIRE(waitpid(child, &status, 0) == child);
  }

  auto engine = OpenEngine(db);
  auto check = engine->Check();
  REQUIRE(check.ok());
  CHECK(check->empty());
  int present = 0, half = 0, gaps = 0;
  for (int i = 0; i < kCrashRows; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "K%05d", i);
    // The case stream's version: the number of its events (0: no stream).
    auto history = engine->History(id);
    REQUIRE((history.ok() || history.status().IsNotFound()));
    const std::uint64_t v = history.ok() ? history->size() : 0;
    const std::uint64_t whole = i % 2 == 0 ? 6 : 3;
    if (v == 0) continue;
    if (v != whole) ++half;
    if (present != i) ++gaps;  // a row after a missing one
    ++present;
  }
  MESSAGE("the crashed import left ", present, " of ", kCrashRows, " rows");
  CHECK(half == 0);
  CHECK(gaps == 0);

  std::ostringstream out, err;
  auto r = ImportCsv(*engine, SmallOptions(csv), out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported == kCrashRows - present);
  CHECK(r->unchanged == present);
  CHECK(r->skipped == 0);
  CHECK(engine->Close().ok());
  std::filesystem::remove_all(db);
}

namespace {

// The engine's answer when a batch's events were appended but the flush that
// makes them durable failed (bulk.cc, on a full disk): every group done, and
// the flush's error as its status.
class UnflushedEngine final : public testing::ForwardingEngine {
 public:
  using ForwardingEngine::ForwardingEngine;
  std::vector<CaseBatchResult> SubmitBatch(const std::vector<CaseBatch>& batch) override {
    std::vector<CaseBatchResult> results = ForwardingEngine::SubmitBatch(batch);
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i].status.ok() && results[i].done == batch[i].commands.size()) {
        results[i].status = Status::IOError(
            "the batch's events were written but not made durable: IO error: While fdatasync: "
            "/mnt/db/000012.log: No space left on device");
      }
    }
    ++batches;
    return results;
  }
  int batches = 0;
};

}  // namespace

// docs/reliability.md: the completion of a row read its step's name with the
// done step, one past the names (a global-buffer-overflow under ASan, "string
// pointer is null" in a release build) instead of reporting the full disk.
TEST_CASE("bulk import: a batch that cannot be made durable stops the import with the storage error") {
  // Closed rows (six commands: done == kDone) and open ones (three).
  std::string csv = "id,created,unit,due,closed\n";
  for (int i = 0; i < 40; ++i) {
    csv += fmt::format("F{:03},2025-03-03 09:{:02}:00,WATER,2025-03-05 17:00:00,{}\n", i, i,
                       i % 2 == 0 ? "2025-03-04 10:00:00" : "");
  }
  auto inner = OpenEngine();
  UnflushedEngine engine(inner.get());
  Run r = Import(engine, SmallOptions(TempFile("unflushed.csv", csv)), /*bulk=*/true);
  CHECK(engine.batches == 1);
  REQUIRE_FALSE(r.summary.ok());
  CHECK(r.summary.status().IsIOError());
  CHECK_MESSAGE(r.summary.status().message().find("No space left on device") != std::string::npos,
                r.summary.status().ToString());
  CHECK(r.summary.status().message().find("stopped after 40 rows") != std::string::npos);
  // Not a row error per row of the batch: one storage error for the import.
  CHECK_MESSAGE(r.err.empty(), r.err);
  CHECK(r.out.empty());  // no summary claims rows were imported
}
