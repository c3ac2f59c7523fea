// caseloop/script.h — the caseloop script language (one command per line),
// shared by the CLI, the Python bindings and the tests.
//
//   # comment
//   calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
//   unit WATER name="水务局"
//   at 2025-03-31T10:30
//   dispatch A1 by=D1
//   expect A1 state=dispatched deadline=2025-03-31T15:30:00+08:00
//   show A1
//
// Setup lines become configuration events; case lines become commands at the
// script clock (a manual clock: `at TIME` / `advance DUR`, or a line's own
// `at=TIME`); queries print one JSON object per line. See docs/cli.md.
//
// Thread-safety: a ScriptSession is used by one thread at a time.
#ifndef CASELOOP_SCRIPT_H_
#define CASELOOP_SCRIPT_H_

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/engine.h"
#include "caseloop/status.h"

namespace caseloop {

struct ScriptOptions {
  // Continue after a refused or invalid line (the run still fails at the end).
  // Default: false.
  bool keep_going = false;
  // Print "ok N" on the output after line N's command is durably acknowledged.
  // Default: false.
  bool echo = false;
  // The system clock: queries without at= evaluate at the system time
  // instead of the latest recorded instant, and the script clock is the
  // system time — each command and setup line is stamped with the time it
  // runs at, and `at`, `advance` and a command's at= are refused (a database
  // whose latest recorded instant is after the system time refuses commands).
  // Default: false (the manual script clock).
  bool system_now = false;
  // The command id (idempotency key) under which the session's setup lines
  // append their configuration changes (Engine::ConfigureOnce): a change
  // appended under it before is not appended again. For a session that runs
  // one setup line (an HTTP configuration verb). Default: "" (none).
  std::string config_command_id;
};

class ScriptSession {
 public:
  // REQUIRES: `engine` outlives the session and was opened with a manual
  // clock (EngineOptions::clock = a ManualClock). The script clock starts at
  // the engine's latest recorded instant.
  static Result<std::unique_ptr<ScriptSession>> Create(Engine* engine, const ScriptOptions& options = {});
  virtual ~ScriptSession() = default;

  // Executes one line. Returns the JSON objects it prints (one string each,
  // no newline); empty for commands, comments and blank lines. `line_no` is
  // used in messages only. Errors: InvalidArgument for a malformed line
  // (message names the problem, e.g. "unknown command 'dispach'"), and the
  // engine's errors for refused commands; an `expect` mismatch is Rejected
  // naming the field, the expected and the actual value.
  virtual Result<std::vector<std::string>> Execute(std::string_view line, int line_no = 0) = 0;

  // Executes one command given as separate words, as a shell passes them to
  // the CLI (e.g. {"show", "A1", "at=2025-04-01T10:00"}): each word splits at
  // its first '=' into key and value; no quotes, no comments. Same results
  // and errors as Execute.
  virtual Result<std::vector<std::string>> ExecuteWords(const std::vector<std::string>& words,
                                                        int line_no = 0) = 0;

  // Runs a whole script: JSON lines (and "ok N" with echo) to `out`, errors
  // as "line N: message" to `err`. Returns OK, or the first error (after
  // running on with keep_going). The setup lines before the first clock
  // line, case command or query are checked as they are read and applied
  // only once that line is known to be good (or at the end): a script that
  // fails on a setup or clock line before its first command applies nothing
  // of it (without keep_going).
  virtual Status Run(std::istream& in, std::ostream& out, std::ostream& err) = 0;

  // The script clock.
  virtual Instant Now() const = 0;

  // The acknowledgment of the last configuration change this session
  // appended (or found appended before under
  // ScriptOptions::config_command_id: duplicate = true); nullopt before the
  // first. (Not pure: a session written elsewhere gives nullopt.)
  virtual std::optional<CommandAck> LastConfigAck() const { return std::nullopt; }
};

// Checks the shape of one command given as separate words, as ExecuteWords
// takes them, without running it (no engine needed): a known command, the
// positional arguments it needs and no more, only its keys (each once), its
// required keys non-empty. The CLI checks a query's arguments this way before
// it opens the database. Errors: InvalidArgument with the message
// ExecuteWords would give (e.g. "unknown key 'unt' for 'rates' (allowed: …)").
Status CheckCommandWords(const std::vector<std::string>& words);

}  // namespace caseloop

#endif  // CASELOOP_SCRIPT_H_
