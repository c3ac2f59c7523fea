// Engine::FindCases (the case list from the case-list projection) against a
// reference: every case's State and ViewCase, filtered one by one. Random
// lifecycles reach every state; pages are walked with small limits.
#include <doctest/doctest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "engine_test_util.h"

namespace caseloop::test {
namespace {

struct Rand {
  std::uint64_t s;
  std::uint64_t Next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<std::uint64_t>(n)); }
};

// Random commands on `n` cases (refusals are expected and ignored).
void RandomDistrict(Engine& e, int n, std::uint64_t seed) {
  Rand r{seed};
  const char* grids[] = {"620102001001001", "620102001002007", "620103004001001", ""};
  struct Cat {
    CaseKind kind;
    const char* code;
  };
  const Cat cats[] = {{CaseKind::kComponent, "0101"},
                      {CaseKind::kEvent, "0102"},
                      {CaseKind::kComponent, "0109"},
                      {CaseKind::kEvent, "0301"}};
  std::vector<std::string> ids;
  Instant now = e.Now();
  for (int i = 0; i < n; ++i) {
    now = now + Micros(std::int64_t{1 + r.Below(90)} * 60'000'000);
    REQUIRE(e.AdvanceTo(now).ok());
    const std::string id = "C" + std::to_string(1000 + i);
    const Cat& cat = cats[r.Below(4)];
    Command rep = Report(id, cat.kind, cat.code);
    rep.grid = grids[r.Below(4)];
    if (r.Below(3) == 0) {
      rep.actor = "R1";
      rep.source = ReportSource::kHotline;
    }
    MustSubmit(e, rep);
    ids.push_back(id);
    // A few steps on some earlier cases.
    for (int k = 0; k < 3; ++k) {
      const std::string& c = ids[static_cast<std::size_t>(r.Below(static_cast<int>(ids.size())))];
      Result<CaseState> s = e.State(c);
      REQUIRE(s.ok());
      Command cmd;
      switch (s->state) {
        case LifecycleState::kReported: {
          const int pick = r.Below(10);
          cmd = Cmd(pick < 7   ? CommandType::kRegister
                    : pick < 9 ? CommandType::kReject
                               : CommandType::kVoid,
                    c,
                    pick < 7   ? "L1"
                    : pick < 9 ? "R1"
                               : "L1");
          cmd.reason = "test";
          break;
        }
        case LifecycleState::kRegistered:
          cmd = Cmd(CommandType::kDispatch, c, "D1");
          break;
        case LifecycleState::kDispatched:
          cmd = Cmd(r.Below(5) == 0 ? CommandType::kReturn : CommandType::kAccept, c, s->unit);
          cmd.reason = "not ours";
          if (s->pending != PendingRequest::kNone) cmd = Cmd(CommandType::kApprove, c, "D1");
          break;
        case LifecycleState::kHandling: {
          if (s->pending != PendingRequest::kNone) {
            cmd = Cmd(r.Below(2) ? CommandType::kApprove : CommandType::kDeny, c, "D1");
            break;
          }
          const int pick = r.Below(6);
          cmd = Cmd(pick < 3   ? CommandType::kFeedback
                    : pick < 4 ? CommandType::kSuspend
                    : pick < 5 ? CommandType::kExtend
                               : CommandType::kSupervise,
                    c, pick == 5 ? "S1" : s->unit);
          cmd.reason = "r";
          cmd.note = "n";
          cmd.limit = TimeLimit::WorkingHours(3);
          if (pick == 5) cmd.unit = s->unit;
          break;
        }
        case LifecycleState::kSuspended:
          cmd = Cmd(CommandType::kResume, c, "D1");
          break;
        case LifecycleState::kAwaitingVerification:
          cmd = Cmd(CommandType::kVerify, c, "I1");
          cmd.verify_pass = r.Below(3) != 0;
          break;
        default:
          continue;
      }
      (void)e.Submit(cmd);
    }
  }
}

