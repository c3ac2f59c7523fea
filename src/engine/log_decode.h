// Decoding of stored records into LoggedEvent (caseloop/engine.h). The JSON
// of a logged event is caseloop/json.h's business, not the engine's.
//
// Thread-safety: pure functions.
#ifndef CASELOOP_ENGINE_LOG_DECODE_H_
#define CASELOOP_ENGINE_LOG_DECODE_H_

#include "caseloop/engine.h"
#include "caseloop/event_store.h"

namespace caseloop {

// Decodes a record of the log: a case event (`event`), a "$config" change
// (`change`), or a record of another "$" stream (nothing). A payload that
// does not decode leaves both unset, with `decode_status` a Corruption
// naming the position, stream and type.
LoggedEvent DecodeLoggedEvent(EventRecord record);

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_LOG_DECODE_H_
