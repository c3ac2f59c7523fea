// The deadline projection: Overdue, DueBefore, Workload as tasks open, move
// and close.
#include <doctest/doctest.h>

#include "history.h"

namespace caseloop::testing {
namespace {

std::vector<std::string> Cases(const std::vector<OverdueTask>& v) {
  std::vector<std::string> out;
  for (const auto& t : v) out.push_back(t.case_id);
  return out;
}
std::vector<std::string> Cases(const std::vector<OpenTask>& v) {
  std::vector<std::string> out;
  for (const auto& t : v) out.push_back(t.case_id);
  return out;
}
using Names = std::vector<std::string>;

struct Fixture {
  Storage storage = NewMemoryStorage();
  std::shared_ptr<EventStore> store = storage.log;
  std::unique_ptr<Projections> p = Projections::Create(store.get(), storage.projections.get());
  History h;

  void Sync() {
    h.Flush(store.get());
    REQUIRE(p->CatchUp().ok());
    auto problems = p->Check();
    REQUIRE(problems.ok());
    CHECK(problems->empty());
    for (const auto& line : *problems) MESSAGE(line);
  }
  std::vector<OverdueTask> Overdue(Instant at) {
    auto r = p->Overdue(at);
    REQUIRE(r.ok());
    return *r;
  }
  std::vector<OpenTask> DueBefore(Instant t, std::size_t max = 100) {
    auto r = p->DueBefore(t, max);
    REQUIRE(r.ok());
    return *r;
  }
  std::vector<UnitWorkload> Workload(Instant at) {
    auto r = p->Workload(at);
    REQUIRE(r.ok());
    return *r;
  }
};

TEST_CASE("deadline projection follows tasks through the lifecycle") {
  Fixture f;
  f.h.Open("C1", At("2025-04-01T09:00"), "A", At("2025-04-02T10:00"));
  f.h.Open("C2", At("2025-04-01T09:00"), "A", At("2025-04-02T09:00"));
  f.h.Open("C3", At("2025-04-01T09:00"), "A", std::nullopt);
  f.h.Open("C4", At("2025-04-01T09:00"), "B", At("2025-04-03T09:00"));
  f.h.Accept("C1", At("2025-04-01T09:30"), "A");
  f.Sync();

  const Instant t = At("2025-04-02T11:20:24");
  auto overdue = f.Overdue(t);
  CHECK(Cases(overdue) == Names{"C2", "C1"});  // by deadline
  CHECK(overdue[0].unit == "A");
  CHECK(overdue[0].deadline == At("2025-04-02T09:00"));
  CHECK(overdue[0].overdue_hours == 2.34);
  CHECK(overdue[1].overdue_hours == 1.34);
  CHECK(f.Overdue(At("2025-04-02T09:00")).empty());  // deadline exactly at the instant: not overdue

  CHECK(Cases(f.DueBefore(At("2025-04-02T10:00"))) == Names{"C2", "C1"});  // deadline <= t
  CHECK(Cases(f.DueBefore(At("2025-04-02T09:59:59"))) == Names{"C2"});
  CHECK(Cases(f.DueBefore(At("2025-05-01T00:00"), 1)) == Names{"C2"});
  CHECK(f.DueBefore(At("2025-05-01T00:00"), 0).empty());
  auto all = f.DueBefore(At("2025-05-01T00:00"));
  CHECK(Cases(all) == Names{"C2", "C1", "C4"});
  CHECK(all[0].task == 1);
  CHECK_FALSE(all[0].overdue_marked);

  auto w = f.Workload(t);
  REQUIRE(w.size() == 2);
  CHECK(w[0].unit == "A");
  CHECK(w[0].open_tasks == 3);  // including C3 without deadline
  CHECK(w[0].overdue_tasks == 2);
  CHECK(w[1].unit == "B");
  CHECK(w[1].open_tasks == 1);
  CHECK(w[1].overdue_tasks == 0);

  SUBCASE("the timer marks a task overdue once: it leaves DueBefore, stays in Overdue") {
    f.h.MarkOverdue("C2", At("2025-04-02T09:00"), "A", 1);
    f.h.MarkOverdue("C1", At("2025-04-02T10:00"), "A", 7);  // another task: ignored
    f.Sync();
    CHECK(Cases(f.DueBefore(At("2025-04-02T10:00"))) == Names{"C1"});
    CHECK(Cases(f.Overdue(t)) == Names{"C2", "C1"});

    SUBCASE("rework gives a new task that is armed again") {
      f.h.Feedback("C2", At("2025-04-02T12:00"), "A", false);
      f.Sync();
      CHECK(Cases(f.Overdue(t)) == Names{"C1"});
      f.h.Fail("C2", At("2025-04-02T13:00"), "A", At("2025-04-06T13:00"), 2);
      f.Sync();
      auto due = f.DueBefore(At("2025-05-01T00:00"));
      CHECK(Cases(due) == Names{"C1", "C4", "C2"});
      CHECK(due[2].task == 2);
      CHECK(f.Workload(t)[0].open_tasks == 3);
      f.h.Feedback("C2", At("2025-04-03T12:00"), "A", true);
      f.h.Pass("C2", At("2025-04-03T13:00"));
      f.Sync();
      CHECK(f.Workload(t)[0].open_tasks == 2);
    }
  }

  SUBCASE("an extension moves the task") {
    f.h.Extend("C1", At("2025-04-01T12:00"), "A", At("2025-04-05T10:00"));
    f.Sync();
    CHECK(Cases(f.Overdue(t)) == Names{"C2"});
    CHECK(Cases(f.DueBefore(At("2025-05-01T00:00"))) == Names{"C2", "C4", "C1"});
  }

  SUBCASE("suspension removes the task, resume brings it back with its new deadline") {
    f.h.Suspend("C4", At("2025-04-01T12:00"), "B");
    f.Sync();
    auto w2 = f.Workload(t);
    REQUIRE(w2.size() == 1);
    CHECK(w2[0].unit == "A");
    CHECK(Cases(f.DueBefore(At("2025-05-01T00:00"))) == Names{"C2", "C1"});
    f.h.Resume("C4", At("2025-04-08T09:00"), "B", At("2025-04-10T09:00"));
    f.Sync();
    CHECK(Cases(f.DueBefore(At("2025-05-01T00:00"))) == Names{"C2", "C1", "C4"});
    CHECK(f.Workload(At("2025-04-11T00:00"))[1].overdue_tasks == 1);
  }

  SUBCASE("return, void, feedback and close remove tasks") {
    f.h.Return("C1", At("2025-04-01T12:00"), "A");
    f.h.Void("C3", At("2025-04-01T12:00"));
    f.h.Feedback("C4", At("2025-04-01T12:00"), "B", true);
    f.Sync();
    auto w2 = f.Workload(t);
    REQUIRE(w2.size() == 1);
    CHECK(w2[0].unit == "A");
    CHECK(w2[0].open_tasks == 1);
    CHECK(Cases(f.Overdue(t)) == Names{"C2"});
    // Re-dispatched after the return: the new unit's task.
    f.h.Dispatch("C1", At("2025-04-01T13:00"), "B", At("2025-04-02T08:00"), 2);
    f.h.Pass("C4", At("2025-04-01T13:00"));
    f.Sync();
    overdue = f.Overdue(t);
    CHECK(Cases(overdue) == Names{"C1", "C2"});
    CHECK(overdue[0].unit == "B");
    w2 = f.Workload(t);
    REQUIRE(w2.size() == 2);
    CHECK(w2[1].unit == "B");
    CHECK(w2[1].open_tasks == 1);
    CHECK(w2[1].overdue_tasks == 1);
  }
}

}  // namespace
}  // namespace caseloop::testing
