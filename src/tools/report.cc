// WriteHtmlReport (caseloop/tools.h): one self-contained HTML file with inline
// CSS and SVG (no scripts, no external assets), readable on screen and on
// paper.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <new>
#include <set>

#include "caseloop/calendar.h"
#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "caseloop/unit_metrics.h"
#include "tools/html.h"
#include "tools/output_file.h"
#include "tools/text_table.h"

namespace caseloop {
namespace {

using tools::HtmlEscape;

constexpr Micros kDay = std::chrono::hours(24);
constexpr std::size_t kOverdueRows = 200;

std::string Pct(const std::optional<double>& v) {
  return v ? fmt::format("{:.2f}%", *v * 100) : std::string("&ndash;");
}

const char* GradeColour(std::optional<char> g) {
  switch (g.value_or('?')) {
    case 'A':
      return "#1a7f37";
    case 'B':
      return "#2f81c7";
    case 'C':
      return "#b08800";
    case 'D':
      return "#d4640f";
    case 'E':
      return "#cf222e";
    default:
      return "#8c959f";
  }
}

constexpr char kCss[] = R"css(
:root { --ink:#1f2328; --muted:#57606a; --line:#d0d7de; --soft:#f6f8fa; --accent:#0969da; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "Noto Sans CJK SC", "Segoe UI", Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0 auto; padding: 24px 32px 48px; max-width: 1100px; line-height: 1.45; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 20px; padding-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.sub, p.note { color: var(--muted); margin: 2px 0 8px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); white-space: normal;
     vertical-align: bottom; }
th small { font-weight: 400; color: var(--muted); word-break: keep-all; }
td.l, th.l { text-align: left; white-space: normal; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
.grade { display: inline-block; min-width: 22px; padding: 1px 6px; border-radius: 10px; color: #fff;
         font-weight: 700; text-align: center; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--soft); }
.card .v { font-size: 24px; font-weight: 700; }
.card .k { color: var(--muted); font-size: 13px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-family: inherit; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 6px; }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section { break-inside: avoid; page-break-inside: avoid; }
  section.long { break-inside: auto; page-break-inside: auto; }
  section.newpage { break-before: page; page-break-before: always; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  tbody tr:nth-child(even) td { background: none; }
  .grade, .card { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
)css";

struct Week {
  Instant from{};
  std::int64_t received = 0;
  std::int64_t closed = 0;
};

// Reported and closed (passing verification) cases per week of the period,
// from the global log.
Result<std::vector<Week>> WeeklyCounts(Engine& engine, Instant from, Instant to) {
  std::vector<Week> weeks;
  for (Instant w = from; w < to; w += 7 * kDay) weeks.push_back({w, 0, 0});
  std::uint64_t pos = 1;
  for (;;) {
    auto page = engine.ReadLog(pos, 20000);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const LoggedEvent& le : *page) {
      pos = le.record.position + 1;
      if (!le.event) continue;
      const CaseEvent& e = *le.event;
      if (e.type != EventType::kCaseReported && e.type != EventType::kVerificationPassed) continue;
      if (e.time < from || e.time >= to) continue;
      Week& w = weeks[static_cast<std::size_t>((e.time - from) / (7 * kDay))];
      (e.type == EventType::kCaseReported ? w.received : w.closed) += 1;
    }
  }
  return weeks;
}

// A round number >= v for an axis: 1, 2, 5 x 10^k.
double NiceCeil(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string UnitLabel(const Config& config, const std::string& unit) {
  auto it = config.units.find(unit);
  if (it == config.units.end() || it->second.name.empty() || it->second.name == unit) return unit;
  return it->second.name + " (" + unit + ")";
}

std::string Shorten(const std::string& s, int max_width) {
  if (tools::DisplayWidth(s) <= max_width) return s;
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xF0)
      len = 4;
    else if (b >= 0xE0)
      len = 3;
    else if (b >= 0xC0)
      len = 2;
    std::string next = out + s.substr(i, len);
    if (tools::DisplayWidth(next) > max_width - 1) break;
    out = std::move(next);
    i += len;
  }
  return out + "\xE2\x80\xA6";  // …
}

// The columns, the score's formula and the cells come from the metric table
// (caseloop/unit_metrics.h), in its order.
void RankingSection(std::string& h, const Config& config, const std::vector<UnitRates>& rates) {
  h += "<section id=\"ranking\" class=\"long\">\n<h2>Unit ranking (综合评价)</h2>\n";
  std::string terms;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight == nullptr) continue;
    if (!terms.empty()) terms += " + ";
    const double w = config.weights.*m.weight;
    terms += m.inverted ? fmt::format("(1 &minus; {}) &times;{:g}", m.name, w)
                        : fmt::format("{} &times;{:g}", m.name, w);
  }
  h += fmt::format(
      "<p class=\"sub\">Composite score out of 100: {}. Grades: A &ge; 90, B &ge; 75, "
      "C &ge; 60, D &ge; 40, E below.</p>\n",
      terms);
  h += "<table>\n<thead><tr><th>#</th><th class=\"l\">unit</th>";
  for (const UnitMetric& m : kUnitMetrics)
    h += fmt::format("<th>{}<br><small>{}</small></th>", m.label, m.term);
  h += "<th>score</th><th>grade</th></tr></thead>\n<tbody>\n";
  int rank = 0;
  std::set<std::string> listed;
  for (const UnitRates& u : rates) {
    listed.insert(u.unit);
    h += fmt::format("<tr><td>{}</td><td class=\"l\">{}</td>", u.score ? std::to_string(++rank) : "&ndash;",
                     HtmlEscape(UnitLabel(config, u.unit)));
    for (const UnitMetric& m : kUnitMetrics) {
      h += "<td>" + (m.kind == UnitMetric::Kind::kCount ? std::to_string(u.*m.count) : Pct(u.*m.rate)) +
           "</td>";
    }
    h += fmt::format("<td>{}</td><td>{}</td></tr>\n",
                     u.score ? fmt::format("<b>{:.2f}</b>", *u.score) : "&ndash;",
                     u.grade ? fmt::format("<span class=\"grade\" style=\"background:{}\">{}</span>",
                                           GradeColour(u.grade), *u.grade)
                             : "&ndash;");
  }
  // The first figure (due) is 0; the message spans the other figures, score and grade.
  const std::size_t span = std::size(kUnitMetrics) + 1;
  for (const auto& [id, info] : config.units) {
    if (listed.count(id)) continue;
    h += fmt::format(
        "<tr><td>&ndash;</td><td class=\"l\">{}</td><td>0</td><td colspan=\"{}\" class=\"l\">no case due in "
        "the period</td></tr>\n",
        HtmlEscape(UnitLabel(config, id)), span);
  }
  h += "</tbody>\n</table>\n</section>\n";
}

