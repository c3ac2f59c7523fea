// The words of a script line (lexer) and the shape of each command (syntax).
#include "script/lexer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "script/syntax.h"

using namespace caseloop;
using namespace caseloop::script;

namespace {

std::vector<Word> Split(std::string_view line) {
  auto r = SplitLine(line);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

Status Shape(std::string_view line) {
  auto words = SplitLine(line);
  if (!words.ok()) return words.status();
  return ParseArgs(*words).status();
}

}  // namespace

TEST_CASE("bare words and key=value words") {
  auto w = Split("dispatch A1   unit=WATER\tby=D1");
  REQUIRE(w.size() == 4);
  CHECK_FALSE(w[0].keyed);
  CHECK(w[0].value == "dispatch");
  CHECK(w[0].column == 1);
  CHECK(w[1].value == "A1");
  CHECK(w[2].keyed);
  CHECK(w[2].key == "unit");
  CHECK(w[2].value == "WATER");
  CHECK(w[2].column == 15);
  CHECK(w[3].key == "by");
  CHECK(w[3].value == "D1");
}

TEST_CASE("quoted values keep spaces; \\\" and \\\\ are escapes; only the first = splits") {
  auto w = Split(R"(unit WATER name="水务局 east" note="say \"hi\" \\ ok" expr=a=b)");
  REQUIRE(w.size() == 5);
  CHECK(w[2].key == "name");
  CHECK(w[2].value == "水务局 east");
  CHECK(w[3].value == R"(say "hi" \ ok)");
  CHECK(w[4].key == "expr");
  CHECK(w[4].value == "a=b");
  // A backslash before anything else stays.
  CHECK(Split(R"(x path="C:\dir")")[1].value == R"(C:\dir)");
  // Quotes may sit inside a word and may quote a positional word.
  CHECK(Split(R"(x a"b c"d)")[1].value == "ab cd");
  CHECK(Split(R"(show "case 1")")[1].value == "case 1");
  CHECK_FALSE(Split(R"(show "case 1")")[1].keyed);
}

TEST_CASE("comments, blank lines, empty values") {
  CHECK(Split("").empty());
  CHECK(Split("   \t  \r").empty());
  CHECK(Split("# a comment").empty());
  CHECK(Split("   # indented comment").empty());
  auto w = Split("feedback A1 by=U1 # the unit reports back");
  REQUIRE(w.size() == 3);
  CHECK(w[2].value == "U1");
  // '#' inside a word or inside quotes is text.
  CHECK(Split("x address=No#5")[1].value == "No#5");
  CHECK(Split(R"(x note="# not a comment")")[1].value == "# not a comment");
  auto e = Split("x note= by=D1");
  REQUIRE(e.size() == 3);
  CHECK(e[1].keyed);
  CHECK(e[1].value.empty());
  CHECK(Split(R"(x note="")")[1].keyed);
}

TEST_CASE("an unterminated quote and a missing key are errors naming the column") {
  auto r = SplitLine(R"(report A1 desc="broken cover by=I1)");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message() == "unterminated quote opened at column 16");
  auto e = SplitLine("unit WATER =x");
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() == "missing key before '=' at column 12");
  // An escaped quote does not close the string.
  CHECK_FALSE(SplitLine(R"(x a="abc\")").ok());
}

TEST_CASE("QuoteWord round-trips through SplitLine; WordFromArg splits at the first '='") {
  std::vector<Word> words = {{false, "", "plain", 0},
                             {true, "name", "水务局 east", 0},
                             {true, "note", R"(a "b" \c)", 0},
                             {true, "empty", "", 0},
                             {false, "", "a=b", 0},
                             {false, "", "#x", 0}};
  for (const auto& w : words) {
    auto back = Split(QuoteWord(w));
    REQUIRE(back.size() == 1);
    CHECK(back[0].keyed == w.keyed);
    CHECK(back[0].key == w.key);
    CHECK(back[0].value == w.value);
  }
  Word a = WordFromArg("at=2025-03-31T10:30");
  CHECK(a.keyed);
  CHECK(a.key == "at");
  CHECK(a.value == "2025-03-31T10:30");
  Word b = WordFromArg("note=x=y z");
  CHECK(b.value == "x=y z");
  CHECK_FALSE(WordFromArg("A1").keyed);
  CHECK_FALSE(WordFromArg("=x").keyed);
}

TEST_CASE("every command of the language has a spec") {
  for (const char* name :
       {"calendar", "holiday",  "workday",    "unit",    "inspector", "staff",     "category",
        "route",    "weights",  "at",         "advance", "report",    "register",  "reject",
        "merge",    "dispatch", "accept",     "return",  "extend",    "suspend",   "approve",
        "deny",     "resume",   "feedback",   "verify",  "void",      "supervise", "show",
        "history",  "rates",    "inspectors", "centre",  "overdue",   "expect"}) {
    CHECK_MESSAGE(FindCommand(name) != nullptr, name);
  }
  CHECK(FindCommand("dispach") == nullptr);
  CHECK(Usage(*FindCommand("dispatch")) == "dispatch CASE by=… [at=…] [unit=…] [limit=…]");
}

TEST_CASE("a well-formed line parses into positionals, keys and flags") {
  auto words =
      SplitLine(R"(report A5 kind=event category=0401 source=hotline emergency address="x y" by=R1)");
  REQUIRE(words.ok());
  auto a = ParseArgs(*words);
  REQUIRE_MESSAGE(a.ok(), a.status().ToString());
  CHECK(a->spec->name == "report");
  CHECK(a->positionals == std::vector<std::string>{"A5"});
  CHECK(a->HasFlag("emergency"));
  CHECK(a->Get("address") == "x y");
  CHECK(a->Get("by") == "R1");
  CHECK(a->Get("grid").empty());
  CHECK_FALSE(a->Has("grid"));
  CHECK(Shape("route component 0101 WATER grid=620102").ok());
  CHECK(Shape("expect A1 state=closed on_time=true").ok());
  CHECK(Shape("calendar").ok());
}

TEST_CASE("shape errors name the command, the word and what is allowed") {
  CHECK(Shape("dispach A1 by=D1").message() == "unknown command 'dispach' (did you mean 'dispatch'?)");
  CHECK(Shape("frobnicate").message() == "unknown command 'frobnicate'");
  CHECK(Shape("by=D1 dispatch").message() == "a line starts with a command, not 'by=D1'");
  CHECK(Shape("dispatch A1 unt=WATER by=D1").message() ==
        "unknown key 'unt' for 'dispatch' (did you mean 'unit'?) (allowed: by, at, unit, limit)");
  CHECK(Shape("holiday 2025-04-04 name=x").message() ==
        "unknown key 'name' for 'holiday' (it takes no keys)");
  CHECK(Shape("accept A1").message() ==
        "missing required key 'by' for 'accept' (usage: accept CASE by=… [at=…])");
  CHECK(Shape("accept by=U1").message() == "missing CASE for 'accept' (usage: accept CASE by=… [at=…])");
  CHECK(Shape("route event 0102 by=x").message().find("unknown key 'by' for 'route'") == 0);
  CHECK(Shape("route event 0102").message() ==
        "missing UNIT for 'route' (usage: route KIND CODE UNIT [grid=…])");
  CHECK(Shape("accept A1 A2 by=U1").message() ==
        "unexpected word 'A2' for 'accept' (usage: accept CASE by=… [at=…])");
  CHECK(Shape("accept A1 by=U1 by=U2").message() == "key 'by' given twice");
  CHECK(Shape("reject A1 reason= by=R1").message() == "empty value for key 'reason'");
  CHECK(Shape("report A1 kind=event category=0102 source=hotline emergency=yes by=R1").message() ==
        "'emergency' is a flag: write it without '=' (usage: report CASE by=… kind=… category=… source=… "
        "[at=…] "
        "[grid=…] [component=…] [lat=…] [lon=…] [address=…] [desc=…] [emergency])");
  CHECK(Shape("report A1 kind=event category=0102 source=hotline emergency emergency by=R1").message() ==
        "flag 'emergency' given twice");
  CHECK(Shape("expect A1").message() ==
        "'expect' needs at least one FIELD=VALUE (usage: expect CASE FIELD=VALUE…)");
  CHECK(Shape("rates from=2025-03-01").message().find("missing required key 'to' for 'rates'") == 0);
  CHECK(Shape(R"(show "")").message() == "empty CASE for 'show'");
  for (const char* bad : {"dispach A1", "accept A1", "expect A1", "rates"}) {
    CHECK(Shape(bad).IsInvalidArgument());
  }
}
