// Case event codec (caseloop/case.h); the JSON of an event's fields is in
// caseloop/json.h.
//
// Envelope: NewEvent.type = Name(EventType) ("case_dispatched"), schema
// version kCaseEventSchemaVersion, recorded_us = event time, actor.
//
// Payload, schema version 1 (cereal PortableBinary, little-endian):
//   uint32 presence mask, then for every set bit i, in increasing i, field i:
//     0 case_id string          8 description string     16 deadline int64 µs
//     1 kind uint8             9 emergency bool         17 task uint32
//     2 category string       10 into string            18 remaining_us int64
//     3 source uint8          11 unit string            19 verifier string
//     4 grid string           12 reason string          20 on_time bool
//     5 component string      13 note string            21 request uint8
//     6 lat double            14 limit.unit uint8,
//     7 lon double               limit.amount int64
//     15 address string
// Schema version 2 (Open311 reports) adds, after field 21:
//    22 media_url string     24 attributes: uint32 count, then count pairs
//    23 address_id string       of (code string, value string)
//    25 contact: uint8 sub-mask, then for every set bit j, in increasing j,
//       a string: 0 email, 1 device_id, 2 account_id, 3 first_name,
//       4 last_name, 5 phone
// A schema-1 payload has no bit above 21 (one is Corruption); it decodes
// with these fields empty, so the upcaster from 1 to 2 has nothing to do.
// A field whose bit is clear has its default value (empty, 0, false, null);
// so a payload carries exactly the fields that mean something for its event.
// An unknown bit is a Corruption error.
// On-disk format: never renumber bits; a new field takes a new bit (and,
// when old readers must refuse it, a new schema version with an upcaster).
#include <fmt/format.h>

#include <iterator>
#include <sstream>

#include "caseloop/case.h"
#include "domain/codec_util.h"