void OnTimeChart(std::string& h, const Config& config, std::vector<UnitRates> rates) {
  std::stable_sort(rates.begin(), rates.end(), [](const UnitRates& a, const UnitRates& b) {
    return a.on_time_rate.value_or(-1) > b.on_time_rate.value_or(-1);
  });
  const int label_w = 230, bar_w = 440, row_h = 24, top = 26;
  const int width = label_w + bar_w + 70;
  const int height = top + row_h * static_cast<int>(rates.size()) + 10;
  h += "<section id=\"on-time-chart\">\n<h2>On-time rate per unit (按期处置率)</h2>\n";
  h += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" "
      "aria-label=\"On-time rate per unit\">\n",
      width, height);
  for (int p = 0; p <= 100; p += 25) {
    int x = label_w + bar_w * p / 100;
    h += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#d0d7de\" stroke-dasharray=\"{3}\" />\n"
        "<text x=\"{0}\" y=\"{4}\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"middle\">{5}%</text>\n",
        x, top - 6, height - 6, p == 0 ? "none" : "3,3", top - 10, p);
  }
  int y = top;
  for (const UnitRates& u : rates) {
    std::string label = Shorten(UnitLabel(config, u.unit), 34);
    h += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2328\">{}</text>\n",
        label_w - 8, y + 16, HtmlEscape(label));
    if (u.on_time_rate) {
      int w = static_cast<int>(std::lround(*u.on_time_rate * bar_w));
      h += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\" fill=\"{}\" />\n"
          "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#1f2328\">{:.1f}%</text>\n",
          label_w, y + 4, std::max(w, 1), row_h - 8, GradeColour(u.grade), label_w + w + 6, y + 16,
          *u.on_time_rate * 100);
    } else {
      h += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#8c959f\">no case due</text>\n",
                       label_w + 6, y + 16);
    }
    y += row_h;
  }
  h += "</svg>\n<p class=\"note\">Bar colour = the unit's grade.</p>\n</section>\n";
}

