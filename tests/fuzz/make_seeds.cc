// caseloop_fuzz_seeds DIR — writes the binary seed inputs of the record and
// config fuzz targets into DIR/record and DIR/config (see record_fuzz.cc and
// config_fuzz.cc for the input layouts): one encoded record and one bare
// payload per case event type, one payload per configuration change of the
// default district's kinds.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "store/record_codec.h"

using namespace caseloop;
namespace fs = std::filesystem;

namespace {

void Write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

CaseEvent Sample(EventType type) {
  CaseEvent e;
  e.type = type;
  e.case_id = "A1";
  e.time = InstantFromMicros(1743388200000000LL);
  e.actor = "D1";
  e.kind = CaseKind::kComponent;
  e.category = "0101";
  e.source = ReportSource::kInspector;
  e.grid = "620102001001001";
  e.component = "6201020101000001";
  e.lat = 36.05;
  e.lon = 103.8;
  e.address = "西津西路 5 号";
  e.description = "井盖缺失";
  e.emergency = type == EventType::kCaseReported;
  e.into = type == EventType::kCaseMerged ? "A0" : "";
  e.unit = "WATER";
  e.reason = "reason";
  e.note = "note";
  e.limit = TimeLimit::WorkingHours(4);
  e.deadline = InstantFromMicros(1743406200000000LL);
  e.task = 1;
  e.remaining_us = 3600000000LL;
  e.verifier = "I1";
  e.on_time = true;
  e.request = PendingRequest::kExtend;
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: caseloop_fuzz_seeds CORPUS_DIR\n";
    return 2;
  }
  fs::path dir = argv[1];
  fs::create_directories(dir / "record");
  fs::create_directories(dir / "config");
  for (int t = 0; t < kEventTypeCount; ++t) {
    CaseEvent e = Sample(static_cast<EventType>(t));
    NewEvent n = EncodeCaseEvent(e);
    EventRecord r;
    r.position = 7;
    r.stream = "A1";
    r.version = 3;
    r.type = n.type;
    r.schema_version = n.schema_version;
    r.recorded_us = n.recorded_us;
    r.event_id = "0123456789abcdef0123456789abcdef";
    r.command_id = "cmd/1";
    r.actor = n.actor;
    r.payload = n.payload;
    const std::string name(Name(static_cast<EventType>(t)));
    Write(dir / "record" / ("record-" + name), std::string(1, '\x02') + EncodeRecord(r));
    Write(dir / "record" / ("payload-" + name),
          std::string(1, '\x01') + std::string(1, static_cast<char>(t)) + std::string(1, '\x01') + n.payload);
  }
  int i = 0;
  ConfigChangeType seen[16] = {};
  int kinds = 0;
  for (const ConfigChange& c : DefaultConfigChanges()) {
    bool fresh = true;
    for (int k = 0; k < kinds; ++k) fresh = fresh && seen[k] != c.type;
    if (!fresh) continue;
    seen[kinds++] = c.type;
    Write(dir / "config" / ("change-" + std::string(ConfigEventTypeName(c.type))),
          std::string(1, '\x00') + std::string(1, '\x01') + EncodeConfigChange(c));
    ++i;
  }
  ConfigChange holiday;
  holiday.type = ConfigChangeType::kAddHoliday;
  holiday.date = 20182;
  Write(dir / "config" / "change-holiday_added",
        std::string(1, '\x00') + std::string(1, '\x01') + EncodeConfigChange(holiday));
  ConfigChange workday = holiday;
  workday.type = ConfigChangeType::kAddWorkday;
  Write(dir / "config" / "change-workday_added",
        std::string(1, '\x00') + std::string(1, '\x01') + EncodeConfigChange(workday));
  std::cout << "wrote " << kEventTypeCount * 2 << " record seeds and " << i + 2 << " config seeds\n";
  return 0;
}
