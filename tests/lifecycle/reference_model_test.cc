// Randomized agreement test: the MSM machine against a small reference model
// of domain.md §5 written here independently (a plain switch, not derived
// from CaseMachine::Table() or the MSM code).
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "caseloop/case_types.h"
#include "lifecycle/case_machine.h"

using namespace caseloop;
using E = EventType;
using S = LifecycleState;
using P = PendingRequest;

namespace {

// domain.md §5, transcribed by hand.
struct Model {
  S state = S::kNone;
  P pending = P::kNone;

  // Applies `e`; returns false (and changes nothing) when §5 refuses it.
  bool Apply(E e) {
    const bool at_unit = state == S::kDispatched || state == S::kHandling;
    const bool free = pending == P::kNone;
    switch (e) {
      case E::kCaseReported:
        return Move(state == S::kNone, S::kReported);
      case E::kCaseRegistered:
        return Move(state == S::kReported, S::kRegistered);
      case E::kCaseRejected:
        return Move(state == S::kReported, S::kRejected);
      case E::kCaseMerged:
        return Move(state == S::kReported, S::kMerged);
      case E::kCaseDispatched:
        return Move(state == S::kRegistered || state == S::kCoordinating, S::kDispatched);
      case E::kCaseSentToCoordination:
        return Move(state == S::kRegistered, S::kCoordinating);
      case E::kCaseAccepted:
        return Move(state == S::kDispatched && free, S::kHandling);
      case E::kReturnRequested:
        return Request(at_unit && free, P::kReturn);
      case E::kExtensionRequested:
        return Request(state == S::kHandling && free, P::kExtend);
      case E::kSuspensionRequested:
        return Request(state == S::kHandling && free, P::kSuspend);
      case E::kReturnApproved:
        return Answer(at_unit && pending == P::kReturn, S::kRegistered);
      case E::kExtensionApproved:
        return Answer(state == S::kHandling && pending == P::kExtend, S::kHandling);
      case E::kSuspensionApproved:
        return Answer(state == S::kHandling && pending == P::kSuspend, S::kSuspended);
      case E::kRequestDenied:
        return Answer(at_unit && !free, state);
      case E::kCaseResumed:
        return Move(state == S::kSuspended, S::kHandling);
      case E::kFeedbackSubmitted:
        return Move(state == S::kHandling && free, S::kAwaitingVerification);
      case E::kVerificationPassed:
        return Move(state == S::kAwaitingVerification, S::kClosed);
      case E::kVerificationFailed:
        return Move(state == S::kAwaitingVerification, S::kDispatched);
      case E::kCaseVoided: {
        const bool open = state == S::kReported || state == S::kRegistered || state == S::kCoordinating ||
                          state == S::kDispatched || state == S::kHandling || state == S::kSuspended ||
                          state == S::kAwaitingVerification;
        return Answer(open, S::kVoided);
      }
      case E::kCaseSupervised:
      case E::kTaskOverdue:
        return at_unit;
    }
    return false;  // not an EventType at all
  }

 private:
  bool Move(bool ok, S to) {
    if (ok) state = to;
    return ok;
  }
  bool Request(bool ok, P request) {
    if (ok) pending = request;
    return ok;
  }
  bool Answer(bool ok, S to) {
    if (ok) {
      state = to;
      pending = P::kNone;
    }
    return ok;
  }
};

// splitmix64: deterministic on every platform and standard library.
struct Rng {
  std::uint64_t x;
  std::uint64_t Next() {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<std::uint64_t>(n)); }
};

std::string Trace(const std::vector<E>& tried) {
  std::string s;
  for (E e : tried) {
    if (!s.empty()) s += ", ";
    const int v = static_cast<int>(e);
    s += v < kEventTypeCount ? std::string(Name(e)) : "#" + std::to_string(v);
  }
  return s;
}

}  // namespace

TEST_CASE("the reference model reaches exactly the pairs the machine reaches") {
  std::set<std::pair<int, int>> seen;
  std::vector<Model> queue{Model{}};
  seen.insert({0, 0});
  for (std::size_t i = 0; i < queue.size(); ++i) {
    for (int t = 0; t < kEventTypeCount; ++t) {
      Model next = queue[i];
      if (next.Apply(static_cast<E>(t)) &&
          seen.insert({static_cast<int>(next.state), static_cast<int>(next.pending)}).second) {
        queue.push_back(next);
      }
    }
  }
  for (int s = 0; s < kLifecycleStateCount; ++s) {
    for (int p = 0; p < 4; ++p) {
      INFO("state ", Name(static_cast<S>(s)), ", pending ", Name(static_cast<P>(p)));
      CHECK(CaseMachine::IsReachable(static_cast<S>(s), static_cast<P>(p)) == (seen.count({s, p}) == 1));
    }
  }
}

