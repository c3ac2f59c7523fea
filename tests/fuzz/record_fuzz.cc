// Fuzz target: the event record envelope (src/store/record_codec.h) and the
// case event payload codec (DecodeCaseEvent), then Evolve and the JSON views
// of whatever decodes.
//
// Input: byte 0 chooses the mode.
//   even: the rest is an encoded record: DecodeRecord must never crash; a
//         decoded record re-encodes to exactly the input bytes (the layout has
//         one encoding per record) and DecodeRecordView agrees with
//         DecodeRecord; its payload goes on to DecodeCaseEvent.
//   odd:  byte 1 picks the event type, byte 2 the schema version, the rest
//         is a payload handed straight to DecodeCaseEvent (the CRC of the
//         envelope would otherwise keep the fuzzer out of the payload codec).
// Properties: no crash, no exception, no sanitizer report; a decoded event
// re-encodes and decodes to the same fields.
#include <cstdint>
#include <string>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/json.h"
#include "fuzz_util.h"
#include "store/record_codec.h"

using namespace caseloop;
using caseloop::fuzz::FuzzCheck;

namespace {

const Config& DefaultDistrict() {
  static const Config config = [] {
    Config c;
    for (const ConfigChange& change : DefaultConfigChanges()) (void)ApplyConfigChange(c, change);
    return c;
  }();
  return config;
}

void Envelope(const EventRecord& a, const EventRecord& b) {
  FuzzCheck(a.position == b.position && a.stream == b.stream && a.version == b.version && a.type == b.type &&
                a.schema_version == b.schema_version && a.recorded_us == b.recorded_us &&
                a.event_id == b.event_id && a.command_id == b.command_id &&
                a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
                a.actor == b.actor && a.payload == b.payload,
            "DecodeRecord(EncodeRecord(r)) != r");
}

void CaseEventPath(const EventRecord& record) {
  Result<CaseEvent> event = DecodeCaseEvent(record);
  if (!event.ok()) {
    FuzzCheck(event.status().IsCorruption(), "DecodeCaseEvent error is not Corruption",
              event.status().ToString());
    return;
  }
  const std::string json = CaseEventFieldsJson(*event, 8 * 60);
  // Round trip through the encoder.
  NewEvent encoded = EncodeCaseEvent(*event);
  EventRecord again = record;
  again.type = encoded.type;
  again.schema_version = encoded.schema_version;
  again.recorded_us = encoded.recorded_us;
  again.actor = encoded.actor;
  again.payload = encoded.payload;
  Result<CaseEvent> redecoded = DecodeCaseEvent(again);
  FuzzCheck(redecoded.ok(), "a re-encoded case event does not decode", redecoded.status().ToString());
  FuzzCheck(CaseEventFieldsJson(*redecoded, 8 * 60) == json, "case event round trip changed its fields",
            json + "\n" + CaseEventFieldsJson(*redecoded, 8 * 60));
  // Replay it on a fresh case and view the result (a lone event must either
  // apply or be refused as Corruption).
  CaseState state;
  state.id = record.stream;
  Status s = Evolve(state, *event, DefaultDistrict());
  if (s.ok()) {
    (void)ViewCase(state, DefaultDistrict(), event->time);
  } else {
    FuzzCheck(s.IsCorruption(), "Evolve error is not Corruption", s.ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 20)) return 0;
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    std::string_view bytes = in.Rest();
    Result<EventRecord> r = DecodeRecord(bytes, mode == 2 ? 7 : 0);
    Result<EventRecordView> view = DecodeRecordView(bytes, mode == 2 ? 7 : 0);
    FuzzCheck(view.ok() == r.ok(), "DecodeRecordView and DecodeRecord disagree");
    if (!r.ok()) {
      FuzzCheck(r.status().IsCorruption(), "DecodeRecord error is not Corruption", r.status().ToString());
      FuzzCheck(view.status().message() == r.status().message(), "DecodeRecordView error differs",
                view.status().ToString());
      return 0;
    }
    Envelope(*r, ToRecord(*view));
    std::string encoded = EncodeRecord(*r);
    FuzzCheck(encoded == bytes, "EncodeRecord(DecodeRecord(bytes)) != bytes");
    Result<EventRecord> again = DecodeRecord(encoded, r->position);
    FuzzCheck(again.ok(), "a re-encoded record does not decode", again.status().ToString());
    Envelope(*r, *again);
    CaseEventPath(*r);
    return 0;
  }
  EventRecord record;
  record.position = 1;
  record.stream = "C1";
  record.version = 1;
  const std::uint8_t type = in.Byte();
  record.type = type < kEventTypeCount ? std::string(Name(static_cast<EventType>(type))) : "no_such_type";
  record.schema_version = in.Byte() % 4;
  record.recorded_us = 1743388200000000LL;
  record.actor = "I1";
  record.payload = std::string(in.Rest());
  CaseEventPath(record);
  return 0;
}
