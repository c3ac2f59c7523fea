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

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace caseloop::tools {

// Reads CSV records from a stream: fields separated by ',', records ended by
// LF, CRLF or CR; a field may be quoted with '"' and then hold commas, line
// breaks and doubled quotes (""). A quote inside an unquoted field is kept as
// data (lenient, as real exports need). A UTF-8 byte order mark at the start
// is skipped. Blank lines are skipped.
//
// Thread-safety: one reader is used by one thread.
class CsvReader {
 public:
  struct Record {
    std::vector<std::string> fields;
    int line = 0;       // 1-based line of the file on which the record starts
    std::string error;  // non-empty: the record is malformed (fields are partial)
  };

  explicit CsvReader(std::istream& in) : in_(in) {}

  // Reads the next record into `rec`. Returns false at the end of the input.
  // A malformed record (unterminated quote, text after a closing quote)
  // returns true with rec.error set; reading resumes after it.
  bool Next(Record& rec);

  // Bytes consumed so far (for progress).
  std::uint64_t bytes_read() const { return consumed_; }

 private:
  int Peek();
  int Get();

  std::istream& in_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::uint64_t consumed_ = 0;
  int line_ = 1;
  bool started_ = false;
  bool eof_ = false;
};

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_CSV_READER_H_
