// postgres: the lifecycle scenario on the PostgreSQL backend (1 and 3 engines
// in this process, each with its own projection scope; 1, 8, 64 clients;
// kSync = synchronous_commit on) next to raw libpq inserts of the same rows
// into the same tables in the same run: per command one transaction that
// inserts its events into caseloop_log and upserts caseloop_streams, with
// positions from an in-process counter (no head lock, no command index, no
// projections: the floor the backend is measured against).
// The server: CASELOOP_BENCH_POSTGRES_URL (or CASELOOP_TEST_POSTGRES_URL, as
// tests/postgres/pg_env.sh sets it); each row gets a fresh schema.
#include "scenarios.h"

#ifdef CASELOOP_POSTGRES_BENCH
#include <fmt/format.h>
#include <libpq-fe.h>

#include <atomic>
#include <mutex>

#include "caseloop/case.h"
#include "caseloop/engine.h"
#include "store/postgres_store.h"
#include "workload.h"

namespace caseloop::bench {
namespace {

Result<std::string> ServerUrl() {
  for (const char* name : {"CASELOOP_BENCH_POSTGRES_URL", "CASELOOP_TEST_POSTGRES_URL"}) {
    if (const char* v = std::getenv(name)) return std::string(v);
  }
  return Status::InvalidArgument(
      "postgres: set CASELOOP_BENCH_POSTGRES_URL to a server's URI (or run under tests/postgres/pg_env.sh)");
}

Status Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string m = PQresultErrorMessage(r);
  PQclear(r);
  return ok ? Status::Ok() : Status::IOError("postgres bench: " + sql.substr(0, 60) + ": " + m);
}

// A fresh schema; returns the URI that selects it.
Result<std::string> FreshSchema(const std::string& url, const std::string& name) {
  PGconn* c = PQconnectdb(url.c_str());
  Status s = PQstatus(c) == CONNECTION_OK
                 ? Exec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " + name +
                               " CASCADE; CREATE SCHEMA " + name)
                 : Status::IOError(std::string("postgres bench: ") + PQerrorMessage(c));
  PQfinish(c);
  if (!s.ok()) return s;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name;
}

Instant Now() { return *ParseInstant("2025-03-31T10:00", 8 * 60); }

Result<double> EngineRow(const std::string& url, int engines, int clients, double seconds,
                         std::uint64_t& syncs, std::uint64_t& commands_out) {
  std::vector<std::unique_ptr<Engine>> es;
  for (int i = 0; i < engines; ++i) {
    EngineOptions eo;
    eo.path = url + "&caseloop_projections=e" + std::to_string(i);
    eo.clock = std::make_shared<ManualClock>(Now());
    Result<std::unique_ptr<Engine>> opened = Engine::Open(eo);
    if (!opened.ok()) return Annotate(opened.status(), "postgres: opening an engine");
    es.push_back(std::move(opened).value());
    if (i == 0) CASELOOP_RETURN_IF_ERROR(ConfigureBench(*es[0]));
  }
  std::atomic<std::uint64_t> next_case{0}, events{0}, commands{0};
  std::mutex mu;
  Status error;
  const auto t0 = SteadyClock::now();
  const auto stop = t0 + std::chrono::duration<double>(seconds);
  RunThreads(clients, [&](int t) {
    Engine& e = *es[static_cast<std::size_t>(t % engines)];
    while (SteadyClock::now() < stop) {
      const std::uint64_t i = next_case.fetch_add(1);
      for (const Command& c : ClosedCaseCommands(i, std::nullopt)) {
        Result<CommandAck> ack = e.Submit(c);
        if (!ack.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.ok()) error = Annotate(ack.status(), "postgres: " + std::string(Name(c.type)));
          return;
        }
        events.fetch_add(ack->last_position - ack->first_position + 1);
        commands.fetch_add(1);
      }
    }
  });
  const double secs = SecondsSince(t0);
  syncs = 0;
  for (auto& e : es) {
    syncs += e->SyncCount();
    (void)e->Close();
  }
  if (!error.ok()) return error;
  commands_out = commands.load();
  return static_cast<double>(events.load()) / secs;
}

