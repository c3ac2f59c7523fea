// The command table (caseloop/commands.h): its invariants against the enums
// and the state machine, the text-fields mapping, the generated reference
// docs/commands.md (regenerate with
//   CASELOOP_UPDATE_DOCS=1 ./build/bin/domain_test -tc='docs/commands.md*'),
// and Decide reading who may issue a command from it.
#include "caseloop/commands.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "domain_test_util.h"
#include "lifecycle/case_machine.h"

using namespace caseloop;
using namespace caseloop::testing;

namespace {

Command Must(CommandType type, const std::string& id, const TextFields& fields) {
  Result<Command> c = CommandFromFields(type, id, fields, 8 * 60);
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  return *c;
}

std::string ErrorOf(CommandType type, const TextFields& fields) {
  Result<Command> c = CommandFromFields(type, "A1", fields, 8 * 60);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().IsInvalidArgument());
  return c.status().message();
}

}  // namespace

TEST_CASE("the table: one entry per command type, in order, named as the enum") {
  const auto& table = CommandTable();
  REQUIRE(table.size() == static_cast<std::size_t>(kCommandTypeCount));
  std::set<EventType> produced;
  for (int i = 0; i < kCommandTypeCount; ++i) {
    const CommandSpec& s = table[i];
    CHECK(s.type == static_cast<CommandType>(i));
    CHECK(s.name == Name(s.type));
    CHECK(&SpecOf(s.type) == &s);
    CHECK(FindCommandSpec(s.name) == &s);
    CHECK_FALSE(s.summary.empty());
    CHECK_FALSE(s.events.empty());
    for (EventType e : s.events) produced.insert(e);
    std::set<std::string_view> keys;
    for (const CommandField& f : s.fields) {
      CHECK_MESSAGE(keys.insert(f.key).second, s.name, ": field ", f.key, " twice");
      for (const CommandField& c : CommonFields()) CHECK(f.key != c.key);
      if (f.type == FieldType::kChoice) CHECK_FALSE(f.choices.empty());
      if (!f.partner.empty()) CHECK(s.Field(f.partner) != nullptr);
      CHECK_FALSE(f.doc.empty());
    }
  }
  CHECK(FindCommandSpec("dispach") == nullptr);
  // Every event type is produced by exactly the commands that list it, and
  // every event a command lists is a trigger of the state machine.
  CHECK(produced.size() == static_cast<std::size_t>(kEventTypeCount));
  std::set<EventType> triggers;
  for (const CaseMachine::Row& r : CaseMachine::Table()) triggers.insert(r.trigger);
  for (EventType e : produced) CHECK_MESSAGE(triggers.count(e) == 1, Name(e));
  // The fields every command takes.
  REQUIRE(CommonFields().size() == 3);
  CHECK(CommonFields()[0].key == "by");
  CHECK(CommonFields()[0].required);
  CHECK(CommonFields()[1].key == "at");
  CHECK(CommonFields()[2].scope == FieldScope::kHost);
  // Only the deadline timer marks a task overdue.
  CHECK(SpecOf(CommandType::kMarkOverdue).engine_only());
  CHECK_FALSE(SpecOf(CommandType::kSupervise).engine_only());
  CHECK(SpecOf(CommandType::kSupervise).issuers.timer);
}

