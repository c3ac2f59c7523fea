// How each key of the command table reads and writes a Command (private to
// src/domain; the public side is caseloop/commands.h). Decide uses it to
// check required fields and the text of every field from the table alone.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_DOMAIN_COMMAND_FIELDS_H_
#define CASELOOP_DOMAIN_COMMAND_FIELDS_H_

#include <string>
#include <string_view>

#include "caseloop/case.h"
#include "caseloop/commands.h"

namespace caseloop::command_fields {

// Whether `command` carries the field `key` (a non-empty text, a set
// optional, a true flag, a non-zero task). False for an unknown key.
bool Given(const Command& command, std::string_view key);

// The text of the text-like field `key` (kId, kText, kDigits) of `command`,
// or nullptr when `key` is not text-like.
const std::string* Text(const Command& command, std::string_view key);

}  // namespace caseloop::command_fields

#endif  // CASELOOP_DOMAIN_COMMAND_FIELDS_H_
