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
#include "tools/report_buckets.h"
#include "tools/report_export.h"
#include "tools/report_strings.h"
#include "tools/text_table.h"

namespace caseloop {
namespace {

using tools::HtmlEscape;
using tools::ReportLanguage;
using tools::ReportStrings;

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
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: var(--ink); margin: 0 auto; padding: 24px 32px 48px; max-width: 1100px; line-height: 1.45; }
html[lang="en"] body { font-family: "Noto Sans", "Segoe UI", Helvetica, Arial, "Noto Sans CJK SC",
       "PingFang SC", "Microsoft YaHei", sans-serif; }
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
table.counts { width: auto; min-width: 40%; }
@media print {
  @page { size: A4 portrait; margin: 12mm 12mm 14mm;
          @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #57606a; } }
  body { max-width: none; padding: 0; font-size: 9.5pt; line-height: 1.35; }
  header { margin-bottom: 10pt; }
  h1 { font-size: 16pt; }
  h2 { font-size: 12.5pt; margin: 14pt 0 6pt; break-after: avoid; page-break-after: avoid; }
  table { font-size: 7.5pt; }
  th, td { padding: 2px 3px; }
  svg { max-width: 100%; height: auto; break-inside: avoid; page-break-inside: avoid; }
  section { break-inside: avoid; page-break-inside: avoid; }
  section.long { break-inside: auto; page-break-inside: auto; }
  section.newpage { break-before: page; page-break-before: always; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  tbody tr:nth-child(even) td { background: none; }
  .cards { grid-template-columns: repeat(3, 1fr); }
  .grade, .card, svg { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  footer { margin-top: 16pt; }
}
)css";

// Reported and closed (passing verification) cases per bucket of the period,
// from the global log.
Status CountPerBucket(Engine& engine, std::vector<tools::Bucket>& buckets) {
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
      const long i = tools::BucketOf(buckets, e.time);
      if (i < 0) continue;
      tools::Bucket& b = buckets[static_cast<std::size_t>(i)];
      (e.type == EventType::kCaseReported ? b.received : b.closed) += 1;
    }
  }
  return Status::Ok();
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

// The name as an id would be made of it (import: blanks and control
// characters -> '_', runs collapsed).
std::string AsId(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool blank = static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
    if (blank && !out.empty() && out.back() == '_') continue;
    out.push_back(blank ? '_' : c);
  }
  return out;
}

// A unit's name, with its id when the id says something the name does not:
// "水务局 (WATER)", but "Public Works Department", not "Public Works Department
// (Public_Works_Department)".
std::string UnitLabel(const Config& config, const std::string& unit) {
  auto it = config.units.find(unit);
  if (it == config.units.end() || it->second.name.empty()) return unit;
  if (AsId(it->second.name) == unit) return it->second.name;
  return it->second.name + " (" + unit + ")";
}

// Roughly the width in pixels of `text` at `font_px` (digits and Latin
// letters at most about 0.65 em, East Asian wide characters 1 em): to size margins so
// that no label is cut off.
int TextWidth(std::string_view text, int font_px) {
  return (tools::DisplayWidth(std::string(text)) * font_px * 13 + 19) / 20;
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
void RankingSection(std::string& h, const ReportStrings& S, ReportLanguage lang, const Config& config,
                    const std::vector<UnitRates>& rates) {
  h += fmt::format("<section id=\"ranking\" class=\"long\">\n<h2>{}</h2>\n", S.ranking_heading);
  std::string terms;
  for (const UnitMetric& m : kUnitMetrics) {
    if (m.weight == nullptr) continue;
    if (!terms.empty()) terms += " + ";
    const double w = config.weights.*m.weight;
    terms += fmt::format(fmt::runtime(m.inverted ? S.weight_inverted : S.weight_times),
                         tools::MetricName(m, lang), w);
  }
  h += "<p class=\"sub\">" + fmt::format(fmt::runtime(S.score_formula), terms) + "</p>\n";
  h += fmt::format("<table>\n<thead><tr><th>{}</th><th class=\"l\">{}</th>", S.col_rank, S.col_unit);
  for (const UnitMetric& m : kUnitMetrics) h += fmt::format("<th>{}</th>", tools::MetricLabel(m, lang));
  h += fmt::format("<th>{}</th><th>{}</th></tr></thead>\n<tbody>\n", S.col_score, S.col_grade);
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
        "<tr><td>&ndash;</td><td class=\"l\">{}</td><td>0</td><td colspan=\"{}\" class=\"l\">{}</td></tr>\n",
        HtmlEscape(UnitLabel(config, id)), span, S.nothing_due_row);
  }
  h += "</tbody>\n</table>\n</section>\n";
}

