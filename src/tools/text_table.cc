// Aligned text tables (tools/text_table.h).
#include "tools/text_table.h"

#include <algorithm>

namespace caseloop::tools {

namespace {

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes count as one
// narrow character.
char32_t NextCodePoint(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return cp;
}

bool IsWide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0x33FF) ||
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
         (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

}  // namespace

int DisplayWidth(std::string_view text) {
  int w = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = NextCodePoint(text, i);
    w += IsWide(cp) ? 2 : 1;
  }
  return w;
}

std::string PadRight(std::string_view text, int width) {
  std::string out(text);
  int w = DisplayWidth(text);
  if (w < width) out.append(static_cast<std::size_t>(width - w), ' ');
  return out;
}

std::string PadLeft(std::string_view text, int width) {
  int w = DisplayWidth(text);
  std::string out;
  if (w < width) out.append(static_cast<std::size_t>(width - w), ' ');
  out += text;
  return out;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows,
                        const std::set<std::size_t>& left) {
  if (rows.empty()) return "";
  std::vector<int> width(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], DisplayWidth(r[i]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) {
      if (i) line += "  ";
      line += left.count(i) ? PadRight(r[i], width[i]) : PadLeft(r[i], width[i]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace caseloop::tools
