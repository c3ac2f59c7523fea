#include "projections/evaluation_projection.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "projections/codec.h"

namespace caseloop::projections {
namespace {

constexpr char kCasePrefix[] = "ev/c/";
constexpr char kUnitListPrefix[] = "ev/n/";
constexpr char kUnitRecordPrefix[] = "ev/u/";
constexpr char kReportPrefix[] = "ev/r/";
constexpr char kFeedbackPrefix[] = "ev/f/";
constexpr char kRegisteredPrefix[] = "ev/g/";
constexpr char kRejectedPrefix[] = "ev/j/";
constexpr char kVoidedPrefix[] = "ev/v/";
constexpr char kClosedPrefix[] = "ev/z/";
constexpr char kCounterPrefix[] = "ev/k/";
constexpr char kCentrePrefix[] = "ev/e/";     // ev/e/<be64 day><field>
constexpr char kInspectorPrefix[] = "ev/i/";  // ev/i/<be64 day><be64 bucket><inspector>
constexpr std::size_t kTimePrefixLen = 5;     // every time-keyed prefix above is 5 bytes

// The facts of a (case, unit) timeline. On-disk format: do not renumber.
enum class Fact : std::uint8_t {
  kAssign = 0,    // dispatched to the unit; deadline of the task (none: no deadline)
  kRework = 1,    // the latest feedback failed verification; a new task with this deadline
  kExtend = 2,    // an extension was approved; the new deadline
  kSuspend = 3,   // suspension approved: the clock stops
  kResume = 4,    // resumed; the new deadline
  kFeedback = 5,  // feedback submitted; flag = on time
  kPass = 6,      // verification passed (closed)
  kReturn = 7,    // the return was approved: the case left the unit
  kVoid = 8,      // voided or merged
};
constexpr std::uint8_t kTimelineVersion = 1;
constexpr std::uint8_t kCaseStateVersion = 1;
constexpr std::uint8_t kReportVersion = 1;
constexpr std::uint8_t kFeedbackVersion = 1;

std::string TimeKey(const char* prefix, Instant t, std::string_view case_id) {
  std::string k = prefix;
  AppendOrderedI64(&k, MicrosOf(t));
  k.append(case_id);
  return k;
}

std::string UnitRangeKey(std::string_view unit, Instant t) {
  std::string k = kUnitRecordPrefix;
  k.append(unit);
  k.push_back('\0');
  AppendOrderedI64(&k, MicrosOf(t));
  return k;
}

std::string CounterKey(std::string_view unit, std::int64_t day, std::int64_t bucket) {
  std::string k = kCounterPrefix;
  k.append(unit);
  k.push_back('\0');
  AppendOrderedI64(&k, day);
  AppendOrderedI64(&k, bucket);
  return k;
}

std::string CounterDayKey(std::string_view unit, std::int64_t day) {
  std::string k = kCounterPrefix;
  k.append(unit);
  k.push_back('\0');
  AppendOrderedI64(&k, day);
  return k;
}

// ev/k values: the five counts as zig-zag varints.
std::string EncodeCounts(const UnitCounts& c) {
  Writer w;
  for (std::int64_t x : c.v) w.I64(x);
  return w.Take();
}

Result<UnitCounts> DecodeCounts(std::string_view key, std::string_view v) {
  Reader r(v);
  UnitCounts c;
  for (std::int64_t& x : c.v) x = r.I64();
  if (!r.ok() || !r.done()) {
    return Status::Corruption("evaluation projection: malformed counters at key " + std::string(key));
  }
  return c;
}

// ev/c/<case>: what the projection must remember about an open case.
struct CaseEval {
  std::optional<std::int64_t> report_us;
  std::string unit;                                         // current unit, "" none
  std::vector<std::pair<std::string, std::int64_t>> units;  // unit -> first dispatch (record key)
  std::optional<std::int64_t> feedback_us;                  // latest feedback (ev/f key)
  bool feedback_on_time = false;
};

std::string EncodeCaseEval(const CaseEval& c) {
  Writer w;
  w.U8(kCaseStateVersion);
  w.OptI64(c.report_us);
  w.Str(c.unit);
  w.Varint(c.units.size());
  for (const auto& [u, t] : c.units) {
    w.Str(u);
    w.I64(t);
  }
  w.OptI64(c.feedback_us);
  w.Bool(c.feedback_on_time);
  return w.Take();
}

Status Malformed(std::string_view key) {
  return Status::Corruption("evaluation projection: malformed value at key " + std::string(key));
}

Result<CaseEval> DecodeCaseEval(std::string_view key, std::string_view v) {
  Reader r(v);
  CaseEval c;
  std::uint8_t version = r.U8();
  c.report_us = r.OptI64();
  c.unit = r.Str();
  std::uint64_t n = r.Varint();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string u = r.Str();
    std::int64_t t = r.I64();
    c.units.emplace_back(std::move(u), t);
  }
  c.feedback_us = r.OptI64();
  c.feedback_on_time = r.Bool();
  if (!r.ok() || version != kCaseStateVersion) return Malformed(key);
  return c;
}

struct ReportRecord {
  std::string reporter;
  ReportSource source = ReportSource::kInspector;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
  std::string grid;
  std::optional<Instant> registered;
};

std::string EncodeReport(const ReportRecord& r) {
  Writer w;
  w.U8(kReportVersion);
  w.Str(r.reporter);
  w.U8(static_cast<std::uint8_t>(r.source));
  w.U8(static_cast<std::uint8_t>(r.kind));
  w.Str(r.category);
  w.Str(r.grid);
  w.OptTime(r.registered);
  return w.Take();
}

Result<ReportRecord> DecodeReport(std::string_view key, std::string_view v) {
  Reader r(v);
  ReportRecord rec;
  std::uint8_t version = r.U8();
  rec.reporter = r.Str();
  rec.source = static_cast<ReportSource>(r.U8());
  rec.kind = static_cast<CaseKind>(r.U8());
  rec.category = r.Str();
  rec.grid = r.Str();
  rec.registered = r.OptTime();
  if (!r.ok() || version != kReportVersion) return Malformed(key);
  return rec;
}

struct FeedbackRecord {
  std::string verifier;
  std::optional<Instant> verify_deadline;
  std::optional<Instant> verified;
};

std::string EncodeFeedback(const FeedbackRecord& f) {
  Writer w;
  w.U8(kFeedbackVersion);
  w.Str(f.verifier);
  w.OptTime(f.verify_deadline);
  w.OptTime(f.verified);
  return w.Take();
}

Result<FeedbackRecord> DecodeFeedback(std::string_view key, std::string_view v) {
  Reader r(v);
  FeedbackRecord f;
  std::uint8_t version = r.U8();
  f.verifier = r.Str();
  f.verify_deadline = r.OptTime();
  f.verified = r.OptTime();
  if (!r.ok() || version != kFeedbackVersion) return Malformed(key);
  return f;
}

void AppendFactTo(std::string* timeline, Fact f, Instant t, const std::optional<Instant>& deadline,
                  bool flag) {
  Writer w;
  w.U8(static_cast<std::uint8_t>(f));
  w.I64(MicrosOf(t));
  w.OptTime(deadline);
  w.Bool(flag);
  timeline->append(w.out());
}

// Centre day counters: ev/e/<be64 local day><field>. Field "a": the six
// figures below; "c<kind>/<category>": reports of the category; "g<grid>":
// reports of the grid (grouped by prefix at query time). Every record counts
// on the local day of its own time; records are never removed.
enum CentreField : int {
  kReceived = 0,
  kRegistered,
  kRejected,
  kVoided,
  kClosed,
  kClosedOnTime,
  kCentreSize
};
// Grids are counted by their first 9 digits (county + street, domain.md §2):
// enough for any policy.grid_group_digits up to 9 (the default); a larger
// grouping is answered record by record.
constexpr std::size_t kGridCounterDigits = 9;
// Inspector counters: ev/i/<be64 day of the record><be64 change bucket><inspector>,
// day and bucket as for ev/k/.
enum InspectorField : int {
  kReports = 0,
  kValid,
  kVerifications,
  kVerifiedOnTime,
  kInspectorSteps,
  kInspectorSize
};

std::string CentreKey(std::int64_t day, std::string_view field) {
  std::string k = kCentrePrefix;
  AppendOrderedI64(&k, day);
  k.append(field);
  return k;
}

std::string InspectorKey(std::int64_t day, std::int64_t bucket, std::string_view inspector) {
  std::string k = kInspectorPrefix;
  AppendOrderedI64(&k, day);
  AppendOrderedI64(&k, bucket);
  k.append(inspector);
  return k;
}

std::string EncodeVector(const std::int64_t* v, int n) {
  Writer w;
  for (int i = 0; i < n; ++i) w.I64(v[i]);
  return w.Take();
}

Status DecodeVector(std::string_view key, std::string_view value, std::int64_t* v, int n) {
  Reader r(value);
  for (int i = 0; i < n; ++i) v[i] = r.I64();
  if (!r.ok() || !r.done()) {
    return Status::Corruption("evaluation projection: malformed counters at key " + std::string(key));
  }
  return Status::Ok();
}

// Adds `delta` (n values) to the vector counter at `key`; deleted at all zeros.
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
Status TallyRecord(Batch& b, std::string_view key, std::string_view value, std::int64_t sign) {
  if (key.size() < kTimePrefixLen + 8) return Malformed(key);
  const std::string_view prefix = key.substr(0, kTimePrefixLen);
  const std::int64_t t = DecodeOrderedI64(key.substr(kTimePrefixLen, 8));
  const std::int64_t day = LocalDayOf(t);
  std::int64_t centre[kCentreSize] = {0, 0, 0, 0, 0, 0};
  auto inspector = [&](const std::string& who, std::int64_t at_us, int field) {
    std::int64_t d[kInspectorSize] = {0, 0, 0, 0, 0};
    d[field] = sign;
    d[kInspectorSteps] = sign;
    return AddVector(b, InspectorKey(day, ChangeBucketOf(at_us), who), d, kInspectorSize);
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
  EventApplier(Batch& b, const CaseEvent& e)
      : b_(b), e_(e), case_key_(kCasePrefix + e.case_id), fresh_(b.IsFresh(e.case_id)) {}

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
  std::optional<std::string> CurrentRecordKey() const {
    if (cs_.unit.empty()) return std::nullopt;
    for (const auto& [u, first] : cs_.units) {
      if (u == cs_.unit) return UnitRangeKey(u, InstantFromMicros(first)) + e_.case_id;
    }
    return std::nullopt;
  }

  // Appends a fact to the current unit's timeline; nothing when the case has
  // no current unit (the fact concerns no unit).
  Status AddFact(Fact f, const std::optional<Instant>& deadline, bool flag) {
    if (cs_.unit.empty()) return Status::Ok();
    std::int64_t first = 0;
    bool found = false;
    for (const auto& [u, t] : cs_.units) {
      if (u == cs_.unit) {
        first = t;
        found = true;
        break;
      }
    }
    if (!found) return Status::Ok();
    const std::string k = UnitRangeKey(cs_.unit, InstantFromMicros(first)) + e_.case_id;
    auto v = b_.Get(k, fresh_);
    if (!v.ok()) return v.status();
    std::string timeline = v->has_value() ? std::move(**v) : std::string(1, char(kTimelineVersion));
    // The counters move by (steps of the new timeline) - (steps of the old).
    auto facts = ParseTimeline(k, timeline);
    if (!facts.ok()) return facts.status();
    std::vector<std::pair<std::int64_t, UnitCounts>> steps;
    AddTimelineSteps(*facts, -1, &steps);
    AppendFactTo(&timeline, f, e_.time, deadline, flag);
    TimelineFact added;
    added.code = static_cast<std::uint8_t>(f);
    added.time_us = MicrosOf(e_.time);
    if (deadline) added.deadline_us = MicrosOf(*deadline);
    added.flag = flag;
    facts->push_back(added);
    AddTimelineSteps(*facts, +1, &steps);
    b_.Put(k, std::move(timeline), fresh_);
    return AddToCounters(cs_.unit, LocalDayOf(first), &steps);
  }

  // Adds the steps to ev/k/<unit>\0<day><bucket>, one read-modify-write per
  // bucket whose net change is not zero.
  Status AddToCounters(const std::string& unit, std::int64_t day,
                       std::vector<std::pair<std::int64_t, UnitCounts>>* steps) {
    std::sort(steps->begin(), steps->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < steps->size();) {
      UnitCounts sum;
      std::size_t j = i;
      for (; j < steps->size() && (*steps)[j].first == (*steps)[i].first; ++j) {
        for (int x = 0; x < UnitCounts::kSize; ++x) sum.v[x] += (*steps)[j].second.v[x];
      }
      bool any = false;
      for (int x = 0; x < UnitCounts::kSize; ++x) any = any || sum.v[x] != 0;
      if (any) CASELOOP_RETURN_IF_ERROR(AddCounts(CounterKey(unit, day, (*steps)[i].first), sum));
      i = j;
    }
    return Status::Ok();
  }

  Status AddCounts(const std::string& key, const UnitCounts& delta) {
    auto v = b_.Get(key);
    if (!v.ok()) return v.status();
    UnitCounts c;
    if (v->has_value()) {
      auto d = DecodeCounts(key, **v);
      if (!d.ok()) return d.status();
      c = *d;
    }
    bool any = false;
    for (int x = 0; x < UnitCounts::kSize; ++x) {
      c.v[x] += delta.v[x];
      any = any || c.v[x] != 0;
    }
    if (any) {
      b_.Put(key, EncodeCounts(c));
    } else {
      b_.Delete(key);
    }
    return Status::Ok();
  }

  Result<UnitCaseFacts> CurrentFacts() {
    auto k = CurrentRecordKey();
    if (!k) return UnitCaseFacts{};
    auto v = b_.Get(*k, fresh_);
    if (!v.ok()) return v.status();
    if (!v->has_value()) return UnitCaseFacts{};
    return EvaluateTimeline(*k, **v, e_.time);
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
      CASELOOP_RETURN_IF_ERROR(TallyRecord(b_, key, **old, -1));
    }
    CASELOOP_RETURN_IF_ERROR(TallyRecord(b_, key, value, +1));
    b_.Put(key, std::move(value), fresh_);
    return Status::Ok();
  }

  Batch& b_;
  const CaseEvent& e_;
  std::string case_key_;
  bool fresh_;  // no state of this case is in the store yet
  CaseEval cs_;
};

// Scans the time-keyed prefix over [from, end) and calls fn(time, case, value).
template <typename Fn>
Status ScanTimes(ProjectionStore* store, const char* prefix, Instant from, Instant end, Fn&& fn) {
  if (end <= from) return Status::Ok();
  Status bad;
  Status s = store->Scan(TimeKey(prefix, from, ""), TimeKey(prefix, end, ""),
                         [&](std::string_view k, std::string_view v) {
                           if (k.size() < kTimePrefixLen + 8) {
                             bad = Malformed(k);
                             return false;
                           }
                           Instant t = InstantFromMicros(DecodeOrderedI64(k.substr(kTimePrefixLen, 8)));
                           bad = fn(t, k.substr(kTimePrefixLen + 8), k, v);
                           return bad.ok();
                         });
  if (!s.ok()) return s;
  return bad;
}

struct Window {
  Instant from{};
  Instant end{};  // exclusive: min(to, at + 1 µs)
  Instant at{};
};

Result<Window> WindowOf(const PeriodQuery& q) {
  if (q.to < q.from) {
    return Status::InvalidArgument("period query: 'to' (" + std::to_string(MicrosOf(q.to)) +
                                   " µs) is before 'from' (" + std::to_string(MicrosOf(q.from)) + " µs)");
  }
  Window w;
  w.from = q.from;
  w.at = q.at.value_or(q.to);
  w.end = std::min(q.to, w.at + Micros(1));
  return w;
}

std::optional<double> Ratio(std::int64_t n, std::int64_t d) {
  if (d == 0) return std::nullopt;
  return static_cast<double>(n) / static_cast<double>(d);
}

}  // namespace

