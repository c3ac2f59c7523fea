// CheckCommandWords (caseloop/script.h): the shape check the CLI runs on a
// query's arguments before it opens the database.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "caseloop/script.h"

using namespace caseloop;

TEST_CASE("CheckCommandWords: the script language's shape check, without an engine") {
  CHECK(CheckCommandWords({"rates", "from=2025-03-01", "to=2025-04-01"}).ok());
  CHECK(CheckCommandWords({"show", "A1"}).ok());
  CHECK(CheckCommandWords({"show", "A1", "at=2025-04-01T10:00"}).ok());
  CHECK(CheckCommandWords({"overdue"}).ok());
  // A value may hold '=' and blanks: the word splits at its first '='.
  CHECK(CheckCommandWords({"show", "A1", "at=2025-04-01 10:00"}).ok());

  struct Bad {
    std::vector<std::string> words;
    const char* part;
  };
  for (const Bad& b : {Bad{{}, "no command given"}, Bad{{"dispach", "A1"}, "unknown command 'dispach'"},
                       Bad{{"rates", "from=2025-03-01", "to=2025-04-01", "unt=WATER"}, "unknown key 'unt'"},
                       Bad{{"show"}, "missing CASE"}, Bad{{"show", "A1", "B1"}, "B1"},
                       Bad{{"rates", "from=2025-03-01", "from=2025-03-02", "to=2025-04-01"}, "from"}}) {
    Status s = CheckCommandWords(b.words);
    INFO(b.part);
    REQUIRE_FALSE(s.ok());
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(b.part) != std::string::npos);
  }
}
