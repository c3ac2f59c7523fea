// tools/report_strings.h — every label of the HTML report and its exports, in
// each language the report is written in (private to src/tools).
//
// One table per language (report_strings.cc); the report and the exports read
// labels only from here, so a language is one table and a label is one row.
// Strings with "{}" are fmt format strings, their arguments in the order the
// comment gives.
#ifndef CASELOOP_TOOLS_REPORT_STRINGS_H_
#define CASELOOP_TOOLS_REPORT_STRINGS_H_

#include <string_view>

#include "caseloop/calendar.h"
#include "caseloop/status.h"
#include "caseloop/unit_metrics.h"

namespace caseloop::tools {

enum class ReportLanguage { kZh, kEn };

// "zh" or "en". Errors: InvalidArgument naming the text and the choices.
Result<ReportLanguage> ParseReportLanguage(std::string_view text);

// The language of a district's report when none is asked for: Chinese for a
// calendar at UTC+08:00 (China's one zone), English otherwise.
ReportLanguage DefaultReportLanguage(const Calendar& calendar);

struct ReportStrings {
  std::string_view html_lang;    // the <html lang=…>: "zh-CN"
  std::string_view title;        // <title>: {period}
  std::string_view heading;      // <h1>: {period}
  std::string_view period_join;  // between the first and the last day: " to "
  // {from} {to} {at} {zone} {units} {inspectors}
  std::string_view subtitle;
  std::string_view dash_none;  // an empty cell

  std::string_view ranking_heading;
  std::string_view score_formula;    // {terms}
  std::string_view weight_times;     // a term: {rate name} {weight}
  std::string_view weight_inverted;  // an inverted term: {rate name} {weight}
  std::string_view col_rank, col_unit, col_score, col_grade;
  std::string_view nothing_due_row;  // a unit with no case due in the period

  std::string_view on_time_heading;
  std::string_view on_time_aria;
  std::string_view on_time_note;
  std::string_view nothing_due_bar;

  std::string_view inspectors_heading;
  std::string_view col_inspector, col_reports, col_valid, col_valid_rate, col_verifications,
      col_verified_on_time, col_verification_rate;
  std::string_view no_inspector_activity;

  std::string_view centre_heading;
  std::string_view card_received, card_registered, card_rejected, card_voided, card_closed,
      card_closed_on_time;
  std::string_view closed_on_time_note;  // {percentage with 2 decimals}
  std::string_view col_category, col_category_name, col_received;

  // The received/closed chart, per bucket size: day, week, month, year.
  std::string_view counts_heading[4];
  std::string_view counts_col[4];  // the first column of its table: "week of"
  std::string_view received, closed;
  std::string_view bar_title;  // {bucket label} {count} {received|closed}

  std::string_view overdue_heading;     // {at}
  std::string_view overdue_none;        // nothing overdue that was due in the period
  std::string_view overdue_count;       // {n}: open tasks due in the period, past the deadline
  std::string_view overdue_first_rows;  // appended to it: {rows listed}
  std::string_view overdue_earlier;     // {n}: overdue tasks due before the period, not listed
  std::string_view col_case, col_deadline, col_hours_overdue;

  std::string_view footer;

  // The exports (CSV, Excel).
  std::string_view col_unit_id, col_unit_name, sheet_units, sheet_inspectors;
};

const ReportStrings& StringsFor(ReportLanguage language);

// A unit figure's column label in `language` (the metric table's English
// label or Chinese term) and a rate's name in prose.
std::string_view MetricLabel(const UnitMetric& metric, ReportLanguage language);
std::string_view MetricName(const UnitMetric& metric, ReportLanguage language);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_REPORT_STRINGS_H_
