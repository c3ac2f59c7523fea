// ImportCsv: real 311 exports (Boston, NYC), dirty and malformed CSVs,
// re-import, and the CSV reader / time parser underneath.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "import_test_util.h"
#include "tools/csv_reader.h"
#include "tools/import_internal.h"
#include "tools/time_format.h"

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

// docs/reliability.md: `import /dev/zero` grew to 4.2 GB (one field without
// end). Fields, the fields of a record and records are bounded.
TEST_CASE("CSV reader: fields, the fields of a record and records are bounded") {
  const tools::CsvLimits small{/*max_field_bytes=*/8, /*max_record_bytes=*/64, /*max_fields=*/4};
  tools::CsvReader::Record rec;
  {
    std::istringstream in("ab,0123456789,c\n\"quoted-0123456789\",z\na,b,c,d,e,f\nok,1\n");
    tools::CsvReader reader(in, small);
    REQUIRE(reader.Next(rec));
    CHECK(rec.error == "field 2 is longer than 8 bytes (the limit of a CSV field)");
    CHECK(rec.fields == std::vector<std::string>{"ab", "01234567", "c"});
    REQUIRE(reader.Next(rec));
    CHECK(rec.line == 2);
    CHECK(rec.error == "field 1 is longer than 8 bytes (the limit of a CSV field)");
    REQUIRE(reader.Next(rec));
    CHECK(rec.line == 3);
    CHECK(rec.error == "more than 4 fields (the limit of a CSV record)");
    CHECK(rec.fields.size() == 4);
    REQUIRE(reader.Next(rec));
    CHECK(rec.line == 4);
    CHECK(rec.error.empty());
    CHECK(rec.fields == std::vector<std::string>{"ok", "1"});
    CHECK(!reader.Next(rec));
    CHECK(reader.status().ok());
  }
  // A record past max_record_bytes stops the reading, naming its first line:
  // unquoted, in an unterminated quote, in text after a closing quote.
  for (const std::string& tail : {std::string(100, 'x'), "\"" + std::string(100, 'x'),
                                  "\"q\"" + std::string(100, 'x'), std::string(100, ',')}) {
    std::istringstream in("h1,h2\n\nrow," + tail + "\nnever,read\n");
    tools::CsvReader reader(in, small);
    REQUIRE(reader.Next(rec));
    CHECK(!reader.Next(rec));
    REQUIRE_FALSE(reader.status().ok());
    CHECK(reader.status().IsInvalidArgument());
    CHECK(reader.status().message() ==
          "line 3: a record longer than 64 bytes (the limit of a CSV record; an unterminated quote, or not a "
          "CSV file?)");
    CHECK(rec.fields.empty());
    CHECK(!reader.Next(rec));  // and stays stopped
  }
}

TEST_CASE("import: an over-long field skips its row; endless input stops at the record limit") {
  auto engine = OpenImportEngine();
  const std::string big(kCsvMaxFieldBytes + 1, 'd');
  std::ostringstream out, err;
  auto r = ImportCsv(*engine,
                     SmallOptions(TempFile("bigfield.csv",
                                           "id,created,unit,due,closed\n"
                                           "B1,2025-03-03 09:00:00,WATER,,\n"
                                           "B2,2025-03-03 09:00:00," +
                                               big + ",,\nB3,2025-03-03 09:00:00,WATER,,\n")),
                     out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported == 2);
  CHECK(r->skipped == 1);
  CHECK(err.str() ==
        "row 3: malformed CSV: field 3 is longer than 1048576 bytes (the limit of a CSV field)\n");
  CHECK(engine->Show("B3").ok());

  // /dev/zero: a header without end, in bounded memory.
  std::ostringstream out2, err2;
  auto zero = ImportCsv(*engine, SmallOptions("/dev/zero"), out2, err2);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().IsInvalidArgument());
  CHECK(zero.status().message() ==
        "/dev/zero: the header: line 1: a record longer than 16777216 bytes (the limit of a CSV record; an "
        "unterminated quote, or not a CSV file?)");
  // A data record without end: the rows before it are imported, then the
  // import stops naming the line.
  const std::string endless = "id,created,unit,due,closed\nE1,2025-03-03 09:00:00,WATER,,\nE2,\"" +
                              std::string(kCsvMaxRecordBytes + 10, 'q');
  std::ostringstream out3, err3;
  auto stopped = ImportCsv(*engine, SmallOptions(TempFile("endless.csv", endless)), out3, err3);
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.status().IsInvalidArgument());
  CHECK_MESSAGE(stopped.status().message().find("stopped after 1 rows: line 3: a record longer than 16777216 "
                                                "bytes") != std::string::npos,
                stopped.status().message());
  CHECK(engine->Show("E1").ok());
}

