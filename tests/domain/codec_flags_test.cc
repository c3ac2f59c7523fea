// Regression (found by tests/fuzz/record_fuzz.cc and config_fuzz.cc under
// UBSan): a flag byte other than 0 or 1 in a payload was loaded straight into
// a bool, which is undefined behaviour (the JSON view then read an invalid
// bool). Such a payload is now Corruption. The fuzz inputs themselves are in
// tests/fuzz/regressions/.
#include <doctest/doctest.h>

#include <string>

#include "caseloop/case.h"
#include "caseloop/config.h"

using namespace caseloop;

namespace {

// The one byte where two encodings differ (REQUIRE: exactly one).
std::size_t OnlyDifference(const std::string& a, const std::string& b) {
  REQUIRE(a.size() == b.size());
  std::size_t at = a.size(), n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      at = i;
      ++n;
    }
  }
  REQUIRE(n == 1);
  return at;
}

EventRecord RecordOf(const NewEvent& n) {
  EventRecord r;
  r.position = 9;
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

TEST_CASE("case codec: a flag byte other than 0 or 1 is Corruption") {
  CaseEvent e;
  e.type = EventType::kCaseReported;
  e.case_id = "A1";
  e.actor = "I1";
  e.category = "0101";
  e.emergency = true;
  NewEvent yes = EncodeCaseEvent(e);
  CaseEvent with_on_time;
  with_on_time.type = EventType::kFeedbackSubmitted;
  with_on_time.case_id = "A1";
  with_on_time.actor = "WATER";
  with_on_time.on_time = true;
  NewEvent on_time_yes = EncodeCaseEvent(with_on_time);
  with_on_time.on_time = false;
  NewEvent on_time_no = EncodeCaseEvent(with_on_time);

  // emergency is written only when set; on_time whenever present.
  std::size_t at = OnlyDifference(on_time_yes.payload, on_time_no.payload);
  for (unsigned char bad : {2, 0x7F, 0xF0, 0xFF}) {
    CAPTURE(static_cast<int>(bad));
    NewEvent damaged = on_time_yes;
    damaged.payload[at] = static_cast<char>(bad);
    Result<CaseEvent> r = DecodeCaseEvent(RecordOf(damaged));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().IsCorruption());
    CHECK(r.status().message().find("on_time") != std::string::npos);
  }
  Result<CaseEvent> good = DecodeCaseEvent(RecordOf(yes));
  REQUIRE(good.ok());
  CHECK(good->emergency);
}

TEST_CASE("config codec: a flag byte other than 0 or 1 is Corruption") {
  ConfigChange c;
  c.type = ConfigChangeType::kSetPolicy;
  c.policy.enforce_permissions = true;
  std::string yes = EncodeConfigChange(c);
  c.policy.enforce_permissions = false;
  std::string no = EncodeConfigChange(c);
  std::size_t at = OnlyDifference(yes, no);
  yes[at] = '\x05';
  Result<ConfigChange> r = DecodeConfigChange(yes, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsCorruption());
  CHECK(r.status().message().find("enforce_permissions") != std::string::npos);

  ConfigChange cat;
  cat.type = ConfigChangeType::kDefineCategory;
  cat.category.code = "0101";
  cat.category.emergency_limit = TimeLimit::NaturalHours(2);
  std::string with = EncodeConfigChange(cat);
  // The presence flag of emergency_limit follows cereal's endianness byte,
  // the type, kind, code, name and limit.
  std::size_t flag = 1 + 1 + 1 + (8 + 4) + (8 + 0) + (1 + 8);
  REQUIRE(with[flag] == '\x01');
  with[flag] = '\x03';
  Result<ConfigChange> bad = DecodeConfigChange(with, 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().IsCorruption());
}