Result<std::vector<TimelineFact>> ParseTimeline(std::string_view key, std::string_view timeline) {
  Reader r(timeline);
  if (r.U8() != kTimelineVersion || !r.ok()) return Malformed(key);
  std::vector<TimelineFact> facts;
  facts.reserve(8);
  while (!r.done()) {
    TimelineFact f;
    f.code = r.U8();
    f.time_us = r.I64();
    f.deadline_us = r.OptI64();
    f.flag = r.Bool();
    if (!r.ok()) return Malformed(key);
    if (f.code > static_cast<std::uint8_t>(Fact::kVoid)) {
      return Status::Corruption("evaluation projection: unknown fact " + std::to_string(f.code) + " at key " +
                                std::string(key));
    }
    facts.push_back(f);
  }
  return facts;
}

UnitCaseFacts EvaluateFacts(const std::vector<TimelineFact>& facts, std::int64_t at_us) {
  bool assigned = false, returned = false, voided = false, suspended = false;
  bool feedback = false, failed = false, feedback_on_time = false;
  int fails = 0, extensions = 0;
  std::optional<std::int64_t> deadline;
  for (const TimelineFact& x : facts) {
    if (x.time_us > at_us) continue;  // not yet known at `at`
    switch (static_cast<Fact>(x.code)) {
      case Fact::kAssign:
        assigned = true;
        returned = false;
        suspended = false;
        deadline = x.deadline_us;
        break;
      case Fact::kRework:
        failed = true;
        ++fails;
        suspended = false;
        deadline = x.deadline_us;
        break;
      case Fact::kExtend:
        ++extensions;
        if (x.deadline_us) deadline = x.deadline_us;
        break;
      case Fact::kSuspend:
        suspended = true;
        break;
      case Fact::kResume:
        suspended = false;
        if (x.deadline_us) deadline = x.deadline_us;
        break;
      case Fact::kFeedback:
        feedback = true;
        failed = false;
        feedback_on_time = x.flag;
        break;
      case Fact::kPass:
        break;
      case Fact::kReturn:
        returned = true;
        break;
      case Fact::kVoid:
        voided = true;
        break;
    }
  }
  UnitCaseFacts f;
  f.in_population = assigned && !returned && !voided;
  f.handled = feedback && !failed;
  f.suspended = suspended;
  if (deadline) f.deadline = InstantFromMicros(*deadline);
  f.overdue = !f.handled && !suspended && deadline && at_us > *deadline;
  f.on_time = f.handled && feedback_on_time;
  f.reworked = fails > 0;
  f.extended = extensions > 0;
  return f;
}

