// Test helpers: build case histories from hand-made CaseEvents encoded with
// EncodeCaseEvent and appended to an EventStore, the way the engine would.
#ifndef CASELOOP_TESTS_PROJECTIONS_HISTORY_H_
#define CASELOOP_TESTS_PROJECTIONS_HISTORY_H_

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/event_store.h"
#include "caseloop/time.h"
#include "projections/projections.h"
#include "store/projection_store.h"

namespace caseloop::testing {

// Local time at a UTC offset: "2025-03-31T10:30" or "2025-03-31T10:30:00".
inline Instant LocalAt(const char* text, int offset_minutes) {
  auto r = ParseInstant(text, offset_minutes);
  REQUIRE_MESSAGE(r.ok(), text);
  return *r;
}

// Local time at +08:00 (the calendar's default offset).
inline Instant At(const char* text) { return LocalAt(text, 8 * 60); }

inline Instant Hours(Instant t, double h) { return t + Micros(static_cast<std::int64_t>(h * 3.6e9)); }

// Collects events; Flush() appends them to a store in the order they were added.
class History {
 public:
  std::vector<CaseEvent> events;

  CaseEvent& Add(EventType type, const std::string& c, Instant t, const std::string& actor = "X") {
    CaseEvent e;
    e.type = type;
    e.case_id = c;
    e.time = t;
    e.actor = actor;
    events.push_back(std::move(e));
    return events.back();
  }

  void Report(const std::string& c, Instant t, const std::string& reporter = "I1",
              ReportSource source = ReportSource::kInspector, const std::string& category = "0102",
              const std::string& grid = "620103001001001", CaseKind kind = CaseKind::kEvent) {
    auto& e = Add(EventType::kCaseReported, c, t, reporter);
    e.source = source;
    e.category = category;
    e.grid = grid;
    e.kind = kind;
  }
  void Register(const std::string& c, Instant t) {
    Add(EventType::kCaseRegistered, c, t, "S1").category = "0102";
  }
  void Reject(const std::string& c, Instant t) {
    Add(EventType::kCaseRejected, c, t, "S1").reason = "invalid";
  }
  void Merge(const std::string& c, Instant t, const std::string& into) {
    Add(EventType::kCaseMerged, c, t, "S1").into = into;
  }
  // Report + register at t, dispatch at t + 1 minute.
  void Open(const std::string& c, Instant t, const std::string& unit, std::optional<Instant> deadline,
            const std::string& reporter = "I1") {
    Report(c, t, reporter);
    Register(c, t);
    Dispatch(c, t + Micros(60'000'000), unit, deadline, 1);
  }
  void Dispatch(const std::string& c, Instant t, const std::string& unit, std::optional<Instant> deadline,
                std::uint32_t task) {
    auto& e = Add(EventType::kCaseDispatched, c, t, "D1");
    e.unit = unit;
    e.deadline = deadline;
    e.task = task;
    e.limit = TimeLimit::NaturalHours(48);
  }
  void Accept(const std::string& c, Instant t, const std::string& unit) {
    Add(EventType::kCaseAccepted, c, t, unit).unit = unit;
  }
  void Feedback(const std::string& c, Instant t, const std::string& unit, bool on_time,
                const std::string& verifier = "I1", std::optional<Instant> verify_deadline = {}) {
    auto& e = Add(EventType::kFeedbackSubmitted, c, t, unit);
    e.unit = unit;
    e.on_time = on_time;
    e.verifier = verifier;
    e.deadline = verify_deadline ? verify_deadline : std::optional<Instant>(Hours(t, 1));
  }
  void Pass(const std::string& c, Instant t, const std::string& verifier = "I1") {
    Add(EventType::kVerificationPassed, c, t, verifier);
  }
  void Fail(const std::string& c, Instant t, const std::string& unit, std::optional<Instant> new_deadline,
            std::uint32_t task, const std::string& verifier = "I1") {
    auto& e = Add(EventType::kVerificationFailed, c, t, verifier);
    e.unit = unit;
    e.deadline = new_deadline;
    e.task = task;
  }
  void Extend(const std::string& c, Instant t, const std::string& unit, Instant new_deadline) {
    Add(EventType::kExtensionRequested, c, t, unit).limit = TimeLimit::WorkingDays(1);
    auto& e = Add(EventType::kExtensionApproved, c, t, "D1");
    e.unit = unit;
    e.deadline = new_deadline;
    e.limit = TimeLimit::WorkingDays(1);
  }
  void Suspend(const std::string& c, Instant t, const std::string& unit) {
    Add(EventType::kSuspensionRequested, c, t, unit).reason = "waiting";
    auto& e = Add(EventType::kSuspensionApproved, c, t, "D1");
    e.unit = unit;
    e.remaining_us = 3'600'000'000;
  }
  void Resume(const std::string& c, Instant t, const std::string& unit, Instant new_deadline) {
    auto& e = Add(EventType::kCaseResumed, c, t, "D1");
    e.unit = unit;
    e.deadline = new_deadline;
  }
  void Return(const std::string& c, Instant t, const std::string& unit) {
    Add(EventType::kReturnRequested, c, t, unit).reason = "not ours";
    Add(EventType::kReturnApproved, c, t, "D1").unit = unit;
  }
  void Void(const std::string& c, Instant t) { Add(EventType::kCaseVoided, c, t, "S1").reason = "dup"; }
  void MarkOverdue(const std::string& c, Instant t, const std::string& unit, std::uint32_t task) {
    auto& e = Add(EventType::kTaskOverdue, c, t, "$timer");
    e.unit = unit;
    e.task = task;
    e.deadline = t;
  }

  // Appends every event not yet appended, in order, one append per event.
  void Flush(EventStore* store) {
    for (; flushed_ < events.size(); ++flushed_) {
      const CaseEvent& e = events[flushed_];
      auto r = store->Append(e.case_id, ExpectedVersion::Any(), {EncodeCaseEvent(e)});
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    }
  }

 private:
  std::size_t flushed_ = 0;
};

inline const UnitRates* FindUnit(const std::vector<UnitRates>& rates, const std::string& unit) {
  for (const auto& r : rates) {
    if (r.unit == unit) return &r;
  }
  return nullptr;
}

inline UnitRates RatesOf(Projections& p, Instant from, Instant to, std::optional<Instant> at,
                         const std::string& unit) {
  PeriodQuery q;
  q.from = from;
  q.to = to;
  q.at = at;
  q.unit = unit;
  auto r = p.Rates(q, Config{});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  REQUIRE(r->size() == 1);
  return r->front();
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_PROJECTIONS_HISTORY_H_
