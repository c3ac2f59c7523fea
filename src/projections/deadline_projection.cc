#include "projections/deadline_projection.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "projections/codec.h"

namespace caseloop::projections {
namespace {

constexpr char kCasePrefix[] = "dl/c/";
constexpr char kTaskPrefix[] = "dl/t/";
constexpr char kArmedPrefix[] = "dl/a/";
constexpr char kUnitPrefix[] = "dl/u/";
// The latest business time (recorded_us) of any record applied, as decimal text.
constexpr char kLatestKey[] = "dl/~latest";

std::int64_t DecodeLatest(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;  // an unreadable value only costs the hint; Check() does not depend on it
  }
}

// dl/c/<case>. Format version byte first; do not renumber.
struct CaseTask {
  std::string unit;
  std::uint32_t task = 0;
  bool open = false;
  std::optional<Instant> deadline;
  bool marked = false;
};

std::string EncodeCaseTask(const CaseTask& c) {
  Writer w;
  w.U8(1);
  w.Str(c.unit);
  w.Varint(c.task);
  w.Bool(c.open);
  w.OptTime(c.deadline);
  w.Bool(c.marked);
  return w.Take();
}

Result<CaseTask> DecodeCaseTask(std::string_view key, std::string_view v) {
  Reader r(v);
  CaseTask c;
  std::uint8_t version = r.U8();
  c.unit = r.Str();
  c.task = static_cast<std::uint32_t>(r.Varint());
  c.open = r.Bool();
  c.deadline = r.OptTime();
  c.marked = r.Bool();
  if (!r.ok() || version != 1) {
    return Status::Corruption("deadline projection: malformed value at key " + std::string(key));
  }
  return c;
}

// dl/t and dl/a values.
std::string EncodeIndexValue(const CaseTask& c) {
  Writer w;
  w.Str(c.unit);
  w.Varint(c.task);
  w.Bool(c.marked);
  return w.Take();
}

struct IndexEntry {
  std::string case_id;
  Instant deadline{};
  std::string unit;
  std::uint32_t task = 0;
  bool marked = false;
};

Result<IndexEntry> DecodeIndexEntry(std::string_view prefix, std::string_view key, std::string_view v) {
  IndexEntry e;
  Reader r(v);
  e.unit = r.Str();
  e.task = static_cast<std::uint32_t>(r.Varint());
  e.marked = r.Bool();
  if (!r.ok() || key.size() < prefix.size() + 8) {
    return Status::Corruption("deadline projection: malformed index entry at key " + std::string(key));
  }
  e.deadline = InstantFromMicros(DecodeOrderedI64(key.substr(prefix.size(), 8)));
  e.case_id = std::string(key.substr(prefix.size() + 8));
  return e;
}

std::string IndexKey(const char* prefix, Instant deadline, std::string_view case_id) {
  std::string k = prefix;
  AppendOrderedI64(&k, MicrosOf(deadline));
  k.append(case_id);
  return k;
}

std::string UnitKey(std::string_view unit) { return std::string(kUnitPrefix).append(unit); }

// Removes an open task from the indexes and the unit counter.
Status CloseTask(Batch& b, const std::string& case_id, CaseTask& c, bool /*fresh*/) {
  if (!c.open) return Status::Ok();
  if (c.deadline) {
    b.Delete(IndexKey(kTaskPrefix, *c.deadline, case_id));
    b.Delete(IndexKey(kArmedPrefix, *c.deadline, case_id));
  }
  c.open = false;
  return b.AddCounter(UnitKey(c.unit), -1);
}

// Adds the task `c` describes (REQUIRES: !c.open) to the indexes.
Status OpenTaskIn(Batch& b, const std::string& case_id, CaseTask& c, bool fresh) {
  c.open = true;
  if (c.deadline) {
    std::string v = EncodeIndexValue(c);
    b.Put(IndexKey(kTaskPrefix, *c.deadline, case_id), v, fresh);
    if (!c.marked) b.Put(IndexKey(kArmedPrefix, *c.deadline, case_id), std::move(v), fresh);
  }
  return b.AddCounter(UnitKey(c.unit), +1);
}

// The first key after every key that starts with `prefix` + ordered(t).
std::string UpTo(const char* prefix, Instant t_exclusive) { return IndexKey(prefix, t_exclusive, ""); }

}  // namespace

double RoundHours(Micros d) {
  double h = static_cast<double>(d.count()) / 3.6e9;
  return std::round(h * 100.0) / 100.0;
}

std::vector<std::string> DeadlineProjection::carried_prefixes() const { return {kUnitPrefix}; }