TEST_CASE("CommandFromFields: every field reaches the Command, typed, at the calendar's offset") {
  Command r = Must(CommandType::kReport, "A5",
                   {{"kind", "event"},
                    {"category", "0401"},
                    {"source", "hotline"},
                    {"grid", "620102001001005"},
                    {"component", "6201020101000001"},
                    {"lat", "36.05"},
                    {"lon", "103.79"},
                    {"address", "No. 5 \"West\" Road"},
                    {"desc", "road caved in"},
                    {"emergency", "true"},
                    {"by", "R1"},
                    {"at", "2025-04-05T22:10"},
                    {"command_id", "k-1"}});
  CHECK(r.type == CommandType::kReport);
  CHECK(r.case_id == "A5");
  CHECK(r.kind == CaseKind::kEvent);
  CHECK(r.category == "0401");
  CHECK(r.source == ReportSource::kHotline);
  CHECK(r.grid == "620102001001005");
  CHECK(r.component == "6201020101000001");
  CHECK(r.lat == 36.05);
  CHECK(r.lon == 103.79);
  CHECK(r.address == "No. 5 \"West\" Road");
  CHECK(r.description == "road caved in");
  CHECK(r.emergency);
  CHECK(r.actor == "R1");
  CHECK(r.at == T("2025-04-05T22:10"));
  CHECK(r.command_id == "k-1");

  Command d = Must(CommandType::kDispatch, "A5",
                   {{"unit", "WATER"}, {"deadline", "2025-04-07T09:00Z"}, {"by", "D1"}});
  CHECK(d.unit == "WATER");
  CHECK(d.deadline == *ParseInstant("2025-04-07T17:00", 480));
  CHECK(Must(CommandType::kDispatch, "A5", {{"no_deadline", "true"}}).no_deadline);
  CHECK(Must(CommandType::kExtend, "A5", {{"limit", "1wd"}, {"reason", "rain"}}).limit ==
        TimeLimit::WorkingDays(1));
  CHECK(Must(CommandType::kVerify, "A5", {{"result", "fail"}}).verify_pass == false);
  CHECK(Must(CommandType::kVerify, "A5", {{"result", "pass"}, {"note", "ok"}}).verify_pass == true);
  CHECK(Must(CommandType::kMarkOverdue, "A5", {{"task", "2"}}).task == 2);
  CHECK(Must(CommandType::kMerge, "A5", {{"into", "A1"}}).into == "A1");
  // An empty text is the same as none; required fields are Decide's business.
  Command empty = Must(CommandType::kReject, "A5", {{"reason", ""}});
  CHECK(empty.reason.empty());
}

TEST_CASE("CommandFromFields: errors name the key and quote the text") {
  using CT = CommandType;
  CHECK(ErrorOf(CT::kDispatch, {{"unt", "WATER"}}) ==
        "unknown key 'unt' for 'dispatch' (allowed: unit, limit, deadline, no_deadline, by, at, command_id)");
  CHECK(ErrorOf(CT::kAccept, {{"by", "D1"}, {"by", "D2"}}) == "key 'by' given twice");
  CHECK(ErrorOf(CT::kReport, {{"kind", "thing"}}) == "bad kind=thing: expected component or event");
  CHECK(ErrorOf(CT::kReport, {{"source", "pigeon"}}) ==
        "bad source=pigeon: expected inspector, video, hotline, grid or citizen");
  CHECK(ErrorOf(CT::kReport, {{"lat", "36"}}) == "lat= and lon= go together: give both or neither");
  CHECK(ErrorOf(CT::kReport, {{"lon", "36"}}) == "lat= and lon= go together: give both or neither");
  CHECK(ErrorOf(CT::kReport, {{"lat", "north"}, {"lon", "1"}}) == "bad number lat=north");
  CHECK(ErrorOf(CT::kReport, {{"lat", "91"}, {"lon", "1"}}) == "bad lat=91: must be -90 to 90");
  CHECK(ErrorOf(CT::kReport, {{"lat", "1"}, {"lon", "-181"}}) == "bad lon=-181: must be -180 to 180");
  CHECK(ErrorOf(CT::kReport, {{"emergency", "yes"}}) == "bad value emergency=yes: expected true or false");
  CHECK(ErrorOf(CT::kVerify, {{"result", "maybe"}}) == "bad result=maybe: expected pass or fail");
  CHECK(ErrorOf(CT::kDispatch, {{"limit", "10x"}}).rfind("limit: bad time limit '10x'", 0) == 0);
  CHECK(ErrorOf(CT::kAccept, {{"at", "2025-03-31T25:00"}}) == "at: bad hour 25 in '2025-03-31T25:00'");
  CHECK(ErrorOf(CT::kMarkOverdue, {{"task", "-1"}}) == "bad task=-1: must be 0 to 4294967295");
  CHECK(ErrorOf(CT::kMarkOverdue, {{"task", "x"}}) == "bad integer task=x");
  // History fields are keys of the mapping, not of the script language.
  CHECK(SpecOf(CT::kDispatch).Field("deadline")->scope == FieldScope::kHistory);
  // Fields are read in the table's order: the first problem is reported.
  CHECK(ErrorOf(CT::kReport, {{"at", "soon"}, {"source", "pigeon"}, {"kind", "thing"}}) ==
        "bad kind=thing: expected component or event");
  // What a message quotes is escaped and cut short.
  CHECK(ErrorOf(CT::kReport, {{"kind", std::string("a\0b\xff", 4)}}) ==
        "bad kind=a\\x00b\\xff: expected component or event");
  const std::string huge = ErrorOf(CT::kReport, {{"kind", std::string(1'000'000, 'k')}});
  CHECK(huge.size() < 200);
  CHECK(huge.find("… (1000000 bytes)") != std::string::npos);
  // An invalid type.
  CHECK_FALSE(CommandFromFields(static_cast<CommandType>(99), "A1", {}, 0).ok());
}

