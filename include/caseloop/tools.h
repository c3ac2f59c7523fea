// caseloop/tools.h — the CLI's bigger tools as library functions: CSV import
// of history, the simulated quarter (demo) and the HTML report. They are built
// on the public Engine API only and live in their own library, apart from the
// core one: link `caseloop::tools` (CMake) to use them.
//
// Thread-safety: each function drives the engine from the calling thread
// (engine threads only post completions back to it); run one tool at a time
// per engine.
#ifndef CASELOOP_TOOLS_H_
#define CASELOOP_TOOLS_H_

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "caseloop/engine.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

// Limits on a CSV file given to ImportCsv: a field longer than
// kCsvMaxFieldBytes, or a record of more than kCsvMaxFields fields, makes its
// row malformed (skipped, "row N: …"); a record longer than
// kCsvMaxRecordBytes (an unterminated quote, a file that is not CSV such as
// /dev/zero) stops the import with InvalidArgument naming the line it starts on.
inline constexpr std::size_t kCsvMaxFieldBytes = std::size_t{1} << 20;    // 1 MiB
inline constexpr std::size_t kCsvMaxRecordBytes = std::size_t{16} << 20;  // 16 MiB
inline constexpr std::size_t kCsvMaxFields = 10000;

struct ImportOptions {
  std::string file;             // CSV path
  std::string id_column;        // required
  std::string created_column;   // required
  std::string unit_column;      // required
  std::string due_column;       // optional ("" = none)
  std::string closed_column;    // optional
  std::string category_column;  // optional
  // A status column and its values that mean closed (compared without case),
  // e.g. "Status" with {"Closed"}; both or neither. Without them a close time
  // closes the case. With them a row whose close time and status disagree (a
  // close time but an open status, or a closed status without a close time)
  // is imported open and reported ("row N: case C: ..."), not silently closed.
  std::string status_column;
  std::vector<std::string> closed_statuses;
  // strptime format of the times (e.g. "%m/%d/%Y %I:%M:%S %p"), or "iso" (or
  // "") for ParseInstant's forms. A 12-hour hour (%I) needs AM/PM (%p) and a
  // 24-hour one (%H, %k, %R, %T) must not have it (strptime would ignore the
  // AM/PM): such a format is refused before any row is read.
  std::string time_format = "%Y-%m-%d %H:%M:%S";
  // The zone of the file's times (default: the calendar's). A new database
  // (no event yet) takes it as its calendar's zone; a database that holds
  // events and whose calendar is at another zone refuses the import
  // (InvalidArgument naming both zones) before any row is read.
  std::optional<int> utc_offset_minutes;
  // Or an IANA zone name ("America/New_York", daylight saving included), with
  // the same rule for a new or an existing database; set at most one of the two.
  // A local time in a spring-forward gap is the end of the gap, a repeated one
  // its first occurrence (caseloop/calendar.h).
  std::string zone;
  bool strict = false;    // any skipped row makes the result an error
  bool progress = false;  // draw a progress bar on stderr (a terminal)
};

struct ImportSummary {
  std::int64_t rows = 0;              // data rows read
  std::int64_t imported = 0;          // new cases
  std::int64_t unchanged = 0;         // already imported with the same content
  std::int64_t skipped = 0;           // rows that could not be imported
  std::int64_t updated = 0;           // already there, completed by this run (e.g. closed since)
  std::int64_t status_disagrees = 0;  // imported open: close time and status disagree (status_column)
  double seconds = 0;                 // wall time of the run
};

// Imports history: each row becomes a case reported, registered and dispatched
// at its created time to its unit (created as needed), with the due time as
// deadline (none if empty) and, if closed, feedback and a passing verification
// at the closed time. Bad rows are reported to `err` as "row N: reason" and
// skipped (a reason that repeats: one line "K rows: reason (its first rows)"); a summary line goes to `out`.
// Importing the same file twice adds nothing. Errors: NotFound/InvalidArgument for the file, a missing column
// or a refused time format; InvalidArgument when the file has rows and every one of them was skipped, when
// strict and a row was skipped and for a record longer than kCsvMaxRecordBytes; storage errors (IOError, e.g.
// a full disk) stop the import and are returned as they are.
Result<ImportSummary> ImportCsv(Engine& engine, const ImportOptions& options, std::ostream& out,
                                std::ostream& err);

// The largest DemoOptions::cases and ::days. The plan is held in memory: a
// case costs about 4 KiB while the demo runs (20,000 cases: 150 MiB).
inline constexpr std::int64_t kDemoMaxCases = 1000000;
inline constexpr int kDemoMaxDays = 3660;

struct DemoOptions {
  std::int64_t cases = 20000;  // 1..kDemoMaxCases
  int days = 90;               // 1..kDemoMaxDays
  std::uint64_t seed = 1;
  std::string html = "caseloop-report.html";  // "" = no report
  bool progress = false;
};

// Simulates a quarter in the default district through the real engine
// (which must use a manual clock), prints the quarterly ranking of units and
// inspectors as aligned tables to `out`, and writes the HTML report.
// Errors: InvalidArgument for cases or days out of range, or an engine that
// is not on a manual clock; the engine's errors and WriteHtmlReport's.
Status RunDemo(Engine& engine, const DemoOptions& options, std::ostream& out);

struct ReportOptions {
  Instant from{};
  Instant to{};
  std::optional<Instant> at;
  std::string html;  // output path ("" = none)
  // The rankings for publishing ("" = none): the unit ranking as CSV (UTF-8
  // with a byte-order mark); the unit ranking and the inspectors as an Excel
  // workbook of two sheets.
  std::string csv;
  std::string xlsx;
  // "zh" or "en"; empty: the calendar's (Chinese at UTC+08:00, else English).
  std::string language;
};

// Writes the files `options` names (at least one). The HTML file is
// self-contained (inline CSS and SVG, no scripts), in `language`: the unit
// ranking with grades, on-time rate per unit (bar chart), inspectors, centre
// figures, received vs closed per day, week, month or year (as fits the
// period), the overdue tasks due in the period; a print stylesheet for A4.
// Errors: InvalidArgument (no output, an empty period, an unknown language);
// IOError naming the file that could not be written.
Status WriteHtmlReport(Engine& engine, const ReportOptions& options);

}  // namespace caseloop

#endif  // CASELOOP_TOOLS_H_
