// caseloop/json.h: the fields of each event type (moved here from the codec
// test with the code), the two forms of every object (JSON text and an
// ObjectWriter) agreeing key for key, logged events that did not decode, and
// text that is not valid UTF-8.
#include "caseloop/json.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "domain/domain_test_util.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {

// Records what a writer is handed, as "key:kind:value".
class Recorder final : public ObjectWriter {
 public:
  void Null(std::string_view k) override { Add(k, "null", ""); }
  void Bool(std::string_view k, bool v) override { Add(k, "bool", v ? "true" : "false"); }
  void Int(std::string_view k, std::int64_t v) override { Add(k, "int", std::to_string(v)); }
  void UInt(std::string_view k, std::uint64_t v) override { Add(k, "uint", std::to_string(v)); }
  void Double(std::string_view k, double v) override { Add(k, "double", std::to_string(v)); }
  void String(std::string_view k, std::string_view v) override { Add(k, "string", std::string(v)); }
  void Time(std::string_view k, Instant v) override { Add(k, "time", FormatInstant(v, 0)); }
  void Strings(std::string_view k, const std::vector<std::string>& v) override {
    std::string all;
    for (const auto& s : v) all += s + ";";
    Add(k, "strings", all);
  }
  std::vector<std::string> keys;
  std::vector<std::string> items;

 private:
  void Add(std::string_view k, const char* kind, const std::string& v) {
    keys.emplace_back(k);
    items.push_back(std::string(k) + ":" + kind + ":" + v);
  }
};

std::vector<std::string> JsonKeys(const std::string& text) {
  std::vector<std::string> keys;
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  for (const auto& item : j.items()) keys.push_back(item.key());
  return keys;
}

}  // namespace

TEST_CASE("JSON fields: only what the event type means, times at the offset") {
  using nlohmann::json;
  CaseEvent d = Full(EventType::kCaseDispatched);
  json j = json::parse(CaseEventFieldsJson(d, 8 * 60));
  CHECK(j ==
        json::parse(R"({"unit":"WATER","deadline":"2025-03-31T15:30:00+08:00","task":3,"limit":"4wh"})"));
  CHECK(json::parse(CaseEventFieldsJson(d, 0))["deadline"] == "2025-03-31T07:30:00+00:00");

  CaseEvent nd;
  nd.type = EventType::kCaseDispatched;
  nd.unit = "W";
  nd.task = 1;
  CHECK(json::parse(CaseEventFieldsJson(nd, 480)) == json::parse(R"({"unit":"W","deadline":null,"task":1})"));

  json rep = json::parse(CaseEventFieldsJson(Full(EventType::kCaseReported), 480));
  CHECK(rep["kind"] == "component");
  CHECK(rep["source"] == "citizen");
  CHECK(rep["grid"] == "620102001001001");
  CHECK(rep["address"] == "西津西路 12 号");
  CHECK(rep["emergency"] == true);
  CHECK(!rep.contains("unit"));
  CHECK(!rep.contains("deadline"));

  json fb = json::parse(CaseEventFieldsJson(Full(EventType::kFeedbackSubmitted), 480));
  CHECK(fb["on_time"] == false);
  CHECK(fb["verifier"] == "I1");
  CHECK(fb["verify_deadline"] == "2025-03-31T15:30:00+08:00");
  CHECK(!fb.contains("reason"));

  json den = json::parse(CaseEventFieldsJson(Full(EventType::kRequestDenied), 480));
  CHECK(den == json::parse(R"({"unit":"WATER","request":"suspend","reason":"r"})"));

  json sus = json::parse(CaseEventFieldsJson(Full(EventType::kSuspensionApproved), 480));
  CHECK(sus["remaining_minutes"] == 28 * 60);

  CHECK(json::parse(CaseEventFieldsJson(Full(EventType::kCaseMerged), 480)) ==
        json::parse(R"({"into":"A0"})"));
  CHECK(json::parse(CaseEventFieldsJson(Full(EventType::kCaseSentToCoordination), 480)) == json::object());

  // Every type gives an object; invalid UTF-8 does not throw.
  for (int i = 0; i < kEventTypeCount; ++i) {
    CaseEvent e = Full(static_cast<EventType>(i));
    e.note = "\xff\xfe";
    e.reason = "\xc3";
    CHECK(json::parse(CaseEventFieldsJson(e, 480)).is_object());
  }
}