TEST_CASE(
    "Decide: ids and text fields that are not valid UTF-8 are refused (X\\xff, X\\xfe and X\\uFFFD "
    "are not three cases that print alike)") {
  Sim sim(WorkedConfig());
  sim.At("2025-03-31T10:00");
  auto report = [](const std::string& id) {
    return Report(id, CaseKind::kComponent, "0101", ReportSource::kInspector, "", "I1");
  };
  Status ff = sim.Run(report("X\xff"));
  CHECK(ff.IsInvalidArgument());
  CHECK(ff.message() == "report: case id 'X\\xff' is not valid UTF-8 (byte 0xFF at offset 1)");
  CHECK(sim.Run(report("X\xfe")).IsInvalidArgument());
  sim.Ok(report("X\xef\xbf\xbd"));  // U+FFFD itself is valid text
  CHECK(sim.cases().size() == 1);
  // Overlong forms, surrogates, truncated sequences.
  for (const std::string bad : {"W\xc0\xafX", "\xed\xa0\x80", "A\xe6\x9c", "\xf4\x90\x80\x80"}) {
    CHECK_MESSAGE(sim.Run(report(bad)).IsInvalidArgument(), bad);
  }
  // Every text field of the command, and its actor and idempotency key.
  Command desc = report("C1");
  desc.description = "\xff\xfe\xc3\x28 broken";
  Status s = sim.Run(desc);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "report C1: desc is not valid UTF-8 (byte 0xFF at offset 0)");
  Command actor = report("C1");
  actor.actor = "I\xff";
  CHECK(sim.Run(actor).message() == "report C1: by is not valid UTF-8 (byte 0xFF at offset 1)");
  Command key = report("C1");
  key.command_id = "k\x80";
  CHECK(sim.Run(key).message() == "report C1: command_id is not valid UTF-8 (byte 0x80 at offset 1)");
  Command address = report("C1");
  address.address = "西津西路 12 号";  // Chinese is fine
  sim.Ok(address);
  Command reason = Cmd(CommandType::kReject, "C1", "R1");
  reason.reason = "not \xc3\x28 ours";
  CHECK(sim.Run(reason).message() == "reject C1: reason is not valid UTF-8 (byte 0xC3 at offset 4)");
  CHECK(sim.State("C1").state == LifecycleState::kReported);
}

