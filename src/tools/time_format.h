// tools/time_format.h — times in a strptime format, as CSV exports write
// them (private to src/tools; ImportCsv's --time-format).
#ifndef CASELOOP_TOOLS_TIME_FORMAT_H_
#define CASELOOP_TOOLS_TIME_FORMAT_H_

#include <string>
#include <string_view>

#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop::tools {

// Refuses a strptime format whose clock strptime would read wrongly, without
// a word: a 24-hour hour (%H, %k, %R, %T, %X, %c) with AM/PM (%p), whose AM/PM
// glibc ignores (every PM time 12 hours early), and a 12-hour hour (%I, %l)
// without AM/PM, which glibc reads as AM. Errors: InvalidArgument naming the
// format, the conversions and the way out.
Status CheckTimeFormat(const std::string& format);

// Parses `text` with a strptime format (e.g. "%m/%d/%Y %I:%M:%S %p") as local
// time at `offset_minutes` east of UTC. The whole text must match (surrounding
// blanks aside) and name a real date, years 1970..9999. Errors:
// InvalidArgument naming the text and the format, or CheckTimeFormat's.
Result<Instant> ParseTimeWithFormat(std::string_view text, const std::string& format, int offset_minutes);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_TIME_FORMAT_H_
