#include "projections/case_list_projection.h"

#include <algorithm>

#include "caseloop/case.h"
#include "lifecycle/case_machine.h"
#include "projections/codec.h"

namespace caseloop::projections {
namespace {

constexpr char kCasePrefix[] = "cl/c/";
constexpr char kStatePrefix[] = "cl/s/";
constexpr char kUnitPrefix[] = "cl/u/";
constexpr char kUnitStatePrefix[] = "cl/n/";
constexpr char kCategoryPrefix[] = "cl/k/";
constexpr char kGridPrefix[] = "cl/g/";
constexpr char kReportedPrefix[] = "cl/r/";
constexpr char kDeadlinePrefix[] = "cl/d/";

bool OpenTask(LifecycleState s) { return s == LifecycleState::kDispatched || s == LifecycleState::kHandling; }

// The summary value (every cl/ key). Format version byte first; do not
// renumber. The case id is in the value so that every index decodes alike.
std::string Encode(const CaseSummary& c) {
  Writer w;
  w.U8(1);
  w.Str(c.case_id);
  w.U8(static_cast<std::uint8_t>(c.state));
  w.U8(static_cast<std::uint8_t>(c.pending));
  w.U8(static_cast<std::uint8_t>(c.kind));
  w.Str(c.category);
  w.Str(c.grid);
  w.Str(c.reporter);
  w.I64(MicrosOf(c.reported_at));
  w.Str(c.unit);
  w.Str(c.verifier);
  w.OptTime(c.deadline);
  return w.Take();
}

Result<CaseSummary> Decode(std::string_view key, std::string_view v) {
  Reader r(v);
  CaseSummary c;
  const std::uint8_t version = r.U8();
  c.case_id = r.Str();
  const std::uint8_t state = r.U8(), pending = r.U8(), kind = r.U8();
  c.category = r.Str();
  c.grid = r.Str();
  c.reporter = r.Str();
  c.reported_at = InstantFromMicros(r.I64());
  c.unit = r.Str();
  c.verifier = r.Str();
  c.deadline = r.OptTime();
  if (!r.ok() || !r.done() || version != 1 || state >= kLifecycleStateCount || pending > 3 || kind > 1) {
    return Status::Corruption("case-list projection: malformed value at key " + std::string(key));
  }
  c.state = static_cast<LifecycleState>(state);
  c.pending = static_cast<PendingRequest>(pending);
  c.kind = static_cast<CaseKind>(kind);
  return c;
}

std::string WithCase(const char* prefix, std::string_view middle, std::string_view case_id) {
  std::string k = prefix;
  k.append(middle);
  k.push_back('\0');
  k.append(case_id);
  return k;
}
std::string TimeKey(const char* prefix, Instant t, std::string_view case_id) {
  std::string k = prefix;
  AppendOrderedI64(&k, MicrosOf(t));
  k.append(case_id);
  return k;
}

// Every index key of a summary (not cl/c/).
std::vector<std::string> IndexKeys(const CaseSummary& c) {
  std::vector<std::string> keys;
  std::string s = kStatePrefix;
  s.push_back(static_cast<char>(c.state));
  keys.push_back(s + c.case_id);
  if (!c.unit.empty()) {
    keys.push_back(WithCase(kUnitPrefix, c.unit, c.case_id));
    // A unit's cases in one state (its open tasks): the console's usual list.
    std::string state_and_case(1, static_cast<char>(c.state));
    keys.push_back(WithCase(kUnitStatePrefix, c.unit, state_and_case + c.case_id));
  }
  if (!c.category.empty()) keys.push_back(WithCase(kCategoryPrefix, c.category, c.case_id));
  if (!c.grid.empty()) keys.push_back(WithCase(kGridPrefix, c.grid, c.case_id));
  keys.push_back(TimeKey(kReportedPrefix, c.reported_at, c.case_id));
  if (OpenTask(c.state) && c.deadline) keys.push_back(TimeKey(kDeadlinePrefix, *c.deadline, c.case_id));
  return keys;
}

CaseState ToState(const CaseSummary& c) {
  CaseState s;
  s.id = c.case_id;
  s.state = c.state;
  s.pending = c.pending;
  s.kind = c.kind;
  s.category = c.category;
  s.grid = c.grid;
  s.reporter = c.reporter;
  s.reported_at = c.reported_at;
  s.unit = c.unit;
  s.verifier = c.verifier;
  s.deadline = c.deadline;
  return s;
}

CaseSummary FromState(const CaseState& s) {
  CaseSummary c;
  c.case_id = s.id;
  c.state = s.state;
  c.pending = s.pending;
  c.kind = s.kind;
  c.category = s.category;
  c.grid = s.grid;
  c.reporter = s.reporter;
  c.reported_at = s.reported_at;
  c.unit = s.unit;
  c.verifier = s.verifier;
  c.deadline = s.deadline;
  return c;
}

// The first key after every key that starts with `p`.
std::string PastPrefix(std::string p) {
  while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff) p.pop_back();
  if (!p.empty()) p.back() = static_cast<char>(static_cast<unsigned char>(p.back()) + 1);
  return p;
}

std::string Hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}
std::optional<std::string> Unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Puts `s` in the `from` state (and pending request) of the first row of
// the lifecycle table whose trigger is `type`.
void MoveToAllowing(CaseState& s, EventType type) {
  static const std::vector<CaseMachine::Row> rows = CaseMachine::Table();
  for (const CaseMachine::Row& r : rows) {
    if (r.trigger != type) continue;
    s.state = r.from;
    if (r.guard_pending != PendingRequest::kNone) {
      s.pending = r.guard_pending;
    } else if (r.guard_any_pending) {
      if (s.pending == PendingRequest::kNone) s.pending = PendingRequest::kReturn;
    } else if (r.guard_no_pending) {
      s.pending = PendingRequest::kNone;
    }
    if (!CaseMachine::IsReachable(s.state, s.pending)) s.pending = PendingRequest::kNone;
    return;
  }
}

}  // namespace