Result<UnitCaseFacts> EvaluateTimeline(std::string_view key, std::string_view timeline, Instant at) {
  auto facts = ParseTimeline(key, timeline);
  if (!facts.ok()) return facts.status();
  return EvaluateFacts(*facts, MicrosOf(at));
}

UnitCounts ContributionOf(const UnitCaseFacts& f) {
  UnitCounts c;
  if (!f.in_population || !(f.handled || f.overdue)) return c;
  c.v[UnitCounts::kDue] = 1;
  c.v[UnitCounts::kExtended] = f.extended ? 1 : 0;
  if (f.handled) {
    c.v[UnitCounts::kHandled] = 1;
    c.v[UnitCounts::kOnTime] = f.on_time ? 1 : 0;
    c.v[UnitCounts::kReworked] = f.reworked ? 1 : 0;
  }
  return c;
}

std::int64_t LocalDayOf(std::int64_t us) { return FloorDiv(us + kCounterDayOffsetUs, kDayUs); }
std::int64_t LocalDayStart(std::int64_t day) { return day * kDayUs - kCounterDayOffsetUs; }
std::int64_t ChangeBucketOf(std::int64_t us) { return FloorDiv(us - 1 + kCounterDayOffsetUs, kDayUs); }

void AddTimelineSteps(const std::vector<TimelineFact>& facts, std::int64_t sign,
                      std::vector<std::pair<std::int64_t, UnitCounts>>* out) {
  // The contribution only changes where a fact becomes known (T = its time)
  // or where a deadline is passed (T = deadline + 1 µs).
  std::int64_t points[64];
  std::vector<std::int64_t> many;
  std::size_t n = 0;
  auto add = [&](std::int64_t p) {
    if (n < 64) {
      points[n++] = p;
    } else {
      if (many.empty()) many.assign(points, points + 64);
      many.push_back(p);
      ++n;
    }
  };
  for (const TimelineFact& f : facts) {
    add(f.time_us);
    if (f.deadline_us && *f.deadline_us < INT64_MAX) add(*f.deadline_us + 1);
  }
  std::int64_t* begin = many.empty() ? points : many.data();
  std::int64_t* end = begin + n;
  std::sort(begin, end);
  end = std::unique(begin, end);
  UnitCounts prev;
  for (std::int64_t* p = begin; p != end; ++p) {
    UnitCounts cur = ContributionOf(EvaluateFacts(facts, *p));
    UnitCounts delta;
    bool any = false;
    for (int i = 0; i < UnitCounts::kSteps; ++i) {
      delta.v[i] = sign * (cur.v[i] - prev.v[i]);
      any = any || delta.v[i] != 0;
    }
    delta.v[UnitCounts::kSteps] = sign;
    if (any) out->emplace_back(ChangeBucketOf(*p), delta);
    prev = cur;
  }
}

