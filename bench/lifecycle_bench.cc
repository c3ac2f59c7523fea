// lifecycle: whole cases through the Engine with C concurrent clients, in
// each durability mode, next to baseline: raw RocksDB writes of the same
// bytes with the same durability and concurrency, and a bare fdatasync probe.
#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "scenarios.h"
#include "store/record_codec.h"
#include "store/store_internal.h"
#include "workload.h"

namespace caseloop::bench {
namespace {

// The manual clock of the lifecycle engines: a Monday morning, so that every
// deadline lies ahead and no timer fires during the run.
Instant LifecycleNow() { return *ParseInstant("2025-03-31T10:00", 8 * 60); }

// Per command of a closed case, the NewEvents the engine appends for it
// (encoded exactly as the engine encodes them).
Result<std::vector<std::vector<NewEvent>>> TemplateCase() {
  Instant now = LifecycleNow();
  Result<std::vector<std::vector<CaseEvent>>> decided =
      DecideCase(ClosedCaseCommands(0, std::nullopt), BenchConfig(), now);
  if (!decided.ok()) return decided.status();
  std::vector<std::vector<NewEvent>> out;
  for (const auto& per_command : *decided) {
    std::vector<NewEvent> events;
    for (const CaseEvent& e : per_command) events.push_back(EncodeCaseEvent(e));
    out.push_back(std::move(events));
  }
  return out;
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status::IOError(std::string(what) + ": " + s.ToString());
}

}  // namespace

// ---------------------------------------------------------------------------
// Raw RocksDB baseline

Result<Row> MeasureBaseline(Context& ctx, Durability durability, int clients) {
  const Plan plan = PlanFor(ctx.options);
  Result<std::vector<std::vector<NewEvent>>> tmpl = TemplateCase();
  if (!tmpl.ok()) return Annotate(tmpl.status(), "baseline: template case");

  TempDir dir("baseline");
  // The store's options where they matter for writes (docs/format.md):
  // write buffers, background jobs; two column families sharing the WAL.
  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.max_background_jobs = 2;
  // Tickers only (no histograms or timers): to count WAL syncs.
  dbo.statistics = rocksdb::CreateDBStatistics();
  dbo.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  rocksdb::ColumnFamilyOptions log_opts;
  log_opts.write_buffer_size = 64u << 20;
  rocksdb::ColumnFamilyOptions streams_opts;
  streams_opts.write_buffer_size = 16u << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", log_opts},
      {"streams", streams_opts}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  CASELOOP_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(dbo, dir.Sub("db"), cfs, &handles, &raw), "baseline: open"));
  std::unique_ptr<rocksdb::DB> db(raw);

  rocksdb::WriteOptions wo;
  wo.sync = durability == Durability::kSync;
  wo.disableWAL = durability == Durability::kNone;

  std::atomic<std::uint64_t> next_position{1};
  std::atomic<std::uint64_t> next_case{0};
  std::atomic<std::uint64_t> events{0}, commands{0}, cases{0};
  std::vector<Latencies> lat(static_cast<std::size_t>(clients));
  std::mutex mu;
  Status error;
  const std::string cmd_prefix = "cmd/0123456789abcdef/";
  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = SteadyClock::now();
  const auto stop = t0 + std::chrono::duration<double>(plan.row_seconds);
  RunThreads(clients, [&](int t) {
    Latencies& mine = lat[static_cast<std::size_t>(t)];
    rocksdb::WriteBatch batch;
    while (SteadyClock::now() < stop) {
      const std::uint64_t i = next_case.fetch_add(1);
      const std::string stream = CaseId(i);
      std::uint64_t version = 0;
      for (const std::vector<NewEvent>& command : *tmpl) {
        const auto c0 = SteadyClock::now();
        batch.Clear();
        const std::string command_id = cmd_prefix + std::to_string(i * 8 + version);
        for (const NewEvent& e : command) {
          EventRecord r;
          r.position = next_position.fetch_add(1);
          r.stream = stream;
          r.version = ++version;
          r.type = e.type;
          r.schema_version = e.schema_version;
          r.recorded_us = e.recorded_us;
          r.event_id = store_internal::NewEventId();
          r.command_id = command_id;
          r.actor = e.actor;
          r.payload = e.payload;
          std::string value = EncodeRecord(r);
          (void)batch.Put(handles[1], store_internal::PositionKey(r.position), value);
          (void)batch.Put(handles[2], store_internal::StreamIndexKey(stream, r.version),
                          store_internal::PositionKey(r.position));
        }
        rocksdb::Status s = db->Write(wo, &batch);
        mine.Add(NanosSince(c0));
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.ok()) error = FromRocks(s, "baseline: write");
          return;
        }
        events.fetch_add(command.size(), std::memory_order_relaxed);
        commands.fetch_add(1, std::memory_order_relaxed);
      }
      cases.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const double secs = SecondsSince(t0);
  const double cpu = ProcessCpuSeconds() - cpu0;
  const std::uint64_t syncs = dbo.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
  db.reset();
  if (!error.ok()) return error;

  Latencies all;
  for (const Latencies& l : lat) all.Merge(l);
  Row row("baseline", durability, clients);
  std::optional<double> eps = PerSecond(static_cast<double>(events.load()), secs);
  row.Set("events_per_s", eps);
  row.Set("commands_per_s", PerSecond(static_cast<double>(commands.load()), secs));
  row.Set("p50_us", all.QuantileUs(0.5), 1);
  row.Set("p99_us", all.QuantileUs(0.99), 1);
  row.Set("p999_us", all.QuantileUs(0.999), 1);
  row.Set("fsyncs_per_cmd",
          commands.load() ? std::optional<double>(double(syncs) / double(commands.load())) : std::nullopt, 3);
  row.Set("cpu_us_per_cmd",
          commands.load() ? std::optional<double>(cpu * 1e6 / double(commands.load())) : std::nullopt, 1);
  if (eps) ctx.baseline_events_per_s[{durability, clients}] = *eps;
  return row;
}

