// tools/output_file.h — writing a whole output file (private to src/tools).
#ifndef CASELOOP_TOOLS_OUTPUT_FILE_H_
#define CASELOOP_TOOLS_OUTPUT_FILE_H_

#include <string>
#include <string_view>

#include "caseloop/status.h"

namespace caseloop::tools {

// Writes `content` as the whole of the file `path`. A regular file (or a new
// one) is written to a temporary file beside it ("PATH.tmp.PID"), synced and
// renamed over it: a reader never sees half of it, and a failed write leaves
// neither a temporary file nor a changed `path` behind. Any other kind of file
// (a character device such as /dev/stdout or /dev/full, a pipe) is written
// directly. Errors: IOError "cannot write 'PATH': <the system's reason>" (a
// directory, a missing directory, no permission, a full disk).
Status WriteWholeFile(const std::string& path, std::string_view content);

}  // namespace caseloop::tools

#endif  // CASELOOP_TOOLS_OUTPUT_FILE_H_