void ScoreUnit(UnitRates& r, const Weights& w) {
  r.late = r.handled - r.on_time;
  r.overdue_open = r.due - r.handled;
  r.handling_rate = Ratio(r.handled, r.due);
  r.on_time_rate = Ratio(r.on_time, r.due);
  r.rework_rate = Ratio(r.reworked, r.handled);
  r.overdue_open_rate = Ratio(r.overdue_open, r.due);
  r.extension_rate = Ratio(r.extended, r.due);
  r.score.reset();
  r.grade.reset();
  const double total = w.handling + w.on_time + w.rework + w.overdue + w.extension;
  if (r.due == 0 || !(total > 0)) return;
  double sum = *r.handling_rate * w.handling + *r.on_time_rate * w.on_time +
               (1 - r.rework_rate.value_or(0)) * w.rework + (1 - *r.overdue_open_rate) * w.overdue +
               (1 - *r.extension_rate) * w.extension;
  double score = sum * (100.0 / total);
  r.score = std::round(score * 100.0) / 100.0;
  r.grade = GradeOf(*r.score);
}

Status EvaluationProjection::Apply(Batch& batch, const CaseEvent& e) { return EventApplier(batch, e).Run(); }

Result<UnitCounts> EvaluationProjection::ExactUnitCounts(const std::string& unit, std::int64_t lo_us,
                                                         std::int64_t hi_us, std::int64_t at_us) {
  UnitCounts sum;
  if (hi_us <= lo_us) return sum;
  Status bad;
  Status s =
      store_->Scan(UnitRangeKey(unit, InstantFromMicros(lo_us)), UnitRangeKey(unit, InstantFromMicros(hi_us)),
                   [&](std::string_view k, std::string_view v) {
                     auto facts = ParseTimeline(k, v);
                     if (!facts.ok()) {
                       bad = facts.status();
                       return false;
                     }
                     UnitCounts c = ContributionOf(EvaluateFacts(*facts, at_us));
                     for (int x = 0; x < UnitCounts::kSize; ++x) sum.v[x] += c.v[x];
                     return true;
                   });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return sum;
}