Result<Row> MeasureFsync(Context& ctx) {
  const Plan plan = PlanFor(ctx.options);
  TempDir dir("fsync");
  const std::string path = dir.Sub("probe");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("fsync probe: open " + path + ": " + std::strerror(errno));
  // Like a RocksDB WAL: space preallocated without changing the size, then
  // appended to, each append made durable with fdatasync.
  const off_t prealloc = static_cast<off_t>(plan.fsync_samples + 1) * 4096;
  (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, prealloc);
  std::string buf(4096, 'x');
  Latencies lat;
  Status error;
  for (int i = 0; i < plan.fsync_samples; ++i) {
    const auto t0 = SteadyClock::now();
    if (::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(i) * 4096) !=
            static_cast<ssize_t>(buf.size()) ||
        ::fdatasync(fd) != 0) {
      error = Status::IOError(std::string("fsync probe: write/fdatasync: ") + std::strerror(errno));
      break;
    }
    lat.Add(NanosSince(t0));
  }
  ::close(fd);
  if (!error.ok()) return error;
  ctx.fsync_p50_us = lat.QuantileUs(0.5);
  ctx.fsync_p99_us = lat.QuantileUs(0.99);
  Row row("baseline", Durability::kSync, 1);
  row.Set("probe", "4KiB write+fdatasync");
  row.SetInt("samples", static_cast<std::int64_t>(lat.size()));
  row.Set("p50_us", lat.QuantileUs(0.5), 1);
  row.Set("p99_us", lat.QuantileUs(0.99), 1);
  row.Set("p999_us", lat.QuantileUs(0.999), 1);
  return row;
}

