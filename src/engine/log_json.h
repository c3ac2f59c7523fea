// Decoding of stored records into LoggedEvent, and the JSON text of a
// configuration change's fields (the counterpart of CaseEventFieldsJson).
//
// Thread-safety: pure functions.
#ifndef CASELOOP_ENGINE_LOG_JSON_H_
#define CASELOOP_ENGINE_LOG_JSON_H_

#include <string>

#include "caseloop/config.h"
#include "caseloop/engine.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop {

// The fields of `change` that its type names, as one JSON object text, e.g.
// {"id":"WATER","name":"水务局"} for unit_defined or
// {"tz":"+08:00","workdays":"mon-fri","periods":"09:00-12:00,13:00-17:00"} for calendar_set.
std::string ConfigChangeFieldsJson(const ConfigChange& change);

// Decodes a record of the log: a case event (event + CaseEventFieldsJson at
// `offset_minutes`), a "$config" change (event nullopt, its fields), or a
// record of another "$" stream (event nullopt, fields "{}"). Errors:
// Corruption naming the position, stream and type of a payload that does not
// decode.
Result<LoggedEvent> DecodeLoggedEvent(EventRecord record, int offset_minutes);

}  // namespace caseloop

#endif  // CASELOOP_ENGINE_LOG_JSON_H_