Result<Applied> CaseListProjection::Apply(Batch& b, const LogEntry& entry) {
  if (!entry.event) return Applied::kDone;
  const CaseEvent& e = *entry.event;
  const bool fresh = b.IsFresh(e.case_id);
  const std::string key = std::string(kCasePrefix) + e.case_id;
  auto stored = b.Get(key, fresh);
  if (!stored.ok()) return stored.status();
  std::optional<CaseSummary> before;
  if (stored->has_value()) {
    auto d = Decode(key, **stored);
    if (!d.ok()) return d.status();
    before = std::move(d).value();
  }
  // The engine's own Evolve moves the summary (the calendar only measures a
  // task's length, which the summary does not keep).
  static const Config kNoConfig;
  CaseState s = before ? ToState(*before) : CaseState{};
  if (!Evolve(s, e, kNoConfig).ok()) {
    // The log holds an event the lifecycle does not allow here (a history
    // written elsewhere, a test's hand-made one). Like the other projections,
    // follow the log rather than stop every projection: move the case to a
    // state the table allows the event in, then evolve as usual.
    s = before ? ToState(*before) : CaseState{};
    MoveToAllowing(s, e.type);
    if (!Evolve(s, e, kNoConfig).ok()) return Applied::kDone;  // no row at all: nothing to follow
  }
  s.id = e.case_id;
  CaseSummary after = FromState(s);
  if (before && *before == after) return Applied::kDone;  // supervised, overdue, a request...
  if (before) {
    for (const std::string& k : IndexKeys(*before)) b.Delete(k);
  }
  std::string value = Encode(after);
  for (const std::string& k : IndexKeys(after)) b.Put(k, value, fresh);
  b.Put(key, std::move(value), fresh);
  return Applied::kDone;
}

