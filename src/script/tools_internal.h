// Helpers shared by the CLI tools (import, demo, report); not installed.
//
// CsvReader is a small RFC 4180 reader. Debian 12 offers libfccp-dev
// (fast-cpp-csv-parser: the column count is a template argument and a header
// with a repeated column name is an error, while Boston's 311 export repeats
// two) and libcsv-dev (a C callback parser that would add a system dependency
// to every build and does not say on which line a record starts, which the
// "row N" messages need). Neither fits, so the reader is written here.
#ifndef CASELOOP_SCRIPT_TOOLS_INTERNAL_H_
#define CASELOOP_SCRIPT_TOOLS_INTERNAL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <istream>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/status.h"
#include "caseloop/time.h"

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

// Parses `text` with a strptime format (e.g. "%m/%d/%Y %I:%M:%S %p") as local
// time at `offset_minutes` east of UTC. The whole text must match (surrounding
// blanks aside) and name a real date, years 1970..9999. Errors:
// InvalidArgument naming the text and the format.
Result<Instant> ParseTimeWithFormat(std::string_view text, const std::string& format, int offset_minutes);

// Text for HTML element content and attribute values (& < > " ').
std::string HtmlEscape(std::string_view text);

// Width of UTF-8 text on a terminal: East Asian wide characters count 2.
int DisplayWidth(std::string_view text);
// Pads `text` with spaces to `width` display columns (left or right aligned).
std::string PadRight(std::string_view text, int width);
std::string PadLeft(std::string_view text, int width);

// A one-line progress bar drawn on stderr with '\r', redrawn at most ten
// times a second. Does nothing when disabled.
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label) : enabled_(enabled), label_(std::move(label)) {}
  ~ProgressBar() { Finish(); }
  void Update(double fraction, std::string_view detail);
  // Draws 100 % and ends the line (once).
  void Finish();

 private:
  void Draw(double fraction, std::string_view detail);
  bool enabled_;
  bool finished_ = false;
  std::string label_;
  std::string last_detail_;
  std::chrono::steady_clock::time_point last_{};
};

// Completions posted by engine threads, consumed by the thread that drives a
// tool: callbacks only Push; the driver Waits and handles them, so every
// decision and every Submit happens on one thread.
template <typename T>
class CompletionQueue {
 public:
  void Push(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
  }
  // Blocks until at least one item is there, then takes them all.
  std::deque<T> WaitAll() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty(); });
    std::deque<T> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

// Local calendar fields of an instant at a fixed offset.
struct LocalFields {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};
LocalFields LocalFieldsOf(Instant t, int offset_minutes);
// The instant of local midnight of year-month-day at the offset.
Instant LocalMidnight(int year, int month, int day, int offset_minutes);
// "2025-03-31" (local date at the offset).
std::string FormatDate(Instant t, int offset_minutes);

}  // namespace caseloop::tools

namespace caseloop {

class Engine;
struct ImportOptions;
struct ImportSummary;

// ImportCsv (script/tools.h) with its submission path chosen. bulk = true is
// what ImportCsv does: rows go to Engine::SubmitBatch in chunks, one atomic
// append per row. bulk = false submits every command on its own (SubmitAsync,
// command ids "import/<case>/<step>"); it appends the same events and is the
// reference the bulk path is tested against.
Result<ImportSummary> ImportCsvPath(Engine& engine, const ImportOptions& options, std::ostream& out,
                                    std::ostream& err, bool bulk);

}  // namespace caseloop

#endif  // CASELOOP_SCRIPT_TOOLS_INTERNAL_H_