// The reference: every case, one by one.
std::set<std::string> Expected(Engine& e, const CaseFilter& f, Instant at) {
  std::set<std::string> out;
  Result<std::vector<std::string>> ids = e.ListCases("", 1'000'000);
  REQUIRE(ids.ok());
  const Config cfg = e.CurrentConfig();
  for (const std::string& id : *ids) {
    Result<CaseState> s = e.State(id);
    REQUIRE(s.ok());
    const CaseView v = ViewCase(*s, cfg, at);
    if (f.state && s->state != *f.state) continue;
    if (!f.unit.empty() && s->unit != f.unit) continue;
    if (f.light && v.light != f.light) continue;
    if (f.kind && s->kind != *f.kind) continue;
    if (!f.category.empty() && s->category != f.category) continue;
    if (!f.grid.empty() && s->grid.rfind(f.grid, 0) != 0) continue;
    if (f.reported_from && s->reported_at < *f.reported_from) continue;
    if (f.reported_to && s->reported_at >= *f.reported_to) continue;
    out.insert(id);
  }
  return out;
}

// Every page of the list, with the light checked against show's.
std::set<std::string> Walk(Engine& e, CaseFilter f, Instant at, std::size_t limit) {
  std::set<std::string> out;
  f.limit = limit;
  const Config cfg = e.CurrentConfig();
  for (int pages = 0; pages < 10'000; ++pages) {
    Result<CasePage> page = e.FindCases(f);
    REQUIRE_MESSAGE(page.ok(), page.status().ToString());
    CHECK(page->cases.size() <= limit);
    for (const CaseSummary& c : page->cases) {
      CHECK_MESSAGE(out.insert(c.case_id).second, "repeated " << c.case_id);
      Result<CaseState> s = e.State(c.case_id);
      REQUIRE(s.ok());
      CHECK(c.state == s->state);
      CHECK(c.unit == s->unit);
      CHECK(c.light == ViewCase(*s, cfg, at).light);
    }
    if (page->next.empty()) return out;
    f.cursor = page->next;
  }
  FAIL("the list did not end");
  return out;
}

}  // namespace

TEST_CASE("case list: every filter and page walk == the cases filtered one by one, also after a rebuild") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  RandomDistrict(*e, 400, 7);
  const Instant at = e->Now();

  std::vector<CaseFilter> filters;
  filters.emplace_back();
  for (int s = 1; s < kLifecycleStateCount; ++s) {
    CaseFilter f;
    f.state = static_cast<LifecycleState>(s);
    filters.push_back(f);
  }
  for (Light l : {Light::kGreen, Light::kYellow, Light::kRed}) {
    CaseFilter f;
    f.light = l;
    filters.push_back(f);
    f.unit = "WATER";
    filters.push_back(f);
  }
  for (const char* u : {"WATER", "STREET", "POWER", "BUILD", "NOPE"}) {
    CaseFilter f;
    f.unit = u;
    filters.push_back(f);
    f.state = LifecycleState::kHandling;
    filters.push_back(f);
  }
  for (const char* g : {"620102", "620102001002", "620103004001001", "9"}) {
    CaseFilter f;
    f.grid = g;
    filters.push_back(f);
  }
  {
    CaseFilter f;
    f.category = "0101";
    filters.push_back(f);
    f.kind = CaseKind::kEvent;  // no event has 0101 here
    filters.push_back(f);
    f.kind = CaseKind::kComponent;
    f.state = LifecycleState::kClosed;
    filters.push_back(f);
  }
  {
    CaseFilter f;
    f.reported_from = T("2025-04-02T00:00");
    filters.push_back(f);
    f.reported_to = T("2025-04-05T00:00");
    filters.push_back(f);
    f.state = LifecycleState::kDispatched;
    f.grid = "620102";
    filters.push_back(f);
  }

  std::map<std::size_t, std::set<std::string>> first;
  std::size_t nonempty = 0;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const std::set<std::string> want = Expected(*e, filters[i], at);
    if (!want.empty()) ++nonempty;
    for (std::size_t limit : {1, 7, 1000})
      CHECK_MESSAGE(Walk(*e, filters[i], at, limit) == want, "filter " << i);
    first[i] = want;
  }
  CHECK(nonempty > filters.size() / 2);  // the random district reaches most filters
  // Every light and many states occur (the test would pass vacuously otherwise).
  for (std::size_t i = 13; i < 19; i += 2) CHECK_FALSE(first[i].empty());

  Result<std::vector<std::string>> problems = e->Check();
  REQUIRE(problems.ok());
  CHECK(problems->empty());

  REQUIRE(e->RebuildProjections().ok());
  for (std::size_t i = 0; i < filters.size(); ++i) CHECK(Walk(*e, filters[i], at, 50) == first[i]);
}

