// The CLI's exit statuses (docs/cli.md) and its two ways of failing, shared
// by every subcommand's file (main.cc, serve_command.cc, ops_command.cc).
#pragma once

#include <iostream>
#include <string>

#include "caseloop/status.h"

namespace caseloop_cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;  // a line or command was refused or invalid
inline constexpr int kExitUsage = 2;    // the command line itself is wrong
inline constexpr int kExitStorage = 3;  // corruption, I/O, the database is locked

inline int ExitCodeFor(const caseloop::Status& s) {
  if (s.ok()) return kExitOk;
  if (s.IsCorruption() || s.IsIOError() || s.IsUnavailable()) return kExitStorage;
  return kExitRefused;
}

// Prints "error: MESSAGE" and returns the exit status for `s`.
inline int Fail(const caseloop::Status& s) {
  std::cerr << "error: " << s.message() << '\n';
  return ExitCodeFor(s);
}

// A wrong command line: prints the message and a hint, returns 2.
inline int UsageError(const std::string& message) {
  std::cerr << "error: " << message << "\nRun with --help for more information.\n";
  return kExitUsage;
}

}  // namespace caseloop_cli
