// caseloop/case.h — the case aggregate: commands, events, state, and the
// decider (Decide / Evolve) over the Boost.MSM lifecycle (domain.md §5).
//
//   Decide(state, command, config, now) -> events or an error   (pure)
//   Evolve(state, event) -> state                               (pure)
//
// A case is rebuilt by replaying its events through Evolve, which drives the
// same state machine that Decide consults, with no side effects. The engine
// appends the decided events with the case stream's expected version.
//
// Thread-safety: plain values and pure functions.
#ifndef CASELOOP_CASE_H_
#define CASELOOP_CASE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caseloop/case_types.h"
#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

// Who reported a case, as a citizens' channel (Open311 GeoReport v2,
// docs/open311.md) gives it. Personal data: kept only in the report event
// (issue 20 encrypts it there), never returned by a query, the event JSON
// of caseloop/json.h or Open311's GET routes.
struct ReporterContact {
  std::string email;
  std::string device_id;
  std::string account_id;
  std::string first_name;
  std::string last_name;
  std::string phone;
  bool empty() const {
    return email.empty() && device_id.empty() && account_id.empty() && first_name.empty() &&
           last_name.empty() && phone.empty();
  }
};

// A command on a case. Which fields are read depends on `type`: the command
// table (caseloop/commands.h, docs/commands.md) lists each command's fields,
// keyed as in scripts and JSON bodies (`desc` is `description`, `result` is
// `verify_pass`, `by` is `actor`); CommandFromFields builds a Command from
// such text fields. Text fields and ids must be valid UTF-8 (Decide refuses
// them otherwise).
struct Command {
  CommandType type = CommandType::kReport;
  std::string case_id;
  std::string actor;
  // Business time of the command. Empty: the engine's clock.
  std::optional<Instant> at;
  // Idempotency key; a retried command with the same id appends nothing and
  // returns the first result. Empty: the engine generates one.
  std::string command_id;
  // Optimistic concurrency (HTTP If-Match): when set, Engine::Submit and
  // SubmitAsync refuse the command with Conflict ("case C7 is at version 5,
  // not 4") unless the case is at exactly this version when the command is
  // decided — inside the case's serialization, so of two commands racing
  // with the same expected version at most one passes. A retry of a command
  // already appended (same command_id) still returns the first result.
  // Not a field of the command table. Default: unset (no check).
  std::optional<std::uint64_t> expected_version;

  std::optional<CaseKind> kind;
  std::string category;
  std::optional<ReportSource> source;
  std::string grid;
  std::string component;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string address;
  std::string description;
  // report, from Open311 only (not fields of the command table): a URL of a
  // photo or video, the jurisdiction's address id, the service's attributes
  // (code, value) and the reporter's contact.
  std::string media_url;
  std::string address_id;
  std::vector<std::pair<std::string, std::string>> attributes;
  ReporterContact contact;
  bool emergency = false;
  std::string into;
  std::string unit;
  std::optional<TimeLimit> limit;
  std::optional<Instant> deadline;  // dispatch: an explicit deadline (import)
  bool no_deadline = false;         // dispatch: a task without deadline (import)
  std::string reason;
  std::string note;
  std::optional<bool> verify_pass;
  std::uint32_t task = 0;
};

// A case event. `type` says which fields carry meaning (see the encoder in
// src/domain/case_codec.cc and docs/format.md).
struct CaseEvent {
  EventType type = EventType::kCaseReported;
  std::string case_id;
  Instant time{};
  std::string actor;

  // reported / registered (category may change at registration)
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  ReportSource source = ReportSource::kInspector;
  std::string grid;
  std::string component;
  std::optional<double> lat;
  std::optional<double> lon;
  std::string address;
  std::string description;
  // reported, from Open311 (schema 2): see Command
  std::string media_url;
  std::string address_id;
  std::vector<std::pair<std::string, std::string>> attributes;
  ReporterContact contact;
  bool emergency = false;
  // merged
  std::string into;
  // the unit concerned (dispatched, returned, feedback, verification, overdue, supervised)
  std::string unit;
  // free text
  std::string reason;
  std::string note;
  // dispatched / verification_failed: the task's full limit; extension_*: the extra time
  std::optional<TimeLimit> limit;
  // dispatched / extension_approved / resumed / verification_failed / task_overdue:
  // the task's (new) deadline; feedback_submitted: the verification deadline
  std::optional<Instant> deadline;
  // the task number (1-based; every dispatch and every rework starts a new task)
  std::uint32_t task = 0;
  // suspension_approved: time left on the task's clock
  std::int64_t remaining_us = 0;
  // feedback_submitted: the inspector assigned to verify
  std::string verifier;
  // feedback_submitted: whether the feedback met the task's deadline
  std::optional<bool> on_time;
  // request_denied: which request was denied
  PendingRequest request = PendingRequest::kNone;
};

// Everything known about a case, as replaying its events gives it.
struct CaseState {
  std::string id;
  LifecycleState state = LifecycleState::kNone;
  PendingRequest pending = PendingRequest::kNone;
  std::optional<TimeLimit> pending_limit;  // the extension asked for
  std::string pending_actor;

