// The case event codec: a round trip for every event type, the envelope,
// corruption on an unknown type / newer schema / damaged payload. (The JSON
// view of an event's fields is tested with the JSON: tests/json/json_test.cc.)
#include <doctest/doctest.h>

#include "domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {

void CheckSame(const CaseEvent& a, const CaseEvent& b) {
  CHECK(a.type == b.type);
  CHECK(a.case_id == b.case_id);
  CHECK(a.time == b.time);
  CHECK(a.actor == b.actor);
  CHECK(a.kind == b.kind);
  CHECK(a.category == b.category);
  CHECK(a.source == b.source);
  CHECK(a.grid == b.grid);
  CHECK(a.component == b.component);
  CHECK(a.lat == b.lat);
  CHECK(a.lon == b.lon);
  CHECK(a.address == b.address);
  CHECK(a.description == b.description);
  CHECK(a.media_url == b.media_url);
  CHECK(a.address_id == b.address_id);
  CHECK(a.attributes == b.attributes);
  CHECK(a.contact.email == b.contact.email);
  CHECK(a.contact.device_id == b.contact.device_id);
  CHECK(a.contact.account_id == b.contact.account_id);
  CHECK(a.contact.first_name == b.contact.first_name);
  CHECK(a.contact.last_name == b.contact.last_name);
  CHECK(a.contact.phone == b.contact.phone);
  CHECK(a.emergency == b.emergency);
  CHECK(a.into == b.into);
  CHECK(a.unit == b.unit);
  CHECK(a.reason == b.reason);
  CHECK(a.note == b.note);
  CHECK(a.limit == b.limit);
  CHECK(a.deadline == b.deadline);
  CHECK(a.task == b.task);
  CHECK(a.remaining_us == b.remaining_us);
  CHECK(a.verifier == b.verifier);
  CHECK(a.on_time == b.on_time);
  CHECK(a.request == b.request);
}

EventRecord AsRecord(const NewEvent& n, std::uint64_t position = 17) {
  EventRecord r;
  r.position = position;
  r.stream = "A1";
  r.version = 1;
  r.type = n.type;
  r.schema_version = n.schema_version;
  r.recorded_us = n.recorded_us;
  r.actor = n.actor;
  r.payload = n.payload;
  return r;
}

}  // namespace

TEST_CASE("every event type round-trips, fully populated and empty") {
  for (int i = 0; i < kEventTypeCount; ++i) {
    auto type = static_cast<EventType>(i);
    INFO(Name(type));
    for (bool full : {true, false}) {
      CaseEvent e;
      if (full) {
        e = Full(type);
      } else {
        e.type = type;
        e.case_id = "A1";
        e.time = T("2025-04-05T22:20");
        e.actor = "$timer";
      }
      NewEvent n = EncodeCaseEvent(e);
      CHECK(n.type == Name(type));
      CHECK(n.schema_version == kCaseEventSchemaVersion);
      CHECK(n.recorded_us == MicrosOf(e.time));
      CHECK(n.actor == e.actor);
      auto back = DecodeCaseEvent(AsRecord(n));
      REQUIRE_MESSAGE(back.ok(), back.status().ToString());
      CheckSame(*back, e);
    }
  }
}

