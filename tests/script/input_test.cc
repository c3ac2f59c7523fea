// The script language against hostile and clumsy input (docs/reliability.md,
// issue 14): bounded lines and words, CR line endings, messages that quote
// what the user wrote escaped and cut short, text that is not valid UTF-8,
// and out of memory reported as what it is. Also: the case commands and their
// keys come from the command table.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "caseloop/commands.h"
#include "caseloop/engine.h"
#include "caseloop/script.h"
#include "script/lexer.h"
#include "script/syntax.h"

using namespace caseloop;

namespace {

constexpr const char* kSetup =
    "calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00\n"
    "unit WATER name=\"水务局\"\n"
    "inspector I1 grid=620102\n"
    "staff R1 role=receiver\n"
    "staff L1 role=shift_leader\n"
    "category component 0101 name=\"上水井盖\" limit=4wh\n"
    "route component 0101 WATER\n";

std::unique_ptr<Engine> OpenEngine() {
  EngineOptions o;
  o.clock = std::make_shared<ManualClock>();
  auto e = Engine::Open(o);
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

struct Ran {
  Status status;
  std::string out, err;
};

Ran RunScript(Engine& engine, const std::string& text, ScriptOptions options = {}) {
  auto s = ScriptSession::Create(&engine, options);
  REQUIRE(s.ok());
  std::istringstream in(text);
  std::ostringstream out, err;
  Ran r;
  r.status = (*s)->Run(in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool HasRawControlOrInvalid(const std::string& s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n') || c == 0x7f || c >= 0xf5 || c == 0xc0 || c == 0xc1) return true;
  }
  return false;
}

// An engine that answers like `real`, except that Show throws `what`.
class ThrowingEngine final : public Engine {
 public:
  ThrowingEngine(Engine& real, std::function<void()> what) : real_(real), throw_(std::move(what)) {}
  Result<CommandAck> Submit(const Command& c) override { return real_.Submit(c); }
  void SubmitAsync(Command c, std::function<void(Result<CommandAck>)> done) override {
    real_.SubmitAsync(std::move(c), std::move(done));
  }
  std::vector<CaseBatchResult> SubmitBatch(const std::vector<CaseBatch>& b) override {
    return real_.SubmitBatch(b);
  }
  Result<CommandAck> Configure(const ConfigChange& c, std::optional<Instant> at) override {
    return real_.Configure(c, at);
  }
  Config CurrentConfig() const override { return real_.CurrentConfig(); }
  Result<CaseView> Show(const std::string&, std::optional<Instant>) override {
    throw_();
    return Status::NotFound("unreachable");
  }
  Result<CaseState> State(const std::string& id) override { return real_.State(id); }
  Result<std::vector<LoggedEvent>> History(const std::string& id, std::optional<Instant> at) override {
    return real_.History(id, at);
  }
  Result<std::vector<LoggedEvent>> ReadLog(std::uint64_t from, std::size_t max) override {
    return real_.ReadLog(from, max);
  }
  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q) override { return real_.Rates(q); }
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) override {
    return real_.Inspectors(q);
  }
  Result<CentreFigures> Centre(const PeriodQuery& q) override { return real_.Centre(q); }
  Result<std::vector<OverdueTask>> Overdue(std::optional<Instant> at) override { return real_.Overdue(at); }
  Result<std::vector<UnitWorkload>> Workload(std::optional<Instant> at) override {
    return real_.Workload(at);
  }
  Result<std::unique_ptr<Subscription>> Subscribe(std::uint64_t from,
                                                  std::function<void(const LoggedEvent&)> h) override {
    return real_.Subscribe(from, std::move(h));
  }
  Status AdvanceTo(Instant t) override { return real_.AdvanceTo(t); }
  Status Advance(Micros d) override { return real_.Advance(d); }
  Instant Now() const override { return real_.Now(); }
  Instant LatestRecordedTime() const override { return real_.LatestRecordedTime(); }
  Status WaitForProjections(std::uint64_t p) override { return real_.WaitForProjections(p); }
  Status RebuildProjections() override { return real_.RebuildProjections(); }
  Result<std::vector<std::string>> Check() override { return real_.Check(); }
  std::uint64_t SyncCount() const override { return real_.SyncCount(); }
  std::uint64_t HeadPosition() const override { return real_.HeadPosition(); }
  Result<std::vector<std::string>> ListCases(const std::string& after, std::size_t max) override {
    return real_.ListCases(after, max);
  }
  Status Close() override { return real_.Close(); }

 private:
  Engine& real_;
  std::function<void()> throw_;
};

}  // namespace

