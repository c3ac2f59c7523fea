// OpenPostgresStorage: the log and the projection storage in PostgreSQL
// tables (docs/format.md, "PostgreSQL"; docs/scale.md for several engines).
//
// libpq, not libpqxx: libpq is the one client library every PostgreSQL
// installation ships (Debian libpq-dev, a C ABI that does not change with the
// compiler), it gives binary parameters and results without a text round
// trip, and the few calls this store makes fit in a small RAII wrapper here;
// libpqxx would add a C++ library (and its exceptions) to the link of every
// embedder for no feature this store uses.
//
// Positions. Every appending transaction first locks the one row of
// caseloop_head (SELECT ... FOR UPDATE), takes its positions from it and
// writes it back. So appending transactions run one after another across all
// engines, their positions follow their commit order, and PostgreSQL makes a
// transaction visible before the next one can take the row lock: a reader
// that sees position p sees every position below p (no gaps, no event that
// commits later with a lower position). Group commit keeps this cheap: one
// engine writes all the appends queued meanwhile in one transaction, so the
// lock is taken once per group, not once per append.
#include "store/postgres_store.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "core/utf8.h"
#include "store/store_internal.h"

namespace caseloop {
namespace {

using namespace store_internal;

// The schema version this build creates and reads (caseloop_schema_version).
constexpr int kPgSchemaVersion = 1;
// The first key of caseloop's advisory locks ("cslp").
constexpr int kLockClass = 0x63736c70;

constexpr unsigned kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt4Oid = 23, kTextOid = 25;

const char* const kSchemaSql[] = {
    "CREATE TABLE caseloop_schema_version (version integer NOT NULL, "
    "  applied_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE caseloop_head (id smallint PRIMARY KEY CHECK (id = 1), position bigint NOT NULL)",
    "INSERT INTO caseloop_head VALUES (1, 0)",
    "CREATE TABLE caseloop_log (position bigint PRIMARY KEY, stream text COLLATE \"C\" NOT NULL, "
    "  version bigint NOT NULL, type text NOT NULL, schema_version integer NOT NULL, "
    "  recorded_us bigint NOT NULL, event_id text NOT NULL, command_id text NOT NULL, "
    "  correlation_id text NOT NULL, causation_id text NOT NULL, actor text NOT NULL, "
    "  payload bytea NOT NULL, UNIQUE (stream, version))",
    "CREATE TABLE caseloop_streams (stream text COLLATE \"C\" PRIMARY KEY, version bigint NOT NULL)",
    "CREATE TABLE caseloop_commands (command_id text COLLATE \"C\" PRIMARY KEY, "
    "  stream text COLLATE \"C\" NOT NULL, first_position bigint NOT NULL, last_position bigint NOT NULL, "
    "  next_expected_version bigint NOT NULL)",
    "CREATE TABLE caseloop_projection_kv (scope text COLLATE \"C\" NOT NULL, key bytea NOT NULL, "
    "  value bytea NOT NULL, PRIMARY KEY (scope, key))",
    "CREATE TABLE caseloop_checkpoints (scope text COLLATE \"C\" NOT NULL, name text COLLATE \"C\" NOT NULL, "
    "  position bigint NOT NULL, PRIMARY KEY (scope, name))",
};

constexpr char kEventColumns[] =
    "position, stream, version, type, schema_version, recorded_us, event_id, command_id, correlation_id, "
    "causation_id, actor, payload";

// ---- libpq in RAII -----------------------------------------------------------

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Parameters, all sent in binary.
class Params {
 public:
  Params& Text(std::string_view s) { return Add(std::string(s), kTextOid); }
  Params& Bytes(std::string_view s) { return Add(std::string(s), kByteaOid); }
  Params& Int8(std::int64_t v) {
    std::uint64_t u = static_cast<std::uint64_t>(v);
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, u >>= 8) s[i] = static_cast<char>(u & 0xFF);
    return Add(std::move(s), kInt8Oid);
  }
  Params& Int4(std::int32_t v) {
    std::uint32_t u = htonl(static_cast<std::uint32_t>(v));
    std::string s(4, '\0');
    std::memcpy(s.data(), &u, 4);
    return Add(std::move(s), kInt4Oid);
  }
  Params& Bool(bool b) { return Add(std::string(1, b ? '\1' : '\0'), kBoolOid); }
  int size() const { return static_cast<int>(values_.size()); }

  PgResult Exec(PGconn* c, const std::string& sql) const {
    std::vector<const char*> v;
    std::vector<int> lengths, formats;
    for (const std::string& s : values_) {
      v.push_back(s.data());
      lengths.push_back(static_cast<int>(s.size()));
      formats.push_back(1);
    }
    return PgResult(PQexecParams(c, sql.c_str(), size(), types_.data(), v.data(), lengths.data(),
                                 formats.data(), /*resultFormat=*/1));
  }