Result<UnitCounts> EvaluationProjection::UnitCountsOf(const std::string& unit, std::int64_t from_us,
                                                      std::int64_t to_us, std::int64_t at_us) {
  UnitCounts sum;
  auto add = [&sum](const UnitCounts& c) {
    for (int x = 0; x < UnitCounts::kSize; ++x) sum.v[x] += c.v[x];
  };
  if (to_us <= from_us) return sum;
  // Whole local days inside [from, to) come from the counters; the partial
  // days at either end are evaluated record by record.
  std::int64_t first_day = LocalDayOf(from_us);
  if (LocalDayStart(first_day) < from_us) ++first_day;
  const std::int64_t end_day = LocalDayOf(to_us);  // days before it end at or before `to`
  if (first_day >= end_day) return ExactUnitCounts(unit, from_us, to_us, at_us);
  auto head = ExactUnitCounts(unit, from_us, LocalDayStart(first_day), at_us);
  if (!head.ok()) return head.status();
  add(*head);
  auto tail = ExactUnitCounts(unit, LocalDayStart(end_day), to_us, at_us);
  if (!tail.ok()) return tail.status();
  add(*tail);
  // Steps in buckets up to `last_bucket` hold at `at`, steps in later buckets
  // do not. When `at` is not at a local midnight, the bucket holding it is
  // ambiguous: a day with a step there is evaluated record by record.
  const std::int64_t at_bucket = ChangeBucketOf(at_us);
  const bool at_midnight = LocalDayStart(at_bucket + 1) == at_us;
  const std::int64_t last_bucket = at_midnight ? at_bucket : at_bucket - 1;
  std::vector<std::int64_t> exact_days;
  std::int64_t day = INT64_MIN;
  UnitCounts day_sum;
  bool day_exact = false;
  auto finish_day = [&]() {
    if (day == INT64_MIN) return;
    if (day_exact) {
      exact_days.push_back(day);
    } else {
      add(day_sum);
    }
  };
  Status bad;
  const std::size_t day_offset = CounterDayKey(unit, 0).size() - 8;
  Status s = store_->Scan(CounterDayKey(unit, first_day), CounterDayKey(unit, end_day),
                          [&](std::string_view k, std::string_view v) {
                            if (k.size() != day_offset + 16) {
                              bad = Malformed(k);
                              return false;
                            }
                            const std::int64_t d = DecodeOrderedI64(k.substr(day_offset, 8));
                            const std::int64_t b = DecodeOrderedI64(k.substr(day_offset + 8, 8));
                            if (d != day) {
                              finish_day();
                              day = d;
                              day_sum = UnitCounts{};
                              day_exact = false;
                            }
                            if (day_exact) return true;
                            if (!at_midnight && b == at_bucket) {
                              day_exact = true;
                              return true;
                            }
                            if (b > last_bucket) return true;
                            auto c = DecodeCounts(k, v);
                            if (!c.ok()) {
                              bad = c.status();
                              return false;
                            }
                            for (int x = 0; x < UnitCounts::kSize; ++x) day_sum.v[x] += c->v[x];
                            return true;
                          });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  finish_day();
  for (std::int64_t d : exact_days) {
    auto c = ExactUnitCounts(unit, LocalDayStart(d), LocalDayStart(d + 1), at_us);
    if (!c.ok()) return c.status();
    add(*c);
  }
  return sum;
}

