// caseloop/case_types.h — the enumerations of the case domain and their
// stable text names (domain.md §3, §5).
//
// This header is C++17-clean on purpose: the Boost.MSM translation unit
// (compiled as C++17) includes it.
//
// On-disk format: the numeric values of every enum below are stored in
// events. Do not renumber; add new values at the end.
#ifndef CASELOOP_CASE_TYPES_H_
#define CASELOOP_CASE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace caseloop {

// 部件 component or 事件 event.
enum class CaseKind : std::uint8_t { kComponent = 0, kEvent = 1 };

enum class ReportSource : std::uint8_t {
  kInspector = 0,
  kVideo = 1,
  kHotline = 2,
  kGrid = 3,
  kCitizen = 4,
};

// The lifecycle states of domain.md §5. kNone: the case does not exist yet.
enum class LifecycleState : std::uint8_t {
  kNone = 0,
  kReported = 1,
  kRegistered = 2,
  kCoordinating = 3,
  kDispatched = 4,
  kHandling = 5,
  kSuspended = 6,
  kAwaitingVerification = 7,
  kClosed = 8,
  kRejected = 9,
  kVoided = 10,
  kMerged = 11,
};
inline constexpr int kLifecycleStateCount = 12;

// The request waiting for the dispatcher's approve / deny (at most one per case).
enum class PendingRequest : std::uint8_t { kNone = 0, kReturn = 1, kExtend = 2, kSuspend = 3 };

// The commands of the case lifecycle. kMarkOverdue is issued by the engine's
// deadline timer, never by a person.
enum class CommandType : std::uint8_t {
  kReport = 0,
  kRegister = 1,
  kReject = 2,
  kMerge = 3,
  kDispatch = 4,
  kAccept = 5,
  kReturn = 6,
  kExtend = 7,
  kSuspend = 8,
  kApprove = 9,
  kDeny = 10,
  kResume = 11,
  kFeedback = 12,
  kVerify = 13,
  kVoid = 14,
  kSupervise = 15,
  kMarkOverdue = 16,
};
inline constexpr int kCommandTypeCount = 17;

// The events of the case lifecycle (past tense). They are also the triggers of
// the state machine: replaying a case's events through the machine rebuilds it.
enum class EventType : std::uint8_t {
  kCaseReported = 0,
  kCaseRegistered = 1,
  kCaseRejected = 2,
  kCaseMerged = 3,
  kCaseDispatched = 4,          // registered/coordinating -> dispatched (a unit, a deadline)
  kCaseSentToCoordination = 5,  // registered -> coordinating (routing found 0 or 2+ units)
  kCaseAccepted = 6,
  kReturnRequested = 7,
  kExtensionRequested = 8,
  kSuspensionRequested = 9,
  kReturnApproved = 10,         // -> registered; the case leaves the unit
  kExtensionApproved = 11,      // deadline moves later
  kSuspensionApproved = 12,     // -> suspended; the clock stops
  kRequestDenied = 13,
  kCaseResumed = 14,            // suspended -> handling; the clock runs again
  kFeedbackSubmitted = 15,      // handling -> awaiting_verification
  kVerificationPassed = 16,     // -> closed
  kVerificationFailed = 17,     // -> dispatched to the same unit, fresh limit (rework)
  kCaseVoided = 18,
  kCaseSupervised = 19,
  kTaskOverdue = 20,            // the deadline timer: once per task
};
inline constexpr int kEventTypeCount = 21;

enum class Role : std::uint8_t { kReceiver = 0, kShiftLeader = 1, kDispatcher = 2, kSupervisor = 3 };

// Traffic light of an open task (domain.md §6).
enum class Light : std::uint8_t { kGreen = 0, kYellow = 1, kRed = 2 };

// Stable lower-case names, as used in scripts, JSON and docs:
//   CaseKind: "component", "event"
//   ReportSource: "inspector", "video", "hotline", "grid", "citizen"
//   LifecycleState: "none", "reported", "registered", "coordinating", "dispatched",
//     "handling", "suspended", "awaiting_verification", "closed", "rejected",
//     "voided", "merged"
//   PendingRequest: "none", "return", "extend", "suspend"
//   CommandType: "report", "register", ..., "supervise", "mark_overdue"
//   EventType: snake_case, "case_reported" ... "task_overdue"
//   Role: "receiver", "shift_leader", "dispatcher", "supervisor"
//   Light: "green", "yellow", "red"
std::string_view Name(CaseKind v);
std::string_view Name(ReportSource v);
std::string_view Name(LifecycleState v);
std::string_view Name(PendingRequest v);
std::string_view Name(CommandType v);
std::string_view Name(EventType v);
std::string_view Name(Role v);
std::string_view Name(Light v);

// Inverse of Name(); nullopt for an unknown name.
std::optional<CaseKind> ParseCaseKind(std::string_view s);
std::optional<ReportSource> ParseReportSource(std::string_view s);
std::optional<LifecycleState> ParseLifecycleState(std::string_view s);
std::optional<CommandType> ParseCommandType(std::string_view s);
std::optional<EventType> ParseEventType(std::string_view s);
std::optional<Role> ParseRole(std::string_view s);

// True for the states from which `void` is allowed (reported ... awaiting_verification).
bool IsOpen(LifecycleState s);

}  // namespace caseloop

#endif  // CASELOOP_CASE_TYPES_H_
