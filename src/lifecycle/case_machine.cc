// The case lifecycle machine (domain.md §5) on Boost.MSM.
//
// This is the only translation unit that includes Boost.MSM; it is compiled
// as C++17 (see CMakeLists.txt). The transition table below is the single
// authority: Fire, Allows, At and Table() all go through it.
//
// The table has more than 20 rows, so MPL must be told to generate larger
// sequences before any Boost header is included.
#define BOOST_MPL_CFG_NO_PREPROCESSED_HEADERS
#define BOOST_MPL_LIMIT_VECTOR_SIZE 50  // a multiple of 10; mpl/vector/vector50.hpp exists
#define BOOST_MPL_LIMIT_MAP_SIZE 50     // mpl/map/map50.hpp exists

#include "lifecycle/case_machine.h"

#include <array>
#include <boost/mpl/for_each.hpp>
#include <boost/mpl/size.hpp>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace caseloop {
namespace {

namespace mpl = boost::mpl;
namespace msm = boost::msm;
namespace msmf = boost::msm::front;

// ---------------------------------------------------------------------------
// States and events: one MSM type per enum value, each carrying its value so
// the table can be read back (Table()) and the current state mapped.

template <LifecycleState S>
struct St : msmf::state<> {
  static constexpr LifecycleState kState = S;
};
using None = St<LifecycleState::kNone>;
using Reported = St<LifecycleState::kReported>;
using Registered = St<LifecycleState::kRegistered>;
using Coordinating = St<LifecycleState::kCoordinating>;
using Dispatched = St<LifecycleState::kDispatched>;
using Handling = St<LifecycleState::kHandling>;
using Suspended = St<LifecycleState::kSuspended>;
using AwaitingVerification = St<LifecycleState::kAwaitingVerification>;
using Closed = St<LifecycleState::kClosed>;
using Rejected = St<LifecycleState::kRejected>;
using Voided = St<LifecycleState::kVoided>;
using Merged = St<LifecycleState::kMerged>;

template <EventType E>
struct Ev {
  static constexpr EventType kEvent = E;
};
using CaseReported = Ev<EventType::kCaseReported>;
using CaseRegistered = Ev<EventType::kCaseRegistered>;
using CaseRejected = Ev<EventType::kCaseRejected>;
using CaseMerged = Ev<EventType::kCaseMerged>;
using CaseDispatched = Ev<EventType::kCaseDispatched>;
using CaseSentToCoordination = Ev<EventType::kCaseSentToCoordination>;
using CaseAccepted = Ev<EventType::kCaseAccepted>;
using ReturnRequested = Ev<EventType::kReturnRequested>;
using ExtensionRequested = Ev<EventType::kExtensionRequested>;
using SuspensionRequested = Ev<EventType::kSuspensionRequested>;
using ReturnApproved = Ev<EventType::kReturnApproved>;
using ExtensionApproved = Ev<EventType::kExtensionApproved>;
using SuspensionApproved = Ev<EventType::kSuspensionApproved>;
using RequestDenied = Ev<EventType::kRequestDenied>;
using CaseResumed = Ev<EventType::kCaseResumed>;
using FeedbackSubmitted = Ev<EventType::kFeedbackSubmitted>;
using VerificationPassed = Ev<EventType::kVerificationPassed>;
using VerificationFailed = Ev<EventType::kVerificationFailed>;
using CaseVoided = Ev<EventType::kCaseVoided>;
using CaseSupervised = Ev<EventType::kCaseSupervised>;
using TaskOverdue = Ev<EventType::kTaskOverdue>;

// ---------------------------------------------------------------------------
// Guards (pure: they only read the pending request) and actions (they only
// record the decision in the machine's `pending` member). Each also says how
// it appears in a CaseMachine::Row, so Table() is read from the table.

struct NoPending {
  template <class Evt, class Fsm, class Src, class Tgt>
  bool operator()(const Evt&, Fsm& fsm, Src&, Tgt&) const {
    return fsm.pending == PendingRequest::kNone;
  }
  static void Describe(CaseMachine::Row& row) { row.guard_no_pending = true; }
};

template <PendingRequest P>
struct PendingIs {
  static_assert(P != PendingRequest::kNone, "use NoPending");
  template <class Evt, class Fsm, class Src, class Tgt>
  bool operator()(const Evt&, Fsm& fsm, Src&, Tgt&) const {
    return fsm.pending == P;
  }
  static void Describe(CaseMachine::Row& row) { row.guard_pending = P; }
};

struct AnyPending {
  template <class Evt, class Fsm, class Src, class Tgt>
  bool operator()(const Evt&, Fsm& fsm, Src&, Tgt&) const {
    return fsm.pending != PendingRequest::kNone;
  }
  static void Describe(CaseMachine::Row& row) { row.guard_any_pending = true; }
};

template <PendingRequest P>
struct SetPending {
  template <class Evt, class Fsm, class Src, class Tgt>
  void operator()(const Evt&, Fsm& fsm, Src&, Tgt&) const {
    fsm.pending = P;
  }
  static void Describe(CaseMachine::Row& row) {
    row.keeps_pending = false;
    row.pending_after = P;
  }
};
using ClearPending = SetPending<PendingRequest::kNone>;

// How a row's Guard / Action field reads into a CaseMachine::Row. msmf::none
// (no guard, no action) leaves the defaults; any other functor must have a
// Describe, so a new kind of guard or action fails to compile until Table()
// can show it.
template <class F>
struct Describer {
  static void Describe(CaseMachine::Row& row) { F::Describe(row); }
};
template <>
struct Describer<msmf::none> {
  static void Describe(CaseMachine::Row&) {}
};

// Target msmf::none marks an internal transition: the state stays.
template <class Source, class Target>
struct TargetState {
  static constexpr LifecycleState kState = Target::kState;
};
template <class Source>
struct TargetState<Source, msmf::none> {
  static constexpr LifecycleState kState = Source::kState;
};

// ---------------------------------------------------------------------------
// The front-end: the transition table of domain.md §5.

struct CaseFsmDef : msmf::state_machine_def<CaseFsmDef> {
  using initial_state = None;
  // Events are only processed from CaseMachine::Fire, never from actions.
  using no_message_queue = int;

