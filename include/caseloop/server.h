// caseloop/server.h — the case service over HTTP (`caseloop serve`), as a
// library a host application can embed.
//
//   caseloop::ServerOptions o;
//   o.port = 8311;
//   o.keys_file = "/var/lib/district/cases.keys";
//   auto server = caseloop::Server::Start(engine.get(), o);   // own threads
//   ...
//   (*server)->Stop();   // stop accepting, finish what is in flight
//   engine->Close();
//
// HTTP/1.1 with keep-alive; the staff API under /api/v1 (docs/server.md):
// every lifecycle command of the command table (caseloop/commands.h) as
// POST /api/v1/cases/{id}/{command}, the queries answering the JSON of
// caseloop/json.h, /healthz, /readyz and /metrics. Every /api request
// carries `Authorization: Bearer KEY`; the key's actor is the actor of the
// command. A 2xx answer to a command is sent only after the engine
// acknowledged it (durable at the engine's durability). TLS is left to a
// reverse proxy.
//
// Thread-safety: Start, port and Stop may be called from any thread; Stop
// must not race with itself.
#ifndef CASELOOP_SERVER_H_
#define CASELOOP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "caseloop/engine.h"
#include "caseloop/status.h"
#include "caseloop/time.h"

namespace caseloop {

struct ServerOptions {
  // The address to listen on (an IPv4 or IPv6 literal). Default: 127.0.0.1,
  // reachable only from this machine (put a reverse proxy in front for TLS).
  std::string host = "127.0.0.1";
  // The TCP port; 0 = any free port (Server::port() tells which).
  // Default: 8311.
  std::uint16_t port = 8311;
  // Threads that read and write connections and answer queries. Commands are
  // decided on the engine's workers and wait for their fsync without holding
  // a thread. Default: 2.
  int threads = 2;
  // The keys file (KeyStore below): the hashes of the API keys and their
  // actors. Reread when it changes (`caseloop keys issue` while serving).
  // "" = no keys: every /api request is answered 401. Default: "".
  std::string keys_file;
  // The directory of the engine's RocksDB store, for online backups over
  // HTTP (POST /api/v1/admin/backups, $admin keys only): BackupDatabase
  // (caseloop/backup.h) through the engine's open database. "" = backups
  // over HTTP are refused (503). Default: "".
  std::string database;
  // A request's header block larger than this is answered 431, its body 413.
  // Defaults: 16 KiB, 1 MiB.
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  // Connections open at once; more are closed at once after a 503 answer.
  // Default: 256.
  std::size_t max_connections = 256;
  // Nesting depth of a JSON body (objects and arrays); deeper is 400.
  // Default: 8 (a command body is one flat object).
  int max_json_depth = 8;
  // A request must arrive whole within this time from its first byte (a
  // client sending one byte a second is cut off), and an idle keep-alive
  // connection is closed after it. Default: 30 s.
  std::chrono::milliseconds request_timeout{30000};
  // GET /api/v1/events: events queued per stream for a client that reads
  // slowly; when the queue is full the feed is held back up to event_hold,
  // then the stream ends with an `error` event giving the reason (the client
  // resumes with Last-Event-ID: nothing is skipped). Defaults: 1024, 5 s.
  std::size_t event_buffer = 1024;
  std::chrono::milliseconds event_hold{5000};
  // Commands may carry `at` (their business time) and queries default to the
  // latest recorded instant instead of the engine's clock; a manual engine
  // clock is moved forward to a command's `at` first. For replaying a
  // recorded history (tests, demos), not for a live district: there the
  // clock is the system's and `at` is refused. Default: false.
  bool replay_time = false;
  // Open311 GeoReport v2 under /open311/v2/ (docs/open311.md): the
  // jurisdiction served. "" = one jurisdiction, any jurisdiction_id accepted;
  // else a request naming another one is answered 404. Default: "".
  std::string open311_jurisdiction;
  // The `contact` of Open311's service discovery. Default: "".
  std::string open311_contact;
  // One line per request (JSON: time, remote, method, target, status, bytes,
  // microseconds, actor), or null for none. Called on server threads.
  // Default: null.
  std::function<void(std::string_view line)> access_log;
};

class Server {
 public:
  // Listens on options.host:port and serves on its own threads.
  // REQUIRES: `engine` outlives the server (Stop it before closing the
  // engine). Errors: InvalidArgument (bad host, threads < 1), IOError (the
  // port is taken), and the keys file's errors (KeyStore::Load).
  static Result<std::unique_ptr<Server>> Start(Engine* engine, const ServerOptions& options);
  virtual ~Server() = default;  // Stops.
  // The port listened on.
  virtual std::uint16_t port() const = 0;
  // Stops accepting, answers the requests in flight (commands waiting for
  // their fsync included; /readyz says 503 from now on), closes the
  // connections and joins the threads. Idempotent.
  virtual void Stop() = 0;
};

// One API key as the keys file holds it: never the key itself, only its hash.
struct KeyInfo {
  std::string id;     // the key's public part, e.g. "k3f9a01c2"
  std::string actor;  // a staff member, unit or inspector of the configuration, or kAdminActor
  Instant created{};
  bool revoked = false;
};

// The actor of an administrator key: the configuration verbs and every read,
// but no lifecycle command (it is nobody of the configuration).
inline constexpr char kAdminActor[] = "$admin";

// The keys file: one line per key, "id actor hash created revoked", the hash
// being BLAKE2b-256 (libsodium's crypto_generichash) of the whole key. Every
// change is written to a new file, fsynced and renamed over the old one, so a
// crash leaves either the old or the new file. See docs/server.md.
// Thread-safety: not thread-safe; one process changes a file at a time.
class KeyStore {
 public:
  // Issues a new key for `actor`: returns the key ("cl_<id>_<secret>", shown
  // once, never stored) and appends its hash. Creates the file (mode 0600)
  // when missing. Errors: InvalidArgument (empty actor or one with spaces),
  // IOError.
  static Result<std::string> Issue(const std::string& file, const std::string& actor, Instant now,
                                   KeyInfo* info = nullptr);
  // Every key, revoked ones too, in the order issued. A missing file holds
  // none. Errors: IOError, Corruption (a line that does not parse, naming the line).
  static Result<std::vector<KeyInfo>> List(const std::string& file);
  // Marks key `id` revoked (it is refused from the next request on).
  // Errors: NotFound (no such key), IOError.
  static Status Revoke(const std::string& file, const std::string& id);
};

}  // namespace caseloop

#endif  // CASELOOP_SERVER_H_
