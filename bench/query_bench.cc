// query: latency of a quarter's rates and of show as the history grows, for a
// district at +08:00 (the calendar's default) and one at -05:00: the same
// history in local time, queried over its own quarter.
#include <fmt/format.h>

#include <random>
#include <thread>

#include "scenarios.h"
#include "workload.h"

namespace caseloop::bench {
namespace {

std::string ZoneText(int offset_minutes) {
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return fmt::format("{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
}

// The rows of one district; returns the directory of its largest history.
Result<std::shared_ptr<TempDir>> QueryZone(Context& ctx, Report& report, int offset) {
  const Plan plan = PlanFor(ctx.options);
  auto dir = std::make_shared<TempDir>("query");
  const std::string path = dir->Sub("db");
  CASELOOP_RETURN_IF_ERROR(CreateHistoryStore(path, offset));
  const int rate_reps = ctx.options.quick ? 3 : 5;
  const int show_samples = ctx.options.quick ? 100 : 500;
  std::mt19937_64 rng(42);

  std::uint64_t have = 0;
  for (std::uint64_t size : plan.query_sizes) {
    const auto b0 = SteadyClock::now();
    Result<std::uint64_t> written = ExtendHistory(path, have, size - have, offset);
    if (!written.ok()) return written.status();
    const double build_secs = SecondsSince(b0);
    have = size;

    EngineOptions eo;
    eo.path = path;
    eo.store.durability = Durability::kSync;
    eo.clock = std::make_shared<ManualClock>(QuarterEnd(offset) + Micros(7LL * 24 * 3600 * 1000000));
    const auto o0 = SteadyClock::now();
    Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
    if (!opened.ok()) return Annotate(opened.status(), "query: opening the engine");
    const double open_secs = SecondsSince(o0);
    std::unique_ptr<Engine> engine = std::move(opened).value();
    const std::uint64_t head = engine->HeadPosition();

    PeriodQuery q;
    q.from = QuarterStart(offset);
    q.to = QuarterEnd(offset);
    Latencies rates;
    Status error;
    std::int64_t due = 0;
    // One untimed call first: it may still wait for the projector.
    for (int rep = -1; rep < rate_reps && error.ok(); ++rep) {
      const auto t0 = SteadyClock::now();
      Result<std::vector<UnitRates>> r = engine->Rates(q);
      if (rep >= 0) rates.Add(NanosSince(t0));
      if (!r.ok()) {
        error = Annotate(r.status(), "query: Rates");
      } else if (rep < 0) {
        for (const UnitRates& u : *r) due += u.due;
      }
    }
    // The quarter's inspector and centre figures, timed the same way.
    Latencies inspectors, centre;
    std::int64_t received = 0;
    for (int rep = -1; rep < rate_reps && error.ok(); ++rep) {
      const auto t0 = SteadyClock::now();
      Result<std::vector<InspectorRates>> r = engine->Inspectors(q);
      if (rep >= 0) inspectors.Add(NanosSince(t0));
      if (!r.ok()) error = Annotate(r.status(), "query: Inspectors");
      const auto t1 = SteadyClock::now();
      Result<CentreFigures> c = engine->Centre(q);
      if (rep >= 0) centre.Add(NanosSince(t1));
      if (!c.ok()) {
        error = Annotate(c.status(), "query: Centre");
      } else if (rep < 0) {
        received = c->received;
      }
    }
    Latencies show;
    std::uniform_int_distribution<std::uint64_t> pick(0, size - 1);
    for (int k = 0; k < show_samples && error.ok(); ++k) {
      const std::string id = CaseId(pick(rng));
      const auto t0 = SteadyClock::now();
      Result<CaseView> v = engine->Show(id);
      show.Add(NanosSince(t0));
      if (!v.ok()) {
        error = Annotate(v.status(), "query: Show " + id);
      } else if (v->state != LifecycleState::kClosed) {
        error = Status::Corruption("query: case " + id + " is " + std::string(Name(v->state)) +
                                   ", expected closed");
      }
    }
    // The same rates query once RocksDB had time to compact what the catch-up
    // on open wrote (right after a large catch-up, scans step over many
    // level-0 files and obsolete counter versions).
    Latencies settled;
    if (plan.query_settle_seconds > 0 && error.ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(plan.query_settle_seconds));
      for (int rep = 0; rep < rate_reps && error.ok(); ++rep) {
        const auto t0 = SteadyClock::now();
        Result<std::vector<UnitRates>> r = engine->Rates(q);
        settled.Add(NanosSince(t0));
        if (!r.ok()) error = Annotate(r.status(), "query: Rates (settled)");
      }
    }
    Status closed = engine->Close();
    if (!error.ok()) return error;
    if (!closed.ok()) return Annotate(closed, "query: closing the engine");
    if (due != static_cast<std::int64_t>(size)) {
      return Status::Corruption(
          fmt::format("query: the quarter's rates count {} due cases, expected {}", due, size));
    }

    if (received != static_cast<std::int64_t>(size)) {
      return Status::Corruption(
          fmt::format("query: the quarter's centre figures count {} reports, expected {}", received, size));
    }

    Row row("query", Durability::kSync, 1);
    row.Set("zone", ZoneText(offset));
    row.SetInt("cases", static_cast<std::int64_t>(size));
    row.SetInt("events", static_cast<std::int64_t>(head));
    row.Set("rates_p50_ms", rates.QuantileUs(0.5).value_or(0) / 1000.0, 3);
    row.Set("rates_max_ms", rates.QuantileUs(1.0).value_or(0) / 1000.0, 3);
    if (plan.query_settle_seconds > 0) {
      row.Set("rates_settled_p50_ms", settled.QuantileUs(0.5).value_or(0) / 1000.0, 3);
    }
    row.Set("inspectors_p50_ms", inspectors.QuantileUs(0.5).value_or(0) / 1000.0, 3);
    row.Set("centre_p50_ms", centre.QuantileUs(0.5).value_or(0) / 1000.0, 3);
    row.Set("show_p50_us", show.QuantileUs(0.5), 1);
    row.Set("show_p99_us", show.QuantileUs(0.99), 1);
    row.Set("open_s", open_secs, 2);
    row.Set("build_s", build_secs, 2);
    report.Add(std::move(row));
  }
  return dir;
}

}  // namespace

Status RunQuery(Context& ctx, Report& report) {
  const Plan plan = PlanFor(ctx.options);
  const int rate_reps = ctx.options.quick ? 3 : 5;
  const int show_samples = ctx.options.quick ? 100 : 500;
  // -05:00 first: the memory scenario serves the largest +08:00 history again.
  for (int offset : {-5 * 60, kBenchOffsetMinutes}) {
    Result<std::shared_ptr<TempDir>> dir = QueryZone(ctx, report, offset);
    if (!dir.ok()) return Annotate(dir.status(), "query at " + ZoneText(offset));
    if (offset == kBenchOffsetMinutes) {
      ctx.history_dir = *dir;
      ctx.history_path = (*dir)->Sub("db");
      ctx.history_cases = plan.query_sizes.empty() ? 0 : plan.query_sizes.back();
    }
  }
  report.Note(fmt::format(
      "zone: the district calendar's UTC offset; the history (the same cases at the same local times) and "
      "the quarter queried are in that zone's local time. "
      "history: closed cases scattered over Q1 2025, written straight into the store (the events Decide "
      "gives, "
      "EncodeCaseEvent, one Append per case, Durability none), then an engine opened on it (open_s includes "
      "the "
      "projections catching up on the new events); rates = Engine::Rates for Q1, every unit, {} runs after a "
      "warm-up; inspectors and centre = Engine::Inspectors / Engine::Centre for Q1, timed the same way; "
      "show = Engine::Show of {} random cases (cache cold for most); rates_settled = the rates query "
      "again after the engine sat idle for {} s (RocksDB compacting the catch-up's writes meanwhile)",
      rate_reps, show_samples, plan.query_settle_seconds));
  return Status::Ok();
}

}  // namespace caseloop::bench
