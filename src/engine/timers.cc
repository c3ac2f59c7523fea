// Durable deadline timers.
//
// The deadline projection is the timer index: it lists every open task with
// its deadline and whether it has been marked overdue, in the store, not in
// RAM. The engine keeps only the instant of the next action:
//  * system clock: one asio::system_timer, armed for the earliest deadline;
//    a command that sets an earlier deadline re-arms it (NoteDeadline). When
//    it expires, RunDue fires everything due and arms the next one.
//  * manual clock: no real timer; AdvanceTo(t) runs RunDue(t) stepping the
//    clock to each deadline as it fires.
// Firing submits mark_overdue (actor "$timer", at = the deadline + 1 µs: the
// first instant at which the task is overdue; the event carries the deadline;
// command id
// "overdue/<case>/<task>"); the store's command-id index and the decider's
// refusal of a second mark make it exactly-once across retries and restarts.
#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <tuple>

#include "caseloop/calendar.h"
#include "engine/engine_impl.h"

namespace caseloop {
namespace {

// The system timer counts nanoseconds; keep its expiry inside that range.
const Instant kLatestArm = InstantFromMicros(7258118400000000LL);  // 2200-01-01

constexpr std::size_t kMaxRemembered = 100000;
constexpr std::size_t kMaxDuePerScan = 4096;

}  // namespace

Result<EngineImpl::TimerScan> EngineImpl::ScanTimers(Instant limit) {
  TimerScan scan;
  // Overdue marks. DueBefore lists the open tasks not yet marked overdue, in
  // deadline order. A task is overdue strictly after its deadline (a feedback
  // at the deadline is on time, and the decider refuses an earlier mark), so
  // its mark fires at deadline + 1 µs.
  {
    std::lock_guard<std::mutex> lock(refused_mu_);
    for (std::size_t n = 256;; n *= 4) {
      // Every deadline the clock can reach: a task is stored only with a
      // deadline in the instant range (time.h).
      Result<std::vector<OpenTask>> tasks = projections_->DueBefore(kLatestInstant, n);
      if (!tasks.ok()) return tasks.status();
      scan.due.clear();
      bool found_next = false;
      for (const OpenTask& t : *tasks) {
        if (t.overdue_marked || refused_.count(std::make_pair(t.case_id, t.task))) continue;
        Instant at = t.deadline + Micros(1);
        if (at <= limit) {
          scan.due.push_back(TimerAction{at, false, t.case_id, t.task});
        } else {
          scan.next = at;
          found_next = true;
          break;
        }
      }
      // Complete, or enough to fire now (RunDue scans again afterwards).
      if (found_next || tasks->size() < n || scan.due.size() >= kMaxDuePerScan) break;
    }
  }

  // Automatic supervision (policy): that many working minutes after the deadline
  // of a task that is still open and overdue.
  std::shared_ptr<const Config> cfg = config();
  const std::int64_t minutes = cfg->policy.auto_supervise_after_working_minutes;
  if (minutes > 0) {
    Result<std::vector<OverdueTask>> overdue = projections_->Overdue(limit);
    if (!overdue.ok()) return overdue.status();
    for (const OverdueTask& t : *overdue) {
      Instant at = AddWorkingTime(cfg->calendar, t.deadline + Micros(1), std::chrono::minutes(minutes));
      if (at > limit) {
        if (!scan.next || at < *scan.next) scan.next = at;
        continue;
      }
      std::uint32_t task = 0;
      {
        std::lock_guard<CaseLocks::Stripe> case_lock(locks_.For(t.case_id));
        Result<CaseState> state = LoadState(t.case_id, *cfg);
        if (!state.ok()) return state.status();
        if (!state->overdue_marked) continue;  // marked first, supervised after
        task = state->task;
      }
      std::lock_guard<std::mutex> lock(refused_mu_);
      if (supervised_.count(std::make_pair(t.case_id, task))) continue;
      scan.due.push_back(TimerAction{at, true, t.case_id, task});
    }
  }
  std::sort(scan.due.begin(), scan.due.end(), [](const TimerAction& a, const TimerAction& b) {
    return std::tie(a.at, a.supervise, a.case_id, a.task) < std::tie(b.at, b.supervise, b.case_id, b.task);
  });
  return scan;
}

Status EngineImpl::Fire(const TimerAction& action) {
  Command c;
  c.type = action.supervise ? CommandType::kSupervise : CommandType::kMarkOverdue;
  c.case_id = action.case_id;
  c.actor = "$timer";
  c.at = action.at;
  c.task = action.task;
  c.command_id = std::string(action.supervise ? "supervise/" : "overdue/") + action.case_id + "/" +
                 std::to_string(action.task);
  if (action.supervise) c.note = "automatic supervision: the task is overdue";
  if (!Enter()) return ClosedError("deadline timer for case " + action.case_id);
  GateGuard guard{this};
  Result<CommandAck> r = [&]() -> Result<CommandAck> {
    try {
      return SubmitLocked(c, /*timer=*/true);
    } catch (const std::exception& e) {
      return Status::IOError(std::string("deadline timer failed: ") + e.what());
    }
  }();
  auto key = std::make_pair(action.case_id, action.task);
  if (r.ok()) {
    std::lock_guard<std::mutex> lock(refused_mu_);
    if (action.supervise) {
      if (supervised_.size() >= kMaxRemembered) supervised_.clear();
      supervised_.insert(key);
    }
    return Status::Ok();
  }
  const Status& s = r.status();
  if (s.IsRejected() || s.IsNotFound() || s.IsConflict() || s.IsInvalidArgument()) {
    // The task was handled, suspended, re-dispatched or marked meanwhile (or
    // the decider refuses the timer for good): remember, so as not to retry.
    std::lock_guard<std::mutex> lock(refused_mu_);
    auto& set = action.supervise ? supervised_ : refused_;
    if (set.size() >= kMaxRemembered) set.clear();
    set.insert(key);
    return Status::Ok();
  }
  return s;
}

Result<std::optional<Instant>> EngineImpl::RunDue(Instant limit, bool step_clock) {
  for (;;) {
    CASELOOP_RETURN_IF_ERROR(CatchUpTo(store_->HeadPosition()));
    Result<TimerScan> scan = ScanTimers(limit);
    if (!scan.ok()) return scan.status();
    if (scan->due.empty()) return scan->next;
    for (const TimerAction& a : scan->due) {
      // a.at <= limit, which is in the range (AdvanceTo checked it).
      if (step_clock && manual_ && a.at > manual_->Now()) CASELOOP_RETURN_IF_ERROR(manual_->Set(a.at));
      CASELOOP_RETURN_IF_ERROR(Fire(a));
    }
    // Fired tasks are marked now (or remembered as refused); scan again for
    // what the firing itself made due (automatic supervision).
  }
}

Status EngineImpl::AdvanceTo(Instant t) {
  if (!manual_) {
    return Status::Rejected("AdvanceTo needs a manual clock; this engine runs on the system clock");
  }
  if (!Enter()) return ClosedError("advancing the clock");
  GateGuard guard{this};
  std::lock_guard<std::mutex> lock(advance_mu_);
  Instant now = manual_->Now();
  const int offset = OffsetAt(config()->calendar, now);
  CASELOOP_RETURN_IF_ERROR(CheckInstantRange(t, "cannot move the clock to", offset));
  if (t < now) {
    return Status::InvalidArgument("cannot move the clock back from " + FormatInstant(now, offset) + " to " +
                                   FormatInstant(t, offset));
  }
  if (options_.timers && !options_.store.read_only) {
    Result<std::optional<Instant>> next = RunDue(t, /*step_clock=*/true);
    if (!next.ok()) return next.status();
  }
  return manual_->Set(t);
}

Status EngineImpl::Advance(Micros d) {
  if (d.count() < 0) return Status::InvalidArgument("Advance: the duration is negative");
  if (!manual_) {
    return Status::Rejected("Advance needs a manual clock; this engine runs on the system clock");
  }
  const Instant now = manual_->Now();
  if (d > kLatestInstant - now) {  // no overflow: the clock is in the range
    const int offset = OffsetAt(config()->calendar, now);
    return Status::InvalidArgument("cannot advance the clock by " + std::to_string(d.count()) +
                                   " microseconds from " + FormatInstant(now, offset) +
                                   ": that is after the latest instant caseloop handles (" +
                                   FormatInstant(kLatestInstant, -14 * 60) + ")");
  }
  return AdvanceTo(now + d);
}

void EngineImpl::NoteDeadline(Instant deadline) {
  if (!options_.timers || manual_) return;
  if (MicrosOf(deadline) >= armed_us_.load(std::memory_order_acquire)) return;
  boost::asio::post(timer_strand_, [this, deadline] {
    if (timers_stopped_) return;
    if (!armed_ || deadline < *armed_) ArmOnStrand(deadline);
  });
}

void EngineImpl::ArmOnStrand(Instant at) {
  if (timers_stopped_) return;
  armed_ = at;
  armed_us_.store(MicrosOf(at), std::memory_order_release);
  Instant when = std::min(at, kLatestArm);
  timer_.expires_at(std::chrono::time_point_cast<std::chrono::system_clock::duration>(when));
  timer_.async_wait(boost::asio::bind_executor(timer_strand_, [this](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    OnTimerOnStrand();
  }));
}

void EngineImpl::OnTimerOnStrand() {
  armed_.reset();
  armed_us_.store(INT64_MAX, std::memory_order_release);
  if (timers_stopped_ || !Enter()) return;
  GateGuard guard{this};
  Result<std::optional<Instant>> next = [&]() -> Result<std::optional<Instant>> {
    std::lock_guard<std::mutex> lock(advance_mu_);
    return RunDue(clock_->Now(), /*step_clock=*/false);
  }();
  if (!next.ok()) {
    if (next.status().IsUnavailable()) return;
    ArmOnStrand(clock_->Now() + std::chrono::seconds(1));  // storage trouble: try again soon
    return;
  }
  if (next->has_value()) ArmOnStrand(**next);
}

void EngineImpl::StopTimers() {
  std::promise<void> stopped;
  boost::asio::post(timer_strand_, [this, &stopped] {
    timers_stopped_ = true;
    armed_.reset();
    armed_us_.store(INT64_MAX, std::memory_order_release);
    timer_.cancel();
    stopped.set_value();
  });
  stopped.get_future().wait();
}

}  // namespace caseloop
