// What an import reports (issue 22): a reason that repeats on many rows is one
// line with its count and first rows; a status column (--status with
// --closed-status) makes rows whose close time and status disagree open, and
// reports them, instead of closing them silently.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "import_test_util.h"

using namespace caseloop;
using caseloop::test::Data;

namespace {

std::unique_ptr<Engine> OpenEngine() {
  EngineOptions o;
  o.clock = std::make_shared<ManualClock>(InstantFromMicros(0));
  auto e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

std::string WriteFile(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::temp_directory_path() / "caseloop_import_report_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  return path;
}

ImportOptions Columns(const std::string& path) {
  ImportOptions o;
  o.file = path;
  o.id_column = "id";
  o.created_column = "created";
  o.unit_column = "unit";
  o.closed_column = "closed";
  return o;
}

}  // namespace

TEST_CASE("import: a reason repeated on many rows is one line with its count and first rows") {
  auto engine = OpenEngine();
  std::string v1 = "id,created,unit,closed\n", v2 = v1;
  for (int i = 1; i <= 6; ++i) {
    v1 += "C" + std::to_string(i) + ",2025-02-03 09:00:00,PARKS,\n";
    v2 += "C" + std::to_string(i) + ",2025-02-04 09:00:00,PARKS,\n";  // another created time
  }
  v2 += "C7,,PARKS,\n";                     // a reason of its own
  v2 += "C8,2025-02-04 09:00:00,PARKS,\n";  // one new row: the file is not all skipped
  std::ostringstream out, err;
  REQUIRE(ImportCsv(*engine, Columns(WriteFile("v1.csv", v1)), out, err).ok());
  CHECK(err.str().empty());

  std::ostringstream out2, err2;
  auto again = ImportCsv(*engine, Columns(WriteFile("v2.csv", v2)), out2, err2);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->skipped == 7);
  CHECK(again->imported == 1);
  CHECK(
      err2.str() ==
      "6 rows: already exists with a different created (row 2: case C1; row 3: case C2; row 4: case C3; …)\n"
      "row 8: case C7: empty created time (column 'created')\n");

  // Two rows with one reason: both shown, no ellipsis.
  std::ostringstream out3, err3;
  auto two = ImportCsv(*engine,
                       Columns(WriteFile("v3.csv",
                                         "id,created,unit,closed\n"
                                         "C1,2025-02-05 09:00:00,PARKS,\n"
                                         "C2,2025-02-05 09:00:00,PARKS,\n")),
                       out3, err3);
  REQUIRE_MESSAGE(!two.ok(), "every row skipped is an error");  // and still reported, grouped
  CHECK(err3.str() == "2 rows: already exists with a different created (row 2: case C1; row 3: case C2)\n");
}

TEST_CASE("import --status: a close time with an open status is imported open and reported") {
  auto engine = OpenEngine();
  ImportOptions o = Columns(WriteFile("status.csv",
                                      "id,created,unit,closed,state\n"
                                      "S1,2025-02-03 09:00:00,PARKS,2025-02-03 12:00:00,Closed\n"
                                      "S2,2025-02-03 09:00:00,PARKS,2025-02-03 12:00:00,Pending\n"
                                      "S3,2025-02-03 09:00:00,PARKS,,closed\n"
                                      "S4,2025-02-03 09:00:00,PARKS,,Open\n"
                                      "S5,2025-02-03 09:00:00,PARKS,2025-02-03 12:00:00,Resolved\n"));
  o.status_column = "state";
  o.closed_statuses = {"Closed", "Resolved"};
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported == 5);
  CHECK(r->skipped == 0);
  CHECK(r->status_disagrees == 2);
  CHECK(out.str() ==
        "imported 5, unchanged 0, skipped 0 of 5 rows (2 imported open: close time and status disagree)\n");
  CHECK(err.str() ==
        "row 3: case S2: closed '2025-02-03 12:00:00' but status 'Pending' is not closed (--closed-status "
        "Closed,Resolved): imported open\n"
        "row 4: case S3: status 'closed' but no closed time (column 'closed'): imported open\n");
  CHECK(engine->Show("S1")->state == LifecycleState::kClosed);
  CHECK(engine->Show("S2")->state == LifecycleState::kDispatched);
  CHECK(engine->Show("S3")->state == LifecycleState::kDispatched);
  CHECK(engine->Show("S4")->state == LifecycleState::kDispatched);
  CHECK(engine->Show("S5")->state == LifecycleState::kClosed);

  // Both options or neither; a missing status column is named.
  ImportOptions half = o;
  half.closed_statuses.clear();
  std::ostringstream o2, e2;
  auto refused = ImportCsv(*engine, half, o2, e2);
  CHECK(refused.status().IsInvalidArgument());
  CHECK(refused.status().message().find("--status needs --closed-status") != std::string::npos);
  ImportOptions other = o;
  other.status_column = "";
  auto refused2 = ImportCsv(*engine, other, o2, e2);
  CHECK(refused2.status().message().find("--closed-status needs --status") != std::string::npos);
  ImportOptions missing = o;
  missing.status_column = "Status";
  auto refused3 = ImportCsv(*engine, missing, o2, e2);
  CHECK(refused3.status().message().find("no column 'Status' (--status)") != std::string::npos);
}

TEST_CASE("import --status: the NYC sample's rows closed with an open status are reported") {
  if (!std::filesystem::exists(Data("nyc311_2013-12-25.csv"))) {
    MESSAGE("shared/data/nyc311_2013-12-25.csv not found; skipped");
    return;
  }
  auto engine = OpenEngine();
  ImportOptions o;
  o.file = Data("nyc311_2013-12-25.csv");
  o.id_column = "Unique Key";
  o.created_column = "Created Date";
  o.closed_column = "Closed Date";
  o.due_column = "Due Date";
  o.unit_column = "Agency";
  o.time_format = "%m/%d/%Y %I:%M:%S %p";
  o.utc_offset_minutes = -5 * 60;
  o.status_column = "Status";
  o.closed_statuses = {"Closed"};
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  // 7 rows have a close date and another status; one of them closed before it
  // was created and is skipped for that.
  CHECK(r->status_disagrees == 6);
  CHECK(r->skipped == 1);
  CHECK(r->imported == 2385);
  int reported = 0;
  std::istringstream lines(err.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.find("is not closed (--closed-status Closed): imported open") == std::string::npos) continue;
    // "K rows: ..." when K rows share one reason (the same close time and status).
    reported += line.rfind("row ", 0) == 0 ? 1 : std::stoi(line);
  }
  CHECK(reported == 6);
}