Result<double> RawRow(const std::string& url, int clients, double seconds) {
  {
    // The same tables, made by the backend.
    Result<Storage> s = OpenPostgresStorage(url + "&caseloop_projections=raw");
    if (!s.ok()) return s.status();
    (void)s->log->Close();
  }
  Instant now = Now();
  Result<std::vector<std::vector<CaseEvent>>> decided =
      DecideCase(ClosedCaseCommands(0, std::nullopt), BenchConfig(), now);
  if (!decided.ok()) return decided.status();
  std::vector<std::vector<NewEvent>> tmpl;
  for (const auto& per : *decided) {
    std::vector<NewEvent> ev;
    for (const CaseEvent& e : per) ev.push_back(EncodeCaseEvent(e));
    tmpl.push_back(std::move(ev));
  }
  std::atomic<std::uint64_t> next_case{0}, position{0}, events{0};
  std::mutex mu;
  Status error;
  const auto t0 = SteadyClock::now();
  const auto stop = t0 + std::chrono::duration<double>(seconds);
  RunThreads(clients, [&](int) {
    PGconn* c = PQconnectdb(url.c_str());
    auto fail = [&](Status s) {
      std::lock_guard<std::mutex> lock(mu);
      if (error.ok()) error = s;
    };
    if (PQstatus(c) != CONNECTION_OK) {
      fail(Status::IOError(std::string("postgres raw: ") + PQerrorMessage(c)));
      PQfinish(c);
      return;
    }
    while (SteadyClock::now() < stop) {
      const std::string stream = CaseId(next_case.fetch_add(1));
      std::uint64_t version = 0;
      for (const auto& per : tmpl) {
        const std::uint64_t first = position.fetch_add(per.size()) + 1;
        std::vector<std::string> values;
        std::string sql = "WITH l AS (INSERT INTO caseloop_log VALUES ";
        for (std::size_t k = 0; k < per.size(); ++k) {
          const NewEvent& e = per[k];
          const int b = static_cast<int>(values.size());
          sql +=
              fmt::format("{}(${},${},${},${},${},${},${},${},${},${},${},${}::bytea)", k ? "," : "", b + 1,
                          b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12);
          for (const std::string& v : {std::to_string(first + k), stream, std::to_string(++version), e.type,
                                       std::to_string(e.schema_version), std::to_string(e.recorded_us),
                                       fmt::format("{:032x}", first + k), std::string(), e.correlation_id,
                                       e.causation_id, e.actor, e.payload}) {
            values.push_back(v);
          }
        }
        sql += fmt::format(
            ") INSERT INTO caseloop_streams VALUES (${}, ${}) ON CONFLICT (stream) DO UPDATE SET "
            "version = EXCLUDED.version",
            values.size() + 1, values.size() + 2);
        values.push_back(stream);
        values.push_back(std::to_string(version));
        std::vector<const char*> p;
        std::vector<int> lengths, formats;
        for (std::size_t k = 0; k < values.size(); ++k) {
          p.push_back(values[k].c_str());
          lengths.push_back(static_cast<int>(values[k].size()));
          formats.push_back(k % 12 == 11 && k < values.size() - 2 ? 1 : 0);  // the payload in binary
        }
        PGresult* r = PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, p.data(),
                                   lengths.data(), formats.data(), 0);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) fail(Status::IOError(std::string("postgres raw insert: ") + PQresultErrorMessage(r)));
        PQclear(r);
        if (!ok) {
          PQfinish(c);
          return;
        }
        events.fetch_add(per.size());
      }
    }
    PQfinish(c);
  });
  const double secs = SecondsSince(t0);
  if (!error.ok()) return error;
  return static_cast<double>(events.load()) / secs;
}

}  // namespace

Status RunPostgres(Context& ctx, Report& report) {
  Result<std::string> url = ServerUrl();
  if (!url.ok()) return url.status();
  const double seconds = ctx.options.quick ? 0.5 : 5.0;
  int n = 0;
  for (int clients : {1, 8, 64}) {
    Result<std::string> raw_url = FreshSchema(*url, "bench_raw_" + std::to_string(n++));
    if (!raw_url.ok()) return raw_url.status();
    Result<double> raw = RawRow(*raw_url, clients, seconds);
    if (!raw.ok()) return raw.status();
    for (int engines : {1, 3}) {
      Result<std::string> eu = FreshSchema(*url, "bench_engine_" + std::to_string(n++));
      if (!eu.ok()) return eu.status();
      std::uint64_t syncs = 0, commands = 0;
      Result<double> eps = EngineRow(*eu, engines, clients, seconds, syncs, commands);
      if (!eps.ok()) return eps.status();
      Row row("postgres", Durability::kSync, clients);
      row.Set("events_per_s", *eps);
      row.SetInt("engines", engines);
      row.Set("raw_libpq_events_per_s", *raw);
      row.Set("ratio", Ratio(*eps, *raw), 3);
      row.Set("commits_per_cmd",
              commands ? std::optional<double>(double(syncs) / double(commands)) : std::nullopt, 3);
      report.Add(std::move(row));
    }
  }
  return Status::Ok();
}

}  // namespace caseloop::bench

#else

namespace caseloop::bench {
Status RunPostgres(Context&, Report&) {
  return Status::Unavailable("postgres: this build has no PostgreSQL backend (CASELOOP_POSTGRES=OFF)");
}
}  // namespace caseloop::bench

#endif
