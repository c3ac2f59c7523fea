// Engine::FindCases: the case list from the case-list projection
// (src/projections/case_list_projection.h). The projection narrows the
// candidates by its indexes; the light of an open task that is not red is
// the engine's own (ViewCase on the case's state), so the list and `show`
// never disagree.
#include "engine/engine_impl.h"

namespace caseloop {

Result<CasePage> EngineImpl::FindCases(const CaseFilter& filter) {
  if (!Enter()) return ClosedError("case list");
  GateGuard guard{this};
  if (filter.limit < 1 || filter.limit > 1000) {
    return Status::InvalidArgument("case list: limit must be 1 to 1000, not " + std::to_string(filter.limit));
  }
  CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
  std::shared_ptr<const Config> cfg = config();
  const Instant at = QueryInstant(filter.at, std::nullopt, clock_->Now());
  Status failed;
  auto accept = [&](CaseSummary& c) {
    if (c.deadline) {
      if (at > *c.deadline) {
        c.light = Light::kRed;  // as ViewCase: past the deadline
      } else {
        // Green or yellow: the share of the task's length elapsed, which
        // the calendar measures; the case's state knows the length.
        const std::string& id = c.case_id;
        std::lock_guard<CaseLocks::Stripe> case_lock(locks_.For(id));
        Result<CaseState> state = LoadState(id, *cfg, /*fill_cache=*/false);
        if (!state.ok()) {
          failed = state.status();
          return false;
        }
        c.light = ViewCase(*state, *cfg, at).light;
      }
    }
    if (filter.light && c.light != filter.light) return false;
    return !filter.visible || filter.visible(c);
  };
  Result<CasePage> page = projections_->FindCases(filter, at, accept);
  if (!failed.ok()) return failed;
  return page;
}

}  // namespace caseloop
