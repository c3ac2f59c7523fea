// WriteHtmlReport: one self-contained, well-formed HTML file.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "tools/html.h"
#include "tools/report_strings.h"
#include "tools/text_table.h"

using namespace caseloop;

namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Checks that start and end tags nest properly (void elements and "/>"
// aside). Returns "" or the first problem.
std::string CheckBalanced(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input", "col", "wbr"};
  std::vector<std::string> stack;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      i = html.find("-->", i);
      if (i == std::string::npos) return "unterminated comment";
      continue;
    }
    std::size_t end = html.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = html.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty() || tag[0] == '!') continue;
    bool closing = tag[0] == '/';
    bool self = tag.back() == '/';
    std::size_t n0 = closing ? 1 : 0;
    std::size_t n1 = tag.find_first_of(" \t\n/", n0);
    std::string name = tag.substr(n0, n1 == std::string::npos ? std::string::npos : n1 - n0);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "style") {  // skip the stylesheet's text
      std::size_t close = html.find("</style>", i);
      if (close == std::string::npos) return "unterminated style";
      i = close + 8;
      continue;
    }
    if (closing) {
      if (stack.empty() || stack.back() != name) {
        return "</" + name + "> closes <" + (stack.empty() ? std::string("nothing") : stack.back()) + ">";
      }
      stack.pop_back();
    } else if (!self && kVoid.count(name) == 0) {
      stack.push_back(name);
    }
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "caseloop_report_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace

TEST_CASE("report: the demo's HTML has every section, no script, balanced tags") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  // A unit whose name needs escaping.
  ConfigChange odd;
  odd.type = ConfigChangeType::kDefineUnit;
  odd.unit = {"ODD", "<b>Parks & \"Trees\"</b>"};
  for (const ConfigChange& c : DefaultConfigChanges()) REQUIRE((*engine)->Configure(c).ok());
  REQUIRE((*engine)->Configure(odd).ok());

  const std::string path = TempPath("demo.html");
  std::filesystem::remove(path);
  DemoOptions d;
  d.cases = 300;
  d.days = 30;
  d.seed = 3;
  d.html = path;
  std::ostringstream out;
  Status s = RunDemo(**engine, d, out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(out.str().find("report written to " + path) != std::string::npos);
  const std::string html = ReadAll(path);
  REQUIRE(!html.empty());
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  for (const char* id : {"id=\"ranking\"", "id=\"on-time-chart\"", "id=\"inspectors\"", "id=\"centre\"",
                         "id=\"counts\"", "id=\"overdue\""}) {
    CHECK_MESSAGE(html.find(id) != std::string::npos, id);
  }
  // A +08:00 district's report is in Chinese unless asked otherwise.
  CHECK(html.find("<html lang=\"zh-CN\">") != std::string::npos);
  CHECK(html.find("<title>城市管理案件考核评价报告（2025-01-01 至 2025-01-30）</title>") !=
        std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@media print") != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(CheckBalanced(html) == "");
  // Text is escaped.
  CHECK(html.find("<b>Parks") == std::string::npos);
  CHECK(html.find("&lt;b&gt;Parks &amp; &quot;Trees&quot;&lt;/b&gt;") != std::string::npos);
  // Every unit appears, with its grade when it has one.
  for (const auto& [id, info] : (*engine)->CurrentConfig().units) {
    CHECK_MESSAGE(html.find("(" + id + ")") != std::string::npos, id);
  }
  CHECK(std::regex_search(html, std::regex("class=\"grade\"[^>]*>[A-E]<")));
}

TEST_CASE("report: errors name the problem") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  ReportOptions r;
  r.from = *ParseInstant("2025-01-01", 480);
  r.to = r.from;
  r.html = TempPath("empty.html");
  CHECK(WriteHtmlReport(**engine, r).IsInvalidArgument());
  r.to = r.from + std::chrono::hours(24 * 7);
  r.html = "";
  CHECK(WriteHtmlReport(**engine, r).IsInvalidArgument());
  r.html = "/nonexistent-dir/x/report.html";
  CHECK(WriteHtmlReport(**engine, r).IsIOError());
  // An empty store still gives a complete report.
  r.html = TempPath("nothing.html");
  REQUIRE(WriteHtmlReport(**engine, r).ok());
  const std::string html = ReadAll(r.html);
  CHECK(CheckBalanced(html) == "");
  CHECK(html.find(std::string(tools::StringsFor(tools::ReportLanguage::kZh).overdue_none)) !=
        std::string::npos);
}

