// ImportCsv: real 311 exports (Boston, NYC), dirty and malformed CSVs,
// re-import, and the CSV reader / time parser underneath.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "caseloop/engine.h"
#include "import_test_util.h"
#include "script/tools.h"
#include "script/tools_internal.h"

using namespace caseloop;
using caseloop::test::BostonOptions;
using caseloop::test::Data;

namespace {

std::unique_ptr<Engine> OpenImportEngine() {
  EngineOptions o;
  // A manual clock that stays put: no deadline timer fires during a test, so
  // the log holds exactly what the import wrote.
  o.clock = std::make_shared<ManualClock>(InstantFromMicros(0));
  auto e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

std::string TempFile(const std::string& name, const std::string& content) {
  auto dir = std::filesystem::temp_directory_path() / "caseloop_import_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  return path;
}

ImportOptions NycOptions() {
  ImportOptions o;
  o.file = Data("nyc311_2013-12-25.csv");
  o.id_column = "Unique Key";
  o.created_column = "Created Date";
  o.closed_column = "Closed Date";
  o.due_column = "Due Date";
  o.unit_column = "Agency";
  o.time_format = "%m/%d/%Y %I:%M:%S %p";
  o.utc_offset_minutes = -5 * 60;
  return o;
}

// Reads a CSV file with the importer's own reader: header -> rows of maps.
std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  tools::CsvReader reader(in);
  tools::CsvReader::Record rec;
  std::vector<std::map<std::string, std::string>> rows;
  REQUIRE(reader.Next(rec));
  std::vector<std::string> header = rec.fields;
  while (reader.Next(rec)) {
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < rec.fields.size(); ++i)
      row.emplace(header[i], rec.fields[i]);
    rows.push_back(std::move(row));
  }
  return rows;
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

}  // namespace

TEST_CASE("import: Boston 311 on-time flags equal the City's OnTime_Status") {
  auto engine = OpenImportEngine();
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, BostonOptions(), out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->rows == 4995);
  CHECK(r->imported == 4995);
  CHECK(r->skipped == 0);
  CHECK(err.str() == "");
  CHECK(out.str() == "imported 4995, unchanged 0, skipped 0 of 4995 rows\n");
  MESSAGE("Boston import: ", r->rows, " rows in ", r->seconds, " s = ", r->rows / std::max(r->seconds, 1e-9),
          " rows/s");

  // Every department became a unit named after it (blanks -> '_' in the id).
  Config cfg = engine->CurrentConfig();
  CHECK(cfg.units.count("Public_Works_Department") == 1);
  CHECK(cfg.units.at("Public_Works_Department").name == "Public Works Department");

  int flagged = 0, mismatched = 0;
  for (const auto& row : ReadCsv(Data("boston311_raw_sample.csv"))) {
    const std::string& flag = row.at("OnTime_Status");
    auto view = engine->Show(row.at("CASE_ENQUIRY_ID"));
    REQUIRE_MESSAGE(view.ok(), view.status().ToString());
    CHECK(view->state == LifecycleState::kClosed);
    if (flag.empty()) continue;
    ++flagged;
    REQUIRE(view->on_time.has_value());
    if (*view->on_time != (flag == "ONTIME")) {
      ++mismatched;
      MESSAGE("case ", row.at("CASE_ENQUIRY_ID"), ": City says ", flag,
              ", caseloop says on_time=", *view->on_time);
    }
  }
  CHECK(flagged == 4994);
  CHECK(mismatched == 0);

  // Importing the same file again adds nothing.
  const std::uint64_t head = engine->HeadPosition();
  std::ostringstream out2, err2;
  auto again = ImportCsv(*engine, BostonOptions(), out2, err2);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->imported == 0);
  CHECK(again->unchanged == 4995);
  CHECK(again->skipped == 0);
  CHECK(out2.str() == "imported 0, unchanged 4995, skipped 0 of 4995 rows\n");
  CHECK(engine->HeadPosition() == head);
}