Status DeadlineProjection::Load(std::uint64_t checkpoint) {
  std::int64_t latest = 0;
  if (checkpoint > 0) {
    auto v = store_->Get(kLatestKey);
    if (!v.ok()) return v.status();
    if (v->has_value()) latest = DecodeLatest(**v);
  }
  latest_us_.store(latest);
  batch_latest_us_ = latest;
  return Status::Ok();
}

void DeadlineProjection::Begin() { batch_latest_us_ = latest_us_.load(); }

Result<Applied> DeadlineProjection::Apply(Batch& b, const LogEntry& entry) {
  // The latest business time of any record, "$" streams included.
  batch_latest_us_ = std::max(batch_latest_us_, entry.recorded_us);
  if (entry.event) CASELOOP_RETURN_IF_ERROR(ApplyEvent(b, *entry.event));
  return Applied::kDone;
}

void DeadlineProjection::Seal(Batch& b) {
  if (batch_latest_us_ != latest_us_.load()) b.Put(kLatestKey, std::to_string(batch_latest_us_));
}

void DeadlineProjection::Committed(const std::vector<KvOp>& /*ops*/) { latest_us_.store(batch_latest_us_); }

Status DeadlineProjection::ApplyEvent(Batch& b, const CaseEvent& e) {
  const std::string key = std::string(kCasePrefix) + e.case_id;
  const bool fresh = b.IsFresh(e.case_id);
  auto stored = b.Get(key, fresh);
  if (!stored.ok()) return stored.status();
  CaseTask c;
  if (stored->has_value()) {
    auto d = DecodeCaseTask(key, **stored);
    if (!d.ok()) return d.status();
    c = std::move(*d);
  }
  bool keep = true;  // false: the case has no task any more and never will
  switch (e.type) {
    case EventType::kCaseDispatched:
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      c.unit = e.unit;
      c.task = e.task != 0 ? e.task : c.task + 1;
      c.deadline = e.deadline;
      c.marked = false;
      CASELOOP_RETURN_IF_ERROR(OpenTaskIn(b, e.case_id, c, fresh));
      break;
    case EventType::kVerificationFailed:  // rework: a new task for the same unit
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      if (!e.unit.empty()) c.unit = e.unit;
      c.task = e.task != 0 ? e.task : c.task + 1;
      c.deadline = e.deadline;
      c.marked = false;
      CASELOOP_RETURN_IF_ERROR(OpenTaskIn(b, e.case_id, c, fresh));
      break;
    case EventType::kExtensionApproved:
      if (c.open && e.deadline) {
        CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
        c.deadline = e.deadline;
        CASELOOP_RETURN_IF_ERROR(OpenTaskIn(b, e.case_id, c, fresh));
      } else if (e.deadline) {
        c.deadline = e.deadline;
      }
      break;
    case EventType::kCaseResumed:
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      if (e.deadline) c.deadline = e.deadline;
      if (!c.unit.empty()) CASELOOP_RETURN_IF_ERROR(OpenTaskIn(b, e.case_id, c, fresh));
      break;
    case EventType::kSuspensionApproved:
    case EventType::kFeedbackSubmitted:
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      break;
    case EventType::kReturnApproved:
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      c.unit.clear();
      c.deadline.reset();
      break;
    case EventType::kVerificationPassed:
    case EventType::kCaseVoided:
    case EventType::kCaseMerged:
    case EventType::kCaseRejected:
      CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
      keep = false;
      break;
    case EventType::kTaskOverdue:
      if ((e.task == 0 || e.task == c.task) && !c.marked) {
        if (c.open) {
          CASELOOP_RETURN_IF_ERROR(CloseTask(b, e.case_id, c, fresh));
          c.marked = true;
          CASELOOP_RETURN_IF_ERROR(OpenTaskIn(b, e.case_id, c, fresh));
        } else {
          c.marked = true;
        }
      }
      break;
    default:
      return Status::Ok();  // no effect on tasks
  }
  if (keep) {
    b.Put(key, EncodeCaseTask(c), fresh);
  } else {
    b.Delete(key);
  }
  return Status::Ok();
}

