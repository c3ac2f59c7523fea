// The latest business time survives restarts and does not depend on log order.
#include <doctest/doctest.h>

#include "caseloop/case.h"
#include "caseloop/event_store.h"
#include "projections/projections.h"
#include "store/projection_store.h"

using namespace caseloop;

namespace {

void Report(EventStore& store, const std::string& id, std::int64_t us) {
  CaseEvent e;
  e.type = EventType::kCaseReported;
  e.case_id = id;
  e.time = InstantFromMicros(us);
  e.actor = "I1";
  e.kind = CaseKind::kEvent;
  e.category = "0102";
  auto r = store.Append(id, ExpectedVersion::NoStream(), {EncodeCaseEvent(e)});
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("LatestRecordedMicros is the maximum business time, kept across a new Projections") {
  Storage storage = NewMemoryStorage();
  auto store = storage.log;
  Report(*store, "C1", 5'000'000);
  Report(*store, "C2", 9'000'000);  // the latest, not the last
  Report(*store, "C3", 7'000'000);
  {
    auto p = Projections::Create(store.get(), storage.projections.get());
    CHECK(p->LatestRecordedMicros() == 0);
    REQUIRE(p->CatchUp().ok());
    CHECK(p->LatestRecordedMicros() == 9'000'000);
  }
  Report(*store, "C4", 1'000'000);
  auto p = Projections::Create(store.get(), storage.projections.get());
  REQUIRE(p->CatchUp().ok());
  CHECK(p->LatestRecordedMicros() == 9'000'000);
  REQUIRE(p->Rebuild().ok());
  CHECK(p->LatestRecordedMicros() == 9'000'000);
}
