// The case lifecycle state machine (domain.md §5) behind a small facade.
//
// The Boost.MSM back-end lives only in case_machine.cc (compiled as C++17);
// this header is C++17-clean and includes no Boost. The machine's transition
// table is the single authority on which event is allowed in which state
// (including the pending-request rules: one request pending per case, approve
// and deny only when one is pending).
//
// Triggers are the case events (EventType): Decide asks the machine whether
// the event a command would produce is allowed; Evolve fires it.
//
// Thread-safety: a CaseMachine is a value; copies are independent.
#ifndef CASELOOP_LIFECYCLE_CASE_MACHINE_H_
#define CASELOOP_LIFECYCLE_CASE_MACHINE_H_

#include <memory>
#include <string>
#include <vector>

#include "caseloop/case_types.h"

namespace caseloop {

class CaseMachine {
 public:
  CaseMachine();  // state kNone, nothing pending
  ~CaseMachine();
  CaseMachine(const CaseMachine& other);
  CaseMachine& operator=(const CaseMachine& other);
  CaseMachine(CaseMachine&&) noexcept;
  CaseMachine& operator=(CaseMachine&&) noexcept;

  // A machine positioned at (state, pending), reached by replaying a shortest
  // path of triggers from kNone (so it is only ever moved by the table).
  // REQUIRES: the pair is reachable (pending != kNone only in dispatched/handling).
  // An unreachable pair (see IsReachable) yields a fresh machine at kNone;
  // it never crashes.
  static CaseMachine At(LifecycleState state, PendingRequest pending);
  // Whether some sequence of allowed triggers leads from kNone to (state, pending).
  static bool IsReachable(LifecycleState state, PendingRequest pending);

  // Fires `trigger`. Returns false, and leaves the machine unchanged, when the
  // table has no row for it in the current state or the row's guard fails.
  bool Fire(EventType trigger);
  // Whether Fire(trigger) would succeed, without changing the machine.
  bool Allows(EventType trigger) const;

  LifecycleState state() const;
  PendingRequest pending() const;

  // One row of the transition table, for tests and docs.
  // The guard is at most one of: guard_no_pending (no request pending),
  // guard_pending != kNone (exactly that request pending), guard_any_pending
  // (some request pending); none of them set means the row has no guard.
  // Afterwards the pending request is left as it was when keeps_pending is
  // true, and is pending_after otherwise (kNone: cleared).
  struct Row {
    LifecycleState from;
    EventType trigger;
    LifecycleState to;
    bool guard_no_pending = false;                         // row requires no pending request
    PendingRequest guard_pending = PendingRequest::kNone;  // row requires this pending request
    PendingRequest pending_after = PendingRequest::kNone;  // set / cleared / kept (see keeps_pending)
    bool keeps_pending = true;
    bool guard_any_pending = false;  // row requires some request pending
  };
  // The rows as the MSM table defines them (enumerated from the table itself).
  static std::vector<Row> Table();
  // The table as a Markdown table (from | event | to | guard | pending after).
  static std::string TableMarkdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caseloop

#endif  // CASELOOP_LIFECYCLE_CASE_MACHINE_H_
