// tools/text_table.h — aligned text tables for a terminal (private to
// src/tools; the demo's rankings).
#ifndef CASELOOP_TOOLS_TEXT_TABLE_H_
#define CASELOOP_TOOLS_TEXT_TABLE_H_

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace caseloop::tools {

// Width of UTF-8 text on a terminal: East Asian wide characters count 2.
// Invalid bytes count as one narrow character each.
int DisplayWidth(std::string_view text);
// Pads `text` with spaces to `width` display columns (left or right aligned).
std::string PadRight(std::string_view text, int width);
std::string PadLeft(std::string_view text, int width);

// The rows as lines (each ending in '\n') of columns two spaces apart, each
// column as wide as its widest cell: the columns in `left` aligned left, the
// others right; trailing blanks removed. REQUIRES: every row has as many
// cells as the first.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows, const std::set<std::size_t>& left);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_TEXT_TABLE_H_
