#include "projections/evaluation_applier.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "projections/codec.h"
#include "projections/evaluation_keys.h"
#include "projections/timeline.h"

namespace caseloop::projections {
namespace {

using namespace ev;  // NOLINT: the evaluation keyspace

// Adds `delta` (n values, n <= 8) to the vector counter at `key`; deleted at all zeros.
Status AddVector(Batch& b, const std::string& key, const std::int64_t* delta, int n) {
  auto v = b.Get(key);
  if (!v.ok()) return v.status();
  std::int64_t cur[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (v->has_value()) CASELOOP_RETURN_IF_ERROR(DecodeVector(key, **v, cur, n));
  bool any = false;
  for (int i = 0; i < n; ++i) {
    cur[i] += delta[i];
    any = any || cur[i] != 0;
  }
  if (any) {
    b.Put(key, EncodeVector(cur, n));
  } else {
    b.Delete(key);
  }
  return Status::Ok();
}

// What one time-keyed record (ev/r, ev/g, ev/j, ev/v, ev/z, ev/f) adds to
// the centre and inspector counters, times `sign`.
Status TallyRecord(Batch& b, const DayGrid& grid, std::string_view key, std::string_view value,
                   std::int64_t sign) {
  if (key.size() < kPrefixLen + 8) return Malformed(key);
  const std::string_view prefix = key.substr(0, kPrefixLen);
  const std::int64_t t = DecodeOrderedI64(key.substr(kPrefixLen, 8));
  const std::int64_t day = grid.DayOf(t);
  std::int64_t centre[kCentreSize] = {0, 0, 0, 0, 0, 0};
  auto inspector = [&](const std::string& who, std::int64_t at_us, int field) {
    std::int64_t d[kInspectorSize] = {0, 0, 0, 0, 0};
    d[field] = sign;
    d[kInspectorSteps] = sign;
    return AddVector(b, InspectorKey(day, grid.ChangeBucketOf(at_us), who), d, kInspectorSize);
  };
  if (prefix == kReportPrefix) {
    auto r = DecodeReport(key, value);
    if (!r.ok()) return r.status();
    centre[kReceived] = sign;
    CASELOOP_RETURN_IF_ERROR(
        b.AddCounter(CentreKey(day, "c" + std::string(Name(r->kind)) + "/" + r->category), sign));
    if (!r->grid.empty()) {
      CASELOOP_RETURN_IF_ERROR(
          b.AddCounter(CentreKey(day, "g" + r->grid.substr(0, kGridCounterDigits)), sign));
    }
    if (r->source == ReportSource::kInspector) {
      CASELOOP_RETURN_IF_ERROR(inspector(r->reporter, t, kReports));
      if (r->registered)
        CASELOOP_RETURN_IF_ERROR(inspector(r->reporter, std::max(t, MicrosOf(*r->registered)), kValid));
    }
  } else if (prefix == kFeedbackPrefix) {
    auto f = DecodeFeedback(key, value);
    if (!f.ok()) return f.status();
    if (f->verifier.empty()) return Status::Ok();
    CASELOOP_RETURN_IF_ERROR(inspector(f->verifier, t, kVerifications));
    if (f->verified && (!f->verify_deadline || *f->verified <= *f->verify_deadline)) {
      CASELOOP_RETURN_IF_ERROR(inspector(f->verifier, std::max(t, MicrosOf(*f->verified)), kVerifiedOnTime));
    }
    return Status::Ok();
  } else if (prefix == kRegisteredPrefix) {
    centre[kRegistered] = sign;
  } else if (prefix == kRejectedPrefix) {
    centre[kRejected] = sign;
  } else if (prefix == kVoidedPrefix) {
    centre[kVoided] = sign;
  } else if (prefix == kClosedPrefix) {
    if (value.size() != 1) return Malformed(key);
    centre[kClosed] = sign;
    centre[kClosedOnTime] = value[0] != 0 ? sign : 0;
  } else {
    return Status::Ok();
  }
  return AddVector(b, CentreKey(day, "a"), centre, kCentreSize);
}

// Reads and writes through one batch for one event.
class EventApplier {
 public:
  EventApplier(Batch& b, const CaseEvent& e, const DayGrid& grid)
      : b_(b), e_(e), grid_(grid), case_key_(kCasePrefix + e.case_id), fresh_(b.IsFresh(e.case_id)) {}

  Status Run() {
    auto stored = b_.Get(case_key_, fresh_);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) {
      auto c = DecodeCaseEval(case_key_, **stored);
      if (!c.ok()) return c.status();
      cs_ = std::move(*c);
    }
    bool keep = true;
    const Instant t = e_.time;
    switch (e_.type) {
      case EventType::kCaseReported: {
        cs_.report_us = MicrosOf(t);
        ReportRecord r{e_.actor, e_.source, e_.kind, e_.category, e_.grid, std::nullopt};
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kReportPrefix, t, e_.case_id), EncodeReport(r)));
        break;
      }
      case EventType::kCaseRegistered:
        if (cs_.report_us) {
          std::string k = TimeKey(kReportPrefix, InstantFromMicros(*cs_.report_us), e_.case_id);
          auto v = b_.Get(k, fresh_);
          if (!v.ok()) return v.status();
          if (v->has_value()) {
            auto r = DecodeReport(k, **v);
            if (!r.ok()) return r.status();
            r->registered = t;
            CASELOOP_RETURN_IF_ERROR(PutRecord(k, EncodeReport(*r)));
          }
        }
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kRegisteredPrefix, t, e_.case_id), ""));
        break;
      case EventType::kCaseRejected:
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kRejectedPrefix, t, e_.case_id), ""));
        keep = false;
        break;
      case EventType::kCaseMerged:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kVoid, std::nullopt, false));
        keep = false;
        break;
      case EventType::kCaseDispatched: {
        cs_.unit = e_.unit;
        bool known = false;
        for (const auto& [u, _] : cs_.units) known = known || u == e_.unit;
        if (!known) {
          cs_.units.emplace_back(e_.unit, MicrosOf(t));
          b_.Put(kUnitListPrefix + e_.unit, "");
        }
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kAssign, e_.deadline, false));
        break;
      }
      case EventType::kReturnApproved:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kReturn, std::nullopt, false));
        cs_.unit.clear();
        break;
      case EventType::kExtensionApproved:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kExtend, e_.deadline, false));
        break;
      case EventType::kSuspensionApproved:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kSuspend, std::nullopt, false));
        break;
      case EventType::kCaseResumed:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kResume, e_.deadline, false));
        break;
      case EventType::kFeedbackSubmitted: {
        bool on_time = true;
        if (e_.on_time) {
          on_time = *e_.on_time;
        } else {
          // Not recorded by the decider: the deadline in force decides.
          auto facts = CurrentFacts();
          if (!facts.ok()) return facts.status();
          on_time = !facts->deadline || t <= *facts->deadline;
        }
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kFeedback, std::nullopt, on_time));
        cs_.feedback_us = MicrosOf(t);
        cs_.feedback_on_time = on_time;
        FeedbackRecord f{e_.verifier, e_.deadline, std::nullopt};
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kFeedbackPrefix, t, e_.case_id), EncodeFeedback(f)));
        break;
      }
      case EventType::kVerificationPassed:
        CASELOOP_RETURN_IF_ERROR(MarkVerified(t));
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kPass, std::nullopt, false));
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kClosedPrefix, t, e_.case_id),
                                           std::string(1, cs_.feedback_on_time ? '\1' : '\0')));
        keep = false;
        break;
      case EventType::kVerificationFailed:
        CASELOOP_RETURN_IF_ERROR(MarkVerified(t));
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kRework, e_.deadline, false));
        break;
      case EventType::kCaseVoided:
        CASELOOP_RETURN_IF_ERROR(AddFact(Fact::kVoid, std::nullopt, false));
        CASELOOP_RETURN_IF_ERROR(PutRecord(TimeKey(kVoidedPrefix, t, e_.case_id), ""));
        keep = false;
        break;
      default:
        return Status::Ok();  // no effect on evaluation
    }
    if (keep) {
      b_.Put(case_key_, EncodeCaseEval(cs_), fresh_);
    } else {
      b_.Delete(case_key_);
    }
    return Status::Ok();
  }

 private:
  // The first dispatch of the case to its current unit; nullopt when the
  // case has no current unit.
  std::optional<std::int64_t> CurrentFirstDispatch() const {
    if (cs_.unit.empty()) return std::nullopt;
    for (const auto& [u, first] : cs_.units) {
      if (u == cs_.unit) return first;
    }
    return std::nullopt;
  }

  // Appends a fact to the current unit's timeline; nothing when the case has
  // no current unit (the fact concerns no unit).
  Status AddFact(Fact f, const std::optional<Instant>& deadline, bool flag) {
    const std::optional<std::int64_t> first = CurrentFirstDispatch();
    if (!first) return Status::Ok();
    const std::string k = UnitRecordKey(cs_.unit, InstantFromMicros(*first)) + e_.case_id;
    auto v = b_.Get(k, fresh_);
    if (!v.ok()) return v.status();
    std::string timeline = v->has_value() ? std::move(**v) : NewTimeline();
    // The counters move by (steps of the new timeline) - (steps of the old).
    auto facts = ParseTimeline(k, timeline);
    if (!facts.ok()) return facts.status();
    std::vector<std::pair<std::int64_t, UnitCounts>> steps;
    AddTimelineSteps(*facts, -1, grid_, &steps);
    TimelineFact added;
    added.code = static_cast<std::uint8_t>(f);
    added.time_us = MicrosOf(e_.time);
    if (deadline) added.deadline_us = MicrosOf(*deadline);
    added.flag = flag;
    AppendFact(&timeline, added);
    facts->push_back(added);
    AddTimelineSteps(*facts, +1, grid_, &steps);
    b_.Put(k, std::move(timeline), fresh_);
    return AddToCounters(cs_.unit, grid_.DayOf(*first), &steps);
  }

  // Adds the steps to ev/k/<unit>\0<day><bucket>, one read-modify-write per
  // bucket whose net change is not zero.
  Status AddToCounters(const std::string& unit, std::int64_t day,
                       std::vector<std::pair<std::int64_t, UnitCounts>>* steps) {
    std::sort(steps->begin(), steps->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < steps->size();) {
      UnitCounts sum;
      std::size_t j = i;
      for (; j < steps->size() && (*steps)[j].first == (*steps)[i].first; ++j) sum.Add((*steps)[j].second);
      if (!sum.Zero()) {
        CASELOOP_RETURN_IF_ERROR(
            AddVector(b_, CounterKey(unit, day, (*steps)[i].first), sum.v, UnitCounts::kSize));
      }
      i = j;
    }
    return Status::Ok();
  }

  Result<UnitCaseFacts> CurrentFacts() {
    const std::optional<std::int64_t> first = CurrentFirstDispatch();
    if (!first) return UnitCaseFacts{};
    const std::string k = UnitRecordKey(cs_.unit, InstantFromMicros(*first)) + e_.case_id;
    auto v = b_.Get(k, fresh_);
    if (!v.ok()) return v.status();
    if (!v->has_value()) return UnitCaseFacts{};
    return EvaluateTimeline(k, **v, e_.time);
  }

  Status MarkVerified(Instant t) {
    if (!cs_.feedback_us) return Status::Ok();
    std::string k = TimeKey(kFeedbackPrefix, InstantFromMicros(*cs_.feedback_us), e_.case_id);
    auto v = b_.Get(k, fresh_);
    if (!v.ok()) return v.status();
    if (!v->has_value()) return Status::Ok();
    auto f = DecodeFeedback(k, **v);
    if (!f.ok()) return f.status();
    if (!f->verified) {
      f->verified = t;
      CASELOOP_RETURN_IF_ERROR(PutRecord(k, EncodeFeedback(*f)));
    }
    return Status::Ok();
  }

  // Writes a time-keyed record and moves the centre and inspector counters
  // from what its old value counted to what the new one counts.
  Status PutRecord(const std::string& key, std::string value) {
    auto old = b_.Get(key, fresh_);
    if (!old.ok()) return old.status();
    if (old->has_value()) {
      if (**old == value) return Status::Ok();
      CASELOOP_RETURN_IF_ERROR(TallyRecord(b_, grid_, key, **old, -1));
    }
    CASELOOP_RETURN_IF_ERROR(TallyRecord(b_, grid_, key, value, +1));
    b_.Put(key, std::move(value), fresh_);
    return Status::Ok();
  }

  Batch& b_;
  const CaseEvent& e_;
  const DayGrid& grid_;
  std::string case_key_;
  bool fresh_;  // no state of this case is in the store yet
  CaseEval cs_;
};

}  // namespace

Status ApplyEvaluationEvent(Batch& batch, const CaseEvent& e, const DayGrid& grid) {
  return EventApplier(batch, e, grid).Run();
}

}  // namespace caseloop::projections
