// caseloop serve / caseloop keys (docs/server.md). The service itself is
// the library caseloop::server (caseloop/server.h); this file parses the
// options, opens the engine, waits for SIGTERM or SIGINT and drains.
#include "serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>

#include "caseloop/engine.h"
#include "caseloop/server.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "exit_status.h"

namespace caseloop_cli {
namespace {

using namespace caseloop;

// "HOST:PORT", "[V6]:PORT" -> host, port.
bool ParseListen(const std::string& text, std::string* host, std::uint16_t* port) {
  std::string h, p;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return false;
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  unsigned long n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  if (n > 65535) return false;
  *host = h;
  *port = static_cast<std::uint16_t>(n);
  return true;
}

}  // namespace

ServerCommands::ServerCommands(CLI::App& app) {
  serve_ =
      app.add_subcommand("serve", "serve the staff API over HTTP until SIGTERM or SIGINT (docs/server.md)");
  serve_->add_option("--listen", listen_, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve_->add_option("--keys", keys_file_, "the API keys file (default: DIR.keys next to the database)");
  serve_->add_option("--threads", threads_, "HTTP threads")->capture_default_str()->check(CLI::Range(1, 64));
  serve_
      ->add_option(
          "--request-timeout", request_timeout_,
          "seconds a request may take to arrive (slow clients are cut off); also the idle keep-alive time")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  serve_->add_flag("--replay-time", replay_time_,
                   "commands carry their own at= on a manual clock, queries default to the latest recorded "
                   "instant (replaying history, tests; not for a live district)");
  serve_->add_option("--jurisdiction", jurisdiction_,
                     "Open311: the jurisdiction_id served (default: any; docs/open311.md)");
  serve_->add_option("--open311-contact", open311_contact_, "Open311: the contact text of service discovery");
  serve_->add_flag("--quiet", quiet_, "no access log on stderr");

  keys_ = app.add_subcommand("keys", "issue, list or revoke API keys (stored as hashes only)");
  keys_->require_subcommand(1, 1);
  keys_->add_option("--keys", keys_file_, "the API keys file (default: DIR.keys next to the database)");
  issue_ =
      keys_->add_subcommand("issue", "issue a key for ACTOR (a staff member, unit, inspector, or $admin)");
  issue_->add_option("actor", actor_, "the actor whose key it is")->required();
  list_ = keys_->add_subcommand("list", "list the keys (id, actor, created, revoked)");
  revoke_ = keys_->add_subcommand("revoke", "revoke key ID");
  revoke_->add_option("id", key_id_, "the key's id (k...)")->required();
}

bool ServerCommands::parsed() const { return serve_->parsed() || keys_->parsed(); }

int ServerCommands::Run(const std::string& db, const std::string& durability_text) {
  const std::string keys_file = keys_file_.empty() ? DefaultKeysFile(db) : keys_file_;
  if (keys_->parsed()) {
    if (keys_file.empty())
      return UsageError(
          IsDatabaseUri(db)
              ? "a PostgreSQL --db has no directory to keep the keys beside: name a file with --keys"
              : "--db :memory: keeps no keys: name a file with --keys");
    const Instant now = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
    if (issue_->parsed()) {
      if (actor_ != kAdminActor) {
        // The actor must be one of the configuration's (checked when the
        // database can be read: a running server holds it).
        EngineOptions o;
        o.path = db;
        o.store.read_only = true;
        o.timers = false;
        o.clock = std::make_shared<ManualClock>();
        auto engine = db == kInMemoryPath ? Result<std::unique_ptr<Engine>>(Status::Unavailable("in memory"))
                                          : Engine::Open(o);
        if (engine.ok()) {
          const Config c = (*engine)->CurrentConfig();
          (void)(*engine)->Close();
          if (!c.staff.count(actor_) && !c.units.count(actor_) && !c.inspectors.count(actor_))
            return Fail(Status::NotFound("unknown actor " + actor_ +
                                         ": not a staff member, unit or inspector of the configuration"));
        } else {
          std::cerr << "warning: the actor was not checked against the configuration ("
                    << engine.status().message() << ")\n";
        }
      }
      KeyInfo info;
      auto key = KeyStore::Issue(keys_file, actor_, now, &info);
      if (!key.ok()) return Fail(key.status());
      std::cout << *key << '\n';
      std::cerr << "issued key " << info.id << " for " << info.actor << " in " << keys_file
                << " (only its hash is kept: this is the one time it is shown)\n";
      return kExitOk;
    }
    if (list_->parsed()) {
      auto keys = KeyStore::List(keys_file);
      if (!keys.ok()) return Fail(keys.status());
      for (const auto& k : *keys) {
        std::cout << k.id << ' ' << k.actor << ' ' << FormatInstant(k.created, 0)
                  << (k.revoked ? " revoked" : "") << '\n';
      }
      return kExitOk;
    }
    if (revoke_->parsed()) {
      Status s = KeyStore::Revoke(keys_file, key_id_);
      if (!s.ok()) return Fail(s);
      std::cerr << "revoked " << key_id_ << '\n';
      return kExitOk;
    }
    return UsageError("keys: issue, list or revoke");
  }

  // serve
  ServerOptions so;
  if (!ParseListen(listen_, &so.host, &so.port))
    return UsageError("bad --listen '" + listen_ +
                      "': expected HOST:PORT, e.g. 127.0.0.1:8311 or [::1]:8311");
  so.keys_file = keys_file;
  so.database = db;  // backups over HTTP (a directory; :memory: and URIs are refused there)
  so.threads = threads_;
  so.request_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(request_timeout_ * 1000));
  so.replay_time = replay_time_;
  so.open311_jurisdiction = jurisdiction_;
  so.open311_contact = open311_contact_;
  if (!quiet_) {
    auto mu = std::make_shared<std::mutex>();
    so.access_log = [mu](std::string_view line) {
      std::lock_guard<std::mutex> lock(*mu);
      std::cerr << line << '\n';
    };
  }
  auto durability = ParseDurability(durability_text);
  if (!durability.ok()) return Fail(durability.status());

  // SIGTERM and SIGINT are taken by sigwait below: blocked before any thread
  // starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that goes away must not kill the server.
  signal(SIGPIPE, SIG_IGN);

  EngineOptions o;
  o.path = db;
  o.store.durability = *durability;
  o.store.create_if_missing = true;
  if (replay_time_) o.clock = std::make_shared<ManualClock>();
  auto engine = Engine::Open(o);
  if (!engine.ok())
    return Fail(
        Status(engine.status().code(), "cannot open the database " + db + ": " + engine.status().message()));
  if (replay_time_) {
    // The script clock's start: the latest recorded instant.
    (void)(*engine)->AdvanceTo((*engine)->LatestRecordedTime());
  }
  auto server = Server::Start(engine->get(), so);
  if (!server.ok()) {
    (void)(*engine)->Close();
    return Fail(server.status());
  }
  std::cerr << "caseloop serve: listening on "
            << (so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host) << ':'
            << (*server)->port() << " (database " << PathForMessages(db) << ", durability " << durability_text
            << ", keys " << (keys_file.empty() ? "none" : keys_file) << ")" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "caseloop serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ": draining" << std::endl;
  (*server)->Stop();
  Status closed = (*engine)->Close();
  if (!closed.ok()) return Fail(Status(closed.code(), "closing the database: " + closed.message()));
  std::cerr << "caseloop serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace caseloop_cli
