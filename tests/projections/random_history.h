// Test helpers: a large random history of cases (every figure and every
// correction exercised), a direct evaluation of domain.md §7 over its raw
// events (the oracle), and text dumps of the keyspace and of query answers.
#ifndef CASELOOP_TESTS_PROJECTIONS_RANDOM_HISTORY_H_
#define CASELOOP_TESTS_PROJECTIONS_RANDOM_HISTORY_H_

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "forwarding_store.h"
#include "history.h"

namespace caseloop::testing {

// splitmix64: deterministic on every platform (unlike std distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::int64_t Uniform(std::int64_t lo, std::int64_t hi) {  // [lo, hi]
    return lo + static_cast<std::int64_t>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

 private:
  std::uint64_t s_;
};

inline constexpr std::int64_t kMinute = 60'000'000;
inline constexpr std::int64_t kHour = 60 * kMinute;

struct RandomHistory {
  History h;
  std::int64_t reports = 0;
  std::int64_t closes = 0;
  std::int64_t open_tasks_with_deadline = 0;  // at the end of the history
};

// One case's events, times strictly increasing.
class CaseGen {
 public:
  CaseGen(History& h, Rng& rng, std::string id, Instant start)
      : h_(h), rng_(rng), c_(std::move(id)), t_(start) {}

  // Returns {reported, closed, open task with deadline at the end}.
  std::tuple<bool, bool, bool> Run(const std::vector<std::string>& earlier) {
    const bool inspector = rng_.Chance(70);
    const std::string reporter = inspector ? "I" + std::to_string(rng_.Uniform(1, 6)) : "RCV";
    const char* cats[] = {"0101", "0102", "0103"};
    const char* grids[] = {"620103001001001", "620103002001004", "620104001002001", ""};
    h_.Report(c_, t_, reporter, inspector ? ReportSource::kInspector : ReportSource::kHotline,
              cats[rng_.Uniform(0, 2)], grids[rng_.Uniform(0, 3)],
              rng_.Chance(50) ? CaseKind::kEvent : CaseKind::kComponent);
    int r = static_cast<int>(rng_.Uniform(0, 99));
    if (r < 8) {
      h_.Reject(c_, Step());
      return {true, false, false};
    }
    if (r < 12 && !earlier.empty()) {
      h_.Merge(c_, Step(), earlier[rng_.Uniform(0, earlier.size() - 1)]);
      return {true, false, false};
    }
    if (r < 15) return {true, false, false};  // left reported
    h_.Register(c_, Step());
    if (rng_.Chance(4)) {
      h_.Void(c_, Step());
      return {true, false, false};
    }
    std::string unit = RandomUnit();
    std::uint32_t task = 1;
    Dispatch(unit, task);
    for (int step = 0; step < 12; ++step) {
      int choice = static_cast<int>(rng_.Uniform(0, 99));
      if (choice < 8) {  // return
        Advance();
        h_.Return(c_, t_, unit);
        open_ = false;
        int next = static_cast<int>(rng_.Uniform(0, 99));
        if (next < 60) {
          std::string other = RandomUnit();
          if (other == unit) other = "U0";
          unit = other;
          Dispatch(unit, ++task);
          continue;
        }
        if (next < 80) h_.Void(c_, Step());
        return {true, false, false};
      }
      if (choice < 18) {  // extension, only before the deadline
        if (deadline_ && !marked_) {
          Instant t = t_ + Micros(rng_.Uniform(1, 30) * kMinute);
          if (t < *deadline_) {
            t_ = t;
            deadline_ = *deadline_ + Micros(24 * kHour);
            h_.Extend(c_, t_, unit, *deadline_);
          }
        }
        continue;
      }
      if (choice < 24) {  // suspension
        Advance();
        h_.Suspend(c_, t_, unit);
        open_ = false;
        if (rng_.Chance(20)) return {true, false, false};
        t_ += Micros(rng_.Uniform(1, 200) * kHour);
        deadline_ =
            deadline_ ? std::optional<Instant>(t_ + Micros(rng_.Uniform(1, 48) * kHour)) : std::nullopt;
        h_.Resume(c_, t_, unit, deadline_.value_or(t_));
        if (!deadline_) h_.events.back().deadline.reset();
        open_ = true;
        continue;
      }
      if (choice < 29) {  // left open
        Advance();
        return {true, false, deadline_.has_value()};
      }
      if (choice < 33) {
        Advance();
        h_.Void(c_, t_);
        return {true, false, false};
      }
      // Feedback, then verification.
      Advance();
      const bool on_time = !deadline_ || t_ <= *deadline_;
      h_.Feedback(c_, t_, unit, on_time, "I" + std::to_string(rng_.Uniform(1, 6)), t_ + Micros(kHour));
      open_ = false;
      int v = static_cast<int>(rng_.Uniform(0, 99));
      if (v < 15) return {true, false, false};  // awaiting verification
      t_ += Micros(rng_.Uniform(10, 120) * kMinute);
      if (v < 75) {
        h_.Pass(c_, t_);
        return {true, true, false};
      }
      ++task;
      marked_ = false;
      deadline_ = deadline_ ? std::optional<Instant>(t_ + Micros(rng_.Uniform(2, 96) * kHour)) : std::nullopt;
      h_.Fail(c_, t_, unit, deadline_, task);
      open_ = true;
    }
    return {true, false, open_ && deadline_.has_value()};
  }