 private:
  Params& Add(std::string s, unsigned oid) {
    values_.push_back(std::move(s));
    types_.push_back(oid);
    return *this;
  }
  std::deque<std::string> values_;  // stable addresses
  std::vector<Oid> types_;
};

std::int64_t GetInt(const PGresult* r, int row, int col) {
  const char* p = PQgetvalue(r, row, col);
  int n = PQgetlength(r, row, col);
  std::uint64_t u = 0;
  for (int i = 0; i < n; ++i) u = (u << 8) | static_cast<unsigned char>(p[i]);
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(u));
  return static_cast<std::int64_t>(u);
}
std::string_view GetStr(const PGresult* r, int row, int col) {
  return std::string_view(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
}
bool IsNull(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }

// Whether a failed call lost the connection (the server went away, restarted,
// or closed it): the connection is then dropped and made again.
bool ConnectionLost(PGconn* c, const PGresult* r) {
  if (PQstatus(c) != CONNECTION_OK) return true;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  if (!state) return r == nullptr;
  std::string_view s(state);
  return s.substr(0, 2) == "08" || s.substr(0, 3) == "57P";
}

std::string ErrorText(PGconn* c, const PGresult* r) {
  std::string m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  if (m.empty()) m = PQerrorMessage(c);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  if (const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr) {
    m += fmt::format(" (SQLSTATE {})", state);
  }
  return m;
}

// OK when `r` finished as a statement should; else IOError naming `what`.
Status CheckPg(PGconn* c, const PgResult& r, std::string_view what) {
  ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return Status::Ok();
  return Status::IOError(fmt::format("postgresql: {} failed: {}", what, ErrorText(c, r.get())));
}

Status Run(PGconn* c, const std::string& sql, std::string_view what) {
  return CheckPg(c, PgResult(PQexecParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 1)), what);
}

// A text field of an event: PostgreSQL text is UTF-8 without NUL bytes.
Status CheckText(std::string_view stream, std::string_view s, std::string_view what) {
  if (s.find('\0') != std::string_view::npos || !IsValidUtf8(s)) {
    return Status::InvalidArgument(fmt::format(
        "stream {}: {} is not UTF-8 text without NUL bytes (the PostgreSQL store keeps it as text)",
        Printable(stream), what));
  }
  return Status::Ok();
}

EventRecord RecordAt(const PGresult* r, int row) {
  EventRecord e;
  e.position = static_cast<std::uint64_t>(GetInt(r, row, 0));
  e.stream = GetStr(r, row, 1);
  e.version = static_cast<std::uint64_t>(GetInt(r, row, 2));
  e.type = GetStr(r, row, 3);
  e.schema_version = static_cast<std::uint32_t>(GetInt(r, row, 4));
  e.recorded_us = GetInt(r, row, 5);
  e.event_id = GetStr(r, row, 6);
  e.command_id = GetStr(r, row, 7);
  e.correlation_id = GetStr(r, row, 8);
  e.causation_id = GetStr(r, row, 9);
  e.actor = GetStr(r, row, 10);
  e.payload = GetStr(r, row, 11);
  return e;
}

std::int64_t Limit(std::size_t max) {
  return max > static_cast<std::size_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(max);
}

// Splits caseloop's own parameters off a connection URI.
struct ParsedUrl {
  std::string conninfo;  // what libpq gets
  std::string scope = "main";
};
Result<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl out;
  std::size_t q = url.find('?');
  if (q == std::string::npos) {
    out.conninfo = url;
    return out;
  }
  out.conninfo = url.substr(0, q);
  std::string rest = url.substr(q + 1);
  std::vector<std::string> kept;
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t amp = rest.find('&', start);
    std::string item = rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    constexpr std::string_view kScope = "caseloop_projections=";
    if (item.rfind(kScope, 0) == 0) {
      out.scope = item.substr(kScope.size());
      if (out.scope.empty() || out.scope.size() > 64 || !IsValidUtf8(out.scope) ||
          out.scope.find_first_of("%&=#") != std::string::npos) {
        return Status::InvalidArgument(fmt::format(
            "postgresql URI: caseloop_projections must be 1..64 bytes of text without %&=#, got {}",
            QuotedText(out.scope)));
      }
    } else if (!item.empty()) {
      kept.push_back(item);
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  for (std::size_t i = 0; i < kept.size(); ++i) out.conninfo += (i == 0 ? "?" : "&") + kept[i];
  return out;
}

// The URI without its password, for messages.
std::string Redacted(const std::string& url) { return PathForMessages(url); }

// ---- the store ---------------------------------------------------------------

class PostgresStore final : public EventStore, public ProjectionStore {
 public:
  PostgresStore(std::string url, ParsedUrl parsed, const StoreOptions& options)
      : url_(std::move(url)),
        conninfo_(std::move(parsed.conninfo)),
        scope_(std::move(parsed.scope)),
        options_(options) {}

  ~PostgresStore() override { (void)Close(); }