TEST_CASE("import: NYC 311 dirty rows are reported precisely") {
  auto engine = OpenImportEngine();
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, NycOptions(), out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->rows == 2386);
  CHECK(r->skipped == 1);
  CHECK(r->imported == 2385);
  // The one row closed before it was created; line 2072 of the file.
  CHECK(err.str() ==
        "row 2072: case 26984786: closed '10/30/2013 12:00:00 AM' is before created '12/25/2013 12:00:00 "
        "AM'\n");
  CHECK(out.str() == "imported 2385, unchanged 0, skipped 1 of 2386 rows\n");
  CHECK(engine->CurrentConfig().units.size() == 14);

  int open = 0, closed_not_closed_status = 0;
  for (const auto& row : ReadCsv(Data("nyc311_2013-12-25.csv"))) {
    const std::string& id = row.at("Unique Key");
    if (id == "26984786") {
      CHECK(engine->Show(id).status().IsNotFound());
      continue;
    }
    auto view = engine->Show(id);
    REQUIRE_MESSAGE(view.ok(), view.status().ToString());
    CHECK(view->unit.value_or("") == row.at("Agency"));
    if (row.at("Closed Date").empty()) {
      // No close date: an open case, dispatched to its agency.
      ++open;
      CHECK(view->state == LifecycleState::kDispatched);
      CHECK(!view->on_time.has_value());
    } else {
      // Closed per the close date, whatever the Status column says.
      if (row.at("Status") != "Closed") ++closed_not_closed_status;
      CHECK(view->state == LifecycleState::kClosed);
    }
    if (row.at("Due Date").empty()) {
      CHECK(!view->deadline.has_value());
    }
  }
  CHECK(open == 77);
  // README: 7 rows are closed with a non-closed status; one of them is the
  // row closed before it was created (skipped above).
  CHECK(closed_not_closed_status == 6);

  // Re-import: nothing new; the bad row is reported again.
  const std::uint64_t head = engine->HeadPosition();
  std::ostringstream out2, err2;
  auto again = ImportCsv(*engine, NycOptions(), out2, err2);
  REQUIRE(again.ok());
  CHECK(again->imported == 0);
  CHECK(again->unchanged == 2385);
  CHECK(again->skipped == 1);
  CHECK(engine->HeadPosition() == head);

  // Strict: the skipped row makes the run an error.
  ImportOptions strict = NycOptions();
  strict.strict = true;
  std::ostringstream out3, err3;
  auto s = ImportCsv(*engine, strict, out3, err3);
  CHECK(s.status().IsInvalidArgument());
  CHECK(s.status().message().find("1 of 2386 rows skipped") != std::string::npos);
}