Result<std::vector<UnitRates>> EvaluationProjection::Rates(const PeriodQuery& q, const Config& config) {
  return RatesImpl(q, config, /*by_scan=*/false);
}

Result<std::vector<UnitRates>> EvaluationProjection::RatesByScan(const PeriodQuery& q, const Config& config) {
  return RatesImpl(q, config, /*by_scan=*/true);
}

Result<std::vector<InspectorRates>> EvaluationProjection::InspectorsByScan(const PeriodQuery& q) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  std::map<std::string, InspectorRates> by_id;
  CASELOOP_RETURN_IF_ERROR(
      ExactInspectors(MicrosOf(win->from), MicrosOf(win->end), MicrosOf(win->at), q.unit, &by_id));
  std::vector<InspectorRates> out;
  for (auto& [_, r] : by_id) {
    r.valid_rate = Ratio(r.valid, r.reports);
    r.verification_on_time_rate = Ratio(r.verified_on_time, r.verifications);
    out.push_back(std::move(r));
  }
  return out;
}

Result<CentreFigures> EvaluationProjection::CentreByScan(const PeriodQuery& q, const Config& config) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  CentreFigures c;
  CASELOOP_RETURN_IF_ERROR(ExactCentre(MicrosOf(win->from), MicrosOf(win->end),
                                       static_cast<std::size_t>(std::max(0, config.policy.grid_group_digits)),
                                       &c));
  return c;
}

Result<std::vector<UnitRates>> EvaluationProjection::RatesImpl(const PeriodQuery& q, const Config& config,
                                                               bool by_scan) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  std::set<std::string> units;
  if (!q.unit.empty()) {
    units.insert(q.unit);
  } else {
    for (const auto& [id, _] : config.units) units.insert(id);
    Status s = store_->Scan(kUnitListPrefix, "ev/n0", [&](std::string_view k, std::string_view) {
      units.emplace(k.substr(sizeof(kUnitListPrefix) - 1));
      return true;
    });
    if (!s.ok()) return s;
  }
  std::vector<UnitRates> out;
  for (const auto& unit : units) {
    auto counts = by_scan ? ExactUnitCounts(unit, MicrosOf(q.from), MicrosOf(q.to), MicrosOf(win->at))
                          : UnitCountsOf(unit, MicrosOf(q.from), MicrosOf(q.to), MicrosOf(win->at));
    if (!counts.ok()) return counts.status();
    UnitRates r;
    r.unit = unit;
    r.due = counts->v[UnitCounts::kDue];
    r.handled = counts->v[UnitCounts::kHandled];
    r.on_time = counts->v[UnitCounts::kOnTime];
    r.reworked = counts->v[UnitCounts::kReworked];
    r.extended = counts->v[UnitCounts::kExtended];
    ScoreUnit(r, config.weights);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const UnitRates& a, const UnitRates& b) {
    if (a.score.has_value() != b.score.has_value()) return a.score.has_value();
    if (a.score && *a.score != *b.score) return *a.score > *b.score;
    return a.unit < b.unit;
  });
  return out;
}

