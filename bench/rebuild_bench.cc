// rebuild: projections rebuilt from a store of N events, next to a raw
// RocksDB full scan of the same store's log.
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "scenarios.h"
#include "store/record_codec.h"
#include "workload.h"

namespace caseloop::bench {
namespace {

struct ScanResult {
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double cpu = 0;
};

// Iterates the store's "log" column family from the first key to the last,
// read-only, with plain RocksDB; with `decode`, also decodes every record.
Result<ScanResult> RawScan(const std::string& path, bool decode) {
  rocksdb::Options options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!s.ok()) return Status::IOError("raw scan: listing column families of " + path + ": " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  int log_index = -1;
  for (const std::string& n : names) {
    if (n == "log") log_index = static_cast<int>(cfs.size());
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  if (log_index < 0) return Status::NotFound("raw scan: no 'log' column family in " + path);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, path, cfs, &handles, &raw);
  if (!s.ok()) return Status::IOError("raw scan: opening " + path + ": " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  ScanResult out;
  Status error;
  const auto t0 = SteadyClock::now();
  const double cpu0 = ProcessCpuSeconds();
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, handles[static_cast<std::size_t>(log_index)]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      rocksdb::Slice v = it->value();
      out.bytes += v.size();
      ++out.events;
      if (decode) {
        Result<EventRecord> r = DecodeRecord(std::string_view(v.data(), v.size()));
        if (!r.ok()) {
          error = r.status();
          break;
        }
      }
    }
    if (error.ok() && !it->status().ok()) error = Status::IOError("raw scan: " + it->status().ToString());
  }
  out.seconds = SecondsSince(t0);
  out.cpu = ProcessCpuSeconds() - cpu0;
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
  if (!error.ok()) return error;
  return out;
}

Result<std::unique_ptr<EventStore>> OpenReadOnly(const std::string& path) {
  StoreOptions so;
  so.read_only = true;
  Result<std::unique_ptr<EventStore>> opened = OpenRocksDbStore(path, so);
  if (!opened.ok()) return Annotate(opened.status(), "rebuild: opening the store read-only");
  return opened;
}

// Opens the store at `path` read-only and times scan(store, out): the
// read side of a rebuild through the store's API, without projection work.
template <typename Scan>
Result<ScanResult> TimedStoreScan(const std::string& path, Scan&& scan) {
  Result<std::unique_ptr<EventStore>> opened = OpenReadOnly(path);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<EventStore> store = std::move(opened).value();
  ScanResult out;
  const auto t0 = SteadyClock::now();
  const double cpu0 = ProcessCpuSeconds();
  CASELOOP_RETURN_IF_ERROR(scan(*store, out));
  out.seconds = SecondsSince(t0);
  out.cpu = ProcessCpuSeconds() - cpu0;
  CASELOOP_RETURN_IF_ERROR(store->Close());
  return out;
}

bool IsCaseStream(std::string_view stream) { return !stream.empty() && stream[0] != '$'; }

// EventStore::ReadAll in batches of 1024 (the copying scan, which decodes
// each record's envelope), then DecodeCaseEvent on every case event.
Result<ScanResult> StoreReadDecode(const std::string& path) {
  return TimedStoreScan(path, [](EventStore& store, ScanResult& out) -> Status {
    std::uint64_t from = 1;
    const std::uint64_t head = store.HeadPosition();
    while (from <= head) {
      Result<std::vector<EventRecord>> records = store.ReadAll(from, 1024);
      if (!records.ok()) return records.status();
      if (records->empty()) break;
      for (const EventRecord& rec : *records) {
        ++out.events;
        out.bytes += rec.payload.size();
        if (!IsCaseStream(rec.stream)) continue;
        Result<CaseEvent> e = DecodeCaseEvent(rec);
        if (!e.ok()) return e.status();
      }
      from = records->back().position + 1;
    }
    return Status::Ok();
  });
}

// The store's zero-copy scan: EventStore::ScanAll over the whole log, each
// record's envelope decoded in place (checksum verified); with `decode`, also
// DecodeCaseEvent of every case event (what the projections' catch-up reads).
Result<ScanResult> StoreScanAll(const std::string& path, bool decode) {
  return TimedStoreScan(path, [decode](EventStore& store, ScanResult& out) -> Status {
    Status bad;
    CASELOOP_RETURN_IF_ERROR(store.ScanAll(1, SIZE_MAX, [&](const EventRecordView& rec) {
      ++out.events;
      out.bytes += rec.payload.size();
      if (decode && IsCaseStream(rec.stream)) {
        Result<CaseEvent> e = DecodeCaseEvent(rec);
        if (!e.ok()) {
          bad = e.status();
          return false;
        }
      }
      return true;
    }));
    return bad;
  });
}

}  // namespace

