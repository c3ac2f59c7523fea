// tests/forwarding_store.h — an EventStore (a ProjectionStore) that forwards
// every call to another one. Tests derive from it and override the one or two
// calls they want to break or observe (a corrupt range, a failing commit).
// AppendAsync and ScanAll are not forwarded: they run EventStore's default
// implementations on top of the forwarded Append and ReadAll.
#ifndef CASELOOP_TESTS_FORWARDING_STORE_H_
#define CASELOOP_TESTS_FORWARDING_STORE_H_

#include <utility>

#include "caseloop/event_store.h"
#include "store/projection_store.h"

namespace caseloop::testing {

class ForwardingStore : public EventStore {
 public:
  // REQUIRES: `inner` outlives this store.
  explicit ForwardingStore(EventStore* inner) : in_(inner) {}
  EventStore& inner() { return *in_; }

  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected, std::vector<NewEvent> events,
                              const AppendOptions& options) override {
    return in_->Append(stream, expected, std::move(events), options);
  }
  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from,
                                              std::size_t max) override {
    return in_->ReadStream(stream, from, max);
  }
  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override {
    return in_->ReadAll(from, max);
  }
  std::uint64_t HeadPosition() const override { return in_->HeadPosition(); }
  Result<std::uint64_t> StreamVersion(std::string_view stream) override { return in_->StreamVersion(stream); }
  Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) override {
    return in_->ListStreams(after, max);
  }
  Result<std::vector<std::string>> Check() override { return in_->Check(); }
  Status Flush() override { return in_->Flush(); }
  std::uint64_t SyncCount() const override { return in_->SyncCount(); }
  Status Close() override { return in_->Close(); }

 private:
  EventStore* in_;
};

class ForwardingProjectionStore : public ProjectionStore {
 public:
  // REQUIRES: `inner` outlives this store.
  explicit ForwardingProjectionStore(ProjectionStore* inner) : in_(inner) {}
  ProjectionStore& inner() { return *in_; }

  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops, std::uint64_t cp) override {
    return in_->CommitProjection(name, ops, cp);
  }
  Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) override {
    return in_->ProjectionCheckpoint(name);
  }
  Result<std::optional<std::string>> Get(std::string_view key) override { return in_->Get(key); }
  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return in_->Scan(start, end, fn);
  }
  Status ResetProjection(std::string_view name, std::string_view prefix) override {
    return in_->ResetProjection(name, prefix);
  }

 private:
  ProjectionStore* in_;
};

}  // namespace caseloop::testing

#endif  // CASELOOP_TESTS_FORWARDING_STORE_H_
