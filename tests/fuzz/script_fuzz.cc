// Fuzz target: the script language — the lexer and the command table
// (src/script/lexer.h, syntax.h) alone, then whole lines through a
// ScriptSession on an in-memory engine with a manual clock.
//
// Input: a script, one line per '\n' (at most 256 lines). The session starts
// with a small district (a calendar, units, staff, an inspector, categories
// and routes) so that case commands get past the configuration checks; the
// input may add its own setup lines (calendar, holiday, unit, ...).
// Properties: no crash, no exception, no sanitizer report, no endless loop;
// SplitLine(QuoteWord(w)) gives w back for every word of a line; the engine
// checks clean after the script.
#include <cstdint>
#include <string>

#include "caseloop/engine.h"
#include "caseloop/script.h"
#include "fuzz_util.h"
#include "script/lexer.h"
#include "script/syntax.h"

using namespace caseloop;
using caseloop::fuzz::FuzzCheck;

namespace {

const char* const kSetup[] = {
    "calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00",
    "holiday 2025-04-04",
    "unit WATER name=\"水务局\"",
    "unit ST1",
    "inspector I1 grid=620102",
    "staff R1 role=receiver",
    "staff L1 role=shift_leader",
    "staff D1 role=dispatcher",
    "staff S1 role=supervisor",
    "category component 0101 name=\"上水井盖\" limit=4wh emergency_limit=2h",
    "category event 0102 limit=1wd",
    "route component 0101 WATER",
    "route event 0102 ST1 grid=620102001",
    "at 2025-03-31T10:00",
};

void Lexer(std::string_view line) {
  Result<std::vector<script::Word>> words = script::SplitLine(line);
  if (!words.ok()) {
    FuzzCheck(words.status().IsInvalidArgument(), "SplitLine error is not InvalidArgument");
    return;
  }
  for (const script::Word& w : *words) {
    std::string quoted = script::QuoteWord(w);
    Result<std::vector<script::Word>> back = script::SplitLine(quoted);
    FuzzCheck(back.ok() && back->size() == 1, "QuoteWord(w) does not split back into one word",
              std::string(line) + "\n -> " + quoted);
    const script::Word& b = (*back)[0];
    FuzzCheck(b.keyed == w.keyed && b.key == w.key && b.value == w.value,
              "QuoteWord(w) reads back differently", std::string(line) + "\n -> " + quoted);
  }
  if (!words->empty()) (void)script::ParseArgs(*words);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines = fuzz::Lines(text, 256);
  for (std::string_view line : lines) Lexer(line);

  EngineOptions eo;
  eo.clock = std::make_shared<ManualClock>(InstantFromMicros(1740963600000000LL));
  eo.worker_threads = 1;
  Result<std::unique_ptr<Engine>> engine = Engine::Open(eo);
  FuzzCheck(engine.ok(), "in-memory engine does not open", engine.status().ToString());
  {
    ScriptOptions so;
    so.keep_going = true;
    Result<std::unique_ptr<ScriptSession>> session = ScriptSession::Create(engine->get(), so);
    FuzzCheck(session.ok(), "ScriptSession::Create failed", session.status().ToString());
    int n = 0;
    for (const char* setup : kSetup) {
      Result<std::vector<std::string>> r = (*session)->Execute(setup, ++n);
      FuzzCheck(r.ok(), "the fixed setup failed", setup + std::string(": ") + r.status().ToString());
    }
    for (std::string_view line : lines) {
      Result<std::vector<std::string>> r = (*session)->Execute(line, ++n);
      if (!r.ok()) {
        FuzzCheck(!r.status().IsCorruption() && !r.status().IsIOError(),
                  "a script line caused a storage error", std::string(line) + ": " + r.status().ToString());
      }
    }
  }
  Result<std::vector<std::string>> problems = (*engine)->Check();
  FuzzCheck(problems.ok(), "Check failed", problems.ok() ? "" : problems.status().ToString());
  std::string all;
  for (const auto& p : *problems) all += p + "\n";
  FuzzCheck(problems->empty(), "the engine checks dirty after a script", all);
  (void)(*engine)->Close();
  return 0;
}