TEST_CASE("import: malformed rows give row errors, not crashes") {
  const std::string csv =
      "id,created,unit,closed,due,note\n"                                          // line 1
      "A1,2025-01-02 10:00:00,WATER,2025-01-03 10:00:00,,plain\n"                  // 2
      "A2,\"2025-01-02 10:00:00\",WATER,,2025-01-04 10:00:00,\"two\nlines\"\n"     // 3-4
      "A3,2025-13-45 10:00:00,WATER,,,bad time\n"                                  // 5
      "A4,2025-01-02 10:00:00,,,,no unit\n"                                        // 6
      "A5,2025-01-02 10:00:00\n"                                                   // 7
      "\"A6,x\",2025-01-02 10:00:00,\"WA\"\"TER, ltd\",,,quoted\n"                 // 8
      "A7,2025-01-03 10:00:00,WATER,2025-01-02 10:00:00,,closed before created\n"  // 9
      "A1,2025-01-02 10:00:00,POWER,2025-01-03 10:00:00,,same id other unit\n"     // 10
      "A1,2025-01-02 10:00:00,WATER,2025-01-03 10:00:00,,same row again\n"         // 11
      ",2025-01-02 10:00:00,WATER,,,no id\n"                                       // 12
      "A8,2025-01-02 10:00:00 garbage,WATER,,,trailing garbage\n"                  // 13
      "A9,2025-01-02 10:00:00,WATER,,2025-01-01 10:00:00,due before created\n"     // 14
      "\n"                                                                         // 15 (blank)
      "A10,2025-01-02 10:00:00,WATER,,,\"unterminated\n"                           // 16
      "A11,2025-01-02 10:00:00,WATER,,,swallowed by the quote\n";                  // 17
  for (bool crlf : {false, true}) {
    std::string text = csv;
    if (crlf) {
      std::string t;
      for (char c : csv) {
        if (c == '\n') t += '\r';
        t += c;
      }
      text = t;
    }
    CAPTURE(crlf);
    auto engine = OpenImportEngine();
    std::ostringstream out, err;
    auto r = ImportCsv(*engine, SmallOptions(TempFile(crlf ? "bad_crlf.csv" : "bad.csv", text)), out, err);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    std::string e = err.str();
    CHECK(e.find("row 5: case A3: column 'created': time '2025-13-45 10:00:00' does not match format") !=
          std::string::npos);
    CHECK(e.find("row 6: case A4: empty unit (column 'unit')") != std::string::npos);
    CHECK(e.find("row 7: only 2 fields: column 'unit' is missing") != std::string::npos);
    CHECK(e.find("row 9: case A7: closed '2025-01-02 10:00:00' is before created '2025-01-03 10:00:00'") !=
          std::string::npos);
    CHECK(e.find("row 10: case A1: id already on row 2 with a different unit") != std::string::npos);
    CHECK(e.find("row 12: empty id (column 'id')") != std::string::npos);
    CHECK(e.find("row 13: case A8: column 'created': time '2025-01-02 10:00:00 garbage'") !=
          std::string::npos);
    CHECK(e.find("row 14: case A9: due '2025-01-01 10:00:00' is before created") != std::string::npos);
    CHECK(e.find("row 16: malformed CSV: unterminated quoted field (opened on line 16, field 6)") !=
          std::string::npos);
    CHECK(e.find("row 11") == std::string::npos);  // identical duplicate: unchanged
    // A1, A2, A6 imported; row 11 unchanged; 9 rows skipped.
    CHECK(r->rows == 13);
    CHECK(r->imported == 3);
    CHECK(r->unchanged == 1);
    CHECK(r->skipped == 9);
    CHECK(out.str() == "imported 3, unchanged 1, skipped 9 of 13 rows\n");

    auto a6 = engine->Show("A6,x");
    REQUIRE_MESSAGE(a6.ok(), a6.status().ToString());
    CHECK(a6->unit.value_or("") == "WA\"TER,_ltd");
    CHECK(engine->CurrentConfig().units.at("WA\"TER,_ltd").name == "WA\"TER, ltd");
    auto a2 = engine->Show("A2");
    REQUIRE(a2.ok());
    CHECK(a2->state == LifecycleState::kDispatched);
    REQUIRE(a2->deadline.has_value());
    CHECK(FormatInstant(*a2->deadline, 480) == "2025-01-04T10:00:00+08:00");
  }
}

TEST_CASE("import: bad files and columns are errors naming them") {
  auto engine = OpenImportEngine();
  std::ostringstream out, err;
  auto missing = ImportCsv(*engine, SmallOptions("/nonexistent/x.csv"), out, err);
  CHECK(missing.status().IsNotFound());
  CHECK(missing.status().message().find("/nonexistent/x.csv") != std::string::npos);

  auto empty = ImportCsv(*engine, SmallOptions(TempFile("empty.csv", "")), out, err);
  CHECK(empty.status().IsInvalidArgument());

  auto no_col = ImportCsv(
      *engine, SmallOptions(TempFile("nocol.csv", "id,created,closed,due\nA,2025-01-01,,\n")), out, err);
  CHECK(no_col.status().IsInvalidArgument());
  CHECK(no_col.status().message().find("'unit' (--unit)") != std::string::npos);

  // Only the header: nothing to do, not an error.
  std::ostringstream out2;
  auto header_only =
      ImportCsv(*engine, SmallOptions(TempFile("header.csv", "id,created,unit,closed,due\n")), out2, err);
  REQUIRE(header_only.ok());
  CHECK(out2.str() == "imported 0, unchanged 0, skipped 0 of 0 rows\n");
}