void OnTimeChart(std::string& h, const ReportStrings& S, const Config& config, std::vector<UnitRates> rates) {
  std::stable_sort(rates.begin(), rates.end(), [](const UnitRates& a, const UnitRates& b) {
    return a.on_time_rate.value_or(-1) > b.on_time_rate.value_or(-1);
  });
  // The label column fits the longest name (up to 340 px; longer ones are
  // shortened, the full name in a tooltip).
  constexpr int kMaxLabel = 340, kFont = 12;
  int longest = 0;
  for (const UnitRates& u : rates) longest = std::max(longest, TextWidth(UnitLabel(config, u.unit), kFont));
  const int label_w = std::min(kMaxLabel, std::max(120, longest + 16)), bar_w = 440, row_h = 24, top = 26;
  const int width = label_w + bar_w + 70;
  const int height = top + row_h * static_cast<int>(rates.size()) + 10;
  h += fmt::format("<section id=\"on-time-chart\">\n<h2>{}</h2>\n", S.on_time_heading);
  h += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"{2}\">\n",
      width, height, S.on_time_aria);
  for (int p = 0; p <= 100; p += 25) {
    int x = label_w + bar_w * p / 100;
    h += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#d0d7de\" stroke-dasharray=\"{3}\" />\n"
        "<text x=\"{0}\" y=\"{4}\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"middle\">{5}%</text>\n",
        x, top - 6, height - 6, p == 0 ? "none" : "3,3", top - 10, p);
  }
  int y = top;
  for (const UnitRates& u : rates) {
    const std::string full = UnitLabel(config, u.unit);
    std::string label = Shorten(full, (kMaxLabel - 16) * 20 / (kFont * 13));
    h += fmt::format(
        "<text class=\"tick\" x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" "
        "fill=\"#1f2328\">{}{}</text>\n",
        label_w - 8, y + 16, HtmlEscape(label),
        label == full ? "" : "<title>" + HtmlEscape(full) + "</title>");
    if (u.on_time_rate) {
      int w = static_cast<int>(std::lround(*u.on_time_rate * bar_w));
      // The bar is the on-time rate on a 100% track: one colour, the value written beside it.
      h += fmt::format(
          "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" rx=\"2\" fill=\"#eaeef2\" />\n"
          "<rect x=\"{0}\" y=\"{1}\" width=\"{4}\" height=\"{3}\" rx=\"2\" fill=\"#2f81c7\" />\n"
          "<text x=\"{5}\" y=\"{6}\" font-size=\"11\" fill=\"#1f2328\">{7:.1f}%</text>\n",
          label_w, y + 4, bar_w, row_h - 8, std::max(w, 1), label_w + bar_w + 6, y + 16,
          *u.on_time_rate * 100);
    } else {
      h += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#8c959f\">{}</text>\n", label_w + 6,
                       y + 16, S.nothing_due_bar);
    }
    y += row_h;
  }
  h += fmt::format("</svg>\n<p class=\"note\">{}</p>\n</section>\n", S.on_time_note);
}