namespace {

// The whole local days inside [from, end): [first, end_day).
std::pair<std::int64_t, std::int64_t> WholeDays(std::int64_t from_us, std::int64_t end_us) {
  std::int64_t first = LocalDayOf(from_us);
  if (LocalDayStart(first) < from_us) ++first;
  return {first, LocalDayOf(end_us)};
}

}  // namespace

Status EvaluationProjection::ExactInspectors(std::int64_t lo_us, std::int64_t hi_us, std::int64_t at_us,
                                             const std::string& only,
                                             std::map<std::string, InspectorRates>* by_id) {
  const Instant lo = InstantFromMicros(lo_us), hi = InstantFromMicros(hi_us), at = InstantFromMicros(at_us);
  auto row = [&](const std::string& id) -> InspectorRates& {
    auto& r = (*by_id)[id];
    r.inspector = id;
    return r;
  };
  Status s = ScanTimes(store_, kReportPrefix, lo, hi,
                       [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                         auto rep = DecodeReport(k, v);
                         if (!rep.ok()) return rep.status();
                         if (rep->source != ReportSource::kInspector) return Status::Ok();
                         if (!only.empty() && rep->reporter != only) return Status::Ok();
                         auto& r = row(rep->reporter);
                         ++r.reports;
                         if (rep->registered && *rep->registered <= at) ++r.valid;
                         return Status::Ok();
                       });
  if (!s.ok()) return s;
  return ScanTimes(store_, kFeedbackPrefix, lo, hi,
                   [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                     auto f = DecodeFeedback(k, v);
                     if (!f.ok()) return f.status();
                     if (f->verifier.empty()) return Status::Ok();
                     if (!only.empty() && f->verifier != only) return Status::Ok();
                     auto& r = row(f->verifier);
                     ++r.verifications;
                     if (f->verified && *f->verified <= at &&
                         (!f->verify_deadline || *f->verified <= *f->verify_deadline)) {
                       ++r.verified_on_time;
                     }
                     return Status::Ok();
                   });
}

Result<std::vector<InspectorRates>> EvaluationProjection::Inspectors(const PeriodQuery& q) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  const std::int64_t from_us = MicrosOf(win->from), end_us = MicrosOf(win->end), at_us = MicrosOf(win->at);
  std::map<std::string, InspectorRates> by_id;
  auto [first_day, end_day] = WholeDays(from_us, end_us);
  if (end_us <= from_us || first_day >= end_day) {
    CASELOOP_RETURN_IF_ERROR(ExactInspectors(from_us, end_us, at_us, q.unit, &by_id));
  } else {
    CASELOOP_RETURN_IF_ERROR(ExactInspectors(from_us, LocalDayStart(first_day), at_us, q.unit, &by_id));
    CASELOOP_RETURN_IF_ERROR(ExactInspectors(LocalDayStart(end_day), end_us, at_us, q.unit, &by_id));
    // Whole days from the counters, as for Rates: a day with a change in the
    // bucket holding a non-midnight `at` is evaluated record by record.
    const std::int64_t at_bucket = ChangeBucketOf(at_us);
    const bool at_midnight = LocalDayStart(at_bucket + 1) == at_us;
    const std::int64_t last_bucket = at_midnight ? at_bucket : at_bucket - 1;
    std::vector<std::int64_t> exact_days;
    std::int64_t day = INT64_MIN;
    bool day_exact = false;
    std::vector<std::pair<std::string, std::array<std::int64_t, kInspectorSize>>> day_rows;
    auto finish_day = [&]() {
      if (day == INT64_MIN) return;
      if (day_exact) {
        exact_days.push_back(day);
        return;
      }
      for (const auto& [id, v] : day_rows) {
        auto& r = by_id[id];
        r.inspector = id;
        r.reports += v[kReports];
        r.valid += v[kValid];
        r.verifications += v[kVerifications];
        r.verified_on_time += v[kVerifiedOnTime];
      }
    };
    const std::size_t head = sizeof(kInspectorPrefix) - 1;
    std::string start = kInspectorPrefix, stop = kInspectorPrefix;
    AppendOrderedI64(&start, first_day);
    AppendOrderedI64(&stop, end_day);
    Status bad;
    Status s = store_->Scan(start, stop, [&](std::string_view k, std::string_view v) {
      if (k.size() < head + 16) {
        bad = Malformed(k);
        return false;
      }
      const std::int64_t d = DecodeOrderedI64(k.substr(head, 8));
      const std::int64_t b = DecodeOrderedI64(k.substr(head + 8, 8));
      if (d != day) {
        finish_day();
        day = d;
        day_exact = false;
        day_rows.clear();
      }
      if (day_exact) return true;
      if (!at_midnight && b == at_bucket) {
        day_exact = true;
        return true;
      }
      if (b > last_bucket) return true;
      const std::string_view id = k.substr(head + 16);
      if (!q.unit.empty() && id != q.unit) return true;
      std::array<std::int64_t, kInspectorSize> vals{};
      bad = DecodeVector(k, v, vals.data(), kInspectorSize);
      if (!bad.ok()) return false;
      day_rows.emplace_back(std::string(id), vals);
      return true;
    });
    if (!s.ok()) return s;
    if (!bad.ok()) return bad;
    finish_day();
    for (std::int64_t d : exact_days) {
      CASELOOP_RETURN_IF_ERROR(
          ExactInspectors(LocalDayStart(d), LocalDayStart(d + 1), at_us, q.unit, &by_id));
    }
  }
  std::vector<InspectorRates> out;
  for (auto& [_, r] : by_id) {
    if (r.reports == 0 && r.verifications == 0) continue;  // only changes that cancelled
    r.valid_rate = Ratio(r.valid, r.reports);
    r.verification_on_time_rate = Ratio(r.verified_on_time, r.verifications);
    out.push_back(std::move(r));
  }
  return out;
}