TEST_CASE("the case commands of the script language and their keys come from the command table") {
  int case_commands = 0;
  for (const script::CommandSpec& line : script::Commands()) {
    if (line.cls == script::CommandClass::kCase) ++case_commands;
  }
  int people = 0;
  for (const caseloop::CommandSpec& c : CommandTable()) {
    const script::CommandSpec* line = script::FindCommand(c.name);
    if (c.engine_only()) {
      CHECK_MESSAGE(line == nullptr, c.name, " is the engine's own command");
      continue;
    }
    ++people;
    REQUIRE_MESSAGE(line != nullptr, c.name);
    CHECK(line->cls == script::CommandClass::kCase);
    CHECK(line->command == &c);
    std::vector<std::string_view> required{"by"}, optional{"at"}, flags;
    for (const CommandField& f : c.fields) {
      if (f.scope != FieldScope::kEverywhere) continue;
      if (f.type == FieldType::kFlag) {
        flags.push_back(f.key);
      } else {
        (f.required ? required : optional).push_back(f.key);
      }
    }
    CHECK(line->required == required);
    CHECK(line->optional == optional);
    CHECK(line->flags == flags);
  }
  CHECK(people == case_commands);
  CHECK(script::Usage(*script::FindCommand("dispatch")) == "dispatch CASE by=… [at=…] [unit=…] [limit=…]");
}