void InspectorSection(std::string& h, std::vector<InspectorRates> inspectors) {
  std::stable_sort(
      inspectors.begin(), inspectors.end(), [](const InspectorRates& a, const InspectorRates& b) {
        double av = a.valid_rate.value_or(-1), bv = b.valid_rate.value_or(-1);
        if (av != bv) return av > bv;
        return a.verification_on_time_rate.value_or(-1) > b.verification_on_time_rate.value_or(-1);
      });
  h += "<section id=\"inspectors\" class=\"long\">\n<h2>Inspectors (监督员)</h2>\n";
  h +=
      "<table>\n<thead><tr><th>#</th><th class=\"l\">inspector</th><th>reports</th><th>valid</th>"
      "<th>valid rate</th><th>verifications</th><th>verified on time</th><th>on-time rate</th></tr></thead>\n"
      "<tbody>\n";
  int rank = 0;
  for (const InspectorRates& i : inspectors) {
    h += fmt::format(
        "<tr><td>{}</td><td "
        "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "</tr>\n",
        ++rank, HtmlEscape(i.inspector), i.reports, i.valid, Pct(i.valid_rate), i.verifications,
        i.verified_on_time, Pct(i.verification_on_time_rate));
  }
  if (inspectors.empty())
    h += "<tr><td colspan=\"8\" class=\"l\">no inspector activity in the period</td></tr>\n";
  h += "</tbody>\n</table>\n</section>\n";
}

