// The progress line of import and demo (tools/progress_bar.h): rate and time
// left (issue 22), and nothing at all when it is off (not a terminal).
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "tools/progress_bar.h"

using namespace caseloop::tools;

namespace {

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  return text;
}

}  // namespace

TEST_CASE("progress line: fraction, count, rate, time left") {
  CHECK(GroupThousands(0) == "0");
  CHECK(GroupThousands(999) == "999");
  CHECK(GroupThousands(1000) == "1,000");
  CHECK(GroupThousands(1234567) == "1,234,567");
  CHECK(GroupThousands(-1234) == "-1,234");
  // Half done in 10 s: 10 s left, 1,200 rows/s.
  CHECK(ProgressLine("import", 0.5, 12000, "rows", 10.0, false) ==
        "import [###############---------------]  50% 12,000 rows 1,200 rows/s ETA 0:10");
  // A quarter done in 20 minutes: an hour left.
  CHECK(ProgressLine("demo", 0.25, 90000, "commands", 1200.0, false, "day 23/90") ==
        "demo [########----------------------]  25% 90,000 commands 75 commands/s ETA 1:00:00 (day 23/90)");
  // Too early to tell.
  CHECK(ProgressLine("import", 0.0, 0, "rows", 0.1, false) ==
        "import [------------------------------]   0% 0 rows - rows/s ETA -");
  // Finished: the total time.
  CHECK(ProgressLine("import", 1.0, 4995, "rows", 2.04, true) ==
        "import [##############################] 100% 4,995 rows 2,449 rows/s in 2.0 s");
}

TEST_CASE("progress bar: drawn with carriage returns when on, nothing when off") {
  std::FILE* on = std::tmpfile();
  std::FILE* off = std::tmpfile();
  REQUIRE(on != nullptr);
  REQUIRE(off != nullptr);
  {
    ProgressBar a(true, "import", "rows", on);
    ProgressBar b(false, "import", "rows", off);
    a.Update(0.5, 10);
    b.Update(0.5, 10);
    a.Finish();
    a.Finish();  // once
  }              // b's destructor finishes it: still nothing
  const std::string drawn = ReadAll(on);
  CHECK(drawn.rfind("\rimport [", 0) == 0);
  CHECK(drawn.find(" 50% 10 rows ") != std::string::npos);
  CHECK(drawn.find("100% 10 rows") != std::string::npos);
  CHECK(drawn.back() == '\n');
  CHECK(drawn.find('\n') == drawn.size() - 1);
  CHECK(ReadAll(off).empty());
  std::fclose(on);
  std::fclose(off);
}
