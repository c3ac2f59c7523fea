// caseloop/commands.h — the lifecycle commands as one table, and the one
// mapping from text fields to a Command.
//
// Each entry says what a command is called, who may issue it, which fields
// it takes (with their types and whether they are required) and which events
// it may produce. Everything that knows about commands reads it: Decide's
// permission check and lifecycle check, the script language's keys, the
// Python bindings' typed methods, an HTTP service's routes and bodies, and
// the command reference docs/commands.md (generated from it and checked by
// tests/domain/commands_test.cc).
//
// Field keys are the same on every surface: a script line
// (`dispatch A1 unit=WATER by=D1`), a JSON body (`{"unit":"WATER"}`), Python
// keywords (`engine.dispatch("A1", unit="WATER", by="D1")`). CommandFromFields
// turns such text fields into a Command; Engine::Submit / Decide then check
// the command itself (a C++ host may also fill a Command directly).
//
// Thread-safety: the table is built once and immutable; functions are pure.
#ifndef CASELOOP_COMMANDS_H_
#define CASELOOP_COMMANDS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/case_types.h"
#include "caseloop/status.h"

namespace caseloop {

// How a field's text is read (CommandFromFields) and what it holds.
enum class FieldType : std::uint8_t {
  kId,        // an id of a case, unit, inspector or staff member: "WATER", "A1"
  kText,      // free text
  kDigits,    // a code of digits: category "0101", grid, component (Decide checks the length)
  kChoice,    // one of `choices`: "component" / "event", "pass" / "fail", ...
  kNumber,    // a decimal number within [min, max]: "36.05"
  kInteger,   // an integer >= 0: "2"
  kDuration,  // a time limit: "4wh", "2h", "1wd" (ParseTimeLimit)
  kTime,      // an instant: "2025-03-31T10:30" (local to the calendar) or with an offset
  kFlag,      // "true" or "false"; in a script line the bare word means true
};
// "id", "text", "digits", "choice", "number", "integer", "duration", "time", "flag".
std::string_view Name(FieldType type);

// Where a field may be given.
enum class FieldScope : std::uint8_t {
  // A key of every surface: script lines, JSON bodies, Python keywords.
  kEverywhere,
  // History imported from another system (CSV import, Python, C++ hosts): a
  // task's given due date or its absence. Not a key of the script language.
  kHistory,
  // Chosen by the host program rather than written in a command: the
  // idempotency key (Python's command_id=, an HTTP Idempotency-Key header).
  // Not a key of the script language.
  kHost,
};

struct CommandField {
  std::string_view key;  // "unit", "desc", "result", "by"
  FieldType type = FieldType::kText;
  // Must be given, and not empty. Decide refuses a command without it
  // (InvalidArgument "<command> <case>: missing <key>"); the script language
  // refuses the line before that.
  bool required = false;
  FieldScope scope = FieldScope::kEverywhere;
  std::vector<std::string_view> choices;  // kChoice: the accepted words, in order
  double min = 0;                         // kNumber: the accepted range
  double max = 0;
  std::string_view partner;  // given together with this other key or not at all ("lat" and "lon")
  std::string_view doc;      // one line: what it means
};

// Who may issue a command when Policy::enforce_permissions is on (domain.md
// §2). An actor that matches any one of the set parts may issue it; an
// unknown actor never may (NotFound "unknown actor X").
struct Issuers {
  std::vector<Role> roles;  // centre staff holding one of these roles
  bool case_unit = false;   // the unit the case is currently dispatched to
  // An inspector; once the case has an assigned verifier, only that one.
  bool inspector = false;
  bool timer = false;  // the engine's deadline timer, actor "$timer"
  // The report's source decides (report only): source=inspector needs an
  // inspector, any other source a staff member with one of `roles`.
  bool by_source = false;
};

// The actor of the engine's own commands (deadline timer, automatic supervision).
inline constexpr char kTimerActor[] = "$timer";

struct CommandSpec {
  CommandType type = CommandType::kReport;
  std::string_view name;     // Name(type): "dispatch"
  std::string_view summary;  // what it does, one line: "sends the case to a unit (派遣)"
  Issuers issuers;
  // The command's own fields, in the order usage lines show them. The fields
  // every command takes (by, at, command_id) are CommonFields().
  std::vector<CommandField> fields;
  // The events it may produce (one per accepted command); the lifecycle
  // check asks the state machine whether any of them is allowed.
  std::vector<EventType> events;

  // Only the engine issues it (mark_overdue): not offered by the script
  // language, Python's typed methods or an HTTP API.
  bool engine_only() const;
  // Its own field `key`, or nullptr.
  const CommandField* Field(std::string_view key) const;
};

// by (the actor, required), at (the command's time, optional), command_id
// (the idempotency key, optional, FieldScope::kHost), in that order.
const std::vector<CommandField>& CommonFields();

// Every lifecycle command, in CommandType order (CommandTable()[i].type ==
// CommandType(i)).
const std::vector<CommandSpec>& CommandTable();
// The entry of `type`. REQUIRES: a valid CommandType.
const CommandSpec& SpecOf(CommandType type);
// The entry named `name` ("dispatch"), or nullptr.
const CommandSpec* FindCommandSpec(std::string_view name);

// Text fields as a script line, a JSON body or keyword arguments give them,
// in the order given: {"unit", "WATER"}, {"by", "D1"}.
using TextFields = std::vector<std::pair<std::string, std::string>>;

// Builds the command `type` on `case_id` from `fields`, keyed by the
// command's own keys and the common ones (any scope). Text-like fields are
// copied as they are (Decide checks them); the others are parsed: times at
// `utc_offset_minutes` unless they carry an offset, durations, numbers,
// choices, flags. An empty value of a text-like field is the same as an
// absent one. Fields are read in the table's order (the command's own, then
// by, command_id, at), so a line with several problems reports the first.
// Required fields are not checked here: Decide reports a missing one.
// Errors: InvalidArgument naming the key and quoting the text, e.g.
//   "unknown key 'unt' for 'dispatch' (allowed: unit, limit, deadline, no_deadline, by, at, command_id)"
//   "key 'by' given twice", "bad kind=thing: expected component or event",
//   "bad number lat=north", "bad lat=91: must be -90 to 90",
//   "lat= and lon= go together: give both or neither",
//   "limit: bad time limit '10x': ...", "at: bad hour 25 in '2025-03-31T25:00'".
Result<Command> CommandFromFields(CommandType type, std::string case_id, const TextFields& fields,
                                  int utc_offset_minutes);

// The command reference (docs/commands.md between its generated markers):
// one section per command with who may issue it, its fields and its events.
std::string CommandTableMarkdown();

}  // namespace caseloop

#endif  // CASELOOP_COMMANDS_H_