void InspectorSection(std::string& h, const ReportStrings& S, std::vector<InspectorRates> inspectors) {
  tools::SortInspectors(inspectors);
  h += fmt::format("<section id=\"inspectors\" class=\"long\">\n<h2>{}</h2>\n", S.inspectors_heading);
  h += fmt::format(
      "<table>\n<thead><tr><th>{}</th><th class=\"l\">{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
      "<th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
      S.col_rank, S.col_inspector, S.col_reports, S.col_valid, S.col_valid_rate, S.col_verifications,
      S.col_verified_on_time, S.col_verification_rate);
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
    h += fmt::format("<tr><td colspan=\"8\" class=\"l\">{}</td></tr>\n", S.no_inspector_activity);
  h += "</tbody>\n</table>\n</section>\n";
}

void CentreSection(std::string& h, const ReportStrings& S, const Config& config, const CentreFigures& f) {
  h += fmt::format("<section id=\"centre\">\n<h2>{}</h2>\n<div class=\"cards\">\n", S.centre_heading);
  auto card = [&](std::string_view key, std::int64_t v) {
    h +=
        fmt::format("<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>\n", v, key);
  };
  card(S.card_received, f.received);
  card(S.card_registered, f.registered);
  card(S.card_rejected, f.rejected);
  card(S.card_voided, f.voided);
  card(S.card_closed, f.closed);
  card(S.card_closed_on_time, f.closed_on_time);
  h += "</div>\n";
  if (f.closed > 0) {
    h += "<p class=\"note\">" +
         fmt::format(fmt::runtime(S.closed_on_time_note),
                     fmt::format("{:.2f}", 100.0 * static_cast<double>(f.closed_on_time) /
                                               static_cast<double>(f.closed))) +
         "</p>\n";
  }
  if (!f.received_by_category.empty()) {
    std::vector<std::pair<std::string, std::int64_t>> cats(f.received_by_category.begin(),
                                                           f.received_by_category.end());
    std::stable_sort(cats.begin(), cats.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (cats.size() > 10) cats.resize(10);
    h += fmt::format(
        "<table>\n<thead><tr><th class=\"l\">{}</th><th class=\"l\">{}</th><th>{}</th></tr></thead>\n"
        "<tbody>\n",
        S.col_category, S.col_category_name, S.col_received);
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

// The received/closed chart and its table, in buckets that fit the period
// (report_buckets.h): at most about 60 columns at any scale.
void CountsSection(std::string& h, const ReportStrings& S, const std::vector<tools::Bucket>& buckets,
                   tools::BucketSize size) {
  const auto which = static_cast<std::size_t>(size);
  const int n = static_cast<int>(buckets.size());
  const int slot = n > 0 ? std::max(12, std::min(64, 760 / n)) : 40;
  // Every label at least 20 px from the next (14 px apart across the slant).
  const int step = (20 + slot - 1) / slot;
  int label_px = 0;
  for (const tools::Bucket& b : buckets) label_px = std::max(label_px, TextWidth(b.label, 10));
  const int slant = (label_px * 71 + 99) / 100 + 8;  // a label rotated 45 degrees, and its descent
  const int left = std::max(56, slant), right = 16, top = 30, plot_h = 220;
  const int bottom = 14 + slant;
  // Wide enough for the legend too (a one-day chart has one column).
  const int legend_w = 72 + TextWidth(S.received, 12) + TextWidth(S.closed, 12);
  const int width = left + right + std::max(slot * std::max(n, 1), legend_w);
  const int height = top + plot_h + bottom;
  std::int64_t peak = 0;
  for (const tools::Bucket& b : buckets) peak = std::max({peak, b.received, b.closed});
  const double ymax = NiceCeil(static_cast<double>(peak));
  h += fmt::format("<section id=\"counts\" class=\"long\">\n<h2>{}</h2>\n", S.counts_heading[which]);
  h += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"{2}\">\n",
      width, height, S.counts_heading[which]);
  // Legend, above the plot.
  h += fmt::format(
      "<rect x=\"{0}\" y=\"6\" width=\"12\" height=\"12\" fill=\"#2f81c7\" />"
      "<text x=\"{1}\" y=\"16\" font-size=\"12\">{4}</text>\n"
      "<rect x=\"{2}\" y=\"6\" width=\"12\" height=\"12\" fill=\"#1a7f37\" />"
      "<text x=\"{3}\" y=\"16\" font-size=\"12\">{5}</text>\n",
      left, left + 16, left + 40 + TextWidth(S.received, 12), left + 56 + TextWidth(S.received, 12),
      S.received, S.closed);
  for (int k = 0; k <= 5; ++k) {
    double v = ymax * k / 5;
    int y = top + plot_h - static_cast<int>(std::lround(plot_h * k / 5.0));
    h += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" />\n"
        "<text x=\"{4}\" y=\"{5}\" font-size=\"11\" fill=\"#57606a\" text-anchor=\"end\">{6:g}</text>\n",
        left, y, width - right, k == 0 ? "#57606a" : "#eaeef2", left - 6, y + 4, v);
  }
  const int bw = std::max(3, (slot - 4) / 2);
  for (int i = 0; i < n; ++i) {
    const tools::Bucket& b = buckets[static_cast<std::size_t>(i)];
    int x = left + i * slot + (slot - 2 * bw) / 2;
    auto bar = [&](std::int64_t v, int bx, const char* colour, std::string_view what) {
      int bh = static_cast<int>(std::lround(plot_h * static_cast<double>(v) / ymax));
      h += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>\n", bx,
          top + plot_h - bh, bw, bh, colour, fmt::format(fmt::runtime(S.bar_title), b.label, v, what));
    };
    bar(b.received, x, "#2f81c7", S.received);
    bar(b.closed, x + bw, "#1a7f37", S.closed);
    if (i % step != 0) continue;
    int cx = left + i * slot + slot / 2;
    h += fmt::format(
        "<text class=\"tick\" x=\"{0}\" y=\"{1}\" font-size=\"10\" fill=\"#57606a\" text-anchor=\"end\" "
        "transform=\"rotate(-45 {0} {1})\">{2}</text>\n",
        cx + 3, top + plot_h + 12, HtmlEscape(b.label));
  }
  h += "</svg>\n";
  // The numbers, for print and for readers who prefer them: one row a bucket.
  h += fmt::format(
      "<table class=\"counts\">\n<thead><tr><th class=\"l\">{}</th><th>{}</th><th>{}</th></tr></thead>\n"
      "<tbody>\n",
      S.counts_col[which], S.received, S.closed);
  for (const tools::Bucket& b : buckets)
    h += fmt::format("<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>\n", HtmlEscape(b.label),
                     b.received, b.closed);
  h += "</tbody>\n</table>\n</section>\n";
}

