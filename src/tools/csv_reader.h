// tools/csv_reader.h — the CSV reader of ImportCsv (private to src/tools).
//
// CsvReader is a small RFC 4180 reader. Debian 12 offers libfccp-dev
// (fast-cpp-csv-parser: the column count is a template argument and a header
// with a repeated column name is an error, while Boston's 311 export repeats
// two) and libcsv-dev (a C callback parser that would add a system dependency
// to every build and does not say on which line a record starts, which the
// "row N" messages need). Neither fits, so the reader is written here.
#ifndef CASELOOP_TOOLS_CSV_READER_H_
#define CASELOOP_TOOLS_CSV_READER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "caseloop/status.h"
#include "caseloop/tools.h"

namespace caseloop::tools {

// Reads CSV records from a stream: fields separated by ',', records ended by
// LF, CRLF or CR; a field may be quoted with '"' and then hold commas, line
// breaks and doubled quotes (""). A quote inside an unquoted field is kept as
// data (lenient, as real exports need). A UTF-8 byte order mark at the start
// is skipped. Blank lines are skipped.
//
// Memory is bounded by the limits, whatever the input: a field keeps at most
// max_field_bytes, a record at most max_fields fields, and a record longer
// than max_record_bytes (counted from its first byte) ends the reading.
//
// Thread-safety: one reader is used by one thread.
struct CsvLimits {
  std::size_t max_field_bytes = kCsvMaxFieldBytes;
  std::size_t max_record_bytes = kCsvMaxRecordBytes;
  std::size_t max_fields = kCsvMaxFields;
};

class CsvReader {
 public:
  struct Record {
    std::vector<std::string> fields;
    std::int64_t line = 0;  // 1-based line of the file on which the record starts
    std::string error;      // non-empty: the record is malformed (fields are partial)
  };

  explicit CsvReader(std::istream& in, CsvLimits limits = CsvLimits()) : in_(in), limits_(limits) {}

  // Reads the next record into `rec`. Returns false at the end of the input,
  // or when reading stopped (status() says why). A malformed record
  // (unterminated quote, text after a closing quote, a field longer than
  // max_field_bytes, more than max_fields fields) returns true with rec.error
  // set; reading resumes after it.
  bool Next(Record& rec);

  // OK, or why reading stopped: InvalidArgument "line N: a record longer
  // than M bytes …" (the record starting on line N).
  const Status& status() const { return status_; }

  // Bytes consumed so far (for progress).
  std::uint64_t bytes_read() const { return consumed_; }

 private:
  int Peek();
  int Get();

  std::istream& in_;
  const CsvLimits limits_;
  Status status_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;
  std::int64_t line_ = 1;
  bool started_ = false;
  bool eof_ = false;
};

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_CSV_READER_H_
