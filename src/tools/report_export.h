// tools/report_export.h — the report's rankings as tables for publishing:
// CSV and Excel (private to src/tools; `caseloop report --csv/--xlsx`).
#ifndef CASELOOP_TOOLS_REPORT_EXPORT_H_
#define CASELOOP_TOOLS_REPORT_EXPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "caseloop/config.h"
#include "caseloop/queries.h"
#include "caseloop/status.h"
#include "tools/report_strings.h"

namespace caseloop::tools {

struct ExportCell {
  enum class Kind { kEmpty, kInteger, kNumber, kPercent, kText };
  Kind kind = Kind::kEmpty;
  std::int64_t integer = 0;
  double number = 0;  // kNumber; kPercent: a fraction (0.9512 is 95.12 %)
  std::string text;
};

struct ExportTable {
  std::string name;  // the sheet's name
  std::vector<std::string> header;
  std::vector<std::vector<ExportCell>> rows;
};

// The unit ranking as the HTML report shows it: rank (units with a score, in
// the engine's order), unit id, unit name, the figures of kUnitMetrics, score,
// grade; then the units with nothing due (no rank, zeros, empty rates).
ExportTable UnitRankingTable(const Config& config, const std::vector<UnitRates>& rates,
                             ReportLanguage language);

// The inspectors by valid-report rate, then verification on-time rate.
void SortInspectors(std::vector<InspectorRates>& inspectors);
ExportTable InspectorTable(std::vector<InspectorRates> inspectors, ReportLanguage language);

// RFC 4180 CSV, UTF-8 with a byte-order mark (so that Excel reads Chinese
// names right), CRLF line ends. Rates are percentages with two decimals
// ("95.12"; the header says "%"), an empty cell when there is nothing to rate.
std::string ToCsv(const ExportTable& table);

// An .xlsx workbook (libxlsxwriter), one sheet a table: bold, frozen header
// row, numbers as numbers, rates as percentages ("0.00%"). Errors: IOError
// naming libxlsxwriter's reason.
Result<std::string> ToXlsx(const std::vector<ExportTable>& tables);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_REPORT_EXPORT_H_
