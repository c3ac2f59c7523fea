// The store contract suite (tests/store/contract_test.cc) against the
// PostgreSQL backend: the same test cases, with PostgreSQL factories.
#include "caseloop/event_store.h"
#include "pg_test_util.h"
#include "store/postgres_store.h"
#include "store/projection_store.h"

namespace {

using caseloop::testing::PgSchema;

struct PgFactory {
  static constexpr bool kDurable = true;
  PgSchema schema;
  std::unique_ptr<caseloop::EventStore> Open(const caseloop::StoreOptions& options = {}) {
    caseloop::Storage s = OpenStorage(options);
    return std::unique_ptr<caseloop::EventStore>(new LogOnly(std::move(s)));
  }
  caseloop::Storage OpenStorage(const caseloop::StoreOptions& options = {}) {
    auto r = caseloop::OpenPostgresStorage(schema.url(), options);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return std::move(r).value();
  }

  // Owns a Storage and forwards the EventStore calls to its log.
  class LogOnly final : public caseloop::EventStore {
   public:
    explicit LogOnly(caseloop::Storage s) : s_(std::move(s)) {}
    caseloop::Result<caseloop::AppendResult> Append(std::string_view stream, caseloop::ExpectedVersion e,
                                                    std::vector<caseloop::NewEvent> ev,
                                                    const caseloop::AppendOptions& o) override {
      return s_.log->Append(stream, e, std::move(ev), o);
    }
    void AppendAsync(std::string stream, caseloop::ExpectedVersion e, std::vector<caseloop::NewEvent> ev,
                     caseloop::AppendOptions o,
                     std::function<void(caseloop::Result<caseloop::AppendResult>)> d) override {
      s_.log->AppendAsync(std::move(stream), e, std::move(ev), std::move(o), std::move(d));
    }
    caseloop::Result<std::vector<caseloop::EventRecord>> ReadStream(std::string_view s, std::uint64_t f,
                                                                    std::size_t m) override {
      return s_.log->ReadStream(s, f, m);
    }
    caseloop::Result<std::vector<caseloop::EventRecord>> ReadAll(std::uint64_t f, std::size_t m) override {
      return s_.log->ReadAll(f, m);
    }
    caseloop::Status ScanAll(std::uint64_t f, std::size_t m,
                             const std::function<bool(const caseloop::EventRecordView&)>& v) override {
      return s_.log->ScanAll(f, m, v);
    }
    std::uint64_t HeadPosition() const override { return s_.log->HeadPosition(); }
    caseloop::Result<std::uint64_t> StreamVersion(std::string_view s) override {
      return s_.log->StreamVersion(s);
    }
    caseloop::Result<std::vector<std::string>> ListStreams(std::string_view a, std::size_t m) override {
      return s_.log->ListStreams(a, m);
    }
    caseloop::Result<std::vector<std::string>> Check() override { return s_.log->Check(); }
    caseloop::Status Flush() override { return s_.log->Flush(); }
    std::uint64_t SyncCount() const override { return s_.log->SyncCount(); }
    caseloop::Status Close() override { return s_.log->Close(); }

   private:
    caseloop::Storage s_;
  };
};

struct PgProjections {
  static constexpr bool kDurable = true;
  static constexpr bool kClosable = true;
  PgSchema schema;
  caseloop::Storage storage;
  caseloop::ProjectionStore* Open(const caseloop::StoreOptions& options = {}) {
    storage = caseloop::Storage();
    auto r = caseloop::OpenPostgresStorage(schema.url(), options);
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    storage = std::move(r).value();
    return storage.projections.get();
  }
  caseloop::Status Close() { return storage.log->Close(); }
};

}  // namespace

#define CONTRACT_STORE_TYPES PgFactory
#define CONTRACT_PROJECTION_TYPES PgProjections
#include "../store/contract_test.cc"
