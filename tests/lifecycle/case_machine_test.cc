// Tests of the lifecycle machine against its own table (every reachable
// (state, pending) x every trigger, so a new row is covered automatically)
// and explicit spot checks of the refusals that matter most.
#include "lifecycle/case_machine.h"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "caseloop/case_types.h"

using namespace caseloop;
using E = EventType;
using S = LifecycleState;
using P = PendingRequest;

namespace {

constexpr int kPendingCount = 4;

bool RowMatches(const CaseMachine::Row& row, S state, P pending, E trigger) {
  if (row.from != state || row.trigger != trigger) return false;
  if (row.guard_no_pending && pending != P::kNone) return false;
  if (row.guard_pending != P::kNone && pending != row.guard_pending) return false;
  if (row.guard_any_pending && pending == P::kNone) return false;
  return true;
}

std::vector<std::pair<S, P>> ReachablePairs() {
  std::vector<std::pair<S, P>> pairs;
  for (int s = 0; s < kLifecycleStateCount; ++s) {
    for (int p = 0; p < kPendingCount; ++p) {
      if (CaseMachine::IsReachable(static_cast<S>(s), static_cast<P>(p))) {
        pairs.emplace_back(static_cast<S>(s), static_cast<P>(p));
      }
    }
  }
  return pairs;
}

std::string Where(S s, P p, E t) {
  return "state " + std::string(Name(s)) + ", pending " + std::string(Name(p)) + ", trigger " +
         std::string(Name(t));
}

}  // namespace

TEST_CASE("a new machine is at none with nothing pending") {
  CaseMachine m;
  CHECK(m.state() == S::kNone);
  CHECK(m.pending() == P::kNone);
}

TEST_CASE("the table is well formed") {
  const auto rows = CaseMachine::Table();
  CHECK(rows.size() == 33);
  for (const auto& row : rows) {
    INFO("row ", Name(row.from), " --", Name(row.trigger), "--> ", Name(row.to));
    // At most one kind of guard per row.
    int guards = int(row.guard_no_pending) + int(row.guard_pending != P::kNone) + int(row.guard_any_pending);
    CHECK(guards <= 1);
    // Nothing leaves a terminal state.
    CHECK(row.from != S::kClosed);
    CHECK(row.from != S::kRejected);
    CHECK(row.from != S::kVoided);
    CHECK(row.from != S::kMerged);
    // Nothing ever returns to kNone.
    CHECK(row.to != S::kNone);
  }
  // Every trigger appears in at least one row.
  for (int t = 0; t < kEventTypeCount; ++t) {
    bool found = false;
    for (const auto& row : rows) found = found || row.trigger == static_cast<E>(t);
    INFO("trigger ", Name(static_cast<E>(t)));
    CHECK(found);
  }
}

TEST_CASE("reachable pairs: pending only in dispatched (return) and handling") {
  const auto pairs = ReachablePairs();
  CHECK(pairs.size() == kLifecycleStateCount + 1 + 3);
  for (int s = 0; s < kLifecycleStateCount; ++s) {
    CHECK(CaseMachine::IsReachable(static_cast<S>(s), P::kNone));
  }
  CHECK(CaseMachine::IsReachable(S::kDispatched, P::kReturn));
  CHECK_FALSE(CaseMachine::IsReachable(S::kDispatched, P::kExtend));
  CHECK_FALSE(CaseMachine::IsReachable(S::kDispatched, P::kSuspend));
  CHECK(CaseMachine::IsReachable(S::kHandling, P::kReturn));
  CHECK(CaseMachine::IsReachable(S::kHandling, P::kExtend));
  CHECK(CaseMachine::IsReachable(S::kHandling, P::kSuspend));
  CHECK_FALSE(CaseMachine::IsReachable(S::kSuspended, P::kSuspend));
  CHECK_FALSE(CaseMachine::IsReachable(S::kClosed, P::kReturn));
  // Out-of-range values are simply unreachable.
  CHECK_FALSE(CaseMachine::IsReachable(static_cast<S>(200), P::kNone));
  CHECK_FALSE(CaseMachine::IsReachable(S::kHandling, static_cast<P>(9)));
}

TEST_CASE("At positions the machine at every reachable pair, and at none otherwise") {
  for (const auto& [s, p] : ReachablePairs()) {
    CaseMachine m = CaseMachine::At(s, p);
    INFO("state ", Name(s), ", pending ", Name(p));
    CHECK(m.state() == s);
    CHECK(m.pending() == p);
  }
  CaseMachine bad = CaseMachine::At(S::kClosed, P::kSuspend);
  CHECK(bad.state() == S::kNone);
  CHECK(bad.pending() == P::kNone);
  CaseMachine worse = CaseMachine::At(static_cast<S>(99), static_cast<P>(99));
  CHECK(worse.state() == S::kNone);
}

