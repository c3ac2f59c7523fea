// A batch of projection writes with a write-through cache: reads during a
// batch see the batch's own pending writes first, then the store. The whole
// batch is committed with one EventStore::CommitProjection call together with
// the projection's new checkpoint.
//
// Thread-safety: not thread-safe; one batch belongs to one CatchUp call.
#ifndef CASELOOP_PROJECTIONS_BATCH_H_
#define CASELOOP_PROJECTIONS_BATCH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/event_store.h"
#include "caseloop/status.h"

namespace caseloop::projections {

class Batch {
 public:
  explicit Batch(EventStore* store) : store_(store) {}

  // The value of `key` as this batch would leave it.
  Result<std::optional<std::string>> Get(std::string_view key);
  void Put(std::string_view key, std::string value);
  void Delete(std::string_view key);

  // Adds `delta` to the signed counter at `key` (a zig-zag varint); a counter
  // that reaches 0 is deleted.
  Status AddCounter(std::string_view key, std::int64_t delta);

  bool empty() const { return pending_.empty(); }
  std::size_t size() const { return pending_.size(); }
  std::vector<KvOp> TakeOps();

 private:
  EventStore* store_;
  // nullopt = deleted within this batch.
  std::map<std::string, std::optional<std::string>, std::less<>> pending_;
};

// A counter value as stored by Batch::AddCounter. Corruption on bad bytes.
Result<std::int64_t> DecodeCounter(std::string_view key, std::string_view value);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_BATCH_H_
