// The rankings as CSV and Excel (tools/report_export.h).
#include "tools/report_export.h"

#include <fmt/format.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "caseloop/unit_metrics.h"

namespace caseloop::tools {
namespace {

ExportCell Int(std::int64_t v) {
  ExportCell c;
  c.kind = ExportCell::Kind::kInteger;
  c.integer = v;
  return c;
}
ExportCell Text(std::string v) {
  ExportCell c;
  c.kind = ExportCell::Kind::kText;
  c.text = std::move(v);
  return c;
}
ExportCell Real(const std::optional<double>& v, ExportCell::Kind kind) {
  ExportCell c;
  if (!v) return c;
  c.kind = kind;
  c.number = *v;
  return c;
}
ExportCell Rate(const std::optional<double>& v) { return Real(v, ExportCell::Kind::kPercent); }
ExportCell Number(const std::optional<double>& v) { return Real(v, ExportCell::Kind::kNumber); }

std::string Percent(std::string_view label) { return std::string(label) + " (%)"; }

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

ExportTable UnitRankingTable(const Config& config, const std::vector<UnitRates>& rates,
                             ReportLanguage language) {
  const ReportStrings& S = StringsFor(language);
  ExportTable t;
  t.name = std::string(S.sheet_units);
  t.header = {std::string(S.col_rank), std::string(S.col_unit_id), std::string(S.col_unit_name)};
  for (const UnitMetric& m : kUnitMetrics) {
    t.header.push_back(m.kind == UnitMetric::Kind::kRate ? Percent(MetricLabel(m, language))
                                                         : std::string(MetricLabel(m, language)));
  }
  t.header.push_back(std::string(S.col_score));
  t.header.push_back(std::string(S.col_grade));
  auto name = [&](const std::string& id) {
    auto it = config.units.find(id);
    return it == config.units.end() ? std::string() : it->second.name;
  };
  std::int64_t rank = 0;
  std::set<std::string> listed;
  for (const UnitRates& u : rates) {
    listed.insert(u.unit);
    std::vector<ExportCell> row = {u.score ? Int(++rank) : ExportCell{}, Text(u.unit), Text(name(u.unit))};
    for (const UnitMetric& m : kUnitMetrics)
      row.push_back(m.kind == UnitMetric::Kind::kCount ? Int(u.*m.count) : Rate(u.*m.rate));
    row.push_back(Number(u.score));
    row.push_back(u.grade ? Text(std::string(1, *u.grade)) : ExportCell{});
    t.rows.push_back(std::move(row));
  }
  for (const auto& [id, info] : config.units) {
    if (listed.count(id)) continue;
    std::vector<ExportCell> row = {ExportCell{}, Text(id), Text(info.name)};
    for (const UnitMetric& m : kUnitMetrics)
      row.push_back(m.kind == UnitMetric::Kind::kCount ? Int(0) : ExportCell{});
    row.push_back(ExportCell{});
    row.push_back(ExportCell{});
    t.rows.push_back(std::move(row));
  }
  return t;
}

void SortInspectors(std::vector<InspectorRates>& inspectors) {
  std::stable_sort(
      inspectors.begin(), inspectors.end(), [](const InspectorRates& a, const InspectorRates& b) {
        double av = a.valid_rate.value_or(-1), bv = b.valid_rate.value_or(-1);
        if (av != bv) return av > bv;
        return a.verification_on_time_rate.value_or(-1) > b.verification_on_time_rate.value_or(-1);
      });
}

ExportTable InspectorTable(std::vector<InspectorRates> inspectors, ReportLanguage language) {
  const ReportStrings& S = StringsFor(language);
  SortInspectors(inspectors);
  ExportTable t;
  t.name = std::string(S.sheet_inspectors);
  t.header = {std::string(S.col_rank),
              std::string(S.col_inspector),
              std::string(S.col_reports),
              std::string(S.col_valid),
              Percent(S.col_valid_rate),
              std::string(S.col_verifications),
              std::string(S.col_verified_on_time),
              Percent(S.col_verification_rate)};
  std::int64_t rank = 0;
  for (const InspectorRates& i : inspectors) {
    t.rows.push_back({Int(++rank), Text(i.inspector), Int(i.reports), Int(i.valid), Rate(i.valid_rate),
                      Int(i.verifications), Int(i.verified_on_time), Rate(i.verification_on_time_rate)});
  }
  return t;
}

std::string ToCsv(const ExportTable& table) {
  std::string out = "\xEF\xBB\xBF";
  auto line = [&](const std::vector<std::string>& fields) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) out += ',';
      out += CsvField(fields[i]);
    }
    out += "\r\n";
  };
  line(table.header);
  for (const auto& row : table.rows) {
    std::vector<std::string> fields;
    for (const ExportCell& c : row) {
      switch (c.kind) {
        case ExportCell::Kind::kEmpty:
          fields.emplace_back();
          break;
        case ExportCell::Kind::kInteger:
          fields.push_back(std::to_string(c.integer));
          break;
        case ExportCell::Kind::kNumber:
          fields.push_back(fmt::format("{:.2f}", c.number));
          break;
        case ExportCell::Kind::kPercent:
          fields.push_back(fmt::format("{:.2f}", c.number * 100));
          break;
        case ExportCell::Kind::kText:
          fields.push_back(c.text);
          break;
      }
    }
    line(fields);
  }
  return out;
}