namespace caseloop {
namespace {

enum Field : int {
  kFCaseId = 0,
  kFKind,
  kFCategory,
  kFSource,
  kFGrid,
  kFComponent,
  kFLat,
  kFLon,
  kFDescription,
  kFEmergency,
  kFInto,
  kFUnit,
  kFReason,
  kFNote,
  kFLimit,
  kFAddress,
  kFDeadline,
  kFTask,
  kFRemaining,
  kFVerifier,
  kFOnTime,
  kFRequest,
  kFieldCountV1,  // schema 1 ends here
  kFMediaUrl = kFieldCountV1,
  kFAddressId,
  kFAttributes,
  kFContact,
  kFieldCount
};

// The reporter's contact, in the order of the sub-mask bits (on disk: never reorder).
std::string ReporterContact::*const kContactFields[] = {
    &ReporterContact::email,      &ReporterContact::device_id, &ReporterContact::account_id,
    &ReporterContact::first_name, &ReporterContact::last_name, &ReporterContact::phone};

// Kind and source are meaningful (even at their zero value) for these events.
bool CarriesClassification(EventType t) {
  return t == EventType::kCaseReported || t == EventType::kCaseRegistered;
}

std::uint32_t PresenceMask(const CaseEvent& e) {
  std::uint32_t m = 0;
  auto set = [&m](int bit, bool on) {
    if (on) m |= 1u << bit;
  };
  set(kFCaseId, !e.case_id.empty());
  set(kFKind, CarriesClassification(e.type) || e.kind != CaseKind::kEvent);
  set(kFCategory, !e.category.empty());
  set(kFSource, e.type == EventType::kCaseReported || e.source != ReportSource::kInspector);
  set(kFGrid, !e.grid.empty());
  set(kFComponent, !e.component.empty());
  set(kFLat, e.lat.has_value());
  set(kFLon, e.lon.has_value());
  set(kFDescription, !e.description.empty());
  set(kFEmergency, e.emergency);
  set(kFInto, !e.into.empty());
  set(kFUnit, !e.unit.empty());
  set(kFReason, !e.reason.empty());
  set(kFNote, !e.note.empty());
  set(kFLimit, e.limit.has_value());
  set(kFAddress, !e.address.empty());
  set(kFDeadline, e.deadline.has_value());
  set(kFTask, e.task != 0);
  set(kFRemaining, e.remaining_us != 0);
  set(kFVerifier, !e.verifier.empty());
  set(kFOnTime, e.on_time.has_value());
  set(kFRequest, e.request != PendingRequest::kNone);
  set(kFMediaUrl, !e.media_url.empty());
  set(kFAddressId, !e.address_id.empty());
  set(kFAttributes, !e.attributes.empty());
  set(kFContact, !e.contact.empty());
  return m;
}

std::string EncodePayload(const CaseEvent& e) {
  std::ostringstream os;
  {
    codec::Out ar(os);
    const std::uint32_t m = PresenceMask(e);
    ar(m);
    auto has = [m](int bit) { return (m >> bit) & 1u; };
    if (has(kFCaseId)) ar(e.case_id);
    if (has(kFKind)) codec::PutEnum(ar, e.kind);
    if (has(kFCategory)) ar(e.category);
    if (has(kFSource)) codec::PutEnum(ar, e.source);
    if (has(kFGrid)) ar(e.grid);
    if (has(kFComponent)) ar(e.component);
    if (has(kFLat)) ar(*e.lat);
    if (has(kFLon)) ar(*e.lon);
    if (has(kFDescription)) ar(e.description);
    if (has(kFEmergency)) ar(e.emergency);
    if (has(kFInto)) ar(e.into);
    if (has(kFUnit)) ar(e.unit);
    if (has(kFReason)) ar(e.reason);
    if (has(kFNote)) ar(e.note);
    if (has(kFLimit)) codec::PutLimit(ar, *e.limit);
    if (has(kFAddress)) ar(e.address);
    if (has(kFDeadline)) codec::PutInstant(ar, *e.deadline);
    if (has(kFTask)) ar(e.task);
    if (has(kFRemaining)) ar(e.remaining_us);
    if (has(kFVerifier)) ar(e.verifier);
    if (has(kFOnTime)) ar(*e.on_time);
    if (has(kFRequest)) codec::PutEnum(ar, e.request);
    if (has(kFMediaUrl)) ar(e.media_url);
    if (has(kFAddressId)) ar(e.address_id);
    if (has(kFAttributes)) {
      ar(static_cast<std::uint32_t>(e.attributes.size()));
      for (const auto& [code, value] : e.attributes) ar(code, value);
    }
    if (has(kFContact)) {
      std::uint8_t sub = 0;
      for (std::size_t j = 0; j < std::size(kContactFields); ++j) {
        if (!(e.contact.*kContactFields[j]).empty()) sub |= static_cast<std::uint8_t>(1u << j);
      }
      ar(sub);
      for (std::size_t j = 0; j < std::size(kContactFields); ++j) {
        if ((sub >> j) & 1u) ar(e.contact.*kContactFields[j]);
      }
    }
  }
  return std::move(os).str();
}

// Decodes a schema-1 or schema-2 payload into `e` (whose type, time and
// actor are set): schema 2 only adds fields, so one reader serves both and
// refuses in a schema-1 payload the bits it did not have.
void DecodePayload(std::string_view payload, std::uint32_t schema_version, CaseEvent& e) {
  codec::SpanBuf buf(payload);
  std::istream is(&buf);
  codec::In ar(is);
  auto str = [&](std::string& out) { codec::GetString(ar, out, payload.size()); };
  std::uint32_t m = 0;
  ar(m);
  const int field_count = schema_version == 1 ? kFieldCountV1 : kFieldCount;
  if (m >> field_count) {
    throw codec::DecodeError(fmt::format("unknown fields in mask {:#x} of schema {}", m, schema_version));
  }
  auto has = [m](int bit) { return (m >> bit) & 1u; };
  if (has(kFCaseId)) str(e.case_id);
  if (has(kFKind)) e.kind = codec::GetEnum(ar, CaseKind::kEvent, "kind");
  if (has(kFCategory)) str(e.category);
  if (has(kFSource)) e.source = codec::GetEnum(ar, ReportSource::kCitizen, "source");
  if (has(kFGrid)) str(e.grid);
  if (has(kFComponent)) str(e.component);
  if (has(kFLat)) ar(e.lat.emplace());
  if (has(kFLon)) ar(e.lon.emplace());
  if (has(kFDescription)) str(e.description);
  if (has(kFEmergency)) e.emergency = codec::GetBool(ar, "emergency");
  if (has(kFInto)) str(e.into);
  if (has(kFUnit)) str(e.unit);
  if (has(kFReason)) str(e.reason);
  if (has(kFNote)) str(e.note);
  if (has(kFLimit)) e.limit = codec::GetLimit(ar);
  if (has(kFAddress)) str(e.address);
  if (has(kFDeadline)) e.deadline = codec::GetInstant(ar);
  if (has(kFTask)) ar(e.task);
  if (has(kFRemaining)) ar(e.remaining_us);
  if (has(kFVerifier)) str(e.verifier);
  if (has(kFOnTime)) e.on_time = codec::GetBool(ar, "on_time");
  if (has(kFRequest)) e.request = codec::GetEnum(ar, PendingRequest::kSuspend, "request");
  if (has(kFMediaUrl)) str(e.media_url);
  if (has(kFAddressId)) str(e.address_id);
  if (has(kFAttributes)) {
    std::uint32_t n = 0;
    ar(n);
    // Each pair takes at least two length prefixes: a count beyond what the
    // payload can hold is damage, not a reason to allocate.
    if (n > payload.size() / 2) throw codec::DecodeError(fmt::format("{} attributes in a short payload", n));
    e.attributes.resize(n);
    for (auto& [code, value] : e.attributes) {
      str(code);
      str(value);
    }
  }
  if (has(kFContact)) {
    std::uint8_t sub = 0;
    ar(sub);
    if (sub >> std::size(kContactFields))
      throw codec::DecodeError(fmt::format("unknown contact fields {:#x}", sub));
    for (std::size_t j = 0; j < std::size(kContactFields); ++j) {
      if ((sub >> j) & 1u) str(e.contact.*kContactFields[j]);
    }
  }
  codec::ExpectEnd(is);
}

// Upcasters: kUpcasters[v] rewrites an event decoded from schema v into the
// shape of schema v + 1. From 1 to 2 nothing changes shape (schema 2 only
// added fields, empty in a schema-1 event), so there is none yet; a change
// of meaning adds its reader and an entry here.
using Upcaster = void (*)(CaseEvent&);
constexpr Upcaster kUpcasters[kCaseEventSchemaVersion + 1] = {nullptr, nullptr, nullptr};

}  // namespace

NewEvent EncodeCaseEvent(const CaseEvent& event) {
  NewEvent n;
  n.type = std::string(Name(event.type));
  n.schema_version = kCaseEventSchemaVersion;
  n.recorded_us = MicrosOf(event.time);
  n.actor = event.actor;
  n.payload = EncodePayload(event);
  return n;
}

Result<CaseEvent> DecodeCaseEvent(const EventRecord& record) { return DecodeCaseEvent(ViewOf(record)); }

Result<CaseEvent> DecodeCaseEvent(const EventRecordView& record) {
  std::optional<EventType> type = ParseEventType(record.type);
  if (!type) {
    return Status::Corruption(
        fmt::format("position {}: unknown event type '{}'", record.position, record.type));
  }
  if (record.schema_version > kCaseEventSchemaVersion) {
    return Status::Corruption(fmt::format("position {}: newer schema {} > {} of event type '{}'",
                                          record.position, record.schema_version, kCaseEventSchemaVersion,
                                          record.type));
  }
  if (record.schema_version == 0) {
    return Status::Corruption(
        fmt::format("position {}: unknown schema 0 of event type '{}'", record.position, record.type));
  }
  CaseEvent e;
  e.type = *type;
  e.time = InstantFromMicros(record.recorded_us);
  e.actor = record.actor;
  try {
    // Schemas 1 and 2 share a reader; an older schema of another shape
    // would be decoded by its own reader here and then brought forward by
    // the upcasters.
    DecodePayload(record.payload, record.schema_version, e);
    for (std::uint32_t v = record.schema_version; v < kCaseEventSchemaVersion; ++v) {
      if (kUpcasters[v] != nullptr) kUpcasters[v](e);
    }
  } catch (const std::exception& ex) {
    return Status::Corruption(fmt::format("position {}: cannot decode '{}' payload of stream {}: {}",
                                          record.position, record.type, record.stream, ex.what()));
  }
  if (e.case_id.empty()) e.case_id = std::string(record.stream);
  return e;
}

}  // namespace caseloop
