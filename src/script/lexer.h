// Splitting one line of the caseloop script language into words (private to
// src/script; see docs/cli.md for the language).
//
//   word       := (bare | quoted)+           bare: any char but space, tab, '"'
//   quoted     := '"' ( char | '\"' | '\\' )* '"'
//   keyed word := key '=' value               the first unquoted '=' splits it
//   '#' at the start of a word begins a comment that runs to the end of the line.
//
// Limits (docs/cli.md): a line of at most kMaxLineBytes bytes, a word (key or
// value) of at most kMaxWordBytes. A script is read a line at a time and
// never held whole, so these bound the memory a script can take.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_SCRIPT_LEXER_H_
#define CASELOOP_SCRIPT_LEXER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/status.h"

namespace caseloop::script {

inline constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t kMaxWordBytes = std::size_t{1} << 16;  // 64 KiB

struct Word {
  bool keyed = false;  // key=value (true) or a bare word (false)
  std::string key;     // keyed words only
  std::string value;   // the word itself, or the value of key=value (quotes removed)
  int column = 0;      // 1-based column where the word starts (0 for argv words)
};

// Splits `line`. Blank lines and comments give an empty vector. Errors:
// InvalidArgument for an unterminated quote ("unterminated quote opened at
// column 17"), for a word that starts with '=' (no key), and for a key or
// value longer than kMaxWordBytes ("the word at column 12 is longer than
// 65536 bytes").
Result<std::vector<Word>> SplitLine(std::string_view line);

// A word from a command-line argument, already split by the shell: split at
// the first '=' into key and value, no quote processing.
Word WordFromArg(std::string_view arg);

// The text of a word as it would be written in a script (value quoted when it
// needs quotes). SplitLine(QuoteWord(w)) gives w back (column aside).
std::string QuoteWord(const Word& w);

}  // namespace caseloop::script

#endif  // CASELOOP_SCRIPT_LEXER_H_