Result<std::string> ToXlsx(const std::vector<ExportTable>& tables) {
  // libxlsxwriter writes a file: a private one in the temporary directory,
  // read back and removed (the caller writes the bytes where they belong).
  static std::atomic<unsigned> counter{0};
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() /
      fmt::format("caseloop-report-{}-{}.xlsx", static_cast<long>(::getpid()), counter.fetch_add(1));
  struct Remove {
    std::filesystem::path p;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  } remove{tmp};
  lxw_workbook* wb = workbook_new(tmp.c_str());
  if (wb == nullptr)
    return Status::IOError("xlsx: cannot create a workbook in " + tmp.parent_path().string());
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);
  format_set_text_wrap(bold);
  format_set_align(bold, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* pct = workbook_add_format(wb);
  format_set_num_format(pct, "0.00%");
  lxw_format* num = workbook_add_format(wb);
  format_set_num_format(num, "0.00");
  for (const ExportTable& t : tables) {
    // Sheet names: at most 31 characters, none of []:*?/\ (the names are ours).
    lxw_worksheet* ws = workbook_add_worksheet(wb, t.name.c_str());
    if (ws == nullptr) {
      workbook_close(wb);
      return Status::IOError("xlsx: cannot add the sheet '" + t.name + "'");
    }
    for (std::size_t c = 0; c < t.header.size(); ++c) {
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), t.header[c].c_str(), bold);
      worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c), c == 0 ? 6 : 14,
                           nullptr);
    }
    worksheet_freeze_panes(ws, 1, 0);
    for (std::size_t r = 0; r < t.rows.size(); ++r) {
      const auto row = static_cast<lxw_row_t>(r + 1);
      for (std::size_t c = 0; c < t.rows[r].size(); ++c) {
        const ExportCell& cell = t.rows[r][c];
        const auto col = static_cast<lxw_col_t>(c);
        switch (cell.kind) {
          case ExportCell::Kind::kEmpty:
            break;
          case ExportCell::Kind::kInteger:
            worksheet_write_number(ws, row, col, static_cast<double>(cell.integer), nullptr);
            break;
          case ExportCell::Kind::kNumber:
            worksheet_write_number(ws, row, col, cell.number, num);
            break;
          case ExportCell::Kind::kPercent:
            worksheet_write_number(ws, row, col, cell.number, pct);
            break;
          case ExportCell::Kind::kText:
            worksheet_write_string(ws, row, col, cell.text.c_str(), nullptr);
            break;
        }
      }
    }
  }
  const lxw_error err = workbook_close(wb);
  if (err != LXW_NO_ERROR) return Status::IOError(std::string("xlsx: ") + lxw_strerror(err));
  std::ifstream in(tmp, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return Status::IOError("xlsx: cannot read back " + tmp.string());
  return bytes;
}

}  // namespace caseloop::tools
