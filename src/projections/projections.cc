// Projections: the deadline and the evaluation projections registered with
// one catch-up loop, and their queries.
#include "projections/projections.h"

#include <algorithm>
#include <mutex>

#include "projections/case_list_projection.h"
#include "projections/catch_up.h"
#include "projections/deadline_projection.h"
#include "projections/evaluation_projection.h"

namespace caseloop {

Instant QueryInstant(std::optional<Instant> at, std::optional<Instant> to, Instant now) {
  if (at) return *at;
  if (to) return std::min(*to, now);
  return now;
}

char GradeOf(double score) {
  if (score >= 90) return 'A';
  if (score >= 75) return 'B';
  if (score >= 60) return 'C';
  if (score >= 40) return 'D';
  return 'E';
}

namespace {

using projections::CaseListProjection;
using projections::CatchUpLoop;
using projections::DeadlineProjection;
using projections::EvaluationProjection;

class ProjectionsImpl final : public Projections {
 public:
  ProjectionsImpl(EventStore* log, ProjectionStore* store, const ProjectionOptions& options)
      : log_(log),
        store_(log != nullptr ? store : nullptr),
        deadline_(store),
        evaluation_(store),
        case_list_(store),
        loop_(log, store_, options, {&deadline_, &evaluation_, &case_list_}) {}

  Status CatchUp(std::uint64_t until) override {
    if (store_ == nullptr) return NoStore();
    std::lock_guard<std::mutex> lock(mu_);
    return loop_.CatchUp(until);
  }

  std::uint64_t Checkpoint() const override { return loop_.Checkpoint(); }

  std::uint64_t Lag() const override {
    if (store_ == nullptr) return 0;
    std::uint64_t head = log_->HeadPosition();
    std::uint64_t cp = Checkpoint();
    return head > cp ? head - cp : 0;
  }

  Status Rebuild() override {
    if (store_ == nullptr) return NoStore();
    std::lock_guard<std::mutex> lock(mu_);
    return loop_.Rebuild();
  }

  Result<std::vector<std::string>> Check() override {
    if (store_ == nullptr) return NoStore();
    // Under the catch-up lock: the projector thread commits a batch between
    // two of Check's scans otherwise, and a new open task would be in the
    // counters and the index but not yet in the case records Check read first.
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> problems;
    Status s = loop_.Check(&problems);
    if (!s.ok()) return s;
    return problems;
  }

  std::int64_t LatestRecordedMicros() const override { return deadline_.latest_recorded_us(); }

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
  Result<CasePage> FindCases(const CaseFilter& filter, Instant at,
                             const std::function<bool(CaseSummary&)>& accept) override {
    if (store_ == nullptr) return NoStore();
    return case_list_.Find(filter, at, accept);
  }

 private:
  static Status NoStore() { return Status::InvalidArgument("projections: created without a store"); }

  EventStore* log_;
  ProjectionStore* store_;  // null when the log or the store is: every call fails
  DeadlineProjection deadline_;
  EvaluationProjection evaluation_;
  CaseListProjection case_list_;
  CatchUpLoop loop_;  // the registered projections: deadline, evaluation, case list
  std::mutex mu_;     // serializes CatchUp / Rebuild / Check
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