TEST_CASE("Allows and Fire agree with Table() for every reachable pair and trigger") {
  const auto rows = CaseMachine::Table();
  int allowed = 0;
  int refused = 0;
  for (const auto& [s, p] : ReachablePairs()) {
    for (int t = 0; t < kEventTypeCount; ++t) {
      const E trigger = static_cast<E>(t);
      INFO(Where(s, p, trigger));
      const CaseMachine::Row* match = nullptr;
      int matches = 0;
      for (const auto& row : rows) {
        if (RowMatches(row, s, p, trigger)) {
          match = &row;
          ++matches;
        }
      }
      REQUIRE(matches <= 1);  // the table is deterministic
      CaseMachine m = CaseMachine::At(s, p);
      const bool allows = m.Allows(trigger);
      CHECK(allows == (match != nullptr));
      // Allows does not move the machine.
      CHECK(m.state() == s);
      CHECK(m.pending() == p);
      const bool fired = m.Fire(trigger);
      CHECK(fired == allows);
      if (match != nullptr) {
        ++allowed;
        CHECK(m.state() == match->to);
        CHECK(m.pending() == (match->keeps_pending ? p : match->pending_after));
      } else {
        ++refused;
        CHECK(m.state() == s);
        CHECK(m.pending() == p);
      }
    }
  }
  // Every row fires from at least one reachable pair; most pairs refuse most triggers.
  CHECK(allowed >= static_cast<int>(rows.size()));
  CHECK(refused > allowed);
}

TEST_CASE("spot checks: the refusals that matter") {
  SUBCASE("accept while awaiting verification") {
    auto m = CaseMachine::At(S::kAwaitingVerification, P::kNone);
    CHECK_FALSE(m.Fire(E::kCaseAccepted));
    CHECK(m.state() == S::kAwaitingVerification);
  }
  SUBCASE("approve or deny with nothing pending") {
    for (S s : {S::kDispatched, S::kHandling}) {
      auto m = CaseMachine::At(s, P::kNone);
      CHECK_FALSE(m.Fire(E::kReturnApproved));
      CHECK_FALSE(m.Fire(E::kExtensionApproved));
      CHECK_FALSE(m.Fire(E::kSuspensionApproved));
      CHECK_FALSE(m.Fire(E::kRequestDenied));
      CHECK(m.state() == s);
      CHECK(m.pending() == P::kNone);
    }
  }
  SUBCASE("an approval must answer the pending request") {
    auto m = CaseMachine::At(S::kHandling, P::kExtend);
    CHECK_FALSE(m.Fire(E::kSuspensionApproved));
    CHECK_FALSE(m.Fire(E::kReturnApproved));
    CHECK(m.pending() == P::kExtend);
    CHECK(m.Fire(E::kExtensionApproved));
    CHECK(m.state() == S::kHandling);
    CHECK(m.pending() == P::kNone);
  }
  SUBCASE("a second request while one is pending") {
    auto m = CaseMachine::At(S::kHandling, P::kReturn);
    CHECK_FALSE(m.Fire(E::kExtensionRequested));
    CHECK_FALSE(m.Fire(E::kSuspensionRequested));
    CHECK_FALSE(m.Fire(E::kReturnRequested));
    CHECK(m.pending() == P::kReturn);
    auto d = CaseMachine::At(S::kDispatched, P::kReturn);
    CHECK_FALSE(d.Fire(E::kReturnRequested));
    CHECK_FALSE(d.Fire(E::kCaseAccepted));  // accept waits for the answer
  }
  SUBCASE("feedback while a request is pending") {
    auto m = CaseMachine::At(S::kHandling, P::kSuspend);
    CHECK_FALSE(m.Fire(E::kFeedbackSubmitted));
    CHECK(m.state() == S::kHandling);
  }
  SUBCASE("extension and suspension only while handling") {
    auto m = CaseMachine::At(S::kDispatched, P::kNone);
    CHECK_FALSE(m.Fire(E::kExtensionRequested));
    CHECK_FALSE(m.Fire(E::kSuspensionRequested));
  }
  SUBCASE("nothing after closed, rejected, voided or merged") {
    for (S s : {S::kClosed, S::kRejected, S::kVoided, S::kMerged}) {
      auto m = CaseMachine::At(s, P::kNone);
      REQUIRE(m.state() == s);
      for (int t = 0; t < kEventTypeCount; ++t) {
        INFO(Name(s), " ", Name(static_cast<E>(t)));
        CHECK_FALSE(m.Allows(static_cast<E>(t)));
        CHECK_FALSE(m.Fire(static_cast<E>(t)));
      }
      CHECK(m.state() == s);
    }
  }
  SUBCASE("resume only when suspended") {
    for (S s : {S::kReported, S::kDispatched, S::kHandling, S::kAwaitingVerification}) {
      auto m = CaseMachine::At(s, P::kNone);
      CHECK_FALSE(m.Fire(E::kCaseResumed));
      CHECK(m.state() == s);
    }
    auto m = CaseMachine::At(S::kSuspended, P::kNone);
    CHECK(m.Fire(E::kCaseResumed));
    CHECK(m.state() == S::kHandling);
  }
  SUBCASE("a case is reported only once") {
    auto m = CaseMachine::At(S::kReported, P::kNone);
    CHECK_FALSE(m.Fire(E::kCaseReported));
  }
  SUBCASE("an out-of-range trigger is refused") {
    auto m = CaseMachine::At(S::kHandling, P::kNone);
    CHECK_FALSE(m.Allows(static_cast<E>(kEventTypeCount)));
    CHECK_FALSE(m.Fire(static_cast<E>(255)));
    CHECK(m.state() == S::kHandling);
  }
}