 private:
  std::string RandomUnit() { return "U" + std::to_string(rng_.Uniform(1, 6)); }
  Instant Step() { return t_ += Micros(rng_.Uniform(1, 180) * kMinute); }
  void Dispatch(const std::string& unit, std::uint32_t task) {
    Step();
    deadline_ =
        rng_.Chance(5) ? std::nullopt : std::optional<Instant>(t_ + Micros(rng_.Uniform(2, 96) * kHour));
    marked_ = false;
    open_ = true;
    h_.Dispatch(c_, t_, unit, deadline_, task);
    task_ = task;
    unit_ = unit;
    if (rng_.Chance(80)) h_.Accept(c_, Step(), unit);
  }
  // Moves time on; the timer marks the open task overdue when its deadline passes.
  void Advance() {
    Instant next = t_ + Micros(rng_.Uniform(1, 120) * kHour);
    if (open_ && deadline_ && !marked_ && next > *deadline_ && *deadline_ > t_) {
      h_.MarkOverdue(c_, *deadline_, unit_, task_);
      marked_ = true;
    }
    t_ = std::max(next, t_ + Micros(1));
    if (h_.events.back().time >= t_) t_ = h_.events.back().time + Micros(1);
  }

  History& h_;
  Rng& rng_;
  std::string c_;
  Instant t_;
  std::optional<Instant> deadline_;
  bool marked_ = false;
  bool open_ = false;
  std::uint32_t task_ = 0;
  std::string unit_;
};

// `cases` random cases reported over the first half of 2025, local time at
// `offset_minutes` (default +08:00, as At()).
inline RandomHistory MakeRandomHistory(int cases, std::uint64_t seed, int offset_minutes = 8 * 60) {
  Rng rng(seed);
  RandomHistory out;
  std::vector<std::string> ids;
  const std::int64_t start = MicrosOf(LocalAt("2025-01-01T00:00", offset_minutes));
  for (int i = 0; i < cases; ++i) {
    std::string id = "K" + std::to_string(100000 + i);
    Instant t0 = InstantFromMicros(start + rng.Uniform(0, 180 * 24) * kHour + rng.Uniform(0, 59) * kMinute);
    CaseGen gen(out.h, rng, id, t0);
    auto [reported, closed, open] = gen.Run(ids);
    out.reports += reported;
    out.closes += closed;
    out.open_tasks_with_deadline += open;
    ids.push_back(id);
  }
  // The global log in business-time order (each case's own order is kept).
  std::stable_sort(out.h.events.begin(), out.h.events.end(),
                   [](const CaseEvent& a, const CaseEvent& b) { return a.time < b.time; });
  return out;
}

using Dump = std::vector<std::pair<std::string, std::string>>;

inline Dump DumpKeyspace(ProjectionStore* store) {
  Dump d;
  REQUIRE(store
              ->Scan("", "",
                     [&](std::string_view k, std::string_view v) {
                       d.emplace_back(k, v);
                       return true;
                     })
              .ok());
  for (const char* name : {"deadline", "evaluation"}) {
    auto cp = store->ProjectionCheckpoint(name);
    REQUIRE(cp.ok());
    d.emplace_back(std::string("checkpoint ") + name, std::to_string(*cp));
  }
  return d;
}