Status CaseListProjection::Check(std::vector<std::string>* problems) {
  // Every summary's index entries exist and hold it; no other entry exists.
  std::size_t expected = 0;
  Status bad;
  Status s = store_->Scan(kCasePrefix, PastPrefix(kCasePrefix), [&](std::string_view k, std::string_view v) {
    auto c = Decode(k, v);
    if (!c.ok()) {
      bad = c.status();
      return false;
    }
    for (const std::string& ik : IndexKeys(*c)) {
      ++expected;
      auto got = store_->Get(ik);
      if (!got.ok()) {
        bad = got.status();
        return false;
      }
      if (!got->has_value() || **got != v) {
        problems->push_back("case-list projection: case " + c->case_id +
                            " has a missing or stale index entry " + Hex(ik));
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  std::size_t entries = 0;
  for (const char* p : {kStatePrefix, kUnitPrefix, kUnitStatePrefix, kCategoryPrefix, kGridPrefix,
                        kReportedPrefix, kDeadlinePrefix}) {
    s = store_->Scan(p, PastPrefix(p), [&](std::string_view, std::string_view) {
      ++entries;
      return true;
    });
    if (!s.ok()) return s;
  }
  if (entries != expected) {
    problems->push_back("case-list projection: " + std::to_string(entries) +
                        " index entries, the summaries imply " + std::to_string(expected));
  }
  return Status::Ok();
}

Result<CasePage> CaseListProjection::Find(const CaseFilter& f, Instant at,
                                          const std::function<bool(CaseSummary&)>& accept) {
  // The driving index: the narrowest range the filter allows (a unit's
  // cases, red tasks, a grid, a category, a period, a state), else every case.
  char driver = 'c';
  std::string start, end;
  if (!f.unit.empty() && f.state) {
    driver = 'n';
    start = std::string(kUnitStatePrefix) + f.unit + '\0' + static_cast<char>(*f.state);
    end = PastPrefix(start);
  } else if (!f.unit.empty()) {
    driver = 'u';
    start = std::string(kUnitPrefix) + f.unit + '\0';
    end = PastPrefix(start);
  } else if (f.light) {
    driver = 'd';
    start = kDeadlinePrefix;
    end = PastPrefix(kDeadlinePrefix);
    // Red iff at > deadline (as ViewCase): deadlines before `at`; the others after.
    std::string cut = kDeadlinePrefix;
    AppendOrderedI64(&cut, MicrosOf(at));
    (*f.light == Light::kRed ? end : start) = cut;
  } else if (!f.grid.empty()) {
    driver = 'g';
    start = std::string(kGridPrefix) + f.grid;
    end = PastPrefix(start);
  } else if (!f.category.empty()) {
    driver = 'k';
    start = std::string(kCategoryPrefix) + f.category + '\0';
    end = PastPrefix(start);
  } else if (f.reported_from || f.reported_to) {
    driver = 'r';
    start = kReportedPrefix;
    end = PastPrefix(kReportedPrefix);
    if (f.reported_from) AppendOrderedI64(&start, MicrosOf(*f.reported_from));
    if (f.reported_to) {
      end = kReportedPrefix;
      AppendOrderedI64(&end, MicrosOf(*f.reported_to));
    }
  } else if (f.state) {
    driver = 's';
    start = std::string(kStatePrefix) + static_cast<char>(*f.state);
    end = PastPrefix(start);
  } else {
    start = kCasePrefix;
    end = PastPrefix(kCasePrefix);
  }
  if (!f.cursor.empty()) {
    auto key = Unhex(std::string_view(f.cursor).substr(1));
    if (f.cursor[0] != driver || !key || *key < start || (!end.empty() && *key >= end)) {
      return Status::InvalidArgument("cursor '" + f.cursor.substr(0, 64) +
                                     "' is malformed or belongs to another filter");
    }
    start = *key;
    start.push_back('\0');  // strictly after the last key examined
  }
  if (start >= end) return CasePage{};
  const std::size_t limit = std::clamp<std::size_t>(f.limit, 1, 1000);
  CasePage page;
  std::size_t examined = 0;
  bool more = false;
  Status bad;
  std::string last;
  Status s = store_->Scan(start, end, [&](std::string_view k, std::string_view v) {
    if (page.cases.size() == limit || examined == kScanBudget) {
      more = true;
      return false;
    }
    ++examined;
    last.assign(k);
    auto c = Decode(k, v);
    if (!c.ok()) {
      bad = c.status();
      return false;
    }
    if (f.state && c->state != *f.state) return true;
    if (!f.unit.empty() && c->unit != f.unit) return true;
    if (f.kind && c->kind != *f.kind) return true;
    if (!f.category.empty() && c->category != f.category) return true;
    if (!f.grid.empty() && c->grid.rfind(f.grid, 0) != 0) return true;
    if (f.reported_from && c->reported_at < *f.reported_from) return true;
    if (f.reported_to && c->reported_at >= *f.reported_to) return true;
    if (!OpenTask(c->state)) c->deadline.reset();
    if (f.light && !c->deadline) return true;
    if (accept && !accept(*c)) return true;
    page.cases.push_back(std::move(c).value());
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  if (more) page.next = driver + Hex(last);
  return page;
}

}  // namespace caseloop::projections
