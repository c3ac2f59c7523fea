// Uses the installed caseloop::tools: imports a small CSV into an in-memory
// engine with ImportCsv and reads one case back.
#include <caseloop/engine.h>
#include <caseloop/tools.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

int main() {
  const std::string csv = (std::filesystem::temp_directory_path() / "caseloop_consumer_tools.csv").string();
  {
    std::ofstream f(csv, std::ios::trunc);
    f << "id,created,unit,due,closed\n"
         "C1,2025-03-03 09:00:00,WATER,2025-03-04 17:00:00,2025-03-04 10:00:00\n"
         "C2,2025-03-03 10:00:00,ROADS,,\n";
  }
  caseloop::EngineOptions options;
  options.path = caseloop::kInMemoryPath;
  options.clock = std::make_shared<caseloop::ManualClock>(caseloop::InstantFromMicros(0));
  auto engine = caseloop::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open failed: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  caseloop::ImportOptions io;
  io.file = csv;
  io.id_column = "id";
  io.created_column = "created";
  io.unit_column = "unit";
  io.due_column = "due";
  io.closed_column = "closed";
  std::ostringstream out, err;
  auto summary = caseloop::ImportCsv(**engine, io, out, err);
  std::filesystem::remove(csv);
  if (!summary.ok() || summary->imported != 2 || summary->skipped != 0) {
    std::fprintf(stderr, "import failed: %s %s\n", summary.ok() ? "" : summary.status().ToString().c_str(),
                 err.str().c_str());
    return 1;
  }
  auto view = (*engine)->Show("C1");
  if (!view.ok() || view->state != caseloop::LifecycleState::kClosed) {
    std::fprintf(stderr, "C1 is not closed after the import\n");
    return 1;
  }
  std::printf("consumer_tools: %s", out.str().c_str());
  return (*engine)->Close().ok() ? 0 : 1;
}