void CentreSection(std::string& h, const Config& config, const CentreFigures& f) {
  h += "<section id=\"centre\">\n<h2>The centre (监督指挥中心)</h2>\n<div class=\"cards\">\n";
  auto card = [&](const char* key, std::int64_t v) {
    h +=
        fmt::format("<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", v, key);
  };
  card("received 受理", f.received);
  card("registered 立案", f.registered);
  card("rejected 不予受理", f.rejected);
  card("voided 作废", f.voided);
  card("closed 结案", f.closed);
  card("closed on time 按期结案", f.closed_on_time);
  h += "</div>\n";
  if (f.closed > 0) {
    h += fmt::format("<p class=\"note\">{:.2f}% of the cases closed in the period were closed on time.</p>\n",
                     100.0 * static_cast<double>(f.closed_on_time) / static_cast<double>(f.closed));
  }
  if (!f.received_by_category.empty()) {
    std::vector<std::pair<std::string, std::int64_t>> cats(f.received_by_category.begin(),
                                                           f.received_by_category.end());
    std::stable_sort(cats.begin(), cats.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (cats.size() > 10) cats.resize(10);
    h += "<table>\n<thead><tr><th class=\"l\">category (most received)</th><th class=\"l\">name</th>"
         "<th>received</th></tr></thead>\n<tbody>\n";
    for (const auto& [key, n] : cats) {
      std::string name;
      auto slash = key.find('/');
      if (slash != std::string::npos) {
        auto kind = ParseCaseKind(key.substr(0, slash));
        if (kind) {
          if (const CategoryInfo* c = config.FindCategory(*kind, key.substr(slash + 1))) name = c->name;
        }
      }
      h += fmt::format("<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td></tr>\n",
                       HtmlEscape(key), HtmlEscape(name), n);
    }
    h += "</tbody>\n</table>\n";
  }
  h += "</section>\n";
}

void WeeklySection(std::string& h, const std::vector<Week>& weeks, int offset) {
  const int left = 56, right = 16, top = 20, bottom = 56, plot_h = 220;
  const int n = static_cast<int>(weeks.size());
  const int slot = n > 0 ? std::max(24, std::min(64, 700 / n)) : 40;
  const int width = left + right + slot * std::max(n, 1);
  const int height = top + plot_h + bottom;
  std::int64_t peak = 0;
  for (const Week& w : weeks) peak = std::max({peak, w.received, w.closed});
  const double ymax = NiceCeil(static_cast<double>(peak));
  h += "<section id=\"weekly\">\n<h2>Cases received and closed per week</h2>\n";
  h += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" "
      "aria-label=\"Cases received and closed per week\">\n",
      width, height);
  for (int k = 0; k <= 5; ++k) {
    double v = ymax * k / 5;
    int y = top + plot_h - static_cast<int>(std::lround(plot_h * k / 5.0));
    h += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" />\n"
        "<text x=\"{4}\" y=\"{5}\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"end\">{6:g}</text>\n",
        left, y, width - right, k == 0 ? "#57606a" : "#eaeef2", left - 6, y + 4, v);
  }
  const int bw = std::max(4, (slot - 10) / 2);
  for (int i = 0; i < n; ++i) {
    const Week& w = weeks[static_cast<std::size_t>(i)];
    int x = left + i * slot + (slot - 2 * bw) / 2;
    auto bar = [&](std::int64_t v, int bx, const char* colour, const char* what) {
      int bh = static_cast<int>(std::lround(plot_h * static_cast<double>(v) / ymax));
      h += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>week of {}: {} "
          "{}</title></rect>\n",
          bx, top + plot_h - bh, bw, bh, colour, FormatLocalDate(LocalDateOf(w.from, offset)), v, what);
    };
    bar(w.received, x, "#2f81c7", "received");
    bar(w.closed, x + bw, "#1a7f37", "closed");
    std::string label = FormatLocalDate(LocalDateOf(w.from, offset)).substr(5);
    int cx = left + i * slot + slot / 2;
    h += fmt::format(
        "<text x=\"{0}\" y=\"{1}\" font-size=\"10\" fill=\"#57606a\" text-anchor=\"end\" "
        "transform=\"rotate(-45 {0} {1})\">{2}</text>\n",
        cx, top + plot_h + 14, label);
  }
  // Legend.
  h += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"12\" height=\"12\" fill=\"#2f81c7\" />"
      "<text x=\"{2}\" y=\"{3}\" font-size=\"12\">received</text>\n"
      "<rect x=\"{4}\" y=\"{1}\" width=\"12\" height=\"12\" fill=\"#1a7f37\" />"
      "<text x=\"{5}\" y=\"{3}\" font-size=\"12\">closed</text>\n",
      left, height - 18, left + 16, height - 8, left + 100, left + 116);
  h += "</svg>\n";
  // The numbers, for print and for readers who prefer them.
  h += "<table>\n<thead><tr><th class=\"l\">week of</th>";
  for (const Week& w : weeks) h += "<th>" + FormatLocalDate(LocalDateOf(w.from, offset)).substr(5) + "</th>";
  h += "</tr></thead>\n<tbody>\n<tr><td class=\"l\">received</td>";
  for (const Week& w : weeks) h += fmt::format("<td>{}</td>", w.received);
  h += "</tr>\n<tr><td class=\"l\">closed</td>";
  for (const Week& w : weeks) h += fmt::format("<td>{}</td>", w.closed);
  h += "</tr>\n</tbody>\n</table>\n</section>\n";
}