TEST_CASE("CR line endings: each CR ends a line, CRLF ends one line") {
  auto engine = OpenEngine();
  std::string cr = kSetup;
  for (char& c : cr) {
    if (c == '\n') c = '\r';
  }
  ScriptOptions echo;
  echo.echo = true;
  // Before: the whole file was one line, and a comment first made it run nothing.
  Ran r =
      RunScript(*engine,
                "# a district written on an old Mac\r" + cr +
                    "at 2025-03-31T10:00\rreport A1 kind=component category=0101 source=inspector by=I1\r",
                echo);
  REQUIRE_MESSAGE(r.status.ok(), r.status.ToString(), " / ", r.err);
  CHECK(engine->CurrentConfig().units.count("WATER") == 1);
  CHECK(engine->State("A1")->state == LifecycleState::kReported);
  CHECK(r.out.find("ok 9\nok 10\n") != std::string::npos);  // line numbers count CRs
  // CRLF: one line each; a mix of both.
  auto other = OpenEngine();
  std::string crlf;
  for (char c : std::string(kSetup)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Ran mixed = RunScript(*other, crlf + "at 2025-03-31T10:00\rdispach A1 by=D1\r\n", echo);
  CHECK(mixed.status.message() == "line 9: unknown command 'dispach' (did you mean 'dispatch'?)");
}

TEST_CASE("a line longer than the limit fails with its number; the run does not hold it") {
  auto engine = OpenEngine();
  const std::string big(script::kMaxLineBytes + 10, ' ');
  Ran r = RunScript(*engine, std::string(kSetup) + "# comment" + big + "\nunit SECOND\n");
  CHECK(r.status.IsInvalidArgument());
  CHECK(r.status.message() ==
        "line 8: the line is longer than 1048576 bytes (the longest line a script may have)");
  CHECK(engine->CurrentConfig().units.count("SECOND") == 0);  // stopped there
  // With keep_going the rest of the long line is skipped and the run goes on.
  ScriptOptions keep;
  keep.keep_going = true;
  Ran k = RunScript(*engine, "unit FIRST\n" + big + "\nunit SECOND\n", keep);
  CHECK(k.err == "line 2: the line is longer than 1048576 bytes (the longest line a script may have)\n");
  CHECK(engine->CurrentConfig().units.count("SECOND") == 1);
  // One line through Execute.
  auto s = ScriptSession::Create(engine.get());
  REQUIRE(s.ok());
  CHECK((*s)->Execute(big, 3).status().message().rfind("line 3: the line is longer than", 0) == 0);
}

TEST_CASE("a word longer than the limit is refused, and never quoted whole") {
  auto engine = OpenEngine();
  auto s = ScriptSession::Create(engine.get());
  REQUIRE(s.ok());
  const std::string word(script::kMaxWordBytes + 1, 'd');
  Status st = (*s)->Execute("report A1 by=I1 desc=\"" + word + "\"").status();
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() == "the word at column 17 is longer than 65536 bytes");
  Status w = (*s)->ExecuteWords({"show", word}).status();
  CHECK(w.message() == "word 2 is longer than 65536 bytes");
  // A word within the limit quoted by a message: cut short, with its length.
  const std::string long_word(60'000, 'q');
  Status q = (*s)->Execute("frobnicate" + long_word).status();
  CHECK(q.message().size() < 200);
  CHECK(q.message().find("… (60010 bytes)") != std::string::npos);
}

TEST_CASE("messages never echo raw control characters or invalid bytes") {
  auto engine = OpenEngine();
  Ran setup = RunScript(*engine, kSetup);
  REQUIRE(setup.status.ok());
  ScriptOptions keep;
  keep.keep_going = true;
  const std::string script = std::string("at 2025-03-31T10:00\n") +
                             "dispach\xff A1 by=D1\n"  // unknown command
                             "report A1 kind=\x1b[31mred category=0101 source=inspector by=I1\n"  // bad value
                             "report B\xff"
                             "3 kind=component category=0101 source=inspector by=I1\n"
                             "report B5" +
                             std::string(1, '\0') +
                             " kind=component category=0101 source=inspector by=I1\n"
                             "unit W\xc0\xafX name=x\n"
                             "unit BIGNAME name=\"\xed\xa0\x80 surrogate\"\n"
                             "show B\xfe\n"
                             "at 2025-03-31T10:00\x07\n";
  Ran r = RunScript(*engine, script, keep);
  CHECK(r.status.IsInvalidArgument());
  CHECK_FALSE(HasRawControlOrInvalid(r.err));
  CHECK(r.err.find("line 2: unknown command 'dispach\\xff'") != std::string::npos);
  CHECK(r.err.find("line 3: bad kind=\\x1b[31mred: expected component or event") != std::string::npos);
  CHECK(r.err.find("line 4: report: case id 'B\\xff3' is not valid UTF-8 (byte 0xFF at offset 1)") !=
        std::string::npos);
  CHECK(r.err.find("line 5: ") != std::string::npos);  // refused (a NUL in an id), escaped
  CHECK(r.err.find("line 6: unit id 'W\\xc0\\xafX' is not valid UTF-8 (byte 0xC0 at offset 1)") !=
        std::string::npos);
  CHECK(r.err.find("line 7: unit name '\\xed\\xa0\\x80 surrogate' is not valid UTF-8") != std::string::npos);
  CHECK(r.err.find("line 8: case B\\xfe not found") != std::string::npos);
  CHECK(r.err.find("line 9: at: ") != std::string::npos);
  // Nothing of it was recorded.
  Config cfg = engine->CurrentConfig();
  CHECK(cfg.units.count("BIGNAME") == 0);
  CHECK(cfg.units.size() == 1);
  CHECK_FALSE(engine
                  ->State("B\xff"
                          "3")
                  .ok());
}

TEST_CASE("out of memory is not bad input: std::bad_alloc leaves the session as it is") {
  auto real = OpenEngine();
  {
    ThrowingEngine oom(*real, [] { throw std::bad_alloc(); });
    auto s = ScriptSession::Create(&oom);
    REQUIRE(s.ok());
    CHECK_THROWS_AS((void)(*s)->Execute("show A1"), std::bad_alloc);
    CHECK_THROWS_AS((void)(*s)->ExecuteWords({"show", "A1"}), std::bad_alloc);
  }
  // Any other exception is still an error of this line.
  ThrowingEngine odd(*real, [] { throw std::runtime_error("odd"); });
  auto s = ScriptSession::Create(&odd);
  REQUIRE(s.ok());
  Status st = (*s)->Execute("show A1").status();
  CHECK(st.IsInvalidArgument());
  CHECK(st.message() == "unexpected error: odd");
}