Status RunBaseline(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  Result<Row> probe = MeasureFsync(ctx);
  if (!probe.ok()) return probe.status();
  report.Add(std::move(probe).value());
  for (Durability d : kDurabilities) {
    for (int c : plan.lifecycle_clients) {
      Result<Row> row = MeasureBaseline(ctx, d, c);
      if (!row.ok()) return row.status();
      report.Add(std::move(row).value());
    }
  }
  report.Note(
      "raw RocksDB: per command one WriteBatch, per event a 'log' key (BE64 position) -> the record "
      "the store would write (EncodeRecord) and a 'streams' key (stream, version) -> position; "
      "positions from an atomic counter; RocksDB's own write-group batching; sync: WriteOptions.sync, "
      "none: disableWAL");
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Engine lifecycle

Status RunLifecycle(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  if (!ctx.fsync_p50_us) {
    Result<Row> probe = MeasureFsync(ctx);
    if (!probe.ok()) return probe.status();
  }
  for (Durability d : kDurabilities) {
    for (int clients : plan.lifecycle_clients) {
      if (!ctx.baseline_events_per_s.count({d, clients})) {
        Result<Row> b = MeasureBaseline(ctx, d, clients);
        if (!b.ok()) return b.status();
      }
      TempDir dir("lifecycle");
      EngineOptions eo;
      eo.path = dir.Sub("db");
      eo.store.durability = d;
      eo.clock = std::make_shared<ManualClock>(LifecycleNow());
      Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
      if (!opened.ok()) return Annotate(opened.status(), "lifecycle: opening the engine");
      std::unique_ptr<Engine> engine = std::move(opened).value();
      CASELOOP_RETURN_IF_ERROR(ConfigureBench(*engine));

      std::atomic<std::uint64_t> next_case{0};
      std::atomic<std::uint64_t> events{0}, commands{0}, cases{0};
      std::vector<Latencies> lat(static_cast<std::size_t>(clients));
      std::mutex mu;
      Status error;
      const std::uint64_t syncs0 = engine->SyncCount();
      const double cpu0 = ProcessCpuSeconds();
      const auto t0 = SteadyClock::now();
      const auto stop = t0 + std::chrono::duration<double>(plan.row_seconds);
      RunThreads(clients, [&](int t) {
        Latencies& mine = lat[static_cast<std::size_t>(t)];
        while (SteadyClock::now() < stop) {
          const std::uint64_t i = next_case.fetch_add(1);
          for (const Command& c : ClosedCaseCommands(i, std::nullopt)) {
            const auto c0 = SteadyClock::now();
            Result<CommandAck> ack = engine->Submit(c);
            mine.Add(NanosSince(c0));
            if (!ack.ok()) {
              std::lock_guard<std::mutex> lock(mu);
              if (error.ok())
                error = Annotate(ack.status(), "lifecycle: " + std::string(Name(c.type)) + " " + c.case_id);
              return;
            }
            events.fetch_add(ack->last_position - ack->first_position + 1, std::memory_order_relaxed);
            commands.fetch_add(1, std::memory_order_relaxed);
          }
          cases.fetch_add(1, std::memory_order_relaxed);
        }
      });
      const double secs = SecondsSince(t0);
      const double cpu = ProcessCpuSeconds() - cpu0;
      const std::uint64_t syncs = engine->SyncCount() - syncs0;
      Status closed = engine->Close();
      if (!error.ok()) return error;
      if (!closed.ok()) return Annotate(closed, "lifecycle: closing the engine");

      Latencies all;
      for (const Latencies& l : lat) all.Merge(l);
      Row row("lifecycle", d, clients);
      std::optional<double> eps = PerSecond(static_cast<double>(events.load()), secs);
      std::optional<double> base = ctx.baseline_events_per_s[{d, clients}];
      row.Set("events_per_s", eps);
      row.Set("baseline_events_per_s", base);
      row.Set("ratio", Ratio(eps, base), 3);
      row.Set("cases_per_s", PerSecond(static_cast<double>(cases.load()), secs));
      row.Set("commands_per_s", PerSecond(static_cast<double>(commands.load()), secs));
      row.Set("p50_us", all.QuantileUs(0.5), 1);
      row.Set("p99_us", all.QuantileUs(0.99), 1);
      row.Set("p999_us", all.QuantileUs(0.999), 1);
      row.Set("fsyncs_per_cmd",
              commands.load() ? std::optional<double>(double(syncs) / double(commands.load())) : std::nullopt,
              3);
      row.Set("cpu_us_per_cmd",
              commands.load() ? std::optional<double>(cpu * 1e6 / double(commands.load())) : std::nullopt, 1);
      if (d == Durability::kSync && clients == 1) {
        row.Set("fdatasync_p50_us", ctx.fsync_p50_us, 1);
        row.Set("p50_vs_fdatasync", Ratio(all.QuantileUs(0.5), ctx.fsync_p50_us), 2);
      }
      report.Add(std::move(row));
    }
  }
  // SubmitAsync from ONE host thread, `window` cases in flight, each case's
  // commands issued at once (the engine orders them per case). Before the
  // asynchronous pipeline this was bounded by worker_threads (2): ~0.5 fsyncs
  // per command however many were submitted.
  for (int window : {64}) {
    TempDir dir("lifecycle-async");
    EngineOptions eo;
    eo.path = dir.Sub("db");
    eo.store.durability = Durability::kSync;
    eo.clock = std::make_shared<ManualClock>(LifecycleNow());
    Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
    if (!opened.ok()) return Annotate(opened.status(), "lifecycle async: opening the engine");
    std::unique_ptr<Engine> engine = std::move(opened).value();
    CASELOOP_RETURN_IF_ERROR(ConfigureBench(*engine));
    std::mutex mu;
    std::condition_variable cv;
    int open_cases = 0;
    std::uint64_t events = 0, commands = 0, cases = 0;
    Status error;
    Latencies lat;
    const std::uint64_t syncs0 = engine->SyncCount();
    const double cpu0 = ProcessCpuSeconds();
    const auto t0 = SteadyClock::now();
    const auto stop = t0 + std::chrono::duration<double>(plan.row_seconds);
    for (std::uint64_t i = 0; SteadyClock::now() < stop; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return open_cases < window; });
        if (!error.ok()) break;
        ++open_cases;
      }
      std::vector<Command> cmds = ClosedCaseCommands(i, std::nullopt);
      auto left = std::make_shared<std::atomic<int>>(static_cast<int>(cmds.size()));
      for (const Command& c : cmds) {
        const auto c0 = SteadyClock::now();
        engine->SubmitAsync(c, [&, c0, left, type = c.type, id = c.case_id](Result<CommandAck> ack) {
          const std::int64_t ns = NanosSince(c0);
          std::lock_guard<std::mutex> lock(mu);
          lat.Add(ns);
          if (!ack.ok()) {
            if (error.ok())
              error = Annotate(ack.status(), "lifecycle async: " + std::string(Name(type)) + " " + id);
          } else {
            events += ack->last_position - ack->first_position + 1;
            ++commands;
          }
          if (--*left == 0) {
            --open_cases;
            ++cases;
            cv.notify_all();
          }
        });
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return open_cases == 0; });
    }
    const double secs = SecondsSince(t0);
    const double cpu = ProcessCpuSeconds() - cpu0;
    const std::uint64_t syncs = engine->SyncCount() - syncs0;
    Status closed = engine->Close();
    if (!error.ok()) return error;
    if (!closed.ok()) return Annotate(closed, "lifecycle async: closing the engine");
    Row row("lifecycle_async", Durability::kSync, window);
    row.Set("events_per_s", PerSecond(static_cast<double>(events), secs));
    row.Set("cases_per_s", PerSecond(static_cast<double>(cases), secs));
    row.Set("commands_per_s", PerSecond(static_cast<double>(commands), secs));
    row.Set("p50_us", lat.QuantileUs(0.5), 1);
    row.Set("p99_us", lat.QuantileUs(0.99), 1);
    row.Set("fsyncs_per_cmd",
            commands ? std::optional<double>(double(syncs) / double(commands)) : std::nullopt, 3);
    row.Set("cpu_us_per_cmd", commands ? std::optional<double>(cpu * 1e6 / double(commands)) : std::nullopt,
            1);
    report.Add(std::move(row));
  }
  report.Note(
      "last row (sync, no baseline) = lifecycle_async: ONE host thread, Engine::SubmitAsync, C = cases in "
      "flight (each case's six commands "
      "issued at once; the engine orders them per case), sync, default EngineOptions (2 workers); latency = "
      "SubmitAsync to its callback");
  report.Note(
      "per case: report, register, dispatch (routed), accept, feedback, verify pass through "
      "Engine::Submit from C client threads, manual clock, RocksDB store, default EngineOptions; "
      "latency = one Submit (acknowledged when durable); ratio = events/s over the baseline row of "
      "the same durability and clients; cpu_us_per_cmd = process CPU time (all threads, incl. RocksDB's and "
      "the "
      "projector's) per command, less sensitive than rates to other load on the machine");
  return Status::Ok();
}

}  // namespace caseloop::bench