// docs/reliability.md: --time-format '%m/%d/%Y %H:%M:%S %p' imported every PM
// time 12 hours early (glibc's strptime ignores %p beside %H).
TEST_CASE("import: a time format whose AM/PM strptime would ignore is refused before any row") {
  for (const char* ok : {"%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %T", "%Y",
                         "%m/%d/%Y %r", "%Y-%m-%d %l:%M %p", "%Y-%m-%d %I%%p %p", "100%% %Y-%m-%d %H"}) {
    INFO(ok);
    CHECK(tools::CheckTimeFormat(ok).ok());
  }
  struct Bad {
    const char* format;
    const char* part;
  };
  for (Bad b : {Bad{"%m/%d/%Y %H:%M:%S %p", "reads a 24-hour hour (%H) and AM/PM (%p)"},
                Bad{"%m/%d/%Y %T %p", "reads a 24-hour hour (%T) and AM/PM (%p)"},
                Bad{"%m/%d/%Y %OH:%M %p", "reads a 24-hour hour (%OH) and AM/PM (%p)"},
                Bad{"%m/%d/%Y %k:%M %r", "reads a 24-hour hour (%k) and AM/PM (%r)"},
                Bad{"%m/%d/%Y %I:%M:%S", "reads a 12-hour hour (%I) without AM/PM (%p)"},
                Bad{"%m/%d/%Y %l:%M", "reads a 12-hour hour (%l) without AM/PM (%p)"}}) {
    INFO(b.format);
    Status s = tools::CheckTimeFormat(b.format);
    REQUIRE_FALSE(s.ok());
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(b.part) != std::string::npos);
    CHECK(tools::ParseTimeWithFormat("12/25/2013 01:00:00 PM", b.format, 0).status().IsInvalidArgument());
  }
  // 1 PM with %I and %p is 13:00; with %H and %p it was read as 01:00.
  auto pm = tools::ParseTimeWithFormat("12/25/2013 01:00:00 PM", "%m/%d/%Y %I:%M:%S %p", 0);
  REQUIRE(pm.ok());
  CHECK(FormatInstant(*pm, 0) == "2013-12-25T13:00:00+00:00");

  auto engine = OpenImportEngine();
  ImportOptions o = SmallOptions(TempFile("pm.csv",
                                          "id,created,unit,due,closed\n"
                                          "P1,12/25/2013 01:00:00 PM,WATER,,\n"));
  o.time_format = "%m/%d/%Y %H:%M:%S %p";
  o.utc_offset_minutes = 0;
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message().rfind("import: time format '%m/%d/%Y %H:%M:%S %p' reads a 24-hour hour (%H)",
                                   0) == 0);
  CHECK(out.str().empty());
  CHECK(err.str().empty());
  CHECK(engine->Show("P1").status().IsNotFound());  // nothing was imported
  o.time_format = "%m/%d/%Y %I:%M:%S %p";
  auto fixed = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(fixed.ok(), fixed.status().ToString());
  CHECK(engine->State("P1")->reported_at == *ParseInstant("2013-12-25T13:00:00Z", 0));
}

// docs/reliability.md: an import in which every row failed exited 0.
TEST_CASE("import: a file of which no row can be imported is an error; one good row is enough") {
  auto engine = OpenImportEngine();
  const std::string bad_rows =
      "id,created,unit,due,closed\n"
      "N1,not a time,WATER,,\n"
      "N2,2025-03-03 09:00:00,,,\n";
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, SmallOptions(TempFile("none.csv", bad_rows)), out, err);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message().find("none of the 2 rows could be imported") != std::string::npos);
  CHECK(out.str() == "imported 0, unchanged 0, skipped 2 of 2 rows\n");
  CHECK(err.str().find("row 2: case N1") != std::string::npos);
  CHECK(err.str().find("row 3: case N2: empty unit") != std::string::npos);

  std::ostringstream out2, err2;
  auto one = ImportCsv(
      *engine, SmallOptions(TempFile("one.csv", bad_rows + "N3,2025-03-03 09:00:00,WATER,,\n")), out2, err2);
  REQUIRE_MESSAGE(one.ok(), one.status().ToString());
  CHECK(one->imported == 1);
  CHECK(one->skipped == 2);
  // Rows already there count as done, not failed.
  std::ostringstream out3, err3;
  auto again = ImportCsv(*engine,
                         SmallOptions(TempFile("again.csv",
                                               "id,created,unit,due,closed\n"
                                               "N3,2025-03-03 09:00:00,WATER,,\n")),
                         out3, err3);
  REQUIRE_MESSAGE(again.ok(), again.status().ToString());
  CHECK(again->unchanged == 1);
}