TEST_CASE("the events Decide produces round-trip and rebuild the same case") {
  // A case through most of the lifecycle; every decided event goes through
  // the codec before Evolve.
  Sim sim(WorkedConfig());
  sim.At("2025-03-31T09:00");
  Command r = Report("A9", CaseKind::kEvent, "0102", ReportSource::kInspector, "620102001001002", "I1");
  r.lat = 36.1;
  r.address = "西园路";
  sim.Ok(r);
  sim.Ok(Cmd(CommandType::kRegister, "A9", "L1"));
  sim.Ok(Cmd(CommandType::kDispatch, "A9", "D1"));
  sim.Ok(Cmd(CommandType::kAccept, "A9", "STREET"));
  sim.Ok(WithReason(WithLimit(Cmd(CommandType::kExtend, "A9", "STREET"), "2wh"), "rain"));
  sim.Ok(Cmd(CommandType::kApprove, "A9", "D1"));
  sim.Ok(WithReason(Cmd(CommandType::kSuspend, "A9", "STREET"), "permit"));
  sim.Ok(Cmd(CommandType::kApprove, "A9", "D1"));
  sim.At("2025-04-01T09:00");
  sim.Ok(Cmd(CommandType::kResume, "A9", "D1"));
  sim.Ok(Cmd(CommandType::kFeedback, "A9", "STREET"));
  sim.Ok(Verify("A9", false, "I1"));
  CaseState rebuilt;
  for (const CaseEvent& e : sim.Log("A9")) {
    auto back = DecodeCaseEvent(AsRecord(EncodeCaseEvent(e)));
    REQUIRE(back.ok());
    REQUIRE(Evolve(rebuilt, *back, sim.config()).ok());
  }
  const CaseState& live = sim.State("A9");
  CHECK(rebuilt.state == live.state);
  CHECK(rebuilt.deadline == live.deadline);
  CHECK(rebuilt.task == live.task);
  CHECK(rebuilt.task_length == live.task_length);
  CHECK(rebuilt.reworks == live.reworks);
  CHECK(rebuilt.extensions == live.extensions);
  CHECK(rebuilt.version == live.version);
}

TEST_CASE("unknown type, newer or unknown schema and damaged payloads are corruption") {
  NewEvent n = EncodeCaseEvent(Full(EventType::kCaseDispatched));
  EventRecord r = AsRecord(n);

  EventRecord unknown = r;
  unknown.type = "x";
  auto u = DecodeCaseEvent(unknown);
  CHECK(u.status().IsCorruption());
  CHECK(u.status().message() == "position 17: unknown event type 'x'");

  EventRecord newer = r;
  newer.schema_version = 3;
  auto nw = DecodeCaseEvent(newer);
  CHECK(nw.status().IsCorruption());
  CHECK(nw.status().message().find("position 17: newer schema 3 > 2") == 0);

  EventRecord zero = r;
  zero.schema_version = 0;
  CHECK(DecodeCaseEvent(zero).status().IsCorruption());

  // Every truncation, trailing garbage, an unknown presence bit, a bad enum.
  for (std::size_t len = 0; len < r.payload.size(); ++len) {
    EventRecord t = r;
    t.payload = r.payload.substr(0, len);
    auto d = DecodeCaseEvent(t);
    CHECK(d.status().IsCorruption());
    if (len == 0) CHECK(d.status().message().find("position 17: cannot decode 'case_dispatched'") == 0);
  }
  EventRecord trailing = r;
  trailing.payload += '\0';
  CHECK(DecodeCaseEvent(trailing).status().IsCorruption());
  EventRecord bits = r;
  bits.payload[3] = '\x80';  // the mask is little-endian: bit 31
  CHECK(DecodeCaseEvent(bits).status().IsCorruption());
  // A huge string length is refused before any allocation.
  CaseEvent small;
  small.type = EventType::kCaseAccepted;
  small.unit = "W";
  EventRecord len = AsRecord(EncodeCaseEvent(small));
  for (int i = 4; i < 12; ++i) len.payload[i] = '\x7f';
  CHECK(DecodeCaseEvent(len).status().IsCorruption());
  // Byte flips anywhere never crash.
  for (std::size_t i = 0; i < r.payload.size(); ++i) {
    EventRecord f = r;
    f.payload[i] = static_cast<char>(f.payload[i] ^ 0xA5);
    (void)DecodeCaseEvent(f);
  }
}