Result<std::vector<OverdueTask>> DeadlineProjection::Overdue(Instant at) {
  std::vector<OverdueTask> out;
  Status bad;
  Status s = store_->Scan(kTaskPrefix, UpTo(kTaskPrefix, at), [&](std::string_view k, std::string_view v) {
    auto e = DecodeIndexEntry(kTaskPrefix, k, v);
    if (!e.ok()) {
      bad = e.status();
      return false;
    }
    OverdueTask o;
    o.case_id = e->case_id;
    o.unit = e->unit;
    o.deadline = e->deadline;
    o.overdue_hours = RoundHours(at - e->deadline);
    out.push_back(std::move(o));
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

Result<std::vector<OpenTask>> DeadlineProjection::DueBefore(Instant t, std::size_t max) {
  std::vector<OpenTask> out;
  if (max == 0) return out;
  Status bad;
  Status s = store_->Scan(kArmedPrefix, UpTo(kArmedPrefix, t + Micros(1)),
                          [&](std::string_view k, std::string_view v) {
                            auto e = DecodeIndexEntry(kArmedPrefix, k, v);
                            if (!e.ok()) {
                              bad = e.status();
                              return false;
                            }
                            out.push_back({e->case_id, e->unit, e->task, e->deadline, e->marked});
                            return out.size() < max;
                          });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  return out;
}

Result<std::vector<UnitWorkload>> DeadlineProjection::Workload(Instant at) {
  std::map<std::string, UnitWorkload> units;
  Status bad;
  Status s = store_->Scan(kUnitPrefix, "dl/u0", [&](std::string_view k, std::string_view v) {
    auto n = DecodeCounter(k, v);
    if (!n.ok()) {
      bad = n.status();
      return false;
    }
    std::string unit(k.substr(sizeof(kUnitPrefix) - 1));
    UnitWorkload& w = units[unit];
    w.unit = unit;
    w.open_tasks = *n;
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  s = store_->Scan(kTaskPrefix, UpTo(kTaskPrefix, at), [&](std::string_view k, std::string_view v) {
    auto e = DecodeIndexEntry(kTaskPrefix, k, v);
    if (!e.ok()) {
      bad = e.status();
      return false;
    }
    auto& w = units[e->unit];
    w.unit = e->unit;
    ++w.overdue_tasks;
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::vector<UnitWorkload> out;
  out.reserve(units.size());
  for (auto& [_, w] : units) out.push_back(std::move(w));
  return out;
}

Status DeadlineProjection::Check(std::vector<std::string>* problems) {
  std::map<std::string, std::int64_t> open_by_unit;
  std::vector<std::string> expected_index;  // dl/t keys the per-case records imply
  Status bad;
  Status s = store_->Scan(kCasePrefix, "dl/c0", [&](std::string_view k, std::string_view v) {
    auto c = DecodeCaseTask(k, v);
    if (!c.ok()) {
      bad = c.status();
      return false;
    }
    if (c->open) {
      ++open_by_unit[c->unit];
      if (c->deadline) {
        expected_index.push_back(IndexKey(kTaskPrefix, *c->deadline, k.substr(sizeof(kCasePrefix) - 1)));
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::map<std::string, std::int64_t> counters;
  s = store_->Scan(kUnitPrefix, "dl/u0", [&](std::string_view k, std::string_view v) {
    auto n = DecodeCounter(k, v);
    if (!n.ok()) {
      bad = n.status();
      return false;
    }
    counters[std::string(k.substr(sizeof(kUnitPrefix) - 1))] = *n;
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  for (const auto& [unit, n] : open_by_unit) {
    auto it = counters.find(unit);
    std::int64_t c = it == counters.end() ? 0 : it->second;
    if (c != n) {
      problems->push_back("deadline projection: unit " + unit + " counter says " + std::to_string(c) +
                          " open tasks, the case records say " + std::to_string(n));
    }
  }
  for (const auto& [unit, c] : counters) {
    if (!open_by_unit.count(unit)) {
      problems->push_back("deadline projection: unit " + unit + " counter says " + std::to_string(c) +
                          " open tasks, the case records say 0");
    }
  }
  std::size_t index_entries = 0;
  s = store_->Scan(kTaskPrefix, "dl/t0", [&](std::string_view, std::string_view) {
    ++index_entries;
    return true;
  });
  if (!s.ok()) return s;
  if (index_entries != expected_index.size()) {
    problems->push_back("deadline projection: " + std::to_string(index_entries) +
                        " deadline index entries, the case records imply " +
                        std::to_string(expected_index.size()));
  }
  for (const auto& k : expected_index) {
    auto v = store_->Get(k);
    if (!v.ok()) return v.status();
    if (!v->has_value()) {
      problems->push_back("deadline projection: case " + k.substr(sizeof(kTaskPrefix) - 1 + 8) +
                          " has an open task missing from the deadline index");
    }
  }
  return Status::Ok();
}

}  // namespace caseloop::projections
