// append: EventStore::Append by batch size (events per append) and
// durability, one client, realistic encoded case events.
#include <fmt/format.h>

#include <atomic>

#include "scenarios.h"
#include "workload.h"

namespace caseloop::bench {

Status RunAppend(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  // The six events of a closed case, encoded as the engine encodes them.
  Instant at = HistoryTime(1);
  Result<std::vector<std::vector<CaseEvent>>> decided =
      DecideCase(ClosedCaseCommands(1, at), BenchConfig(), at);
  if (!decided.ok()) return Annotate(decided.status(), "append: building sample events");
  std::vector<NewEvent> sample;
  for (const auto& per_command : *decided)
    for (const CaseEvent& e : per_command) sample.push_back(EncodeCaseEvent(e));
  std::size_t sample_bytes = 0;
  for (const NewEvent& e : sample) sample_bytes += e.payload.size();
  report.Note("events: the 6 events of a closed case, encoded with EncodeCaseEvent (mean payload " +
              std::to_string(sample_bytes / sample.size()) + " B), one new stream per append, one client");

  for (std::size_t batch : {std::size_t{1}, std::size_t{8}, std::size_t{64}}) {
    for (Durability d : kDurabilities) {
      TempDir dir("append");
      StoreOptions so;
      so.durability = d;
      Result<std::unique_ptr<EventStore>> opened = OpenRocksDbStore(dir.Sub("db"), so);
      if (!opened.ok()) return Annotate(opened.status(), "append: opening the store");
      std::unique_ptr<EventStore> store = std::move(opened).value();

      Latencies lat;
      std::uint64_t appends = 0, events = 0, bytes = 0;
      const std::uint64_t syncs0 = store->SyncCount();
      const auto t0 = SteadyClock::now();
      const auto stop = t0 + std::chrono::duration<double>(plan.row_seconds);
      std::size_t k = 0;
      while (SteadyClock::now() < stop) {
        std::vector<NewEvent> events_in;
        events_in.reserve(batch);
        for (std::size_t b = 0; b < batch; ++b) {
          events_in.push_back(sample[k++ % sample.size()]);
          bytes += events_in.back().payload.size();
        }
        const auto a0 = SteadyClock::now();
        Result<AppendResult> r =
            store->Append(fmt::format("S{}", appends), ExpectedVersion::NoStream(), std::move(events_in));
        lat.Add(NanosSince(a0));
        if (!r.ok()) return Annotate(r.status(), "append: Append");
        ++appends;
        events += batch;
      }
      const double secs = SecondsSince(t0);
      const std::uint64_t syncs = store->SyncCount() - syncs0;
      Status c = store->Close();
      if (!c.ok()) return Annotate(c, "append: closing the store");

      Row row("append", d, 1);
      row.Set("events_per_s", PerSecond(static_cast<double>(events), secs));
      row.SetInt("batch", static_cast<std::int64_t>(batch));
      row.Set("appends_per_s", PerSecond(static_cast<double>(appends), secs));
      row.Set("payload_mb_per_s", PerSecond(static_cast<double>(bytes) / 1e6, secs), 2);
      row.Set("p50_us", lat.QuantileUs(0.5), 1);
      row.Set("p99_us", lat.QuantileUs(0.99), 1);
      row.Set("fsyncs_per_append", appends ? std::optional<double>(double(syncs) / appends) : std::nullopt,
              3);
      report.Add(std::move(row));
    }
  }
  return Status::Ok();
}

}  // namespace caseloop::bench
