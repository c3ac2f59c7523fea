// HtmlEscape (tools/html.h).
#include "tools/html.h"

namespace caseloop::tools {

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters other than tab / newline are not valid HTML text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += "&#xFFFD;";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace caseloop::tools
