// The script language's case commands and their keys come from the command
// table (caseloop/commands.h).
#include <doctest/doctest.h>

#include <string_view>
#include <vector>

#include "caseloop/commands.h"
#include "script/syntax.h"

using namespace caseloop;

TEST_CASE("the case commands of the script language and their keys come from the command table") {
  int case_commands = 0;
  for (const script::CommandSpec& line : script::Commands()) {
    if (line.cls == script::CommandClass::kCase) ++case_commands;
  }
  int people = 0;
  for (const caseloop::CommandSpec& c : CommandTable()) {
    const script::CommandSpec* line = script::FindCommand(c.name);
    if (c.engine_only()) {
      CHECK_MESSAGE(line == nullptr, c.name, " is the engine's own command");
      continue;
    }
    ++people;
    REQUIRE_MESSAGE(line != nullptr, c.name);
    CHECK(line->cls == script::CommandClass::kCase);
    CHECK(line->command == &c);
    std::vector<std::string_view> required{"by"}, optional{"at"}, flags;
    for (const CommandField& f : c.fields) {
      if (f.scope != FieldScope::kEverywhere) continue;
      if (f.type == FieldType::kFlag) {
        flags.push_back(f.key);
      } else {
        (f.required ? required : optional).push_back(f.key);
      }
    }
    CHECK(line->required == required);
    CHECK(line->optional == optional);
    CHECK(line->flags == flags);
  }
  CHECK(people == case_commands);
  CHECK(script::Usage(*script::FindCommand("dispatch")) == "dispatch CASE by=… [at=…] [unit=…] [limit=…]");
}
