// The commands of the caseloop script language: their positional arguments,
// required and optional keys and flags, and the shape check that turns the
// words of a line into Args (private to src/script and the CLI). The case
// commands and their keys come from the command table (caseloop/commands.h).
//
// Thread-safety: the command table is immutable; functions are pure.
#ifndef CASELOOP_SCRIPT_SYNTAX_H_
#define CASELOOP_SCRIPT_SYNTAX_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/commands.h"
#include "caseloop/status.h"
#include "script/lexer.h"

namespace caseloop::script {

enum class CommandClass {
  kSetup,   // calendar, holiday, ... -> Engine::Configure
  kClock,   // at, advance
  kCase,    // report ... supervise -> Engine::Submit (all take by= and at=)
  kQuery,   // show, history, rates, inspectors, centre, overdue, workload, redispatch
  kExpect,  // expect CASE field=value ...
};

struct CommandSpec {
  std::string_view name;
  CommandClass cls = CommandClass::kSetup;
  std::vector<std::string_view> positionals;       // in order, as shown in usage ("CASE")
  std::vector<std::string_view> required;          // keys that must be present and non-empty
  std::vector<std::string_view> optional;          // keys that may be present
  std::vector<std::string_view> flags;             // bare words that may follow the positionals
  bool free_keys = false;                          // expect: any key (checked later)
  const caseloop::CommandSpec* command = nullptr;  // kCase: its entry in the command table
};

// Every command, in the order docs/cli.md lists them.
const std::vector<CommandSpec>& Commands();
// nullptr for an unknown command.
const CommandSpec* FindCommand(std::string_view name);
// "dispatch CASE by=… [at=…] [unit=…] [limit=…]".
std::string Usage(const CommandSpec& spec);

// A line checked against its command's spec.
struct Args {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> positionals;
  std::vector<std::pair<std::string, std::string>> keys;  // in the order written
  std::vector<std::string> flags;

  const std::string* Find(std::string_view key) const;
  // The value of `key`, or "" when absent.
  std::string Get(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  bool HasFlag(std::string_view flag) const;
};

// Checks the shape of a line: a known command, the positional arguments it
// needs and no more, only its keys (each once), its required keys non-empty,
// flags without '='. `words` must be non-empty. Errors: InvalidArgument, e.g.
// "unknown command 'dispach' (did you mean 'dispatch'?)",
// "unknown key 'unt' for 'dispatch' (allowed: by, at, unit, limit)",
// "missing required key 'by' for 'accept'", "missing CASE for 'accept' (usage: ...)".
Result<Args> ParseArgs(const std::vector<Word>& words);

}  // namespace caseloop::script

#endif  // CASELOOP_SCRIPT_SYNTAX_H_
