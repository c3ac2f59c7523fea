// tools/html.h — text for HTML (private to src/tools; the report).
#ifndef CASELOOP_TOOLS_HTML_H_
#define CASELOOP_TOOLS_HTML_H_

#include <string>
#include <string_view>

namespace caseloop::tools {

// Text for HTML element content and attribute values: & < > " ' escaped,
// control characters other than tab and newline replaced by U+FFFD.
std::string HtmlEscape(std::string_view text);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_HTML_H_
