// The interface every projection implements, and what the catch-up loop
// (catch_up.h) hands it. A projection owns the keys under its prefix in the
// store's projection keyspace and one checkpoint; the loop reads the log
// once for all registered projections, feeds each the entries past its
// checkpoint and commits each projection's batch with its new checkpoint.
//
// Thread-safety: Load, Begin, Apply, Seal, Committed and Rebuilding are called by
// one catch-up at a time; a projection's queries only read the store and may
// run concurrently with them.
#ifndef CASELOOP_PROJECTIONS_PROJECTION_H_
#define CASELOOP_PROJECTIONS_PROJECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/case.h"
#include "caseloop/config.h"
#include "caseloop/event_store.h"
#include "caseloop/status.h"
#include "projections/batch.h"

namespace caseloop::projections {

// One record of the log as the projections see it.
struct LogEntry {
  std::uint64_t position = 0;
  std::int64_t recorded_us = 0;
  // The first event of its case's stream: nothing of the case is projected yet.
  bool first_of_case = false;
  // The decoded event of a case stream; nullopt for "$" streams.
  std::optional<CaseEvent> event;
  // A configuration change a projection depends on (today: calendar_set,
  // whose offset decides the evaluation's day buckets); null otherwise. A
  // pointer: a change is rare and large, and a bulk batch holds 16,384 entries.
  std::shared_ptr<const ConfigChange> config;
};

// What applying an entry asks of the catch-up loop.
enum class Applied {
  kDone,
  // The entry changes an assumption the projection's stored state was built
  // on (e.g. the day boundaries of its counters). The loop commits the other
  // projections' work, drops this projection's keys and checkpoint, calls
  // Rebuilding() and replays the log from position 1 into it. The projection
  // must not have written anything for this entry, and must decide
  // differently when it meets the entry again in the replay.
  kRebuild,
};

class Projection {
 public:
  virtual ~Projection() = default;

  // The checkpoint's name in the store ("deadline").
  virtual std::string_view name() const = 0;
  // The prefix of every key the projection writes ("dl/").
  virtual std::string_view prefix() const = 0;
  // The version of the projection's key and value layout. The loop stores it
  // at <prefix>~format with every commit and drops the projection's keys and
  // replays the log when the stored version differs (or is missing while the
  // checkpoint is not 0): bump it with any layout change (docs/projections.md).
  virtual std::string_view format() const = 0;
  // Keys under these prefixes (hot counters) are carried across the batches
  // of one catch-up (see Carry).
  virtual std::vector<std::string> carried_prefixes() const = 0;

  // Called at the start of each catch-up with the stored checkpoint (0:
  // nothing is stored): reads the projection's own bookkeeping keys.
  virtual Status Load(std::uint64_t checkpoint) = 0;
  // A batch starts (again, after a failed one: state kept in memory for the
  // batch starts over from what was committed).
  virtual void Begin() {}
  // Applies one entry past the checkpoint to `batch` (every entry, "$"
  // streams included). Errors: Corruption (a stored value cannot be
  // decoded), IOError from the store; the loop then commits every entry
  // before this one and reports the error with the entry's position.
  virtual Result<Applied> Apply(Batch& batch, const LogEntry& entry) = 0;
  // Adds the bookkeeping keys that go with every commit (besides the format).
  virtual void Seal(Batch& /*batch*/) {}
  // After the batch's commit succeeded; `ops` are what was committed.
  virtual void Committed(const std::vector<KvOp>& /*ops*/) {}
  // After the loop dropped the keys of a projection whose Apply returned
  // kRebuild, before the replay.
  virtual void Rebuilding() {}
  // Cross-checks the stored state; appends one line per problem.
  virtual Status Check(std::vector<std::string>* /*problems*/) { return Status::Ok(); }
};

}  // namespace caseloop::projections

#endif  // CASELOOP_PROJECTIONS_PROJECTION_H_
