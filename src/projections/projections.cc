// Projections: the catch-up loop shared by the deadline and the evaluation
// projections. One read of the log feeds both; each projection writes its
// batch and its checkpoint with one CommitProjection call.
#include "caseloop/projections.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "caseloop/case.h"
#include "projections/batch.h"
#include "projections/deadline_projection.h"
#include "projections/evaluation_projection.h"
#include "store/projection_store.h"

namespace caseloop {

char GradeOf(double score) {
  if (score >= 90) return 'A';
  if (score >= 75) return 'B';
  if (score >= 60) return 'C';
  if (score >= 40) return 'D';
  return 'E';
}

namespace {

using projections::Batch;
using projections::DeadlineProjection;
using projections::EvaluationProjection;

constexpr int kCount = 2;  // 0: deadline, 1: evaluation
constexpr const char* kNames[kCount] = {DeadlineProjection::kName, EvaluationProjection::kName};
constexpr const char* kPrefixes[kCount] = {DeadlineProjection::kPrefix, EvaluationProjection::kPrefix};
// The layout version of each projection's keyspace, stored at <prefix>~format
// with every commit. A projection whose stored version differs (or is
// missing) is rebuilt from position 1 by the next CatchUp. Bump when a key or
// value layout changes (see docs/projections.md).
constexpr const char* kFormatKeys[kCount] = {"dl/~format", "ev/~format"};
constexpr char kLatestKey[] = "dl/~latest";

std::string EncodeLatest(std::int64_t us) { return std::to_string(us); }
std::int64_t DecodeLatest(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;  // an unreadable value only costs the hint; Check() does not depend on it
  }
}
// dl: 1. ev: 4 (2 added the ev/k/ counters behind Rates, 3 the ev/i/ and ev/e/
// ones, 4 counts grids by their first 9 digits).
constexpr const char* kFormats[kCount] = {"1", "4"};

class ProjectionsImpl final : public Projections {
 public:
  ProjectionsImpl(EventStore* log, ProjectionStore* store, const ProjectionOptions& options)
      : log_(log),
        store_(log != nullptr ? store : nullptr),
        options_(options),
        deadline_(store),
        evaluation_(store) {
    if (options_.batch_events == 0) options_.batch_events = 1;
    if (store_ == nullptr) return;
    for (int i = 0; i < kCount; ++i) {
      auto cp = store_->ProjectionCheckpoint(kNames[i]);
      checkpoints_[i].store(cp.ok() ? *cp : 0);
    }
  }

  Status CatchUp(std::uint64_t until) override {
    if (store_ == nullptr) return NoStore();
    std::lock_guard<std::mutex> lock(mu_);
    return CatchUpLocked(until);
  }

  std::uint64_t Checkpoint() const override {
    return std::min(checkpoints_[0].load(), checkpoints_[1].load());
  }

  std::uint64_t Lag() const override {
    if (store_ == nullptr) return 0;
    std::uint64_t head = log_->HeadPosition();
    std::uint64_t cp = Checkpoint();
    return head > cp ? head - cp : 0;
  }

  Status Rebuild() override {
    if (store_ == nullptr) return NoStore();
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < kCount; ++i) {
      Status s = store_->ResetProjection(kNames[i], kPrefixes[i]);
      if (!s.ok()) {
        return Status(s.code(), std::string("rebuild of projection ") + kNames[i] + ": " + s.message());
      }
      checkpoints_[i].store(0);
    }
    return CatchUpLocked(UINT64_MAX);
  }

  Result<std::vector<std::string>> Check() override {
    if (store_ == nullptr) return NoStore();
    // Under the catch-up lock: the projector thread commits a batch between
    // two of Check's scans otherwise, and a new open task would be in the
    // counters and the index but not yet in the case records Check read first.
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> problems;
    const std::uint64_t head = log_->HeadPosition();
    for (int i = 0; i < kCount; ++i) {
      auto cp = store_->ProjectionCheckpoint(kNames[i]);
      if (!cp.ok()) return cp.status();
      if (*cp > head) {
        problems.push_back(std::string("projection ") + kNames[i] + ": checkpoint " + std::to_string(*cp) +
                           " is beyond the log head " + std::to_string(head));
      }
    }
    Status s = deadline_.Check(&problems);
    if (!s.ok()) return s;
    return problems;
  }