// Issue 22: `import --tz -05:00` read the times at -05:00 but left the
// calendar at +08:00, so the days of the day-bounded queries were cut at the
// wrong midnight.
TEST_CASE("import --tz: a new database takes the zone; one at another zone refuses it") {
  const std::string file = TempFile("tz.csv",
                                    "id,created,unit,closed,due\n"
                                    "Z1,2025-02-03 23:30:00,PARKS,,\n");
  SUBCASE("a new database") {
    auto engine = OpenImportEngine();
    ImportOptions o = SmallOptions(file);
    o.utc_offset_minutes = -5 * 60;
    std::ostringstream out, err;
    auto r = ImportCsv(*engine, o, out, err);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    CHECK(engine->CurrentConfig().calendar.utc_offset_minutes == -300);
    CHECK(engine->State("Z1")->reported_at == *ParseInstant("2025-02-04T04:30:00Z", 0));
    // The day of the case is the file's day, 2025-02-03, not the next day at +08:00.
    PeriodQuery q;
    q.from = *ParseInstant("2025-02-03", -300);
    q.to = *ParseInstant("2025-02-04", -300);
    q.at = q.to;
    auto centre = engine->Centre(q);
    REQUIRE(centre.ok());
    CHECK(centre->received == 1);
    // Again with the same zone, or none: the calendar's.
    auto again = ImportCsv(*engine, o, out, err);
    REQUIRE_MESSAGE(again.ok(), again.status().ToString());
    CHECK(again->unchanged == 1);
    o.utc_offset_minutes.reset();
    CHECK(ImportCsv(*engine, o, out, err).ok());
    // Another zone is refused, naming both, before any row is read.
    o.utc_offset_minutes = 0;
    o.file = TempFile("tz2.csv", "id,created,unit,closed,due\nZ2,2025-02-03 10:00:00,PARKS,,\n");
    std::ostringstream out2, err2;
    auto refused = ImportCsv(*engine, o, out2, err2);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().IsInvalidArgument());
    CHECK(refused.status().message().rfind(
              "import: --tz +00:00 is not the zone of this database's calendar (-05:00)", 0) == 0);
    CHECK(engine->Show("Z2").status().IsNotFound());
    CHECK(engine->CurrentConfig().calendar.utc_offset_minutes == -300);
    CHECK(out2.str().empty());
  }
  SUBCASE("a database that holds events at the default zone") {
    auto engine = OpenImportEngine();
    std::ostringstream out, err;
    REQUIRE(ImportCsv(*engine, SmallOptions(file), out, err).ok());  // +08:00, the default calendar
    ImportOptions o =
        SmallOptions(TempFile("tz3.csv", "id,created,unit,closed,due\nZ3,2025-02-03 10:00:00,PARKS,,\n"));
    o.utc_offset_minutes = -5 * 60;
    auto refused = ImportCsv(*engine, o, out, err);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().find(
              "--tz -05:00 is not the zone of this database's calendar (+08:00)") != std::string::npos);
    CHECK(engine->Show("Z3").status().IsNotFound());
    CHECK(engine->CurrentConfig().calendar.utc_offset_minutes == 480);
  }
}

