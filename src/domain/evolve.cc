// Evolve (one event onto a case) and ViewCase (caseloop/case.h).
//
// Evolve reads everything time-related from the event (deadlines, remaining
// time, the task's limit); the calendar is consulted only to measure a task's
// full length for the traffic light.
#include <fmt/format.h>

#include <algorithm>

#include "caseloop/calendar.h"
#include "caseloop/case.h"
#include "lifecycle/case_machine.h"

namespace caseloop {
namespace {

// Starts a new task at event time: the unit's clock runs from `e.time`.
void StartTask(CaseState& s, const CaseEvent& e, const Config& config) {
  s.task = e.task;
  s.task_start = e.time;
  s.task_limit = e.limit;
  s.deadline = e.deadline;
  s.no_deadline = !e.deadline.has_value();
  s.remaining = Micros{0};
  s.overdue_marked = false;
  s.feedback_time.reset();
  s.on_time.reset();
  s.verifier.clear();
  s.verify_deadline.reset();
  if (e.limit) {
    s.clock =
        e.limit->unit == TimeLimit::Unit::kNatural ? TimeLimit::Unit::kNatural : TimeLimit::Unit::kWorking;
    s.task_length = LimitLength(config.calendar, *e.limit);
  } else {
    // An explicit deadline (imported history) runs on the natural clock.
    s.clock = TimeLimit::Unit::kNatural;
    s.task_length = e.deadline ? std::max(Micros{0}, *e.deadline - e.time) : Micros{0};
  }
}

void ClearPending(CaseState& s) {
  s.pending_limit.reset();
  s.pending_actor.clear();
}

}  // namespace

Status Evolve(CaseState& s, const CaseEvent& e, const Config& config) {
  if (static_cast<int>(e.type) >= kEventTypeCount) {
    return Status::Corruption(fmt::format("case {}: unknown event type {} at version {}", s.id,
                                          static_cast<int>(e.type), s.version + 1));
  }
  CaseMachine m = CaseMachine::At(s.state, s.pending);
  if (!m.Fire(e.type)) {
    std::string id = s.id.empty() ? e.case_id : s.id;
    return Status::Corruption(fmt::format(
        "case {} is {}{}: event '{}' at version {} is not allowed", id, Name(s.state),
        s.pending == PendingRequest::kNone ? std::string()
                                           : fmt::format(" (a {} request is pending)", Name(s.pending)),
        Name(e.type), s.version + 1));
  }
  const CaseState before = s;
  s.state = m.state();
  s.pending = m.pending();

  switch (e.type) {
    case EventType::kCaseReported:
      s.id = e.case_id;
      s.kind = e.kind;
      s.category = e.category;
      s.source = e.source;
      s.grid = e.grid;
      s.component = e.component;
      s.emergency = e.emergency;
      s.reporter = e.actor;
      s.reported_at = e.time;
      break;
    case EventType::kCaseRegistered:
      s.kind = e.kind;
      if (!e.category.empty()) s.category = e.category;
      break;
    case EventType::kCaseRejected:
      break;
    case EventType::kCaseMerged:
      s.merged_into = e.into;
      break;
    case EventType::kCaseDispatched:
      s.unit = e.unit;
      StartTask(s, e, config);
      s.dispatches += 1;
      break;
    case EventType::kCaseSentToCoordination:
      s.unit.clear();
      break;
    case EventType::kCaseAccepted:
      break;
    case EventType::kReturnRequested:
    case EventType::kSuspensionRequested:
      s.pending_limit.reset();
      s.pending_actor = e.actor;
      break;
    case EventType::kExtensionRequested:
      s.pending_limit = e.limit;
      s.pending_actor = e.actor;
      break;
    case EventType::kReturnApproved:
      // The case leaves the unit: no unit, no task clock.
      ClearPending(s);
      s.unit.clear();
      s.deadline.reset();
      s.task_limit.reset();
      s.task_length = Micros{0};
      s.remaining = Micros{0};
      s.no_deadline = false;
      s.overdue_marked = false;
      s.on_time.reset();
      s.feedback_time.reset();
      break;
    case EventType::kExtensionApproved:
      ClearPending(s);
      if (s.clock == TimeLimit::Unit::kNatural) {
        if (e.deadline && before.deadline) s.task_length += *e.deadline - *before.deadline;
      } else if (e.limit) {
        s.task_length += LimitLength(config.calendar, *e.limit);
      }
      s.deadline = e.deadline;
      s.extensions += 1;
      break;
    case EventType::kSuspensionApproved:
      ClearPending(s);
      s.remaining = Micros{e.remaining_us};
      s.deadline.reset();
      break;
    case EventType::kRequestDenied:
      ClearPending(s);
      break;
    case EventType::kCaseResumed:
      s.deadline = e.deadline;
      s.remaining = Micros{0};
      break;
    case EventType::kFeedbackSubmitted:
      s.feedback_time = e.time;
      s.on_time = e.on_time;
      s.verifier = e.verifier;
      s.verify_deadline = e.deadline;
      break;
    case EventType::kVerificationPassed:
      break;
    case EventType::kVerificationFailed: {
      if (!e.unit.empty()) s.unit = e.unit;
      const bool same_deadline = e.deadline.has_value() && e.deadline == before.deadline;
      if (same_deadline) {
        // Policy rework_fresh_limit = false: the previous deadline stays.
        s.task = e.task;
        s.overdue_marked = false;
        s.feedback_time.reset();
        s.on_time.reset();
        s.verifier.clear();
        s.verify_deadline.reset();
      } else {
        StartTask(s, e, config);
      }
      s.dispatches += 1;
      s.reworks += 1;
      break;
    }
    case EventType::kCaseVoided:
      ClearPending(s);
      break;
    case EventType::kCaseSupervised:
      s.supervisions += 1;
      break;
    case EventType::kTaskOverdue:
      // Once per task: an extension or a resume later does not clear it.
      s.overdue_marked = true;
      break;
  }
  s.version += 1;
  // The latest business time seen (a timer event may be dated earlier).
  s.last_event_time = std::max(s.last_event_time, e.time);
  return Status::Ok();
}

CaseView ViewCase(const CaseState& s, const Config& config, Instant now) {
  CaseView v;
  v.case_id = s.id;
  v.state = s.state;
  v.kind = s.kind;
  v.category = s.category;
  v.source = s.source;
  v.emergency = s.emergency;
  v.on_time = s.on_time;
  v.dispatches = s.dispatches;
  v.reworks = s.reworks;
  v.extensions = s.extensions;
  v.supervisions = s.supervisions;
  v.pending = s.pending;
  v.version = s.version;
  if (s.state == LifecycleState::kMerged) v.merged_into = s.merged_into;

  switch (s.state) {
    case LifecycleState::kNone:
    case LifecycleState::kReported:
    case LifecycleState::kRegistered:
    case LifecycleState::kCoordinating:
    case LifecycleState::kRejected:
    case LifecycleState::kMerged:
      break;
    default:
      if (!s.unit.empty()) v.unit = s.unit;
  }

  const bool open_task = s.state == LifecycleState::kDispatched || s.state == LifecycleState::kHandling;
  const bool has_task_deadline = open_task || s.state == LifecycleState::kAwaitingVerification;
  if (has_task_deadline && s.deadline && !s.no_deadline) v.deadline = s.deadline;

  if (open_task && v.deadline) {
    const Instant deadline = *v.deadline;
    if (now > deadline) {
      v.overdue = true;
      v.light = Light::kRed;
    } else {
      const Micros remaining = RemainingTime(config.calendar, s.clock, now, deadline);
      const Micros length = s.task_length;
      // elapsed fraction = 1 - remaining / length, compared in integers:
      // elapsed * 100 <= yellow_percent * length.
      const Micros elapsed = std::max(Micros{0}, length - remaining);
      if (length <= Micros{0} ||
          elapsed.count() * 100 > static_cast<std::int64_t>(config.policy.yellow_percent) * length.count()) {
        v.light = Light::kYellow;
      } else {
        v.light = Light::kGreen;
      }
    }
  }
  return v;
}

}  // namespace caseloop