TEST_CASE("the whole loop, with rework, a return, an extension and a suspension") {
  CaseMachine m;
  const std::vector<std::pair<E, S>> steps = {
      {E::kCaseReported, S::kReported},
      {E::kCaseRegistered, S::kRegistered},
      {E::kCaseSentToCoordination, S::kCoordinating},
      {E::kCaseDispatched, S::kDispatched},
      {E::kReturnRequested, S::kDispatched},
      {E::kReturnApproved, S::kRegistered},
      {E::kCaseDispatched, S::kDispatched},
      {E::kCaseSupervised, S::kDispatched},
      {E::kCaseAccepted, S::kHandling},
      {E::kExtensionRequested, S::kHandling},
      {E::kRequestDenied, S::kHandling},
      {E::kExtensionRequested, S::kHandling},
      {E::kExtensionApproved, S::kHandling},
      {E::kSuspensionRequested, S::kHandling},
      {E::kSuspensionApproved, S::kSuspended},
      {E::kCaseResumed, S::kHandling},
      {E::kTaskOverdue, S::kHandling},
      {E::kFeedbackSubmitted, S::kAwaitingVerification},
      {E::kVerificationFailed, S::kDispatched},
      {E::kCaseAccepted, S::kHandling},
      {E::kFeedbackSubmitted, S::kAwaitingVerification},
      {E::kVerificationPassed, S::kClosed},
  };
  for (const auto& [trigger, to] : steps) {
    INFO(Name(trigger), " -> ", Name(to));
    REQUIRE(m.Fire(trigger));
    CHECK(m.state() == to);
  }
  CHECK(m.pending() == P::kNone);
}

TEST_CASE("supervision and overdue keep the pending request; void clears it") {
  auto m = CaseMachine::At(S::kHandling, P::kSuspend);
  CHECK(m.Fire(E::kCaseSupervised));
  CHECK(m.Fire(E::kTaskOverdue));
  CHECK(m.state() == S::kHandling);
  CHECK(m.pending() == P::kSuspend);
  CHECK(m.Fire(E::kCaseVoided));
  CHECK(m.state() == S::kVoided);
  CHECK(m.pending() == P::kNone);
}

TEST_CASE("machines are values: copies and moves are independent") {
  auto a = CaseMachine::At(S::kHandling, P::kNone);
  CaseMachine b = a;
  CHECK(b.Fire(E::kFeedbackSubmitted));
  CHECK(a.state() == S::kHandling);
  CHECK(b.state() == S::kAwaitingVerification);

  CaseMachine c;
  c = b;
  CHECK(c.Fire(E::kVerificationPassed));
  CHECK(b.state() == S::kAwaitingVerification);
  CHECK(c.state() == S::kClosed);

  c = c;  // self-assignment
  CHECK(c.state() == S::kClosed);

  CaseMachine d = std::move(c);
  CHECK(d.state() == S::kClosed);
  CaseMachine e;
  e = std::move(d);
  CHECK(e.state() == S::kClosed);
  // A moved-from machine is still safe to use: it behaves as a fresh one.
  CHECK(d.state() == S::kNone);  // NOLINT(bugprone-use-after-move)
  CHECK(d.Allows(E::kCaseReported));
  CHECK(d.Fire(E::kCaseReported));
  CHECK(d.state() == S::kReported);
}