void OverdueSection(std::string& h, const Config& config, std::vector<OverdueTask> overdue, Instant at,
                    int offset) {
  std::stable_sort(overdue.begin(), overdue.end(), [](const OverdueTask& a, const OverdueTask& b) {
    return a.overdue_hours > b.overdue_hours;
  });
  h += "<section id=\"overdue\" class=\"long newpage\">\n";
  h += fmt::format("<h2>Overdue at {} (超期未处置)</h2>\n", HtmlEscape(FormatInstant(at, offset)));
  if (overdue.empty()) {
    h += "<p class=\"note\">No open task is past its deadline.</p>\n</section>\n";
    return;
  }
  h += fmt::format(
      "<p class=\"sub\">{} open task{} past the deadline{}.</p>\n", overdue.size(),
      overdue.size() == 1 ? "" : "s",
      overdue.size() > kOverdueRows ? fmt::format("; the {} longest overdue are listed", kOverdueRows) : "");
  h += "<table>\n<thead><tr><th class=\"l\">case</th><th class=\"l\">unit</th><th class=\"l\">deadline</th>"
       "<th>hours overdue</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < overdue.size() && i < kOverdueRows; ++i) {
    const OverdueTask& t = overdue[i];
    h += fmt::format(
        "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.2f}</td></tr>\n",
        HtmlEscape(t.case_id), HtmlEscape(UnitLabel(config, t.unit)),
        HtmlEscape(FormatInstant(t.deadline, offset)), t.overdue_hours);
  }
  h += "</tbody>\n</table>\n</section>\n";
}

}  // namespace

Status WriteHtmlReport(Engine& engine, const ReportOptions& options) {
  try {
    if (options.html.empty()) return Status::InvalidArgument("report: no output file given");
    if (!(options.from < options.to))
      return Status::InvalidArgument("report: the period is empty (from >= to)");
    const Config config = engine.CurrentConfig();
    const int offset = config.calendar.utc_offset_minutes;
    const Instant at = QueryInstant(options.at, options.to, engine.Now());
    PeriodQuery q;
    q.from = options.from;
    q.to = options.to;
    q.at = at;
    auto rates = engine.Rates(q);
    if (!rates.ok()) return rates.status();
    auto inspectors = engine.Inspectors(q);
    if (!inspectors.ok()) return inspectors.status();
    auto centre = engine.Centre(q);
    if (!centre.ok()) return centre.status();
    auto overdue = engine.Overdue(at);
    if (!overdue.ok()) return overdue.status();
    auto weeks = WeeklyCounts(engine, options.from, options.to);
    if (!weeks.ok()) return weeks.status();

    const std::string first = FormatLocalDate(LocalDateOf(options.from, offset));
    const std::string last = FormatLocalDate(LocalDateOf(options.to - Micros(1), offset));
    const std::string period = first == last ? first : first + " to " + last;
    std::string h;
    h.reserve(64 * 1024);
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += fmt::format("<title>caseloop report, {}</title>\n", HtmlEscape(period));
    h += "<style>";
    h += kCss;
    h += "</style>\n</head>\n<body>\n<header>\n";
    h += fmt::format("<h1>Urban-management cases: evaluation report, {}</h1>\n", HtmlEscape(period));
    h += fmt::format(
        "<p class=\"sub\">Period [{}, {}), evaluated as of {}. Times are local (UTC{}). {} units, {} "
        "inspectors.</p>\n",
        HtmlEscape(FormatInstant(options.from, offset)), HtmlEscape(FormatInstant(options.to, offset)),
        HtmlEscape(FormatInstant(at, offset)), HtmlEscape(FormatUtcOffset(offset)), config.units.size(),
        inspectors->size());
    h += "</header>\n<main>\n";
    RankingSection(h, config, *rates);
    OnTimeChart(h, config, *rates);
    InspectorSection(h, *inspectors);
    CentreSection(h, config, *centre);
    WeeklySection(h, *weeks, offset);
    OverdueSection(h, config, *overdue, at, offset);
    h += "</main>\n<footer>Generated by caseloop from the event log. Figures follow the evaluation rules of "
         "the district (综合评价).</footer>\n</body>\n</html>\n";

    // A reader never sees half a report; a failed write leaves nothing.
    Status written = tools::WriteWholeFile(options.html, h);
    if (!written.ok()) return Status(written.code(), "report: " + written.message());
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::IOError("report: out of memory");
  } catch (const std::exception& e) {
    return Status::IOError(std::string("report: ") + e.what());
  }
}

}  // namespace caseloop