Status RunRebuild(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  TempDir dir("rebuild");
  const std::string path = dir.Sub("db");
  CASELOOP_RETURN_IF_ERROR(CreateHistoryStore(path));
  const auto b0 = SteadyClock::now();
  Result<std::uint64_t> written = ExtendHistory(path, 0, plan.rebuild_cases);
  if (!written.ok()) return written.status();
  const double build_secs = SecondsSince(b0);

  // Engine open: catches the projections up from position 1 (they are empty).
  EngineOptions eo;
  eo.path = path;
  eo.store.durability = Durability::kSync;
  eo.clock = std::make_shared<ManualClock>(QuarterEnd() + Micros(7LL * 24 * 3600 * 1000000));
  const auto o0 = SteadyClock::now();
  const double o0_cpu = ProcessCpuSeconds();
  Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
  if (!opened.ok()) return Annotate(opened.status(), "rebuild: opening the engine");
  const double open_secs = SecondsSince(o0);
  const double open_cpu = ProcessCpuSeconds() - o0_cpu;
  std::unique_ptr<Engine> engine = std::move(opened).value();
  const std::uint64_t head = engine->HeadPosition();

  // Rebuild with the engine's durability sync (each projection batch commit
  // is fsynced), then with none (no WAL for the commits).
  struct Rebuilt {
    Durability durability;
    double seconds;
    double cpu;
    std::optional<std::int64_t> peak_rise_kib;  // VmHWM during the rebuild - RSS before it
  };
  std::vector<Rebuilt> rebuilds;
  for (Durability d : {Durability::kSync, Durability::kNone}) {
    if (!engine) {
      eo.store.durability = d;
      Result<std::unique_ptr<Engine>> again = Engine::Open(eo);
      if (!again.ok()) return Annotate(again.status(), "rebuild: reopening the engine");
      engine = std::move(again).value();
    }
    const bool peak_reset = ResetPeakRss();
    const std::optional<std::int64_t> rss0 = CurrentRssKib();
    const auto r0 = SteadyClock::now();
    const double r0_cpu = ProcessCpuSeconds();
    Status rebuilt = engine->RebuildProjections();
    const double secs = SecondsSince(r0);
    const double cpu = ProcessCpuSeconds() - r0_cpu;
    const std::optional<std::int64_t> peak = PeakRssKib();
    std::optional<std::int64_t> rise;
    if (peak_reset && peak && rss0) rise = *peak - *rss0;
    rebuilds.push_back({d, secs, cpu, rise});
    Status closed = engine->Close();
    engine.reset();
    if (!rebuilt.ok()) return Annotate(rebuilt, "rebuild: RebuildProjections");
    if (!closed.ok()) return Annotate(closed, "rebuild: closing the engine");
  }

  // Raw scans of the same store: one to warm the page cache as the rebuild
  // had it warm, then the measured ones.
  Result<ScanResult> warm = RawScan(path, false);
  if (!warm.ok()) return warm.status();
  Result<ScanResult> scan = RawScan(path, false);
  if (!scan.ok()) return scan.status();
  Result<ScanResult> scan_decode = RawScan(path, true);
  if (!scan_decode.ok()) return scan_decode.status();
  Result<ScanResult> store_read = StoreReadDecode(path);
  if (!store_read.ok()) return store_read.status();
  Result<ScanResult> store_scan = StoreScanAll(path, false);
  if (!store_scan.ok()) return store_scan.status();
  Result<ScanResult> store_scan_decode = StoreScanAll(path, true);
  if (!store_scan_decode.ok()) return store_scan_decode.status();
  // The last: it reads the keyspace the rebuilds left.
  Result<WriteFloor> floor = MeasureWriteFloor(path, dir.Sub("floor"));
  if (!floor.ok()) return floor.status();

  std::optional<double> scan_eps = PerSecond(static_cast<double>(scan->events), scan->seconds);
  auto add = [&](std::string_view what, std::optional<Durability> d, std::uint64_t events, double secs,
                 double cpu, bool with_ratio, std::optional<std::int64_t> peak_rise_kib = std::nullopt) {
    Row row("rebuild", d, 1);
    std::optional<double> eps = PerSecond(static_cast<double>(events), secs);
    row.Set("events_per_s", eps);
    row.Set("what", what);
    row.SetInt("events", static_cast<std::int64_t>(events));
    row.Set("seconds", secs, 2);
    row.Set("cpu_s", cpu, 2);
    if (with_ratio) {
      row.Set("baseline_events_per_s", scan_eps);
      row.Set("ratio", Ratio(eps, scan_eps), 3);
    }
    if (peak_rise_kib) row.Set("peak_rise_mib", static_cast<double>(*peak_rise_kib) / 1024.0, 1);
    report.Add(std::move(row));
  };
  for (const Rebuilt& r : rebuilds) {
    add("RebuildProjections", r.durability, head, r.seconds, r.cpu, true, r.peak_rise_kib);
  }
  add("catch-up in Engine::Open", Durability::kSync, head, open_secs, open_cpu, true);
  add("raw scan of log", std::nullopt, scan->events, scan->seconds, scan->cpu, false);
  add("raw scan + DecodeRecord", std::nullopt, scan_decode->events, scan_decode->seconds, scan_decode->cpu,
      false);
  add("ReadAll + DecodeCaseEvent", std::nullopt, store_read->events, store_read->seconds, store_read->cpu,
      true);
  add("ScanAll", std::nullopt, store_scan->events, store_scan->seconds, store_scan->cpu, true);
  add("ScanAll + DecodeCaseEvent", std::nullopt, store_scan_decode->events, store_scan_decode->seconds,
      store_scan_decode->cpu, true);
  // Events per second of log, i.e. what a rebuild could reach if writing its
  // result were all it did.
  add("write floor: the rebuilt keyspace", std::nullopt, head, floor->seconds, floor->cpu, true);
  report.Note(fmt::format(
      "store: {} closed cases ({} events incl. configuration) written straight into the store "
      "with EncodeCaseEvent in {:.1f} s; catch-up on open with durability sync; "
      "RebuildProjections with sync, then none (default ProjectionOptions: bulk batches of 16384 events, "
      "each written while the next is applied); cpu_s = process CPU time in the phase; peak_rise_mib = "
      "peak RSS during the rebuild minus RSS before it; raw scan: RocksDB read-only open, iterate the "
      "'log' column family (warm page cache); ReadAll + DecodeCaseEvent = the store's copying scan in "
      "batches of 1024 and the payload decode; ScanAll = EventStore::ScanAll over the whole log, envelopes "
      "decoded in place (checksums verified), no payload decode; + DecodeCaseEvent = and every payload "
      "decoded (the read side of a rebuild, no projection work)",
      plan.rebuild_cases, head, build_secs));
  report.Note(fmt::format(
      "write floor: raw RocksDB writing the projection keyspace the rebuild ends with ({} keys, {:.1f} MiB) "
      "into an empty database in key order, batches of 16384, no WAL, 32 MiB write buffer; seconds = the "
      "Write calls only; events_per_s = log events / those seconds: a rebuild that wrote its result and "
      "did nothing else would reach this ratio",
      floor->keys, static_cast<double>(floor->bytes) / (1024.0 * 1024.0)));
  return Status::Ok();
}

}  // namespace caseloop::bench