  // The one outstanding request (return / extend / suspend), if any.
  PendingRequest pending = PendingRequest::kNone;
  // Refusals seen (no row for the event in the current state). Guard
  // rejections are reported by process_event's result instead.
  std::size_t refusals = 0;
  // Set when an action threw (none does today); Fire then restores the machine.
  bool exception_seen = false;

  template <class Fsm, class Evt>
  void no_transition(const Evt&, Fsm&, int) {
    ++refusals;  // recorded, never asserted: a refusal is ordinary input
  }
  template <class Fsm, class Evt>
  void exception_caught(const Evt&, Fsm&, std::exception&) {
    exception_seen = true;
  }

  using Pr = PendingRequest;
  // clang-format off
  struct transition_table : mpl::vector<
      //        from                  event                   to                    action                  guard
      msmf::Row<None,                 CaseReported,           Reported>,
      msmf::Row<Reported,             CaseRegistered,         Registered>,
      msmf::Row<Reported,             CaseRejected,           Rejected>,
      msmf::Row<Reported,             CaseMerged,             Merged>,
      msmf::Row<Registered,           CaseDispatched,         Dispatched>,
      msmf::Row<Registered,           CaseSentToCoordination, Coordinating>,
      msmf::Row<Coordinating,         CaseDispatched,         Dispatched>,
      msmf::Row<Dispatched,           CaseAccepted,           Handling,             msmf::none,             NoPending>,
      // Requests: one pending at a time.
      msmf::Row<Dispatched,           ReturnRequested,        Dispatched,           SetPending<Pr::kReturn>,  NoPending>,
      msmf::Row<Handling,             ReturnRequested,        Handling,             SetPending<Pr::kReturn>,  NoPending>,
      msmf::Row<Handling,             ExtensionRequested,     Handling,             SetPending<Pr::kExtend>,  NoPending>,
      msmf::Row<Handling,             SuspensionRequested,    Handling,             SetPending<Pr::kSuspend>, NoPending>,
      // Approvals answer exactly the pending request.
      msmf::Row<Dispatched,           ReturnApproved,         Registered,           ClearPending,           PendingIs<Pr::kReturn>>,
      msmf::Row<Handling,             ReturnApproved,         Registered,           ClearPending,           PendingIs<Pr::kReturn>>,
      msmf::Row<Handling,             ExtensionApproved,      Handling,             ClearPending,           PendingIs<Pr::kExtend>>,
      msmf::Row<Handling,             SuspensionApproved,     Suspended,            ClearPending,           PendingIs<Pr::kSuspend>>,
      // A denial leaves the case as it was, without the request.
      msmf::Row<Dispatched,           RequestDenied,          Dispatched,           ClearPending,           AnyPending>,
      msmf::Row<Handling,             RequestDenied,          Handling,             ClearPending,           AnyPending>,
      msmf::Row<Suspended,            CaseResumed,            Handling>,
      msmf::Row<Handling,             FeedbackSubmitted,      AwaitingVerification, msmf::none,             NoPending>,
      msmf::Row<AwaitingVerification, VerificationPassed,     Closed>,
      msmf::Row<AwaitingVerification, VerificationFailed,     Dispatched>,  // rework: same unit, fresh limit
      // Void from every open state; a pending request goes with the case.
      msmf::Row<Reported,             CaseVoided,             Voided,               ClearPending>,
      msmf::Row<Registered,           CaseVoided,             Voided,               ClearPending>,
      msmf::Row<Coordinating,         CaseVoided,             Voided,               ClearPending>,
      msmf::Row<Dispatched,           CaseVoided,             Voided,               ClearPending>,
      msmf::Row<Handling,             CaseVoided,             Voided,               ClearPending>,
      msmf::Row<Suspended,            CaseVoided,             Voided,               ClearPending>,
      msmf::Row<AwaitingVerification, CaseVoided,             Voided,               ClearPending>,
      // Internal transitions: recorded, state and pending request unchanged.
      msmf::Row<Dispatched,           CaseSupervised,         msmf::none>,
      msmf::Row<Handling,             CaseSupervised,         msmf::none>,
      msmf::Row<Dispatched,           TaskOverdue,            msmf::none>,
      msmf::Row<Handling,             TaskOverdue,            msmf::none>
  > {};
  // clang-format on
};

using CaseFsm = msm::back::state_machine<CaseFsmDef>;

// Every LifecycleState must be a state of the table, so that state() can map
// MSM's state ids back to the enum.
static_assert(mpl::size<msm::back::generate_state_set<CaseFsm::stt>::type>::value == kLifecycleStateCount,
              "every LifecycleState appears in the transition table, and nothing else");

template <std::size_t... I>
constexpr std::array<LifecycleState, kLifecycleStateCount> MakeStateMap(std::index_sequence<I...>) {
  std::array<LifecycleState, kLifecycleStateCount> map{};
  ((map[msm::back::get_state_id<CaseFsm::stt, St<static_cast<LifecycleState>(I)>>::type::value] =
        static_cast<LifecycleState>(I)),
   ...);
  return map;
}
// MSM state id -> LifecycleState.
constexpr std::array<LifecycleState, kLifecycleStateCount> kStateOfId =
    MakeStateMap(std::make_index_sequence<kLifecycleStateCount>());

// EventType -> process_event with the matching MSM event type.
using Processor = msm::back::HandledEnum (*)(CaseFsm&);
template <EventType E>
msm::back::HandledEnum Process(CaseFsm& fsm) {
  return fsm.process_event(Ev<E>{});
}
template <std::size_t... I>
constexpr std::array<Processor, sizeof...(I)> MakeProcessors(std::index_sequence<I...>) {
  return {&Process<static_cast<EventType>(I)>...};
}
constexpr std::array<Processor, kEventTypeCount> kProcessors =
    MakeProcessors(std::make_index_sequence<kEventTypeCount>());

// Reads the rows of the MSM table into CaseMachine::Row values.
struct RowCollector {
  std::vector<CaseMachine::Row>* rows;
  template <class R>
  void operator()(msm::wrap<R>) const {
    CaseMachine::Row row;
    row.from = R::Source::kState;
    row.trigger = R::Evt::kEvent;
    row.to = TargetState<typename R::Source, typename R::Target>::kState;
    Describer<typename R::Guard>::Describe(row);
    Describer<typename R::Action>::Describe(row);
    rows->push_back(row);
  }
};

std::vector<CaseMachine::Row> CollectRows() {
  std::vector<CaseMachine::Row> rows;
  mpl::for_each<CaseFsmDef::transition_table, msm::wrap<mpl::placeholders::_1>>(RowCollector{&rows});
  return rows;
}

const std::vector<CaseMachine::Row>& Rows() {
  static const std::vector<CaseMachine::Row> rows = CollectRows();
  return rows;
}

bool GuardHolds(const CaseMachine::Row& row, PendingRequest pending) {
  if (row.guard_no_pending && pending != PendingRequest::kNone) return false;
  if (row.guard_pending != PendingRequest::kNone && pending != row.guard_pending) return false;
  if (row.guard_any_pending && pending == PendingRequest::kNone) return false;
  return true;
}

constexpr int kPendingCount = 4;
int NodeIndex(LifecycleState s, PendingRequest p) {
  return static_cast<int>(s) * kPendingCount + static_cast<int>(p);
}
constexpr int kNodeCount = kLifecycleStateCount * kPendingCount;

// Shortest trigger paths from (kNone, kNone) to every (state, pending), by BFS
// over the rows of the table. A node with no path is unreachable.
struct Paths {
  std::array<bool, kNodeCount> reachable{};
  std::array<std::vector<EventType>, kNodeCount> path;
};

Paths ComputePaths() {
  Paths paths;
  std::vector<std::pair<LifecycleState, PendingRequest>> queue;
  const int start = NodeIndex(LifecycleState::kNone, PendingRequest::kNone);
  paths.reachable[start] = true;
  queue.emplace_back(LifecycleState::kNone, PendingRequest::kNone);
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const auto [state, pending] = queue[head];
    const int from = NodeIndex(state, pending);
    for (const CaseMachine::Row& row : Rows()) {
      if (row.from != state || !GuardHolds(row, pending)) continue;
      const PendingRequest after = row.keeps_pending ? pending : row.pending_after;
      const int to = NodeIndex(row.to, after);
      if (paths.reachable[to]) continue;
      paths.reachable[to] = true;
      paths.path[to] = paths.path[from];
      paths.path[to].push_back(row.trigger);
      queue.emplace_back(row.to, after);
    }
  }
  return paths;
}