TEST_CASE("decoding a borrowed record reads exactly its bytes") {
  // ScanAll hands out views into the store's buffers; the payload view is
  // followed by other bytes there. A decoder that read past the view would
  // accept the truncated views below (or reject the exact one).
  const CaseEvent e = Full(EventType::kCaseDispatched);
  const EventRecord r = AsRecord(EncodeCaseEvent(e));
  const std::string buffer = r.payload + r.payload + "trailing";
  auto view_of = [&](std::size_t len) {
    EventRecordView v = ViewOf(r);
    v.payload = std::string_view(buffer.data(), len);
    return v;
  };
  auto whole = DecodeCaseEvent(view_of(r.payload.size()));
  REQUIRE_MESSAGE(whole.ok(), whole.status().ToString());
  CheckSame(*whole, e);
  for (std::size_t len = 0; len < r.payload.size(); ++len) {
    CAPTURE(len);
    CHECK(DecodeCaseEvent(view_of(len)).status().IsCorruption());
  }
  // The record and the view overloads agree, including the stream fallback.
  EventRecordView no_id = view_of(r.payload.size());
  CHECK(DecodeCaseEvent(no_id)->case_id == DecodeCaseEvent(r)->case_id);
}

TEST_CASE("the case id comes from the stream when the payload has none") {
  CaseEvent e;
  e.type = EventType::kCaseAccepted;
  e.unit = "WATER";
  EventRecord r = AsRecord(EncodeCaseEvent(e));
  r.stream = "B7";
  auto back = DecodeCaseEvent(r);
  REQUIRE(back.ok());
  CHECK(back->case_id == "B7");
}

namespace {
// Payload bytes written by hand, as cereal's portable binary lays them out.
std::string U32(std::uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}
std::string Str(const std::string& t) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(i == 0 ? t.size() : 0));
  return s + t;
}
}  // namespace

TEST_CASE("a schema-1 report (written before Open311's fields) still decodes, with them empty") {
  // Endianness flag 1 (little), mask = case_id, kind, category, source,
  // description (bits 0-3, 8), then the fields: the layout of schema 1.
  std::string v1 = std::string("\x01", 1) + U32(0x10F) + Str("A1") + std::string("\x01", 1) + Str("0102") +
                   std::string("\x04", 1) + Str("hole");
  EventRecord r;
  r.position = 5;
  r.stream = "A1";
  r.version = 1;
  r.type = "case_reported";
  r.schema_version = 1;
  r.recorded_us = MicrosOf(T("2025-03-31T10:30"));
  r.actor = "R1";
  r.payload = v1;
  auto e = DecodeCaseEvent(r);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  CHECK(e->case_id == "A1");
  CHECK(e->kind == CaseKind::kEvent);
  CHECK(e->category == "0102");
  CHECK(e->source == ReportSource::kCitizen);
  CHECK(e->description == "hole");
  CHECK(e->media_url.empty());
  CHECK(e->attributes.empty());
  CHECK(e->contact.empty());

  // The same event written today is schema 2 with the same bytes (no new field set).
  CaseEvent same = *e;
  NewEvent n = EncodeCaseEvent(same);
  CHECK(n.schema_version == 2);
  CHECK(n.payload == v1);

  // A schema-1 payload cannot carry schema 2's bits (22: media_url).
  EventRecord bad = r;
  bad.payload = std::string("\x01", 1) + U32((1u << 22) | 1u) + Str("A1") + Str("http://x");
  auto b = DecodeCaseEvent(bad);
  CHECK(b.status().IsCorruption());
  CHECK(b.status().message().find("of schema 1") != std::string::npos);
  bad.schema_version = 2;
  auto b2 = DecodeCaseEvent(bad);
  REQUIRE_MESSAGE(b2.ok(), b2.status().ToString());
  CHECK(b2->media_url == "http://x");
}

TEST_CASE("Open311's fields round-trip; the contact keeps only what is set; damage is corruption") {
  CaseEvent e = Full(EventType::kCaseReported);
  e.contact = {};
  e.contact.phone = "110";
  auto back = DecodeCaseEvent(AsRecord(EncodeCaseEvent(e)));
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CheckSame(*back, e);
  // An attribute count larger than the payload could hold.
  CaseEvent only;
  only.type = EventType::kCaseReported;
  only.attributes = {{"K", "V"}};
  NewEvent n = EncodeCaseEvent(only);
  EventRecord r = AsRecord(n);
  const std::size_t at = r.payload.find(std::string("\x01\x00\x00\x00", 4) + Str("K"));
  REQUIRE(at != std::string::npos);
  r.payload[at + 3] = '\x7f';
  CHECK(DecodeCaseEvent(r).status().IsCorruption());
}
