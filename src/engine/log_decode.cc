#include "engine/log_decode.h"

#include <string>
#include <utility>

#include "caseloop/case.h"
#include "caseloop/config.h"

namespace caseloop {
namespace {

Status Undecodable(const EventRecord& record, const Status& why) {
  return Status::Corruption("log position " + std::to_string(record.position) + " (stream " + record.stream +
                            ", type " + record.type + "): " + why.message());
}

}  // namespace

LoggedEvent DecodeLoggedEvent(EventRecord record) {
  LoggedEvent out;
  if (record.stream == kConfigStream) {
    Result<ConfigChange> change = DecodeConfigChange(record.payload, record.schema_version);
    if (change.ok()) {
      out.change = std::move(change).value();
    } else {
      out.decode_status = Undecodable(record, change.status());
    }
  } else if (record.stream.empty() || record.stream[0] != '$') {
    Result<CaseEvent> event = DecodeCaseEvent(record);
    if (event.ok()) {
      out.event = std::move(event).value();
    } else {
      out.decode_status = Undecodable(record, event.status());
    }
  }
  out.record = std::move(record);
  return out;
}

}  // namespace caseloop