inline std::string Opt(const std::optional<double>& v) {
  if (!v) return "null";
  std::ostringstream os;
  os.precision(17);
  os << *v;
  return os.str();
}

inline std::string AllRatesText(const std::vector<UnitRates>& rates) {
  std::ostringstream os;
  for (const auto& r : rates) {
    os << r.unit << " " << r.due << " " << r.handled << " " << r.on_time << " " << r.reworked << " "
       << r.extended << " " << Opt(r.score) << "\n";
  }
  return os.str();
}

// Every query answer for a set of periods and instants (local times at
// `offset_minutes`), as text.
inline std::string AllQueries(Projections& p, int offset_minutes = 8 * 60) {
  auto At = [offset_minutes](const char* text) { return LocalAt(text, offset_minutes); };
  std::ostringstream os;
  std::vector<std::pair<const char*, const char*>> periods = {
      {"2025-01-01", "2025-02-01"}, {"2025-02-01", "2025-03-01"}, {"2025-03-01", "2025-04-01"},
      {"2025-04-01", "2025-07-01"}, {"2025-01-01", "2025-04-01"}, {"2025-06-01", "2025-08-01"}};
  for (auto [from, to] : periods) {
    for (std::optional<Instant> at :
         {std::optional<Instant>(), std::optional<Instant>(At("2025-03-15T12:00")),
          std::optional<Instant>(At("2026-01-01"))}) {
      PeriodQuery q{At(from), At(to), at, ""};
      os << "period " << from << " " << to << " at " << (at ? MicrosOf(*at) : -1) << "\n";
      auto rates = p.Rates(q, Config{});
      REQUIRE(rates.ok());
      for (const auto& r : *rates) {
        CHECK(r.due == r.handled + r.overdue_open);
        CHECK(r.late == r.handled - r.on_time);
        CHECK(r.reworked <= r.handled);
        CHECK(r.extended <= r.due);
        os << r.unit << " " << r.due << " " << r.handled << " " << r.on_time << " " << r.late << " "
           << r.overdue_open << " " << r.reworked << " " << r.extended << " " << Opt(r.handling_rate) << " "
           << Opt(r.on_time_rate) << " " << Opt(r.rework_rate) << " " << Opt(r.overdue_open_rate) << " "
           << Opt(r.extension_rate) << " " << Opt(r.score) << " " << r.grade.value_or('-') << "\n";
      }
      auto ins = p.Inspectors(q);
      REQUIRE(ins.ok());
      for (const auto& i : *ins) {
        os << i.inspector << " " << i.reports << " " << i.valid << " " << i.verifications << " "
           << i.verified_on_time << "\n";
      }
      auto c = p.Centre(q, Config{});
      REQUIRE(c.ok());
      os << c->received << " " << c->registered << " " << c->rejected << " " << c->voided << " " << c->closed
         << " " << c->closed_on_time << "\n";
      for (const auto& [k, n] : c->received_by_category) os << k << "=" << n << " ";
      for (const auto& [k, n] : c->received_by_grid) os << k << "=" << n << " ";
      os << "\n";
    }
  }
  for (const char* at : {"2025-02-01", "2025-04-15T10:00", "2026-01-01"}) {
    auto o = p.Overdue(At(at));
    REQUIRE(o.ok());
    for (const auto& t : *o) os << t.case_id << " " << t.unit << " " << t.overdue_hours << "\n";
    auto w = p.Workload(At(at));
    REQUIRE(w.ok());
    for (const auto& u : *w) os << u.unit << " " << u.open_tasks << " " << u.overdue_tasks << "\n";
    auto d = p.DueBefore(At(at), 50);
    REQUIRE(d.ok());
    for (const auto& t : *d) os << t.case_id << " " << t.task << " " << MicrosOf(t.deadline) << "\n";
  }
  return os.str();
}

// Forwards to another store; CommitProjection fails after `ok_commits` calls.
class FailingStore final : public testing::ForwardingProjectionStore {
 public:
  FailingStore(ProjectionStore* inner, int ok_commits)
      : ForwardingProjectionStore(inner), left_(ok_commits) {}
  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops, std::uint64_t cp) override {
    if (left_-- <= 0) return Status::IOError("injected failure: disk full");
    return ForwardingProjectionStore::CommitProjection(name, ops, cp);
  }

 private:
  int left_;
};

