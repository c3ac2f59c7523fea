// Stable text names of the domain enums (caseloop/case_types.h).
#include <array>
#include <string_view>

#include "caseloop/case_types.h"

namespace caseloop {
namespace {

constexpr std::array<std::string_view, 2> kKinds = {"component", "event"};
constexpr std::array<std::string_view, 5> kSources = {"inspector", "video", "hotline", "grid", "citizen"};
constexpr std::array<std::string_view, kLifecycleStateCount> kStates = {
    "none",     "reported",  "registered",           "coordinating", "dispatched", "handling",
    "suspended", "awaiting_verification", "closed", "rejected",     "voided",     "merged"};
constexpr std::array<std::string_view, 4> kPending = {"none", "return", "extend", "suspend"};
constexpr std::array<std::string_view, kCommandTypeCount> kCommands = {
    "report", "register", "reject", "merge",  "dispatch", "accept", "return", "extend",    "suspend",
    "approve", "deny",    "resume", "feedback", "verify", "void",   "supervise", "mark_overdue"};
constexpr std::array<std::string_view, kEventTypeCount> kEvents = {
    "case_reported",        "case_registered",     "case_rejected",         "case_merged",
    "case_dispatched",      "case_sent_to_coordination", "case_accepted",   "return_requested",
    "extension_requested",  "suspension_requested", "return_approved",      "extension_approved",
    "suspension_approved",  "request_denied",      "case_resumed",          "feedback_submitted",
    "verification_passed",  "verification_failed", "case_voided",           "case_supervised",
    "task_overdue"};
constexpr std::array<std::string_view, 4> kRoles = {"receiver", "shift_leader", "dispatcher", "supervisor"};
constexpr std::array<std::string_view, 3> kLights = {"green", "yellow", "red"};

template <typename E, std::size_t N>
std::string_view NameIn(const std::array<std::string_view, N>& names, E v) {
  auto i = static_cast<std::size_t>(v);
  return i < N ? names[i] : std::string_view("unknown");
}

template <typename E, std::size_t N>
std::optional<E> ParseIn(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view Name(CaseKind v) { return NameIn(kKinds, v); }
std::string_view Name(ReportSource v) { return NameIn(kSources, v); }
std::string_view Name(LifecycleState v) { return NameIn(kStates, v); }
std::string_view Name(PendingRequest v) { return NameIn(kPending, v); }
std::string_view Name(CommandType v) { return NameIn(kCommands, v); }
std::string_view Name(EventType v) { return NameIn(kEvents, v); }
std::string_view Name(Role v) { return NameIn(kRoles, v); }
std::string_view Name(Light v) { return NameIn(kLights, v); }

std::optional<CaseKind> ParseCaseKind(std::string_view s) { return ParseIn<CaseKind>(kKinds, s); }
std::optional<ReportSource> ParseReportSource(std::string_view s) { return ParseIn<ReportSource>(kSources, s); }
std::optional<LifecycleState> ParseLifecycleState(std::string_view s) {
  return ParseIn<LifecycleState>(kStates, s);
}
std::optional<CommandType> ParseCommandType(std::string_view s) { return ParseIn<CommandType>(kCommands, s); }
std::optional<EventType> ParseEventType(std::string_view s) { return ParseIn<EventType>(kEvents, s); }
std::optional<Role> ParseRole(std::string_view s) { return ParseIn<Role>(kRoles, s); }

bool IsOpen(LifecycleState s) {
  switch (s) {
    case LifecycleState::kReported:
    case LifecycleState::kRegistered:
    case LifecycleState::kCoordinating:
    case LifecycleState::kDispatched:
    case LifecycleState::kHandling:
    case LifecycleState::kSuspended:
    case LifecycleState::kAwaitingVerification:
      return true;
    default:
      return false;
  }
}

}  // namespace caseloop
