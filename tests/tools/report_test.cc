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
                         "id=\"weekly\"", "id=\"overdue\""}) {
    CHECK_MESSAGE(html.find(id) != std::string::npos, id);
  }
  CHECK(html.find("<title>caseloop report, 2025-01-01 to 2025-01-30</title>") != std::string::npos);
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
  CHECK(html.find("No open task is past its deadline.") != std::string::npos);
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
