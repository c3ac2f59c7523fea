// Default implementations of EventStore's non-abstract members.
#include "caseloop/event_store.h"

#include <algorithm>
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

Status EventStore::ScanAll(std::uint64_t from, std::size_t max,
                           const std::function<bool(const EventRecordView&)>& visit) {
  // In chunks, so that a large `max` does not copy the whole log at once.
  constexpr std::size_t kChunk = 1024;
  if (from == 0) from = 1;
  while (max > 0) {
    const std::size_t chunk = std::min(max, kChunk);
    Result<std::vector<EventRecord>> records = ReadAll(from, chunk);
    if (!records.ok()) {
      // The contract: the records before the failing one are visited. Read
      // this chunk again one record at a time to find it.
      for (std::size_t i = 0; i < chunk; ++i) {
        Result<std::vector<EventRecord>> one = ReadAll(from + i, 1);
        if (!one.ok()) return one.status();
        if (one->empty()) break;
        if (!visit(ViewOf(one->front()))) return Status::Ok();
      }
      return records.status();
    }
    if (records->empty()) return Status::Ok();
    for (const EventRecord& r : *records) {
      if (!visit(ViewOf(r))) return Status::Ok();
    }
    max -= records->size();
    from = records->back().position + 1;
  }
  return Status::Ok();
}

}  // namespace caseloop