const Paths& ShortestPaths() {
  static const Paths paths = ComputePaths();
  return paths;
}

bool ValidPair(LifecycleState s, PendingRequest p) {
  return static_cast<int>(s) < kLifecycleStateCount && static_cast<int>(p) < kPendingCount;
}

std::string GuardText(const CaseMachine::Row& row) {
  if (row.guard_no_pending) return "no request pending";
  if (row.guard_pending != PendingRequest::kNone) return "pending = " + std::string(Name(row.guard_pending));
  if (row.guard_any_pending) return "a request pending";
  return "-";
}

std::string PendingAfterText(const CaseMachine::Row& row) {
  if (row.keeps_pending) return "unchanged";
  if (row.pending_after == PendingRequest::kNone) return "none (cleared)";
  return std::string(Name(row.pending_after));
}

}  // namespace

struct CaseMachine::Impl {
  Impl() { fsm.start(); }
  CaseFsm fsm;
};

namespace {

enum class Outcome { kFired, kRefused, kThrew };

// Processes `trigger` on `fsm`. kThrew: an action threw and the machine may be
// mid-transition; the caller must restore it.
Outcome FireOn(CaseFsm& fsm, EventType trigger) {
  const auto index = static_cast<std::size_t>(trigger);
  if (index >= kProcessors.size()) return Outcome::kRefused;
  fsm.exception_seen = false;
  const msm::back::HandledEnum handled = kProcessors[index](fsm);
  if (fsm.exception_seen) return Outcome::kThrew;
  return handled == msm::back::HANDLED_TRUE ? Outcome::kFired : Outcome::kRefused;
}

LifecycleState StateOf(const CaseFsm& fsm) {
  const int id = fsm.current_state()[0];
  if (id < 0 || id >= kLifecycleStateCount) return LifecycleState::kNone;
  return kStateOfId[id];
}

}  // namespace

