// SystemClock and ManualClock (declared in caseloop/engine.h).
#include <chrono>
#include <memory>

#include "caseloop/engine.h"

namespace caseloop {
namespace {

class WallClock final : public Clock {
 public:
  Instant Now() const override {
    return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  }
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<WallClock>();
  return clock;
}

Instant ManualClock::Now() const { return InstantFromMicros(now_.load(std::memory_order_acquire)); }

Status ManualClock::Set(Instant t) {
  CASELOOP_RETURN_IF_ERROR(CheckInstantRange(t, "the manual clock cannot be set to"));
  now_.store(MicrosOf(t), std::memory_order_release);
  return Status::Ok();
}

}  // namespace caseloop