TEST_CASE("import: a later export closes open cases; other content is refused") {
  auto engine = OpenImportEngine();
  std::ostringstream out, err;
  auto first = ImportCsv(*engine,
                         SmallOptions(TempFile("v1.csv",
                                               "id,created,unit,closed,due\n"
                                               "B1,2025-02-03 09:00:00,PARKS,,2025-02-05 09:00:00\n"
                                               "B2,2025-02-03 09:00:00,PARKS,,\n")),
                         out, err);
  REQUIRE(first.ok());
  CHECK(first->imported == 2);
  CHECK(engine->Show("B1")->state == LifecycleState::kDispatched);

  std::ostringstream out2, err2;
  auto second = ImportCsv(*engine,
                          SmallOptions(TempFile("v2.csv",
                                                "id,created,unit,closed,due\n"
                                                "B1,2025-02-03 09:00:00,PARKS,2025-02-06 09:00:00,"
                                                "2025-02-05 09:00:00\n"
                                                "B2,2025-02-03 09:00:00,ROADS,,\n")),
                          out2, err2);
  REQUIRE(second.ok());
  CHECK(second->updated == 1);
  CHECK(second->skipped == 1);
  CHECK(out2.str() == "imported 0, updated 1, unchanged 0, skipped 1 of 2 rows\n");
  CHECK(err2.str() == "row 3: case B2: already exists with a different unit or due\n");
  auto b1 = engine->Show("B1");
  REQUIRE(b1.ok());
  CHECK(b1->state == LifecycleState::kClosed);
  CHECK(b1->on_time == std::optional<bool>(false));  // closed a day after its due date
}

TEST_CASE("import: categories from a column, generic otherwise; ISO times with --tz") {
  auto engine = OpenImportEngine();
  ImportOptions o = SmallOptions(TempFile("cat.csv",
                                          "id,created,unit,closed,due,type\n"
                                          "K1,2025-02-03T09:00,PARKS,,,Graffiti\n"
                                          "K2,2025-02-03T09:00,PARKS,,,\n"
                                          "K3,2025-02-03T09:00Z,PARKS,,,Graffiti\n"));
  o.category_column = "type";
  o.time_format = "iso";
  o.utc_offset_minutes = -5 * 60;
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported == 3);
  Config cfg = engine->CurrentConfig();
  REQUIRE(cfg.FindCategory(CaseKind::kEvent, "9001") != nullptr);
  CHECK(cfg.FindCategory(CaseKind::kEvent, "9001")->name == "Graffiti");
  CHECK(engine->Show("K1")->category == "9001");
  CHECK(engine->Show("K2")->category == "9000");
  CHECK(engine->State("K1")->reported_at == *ParseInstant("2025-02-03T14:00:00Z", 0));
  CHECK(engine->State("K3")->reported_at == *ParseInstant("2025-02-03T09:00:00Z", 0));
}

TEST_CASE("import: CSV reader and time parser") {
  std::istringstream in(
      "\xEF\xBB\xBF"
      "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\r\n\r\nlast,\"multi\r\nline\",z");
  tools::CsvReader reader(in);
  tools::CsvReader::Record rec;
  REQUIRE(reader.Next(rec));
  CHECK(rec.line == 1);
  CHECK(rec.fields == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(reader.Next(rec));
  CHECK(rec.line == 2);
  CHECK(rec.fields == std::vector<std::string>{"x,1", "say \"hi\"", ""});
  REQUIRE(reader.Next(rec));
  CHECK(rec.line == 4);
  CHECK(rec.fields == std::vector<std::string>{"last", "multi\r\nline", "z"});
  CHECK(rec.error.empty());
  CHECK(!reader.Next(rec));

  std::istringstream bad("\"a\"b,c\nd,e\n");
  tools::CsvReader r2(bad);
  REQUIRE(r2.Next(rec));
  CHECK(rec.error == "text after the closing quote of field 1");
  REQUIRE(r2.Next(rec));
  CHECK(rec.line == 2);
  CHECK(rec.fields == std::vector<std::string>{"d", "e"});

  auto pm = tools::ParseTimeWithFormat("12/25/2013 11:59:08 PM", "%m/%d/%Y %I:%M:%S %p", -300);
  REQUIRE(pm.ok());
  CHECK(FormatInstant(*pm, 0) == "2013-12-26T04:59:08+00:00");
  auto midnight = tools::ParseTimeWithFormat("12/25/2013 12:00:00 AM", "%m/%d/%Y %I:%M:%S %p", 0);
  REQUIRE(midnight.ok());
  CHECK(FormatInstant(*midnight, 0) == "2013-12-25T00:00:00+00:00");
  CHECK(tools::ParseTimeWithFormat("02/30/2013 10:00:00 AM", "%m/%d/%Y %I:%M:%S %p", 0)
            .status()
            .IsInvalidArgument());
  CHECK(tools::ParseTimeWithFormat("", "%Y", 0).status().IsInvalidArgument());
  CHECK(
      tools::ParseTimeWithFormat("1969-12-31 10:00:00", "%Y-%m-%d %H:%M:%S", 0).status().IsInvalidArgument());
}
