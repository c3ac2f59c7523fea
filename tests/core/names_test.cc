#include <doctest/doctest.h>

#include "caseloop/case_types.h"
#include "caseloop/status.h"

using namespace caseloop;

TEST_CASE("every enum name parses back to its value") {
  for (int i = 0; i < kLifecycleStateCount; ++i) {
    auto s = static_cast<LifecycleState>(i);
    CHECK(ParseLifecycleState(Name(s)) == s);
  }
  for (int i = 0; i < kCommandTypeCount; ++i) {
    auto c = static_cast<CommandType>(i);
    CHECK(ParseCommandType(Name(c)) == c);
  }
  for (int i = 0; i < kEventTypeCount; ++i) {
    auto e = static_cast<EventType>(i);
    CHECK(ParseEventType(Name(e)) == e);
    CHECK(Name(e) != "unknown");
  }
  CHECK(Name(EventType::kTaskOverdue).find("overdue") != std::string_view::npos);
  CHECK_FALSE(ParseRole("boss").has_value());
  CHECK(Name(LifecycleState::kAwaitingVerification) == "awaiting_verification");
}

TEST_CASE("status and result") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "ok");
  Status s = Status::Rejected("case C7 is closed: 'accept' is not allowed");
  CHECK(s.IsRejected());
  CHECK(s.ToString() == "rejected: case C7 is closed: 'accept' is not allowed");
  Result<int> r = 5;
  REQUIRE(r.ok());
  CHECK(*r == 5);
  Result<int> e = Status::NotFound("unknown case C9");
  CHECK_FALSE(e.ok());
  CHECK(e.status().IsNotFound());
  CHECK(IsOpen(LifecycleState::kSuspended));
  CHECK_FALSE(IsOpen(LifecycleState::kClosed));
}