TEST_CASE("import --tz America/New_York: the zone's offsets on both sides of DST; another zone refused") {
  // A summer and a winter row, a row in the spring gap (02:30 does not exist on
  // 2025-03-09: the end of the gap, 03:00 EDT) and one in the autumn repeat
  // (01:30 on 2025-11-02: its first occurrence, EDT).
  const std::string file = TempFile("tzny.csv",
                                    "id,created,unit,closed,due\n"
                                    "N1,2025-07-01 09:00:00,PARKS,,\n"
                                    "N2,2025-12-01 09:00:00,PARKS,,\n"
                                    "N3,2025-03-09 02:30:00,PARKS,,\n"
                                    "N4,2025-11-02 01:30:00,PARKS,,\n");
  auto engine = OpenImportEngine();
  ImportOptions o = SmallOptions(file);
  o.zone = "America/New_York";
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const Calendar cal = engine->CurrentConfig().calendar;
  CHECK(cal.zone == "America/New_York");
  CHECK(engine->State("N1")->reported_at == *ParseInstant("2025-07-01T13:00:00Z", 0));
  CHECK(engine->State("N2")->reported_at == *ParseInstant("2025-12-01T14:00:00Z", 0));
  CHECK(engine->State("N3")->reported_at == *ParseInstant("2025-03-09T07:00:00Z", 0));
  CHECK(engine->State("N4")->reported_at == *ParseInstant("2025-11-02T05:30:00Z", 0));
  CHECK(FormatInstant(engine->State("N1")->reported_at, cal) == "2025-07-01T09:00:00-04:00");
  CHECK(FormatInstant(engine->State("N2")->reported_at, cal) == "2025-12-01T09:00:00-05:00");
  // The day of 2025-03-09 (23 hours) holds N3, cut at the zone's midnights.
  PeriodQuery q;
  q.from = *ParseInstant("2025-03-09", cal);
  q.to = *ParseInstant("2025-03-10", cal);
  q.at = q.to;
  auto centre = engine->Centre(q);
  REQUIRE(centre.ok());
  CHECK(centre->received == 1);
  // The same zone again, or none: fine. Another zone, or an offset: refused naming both.
  CHECK(ImportCsv(*engine, o, out, err).ok());
  o.zone.clear();
  CHECK(ImportCsv(*engine, o, out, err).ok());
  for (bool as_offset : {false, true}) {
    ImportOptions other =
        SmallOptions(TempFile("tzny2.csv", "id,created,unit,closed,due\nN5,2025-02-03 10:00:00,PARKS,,\n"));
    if (as_offset) {
      other.utc_offset_minutes = -5 * 60;
    } else {
      other.zone = "America/Chicago";
    }
    std::ostringstream out2, err2;
    auto refused = ImportCsv(*engine, other, out2, err2);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().rfind(
              std::string("import: --tz ") + (as_offset ? "-05:00" : "America/Chicago") +
                  " is not the zone of this database's calendar (America/New_York)",
              0) == 0);
    CHECK(engine->Show("N5").status().IsNotFound());
  }
  // An unknown zone name is refused before anything is written.
  auto fresh = OpenImportEngine();
  o.zone = "America/Atlantis";
  auto unknown = ImportCsv(*fresh, o, out, err);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("unknown time zone 'America/Atlantis'") != std::string::npos);
  CHECK(fresh->HeadPosition() == 0);
}

TEST_CASE("import: Boston 311 read at America/New_York: on-time still equals the City's flag") {
  auto engine = OpenImportEngine();
  ImportOptions o = BostonOptions();
  o.zone = "America/New_York";
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, o, out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported == 4995);
  CHECK(r->skipped == 0);
  CHECK(engine->CurrentConfig().calendar.zone == "America/New_York");
  int flagged = 0, mismatched = 0, summer = 0, winter = 0;
  const Calendar cal = engine->CurrentConfig().calendar;
  for (const auto& row : ReadCsv(Data("boston311_raw_sample.csv"))) {
    auto view = engine->Show(row.at("CASE_ENQUIRY_ID"));
    REQUIRE_MESSAGE(view.ok(), view.status().ToString());
    // The file's local time reads back at the offset in effect then.
    auto state = engine->State(row.at("CASE_ENQUIRY_ID"));
    REQUIRE(state.ok());
    (OffsetAt(cal, state->reported_at) == -240 ? summer : winter) += 1;
    const std::string& flag = row.at("OnTime_Status");
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
  MESSAGE("Boston at America/New_York: ", summer, " rows reported under EDT, ", winter, " under EST");
  CHECK(summer > 0);
  CHECK(winter > 0);
}

// The figure: `centre` for 2013-12-25 counted 1,789 of the day's
// 2,385 NYC requests (its days cut at +08:00 midnight).
TEST_CASE("import --tz: the NYC day counts all of its requests") {
  auto engine = OpenImportEngine();
  std::ostringstream out, err;
  auto r = ImportCsv(*engine, NycOptions(), out, err);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->imported >= 2385);
  CHECK(engine->CurrentConfig().calendar.utc_offset_minutes == -300);
  PeriodQuery q;
  q.from = *ParseInstant("2013-12-25", -300);
  q.to = *ParseInstant("2013-12-26", -300);
  q.at = q.to;
  auto centre = engine->Centre(q);
  REQUIRE(centre.ok());
  CHECK(centre->received == r->imported);
}