TEST_CASE("report: text helpers") {
  CHECK(tools::HtmlEscape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
  CHECK(tools::DisplayWidth("水务局") == 6);
  CHECK(tools::DisplayWidth("WATER") == 5);
  CHECK(tools::PadRight("水务局", 8) == "水务局  ");
  CHECK(tools::PadLeft("42", 4) == "  42");
}

namespace {

// The names in `dir` (to see what a failed write left behind).
std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

ReportOptions AWeek(const std::string& html) {
  ReportOptions r;
  r.from = *ParseInstant("2025-01-01", 480);
  r.to = r.from + std::chrono::hours(24 * 7);
  r.html = html;
  return r;
}

}  // namespace

// docs/reliability.md: `report --html /dev/full` printed "wrote" (it wrote
// /dev/full.tmp and renamed it over the device), a failed write left the
// temporary file behind, and `--html DIR` said "cannot create …: Success".
TEST_CASE("report: a failed write is an error naming the reason, and leaves nothing behind") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  const std::string dir = TempPath("failed-writes");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  SUBCASE("a device is written in place: /dev/full is full, and stays a device") {
    Status s = WriteHtmlReport(**engine, AWeek("/dev/full"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.IsIOError());
    CHECK(s.message() == "report: cannot write '/dev/full': No space left on device");
    CHECK(std::filesystem::is_character_file("/dev/full"));
    for (const auto& e : std::filesystem::directory_iterator("/dev")) {
      CHECK_MESSAGE(e.path().filename().string().rfind("full.", 0) != 0, e.path());
    }
  }
  SUBCASE("a directory") {
    Status s = WriteHtmlReport(**engine, AWeek(dir));
    REQUIRE_FALSE(s.ok());
    CHECK(s.IsIOError());
    CHECK(s.message() == "report: cannot write '" + dir + "': Is a directory");
    CHECK(Names(dir).empty());
  }
  SUBCASE("a write that fails half-way (a file size limit, as a full disk) leaves no temporary file") {
    const std::string path = dir + "/r.html";
    {
      std::ofstream old(path);
      old << "the previous report";
    }
    struct rlimit saved {};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 4096;  // the report is larger: write() fails with EFBIG
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    Status s = WriteHtmlReport(**engine, AWeek(path));
    REQUIRE(setrlimit(RLIMIT_FSIZE, &saved) == 0);
    std::signal(SIGXFSZ, previous);
    REQUIRE_FALSE(s.ok());
    CHECK(s.IsIOError());
    CHECK(s.message() == "report: cannot write '" + path + "': File too large");
    CHECK(Names(dir) == std::set<std::string>{"r.html"});
    CHECK(ReadAll(path) == "the previous report");  // untouched
    // And with room, the report replaces it.
    REQUIRE(WriteHtmlReport(**engine, AWeek(path)).ok());
    CHECK(ReadAll(path).rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(Names(dir) == std::set<std::string>{"r.html"});
  }
  std::filesystem::remove_all(dir);
}

namespace {

// Every label of a language's table that is plain text (no format field, no
// entity), to look for in a report.
std::vector<std::string> PlainLabels(const tools::ReportStrings& S) {
  std::vector<std::string> out;
  for (std::string_view v :
       {S.ranking_heading, S.col_unit, S.col_score, S.col_grade, S.on_time_heading, S.inspectors_heading,
        S.col_inspector, S.col_reports, S.col_valid_rate, S.col_verifications, S.col_verified_on_time,
        S.centre_heading, S.card_registered, S.card_rejected, S.card_voided, S.card_closed_on_time, S.footer})
    out.emplace_back(v);
  return out;
}

bool AllAscii(const std::string& s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

bool SetOffset(Engine& engine, int minutes) {
  ConfigChange c;
  c.type = ConfigChangeType::kSetCalendar;
  c.calendar = engine.CurrentConfig().calendar;
  c.calendar.utc_offset_minutes = minutes;
  return engine.Configure(c).ok();
}

}  // namespace

TEST_CASE("report: --lang zh|en, every label from the language's table; default from the calendar") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  const tools::ReportStrings& zh = tools::StringsFor(tools::ReportLanguage::kZh);
  const tools::ReportStrings& en = tools::StringsFor(tools::ReportLanguage::kEn);
  ReportOptions r = AWeek(TempPath("lang.html"));

  SUBCASE("en: every label English, nothing of the Chinese table (an empty store has no names)") {
    r.language = "en";
    REQUIRE(WriteHtmlReport(**engine, r).ok());
    const std::string html = ReadAll(r.html);
    CHECK(html.find("<html lang=\"en\">") != std::string::npos);
    CHECK_MESSAGE(AllAscii(html), "a non-ASCII character in an English report of an empty store");
    for (const std::string& l : PlainLabels(en)) CHECK_MESSAGE(html.find(l) != std::string::npos, l);
    CHECK(CheckBalanced(html) == "");
  }
  SUBCASE("zh, and the default at +08:00: every label Chinese, none of the English table") {
    for (const char* lang : {"zh", ""}) {
      r.language = lang;
      REQUIRE(WriteHtmlReport(**engine, r).ok());
      const std::string html = ReadAll(r.html);
      CHECK(html.find("<html lang=\"zh-CN\">") != std::string::npos);
      for (const std::string& l : PlainLabels(zh)) CHECK_MESSAGE(html.find(l) != std::string::npos, l);
      for (const std::string& l : PlainLabels(en))
        CHECK_MESSAGE(html.find(">" + l + "<") == std::string::npos, l);
      CHECK(html.find("No open task") == std::string::npos);
      CHECK(html.find("（UTC+08:00）") != std::string::npos);
      CHECK(CheckBalanced(html) == "");
    }
  }
  SUBCASE("a district at -05:00 gets English by default") {
    REQUIRE(SetOffset(**engine, -5 * 60));
    REQUIRE(WriteHtmlReport(**engine, r).ok());
    const std::string html = ReadAll(r.html);
    CHECK(html.find("<html lang=\"en\">") != std::string::npos);
    CHECK(html.find("(UTC-05:00)") != std::string::npos);
  }
  SUBCASE("a zone's name is shown; Asia/Shanghai is Chinese by default, America/New_York English") {
    for (const char* zone : {"Asia/Shanghai", "America/New_York"}) {
      ConfigChange c;
      c.type = ConfigChangeType::kSetCalendarZone;
      c.calendar.zone = zone;
      REQUIRE((*engine)->Configure(c).ok());
      REQUIRE(WriteHtmlReport(**engine, r).ok());
      const std::string html = ReadAll(r.html);
      const bool zh_zone = std::string(zone) == "Asia/Shanghai";
      CHECK(html.find(zh_zone ? "<html lang=\"zh-CN\">" : "<html lang=\"en\">") != std::string::npos);
      CHECK(html.find(zh_zone ? "（Asia/Shanghai）" : "(America/New_York)") != std::string::npos);
      CHECK(html.find("UTC+") == std::string::npos);
    }
  }
  SUBCASE("an unknown language is refused, naming it") {
    r.language = "fr";
    Status s = WriteHtmlReport(**engine, r);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message() == "report: unknown report language 'fr' (expected zh or en)");
  }
  SUBCASE("the CJK font stack") {
    REQUIRE(WriteHtmlReport(**engine, r).ok());
    CHECK(ReadAll(r.html).find("\"Noto Sans CJK SC\", \"PingFang SC\", \"Microsoft YaHei\", sans-serif") !=
          std::string::npos);
  }
}

namespace {

// The text of <section id="ID"> … </section>.
std::string Section(const std::string& html, const std::string& id) {
  const auto a = html.find("<section id=\"" + id + "\"");
  if (a == std::string::npos) return "";
  return html.substr(a, html.find("</section>", a) - a);
}

std::size_t Count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report: names once, bars not coloured by grade, overdue of the period, buckets that fit") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  const std::string csv = TempPath("period.csv");
  {
    std::ofstream f(csv);
    f << "id,created,unit,due,closed\n"
         "A1,2025-01-02 10:00:00,Public Works Department,2025-01-03 10:00:00,\n"  // overdue before the period
         "A2,2025-02-03 10:00:00,Public Works Department,2025-02-05 10:00:00,\n"  // overdue in it
         "A3,2025-02-10 10:00:00,Water,2025-02-11 10:00:00,2025-02-11 09:00:00\n"
         "A4,2025-02-20 10:00:00,Water,2025-03-20 10:00:00,\n";  // due after it
  }
  ImportOptions io;
  io.file = csv;
  io.id_column = "id";
  io.created_column = "created";
  io.unit_column = "unit";
  io.due_column = "due";
  io.closed_column = "closed";
  std::ostringstream out, err;
  auto imported = ImportCsv(**engine, io, out, err);
  REQUIRE_MESSAGE(imported.ok(), imported.status().ToString());
  REQUIRE(imported->imported == 4);

  ReportOptions r;
  r.from = *ParseInstant("2025-02-01", 480);
  r.to = *ParseInstant("2025-03-01", 480);
  r.at = r.to;
  r.language = "en";
  r.html = TempPath("period.html");
  REQUIRE(WriteHtmlReport(**engine, r).ok());
  const std::string html = ReadAll(r.html);
  CHECK(CheckBalanced(html) == "");

  // An imported unit's name is its id with blanks: shown once.
  CHECK(html.find("Public Works Department") != std::string::npos);
  CHECK(html.find("Public_Works_Department") == std::string::npos);

  // The on-time bars show the rate on a track, in one colour, whatever the grade.
  const std::string chart = Section(html, "on-time-chart");
  REQUIRE(!chart.empty());
  for (const char* grade_colour : {"#1a7f37", "#b08800", "#d4640f", "#cf222e"})
    CHECK_MESSAGE(chart.find(grade_colour) == std::string::npos, grade_colour);
  CHECK(chart.find("fill=\"#2f81c7\"") != std::string::npos);
  CHECK(chart.find("100.0%") != std::string::npos);  // Water: A3 on time

  // Overdue: A2 (due in the period) listed; A1 (due before it) counted, not listed; A4 not yet due.
  const std::string overdue = Section(html, "overdue");
  CHECK(overdue.find(">A2<") != std::string::npos);
  CHECK(overdue.find(">A1<") == std::string::npos);
  CHECK(overdue.find(">A4<") == std::string::npos);
  CHECK(overdue.find("1 open task(s) due in the period") != std::string::npos);
  CHECK(overdue.find("1 more task(s) overdue since before the period") != std::string::npos);

  // 28 days: one column a day, labels without the year.
  const std::string counts = Section(html, "counts");
  CHECK(counts.find("per day") != std::string::npos);
  CHECK(Count(counts, "<tr><td class=\"l\">") == 28);
  CHECK(counts.find("<tr><td class=\"l\">02-03</td><td>1</td><td>0</td></tr>") != std::string::npos);
  CHECK(counts.find("<tr><td class=\"l\">02-11</td><td>0</td><td>1</td></tr>") != std::string::npos);

  // Ten years: one column a year, labelled with the year.
  r.from = *ParseInstant("2016-01-01", 480);
  r.to = *ParseInstant("2026-01-01", 480);
  REQUIRE(WriteHtmlReport(**engine, r).ok());
  const std::string ten = Section(ReadAll(r.html), "counts");
  CHECK(ten.find("per year") != std::string::npos);
  CHECK(Count(ten, "<tr><td class=\"l\">") == 10);
  CHECK(ten.find("<tr><td class=\"l\">2025</td><td>4</td><td>1</td></tr>") != std::string::npos);
  CHECK(Count(ten, "class=\"tick\"") == 10);
}

TEST_CASE("report: the rankings as CSV and Excel, without or with the HTML") {
  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(eo);
  REQUIRE(engine.ok());
  const std::string csv = TempPath("export-in.csv");
  {
    std::ofstream f(csv);
    f << "id,created,unit,due,closed\n"
         "B1,2025-02-03 10:00:00,\"Parks, \"\"Trees\"\"\",2025-02-05 10:00:00,2025-02-04 10:00:00\n"
         "B2,2025-02-10 10:00:00,Water,2025-02-11 10:00:00,2025-02-12 09:00:00\n"
         "B3,2025-02-11 10:00:00,Water,2025-02-12 10:00:00,2025-02-12 09:00:00\n";
  }
  ImportOptions io;
  io.file = csv;
  io.id_column = "id";
  io.created_column = "created";
  io.unit_column = "unit";
  io.due_column = "due";
  io.closed_column = "closed";
  std::ostringstream out, err;
  REQUIRE(ImportCsv(**engine, io, out, err).ok());
  ReportOptions r;
  r.from = *ParseInstant("2025-02-01", 480);
  r.to = *ParseInstant("2025-03-01", 480);
  r.at = r.to;
  r.language = "en";
  r.csv = TempPath("ranking.csv");
  r.xlsx = TempPath("ranking.xlsx");
  std::filesystem::remove(r.csv);
  std::filesystem::remove(r.xlsx);
  REQUIRE(WriteHtmlReport(**engine, r).ok());  // no HTML asked for: none written, no error

  const std::string text = ReadAll(r.csv);
  REQUIRE(text.rfind("\xEF\xBB\xBF#,unit id,unit name,due,handled,on time,", 0) == 0);
  std::vector<std::string> lines;
  for (std::size_t a = 3, b; (b = text.find("\r\n", a)) != std::string::npos; a = b + 2)
    lines.push_back(text.substr(a, b - a));
  REQUIRE(lines.size() == 3);  // the header, two units
  CHECK(lines[0].find(",on-time (%),") != std::string::npos);
  CHECK(lines[0].substr(lines[0].size() - 12) == ",score,grade");
  // Ranked: Parks (1 of 1 on time) before Water (1 of 2); the name quoted as RFC 4180 says.
  CHECK(lines[1].rfind("1,\"Parks,_\"\"Trees\"\"\",\"Parks, \"\"Trees\"\"\",1,1,1,0,0,", 0) == 0);
  CHECK(lines[1].find(",100.00,") != std::string::npos);
  CHECK(lines[2].rfind("2,Water,Water,2,2,1,1,0,", 0) == 0);
  CHECK(lines[2].find(",50.00,") != std::string::npos);

  const std::string xlsx = ReadAll(r.xlsx);
  REQUIRE(xlsx.size() > 1000);
  CHECK(xlsx.rfind("PK\x03\x04", 0) == 0);  // a zip, as every .xlsx
  // Its sheets and strings, read back with Python's zipfile when there is one.
  if (std::filesystem::exists("/usr/bin/python3")) {
    const std::string dump = TempPath("xlsx.txt");
    const std::string cmd =
        "/usr/bin/python3 -c \"import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); "
        "print(z.read('xl/workbook.xml').decode()); "
        "print(z.read('xl/sharedStrings.xml').decode())\" '" +
        r.xlsx + "' > '" + dump + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const std::string xml = ReadAll(dump);
    CHECK(xml.find("name=\"unit ranking\"") != std::string::npos);
    CHECK(xml.find("name=\"inspectors\"") != std::string::npos);
    CHECK(xml.find("<t>Parks, \"Trees\"</t>") != std::string::npos);
    CHECK(xml.find("on-time (%)") != std::string::npos);
  }

  // In Chinese, with the HTML too; a file that cannot be written is named.
  r.language = "zh";
  r.html = TempPath("ranking.html");
  REQUIRE(WriteHtmlReport(**engine, r).ok());
  CHECK(ReadAll(r.csv).rfind("\xEF\xBB\xBF名次,单位编码,单位名称,应处置,", 0) == 0);
  CHECK(ReadAll(r.html).rfind("<!DOCTYPE html>", 0) == 0);
  r.xlsx = "/nonexistent-dir/r.xlsx";
  Status s = WriteHtmlReport(**engine, r);
  CHECK(s.IsIOError());
  CHECK(s.message().find("'/nonexistent-dir/r.xlsx'") != std::string::npos);
}