  Status Open() {
    Result<Conn> c = Connect();
    if (!c.ok()) return c.status();
    CASELOOP_RETURN_IF_ERROR(Migrate(c->get()));
    if (!options_.read_only) {
      // The projection scope: one open storage at a time (session lock,
      // held by this connection for the store's life).
      PgResult r =
          Params()
              .Int4(kLockClass)
              .Text(scope_)
              .Exec(c->get(), "SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '/' || $2))");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c->get(), r, "locking the projection scope"));
      if (GetInt(r.get(), 0, 0) == 0) {
        return Status::IOError(fmt::format(
            "postgresql {}: projection scope '{}' is in use by another engine (give each engine its own "
            "with ?caseloop_projections=NAME)",
            Redacted(url_), scope_));
      }
      lock_conn_ = std::move(c).value();
      Result<Conn> w = Connect();
      if (!w.ok()) return w.status();
      writer_conn_ = std::move(w).value();
      writer_ = std::thread([this] { WriterLoop(); });
    } else {
      Release(std::move(c).value());
    }
    CASELOOP_RETURN_IF_ERROR(RefreshHead());
    return Status::Ok();
  }

  // ---- EventStore ----

  Result<AppendResult> Append(std::string_view stream, ExpectedVersion expected, std::vector<NewEvent> events,
                              const AppendOptions& options) override {
    std::promise<Result<AppendResult>> p;
    auto f = p.get_future();
    AppendAsync(std::string(stream), expected, std::move(events), options,
                [&p](Result<AppendResult> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  void AppendAsync(std::string stream, ExpectedVersion expected, std::vector<NewEvent> events,
                   AppendOptions options, std::function<void(Result<AppendResult>)> done) override {
    Status s = PrepareAppend(stream, events, options);
    if (s.ok()) s = CheckTexts(stream, events, options);
    if (s.ok() && options_.read_only) {
      s = Status::IOError(fmt::format("postgresql {}: the store is open read-only", Redacted(url_)));
    }
    if (!s.ok()) {
      done(s);
      return;
    }
    {
      std::lock_guard l(queue_mu_);
      if (closed_) {
        s = Status::Unavailable("event store is closed");
      } else {
        queue_.push_back(
            Pending{std::move(stream), expected, std::move(events), std::move(options), std::move(done)});
      }
    }
    if (!s.ok()) {
      done(s);
      return;
    }
    queue_cv_.notify_one();
  }

  Result<std::vector<EventRecord>> ReadStream(std::string_view stream, std::uint64_t from_version,
                                              std::size_t max) override {
    CASELOOP_RETURN_IF_ERROR(ValidateStream(stream));
    std::vector<EventRecord> out;
    if (max == 0) return out;
    Status s = WithConn("reading a stream", [&](PGconn* c) -> Status {
      out.clear();
      PgResult r = Params()
                       .Text(stream)
                       .Int8(static_cast<std::int64_t>(std::max<std::uint64_t>(from_version, 1)))
                       .Int8(Limit(max))
                       .Exec(c, fmt::format("SELECT {} FROM caseloop_log WHERE stream = $1 AND version >= $2 "
                                            "ORDER BY version LIMIT $3",
                                            kEventColumns));
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "reading a stream"));
      for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(RecordAt(r.get(), i));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<std::vector<EventRecord>> ReadAll(std::uint64_t from, std::size_t max) override {
    std::vector<EventRecord> out;
    Status s = ScanAll(from, max, [&](const EventRecordView& v) {
      EventRecord e;
      e.position = v.position;
      e.stream = v.stream;
      e.version = v.version;
      e.type = v.type;
      e.schema_version = v.schema_version;
      e.recorded_us = v.recorded_us;
      e.event_id = v.event_id;
      e.command_id = v.command_id;
      e.correlation_id = v.correlation_id;
      e.causation_id = v.causation_id;
      e.actor = v.actor;
      e.payload = v.payload;
      out.push_back(std::move(e));
      return true;
    });
    if (!s.ok()) return s;
    return out;
  }

  // Pages of at most 1000 events, so that a scan of the whole log (catch-up,
  // rebuild) holds one page in memory.
  Status ScanAll(std::uint64_t from, std::size_t max,
                 const std::function<bool(const EventRecordView&)>& visit) override {
    std::uint64_t next = std::max<std::uint64_t>(from, 1);
    std::size_t left = max;
    while (left > 0) {
      const std::size_t page = std::min<std::size_t>(left, 1000);
      PgResult rows;
      Status s = WithConn("reading the log", [&](PGconn* c) -> Status {
        rows = Params()
                   .Int8(static_cast<std::int64_t>(next))
                   .Int8(static_cast<std::int64_t>(page))
                   .Exec(c, fmt::format("SELECT {} FROM caseloop_log WHERE position >= $1 ORDER BY position "
                                        "LIMIT $2",
                                        kEventColumns));
        return CheckPg(c, rows, "reading the log");
      });
      CASELOOP_RETURN_IF_ERROR(s);
      const int n = PQntuples(rows.get());
      for (int i = 0; i < n; ++i) {
        const PGresult* r = rows.get();
        EventRecordView v;
        v.position = static_cast<std::uint64_t>(GetInt(r, i, 0));
        if (v.position != next) {
          return Status::Corruption(
              fmt::format("postgresql log: position {} follows {} (a gap)", v.position, next - 1));
        }
        v.stream = GetStr(r, i, 1);
        v.version = static_cast<std::uint64_t>(GetInt(r, i, 2));
        v.type = GetStr(r, i, 3);
        v.schema_version = static_cast<std::uint32_t>(GetInt(r, i, 4));
        v.recorded_us = GetInt(r, i, 5);
        v.event_id = GetStr(r, i, 6);
        v.command_id = GetStr(r, i, 7);
        v.correlation_id = GetStr(r, i, 8);
        v.causation_id = GetStr(r, i, 9);
        v.actor = GetStr(r, i, 10);
        v.payload = GetStr(r, i, 11);
        ++next;
        --left;
        if (!visit(v)) return Status::Ok();
      }
      if (static_cast<std::size_t>(n) < page) break;
    }
    return Status::Ok();
  }

  // The head: this store's own appends at once (the head moves before an
  // append is acknowledged), other engines' appends as read from the
  // database at most 20 ms ago (a round trip per call would double the
  // queries of the projector's loop); when the database cannot be reached,
  // the last head this store saw.
  std::uint64_t HeadPosition() const override {
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    if (now - head_read_ns_.load() >= 20'000'000) {
      head_read_ns_.store(now);
      (void)const_cast<PostgresStore*>(this)->RefreshHead();
    }
    return head_.load();
  }

  Result<std::uint64_t> StreamVersion(std::string_view stream) override {
    std::uint64_t v = 0;
    Status s = WithConn("reading a stream version", [&](PGconn* c) -> Status {
      PgResult r = Params().Text(stream).Exec(c, "SELECT version FROM caseloop_streams WHERE stream = $1");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "reading a stream version"));
      v = PQntuples(r.get()) == 0 ? 0 : static_cast<std::uint64_t>(GetInt(r.get(), 0, 0));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return v;
  }

  Result<std::vector<std::string>> ListStreams(std::string_view after, std::size_t max) override {
    std::vector<std::string> out;
    Status s = WithConn("listing streams", [&](PGconn* c) -> Status {
      out.clear();
      PgResult r =
          Params()
              .Text(after)
              .Int8(Limit(max))
              .Exec(c, "SELECT stream FROM caseloop_streams WHERE stream > $1 ORDER BY stream LIMIT $2");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "listing streams"));
      for (int i = 0; i < PQntuples(r.get()); ++i) out.emplace_back(GetStr(r.get(), i, 0));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return out;
  }

  Result<std::vector<std::string>> Check() override {
    std::vector<std::string> problems;
    Status s = WithConn("checking the log", [&](PGconn* c) -> Status {
      problems.clear();
      CASELOOP_RETURN_IF_ERROR(Run(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "checking the log"));
      PgResult r =
          Params().Exec(c,
                        "SELECT (SELECT position FROM caseloop_head), count(*), coalesce(min(position), 0), "
                        "coalesce(max(position), 0) FROM caseloop_log");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "checking the log"));
      const std::int64_t head = GetInt(r.get(), 0, 0), count = GetInt(r.get(), 0, 1),
                         min = GetInt(r.get(), 0, 2), max = GetInt(r.get(), 0, 3);
      if (count != max || (count > 0 && min != 1)) {
        problems.push_back(
            fmt::format("log positions are not gap-free: {} events, positions {}..{}", count, min, max));
      }
      if (head != max)
        problems.push_back(fmt::format("head position {} but the last event is at {}", head, max));
      PgResult v = Params().Exec(
          c,
          "SELECT coalesce(s.stream, l.stream), s.version, l.n, l.maxv FROM caseloop_streams s FULL JOIN "
          "(SELECT stream, count(*) AS n, max(version) AS maxv FROM caseloop_log GROUP BY stream) l "
          "ON l.stream = s.stream WHERE s.version IS DISTINCT FROM l.n OR l.n IS DISTINCT FROM l.maxv LIMIT "
          "100");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, v, "checking the stream index"));
      for (int i = 0; i < PQntuples(v.get()); ++i) {
        auto num = [&](int col) {
          return IsNull(v.get(), i, col) ? std::string("none") : std::to_string(GetInt(v.get(), i, col));
        };
        problems.push_back(fmt::format("stream {}: index version {}, {} events in the log, last version {}",
                                       Printable(GetStr(v.get(), i, 0)), num(1), num(2), num(3)));
      }
      return Run(c, "COMMIT", "checking the log");
    });
    if (!s.ok()) return s;
    return problems;
  }

  // Every commit is in the server's WAL already; a synchronous commit flushes
  // it up to here (appends committed with synchronous_commit off included).
  Status Flush() override {
    {
      std::lock_guard l(queue_mu_);
      if (closed_) return Status::Unavailable("event store is closed");
    }
    if (options_.read_only) return Status::Ok();
    return WithConn("flushing", [&](PGconn* c) -> Status {
      CASELOOP_RETURN_IF_ERROR(Run(c, "BEGIN", "flushing"));
      CASELOOP_RETURN_IF_ERROR(Run(c, "SET LOCAL synchronous_commit = on", "flushing"));
      CASELOOP_RETURN_IF_ERROR(Run(c, "SELECT txid_current()", "flushing"));
      CASELOOP_RETURN_IF_ERROR(Run(c, "COMMIT", "flushing"));
      ++syncs_;
      return Status::Ok();
    });
  }

  std::uint64_t SyncCount() const override { return syncs_.load(); }

  Status Close() override {
    {
      std::lock_guard l(queue_mu_);
      if (closed_) return Status::Unavailable("event store is closed");
      closed_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();  // drains the queue first
    std::lock_guard l(pool_mu_);
    pool_.clear();
    writer_conn_.reset();
    lock_conn_.reset();  // releases the projection scope
    return Status::Ok();
  }

  // ---- ProjectionStore ----

  Status CommitProjection(std::string_view name, const std::vector<KvOp>& ops,
                          std::uint64_t checkpoint) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    CASELOOP_RETURN_IF_ERROR(CheckWritable());
    // The last op on each key decides; then one DELETE and one upsert.
    std::map<std::string_view, const KvOp*> last;
    for (const KvOp& op : ops) last[op.key] = &op;
    std::string deletes = "{", put_keys = "{", put_values = "{";
    auto add = [](std::string& array, std::string_view bytes) {
      if (array.size() > 1) array += ',';
      array += "\"\\\\x";
      static const char* hex = "0123456789abcdef";
      for (unsigned char ch : bytes) {
        array += hex[ch >> 4];
        array += hex[ch & 15];
      }
      array += '"';
    };
    for (const auto& [key, op] : last) {
      if (op->kind == KvOp::Kind::kPut) {
        add(put_keys, key);
        add(put_values, op->value);
      } else {
        add(deletes, key);
      }
    }
    deletes += '}';
    put_keys += '}';
    put_values += '}';
    // One statement, so one atomic write and one round trip (the last op on
    // each key decided above, so the DELETE and the upsert touch different
    // keys). Pool connections commit with synchronous_commit off (Connect):
    // derived state, redone from the older checkpoint when a server crash
    // loses it, as kBuffered in every mode.
    return WithConn("committing a projection", [&](PGconn* c) -> Status {
      PgResult r =
          Params()
              .Text(scope_)
              .Text(name)
              .Int8(static_cast<std::int64_t>(checkpoint))
              .Text(deletes)
              .Text(put_keys)
              .Text(put_values)
              .Exec(c,
                    "WITH d AS (DELETE FROM caseloop_projection_kv WHERE scope = $1 AND "
                    "key = ANY($4::text::bytea[])), "
                    "u AS (INSERT INTO caseloop_projection_kv (scope, key, value) SELECT $1, k, v FROM "
                    "unnest($5::text::bytea[], $6::text::bytea[]) AS x(k, v) "
                    "ON CONFLICT (scope, key) DO UPDATE SET value = EXCLUDED.value) "
                    "INSERT INTO caseloop_checkpoints (scope, name, position) VALUES ($1, $2, $3) "
                    "ON CONFLICT (scope, name) DO UPDATE SET position = EXCLUDED.position");
      return CheckPg(c, r, "committing a projection");
    });
  }

  Result<std::uint64_t> ProjectionCheckpoint(std::string_view name) override {
    std::uint64_t v = 0;
    Status s = WithConn("reading a checkpoint", [&](PGconn* c) -> Status {
      PgResult r = Params().Text(scope_).Text(name).Exec(
          c, "SELECT position FROM caseloop_checkpoints WHERE scope = $1 AND name = $2");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "reading a checkpoint"));
      v = PQntuples(r.get()) == 0 ? 0 : static_cast<std::uint64_t>(GetInt(r.get(), 0, 0));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return v;
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    std::optional<std::string> v;
    Status s = WithConn("reading a projection key", [&](PGconn* c) -> Status {
      PgResult r = Params().Text(scope_).Bytes(key).Exec(
          c, "SELECT value FROM caseloop_projection_kv WHERE scope = $1 AND key = $2");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "reading a projection key"));
      v.reset();
      if (PQntuples(r.get()) > 0) v = std::string(GetStr(r.get(), 0, 0));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return v;
  }

  // Pages of 1000 keys; fn runs with no connection held.
  Status Scan(std::string_view start, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    std::string from(start);
    bool inclusive = true;
    for (;;) {
      PgResult rows;
      Status s = WithConn("scanning projections", [&](PGconn* c) -> Status {
        rows = Params()
                   .Text(scope_)
                   .Bytes(from)
                   .Bool(inclusive)
                   .Bytes(end)
                   .Bool(end.empty())
                   .Exec(c,
                         "SELECT key, value FROM caseloop_projection_kv WHERE scope = $1 AND "
                         "(key > $2 OR ($3 AND key = $2)) AND ($5 OR key < $4) ORDER BY key LIMIT 1000");
        return CheckPg(c, rows, "scanning projections");
      });
      CASELOOP_RETURN_IF_ERROR(s);
      const int n = PQntuples(rows.get());
      for (int i = 0; i < n; ++i) {
        if (!fn(GetStr(rows.get(), i, 0), GetStr(rows.get(), i, 1))) return Status::Ok();
      }
      if (n < 1000) return Status::Ok();
      from = std::string(GetStr(rows.get(), n - 1, 0));
      inclusive = false;
    }
  }

  Status ResetProjection(std::string_view name, std::string_view prefix) override {
    if (name.empty()) return Status::InvalidArgument("projection name is empty");
    CASELOOP_RETURN_IF_ERROR(CheckWritable());
    const std::string end = PrefixSuccessor(prefix);
    return WithConn("resetting a projection", [&](PGconn* c) -> Status {
      CASELOOP_RETURN_IF_ERROR(Run(c, "BEGIN", "resetting a projection"));
      PgResult d =
          Params()
              .Text(scope_)
              .Bytes(prefix)
              .Bytes(end)
              .Bool(end.empty())
              .Exec(c,
                    "DELETE FROM caseloop_projection_kv WHERE scope = $1 AND key >= $2 AND ($4 OR key < $3)");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, d, "resetting a projection"));
      PgResult r = Params().Text(scope_).Text(name).Exec(
          c,
          "INSERT INTO caseloop_checkpoints (scope, name, position) VALUES ($1, $2, 0) "
          "ON CONFLICT (scope, name) DO UPDATE SET position = 0");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "resetting a projection"));
      return Run(c, "COMMIT", "resetting a projection");
    });
  }

 private:
  struct Pending {
    std::string stream;
    ExpectedVersion expected;
    std::vector<NewEvent> events;
    AppendOptions options;
    std::function<void(Result<AppendResult>)> done;
  };

  Status CheckTexts(std::string_view stream, const std::vector<NewEvent>& events,
                    const AppendOptions& options) {
    CASELOOP_RETURN_IF_ERROR(CheckText(stream, stream, "the stream name"));
    CASELOOP_RETURN_IF_ERROR(CheckText(stream, options.command_id, "the command id"));
    for (const NewEvent& e : events) {
      CASELOOP_RETURN_IF_ERROR(CheckText(stream, e.type, "an event type"));
      CASELOOP_RETURN_IF_ERROR(CheckText(stream, e.event_id, "an event id"));
      CASELOOP_RETURN_IF_ERROR(CheckText(stream, e.actor, "an actor"));
      CASELOOP_RETURN_IF_ERROR(CheckText(stream, e.correlation_id, "a correlation id"));
      CASELOOP_RETURN_IF_ERROR(CheckText(stream, e.causation_id, "a causation id"));
    }
    return Status::Ok();
  }

  Status CheckWritable() {
    {
      std::lock_guard l(queue_mu_);
      if (closed_) return Status::Unavailable("event store is closed");
    }
    if (options_.read_only) {
      return Status::IOError(fmt::format("postgresql {}: the store is open read-only", Redacted(url_)));
    }
    return Status::Ok();
  }

  Result<Conn> Connect() const {
    Conn c(PQconnectdb(conninfo_.c_str()));
    if (!c || PQstatus(c.get()) != CONNECTION_OK) {
      std::string m = c ? PQerrorMessage(c.get()) : "out of memory";
      while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
      return Status::IOError(fmt::format("postgresql {}: cannot connect: {}", Redacted(url_), m));
    }
    // Quiet NOTICEs (e.g. "relation already exists") on stderr.
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    PgResult r(PQexec(c.get(), "SET client_min_messages = warning; SET synchronous_commit = off"));
    return c;
  }

  // Runs fn on a pooled connection; once more on a new connection when the
  // first one was lost (a server restart closes idle connections).
  Status WithConn(std::string_view what, const std::function<Status(PGconn*)>& fn) {
    {
      std::lock_guard l(queue_mu_);
      if (closed_) return Status::Unavailable("event store is closed");
    }
    for (int attempt = 0;; ++attempt) {
      Conn c;
      {
        std::lock_guard l(pool_mu_);
        if (!pool_.empty()) {
          c = std::move(pool_.back());
          pool_.pop_back();
        }
      }
      if (!c) {
        Result<Conn> made = Connect();
        if (!made.ok()) return made.status();
        c = std::move(made).value();
      }
      Status s = fn(c.get());
      const bool lost = !s.ok() && PQstatus(c.get()) != CONNECTION_OK;
      if (!s.ok() && !lost && PQtransactionStatus(c.get()) != PQTRANS_IDLE) {
        PgResult r(PQexec(c.get(), "ROLLBACK"));
      }
      if (lost) {
        if (attempt == 0) continue;  // the connection is dropped
        return Status::IOError(
            fmt::format("postgresql {}: {}: connection lost: {}", Redacted(url_), what, s.message()));
      }
      Release(std::move(c));
      return s;
    }
  }

  void Release(Conn c) {
    if (!c || PQstatus(c.get()) != CONNECTION_OK || PQtransactionStatus(c.get()) != PQTRANS_IDLE) return;
    std::lock_guard l(pool_mu_);
    if (pool_.size() < 16) pool_.push_back(std::move(c));
  }

  Status RefreshHead() {
    return WithConn("reading the head", [&](PGconn* c) -> Status {
      PgResult r = Params().Exec(c, "SELECT position FROM caseloop_head WHERE id = 1");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, r, "reading the head"));
      if (PQntuples(r.get()) != 1) return Status::Corruption("postgresql: caseloop_head has no row");
      std::uint64_t h = static_cast<std::uint64_t>(GetInt(r.get(), 0, 0));
      std::uint64_t seen = head_.load();
      while (h > seen && !head_.compare_exchange_weak(seen, h)) {
      }
      return Status::Ok();
    });
  }

  // Creates the tables in a database without them, or checks their version.
  // Engines opening one database at once are serialized by an advisory lock.
  Status Migrate(PGconn* c) {
    const std::string where = fmt::format("postgresql {}", Redacted(url_));
    CASELOOP_RETURN_IF_ERROR(Run(c, "BEGIN", "creating the schema"));
    PgResult lock = Params()
                        .Int4(kLockClass)
                        .Exec(c, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/schema'))");
    if (Status s = CheckPg(c, lock, "creating the schema"); !s.ok()) return s;
    PgResult exists = Params().Exec(c, "SELECT to_regclass('caseloop_schema_version') IS NOT NULL");
    CASELOOP_RETURN_IF_ERROR(CheckPg(c, exists, "reading the schema version"));
    int version = 0;
    if (GetInt(exists.get(), 0, 0) != 0) {
      PgResult v = Params().Exec(c, "SELECT max(version) FROM caseloop_schema_version");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, v, "reading the schema version"));
      version = IsNull(v.get(), 0, 0) ? 0 : static_cast<int>(GetInt(v.get(), 0, 0));
    }
    if (version > kPgSchemaVersion) {
      (void)Run(c, "ROLLBACK", "");
      return Status::Corruption(
          fmt::format("{}: caseloop schema version {} is newer than this build's ({}); use a newer caseloop",
                      where, version, kPgSchemaVersion));
    }
    if (version == 0) {
      if (!options_.create_if_missing || options_.read_only) {
        (void)Run(c, "ROLLBACK", "");
        return Status::IOError(fmt::format("{}: no caseloop tables in schema (create_if_missing is off{})",
                                           where, options_.read_only ? ", opened read-only" : ""));
      }
      for (const char* sql : kSchemaSql) CASELOOP_RETURN_IF_ERROR(Run(c, sql, "creating the schema"));
      PgResult v = Params()
                       .Int4(kPgSchemaVersion)
                       .Exec(c, "INSERT INTO caseloop_schema_version (version) VALUES ($1)");
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, v, "creating the schema"));
    }
    // Later versions: migrate step by step here (version N -> N + 1), each
    // step recorded in caseloop_schema_version within this transaction.
    return Run(c, "COMMIT", "creating the schema");
  }

  // ---- the writer: group commit ----

  void WriterLoop() {
    for (;;) {
      std::vector<Pending> group;
      {
        std::unique_lock l(queue_mu_);
        queue_cv_.wait(l, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;  // closed and drained
        while (!queue_.empty() && group.size() < options_.max_group_writers) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<Result<AppendResult>> results = WriteGroup(group);
      for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
    }
  }

  // Appends `group` in one transaction; a group that fails on an error of one
  // append (not a lost connection) is written again one append at a time, so
  // that one bad append fails alone.
  std::vector<Result<AppendResult>> WriteGroup(std::vector<Pending>& group) {
    std::vector<Result<AppendResult>> results;
    bool ambiguous = false;
    Status s = WriteTransaction(group, results, ambiguous);
    if (s.ok()) return results;
    if (ambiguous && Resolve(group, results)) return results;
    results.clear();
    if (group.size() > 1 && !ambiguous && PQstatus(writer_conn_.get()) == CONNECTION_OK) {
      for (Pending& p : group) {
        std::vector<Pending> one;
        one.push_back(std::move(p));
        std::vector<Result<AppendResult>> r = WriteGroup(one);
        p = std::move(one[0]);
        results.push_back(std::move(r[0]));
      }
      return results;
    }
    for (std::size_t i = 0; i < group.size(); ++i) results.push_back(s);
    return results;
  }

  // After a commit whose outcome was lost with the connection: waits for the
  // old transaction to end (it holds caseloop_head until then) and looks for
  // the group's first event by its id. True when the group committed.
  bool Resolve(const std::vector<Pending>& group, std::vector<Result<AppendResult>>& results) {
    std::string event_id;
    std::uint64_t position = 0;
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (results.size() > i && results[i].ok() && !results[i]->duplicate) {
        event_id = group[i].events[0].event_id;
        position = results[i]->first_position;
        break;
      }
    }
    if (event_id.empty()) return false;
    if (Status s = Reconnect(); !s.ok()) return false;
    PGconn* c = writer_conn_.get();
    if (!Run(c, "BEGIN", "resolving a commit").ok()) return false;
    PgResult lock = Params().Exec(c, "SELECT position FROM caseloop_head WHERE id = 1 FOR UPDATE");
    PgResult r = Params()
                     .Int8(static_cast<std::int64_t>(position))
                     .Exec(c, "SELECT event_id FROM caseloop_log WHERE position = $1");
    const bool committed = CheckPg(c, lock, "").ok() && CheckPg(c, r, "").ok() && PQntuples(r.get()) == 1 &&
                           GetStr(r.get(), 0, 0) == event_id;
    (void)Run(c, "ROLLBACK", "");
    return committed;
  }

  Status Reconnect() {
    if (writer_conn_ && PQstatus(writer_conn_.get()) == CONNECTION_OK) return Status::Ok();
    Result<Conn> c = Connect();
    if (!c.ok()) return c.status();
    writer_conn_ = std::move(c).value();
    return Status::Ok();
  }

  Status WriteTransaction(std::vector<Pending>& group, std::vector<Result<AppendResult>>& results,
                          bool& ambiguous) {
    results.clear();
    ambiguous = false;
    CASELOOP_RETURN_IF_ERROR(Reconnect());
    PGconn* c = writer_conn_.get();
    bool sync = false;
    for (const Pending& p : group) {
      sync = sync || p.options.durability.value_or(options_.durability) == Durability::kSync;
    }
    auto fail = [&](Status s) {
      if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
        PgResult r(PQexec(c, "ROLLBACK"));
      }
      if (PQstatus(c) != CONNECTION_OK) writer_conn_.reset();
      return s;
    };
    // One round trip (simple query protocol, several statements; the last
    // one's result in text).
    PgResult head_row(PQexec(c, sync ? "BEGIN; SET LOCAL synchronous_commit = on; "
                                       "SELECT position FROM caseloop_head WHERE id = 1 FOR UPDATE"
                                     : "BEGIN; SET LOCAL synchronous_commit = off; "
                                       "SELECT position FROM caseloop_head WHERE id = 1 FOR UPDATE"));
    if (Status s = CheckPg(c, head_row, "appending (locking the head)"); !s.ok()) return fail(s);
    if (PQntuples(head_row.get()) != 1)
      return fail(Status::Corruption("postgresql: caseloop_head has no row"));
    std::uint64_t head = std::strtoull(PQgetvalue(head_row.get(), 0, 0), nullptr, 10);
    const std::uint64_t head_before = head;
    for (Pending& p : group) {
      Result<AppendResult> r = AppendOne(c, p, head);
      if (!r.ok() && r.status().IsIOError()) return fail(r.status());
      results.push_back(std::move(r));
    }
    // The head and the commit in one round trip: an error in the UPDATE
    // skips the COMMIT (and is what PQexec returns).
    const std::string finish =
        head != head_before ? fmt::format("UPDATE caseloop_head SET position = {} WHERE id = 1; COMMIT", head)
                            : std::string("COMMIT");
    PgResult commit(PQexec(c, finish.c_str()));
    if (Status s = CheckPg(c, commit, "appending (commit)"); !s.ok()) {
      ambiguous = ConnectionLost(c, commit.get());
      return fail(s);
    }
    if (sync) ++syncs_;
    std::uint64_t seen = head_.load();
    while (head > seen && !head_.compare_exchange_weak(seen, head)) {
    }
    return Status::Ok();
  }

  // One append inside the writer's transaction. Conflicts and reused command
  // ids are answers (the transaction goes on); IOError ends it.
  Result<AppendResult> AppendOne(PGconn* c, const Pending& p, std::uint64_t& head) {
    PgResult q =
        Params()
            .Text(p.stream)
            .Text(p.options.command_id)
            .Exec(c,
                  "SELECT s.version, c.stream, c.first_position, c.last_position, c.next_expected_version "
                  "FROM (SELECT 1) AS one LEFT JOIN caseloop_streams s ON s.stream = $1 "
                  "LEFT JOIN caseloop_commands c ON c.command_id = $2 AND $2 <> ''");
    CASELOOP_RETURN_IF_ERROR(CheckPg(c, q, "appending (reading the stream)"));
    const PGresult* r = q.get();
    if (!p.options.command_id.empty() && !IsNull(r, 0, 1)) {
      if (GetStr(r, 0, 1) != p.stream) return CommandReused(p.options.command_id, p.stream, GetStr(r, 0, 1));
      AppendResult dup;
      dup.first_position = static_cast<std::uint64_t>(GetInt(r, 0, 2));
      dup.last_position = static_cast<std::uint64_t>(GetInt(r, 0, 3));
      dup.next_expected_version = static_cast<std::uint64_t>(GetInt(r, 0, 4));
      dup.duplicate = true;
      return dup;
    }
    const std::uint64_t current = IsNull(r, 0, 0) ? 0 : static_cast<std::uint64_t>(GetInt(r, 0, 0));
    CASELOOP_RETURN_IF_ERROR(CheckExpected(p.stream, p.expected, current));

    AppendResult out;
    out.first_position = head + 1;
    std::uint64_t version = current;
    constexpr std::size_t kRowsPerStatement = 500;
    const std::uint64_t last_version = current + p.events.size();
    out.last_position = head + p.events.size();
    out.next_expected_version = last_version;
    // One statement per 500 events; the last one also writes the stream's
    // version and the command id (data-modifying CTEs): one round trip for
    // an append of up to 500 events.
    for (std::size_t begin = 0; begin < p.events.size(); begin += kRowsPerStatement) {
      const std::size_t end = std::min(p.events.size(), begin + kRowsPerStatement);
      const bool last = end == p.events.size();
      Params params;
      std::string sql =
          fmt::format("{}INSERT INTO caseloop_log ({}) VALUES ", last ? "WITH l AS (" : "", kEventColumns);
      for (std::size_t i = begin; i < end; ++i) {
        const NewEvent& e = p.events[i];
        const int b = params.size();
        sql +=
            fmt::format("{}(${},${},${},${},${},${},${},${},${},${},${},${})", i == begin ? "" : ",", b + 1,
                        b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12);
        params.Int8(static_cast<std::int64_t>(++head))
            .Text(p.stream)
            .Int8(static_cast<std::int64_t>(++version))
            .Text(e.type)
            .Int4(static_cast<std::int32_t>(e.schema_version))
            .Int8(e.recorded_us)
            .Text(e.event_id)
            .Text(p.options.command_id)
            .Text(e.correlation_id)
            .Text(e.causation_id)
            .Text(e.actor)
            .Bytes(e.payload);
      }
      if (last) {
        const int b = params.size();
        params.Text(p.stream).Int8(static_cast<std::int64_t>(last_version));
        sql += fmt::format(
            "), s AS (INSERT INTO caseloop_streams (stream, version) VALUES (${}, ${}) "
            "ON CONFLICT (stream) DO UPDATE SET version = EXCLUDED.version)",
            b + 1, b + 2);
        if (!p.options.command_id.empty()) {
          params.Text(p.options.command_id)
              .Int8(static_cast<std::int64_t>(out.first_position))
              .Int8(static_cast<std::int64_t>(out.last_position));
          sql += fmt::format(", c AS (INSERT INTO caseloop_commands VALUES (${}, ${}, ${}, ${}, ${}))", b + 3,
                             b + 1, b + 4, b + 5, b + 2);
        }
        sql += " SELECT 1";
      }
      PgResult ins = params.Exec(c, sql);
      CASELOOP_RETURN_IF_ERROR(CheckPg(c, ins, "appending (writing events)"));
    }
    return out;
  }

  const std::string url_;
  const std::string conninfo_;
  const std::string scope_;
  const StoreOptions options_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool closed_ = false;
  std::thread writer_;
  Conn writer_conn_;  // the writer thread's
  Conn lock_conn_;    // holds the projection scope's advisory lock

  std::mutex pool_mu_;
  std::vector<Conn> pool_;

  std::atomic<std::uint64_t> head_{0};
  mutable std::atomic<std::int64_t> head_read_ns_{INT64_MIN /
                                                  2};  // steady clock, when the head was last read
  std::atomic<std::uint64_t> syncs_{0};
};

}  // namespace

bool IsPostgresUrl(std::string_view path) { return IsDatabaseUri(path); }

bool PostgresBackendBuilt() { return true; }

Result<Storage> OpenPostgresStorage(const std::string& url, const StoreOptions& options) {
  if (!IsPostgresUrl(url)) {
    return Status::InvalidArgument(
        fmt::format("not a PostgreSQL URI (postgresql://... or postgres://...): {}", QuotedText(url)));
  }
  CASELOOP_RETURN_IF_ERROR(ValidateStoreOptions(options, "StoreOptions"));
  Result<ParsedUrl> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  auto store = std::make_shared<PostgresStore>(url, std::move(parsed).value(), options);
  CASELOOP_RETURN_IF_ERROR(store->Open());
  return Storage{store, store};
}

}  // namespace caseloop