TEST_CASE("case list: a cursor belongs to its filter; a bad one or a bad limit is InvalidArgument") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  for (const char* id : {"A1", "A2", "A3"}) OpenWaterCase(*e, id, T("2025-03-31T09:00"));
  CaseFilter f;
  f.limit = 2;
  Result<CasePage> p = e->FindCases(f);
  REQUIRE(p.ok());
  REQUIRE(p->cases.size() == 2);
  CHECK(p->cases[0].case_id == "A1");
  REQUIRE_FALSE(p->next.empty());
  CaseFilter other;
  other.unit = "WATER";
  other.cursor = p->next;
  CHECK(e->FindCases(other).status().IsInvalidArgument());
  other.cursor = "zz";
  CHECK(e->FindCases(other).status().IsInvalidArgument());
  f.cursor = p->next;
  p = e->FindCases(f);
  REQUIRE(p.ok());
  REQUIRE(p->cases.size() == 1);
  CHECK(p->cases[0].case_id == "A3");
  CHECK(p->cases[0].unit == "WATER");
  CHECK(p->cases[0].state == LifecycleState::kHandling);
  CHECK(p->cases[0].light == std::optional<Light>(Light::kGreen));
  CHECK(p->next.empty());
  f.limit = 0;
  CHECK(e->FindCases(f).status().IsInvalidArgument());
  f.limit = 1001;
  CHECK(e->FindCases(f).status().IsInvalidArgument());
  REQUIRE(e->Close().ok());
  CHECK(e->FindCases(CaseFilter{}).status().IsUnavailable());
}

}  // namespace caseloop::test

namespace caseloop::test {

TEST_CASE(
    "expected_version (If-Match) is checked when the command is decided: of racing commands one passes") {
  auto e = MustOpen(ManualOptions(T("2025-03-31T08:00")));
  ConfigureDistrict(*e);
  OpenWaterCase(*e, "A1", T("2025-03-31T09:00"), /*accept=*/false);
  REQUIRE(e->AdvanceTo(T("2025-03-31T09:30")).ok());
  const std::uint64_t v = e->State("A1")->version;
  // Sequential: the right version passes, a stale one is Conflict naming both.
  Command stale = Cmd(CommandType::kSupervise, "A1", "S1");
  stale.expected_version = v - 1;
  Result<CommandAck> r = e->Submit(stale);
  REQUIRE(r.status().IsConflict());
  CHECK(r.status().message() ==
        "case A1 is at version " + std::to_string(v) + ", not " + std::to_string(v - 1));
  CHECK(e->State("A1")->version == v);
  // Racing: 16 supervisions all expecting version v, submitted at once.
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, passed = 0, conflicts = 0;
  for (int i = 0; i < 16; ++i) {
    Command c = Cmd(CommandType::kSupervise, "A1", "S1");
    c.expected_version = v;
    c.command_id = "race-" + std::to_string(i);
    e->SubmitAsync(c, [&](Result<CommandAck> a) {
      std::lock_guard<std::mutex> lock(mu);
      if (a.ok()) ++passed;
      if (a.status().IsConflict()) ++conflicts;
      if (!a.ok() && !a.status().IsConflict()) FAIL_CHECK(a.status().ToString());
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == 16; });
  }
  CHECK(passed == 1);
  CHECK(conflicts == 15);
  CHECK(e->State("A1")->version == v + 1);
  // A retry of the command that passed returns its first answer, though the version moved on.
  int first_answers = 0;
  for (int i = 0; i < 16; ++i) {
    Command c = Cmd(CommandType::kSupervise, "A1", "S1");
    c.expected_version = v;
    c.command_id = "race-" + std::to_string(i);
    Result<CommandAck> again = e->Submit(c);
    if (again.ok()) {
      ++first_answers;
      CHECK(again->duplicate);
    } else {
      CHECK(again.status().IsConflict());
    }
  }
  CHECK(first_answers == 1);
  CHECK(e->State("A1")->version == v + 1);
}

}  // namespace caseloop::test