Status EvaluationProjection::ExactCentre(std::int64_t lo_us, std::int64_t hi_us, std::size_t digits,
                                         CentreFigures* c) {
  const Instant lo = InstantFromMicros(lo_us), hi = InstantFromMicros(hi_us);
  Status s = ScanTimes(store_, kReportPrefix, lo, hi,
                       [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                         auto rep = DecodeReport(k, v);
                         if (!rep.ok()) return rep.status();
                         ++c->received;
                         ++c->received_by_category[std::string(Name(rep->kind)) + "/" + rep->category];
                         if (!rep->grid.empty()) ++c->received_by_grid[rep->grid.substr(0, digits)];
                         return Status::Ok();
                       });
  if (!s.ok()) return s;
  auto count = [&](const char* prefix, std::int64_t* n) {
    return ScanTimes(store_, prefix, lo, hi,
                     [&](Instant, std::string_view, std::string_view, std::string_view) -> Status {
                       ++*n;
                       return Status::Ok();
                     });
  };
  CASELOOP_RETURN_IF_ERROR(count(kRegisteredPrefix, &c->registered));
  CASELOOP_RETURN_IF_ERROR(count(kRejectedPrefix, &c->rejected));
  CASELOOP_RETURN_IF_ERROR(count(kVoidedPrefix, &c->voided));
  return ScanTimes(store_, kClosedPrefix, lo, hi,
                   [&](Instant, std::string_view, std::string_view k, std::string_view v) -> Status {
                     if (v.size() != 1) return Malformed(k);
                     ++c->closed;
                     if (v[0] != 0) ++c->closed_on_time;
                     return Status::Ok();
                   });
}

Result<CentreFigures> EvaluationProjection::Centre(const PeriodQuery& q, const Config& config) {
  auto win = WindowOf(q);
  if (!win.ok()) return win.status();
  CentreFigures c;
  const auto digits = static_cast<std::size_t>(std::max(0, config.policy.grid_group_digits));
  const std::int64_t from_us = MicrosOf(win->from), end_us = MicrosOf(win->end);
  auto [first_day, end_day] = WholeDays(from_us, end_us);
  if (end_us <= from_us || first_day >= end_day || digits > kGridCounterDigits) {
    CASELOOP_RETURN_IF_ERROR(ExactCentre(from_us, end_us, digits, &c));
    return c;
  }
  CASELOOP_RETURN_IF_ERROR(ExactCentre(from_us, LocalDayStart(first_day), digits, &c));
  CASELOOP_RETURN_IF_ERROR(ExactCentre(LocalDayStart(end_day), end_us, digits, &c));
  // Whole days: every record counts on its own day, whatever `at` (the
  // window already ends at `at`).
  const std::size_t head = sizeof(kCentrePrefix) - 1 + 8;
  Status bad;
  Status s = store_->Scan(CentreKey(first_day, ""), CentreKey(end_day, ""),
                          [&](std::string_view k, std::string_view v) {
                            if (k.size() < head + 1) {
                              bad = Malformed(k);
                              return false;
                            }
                            const char field = k[head];
                            const std::string_view name = k.substr(head + 1);
                            if (field == 'a') {
                              std::int64_t a[kCentreSize];
                              bad = DecodeVector(k, v, a, kCentreSize);
                              if (!bad.ok()) return false;
                              c.received += a[kReceived];
                              c.registered += a[kRegistered];
                              c.rejected += a[kRejected];
                              c.voided += a[kVoided];
                              c.closed += a[kClosed];
                              c.closed_on_time += a[kClosedOnTime];
                              return true;
                            }
                            auto n = DecodeCounter(k, v);
                            if (!n.ok()) {
                              bad = n.status();
                              return false;
                            }
                            if (field == 'c') {
                              c.received_by_category[std::string(name)] += *n;
                            } else if (field == 'g') {
                              c.received_by_grid[std::string(name.substr(0, digits))] += *n;
                            } else {
                              bad = Malformed(k);
                              return false;
                            }
                            return true;
                          });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return c;
}

}  // namespace caseloop::projections