TEST_CASE("show: the documented keys in order, in both forms; times are instants to a writer") {
  CaseView v;
  v.case_id = "A1";
  v.state = LifecycleState::kDispatched;
  v.kind = CaseKind::kComponent;
  v.category = "0101";
  v.unit = "WATER";
  v.deadline = T("2025-03-31T15:30");
  v.light = Light::kGreen;
  v.dispatches = 1;
  v.version = 3;
  CHECK(ToJson(v, 480) ==
        R"({"case":"A1","state":"dispatched","kind":"component","category":"0101","source":"inspector",)"
        R"("emergency":false,"unit":"WATER","deadline":"2025-03-31T15:30:00+08:00","light":"green",)"
        R"("overdue":false,"on_time":null,"dispatches":1,"reworks":0,"extensions":0,"supervisions":0,)"
        R"("pending":null,"merged_into":null,"version":3})");
  Recorder r;
  Write(v, r);
  CHECK(r.keys == JsonKeys(ToJson(v, 480)));
  CHECK(r.items[7] == "deadline:time:2025-03-31T07:30:00+00:00");
  CHECK(r.items[6] == "unit:string:WATER");
  CHECK(r.items[10] == "on_time:null:");
}

TEST_CASE("every object: the writer gets the JSON text's keys, in its order") {
  UnitRates u;
  u.unit = "WATER";
  u.due = 4;
  u.handled = 1;
  u.handling_rate = 0.25;
  u.score = 81.239;
  u.grade = 'B';
  Recorder ru;
  Write(u, ru);
  CHECK(ru.keys == JsonKeys(ToJson(u)));
  CHECK(ToJson(u).find(R"("handling_rate":0.25,"on_time_rate":null)") != std::string::npos);
  CHECK(ToJson(u).find(R"("score":81.24,"grade":"B")") != std::string::npos);
  u.unit_name = "水务局";  // issue 22: the name beside the id
  CHECK(ToJson(u).rfind(R"({"unit":"WATER","unit_name":"水务局","due":4,)", 0) == 0);

  InspectorRates i;
  i.inspector = "I1";
  Recorder ri;
  Write(i, ri);
  CHECK(ri.keys == JsonKeys(ToJson(i)));

  CentreFigures c;
  c.received = 4;
  Recorder rc;
  Write(c, rc);
  CHECK(rc.keys == JsonKeys(ToJson(c)));
  CHECK(ToJson(c) ==
        R"({"received":4,"registered":0,"rejected":0,"voided":0,"closed":0,"closed_on_time":0})");

  OverdueTask o{"A1", "WATER", T("2025-03-31T15:00"), 1.23456, "水务局", 0.45678};
  CHECK(ToJson(o, 480) ==
        R"({"case":"A1","unit":"WATER","unit_name":"水务局","deadline":"2025-03-31T15:00:00+08:00",)"
        R"("overdue_hours":1.23,"overdue_working_hours":0.46})");
  Recorder ro;
  Write(o, ro);
  CHECK(ro.keys == JsonKeys(ToJson(o, 480)));

  UnitWorkload w{"WATER", 3, 1, "水务局"};
  CHECK(ToJson(w) == R"({"unit":"WATER","unit_name":"水务局","open_tasks":3,"overdue_tasks":1})");

  RedispatchTask t;
  t.case_id = "A2";
  t.unit = "WATER";
  t.unit_name = "水务局";
  t.retired = T("2025-04-01T09:00");
  t.state = LifecycleState::kSuspended;
  t.category = "0102";
  t.grid = "620102001001001";
  CHECK(ToJson(t, 480) ==
        R"({"case":"A2","unit":"WATER","unit_name":"水务局","retired":"2025-04-01T09:00:00+08:00",)"
        R"("state":"suspended","pending":"none","kind":"event","category":"0102","grid":"620102001001001",)"
        R"("deadline":null,"light":null})");
  t.state = LifecycleState::kHandling;
  t.deadline = T("2025-03-31T15:00");
  t.light = Light::kRed;
  Recorder rt;
  Write(t, rt);
  CHECK(rt.keys == JsonKeys(ToJson(t, 480)));
  CHECK(ToJson(t, 480).find(R"("deadline":"2025-03-31T15:00:00+08:00","light":"red"})") != std::string::npos);
}

