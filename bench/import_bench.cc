// import: rows/s importing a Boston-shaped 311 CSV with ImportCsv.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include "caseloop/tools.h"
#include "scenarios.h"
#include "tools/import_internal.h"
#include "workload.h"

namespace caseloop::bench {
namespace {

constexpr const char* kHeader =
    "CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,OnTime_Status,CASE_STATUS,CLOSURE_REASON,CASE_TITLE,SUBJECT,"
    "REASON,TYPE,QUEUE,Department,SubmittedPhoto,ClosedPhoto,Location,fire_district,pwd_district,"
    "city_council_district,police_district,neighborhood,neighborhood_services_district,ward,precinct,"
    "LOCATION_STREET_NAME,LOCATION_ZIPCODE,LATITUDE,LONGITUDE,Geocoded_Location,Source,resolution_hours,"
    "resolution_days,resolution_hours,resolution_days,resolution_days_log";

struct Dept {
  const char* subject;
  const char* queue;
  const char* dept;
  const char* reasons[3];
  const char* types[4];
};

const Dept kDepts[] = {
    {"Public Works Department",
     "PWDx_District 1B: North End",
     "PWDx",
     {"Street Cleaning", "Highway Maintenance", "Street Lights"},
     {"Requests for Street Cleaning", "Request for Pothole Repair", "Street Light Outages",
      "Sidewalk Repair"}},
    {"Transportation - Traffic Division",
     "BTDT_Parking Enforcement",
     "BTDT",
     {"Enforcement & Abandoned Vehicles", "Signs & Signals", "Parking"},
     {"Parking Enforcement", "Abandoned Vehicles", "Traffic Signal Repair", "Sign Repair"}},
    {"Inspectional Services",
     "ISD_Environmental Services (INTERNAL)",
     "ISD",
     {"Environmental Services", "Building", "Housing"},
     {"Rodent Activity", "Unsatisfactory Living Conditions", "Illegal Occupancy",
      "Heat - Excessive  Insufficient"}},
    {"Parks & Recreation Department",
     "PARK_Maintenance_Tree Maintenance",
     "PARK",
     {"Trees", "Park Maintenance & Safety", "Litter"},
     {"Tree Maintenance Requests", "Park Maintenance Requests", "Litter Basket Maintenance",
      "New Tree Requests"}},
    {"Mayor's 24 Hour Hotline",
     "INFO_Mass DOT",
     "INFO",
     {"Employee & General Comments", "Needle Program", "Noise Disturbance"},
     {"General Comments For a Program or Policy", "Needle Pickup", "Loud Parties/Music/People", "Other"}},
    {"Boston Water & Sewer Commission",
     "BWSC_General Requests",
     "BWSC",
     {"Sanitation", "Catchbasin", "Water"},
     {"Missed Trash/Recycling/Yard Waste/Bulk Item", "Clogged Drainage", "Water Main Break", "Hydrant"}},
    {"Property Management",
     "GEN_Property Management",
     "GEN",
     {"Building", "Graffiti", "Generic Noise Disturbance"},
     {"Graffiti Removal", "Building Inspection Request", "Empty Litter Basket",
      "Poor Conditions of Property"}},
    {"Animal Control",
     "ANML_Animal Control",
     "ANML",
     {"Animal Issues", "Animal Issues", "Animal Issues"},
     {"Animal Generic Request", "Dead Animal Pick-up", "Pick up Dead Animal", "Animal Lost"}},
};

const char* kStreets[] = {"Fairfield St",  "Batterymarch St", "Commonwealth Ave", "Tremont St",
                          "Blue Hill Ave", "Washington St",   "Dorchester Ave",   "Boylston St"};
const char* kHoods[] = {"Back Bay",    "Downtown / Financial District",
                        "Dorchester",  "Roxbury",
                        "South End",   "Jamaica Plain",
                        "East Boston", "Allston / Brighton"};
const char* kSources[] = {"Citizens Connect App", "Constituent Call", "City Worker App", "Self Service",
                          "Employee Generated"};

std::string Stamp(std::int64_t epoch_s) {
  std::time_t t = static_cast<std::time_t>(epoch_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string Csv(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Writes `rows` data rows shaped like shared/data/boston311_raw_sample.csv:
// same header, departments as SUBJECT, ~90 % closed, ~10 % without target
// date, free-text closure reasons with quotes and commas.
Status WriteBostonCsv(const std::string& path, std::uint64_t rows) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Status::IOError("import: cannot write " + path);
  out << kHeader << "\n";
  std::mt19937_64 rng(7);
  const std::int64_t base = 1640995200;  // 2022-01-01T00:00:00Z
  for (std::uint64_t i = 0; i < rows; ++i) {
    const Dept& d = kDepts[rng() % std::size(kDepts)];
    const int r = static_cast<int>(rng() % 3);
    const char* type = d.types[rng() % 4];
    const std::int64_t open = base + static_cast<std::int64_t>(rng() % (364 * 86400));
    const bool has_target = rng() % 10 != 0;
    const std::int64_t target = open + 86400 * static_cast<std::int64_t>(1 + rng() % 30);
    const bool closed = rng() % 10 != 0;
    const std::int64_t close = open + static_cast<std::int64_t>(rng() % (40 * 86400));
    const char* street = kStreets[rng() % std::size(kStreets)];
    const int number = static_cast<int>(1 + rng() % 400);
    const double lat = 42.30 + static_cast<double>(rng() % 10000) / 100000.0;
    const double lon = -71.12 + static_cast<double>(rng() % 10000) / 100000.0;
    std::string line;
    line.reserve(700);
    line += fmt::format("{},{},{},{},", 101004000000ull + i, Stamp(open), has_target ? Stamp(target) : "",
                        closed ? Stamp(close) : "");
    line += closed ? (has_target && close > target ? "OVERDUE," : "ONTIME,") : "ONTIME,";
    line += closed ? "Closed," : "Open,";
    line += closed ? Csv(fmt::format("Case Closed. Closed date : {} Case Resolved \"{}\" crew visited, "
                                     "condition addressed  ",
                                     Stamp(close), type))
                   : "";
    line += ",";
    line += Csv(type);
    line +=
        fmt::format(",{},{},{},{},{},,,", Csv(d.subject), Csv(d.reasons[r]), Csv(type), Csv(d.queue), d.dept);
    line += Csv(fmt::format("{} {}  Boston  MA  021{:02}", number, street, i % 40));
    const char* hood = kHoods[rng() % std::size(kHoods)];
    line += fmt::format(
        ",{},{},{},{}{},{},{},Ward {},{:04},{},{}.0,{:.14f},{:.14f},0101000020E6100000{:016X},{},", 1 + i % 9,
        "1C", 1 + i % 9, "D", 1 + i % 14, Csv(hood), 1 + i % 15, 1 + i % 22, 100 + i % 2200,
        Csv(fmt::format("{} {}", number, street)), 2100 + i % 40, lat, lon, rng(),
        kSources[rng() % std::size(kSources)]);
    if (closed) {
      const double hours = static_cast<double>(close - open) / 3600.0;
      line += fmt::format("{:.8f},{:.8f},{:.8f},{:.8f},{:.8f}", hours, hours / 24, hours, hours / 24,
                          std::log1p(hours / 24));
    } else {
      line += ",,,,";
    }
    out << line << "\n";
  }
  out.close();
  if (!out) return Status::IOError("import: writing " + path + " failed");
  return Status::Ok();
}

}  // namespace

Status RunImport(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  TempDir dir("import");
  const std::string csv = dir.Sub("boston.csv");
  CASELOOP_RETURN_IF_ERROR(WriteBostonCsv(csv, plan.import_rows));

  // Durability none: the mode docs/format.md recommends for bulk imports.
  // Both submission paths of ImportCsv in the same run: "bulk" (what
  // ImportCsv does: Engine::SubmitBatch, one append per row) and
  // "per-command" (one SubmitAsync per command, the path before the bulk one).
  const Durability d = Durability::kNone;
  // CASELOOP_BENCH_IMPORT_PATH=bulk or per-command runs only that path (for a profiler).
  const char* only = std::getenv("CASELOOP_BENCH_IMPORT_PATH");
  for (bool bulk : {true, false}) {
    if (only != nullptr && std::string_view(only) != (bulk ? "bulk" : "per-command")) continue;
    TempDir db("import-db");
    EngineOptions eo;
    eo.path = db.Sub("db");
    eo.store.durability = d;
    // A clock that stays put: no deadline timer fires during the import.
    eo.clock = std::make_shared<ManualClock>(InstantFromMicros(0));
    Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
    if (!opened.ok()) return Annotate(opened.status(), "import: opening the engine");
    std::unique_ptr<Engine> engine = std::move(opened).value();
    ImportOptions io;
    io.file = csv;
    io.id_column = "CASE_ENQUIRY_ID";
    io.created_column = "OPEN_DT";
    io.unit_column = "SUBJECT";
    io.due_column = "TARGET_DT";
    io.closed_column = "CLOSED_DT";
    io.category_column = "TYPE";
    std::ostringstream out, err;
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = SteadyClock::now();
    Result<ImportSummary> summary = ImportCsvPath(*engine, io, out, err, bulk);
    const double secs = SecondsSince(t0);
    const double cpu = ProcessCpuSeconds() - cpu0;
    const std::uint64_t head = engine->HeadPosition();
    // Until the projections (deadlines, evaluation) have applied the whole
    // import: what a query right after the import waits for.
    Status caught_up = engine->WaitForProjections(head);
    const double secs_projected = SecondsSince(t0);
    const double cpu_projected = ProcessCpuSeconds() - cpu0;
    Status closed = engine->Close();
    if (!summary.ok()) return Annotate(summary.status(), "import: ImportCsv");
    if (!caught_up.ok()) return Annotate(caught_up, "import: catching the projections up");
    if (!closed.ok()) return Annotate(closed, "import: closing the engine");
    if (summary->imported != static_cast<std::int64_t>(plan.import_rows) || summary->skipped != 0) {
      return Status::Corruption(fmt::format("import: {} of {} rows imported, {} skipped; first errors: {}",
                                            summary->imported, plan.import_rows, summary->skipped,
                                            err.str().substr(0, 400)));
    }
    Row row("import", d, 1);
    row.Set("path", bulk ? "bulk" : "per-command");
    row.Set("events_per_s", PerSecond(static_cast<double>(head), secs));
    row.SetInt("rows", summary->rows);
    row.Set("rows_per_s", PerSecond(static_cast<double>(summary->rows), secs));
    row.SetInt("events", static_cast<std::int64_t>(head));
    row.Set("seconds", secs, 2);
    row.Set("cpu_s", cpu, 2);
    row.Set("cpu_us_per_row", cpu * 1e6 / static_cast<double>(summary->rows), 1);
    row.Set("rows_per_s_projected", PerSecond(static_cast<double>(summary->rows), secs_projected));
    row.Set("cpu_s_projected", cpu_projected, 2);
    report.Add(std::move(row));
  }
  report.Note(
      fmt::format("{} generated rows with the header of shared/data/boston311_raw_sample.csv (SUBJECT as "
                  "unit, TYPE as category, TARGET_DT as due, ~90 % closed); ImportCsv into a RocksDB "
                  "engine; events_per_s counts every event in the log (incl. configuration); path bulk = "
                  "ImportCsv (Engine::SubmitBatch), per-command = one SubmitAsync per command; seconds and "
                  "cpu_s until ImportCsv returns (the projector thread catches up meanwhile, its CPU is "
                  "counted); *_projected until WaitForProjections(head) returns",
                  plan.import_rows));
  return Status::Ok();
}

}  // namespace caseloop::bench
