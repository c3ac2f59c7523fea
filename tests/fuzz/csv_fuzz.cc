// Fuzz target: the CSV importer (src/tools/import.cc) and its reader and
// time parser (src/tools/csv_reader.h, time_format.h).
//
// Input: byte 0 chooses the time format of the import ("iso", the default
// "%Y-%m-%d %H:%M:%S", or the US "%m/%d/%Y %I:%M:%S %p" of 311 exports) and
// whether the file gets the standard header
// "id,created,unit,due,closed,category" in front; the rest is the file.
// The CSV is read by CsvReader (every record), imported with ImportCsv into
// an in-memory engine on a manual clock, and imported a second time (which
// must add nothing). The first line is also tried as a strptime format for
// the second (ParseTimeWithFormat).
// Properties: no crash, no exception, no sanitizer report; the second import
// imports no new case.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "fuzz_util.h"
#include "tools/csv_reader.h"
#include "tools/time_format.h"

using namespace caseloop;
using caseloop::fuzz::FuzzCheck;

namespace {

const char* const kFormats[] = {"iso", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"};

std::string TempPath() {
  static const std::string path = "/tmp/caseloop-csv-fuzz-" + std::to_string(getpid()) + ".csv";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.Byte();
  std::string file;
  if (mode & 4) file = "id,created,unit,due,closed,category\n";
  file += in.Rest();

  // The reader alone.
  {
    std::istringstream s(file);
    tools::CsvReader reader(s);
    tools::CsvReader::Record rec;
    int last_line = 0;
    while (reader.Next(rec)) {
      FuzzCheck(rec.line >= last_line, "CSV record lines go backwards");
      last_line = rec.line;
    }
  }
  // The time parser, with the first line as format and the second as text.
  std::vector<std::string_view> lines = fuzz::Lines(in.Rest(), 2);
  if (lines.size() == 2) {
    (void)tools::ParseTimeWithFormat(lines[1], std::string(lines[0]), 8 * 60);
  }

  {
    std::ofstream out(TempPath(), std::ios::binary | std::ios::trunc);
    out << file;
  }
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>(InstantFromMicros(1740963600000000LL));
  eo.worker_threads = 1;
  Result<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  FuzzCheck(engine.ok(), "in-memory engine does not open", engine.status().ToString());
  ImportOptions o;
  o.file = TempPath();
  o.id_column = "id";
  o.created_column = "created";
  o.unit_column = "unit";
  o.due_column = (mode & 8) ? "due" : "";
  o.closed_column = (mode & 16) ? "closed" : "";
  o.category_column = (mode & 32) ? "category" : "";
  o.time_format = kFormats[mode % 3];
  o.strict = (mode & 64) != 0;
  std::ostringstream sink_out, sink_err;
  Result<ImportSummary> first = ImportCsv(**engine, o, sink_out, sink_err);
  if (first.ok()) {
    Result<ImportSummary> second = ImportCsv(**engine, o, sink_out, sink_err);
    FuzzCheck(second.ok(), "a second import of the same file failed", second.status().ToString());
    FuzzCheck(second->imported == 0, "a second import of the same file imported new cases",
              std::to_string(second->imported));
    Result<std::vector<std::string>> problems = (*engine)->Check();
    FuzzCheck(problems.ok() && problems->empty(), "the engine checks dirty after an import");
  }
  (void)(*engine)->Close();
  return 0;
}