TEST_CASE(
    "a logged event: the envelope, then its fields; configuration changes; a record that did not decode") {
  LoggedEvent e;
  e.record.position = 7;
  e.record.version = 3;
  e.record.stream = "A1";
  e.record.type = "case_dispatched";
  e.record.recorded_us = MicrosOf(T("2025-03-31T10:30"));
  e.record.actor = "D1";
  e.event = Full(EventType::kCaseDispatched);
  CHECK(
      ToJson(e, 480) ==
      R"({"position":7,"version":3,"type":"case_dispatched","time":"2025-03-31T10:30:00+08:00","actor":"D1",)"
      R"("deadline":"2025-03-31T15:30:00+08:00","limit":"4wh","task":3,"unit":"WATER"})");
  Recorder r;
  WriteFields(e, r);
  CHECK(r.items == std::vector<std::string>{"deadline:time:2025-03-31T07:30:00+00:00", "limit:string:4wh",
                                            "task:uint:3", "unit:string:WATER"});

  LoggedEvent cfg;
  cfg.record.position = 1;
  cfg.record.stream = kConfigStream;
  cfg.record.type = "staff_defined";
  cfg.change = StaffChange("S1", {Role::kSupervisor, Role::kDispatcher});
  CHECK(ToJson(cfg, 480).find(R"("type":"staff_defined")") != std::string::npos);
  CHECK(ToJson(cfg, 480).find(R"("id":"S1","roles":["supervisor","dispatcher"]})") != std::string::npos);
  CHECK(ConfigChangeFieldsJson(UnitChange("WATER", "水务局")) == R"({"id":"WATER","name":"水务局"})");
  ConfigChange retired;
  retired.type = ConfigChangeType::kRetireUnit;
  retired.unit.id = "WATER";
  retired.time = T("2025-04-01T09:00");
  CHECK(ConfigChangeFieldsJson(retired) == R"({"id":"WATER","time":"2025-04-01T01:00:00+00:00"})");
  ConfigChange replaced = RouteChange(CaseKind::kEvent, "0102", "PARKS");
  replaced.type = ConfigChangeType::kReplaceRoute;
  CHECK(ConfigChangeFieldsJson(replaced) ==
        R"({"code":"0102","grid_prefix":"","kind":"event","unit":"PARKS"})");

  LoggedEvent bad;
  bad.record.position = 9;
  bad.record.stream = "A2";
  bad.record.type = "case_reported";
  bad.decode_status = Status::Corruption("log position 9 (stream A2, type case_reported): truncated");
  CHECK(ToJson(bad, 480).find(R"("type":"case_reported",)") != std::string::npos);
  CHECK(ToJson(bad, 480).find(
            R"("error":"corruption: log position 9 (stream A2, type case_reported): truncated"})") !=
        std::string::npos);

  LoggedEvent other;  // another "$" stream: no fields
  other.record.stream = "$meta";
  other.record.type = "marker";
  Recorder ro;
  WriteFields(other, ro);
  CHECK(ro.items.empty());
}

TEST_CASE("an event type without a layout of its own prints the fields it carries") {
  CaseEvent e;
  e.type = static_cast<EventType>(kEventTypeCount + 3);
  e.unit = "WATER";
  e.verifier = "I2";
  e.task = 2;
  CHECK(CaseEventFieldsJson(e, 480) == R"({"task":2,"unit":"WATER","verifier":"I2"})");
}

TEST_CASE("text that is not valid UTF-8 prints with U+FFFD and never throws") {
  CaseView v;
  v.case_id = "X\xff";
  v.category = "\xc3";
  const std::string text = ToJson(v, 0);
  CHECK(text.find("\"case\":\"X\xef\xbf\xbd\"") != std::string::npos);
  CHECK(nlohmann::json::parse(text)["category"] == "\xef\xbf\xbd");
}
