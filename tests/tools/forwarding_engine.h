// tests/tools/forwarding_engine.h — an Engine that forwards every call to
// another one. The tools tests derive from it and override the call they
// want to break (a batch whose flush fails), so that a tool meets the failure
// exactly as the real engine reports it, through the public interface only.
#ifndef CASELOOP_TESTS_TOOLS_FORWARDING_ENGINE_H_
#define CASELOOP_TESTS_TOOLS_FORWARDING_ENGINE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caseloop/engine.h"

namespace caseloop::testing {

class ForwardingEngine : public Engine {
 public:
  // REQUIRES: `inner` outlives this engine.
  explicit ForwardingEngine(Engine* inner) : in_(inner) {}

  Result<CommandAck> Submit(const Command& command) override { return in_->Submit(command); }
  void SubmitAsync(Command command, std::function<void(Result<CommandAck>)> done) override {
    in_->SubmitAsync(std::move(command), std::move(done));
  }
  std::vector<CaseBatchResult> SubmitBatch(const std::vector<CaseBatch>& batch) override {
    return in_->SubmitBatch(batch);
  }
  Result<CommandAck> Configure(const ConfigChange& change, std::optional<Instant> at) override {
    return in_->Configure(change, at);
  }
  Config CurrentConfig() const override { return in_->CurrentConfig(); }
  Result<CaseView> Show(const std::string& case_id, std::optional<Instant> at) override {
    return in_->Show(case_id, at);
  }
  Result<CaseState> State(const std::string& case_id) override { return in_->State(case_id); }
  Result<std::vector<LoggedEvent>> History(const std::string& case_id, std::optional<Instant> at) override {
    return in_->History(case_id, at);
  }
  Result<std::vector<LoggedEvent>> ReadLog(std::uint64_t from_position, std::size_t max) override {
    return in_->ReadLog(from_position, max);
  }
  Result<std::vector<UnitRates>> Rates(const PeriodQuery& q) override { return in_->Rates(q); }
  Result<std::vector<InspectorRates>> Inspectors(const PeriodQuery& q) override { return in_->Inspectors(q); }
  Result<CentreFigures> Centre(const PeriodQuery& q) override { return in_->Centre(q); }
  Result<std::vector<OverdueTask>> Overdue(std::optional<Instant> at) override { return in_->Overdue(at); }
  Result<std::vector<UnitWorkload>> Workload(std::optional<Instant> at) override { return in_->Workload(at); }
  Result<std::unique_ptr<Subscription>> Subscribe(std::uint64_t from_position,
                                                  std::function<void(const LoggedEvent&)> handler) override {
    return in_->Subscribe(from_position, std::move(handler));
  }
  Status AdvanceTo(Instant t) override { return in_->AdvanceTo(t); }
  Status Advance(Micros d) override { return in_->Advance(d); }
  Instant Now() const override { return in_->Now(); }
  Instant LatestRecordedTime() const override { return in_->LatestRecordedTime(); }
  Status WaitForProjections(std::uint64_t position) override { return in_->WaitForProjections(position); }
  Status RebuildProjections() override { return in_->RebuildProjections(); }
  Result<std::vector<std::string>> Check() override { return in_->Check(); }
  std::uint64_t SyncCount() const override { return in_->SyncCount(); }
  std::uint64_t HeadPosition() const override { return in_->HeadPosition(); }
  Result<std::vector<std::string>> ListCases(const std::string& after, std::size_t max) override {
    return in_->ListCases(after, max);
  }
  Status Close() override { return in_->Close(); }

 private:
  Engine* in_;
};

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_TOOLS_FORWARDING_ENGINE_H_