TEST_CASE("configuration changes: ids and names that are not valid UTF-8 are refused") {
  CHECK(CheckConfigChangeText(UnitChange("WATER", "水务局")).ok());
  Status unit = CheckConfigChangeText(UnitChange("W\xc0\xafX", "x"));
  CHECK(unit.IsInvalidArgument());
  CHECK(unit.message() == "unit id 'W\\xc0\\xafX' is not valid UTF-8 (byte 0xC0 at offset 1)");
  CHECK(CheckConfigChangeText(UnitChange("WATER", "\xed\xa0\x80 surrogate")).message() ==
        "unit name '\\xed\\xa0\\x80 surrogate' is not valid UTF-8 (byte 0xED at offset 0)");
  CHECK_FALSE(CheckConfigChangeText(InspectorChange("I\xff", "")).ok());
  CHECK_FALSE(CheckConfigChangeText(StaffChange("S\xfe", {Role::kReceiver})).ok());
  CHECK_FALSE(CheckConfigChangeText(CategoryChange(CaseKind::kEvent, "0102", "caf\xe9", "1wd")).ok());
  CHECK_FALSE(CheckConfigChangeText(RouteChange(CaseKind::kEvent, "0102", "W\xff", "")).ok());
  CHECK(CheckConfigChangeText(CategoryChange(CaseKind::kEvent, "0102", "暴露垃圾", "1wd")).ok());
}

TEST_CASE("Decide: out of memory is not bad input") {
  Sim sim(WorkedConfig());
  sim.At("2025-03-31T10:00");
  sim.Ok(Report("C1", CaseKind::kComponent, "0101", ReportSource::kInspector, "", "I1"));
  sim.Ok(Report("C2", CaseKind::kComponent, "0101", ReportSource::kInspector, "", "I1"));
  Command merge = Cmd(CommandType::kMerge, "C1", "R1");
  merge.into = "C2";
  const CaseState state = sim.State("C1");
  CaseLookup oom = [](const std::string&) -> LifecycleState { throw std::bad_alloc(); };
  CHECK_THROWS_AS((void)Decide(state, merge, sim.config(), T("2025-03-31T10:05"), oom), std::bad_alloc);
  // Any other exception is still an error on this command, never a crash.
  CaseLookup odd = [](const std::string&) -> LifecycleState { throw std::runtime_error("lookup failed"); };
  Result<std::vector<CaseEvent>> r = Decide(state, merge, sim.config(), T("2025-03-31T10:05"), odd);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().IsInvalidArgument());
  CHECK(r.status().message() == "merge C1: lookup failed");
}

TEST_CASE("docs/commands.md holds the current CommandTableMarkdown()") {
  constexpr char kBegin[] = "<!-- BEGIN GENERATED: CommandTableMarkdown() -->\n";
  constexpr char kEnd[] = "<!-- END GENERATED -->";
  const std::string path = std::string(CASELOOP_SOURCE_DIR) + "/docs/commands.md";
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  in.close();
  const std::size_t begin = text.find(kBegin);
  const std::size_t end = text.find(kEnd);
  REQUIRE_MESSAGE(begin != std::string::npos, path, " lacks the marker line ", kBegin);
  REQUIRE_MESSAGE(end != std::string::npos, path, " lacks the marker line ", kEnd);
  REQUIRE(begin < end);
  const std::size_t from = begin + sizeof(kBegin) - 1;
  const std::string current = text.substr(from, end - from);
  const std::string wanted = CommandTableMarkdown();
  const char* update = std::getenv("CASELOOP_UPDATE_DOCS");
  if (update != nullptr && std::string(update) == "1" && current != wanted) {
    text.replace(from, end - from, wanted);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE_MESSAGE(out.good(), "cannot write ", path);
    MESSAGE("rewrote the command reference in ", path);
    return;
  }
  CHECK_MESSAGE(current == wanted, path,
                " is out of date with the command table; regenerate it with\n"
                "  CASELOOP_UPDATE_DOCS=1 <build>/bin/domain_test -tc='docs/commands.md*'\n"
                "and commit the result. Expected between the markers:\n",
                wanted);
}
