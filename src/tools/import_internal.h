// tools/import_internal.h — ImportCsv with its submission path chosen, for
// the tests and the benchmark (private to src/tools).
#ifndef CASELOOP_TOOLS_IMPORT_INTERNAL_H_
#define CASELOOP_TOOLS_IMPORT_INTERNAL_H_

#include <iosfwd>

#include "caseloop/engine.h"
#include "caseloop/status.h"
#include "caseloop/tools.h"

namespace caseloop {

// ImportCsv (caseloop/tools.h) with its submission path chosen. bulk = true is
// what ImportCsv does: rows go to Engine::SubmitBatch in chunks, one atomic
// append per row. bulk = false submits every command on its own (SubmitAsync,
// command ids "import/<case>/<step>"); it appends the same events and is the
// reference the bulk path is tested against.
Result<ImportSummary> ImportCsvPath(Engine& engine, const ImportOptions& options, std::ostream& out,
                                    std::ostream& err, bool bulk);

}  // namespace caseloop

#endif  // CASELOOP_TOOLS_IMPORT_INTERNAL_H_
