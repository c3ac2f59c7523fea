// Decide: what a command does to a case (caseloop/case.h).
//
// The order of checks, so that a command with several problems reports the
// most basic one:
//   1. the case id; the text of every field is valid UTF-8; the case exists
//      (NotFound) or, for report, does not (Conflict); the command's time is
//      not before the case's last event (the deadline timer, actor "$timer",
//      is exempt: it dates its commands at the deadline);
//   2. the lifecycle: the state machine, positioned at the case, must allow
//      some event the command can produce (its entry in the command table,
//      caseloop/commands.h) (Rejected, naming state and command);
//   3. permissions (policy enforce_permissions): the actor is known (NotFound)
//      and is one of the command's issuers in the table (Rejected);
//   4. the command's required fields (the table), then its own decide
//      function: the other fields (InvalidArgument / NotFound), and the events;
//   5. every produced event is fired on a copy of the machine (Rejected if
//      the table refuses one: the machine is the authority).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <new>

#include "caseloop/calendar.h"
#include "caseloop/case.h"
#include "caseloop/commands.h"
#include "core/utf8.h"
#include "domain/command_fields.h"
#include "domain/domain_util.h"
#include "lifecycle/case_machine.h"

namespace caseloop {
namespace {

class Decider {
 public:
  Decider(const CaseState& s, const Command& c, const Config& cfg, Instant now, const CaseLookup* lookup)
      : s_(s), c_(c), cfg_(cfg), now_(now), lookup_(lookup), spec_(SpecOf(c.type)), name_(spec_.name) {}

  Result<std::vector<CaseEvent>> Run();

 private:
  using Events = std::vector<CaseEvent>;

  std::string Time(Instant t) const { return FormatInstant(t, cfg_.calendar); }
  Status NotAllowed(std::string_view extra = {}) const {
    std::string m = fmt::format("case {} is {}: '{}' is not allowed", c_.case_id, Name(s_.state), name_);
    if (!extra.empty()) m += fmt::format(" ({})", extra);
    return Status::Rejected(std::move(m));
  }
  Status Missing(std::string_view field) const {
    return Status::InvalidArgument(fmt::format("{} {}: missing {}", name_, c_.case_id, field));
  }
  Status Invalid(std::string_view what) const {
    return Status::InvalidArgument(fmt::format("{} {}: {}", name_, c_.case_id, what));
  }
  Status Refused(std::string_view what) const {
    return Status::Rejected(fmt::format("{} {}: {}", name_, c_.case_id, what));
  }
  Status MayNot(std::string_view who, std::string_view why) const {
    return Status::Rejected(
        fmt::format("{} {} may not '{}' case {}: {}", who, Printable(c_.actor), name_, c_.case_id, why));
  }

  Status CheckText() const;
  Status CheckLifecycle() const;
  Status CheckPermission() const;
  Status CheckRequired() const;
  Status CheckReporter() const;
  Status CheckUnitActor() const;
  Status CheckInspector() const;
  Status NeedRole(const std::vector<Role>& roles) const;
  Result<const CategoryInfo*> Category(CaseKind kind, const std::string& code) const;
  // The limit of a fresh task of the case's category (emergency-aware).
  Result<TimeLimit> CategoryLimit() const;
  std::string AssignVerifier() const;

  CaseEvent NewEvent(EventType type) const {
    CaseEvent e;
    e.type = type;
    e.case_id = c_.case_id;
    e.time = now_;
    e.actor = c_.actor;
    return e;
  }
  // An event on the case's current task (unit and task from the state).
  CaseEvent TaskEvent(EventType type) const {
    CaseEvent e = NewEvent(type);
    e.unit = s_.unit;
    e.task = s_.task;
    return e;
  }
  // Fills the task fields of a dispatched / verification_failed event: a new
  // task with `limit`, or without one the case's category's.
  Status StartTask(CaseEvent& e, std::optional<TimeLimit> limit) const;