  std::int64_t LatestRecordedMicros() const override { return latest_us_.load(); }

  Result<std::vector<OverdueTask>> Overdue(Instant at) override {
    if (store_ == nullptr) return NoStore();
    return deadline_.Overdue(at);
  }
  Result<std::vector<OpenTask>> DueBefore(Instant t, std::size_t max) override {
    if (store_ == nullptr) return NoStore();
    return deadline_.DueBefore(t, max);
  }
  Result<std::vector<UnitWorkload>> Workload(Instant at) override {
    if (store_ == nullptr) return NoStore();
    return deadline_.Workload(at);
  }
  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q, const Config& config) override {
    if (store_ == nullptr) return NoStore();
    return evaluation_.Rates(q, config);
  }
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) override {
    if (store_ == nullptr) return NoStore();
    return evaluation_.Inspectors(q);
  }
  Result<CentreFigures> Centre(const PeriodQuery& q, const Config& config) override {
    if (store_ == nullptr) return NoStore();
    return evaluation_.Centre(q, config);
  }

 private:
  static Status NoStore() { return Status::InvalidArgument("projections: created without a store"); }

  // A decoded log record; nullopt event for streams the projections ignore.
  struct Decoded {
    std::uint64_t position = 0;
    std::int64_t recorded_us = 0;
    // The first event of its case's stream: nothing of the case is projected yet.
    bool first_of_case = false;
    std::optional<CaseEvent> event;
  };

  // Applies decoded[0, n) to fresh batches and commits each projection whose
  // checkpoint moves. On an apply error, returns it with *failed_at set to the
  // index of the offending record (nothing is committed then).
  Status ApplyAndCommit(const std::vector<Decoded>& decoded, std::size_t n, std::uint64_t cp[kCount],
                        projections::Carry* carry, std::size_t* failed_at) {
    Batch batches[kCount] = {Batch(store_, &carry[0]), Batch(store_, &carry[1])};
    std::int64_t latest = latest_us_.load();
    for (std::size_t j = 0; j < n; ++j) {
      const Decoded& d = decoded[j];
      if (d.position > cp[0]) latest = std::max(latest, d.recorded_us);
      if (!d.event) continue;
      for (int i = 0; i < kCount; ++i) {
        if (d.position <= cp[i]) continue;
        if (d.first_of_case) batches[i].MarkFresh(d.event->case_id);
        Status s = i == 0 ? deadline_.Apply(batches[0], *d.event) : evaluation_.Apply(batches[1], *d.event);
        if (!s.ok()) {
          *failed_at = j;
          return Status(s.code(), std::string("projection ") + kNames[i] + " at log position " +
                                      std::to_string(d.position) + " (case " + d.event->case_id +
                                      "): " + s.message());
        }
      }
    }
    if (n == 0) return Status::Ok();
    const std::uint64_t last = decoded[n - 1].position;
    for (int i = 0; i < kCount; ++i) {
      if (last <= cp[i]) continue;
      batches[i].Put(kFormatKeys[i], kFormats[i]);
      if (i == 0 && latest != latest_us_.load()) batches[0].Put(kLatestKey, EncodeLatest(latest));
      const std::vector<KvOp> ops = batches[i].TakeOps();
      Status s = store_->CommitProjection(kNames[i], ops, last);
      if (!s.ok()) {
        return Status(s.code(), std::string("projection ") + kNames[i] + ": commit of checkpoint " +
                                    std::to_string(last) + " failed: " + s.message());
      }
      carry[i].Absorb(ops);
      cp[i] = last;
      checkpoints_[i].store(last);
      if (i == 0) latest_us_.store(latest);
    }
    return Status::Ok();
  }

  Status CatchUpLocked(std::uint64_t until) {
    std::uint64_t cp[kCount];
    for (int i = 0; i < kCount; ++i) {
      auto c = store_->ProjectionCheckpoint(kNames[i]);
      if (!c.ok()) return c.status();
      cp[i] = *c;
      if (cp[i] > 0) {
        auto format = store_->Get(kFormatKeys[i]);
        if (!format.ok()) return format.status();
        if (*format != std::optional<std::string>(kFormats[i])) {
          // Written by another layout version: start this projection afresh.
          Status s = store_->ResetProjection(kNames[i], kPrefixes[i]);
          if (!s.ok()) return s;
          cp[i] = 0;
        }
      }
      checkpoints_[i].store(cp[i]);
    }
    {
      auto latest = cp[0] == 0 ? Result<std::optional<std::string>>(std::nullopt) : store_->Get(kLatestKey);
      if (!latest.ok()) return latest.status();
      latest_us_.store(*latest ? DecodeLatest(**latest) : 0);
    }
    // Counters are read once per CatchUp, not once per batch.
    projections::Carry carry[kCount] = {projections::Carry({"dl/u/"}),
                                        projections::Carry({"ev/k/", "ev/n/", "ev/i/", "ev/e/"})};
    const std::uint64_t limit = std::min(until, log_->HeadPosition());
    while (std::min(cp[0], cp[1]) < limit) {
      const std::uint64_t from = std::min(cp[0], cp[1]) + 1;
      const std::uint64_t behind = limit - from + 1;
      const std::size_t per_batch = behind >= options_.bulk_batch_events
                                        ? std::max(options_.batch_events, options_.bulk_batch_events)
                                        : options_.batch_events;
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(per_batch, behind));
      // Decoded in place from the store's zero-copy scan: the records' bytes
      // are never copied, only the case events' own fields.
      std::vector<Decoded> decoded;
      decoded.reserve(want);
      Status decode_error;
      Status scanned = log_->ScanAll(from, want, [&](const EventRecordView& rec) {
        const std::uint64_t expected = from + decoded.size();
        if (rec.position != expected) {
          decode_error = Status::Corruption("projections: expected log position " + std::to_string(expected) +
                                            ", the log gave " + std::to_string(rec.position));
          return false;
        }
        if (rec.position > limit) return false;
        Decoded& d = decoded.emplace_back();
        d.position = rec.position;
        d.recorded_us = rec.recorded_us;
        if (!rec.stream.empty() && rec.stream[0] != '$') {
          auto e = DecodeCaseEvent(rec);
          if (!e.ok()) {
            decoded.pop_back();
            decode_error =
                Status(e.status().code(), "projections: cannot decode the event at log position " +
                                              std::to_string(rec.position) + " (stream " +
                                              std::string(rec.stream) + "): " + e.status().message());
            return false;
          }
          d.event = std::move(*e);
          d.first_of_case = rec.version == 1 && d.event->case_id == rec.stream;
        }
        return true;
      });
      // A storage error after some records: apply those first, as for a decode error.
      if (decode_error.ok() && !scanned.ok()) decode_error = scanned;
      if (decoded.empty() && decode_error.ok()) {
        return Status::Corruption("projections: the log head is " + std::to_string(limit) +
                                  " but reading from position " + std::to_string(from) + " gave nothing");
      }
      std::size_t failed_at = decoded.size();
      Status s = ApplyAndCommit(decoded, decoded.size(), cp, carry, &failed_at);
      if (!s.ok()) {
        if (failed_at < decoded.size()) {
          // Keep the work before the offending event, then report it.
          std::size_t ignored = 0;
          Status prefix = ApplyAndCommit(decoded, failed_at, cp, carry, &ignored);
          if (!prefix.ok()) return prefix;
        }
        return s;
      }
      if (!decode_error.ok()) return decode_error;
    }
    return Status::Ok();
  }

  EventStore* log_;
  ProjectionStore* store_;  // null when either is: every call fails
  ProjectionOptions options_;
  DeadlineProjection deadline_;
  EvaluationProjection evaluation_;
  std::mutex mu_;  // serializes CatchUp / Rebuild
  std::atomic<std::uint64_t> checkpoints_[kCount] = {0, 0};
  // The latest business time of any applied event, kept with the deadline
  // projection (events are not appended in time order: imports, timers).
  std::atomic<std::int64_t> latest_us_{0};
};

}  // namespace

std::unique_ptr<Projections> Projections::Create(EventStore* log, ProjectionStore* store) {
  return Create(log, store, ProjectionOptions{});
}

std::unique_ptr<Projections> Projections::Create(EventStore* log, ProjectionStore* store,
                                                 const ProjectionOptions& options) {
  return std::make_unique<ProjectionsImpl>(log, store, options);
}

}  // namespace caseloop