// A moved-from machine (impl_ null) behaves as a fresh one at kNone.
CaseMachine::CaseMachine() : impl_(std::make_unique<Impl>()) {}
CaseMachine::~CaseMachine() = default;
CaseMachine::CaseMachine(const CaseMachine& other)
    : impl_(other.impl_ ? std::make_unique<Impl>(*other.impl_) : std::make_unique<Impl>()) {}
CaseMachine& CaseMachine::operator=(const CaseMachine& other) {
  if (this != &other) impl_ = other.impl_ ? std::make_unique<Impl>(*other.impl_) : std::make_unique<Impl>();
  return *this;
}
CaseMachine::CaseMachine(CaseMachine&&) noexcept = default;
CaseMachine& CaseMachine::operator=(CaseMachine&&) noexcept = default;

bool CaseMachine::IsReachable(LifecycleState state, PendingRequest pending) {
  return ValidPair(state, pending) && ShortestPaths().reachable[NodeIndex(state, pending)];
}

CaseMachine CaseMachine::At(LifecycleState state, PendingRequest pending) {
  if (!IsReachable(state, pending)) return CaseMachine();
  // The decider and Evolve position a machine for every command and event, so
  // each reachable pair is replayed once and then copied.
  static const std::vector<CaseMachine> positioned = [] {
    std::vector<CaseMachine> machines(kNodeCount);
    for (int node = 0; node < kNodeCount; ++node) {
      if (!ShortestPaths().reachable[node]) continue;
      for (EventType trigger : ShortestPaths().path[node]) {
        FireOn(machines[node].impl_->fsm, trigger);
      }
    }
    return machines;
  }();
  return positioned[NodeIndex(state, pending)];
}