// The open tasks past their deadline at `at` that were due in the period (as
// the ranking's "overdue open"); those due before it are counted, not listed.
void OverdueSection(std::string& h, const ReportStrings& S, const Config& config,
                    const std::vector<OverdueTask>& all, Instant from, Instant to, Instant at,
                    const Calendar& offset) {
  std::vector<OverdueTask> overdue;
  std::size_t earlier = 0;
  for (const OverdueTask& t : all) {
    if (t.deadline >= from && t.deadline < to)
      overdue.push_back(t);
    else if (t.deadline < from)
      ++earlier;
  }
  std::stable_sort(overdue.begin(), overdue.end(), [](const OverdueTask& a, const OverdueTask& b) {
    return a.overdue_hours > b.overdue_hours;
  });
  h += "<section id=\"overdue\" class=\"long newpage\">\n";
  h += "<h2>" + fmt::format(fmt::runtime(S.overdue_heading), HtmlEscape(FormatInstant(at, offset))) +
       "</h2>\n";
  if (overdue.empty()) {
    h += fmt::format("<p class=\"note\">{}</p>\n", S.overdue_none);
  } else {
    h += "<p class=\"sub\">" + fmt::format(fmt::runtime(S.overdue_count), overdue.size());
    if (overdue.size() > kOverdueRows) h += fmt::format(fmt::runtime(S.overdue_first_rows), kOverdueRows);
    h += "</p>\n";
  }
  if (earlier > 0)
    h += "<p class=\"note\">" + fmt::format(fmt::runtime(S.overdue_earlier), earlier) + "</p>\n";
  if (overdue.empty()) {
    h += "</section>\n";
    return;
  }
  h += fmt::format(
      "<table>\n<thead><tr><th class=\"l\">{}</th><th class=\"l\">{}</th><th class=\"l\">{}</th>"
      "<th>{}</th></tr></thead>\n<tbody>\n",
      S.col_case, S.col_unit, S.col_deadline, S.col_hours_overdue);
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
    if (options.html.empty() && options.csv.empty() && options.xlsx.empty())
      return Status::InvalidArgument("report: no output file given (html, csv or xlsx)");
    if (!(options.from < options.to))
      return Status::InvalidArgument("report: the period is empty (from >= to)");
    const Config config = engine.CurrentConfig();
    ReportLanguage lang = tools::DefaultReportLanguage(config.calendar);
    if (!options.language.empty()) {
      auto parsed = tools::ParseReportLanguage(options.language);
      if (!parsed.ok()) return Status::InvalidArgument("report: " + parsed.status().message());
      lang = *parsed;
    }
    const ReportStrings& S = tools::StringsFor(lang);
    const Calendar& offset = config.calendar;  // times print at the zone's offset in effect
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
    const tools::BucketSize size = tools::ChooseBucketSize(options.from, options.to);
    std::vector<tools::Bucket> buckets = tools::MakeBuckets(options.from, options.to, offset, size);
    Status counted = CountPerBucket(engine, buckets);
    if (!counted.ok()) return counted;

    const std::string first = FormatLocalDate(LocalDateOf(offset, options.from));
    const std::string last = FormatLocalDate(LocalDateOf(offset, options.to - Micros(1)));
    const std::string period = first == last ? first : first + std::string(S.period_join) + last;
    if (!options.csv.empty()) {
      Status written =
          tools::WriteWholeFile(options.csv, tools::ToCsv(tools::UnitRankingTable(config, *rates, lang)));
      if (!written.ok()) return Status(written.code(), "report: " + written.message());
    }
    if (!options.xlsx.empty()) {
      auto bytes = tools::ToXlsx(
          {tools::UnitRankingTable(config, *rates, lang), tools::InspectorTable(*inspectors, lang)});
      if (!bytes.ok()) return Status(bytes.status().code(), "report: " + bytes.status().message());
      Status written = tools::WriteWholeFile(options.xlsx, *bytes);
      if (!written.ok()) return Status(written.code(), "report: " + written.message());
    }
    if (options.html.empty()) return Status::Ok();
    std::string h;
    h.reserve(64 * 1024);
    h += fmt::format("<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n", S.html_lang);
    h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<title>" + fmt::format(fmt::runtime(S.title), HtmlEscape(period)) + "</title>\n";
    h += "<style>";
    h += kCss;
    h += "</style>\n</head>\n<body>\n<header>\n";
    h += "<h1>" + fmt::format(fmt::runtime(S.heading), HtmlEscape(period)) + "</h1>\n";
    h += "<p class=\"sub\">" +
         fmt::format(fmt::runtime(S.subtitle), HtmlEscape(FormatInstant(options.from, offset)),
                     HtmlEscape(FormatInstant(options.to, offset)), HtmlEscape(FormatInstant(at, offset)),
                     HtmlEscape(offset.zone.empty() ? "UTC" + FormatUtcOffset(offset.utc_offset_minutes)
                                                    : offset.zone),
                     config.units.size(), inspectors->size()) +
         "</p>\n";
    h += "</header>\n<main>\n";
    RankingSection(h, S, lang, config, *rates);
    OnTimeChart(h, S, config, *rates);
    InspectorSection(h, S, *inspectors);
    CentreSection(h, S, config, *centre);
    CountsSection(h, S, buckets, size);
    OverdueSection(h, S, config, *overdue, options.from, options.to, at, offset);
    h += fmt::format("</main>\n<footer>{}</footer>\n</body>\n</html>\n", S.footer);

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
