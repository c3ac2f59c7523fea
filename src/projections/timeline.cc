#include "projections/timeline.h"

#include <algorithm>

#include "projections/codec.h"

namespace caseloop::projections {

std::string NewTimeline() { return std::string(1, static_cast<char>(kTimelineVersion)); }

void AppendFact(std::string* timeline, const TimelineFact& fact) {
  Writer w;
  w.U8(fact.code);
  w.I64(fact.time_us);
  w.OptI64(fact.deadline_us);
  w.Bool(fact.flag);
  timeline->append(w.out());
}

Result<std::vector<TimelineFact>> ParseTimeline(std::string_view key, std::string_view timeline) {
  Reader r(timeline);
  if (r.U8() != kTimelineVersion || !r.ok()) {
    return Status::Corruption("evaluation projection: malformed value at key " + std::string(key));
  }
  std::vector<TimelineFact> facts;
  facts.reserve(8);
  while (!r.done()) {
    TimelineFact f;
    f.code = r.U8();
    f.time_us = r.I64();
    f.deadline_us = r.OptI64();
    f.flag = r.Bool();
    if (!r.ok())
      return Status::Corruption("evaluation projection: malformed value at key " + std::string(key));
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

void AddTimelineSteps(const std::vector<TimelineFact>& facts, std::int64_t sign, const DayGrid& grid,
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
    if (any) out->emplace_back(grid.ChangeBucketOf(*p), delta);
    prev = cur;
  }
}

}  // namespace caseloop::projections
