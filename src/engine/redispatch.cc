// Engine::Redispatch: the open tasks of retired units, from the case list
// (Engine::FindCases, by unit and state) and the configuration.
#include <algorithm>

#include "caseloop/engine.h"

namespace caseloop {

Result<std::vector<RedispatchTask>> Engine::Redispatch(std::optional<Instant> at) {
  const Config cfg = CurrentConfig();
  std::vector<RedispatchTask> out;
  for (const auto& [id, unit] : cfg.units) {  // ordered by id
    if (!unit.retired) continue;
    std::vector<RedispatchTask> tasks;
    for (LifecycleState state :
         {LifecycleState::kDispatched, LifecycleState::kHandling, LifecycleState::kSuspended}) {
      CaseFilter f;
      f.unit = id;
      f.state = state;
      f.at = at;
      f.limit = 1000;
      do {
        Result<CasePage> page = FindCases(f);
        if (!page.ok()) return page.status();
        for (const CaseSummary& c : page->cases) {
          if (c.unit != id || c.state != state) continue;  // the filter's own guarantee, kept
          RedispatchTask t;
          t.case_id = c.case_id;
          t.unit = id;
          t.unit_name = unit.name;
          t.retired = *unit.retired;
          t.state = c.state;
          t.pending = c.pending;
          t.kind = c.kind;
          t.category = c.category;
          t.grid = c.grid;
          t.deadline = c.deadline;
          t.light = c.light;
          tasks.push_back(std::move(t));
        }
        f.cursor = page->next;
      } while (!f.cursor.empty());
    }
    std::sort(tasks.begin(), tasks.end(),
              [](const RedispatchTask& a, const RedispatchTask& b) { return a.case_id < b.case_id; });
    for (RedispatchTask& t : tasks) out.push_back(std::move(t));
  }
  return out;
}

}  // namespace caseloop
