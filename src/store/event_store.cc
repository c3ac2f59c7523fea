// Default implementations of EventStore's non-abstract members.
#include "caseloop/event_store.h"

#include <exception>
#include <utility>

namespace caseloop {

void EventStore::AppendAsync(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events,
                             AppendOptions options, std::function<void(Result<AppendResult>)> done) {
  Result<AppendResult> r = [&]() -> Result<AppendResult> {
    try {
      return Append(stream, expected, std::move(events), options);
    } catch (const std::exception& e) {
      return Status::IOError("append to stream " + stream + " failed: " + e.what());
    }
  }();
  if (done) done(std::move(r));
}

}  // namespace caseloop