  // One decide function per command: the command's own field checks (after
  // the required ones) and the events it produces.
  Status Decide(Events& out) const;
  Status Report(Events& out) const;
  Status Register(Events& out) const;
  Status Reject(Events& out) const;
  Status Merge(Events& out) const;
  Status Dispatch(Events& out) const;
  Status Accept(Events& out) const;
  Status Request(EventType type, Events& out) const;  // return, suspend
  Status Extend(Events& out) const;
  Status Approve(Events& out) const;
  Status Deny(Events& out) const;
  Status Resume(Events& out) const;
  Status Feedback(Events& out) const;
  Status Verify(Events& out) const;
  Status Void(Events& out) const;
  Status Supervise(Events& out) const;
  Status MarkOverdue(Events& out) const;

  const CaseState& s_;
  const Command& c_;
  const Config& cfg_;
  const Instant now_;
  const CaseLookup* lookup_;
  const CommandSpec& spec_;
  const std::string_view name_;
};

// ---- Checks -----------------------------------------------------------------

Status Decider::CheckText() const {
  CASELOOP_RETURN_IF_ERROR(
      CheckUtf8(c_.case_id, fmt::format("{}: case id {}", name_, QuotedText(c_.case_id))));
  auto check = [this](std::string_view key) -> Status {
    const std::string* text = command_fields::Text(c_, key);
    if (text == nullptr) return Status::Ok();
    return CheckUtf8(*text, fmt::format("{} {}: {}", name_, c_.case_id, key));
  };
  for (const CommandField& f : CommonFields()) CASELOOP_RETURN_IF_ERROR(check(f.key));
  for (const CommandField& f : spec_.fields) CASELOOP_RETURN_IF_ERROR(check(f.key));
  return Status::Ok();
}

Status Decider::CheckLifecycle() const {
  CaseMachine m = CaseMachine::At(s_.state, s_.pending);
  for (EventType e : spec_.events) {
    if (m.Allows(e)) return Status::Ok();
  }
  if ((c_.type == CommandType::kApprove || c_.type == CommandType::kDeny) &&
      s_.pending == PendingRequest::kNone) {
    return NotAllowed("no pending request");
  }
  if (s_.pending != PendingRequest::kNone) {
    // Refused only because of the pending request (a second request, accept
    // or feedback before the dispatcher answers)?
    CaseMachine free = CaseMachine::At(s_.state, PendingRequest::kNone);
    for (EventType e : spec_.events) {
      if (free.Allows(e)) {
        return NotAllowed(fmt::format("{} {} request is pending",
                                      s_.pending == PendingRequest::kExtend ? "an" : "a", Name(s_.pending)));
      }
    }
  }
  return NotAllowed();
}

Status Decider::CheckUnitActor() const {
  if (c_.actor == s_.unit) return Status::Ok();
  std::string_view who = cfg_.units.count(c_.actor) ? "unit" : "actor";
  if (s_.unit.empty()) return MayNot(who, "it is not dispatched to any unit");
  return MayNot(who, fmt::format("it is dispatched to {}", s_.unit));
}

Status Decider::CheckInspector() const {
  const std::string& a = c_.actor;
  if (cfg_.inspectors.count(a) == 0) return MayNot("actor", "not an inspector");
  if (!s_.verifier.empty() && s_.verifier != a) {
    return Status::Rejected(
        fmt::format("inspector {} may not {} case {}: assigned to {}", a, name_, c_.case_id, s_.verifier));
  }
  return Status::Ok();
}

Status Decider::NeedRole(const std::vector<Role>& roles) const {
  for (Role r : roles) {
    if (cfg_.HasRole(c_.actor, r)) return Status::Ok();
  }
  std::string want;
  for (Role r : roles) {
    if (!want.empty()) want += " or ";
    want += Name(r);
  }
  return MayNot("actor", fmt::format("not a {}", want));
}

// Issuers::by_source: an inspector reports what they found (source
// inspector); every other source is entered by a receiver.
Status Decider::CheckReporter() const {
  if (!c_.source) return Status::Ok();  // reported as missing with the fields
  const bool is_inspector = cfg_.inspectors.count(c_.actor) > 0;
  if (*c_.source == ReportSource::kInspector) {
    if (is_inspector) return Status::Ok();
    return MayNot("actor", "source inspector requires an inspector");
  }
  for (Role r : spec_.issuers.roles) {
    if (cfg_.HasRole(c_.actor, r)) return Status::Ok();
  }
  std::string want;
  for (Role r : spec_.issuers.roles) {
    if (!want.empty()) want += " or ";
    want += Name(r);
  }
  return MayNot("actor", fmt::format("source {} is entered by a {}{}", Name(*c_.source), want,
                                     is_inspector ? " (an inspector reports with source inspector)" : ""));
}

Status Decider::CheckPermission() const {
  if (!cfg_.policy.enforce_permissions) return Status::Ok();
  const std::string& a = c_.actor;
  if (a.empty()) return Missing("actor");
  const bool is_timer = a == kTimerActor;
  if (!is_timer && cfg_.inspectors.count(a) == 0 && cfg_.units.count(a) == 0 && cfg_.staff.count(a) == 0) {
    return Status::NotFound(fmt::format("unknown actor {}", Printable(a)));
  }
  const Issuers& who = spec_.issuers;
  if (who.by_source) return CheckReporter();
  if (who.timer && is_timer) return Status::Ok();
  // Any one issuer suffices; when none matches, the first one's refusal says why.
  Status first;
  auto consider = [&first](Status s) {
    if (s.ok()) return true;
    if (first.ok()) first = std::move(s);
    return false;
  };
  if (who.case_unit && consider(CheckUnitActor())) return Status::Ok();
  if (who.inspector && consider(CheckInspector())) return Status::Ok();
  if (!who.roles.empty() && consider(NeedRole(who.roles))) return Status::Ok();
  if (!first.ok()) return first;
  return MayNot("actor", fmt::format("only the deadline timer ({}) {}", kTimerActor, spec_.summary));
}

Status Decider::CheckRequired() const {
  for (const CommandField& f : spec_.fields) {
    if (f.required && !command_fields::Given(c_, f.key)) return Missing(f.key);
  }
  return Status::Ok();
}

Result<const CategoryInfo*> Decider::Category(CaseKind kind, const std::string& code) const {
  if (!IsCategoryCode(code)) return Invalid(fmt::format("category {} must be 4 digits", QuotedText(code)));
  const CategoryInfo* info = cfg_.FindCategory(kind, code);
  if (info == nullptr) return Status::NotFound(fmt::format("unknown category {} {}", Name(kind), code));
  return info;
}

Result<TimeLimit> Decider::CategoryLimit() const {
  auto cat = Category(s_.kind, s_.category);
  if (!cat.ok()) return cat.status();
  const CategoryInfo& info = **cat;
  if (s_.emergency && info.emergency_limit) return *info.emergency_limit;
  return info.limit;
}

std::string Decider::AssignVerifier() const {
  if (s_.source == ReportSource::kInspector && cfg_.inspectors.count(s_.reporter)) return s_.reporter;
  // The inspector with the most specific patrol area (longest matching grid
  // prefix) verifies; among equally specific ones the first by id.
  std::string best;
  std::size_t best_len = 0;
  if (!s_.grid.empty()) {
    for (const auto& [id, ins] : cfg_.inspectors) {  // ordered by id
      const std::string& p = ins.grid_prefix;
      if (p.size() > best_len && s_.grid.compare(0, p.size(), p) == 0) {
        best = id;
        best_len = p.size();
      }
    }
  }
  return best;  // "" = any inspector may verify
}

Status Decider::StartTask(CaseEvent& e, std::optional<TimeLimit> limit) const {
  if (!limit) {
    auto l = CategoryLimit();
    if (!l.ok()) return l.status();
    limit = *l;
  }
  e.task = s_.task + 1;
  CASELOOP_RETURN_IF_ERROR(CheckLimit(*limit, fmt::format("{} {}: limit", name_, c_.case_id)));
  e.limit = limit;
  e.deadline = DeadlineAfter(cfg_.calendar, now_, *limit);
  return Status::Ok();
}

// ---- One decide function per command ------------------------------------------

Status Decider::Decide(Events& out) const {
  switch (c_.type) {
    case CommandType::kReport:
      return Report(out);
    case CommandType::kRegister:
      return Register(out);
    case CommandType::kReject:
      return Reject(out);
    case CommandType::kMerge:
      return Merge(out);
    case CommandType::kDispatch:
      return Dispatch(out);
    case CommandType::kAccept:
      return Accept(out);
    case CommandType::kReturn:
      return Request(EventType::kReturnRequested, out);
    case CommandType::kExtend:
      return Extend(out);
    case CommandType::kSuspend:
      return Request(EventType::kSuspensionRequested, out);
    case CommandType::kApprove:
      return Approve(out);
    case CommandType::kDeny:
      return Deny(out);
    case CommandType::kResume:
      return Resume(out);
    case CommandType::kFeedback:
      return Feedback(out);
    case CommandType::kVerify:
      return Verify(out);
    case CommandType::kVoid:
      return Void(out);
    case CommandType::kSupervise:
      return Supervise(out);
    case CommandType::kMarkOverdue:
      return MarkOverdue(out);
  }
  return Status::InvalidArgument(fmt::format("unknown command type {}", static_cast<int>(c_.type)));
}

Status Decider::Report(Events& out) const {
  if (static_cast<std::uint8_t>(*c_.kind) > static_cast<std::uint8_t>(CaseKind::kEvent)) {
    return Invalid(fmt::format("unknown kind {}", static_cast<int>(*c_.kind)));
  }
  if (static_cast<std::uint8_t>(*c_.source) > static_cast<std::uint8_t>(ReportSource::kCitizen)) {
    return Invalid(fmt::format("unknown source {}", static_cast<int>(*c_.source)));
  }
  auto cat = Category(*c_.kind, c_.category);
  if (!cat.ok()) return cat.status();
  if (!c_.grid.empty() && (c_.grid.size() != kGridDigits || !IsDigits(c_.grid))) {
    return Invalid(fmt::format("grid {} must be {} digits", QuotedText(c_.grid), kGridDigits));
  }
  if (!c_.component.empty() && (c_.component.size() != kComponentDigits || !IsDigits(c_.component))) {
    return Invalid(fmt::format("component {} must be {} digits", QuotedText(c_.component), kComponentDigits));
  }
  if (c_.lat && !(std::isfinite(*c_.lat) && *c_.lat >= -90 && *c_.lat <= 90)) {
    return Invalid("lat must be within -90..90");
  }
  if (c_.lon && !(std::isfinite(*c_.lon) && *c_.lon >= -180 && *c_.lon <= 180)) {
    return Invalid("lon must be within -180..180");
  }
  CaseEvent e = NewEvent(EventType::kCaseReported);
  e.kind = *c_.kind;
  e.category = c_.category;
  e.source = *c_.source;
  e.grid = c_.grid;
  e.component = c_.component;
  e.lat = c_.lat;
  e.lon = c_.lon;
  e.address = c_.address;
  e.description = c_.description;
  e.emergency = c_.emergency;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Register(Events& out) const {
  CaseEvent e = NewEvent(EventType::kCaseRegistered);
  e.kind = c_.kind.value_or(s_.kind);
  if (static_cast<std::uint8_t>(e.kind) > static_cast<std::uint8_t>(CaseKind::kEvent)) {
    return Invalid(fmt::format("unknown kind {}", static_cast<int>(e.kind)));
  }
  e.category = c_.category.empty() ? s_.category : c_.category;
  if (!c_.category.empty() || e.kind != s_.kind) {
    auto cat = Category(e.kind, e.category);
    if (!cat.ok()) return cat.status();
  }
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Reject(Events& out) const {
  CaseEvent e = NewEvent(EventType::kCaseRejected);
  e.reason = c_.reason;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Merge(Events& out) const {
  if (c_.into == c_.case_id) return Invalid("a case cannot be merged into itself");
  if (lookup_ != nullptr && *lookup_) {
    LifecycleState target = (*lookup_)(c_.into);
    if (target == LifecycleState::kNone)
      return Status::NotFound(fmt::format("unknown case {}", Printable(c_.into)));
    if (target == LifecycleState::kRejected || target == LifecycleState::kVoided ||
        target == LifecycleState::kMerged) {
      return Refused(fmt::format("case {} is {}", c_.into, Name(target)));
    }
  }
  CaseEvent e = NewEvent(EventType::kCaseMerged);
  e.into = c_.into;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Dispatch(Events& out) const {
  int given = (c_.limit ? 1 : 0) + (c_.deadline ? 1 : 0) + (c_.no_deadline ? 1 : 0);
  if (given > 1) return Invalid("give at most one of limit, deadline and no_deadline");
  std::string unit;
  if (!c_.unit.empty()) {
    if (cfg_.units.count(c_.unit) == 0)
      return Status::NotFound(fmt::format("unknown unit {}", Printable(c_.unit)));
    unit = c_.unit;
  } else if (auto routed = cfg_.Route(s_.kind, s_.category, s_.grid)) {
    unit = *routed;
  } else {
    if (s_.state == LifecycleState::kCoordinating) {
      return NotAllowed(
          fmt::format("routing finds no single unit for {} {}; name the unit", Name(s_.kind), s_.category));
    }
    out.push_back(NewEvent(EventType::kCaseSentToCoordination));
    return Status::Ok();
  }
  CaseEvent e = NewEvent(EventType::kCaseDispatched);
  e.unit = unit;
  if (c_.no_deadline) {
    e.task = s_.task + 1;
  } else if (c_.deadline) {
    e.task = s_.task + 1;
    e.deadline = c_.deadline;
  } else {
    CASELOOP_RETURN_IF_ERROR(StartTask(e, c_.limit));
  }
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Accept(Events& out) const {
  out.push_back(TaskEvent(EventType::kCaseAccepted));
  return Status::Ok();
}

Status Decider::Request(EventType type, Events& out) const {
  CaseEvent e = TaskEvent(type);
  e.reason = c_.reason;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Extend(Events& out) const {
  CASELOOP_RETURN_IF_ERROR(CheckLimit(*c_.limit, fmt::format("{} {}: limit", name_, c_.case_id)));
  if (s_.no_deadline || !s_.deadline) return Refused("the task has no deadline to extend");
  if (now_ > *s_.deadline) {
    return Refused(fmt::format("a request after the deadline ({}) is refused", Time(*s_.deadline)));
  }
  CaseEvent e = TaskEvent(EventType::kExtensionRequested);
  e.limit = c_.limit;
  e.reason = c_.reason;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Approve(Events& out) const {
  const Calendar& cal = cfg_.calendar;
  CaseEvent e = TaskEvent(EventType::kReturnApproved);
  e.request = s_.pending;
  switch (s_.pending) {
    case PendingRequest::kReturn:
      break;
    case PendingRequest::kExtend: {
      if (!s_.pending_limit || !s_.deadline) return NotAllowed("the task has no deadline to extend");
      e.type = EventType::kExtensionApproved;
      e.limit = s_.pending_limit;
      e.deadline =
          AddOnClock(cal, TimeLimit::Unit::kWorking, *s_.deadline, LimitLength(cal, *s_.pending_limit));
      break;
    }
    case PendingRequest::kSuspend:
      e.type = EventType::kSuspensionApproved;
      e.remaining_us =
          s_.deadline ? RemainingTime(cal, s_.clock, now_, *s_.deadline).count() : std::int64_t{0};
      break;
    case PendingRequest::kNone:
      return NotAllowed("no pending request");
  }
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Deny(Events& out) const {
  CaseEvent e = TaskEvent(EventType::kRequestDenied);
  e.request = s_.pending;
  e.reason = c_.reason;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Resume(Events& out) const {
  CaseEvent e = TaskEvent(EventType::kCaseResumed);
  if (!s_.no_deadline) e.deadline = AddOnClock(cfg_.calendar, s_.clock, now_, s_.remaining);
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Feedback(Events& out) const {
  CaseEvent e = TaskEvent(EventType::kFeedbackSubmitted);
  e.note = c_.note;
  e.on_time = s_.no_deadline || !s_.deadline ? true : now_ <= *s_.deadline;
  e.verifier = AssignVerifier();
  const CategoryInfo* cat = cfg_.FindCategory(s_.kind, s_.category);
  TimeLimit verify_limit = cat ? cat->verify_limit : CategoryInfo{}.verify_limit;
  e.deadline = DeadlineAfter(cfg_.calendar, now_, verify_limit);
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Verify(Events& out) const {
  if (*c_.verify_pass) {
    CaseEvent e = TaskEvent(EventType::kVerificationPassed);
    e.note = c_.note;
    out.push_back(std::move(e));
    return Status::Ok();
  }
  CaseEvent e = NewEvent(EventType::kVerificationFailed);
  e.unit = s_.unit;
  e.note = c_.note;
  if (!cfg_.policy.rework_fresh_limit) {
    e.task = s_.task + 1;
    e.limit = s_.task_limit;
    e.deadline = s_.no_deadline ? std::nullopt : s_.deadline;
  } else if (s_.no_deadline) {
    e.task = s_.task + 1;
  } else {
    CASELOOP_RETURN_IF_ERROR(StartTask(e, s_.task_limit));
  }
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Void(Events& out) const {
  CaseEvent e = NewEvent(EventType::kCaseVoided);
  e.unit = s_.unit;
  e.reason = c_.reason;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::Supervise(Events& out) const {
  CaseEvent e = TaskEvent(EventType::kCaseSupervised);
  e.note = c_.note;
  out.push_back(std::move(e));
  return Status::Ok();
}

Status Decider::MarkOverdue(Events& out) const {
  if (c_.task != s_.task) return Refused(fmt::format("task {} is not the current task {}", c_.task, s_.task));
  if (s_.no_deadline || !s_.deadline) return Refused(fmt::format("task {} has no deadline", s_.task));
  if (now_ <= *s_.deadline) {
    return Refused(fmt::format("the deadline {} of task {} has not passed", Time(*s_.deadline), s_.task));
  }
  if (s_.overdue_marked) return Refused(fmt::format("task {} is already marked overdue", s_.task));
  CaseEvent e = TaskEvent(EventType::kTaskOverdue);
  e.deadline = s_.deadline;
  out.push_back(std::move(e));
  return Status::Ok();
}

// ---- The order of checks ------------------------------------------------------

Result<std::vector<CaseEvent>> Decider::Run() {
  CASELOOP_RETURN_IF_ERROR(CheckId(c_.case_id, fmt::format("{}: case", name_)));
  CASELOOP_RETURN_IF_ERROR(CheckText());
  if (c_.type == CommandType::kReport) {
    if (s_.state != LifecycleState::kNone) {
      return Status::Conflict(fmt::format("case {} already exists", c_.case_id));
    }
  } else if (s_.state == LifecycleState::kNone) {
    return Status::NotFound(fmt::format("unknown case {}", c_.case_id));
  }
  // The deadline timer dates its commands at the deadline (+1 µs), which may
  // precede events recorded while the timer was late; it is exempt.
  if (s_.state != LifecycleState::kNone && now_ < s_.last_event_time && c_.actor != kTimerActor) {
    return Invalid(
        fmt::format("time {} is before the case's last event at {}", Time(now_), Time(s_.last_event_time)));
  }
  CASELOOP_RETURN_IF_ERROR(CheckLifecycle());
  CASELOOP_RETURN_IF_ERROR(CheckPermission());
  CASELOOP_RETURN_IF_ERROR(CheckRequired());
  std::vector<CaseEvent> events;
  CASELOOP_RETURN_IF_ERROR(Decide(events));
  CaseMachine m = CaseMachine::At(s_.state, s_.pending);
  for (const CaseEvent& e : events) {
    if (!m.Fire(e.type)) return NotAllowed();
  }
  return events;
}

}  // namespace

Result<std::vector<CaseEvent>> Decide(const CaseState& state, const Command& command, const Config& config,
                                      Instant now, const CaseLookup& lookup) {
  if (static_cast<int>(command.type) >= kCommandTypeCount) {
    return Status::InvalidArgument(fmt::format("unknown command type {}", static_cast<int>(command.type)));
  }
  try {
    return Decider(state, command, config, now, &lookup).Run();
  } catch (const std::bad_alloc&) {
    throw;  // out of memory is not bad input: the caller reports it as what it is
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        fmt::format("{} {}: {}", Name(command.type), Printable(command.case_id), e.what()));
  }
}

Result<std::vector<CaseEvent>> Decide(const CaseState& state, const Command& command, const Config& config,
                                      Instant now) {
  return Decide(state, command, config, now, CaseLookup{});
}

}  // namespace caseloop