bool CaseMachine::Fire(EventType trigger) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  const LifecycleState state_before = state();
  const PendingRequest pending_before = pending();
  switch (FireOn(impl_->fsm, trigger)) {
    case Outcome::kFired:
      return true;
    case Outcome::kRefused:
      return false;
    case Outcome::kThrew: {
      // Put the machine back where it was, and count the refusal.
      const std::size_t refusals = impl_->fsm.refusals;
      *this = At(state_before, pending_before);
      impl_->fsm.refusals = refusals + 1;
      return false;
    }
  }
  return false;
}

bool CaseMachine::Allows(EventType trigger) const {
  if (!impl_) return CaseMachine().Allows(trigger);
  // On the stack: no allocation. The source must be const: MSM's perfect-
  // forwarding constructor would otherwise win over its copy constructor and
  // build a machine in the initial state.
  CaseFsm copy = std::as_const(impl_->fsm);
  return FireOn(copy, trigger) == Outcome::kFired;
}

LifecycleState CaseMachine::state() const { return impl_ ? StateOf(impl_->fsm) : LifecycleState::kNone; }

PendingRequest CaseMachine::pending() const { return impl_ ? impl_->fsm.pending : PendingRequest::kNone; }

std::vector<CaseMachine::Row> CaseMachine::Table() { return Rows(); }

std::string CaseMachine::TableMarkdown() {
  std::string out = "| from | event | to | guard | pending after |\n|---|---|---|---|---|\n";
  for (const Row& row : Rows()) {
    out += "| ";
    out += Name(row.from);
    out += " | ";
    out += Name(row.trigger);
    out += " | ";
    out += Name(row.to);
    out += " | ";
    out += GuardText(row);
    out += " | ";
    out += PendingAfterText(row);
    out += " |\n";
  }
  return out;
}

}  // namespace caseloop
