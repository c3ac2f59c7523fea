// A batch of projection writes with a write-through cache: reads during a
// batch see the batch's own pending writes first, then the store (a store
// read is remembered, so each key is read from the store at most once per
// batch). The whole batch is committed with one ProjectionStore::CommitProjection
// call together with the projection's new checkpoint.
//
// Fresh cases: a case whose first event (stream version 1) is applied in this
// batch has no projection state in the store yet. Keys of a fresh case are
// never read from the store, and a key of a fresh case that is written and
// deleted again within the batch leaves no operation at all (no tombstone).
//
// Thread-safety: not thread-safe; one batch belongs to one CatchUp call.
#ifndef CASELOOP_PROJECTIONS_BATCH_H_
#define CASELOOP_PROJECTIONS_BATCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caseloop/status.h"
#include "store/projection_store.h"

namespace caseloop::projections {

// Hash of std::string and std::string_view alike, so that the unordered maps
// below are looked up with a string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// Committed values of hot shared keys (counters) kept across the batches of
// one CatchUp, so that each is read from the store once per CatchUp rather
// than once per batch. Only values that are committed go in (Absorb after a
// successful CommitProjection). nullopt = known absent.
class Carry {
 public:
  // Keys under these prefixes are carried.
  explicit Carry(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {}
  bool Carries(std::string_view key) const;
  const std::optional<std::string>* Find(std::string_view key) const;
  // Records the committed state of every carried key in `ops`.
  void Absorb(const std::vector<KvOp>& ops);

 private:
  std::vector<std::string> prefixes_;
  StringMap<std::optional<std::string>> values_;
};

class Batch {
 public:
  // `carry` (optional) must outlive the batch.
  explicit Batch(ProjectionStore* store, const Carry* carry = nullptr) : store_(store), carry_(carry) {}

  // The value of `key` as this batch would leave it. `fresh`: the caller
  // knows the store holds no value (the key belongs to a fresh case).
  Result<std::optional<std::string>> Get(std::string_view key, bool fresh = false);
  // `fresh` as for Get.
  void Put(std::string_view key, std::string value, bool fresh = false);
  void Delete(std::string_view key);

  // Adds `delta` to the signed counter at `key` (a zig-zag varint); a counter
  // that reaches 0 is deleted.
  Status AddCounter(std::string_view key, std::int64_t delta);

  // Declares that `case_id`'s first event is applied in this batch.
  void MarkFresh(std::string_view case_id) { fresh_.emplace(case_id); }
  bool IsFresh(std::string_view case_id) const { return fresh_.find(case_id) != fresh_.end(); }

  bool empty() const { return pending_.empty(); }
  std::size_t size() const { return pending_.size(); }
  // The writes to commit, in key order; clears the batch (fresh cases too).
  std::vector<KvOp> TakeOps();

 private:
  struct Entry {
    std::optional<std::string> value;  // nullopt = absent / deleted
    bool dirty = false;                // written in this batch
    bool absent_in_store = false;      // the store is known to hold no value
  };
  Entry& Slot(std::string_view key, bool fresh);

  ProjectionStore* store_;
  const Carry* carry_;
  // Hashed, not ordered: a bulk batch holds tens of thousands of keys, and
  // TakeOps sorts only the written ones.
  StringMap<Entry> pending_;
  StringSet fresh_;
};

// A counter value as stored by Batch::AddCounter. Corruption on bad bytes.
Result<std::int64_t> DecodeCounter(std::string_view key, std::string_view value);

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_BATCH_H_
