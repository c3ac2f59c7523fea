// UTF-8 validity, and text as an error message may quote it (not installed).
//
// Ids and text fields of commands and configuration changes are valid UTF-8
// or refused (docs/reliability.md): otherwise "X\xff", "X\xfe" and
// "X\uFFFD" would be three cases that print as the same text. Messages quote
// what the user wrote through Printable, so a raw NUL, an invalid byte or a
// 10 MB word never reaches a terminal or a log as it is.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_CORE_UTF8_H_
#define CASELOOP_CORE_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "caseloop/status.h"

namespace caseloop {

// The offset of the first byte of `s` that does not start a well-formed UTF-8
// sequence (overlong forms, surrogates, code points above U+10FFFF and
// truncated sequences are not), or std::string_view::npos when all of `s` is.
std::size_t FirstInvalidUtf8(std::string_view s);
inline bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

// OK when `s` is valid UTF-8; else InvalidArgument
// "<what> is not valid UTF-8 (byte 0xFF at offset 3)".
Status CheckUtf8(std::string_view s, std::string_view what);

// How much of a user's text a message quotes.
inline constexpr std::size_t kQuotedBytes = 80;

// `s` as a message may show it: control characters (C0, DEL, C1) and bytes
// that are not valid UTF-8 written as \xNN (C1 as \u0085), everything else as
// it is; at most about `max_bytes` of it, and when cut, "…" and the whole
// length ("dddd… (10000000 bytes)"). Valid text without control characters
// that fits comes back unchanged. Idempotent: Printable(Printable(s)) ==
// Printable(s) for text that fits.
std::string Printable(std::string_view s, std::size_t max_bytes = kQuotedBytes);

// "'" + Printable(s, max_bytes) + "'".
std::string QuotedText(std::string_view s, std::size_t max_bytes = kQuotedBytes);

}  // namespace caseloop

#endif  // CASELOOP_CORE_UTF8_H_