// A new memory store holding `events`.
inline Storage StoreWith(const std::vector<CaseEvent>& events) {
  Storage store = NewMemoryStorage();
  History copy;
  copy.events = events;
  copy.Flush(store.log.get());
  return store;
}

// A direct evaluation of domain.md §7 over the raw events, without the
// projection's keys or timelines: the oracle for the random history.
struct OracleCounts {
  std::int64_t due = 0, handled = 0, on_time = 0, reworked = 0, extended = 0;
  bool operator==(const OracleCounts&) const = default;
};

inline std::map<std::string, OracleCounts> OracleRates(const std::vector<CaseEvent>& log, Instant from,
                                                       Instant to, Instant at) {
  struct Rec {
    Instant first{};
    bool returned = false, voided = false, suspended = false, fb = false, failed = false, fb_on_time = false;
    int fails = 0, exts = 0;
    std::optional<Instant> deadline;
  };
  std::map<std::string, std::map<std::string, Rec>> recs;  // case -> unit -> record
  std::map<std::string, std::string> current;
  for (const CaseEvent& e : log) {
    if (e.time > at) continue;
    auto& units = recs[e.case_id];
    std::string& cur = current[e.case_id];
    Rec* r = cur.empty() ? nullptr : &units[cur];
    switch (e.type) {
      case EventType::kCaseDispatched: {
        cur = e.unit;
        bool fresh = units.count(cur) == 0;
        r = &units[cur];
        if (fresh) r->first = e.time;
        r->returned = false;
        r->suspended = false;
        r->deadline = e.deadline;
        break;
      }
      case EventType::kReturnApproved:
        if (r) r->returned = true;
        cur.clear();
        break;
      case EventType::kExtensionApproved:
        if (r) ++r->exts, r->deadline = e.deadline;
        break;
      case EventType::kSuspensionApproved:
        if (r) r->suspended = true;
        break;
      case EventType::kCaseResumed:
        if (r) r->suspended = false, r->deadline = e.deadline;
        break;
      case EventType::kFeedbackSubmitted:
        if (r) r->fb = true, r->failed = false, r->fb_on_time = e.on_time.value_or(true);
        break;
      case EventType::kVerificationFailed:
        if (r) r->failed = true, ++r->fails, r->deadline = e.deadline, r->suspended = false;
        break;
      case EventType::kCaseVoided:
      case EventType::kCaseMerged:
        if (r) r->voided = true;
        break;
      default:
        break;
    }
  }
  std::map<std::string, OracleCounts> out;
  for (const auto& [c, units] : recs) {
    for (const auto& [u, r] : units) {
      if (r.first < from || r.first >= to || r.returned || r.voided) continue;
      const bool handled = r.fb && !r.failed;
      const bool overdue = !handled && !r.suspended && r.deadline && at > *r.deadline;
      if (!handled && !overdue) continue;
      OracleCounts& o = out[u];
      ++o.due;
      if (r.exts > 0) ++o.extended;
      if (handled) {
        ++o.handled;
        if (r.fb_on_time) ++o.on_time;
        if (r.fails > 0) ++o.reworked;
      }
    }
  }
  return out;
}

inline std::string InspectorsText(const std::vector<InspectorRates>& rows) {
  std::ostringstream os;
  for (const auto& i : rows) {
    os << i.inspector << " " << i.reports << " " << i.valid << " " << Opt(i.valid_rate) << " "
       << i.verifications << " " << i.verified_on_time << " " << Opt(i.verification_on_time_rate) << "\n";
  }
  return os.str();
}

inline std::string CentreText(const CentreFigures& c) {
  std::ostringstream os;
  os << c.received << " " << c.registered << " " << c.rejected << " " << c.voided << " " << c.closed << " "
     << c.closed_on_time << "\n";
  for (const auto& [k, n] : c.received_by_category) os << k << "=" << n << " ";
  for (const auto& [k, n] : c.received_by_grid) os << k << "=" << n << " ";
  return os.str();
}

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_PROJECTIONS_RANDOM_HISTORY_H_