TEST_CASE("random trigger sequences: machine and reference model agree at every step") {
  constexpr int kSequences = 20000;
  constexpr int kMaxSteps = 30;
  Rng rng{20250331};
  std::set<std::pair<int, int>> pairs_seen;
  std::set<std::pair<int, int>> transitions_seen;  // (state, trigger) accepted
  long steps = 0;
  long accepted = 0;
  bool failed = false;
  for (int seq = 0; seq < kSequences && !failed; ++seq) {
    CaseMachine machine;
    Model model;
    std::vector<E> tried;
    std::vector<E> applied;
    const int length = 1 + rng.Below(kMaxSteps);
    for (int step = 0; step < length; ++step) {
      // Three times in four pick a trigger the model allows, so that sequences
      // get deep into the lifecycle; otherwise any trigger, and now and then
      // a value that is not an EventType at all.
      E trigger;
      std::vector<E> allowed;
      for (int t = 0; t < kEventTypeCount; ++t) {
        Model probe = model;
        if (probe.Apply(static_cast<E>(t))) allowed.push_back(static_cast<E>(t));
      }
      const int roll = rng.Below(64);
      if (roll == 0) {
        trigger = static_cast<E>(kEventTypeCount + rng.Below(256 - kEventTypeCount));
      } else if (roll < 48 && !allowed.empty()) {
        trigger = allowed[rng.Below(static_cast<int>(allowed.size()))];
        // Ending the case early (void, reject, merge) is usually re-rolled.
        const bool ends =
            trigger == E::kCaseVoided || trigger == E::kCaseRejected || trigger == E::kCaseMerged;
        if (ends && rng.Below(8) != 0) trigger = allowed[rng.Below(static_cast<int>(allowed.size()))];
      } else {
        trigger = static_cast<E>(rng.Below(kEventTypeCount));
      }
      tried.push_back(trigger);
      const S state_before = model.state;

      const bool allows = machine.Allows(trigger);
      const bool fired = machine.Fire(trigger);
      const bool expected = model.Apply(trigger);
      ++steps;
      if (allows != expected || fired != expected || machine.state() != model.state ||
          machine.pending() != model.pending) {
        failed = true;
        FAIL_CHECK("sequence " << seq << " step " << step << " (" << Trace(tried) << "): model says "
                               << (expected ? "allowed" : "refused") << " -> " << Name(model.state) << "/"
                               << Name(model.pending) << ", machine Allows=" << allows << " Fire=" << fired
                               << " -> " << Name(machine.state()) << "/" << Name(machine.pending()));
        break;
      }
      if (fired) {
        ++accepted;
        applied.push_back(trigger);
        transitions_seen.insert({static_cast<int>(state_before), static_cast<int>(trigger)});
      }
      pairs_seen.insert({static_cast<int>(machine.state()), static_cast<int>(machine.pending())});
    }
    if (failed) break;
    // Rebuild == live: replaying the accepted triggers gives the same machine.
    CaseMachine rebuilt;
    for (E e : applied) {
      if (!rebuilt.Fire(e)) {
        failed = true;
        FAIL_CHECK("sequence " << seq << ": replay refused " << Name(e) << " (" << Trace(applied) << ")");
        break;
      }
    }
    if (!failed && (rebuilt.state() != machine.state() || rebuilt.pending() != machine.pending())) {
      failed = true;
      FAIL_CHECK("sequence " << seq << ": rebuilt " << Name(rebuilt.state()) << "/" << Name(rebuilt.pending())
                             << " but live " << Name(machine.state()) << "/" << Name(machine.pending()));
    }
  }
  REQUIRE_FALSE(failed);
  MESSAGE(steps << " steps, " << accepted << " accepted");
  CHECK(steps > 250000);
  CHECK(accepted > steps / 4);
  // The random walk covered every reachable pair and every row of the table.
  CHECK(pairs_seen.size() == 16);
  std::set<std::pair<int, int>> rows;
  for (const auto& row : CaseMachine::Table()) {
    rows.insert({static_cast<int>(row.from), static_cast<int>(row.trigger)});
  }
  for (const auto& r : rows) {
    INFO("row from ", Name(static_cast<S>(r.first)), " on ", Name(static_cast<E>(r.second)));
    CHECK(transitions_seen.count(r) == 1);
  }
  CHECK(transitions_seen.size() == rows.size());
}