  CaseKind kind = CaseKind::kEvent;
  std::string category;
  ReportSource source = ReportSource::kInspector;
  std::string grid;
  std::string component;
  bool emergency = false;
  std::string reporter;  // actor of the report
  Instant reported_at{};

  std::string unit;  // current unit, or the last one once closed ("" if none)
  std::uint32_t task = 0;
  Instant task_start{};                               // when the current task's clock started
  std::optional<TimeLimit> task_limit;                // the task's limit (without extensions)
  TimeLimit::Unit clock = TimeLimit::Unit::kWorking;  // natural or working clock
  Micros task_length{0};                              // full length incl. extensions, on the task's clock
  std::optional<Instant> deadline;                    // none without a task or while suspended
  Micros remaining{0};                                // while suspended: time left on the clock
  bool overdue_marked = false;                        // a task_overdue event exists for the current task
  bool no_deadline = false;                           // the current task has no deadline (imported history)

  std::optional<Instant> feedback_time;  // the unit's latest feedback on the current task
  std::optional<bool> on_time;           // for the surviving feedback
  std::string verifier;
  std::optional<Instant> verify_deadline;

  std::uint32_t dispatches = 0;
  std::uint32_t reworks = 0;
  std::uint32_t extensions = 0;
  std::uint32_t supervisions = 0;
  std::string merged_into;
  std::uint64_t version = 0;  // number of events applied
  Instant last_event_time{};
};

// Decides what a command does to a case. `state` is the case as it is now
// (state.state == kNone when it does not exist), `now` the command's time.
// Errors (nothing is appended on any of them):
//   Rejected:  "case C7 is awaiting_verification: 'accept' is not allowed";
//              a request while another is pending; extend after the deadline;
//              the actor lacks the role, is not the case's unit, or is not
//              the assigned inspector ("actor U2 may not 'accept' case C7: it is dispatched to WATER").
//   NotFound:  unknown case (any command but report on kNone), unknown unit,
//              unknown category, unknown actor.
//   InvalidArgument: a missing required field (the command table's: reason,
//              category, result, kind, source, into, limit), a malformed one,
//              an id or text field that is not valid UTF-8.
//   Conflict:  report of a case id that already exists.
// Who may issue which command, and the events a command may produce, are the
// command table's (caseloop/commands.h). Out of memory is not bad input:
// std::bad_alloc propagates; no other exception escapes.
Result<std::vector<CaseEvent>> Decide(const CaseState& state, const Command& command, const Config& config,
                                      Instant now);

// The lifecycle state of another case, kNone when it does not exist. Lets
// Decide check the target of a merge.
using CaseLookup = std::function<LifecycleState(const std::string& case_id)>;

// As above, and a merge's `into` must name a case that `lookup` knows
// (NotFound "unknown case C9") and that is not rejected, voided or merged
// itself (Rejected). The overload without a lookup checks only that `into`
// is given and differs from the case.
Result<std::vector<CaseEvent>> Decide(const CaseState& state, const Command& command, const Config& config,
                                      Instant now, const CaseLookup& lookup);

// Applies one event. Errors: Corruption when the state machine has no
// transition for it (the log contradicts the lifecycle) — names the case,
// state and event.
Status Evolve(CaseState& state, const CaseEvent& event, const Config& config);

// A case as `show` prints it, evaluated at instant `now`.
struct CaseView {
  std::string case_id;
  LifecycleState state = LifecycleState::kNone;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  ReportSource source = ReportSource::kInspector;
  bool emergency = false;
  std::optional<std::string> unit;  // null while reported/registered/coordinating/rejected/merged
  std::optional<Instant> deadline;  // null without a task or while suspended
  std::optional<Light> light;       // null while suspended or done
  bool overdue = false;             // an open task's deadline has passed at `now`
  std::optional<bool> on_time;      // once the surviving feedback exists
  std::uint32_t dispatches = 0;
  std::uint32_t reworks = 0;
  std::uint32_t extensions = 0;
  std::uint32_t supervisions = 0;
  PendingRequest pending = PendingRequest::kNone;
  std::optional<std::string> merged_into;
  std::uint64_t version = 0;
};
CaseView ViewCase(const CaseState& state, const Config& config, Instant now);

// Event codec (cereal portable binary payloads). EncodeCaseEvent fills the
// envelope fields of a NewEvent (type name, schema version, time, actor,
// payload). DecodeCaseEvent upcasts older schema versions; a newer or unknown
// one is a Corruption error naming the position and type. Schema 2 added
// media_url, address_id, attributes and the reporter's contact (an event
// that carries none of them is still written as schema 2; a schema-1 payload
// decodes with them empty).
inline constexpr std::uint32_t kCaseEventSchemaVersion = 2;
NewEvent EncodeCaseEvent(const CaseEvent& event);
Result<CaseEvent> DecodeCaseEvent(const EventRecord& record);
// The same from a borrowed record (EventStore::ScanAll); the result owns its strings.
Result<CaseEvent> DecodeCaseEvent(const EventRecordView& record);

}  // namespace caseloop

#endif  // CASELOOP_CASE_H_
