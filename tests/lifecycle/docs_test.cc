// docs/lifecycle.md carries the generated transition table; this test keeps
// it in step with the machine. To regenerate after changing the table:
//   CASELOOP_UPDATE_DOCS=1 ./build/bin/lifecycle_test -tc='docs*'
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "lifecycle/case_machine.h"

using namespace caseloop;

namespace {

constexpr char kBegin[] = "<!-- BEGIN GENERATED: CaseMachine::TableMarkdown() -->\n";
constexpr char kEnd[] = "<!-- END GENERATED -->";

void CheckDoc(const std::string& kPath) {
  std::ifstream in(kPath, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read ", kPath);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  in.close();

  const std::size_t begin = text.find(kBegin);
  const std::size_t end = text.find(kEnd);
  REQUIRE_MESSAGE(begin != std::string::npos, kPath, " lacks the marker line ", kBegin);
  REQUIRE_MESSAGE(end != std::string::npos, kPath, " lacks the marker line ", kEnd);
  REQUIRE_MESSAGE(begin < end, kPath, ": the begin marker must come before the end marker");

  const std::size_t from = begin + sizeof(kBegin) - 1;
  const std::string current = text.substr(from, end - from);
  const std::string wanted = CaseMachine::TableMarkdown();

  const char* update = std::getenv("CASELOOP_UPDATE_DOCS");
  if (update != nullptr && std::string(update) == "1" && current != wanted) {
    text.replace(from, end - from, wanted);
    std::ofstream out(kPath, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE_MESSAGE(out.good(), "cannot write ", kPath);
    MESSAGE("rewrote the table in ", kPath);
    return;
  }
  CHECK_MESSAGE(current == wanted, kPath,
                " is out of date with the transition table; regenerate it with\n"
                "  CASELOOP_UPDATE_DOCS=1 <build>/bin/lifecycle_test -tc='docs*'\n"
                "and commit the result. Expected between the markers:\n",
                wanted);
}

}  // namespace

TEST_CASE("docs/lifecycle.md and docs/design.md hold the current TableMarkdown()") {
  CheckDoc(std::string(CASELOOP_SOURCE_DIR) + "/docs/lifecycle.md");
  CheckDoc(std::string(CASELOOP_SOURCE_DIR) + "/docs/design.md");
}
