// caseloop — the command-line tool over the library.
//
//   caseloop [--db DIR] [--durability sync|buffered|none] [--now] COMMAND ...
//
// Every command's logic lives in the libraries (ScriptSession for scripts and
// queries; ImportCsv, RunDemo and WriteHtmlReport from caseloop/tools.h, the
// caseloop::tools library); this file parses arguments, opens the engine and
// maps statuses to exit codes. It uses the installed headers only. See
// docs/cli.md.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/engine.h"
#include "caseloop/queries.h"
#include "caseloop/script.h"
#include "caseloop/status.h"
#include "caseloop/time.h"
#include "caseloop/tools.h"
#include "exit_status.h"
#include "ops_command.h"
#include "serve_command.h"

namespace {

using namespace caseloop;

using namespace caseloop_cli;  // exit statuses, Fail, UsageError (exit_status.h)

// stdout for the results: a buffered stream over file descriptor 1 that
// keeps the errno of its first failed write (std::cout over stdio forgets it
// once the stream has failed, and a failed write of a long output happens
// long before the end).
class ResultsBuf final : public std::streambuf {
 public:
  ResultsBuf() { setp(buf_, buf_ + sizeof buf_); }
  // 0, or the errno of the first write that failed.
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override {
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(STDOUT_FILENO, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (error_ == 0) error_ = n < 0 ? errno : EIO;
        setp(buf_, buf_ + sizeof buf_);  // what could not be written is dropped
        return -1;
      }
      p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return 0;
  }

 private:
  char buf_[1 << 16];
  int error_ = 0;
};

// Every command's results go to stdout. A failed write of them (a full disk,
// /dev/full, a file size limit) loses them: a storage error (exit 3), whatever
// the command's own status. Called once, at the end.
int FinishOutput(const ResultsBuf& results, int code) {
  std::cout.flush();
  if (results.error() == 0 && std::cout.good()) return code;
  std::cerr << "error: writing the output failed: " << std::strerror(results.error() ? results.error() : EIO)
            << '\n';
  return kExitStorage;
}

struct Globals {
  std::string db = "caseloop-data";
  std::string durability = "sync";
  bool now = false;
};

// The engine always runs on a manual clock: scripts move it with `at`, and
// queries evaluate at the latest recorded instant, so a scripted history
// answers the same way every time. `timers` is off for read-only commands so
// that a query never appends task_overdue events.
// What a command may do to the database it opens.
enum class Access {
  kCreate,    // run, import, demo: create the database where nothing is
  kExisting,  // rebuild: the database must be there, and be writable
  kQuery,     // queries, report: the database must be there; on read-only media it is opened read-only
  kReadOnly,  // check: open read-only, write nothing
};

Result<std::unique_ptr<Engine>> OpenEngine(const Globals& g, bool timers, Access access,
                                           bool default_config = false) {
  auto durability = ParseDurability(g.durability);
  if (!durability.ok()) return durability.status();
  EngineOptions options;
  options.path = g.db;
  options.store.durability = *durability;
  options.clock = std::make_shared<ManualClock>();
  options.timers = timers;
  options.default_config = default_config;
  options.store.create_if_missing = access == Access::kCreate;
  options.store.read_only = access == Access::kReadOnly;
  // A query on read-only media (a read-only mount, a directory this user may
  // not write) reads it read-only: the answers are the same (queries fire no
  // timers; the projections catch up in memory if they are behind).
  if (access == Access::kQuery && g.db != kInMemoryPath && !IsDatabaseUri(g.db) &&
      !CheckStoreWritable(g.db).ok())
    options.store.read_only = true;
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    return Status(engine.status().code(),
                  "cannot open the database " + PathForMessages(g.db) + ": " + engine.status().message());
  }
  return engine;
}

// Only the commands that write (run, import, demo) create a database: any
// other on a path where nothing is refuses it (exit 2), naming the path,
// instead of answering from an empty database.
bool MissingDatabase(const Globals& g, Access access) {
  // (A PostgreSQL URI: the server says whether the database is there.)
  if (access == Access::kCreate || g.db == kInMemoryPath || IsDatabaseUri(g.db)) return false;
  std::error_code ec;
  return !std::filesystem::exists(g.db, ec) && !ec;
}

int NoDatabase(const Globals& g) {
  std::cerr << "error: no database at " << PathForMessages(g.db)
            << " (run, import and demo create one; the other commands read an existing one)\n";
  return kExitUsage;
}

// Runs `body` with an open engine and closes it; a failed close (the data
// may not be durable) turns success into a storage error. `held`: what the
// body wrote for stdout, printed only once the close has succeeded (import,
// demo: "imported 2000" must not come before the failure that loses them).
template <typename Body>
int WithEngine(const Globals& g, bool timers, Access access, bool default_config, Body body,
               const std::ostringstream* held = nullptr) {
  if (MissingDatabase(g, access)) return NoDatabase(g);
  auto engine = OpenEngine(g, timers, access, default_config);
  if (!engine.ok()) return Fail(engine.status());
  int code = body(**engine);
  Status closed = (*engine)->Close();
  if (!closed.ok()) {
    if (code == kExitOk) return Fail(Status(closed.code(), "closing the database: " + closed.message()));
    return code;
  }
  if (held != nullptr) std::cout << held->str();
  return code;
}

ScriptOptions SessionOptions(const Globals& g) {
  ScriptOptions o;
  o.system_now = g.now;
  return o;
}

int RunScript(const Globals& g, const std::string& file, bool echo, bool keep_going) {
  std::ifstream stream;
  std::istream* in = &std::cin;
  if (file != "-") {
    // A directory opens as a stream on Linux and only fails at the first read.
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
      return UsageError("cannot open the script " + file + ": it is a directory");
    stream.open(file);
    if (!stream) return UsageError("cannot open the script " + file);
    in = &stream;
  }
  return WithEngine(g, /*timers=*/true, Access::kCreate, /*default_config=*/false, [&](Engine& engine) {
    ScriptOptions o = SessionOptions(g);
    o.echo = echo;
    o.keep_going = keep_going;
    auto session = ScriptSession::Create(&engine, o);
    if (!session.ok()) return Fail(session.status());
    Status s = (*session)->Run(*in, std::cout, std::cerr);  // errors already printed as "line N: ..."
    std::cout.flush();
    // A failed read of the script itself is returned, not printed, by Run.
    if (s.IsIOError() && in->bad())
      return Fail(Status(s.code(), (file == "-" ? std::string("stdin") : file) + ": " + s.message()));
    return ExitCodeFor(s);
  });
}

// show / history / rates / inspectors / centre / overdue / workload: the
// script language's query with the same arguments.
int RunQuery(const Globals& g, const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> words{name};
  words.insert(words.end(), args.begin(), args.end());
  Status shape = CheckCommandWords(words);
  if (!shape.ok()) return UsageError(shape.message());
  return WithEngine(g, /*timers=*/false, Access::kQuery, /*default_config=*/false, [&](Engine& engine) {
    auto session = ScriptSession::Create(&engine, SessionOptions(g));
    if (!session.ok()) return Fail(session.status());
    auto lines = (*session)->ExecuteWords(words);
    if (!lines.ok()) return Fail(lines.status());
    for (const auto& l : *lines) std::cout << l << '\n';
    return kExitOk;
  });
}

struct ReportArgs {
  std::vector<std::string> words;  // from=DATE to=DATE [at=TIME]
  std::string html;
  std::string lang;  // zh, en; empty: the calendar's
  std::string csv, xlsx;
};

int RunReport(const Globals& g, const ReportArgs& r) {
  std::optional<std::string> from, to, at;
  for (const auto& arg : r.words) {
    // key=value, split at the first '=' (as the queries' words).
    const auto eq = arg.find('=');
    const std::string key = eq == std::string::npos ? std::string() : arg.substr(0, eq);
    std::optional<std::string>* slot = key == "from" ? &from
                                       : key == "to" ? &to
                                       : key == "at" ? &at
                                                     : nullptr;
    if (slot == nullptr)
      return UsageError("unexpected argument '" + arg + "' for 'report' (expected from=, to=, at=)");
    if (slot->has_value()) return UsageError("'" + key + "=' given twice");
    *slot = arg.substr(eq + 1);
  }
  if (!from || !to) return UsageError("'report' needs from=DATE and to=DATE");
  if (r.html.empty() && r.csv.empty() && r.xlsx.empty())
    return UsageError("'report' needs an output: --html FILE, --csv FILE or --xlsx FILE");
  return WithEngine(g, /*timers=*/false, Access::kQuery, /*default_config=*/false, [&](Engine& engine) {
    const Calendar offset = engine.CurrentConfig().calendar;  // local times in its zone or offset
    ReportOptions o;
    o.html = r.html;
    o.language = r.lang;
    o.csv = r.csv;
    o.xlsx = r.xlsx;
    auto parse = [&](const std::string& key, const std::string& text) -> Result<Instant> {
      auto t = ParseInstant(text, offset);
      if (!t.ok()) return Status::InvalidArgument(key + ": " + t.status().message());
      return *t;
    };
    auto f = parse("from", *from);
    if (!f.ok()) return Fail(f.status());
    auto t = parse("to", *to);
    if (!t.ok()) return Fail(t.status());
    if (*t <= *f)
      return Fail(Status::InvalidArgument("empty period: to=" + *to + " is not after from=" + *from));
    o.from = *f;
    o.to = *t;
    if (at) {
      auto a = parse("at", *at);
      if (!a.ok()) return Fail(a.status());
      o.at = *a;
    } else {
      // As the queries: at `to`, or the latest recorded instant (--now: the system time) if earlier.
      Instant now = g.now ? std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now())
                          : engine.LatestRecordedTime();
      o.at = QueryInstant(std::nullopt, o.to, now);
    }
    Status s = WriteHtmlReport(engine, o);
    if (!s.ok()) return Fail(s);
    for (const std::string* f : {&o.html, &o.csv, &o.xlsx})
      if (!f->empty()) std::cerr << "wrote " << *f << '\n';
    return kExitOk;
  });
}

}  // namespace

int main(int argc, char** argv) {
  // std::cout writes to `results` for the whole run (help and usage text too),
  // and to stdio's buffer again before anything static is destroyed.
  ResultsBuf results;
  struct RestoreCout {
    std::streambuf* stdio;
    ~RestoreCout() {
      std::cout.flush();
      std::cout.rdbuf(stdio);
    }
  } restore_cout{std::cout.rdbuf(&results)};

  CLI::App app{"caseloop: the closed loop of urban-management cases, on an embedded event log"};
  app.name("caseloop");
  app.require_subcommand(1, 1);
  app.fallthrough();  // global options may also follow the command
  app.set_version_flag("--version", std::string("caseloop ") + CASELOOP_VERSION);

  Globals g;
  app.add_option("--db", g.db,
                 "database directory (run, import and demo create it; :memory: keeps nothing on disk)")
      ->capture_default_str();
  app.add_option("--durability", g.durability, "what an acknowledged command survives")
      ->check(CLI::IsMember({"sync", "buffered", "none"}))
      ->capture_default_str();
  app.add_flag("--now", g.now,
               "the system clock: queries without at= evaluate at the system time (default: the latest "
               "recorded instant); run stamps every command with it and refuses at/advance lines");

  // run
  std::string script_file;
  bool echo = false, keep_going = false;
  auto* run = app.add_subcommand("run", "execute a script (FILE, or - for stdin)");
  run->add_option("file", script_file, "the script; - reads stdin")->required();
  run->add_flag("--echo", echo, "print 'ok N' after line N is durably acknowledged");
  run->add_flag("--keep-going", keep_going,
                "continue after a refused line (the exit status still reports it)");

  // queries
  struct QueryCommand {
    const char* name;
    const char* help;
    std::vector<std::string> args;
    CLI::App* app = nullptr;
  };
  std::vector<QueryCommand> queries = {
      {"show", "show CASE [at=TIME]: the case as JSON (as it was at TIME)", {}},
      {"history", "history CASE [at=TIME]: the case's events (up to TIME), oldest first", {}},
      {"rates", "rates from=DATE to=DATE [at=TIME] [unit=U]: unit evaluation", {}},
      {"inspectors", "inspectors from=DATE to=DATE [at=TIME]: inspector evaluation", {}},
      {"centre", "centre from=DATE to=DATE [at=TIME]: the centre's figures", {}},
      {"overdue", "overdue [at=TIME]: overdue open tasks", {}},
      {"workload", "workload [at=TIME]: open and overdue tasks per unit", {}},
  };
  for (auto& q : queries) {
    q.app = app.add_subcommand(q.name, q.help);
    q.app->add_option("args", q.args, "arguments as in the script language (key=value)");
  }

  // import
  ImportOptions import;
  std::string import_tz;
  auto* imp = app.add_subcommand("import", "import case history from a CSV file");
  imp->add_option("file", import.file, "the CSV file")->required()->check(CLI::ExistingFile);
  imp->add_option("--id", import.id_column, "column of the case id")->required();
  imp->add_option("--created", import.created_column, "column of the creation time")->required();
  imp->add_option("--unit", import.unit_column, "column of the responsible unit")->required();
  imp->add_option("--due", import.due_column, "column of the due time");
  imp->add_option("--closed", import.closed_column, "column of the closing time");
  imp->add_option("--category", import.category_column, "column of the category");
  imp->add_option(
      "--status", import.status_column,
      "column of the status (with --closed-status): a close time with an open status is reported");
  imp->add_option("--closed-status", import.closed_statuses, "the --status values that mean closed: V[,V...]")
      ->delimiter(',');
  imp->add_option("--time-format", import.time_format, "strptime format of the times")->capture_default_str();
  imp->add_option(
      "--tz", import_tz,
      "zone of the times: a UTC offset (-05:00) or an IANA name (America/New_York); default: the calendar's");
  imp->add_flag("--strict", import.strict, "fail when any row is skipped");

  // demo
  DemoOptions demo;
  auto* dem = app.add_subcommand(
      "demo",
      "simulate --days days (a quarter by default) in the default district on a database without cases");
  dem->add_option("--cases", demo.cases, "cases to simulate")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, kDemoMaxCases));
  dem->add_option("--days", demo.days, "days to simulate")
      ->capture_default_str()
      ->check(CLI::Range(1, kDemoMaxDays));
  dem->add_option("--seed", demo.seed, "random seed")->capture_default_str();
  dem->add_option("--html", demo.html, "HTML report to write (\"\" = none)")->capture_default_str();

  // report
  ReportArgs report;
  auto* rep = app.add_subcommand(
      "report",
      "write the report: report from=DATE to=DATE [at=TIME] --html FILE [--csv FILE] [--xlsx FILE]");
  rep->add_option("args", report.words, "from=DATE to=DATE [at=TIME]");
  rep->add_option("--html", report.html, "the HTML file to write");
  rep->add_option("--csv", report.csv, "the unit ranking as CSV (UTF-8)");
  rep->add_option("--xlsx", report.xlsx, "the unit ranking and the inspectors as an Excel workbook");
  rep->add_option("--lang", report.lang, "zh or en (default: Chinese for a UTC+08:00 calendar, else English)")
      ->check(CLI::IsMember({"zh", "en"}));

  auto* check = app.add_subcommand("check", "check the store and projections; exit 3 on any problem");
  auto* rebuild = app.add_subcommand("rebuild", "rebuild the projections from the event log");
  bool accept_loss = false;
  auto* repair = app.add_subcommand(
      "repair", "repair what open refuses: a missing CURRENT file; lost acknowledged events (--accept-loss)");
  repair->add_flag("--accept-loss", accept_loss,
                   "accept a log that ends before the last acknowledged event and continue from its end");
  caseloop_cli::ServerCommands server_commands(app);  // serve, keys (serve_command.cc)
  caseloop_cli::OpsCommands ops_commands(app);        // backup, restore, calendar (ops_command.cc)

  // help [COMMAND]: the commands, or one command's arguments and options.
  std::string help_topic;
  auto* help = app.add_subcommand("help", "help [COMMAND]: the commands, or what COMMAND takes");
  help->add_option("command", help_topic, "a command");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    // "A subcommand is required" says less than naming the word that is not one.
    for (int i = 1; i < argc; ++i) {
      std::string word = argv[i];
      if (word == "--db" || word == "--durability") {
        ++i;
        continue;
      }
      if (word.empty() || word[0] == '-') continue;
      std::string names;
      bool known = false;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
        known = known || sub->get_name() == word;
      }
      if (!known) return UsageError("unknown command '" + word + "' (commands: " + names + ")");
      break;
    }
    return UsageError(e.what());
  }

  // An unset variable in --db "$X" must not select a store that keeps nothing.
  if (g.db.empty())
    return UsageError("--db is empty: name the database directory (or :memory: for one that keeps nothing)");
  if (g.db == kInMemoryPath && (check->parsed() || rebuild->parsed() || repair->parsed()))
    return UsageError("--db :memory: holds nothing to " + std::string(check->parsed()     ? "check"
                                                                      : rebuild->parsed() ? "rebuild"
                                                                                          : "repair"));
  // Every global option works where it is given, or is refused (issue 22).
  {
    const std::vector<CLI::App*> parsed = app.get_subcommands();
    const std::string command = parsed.empty() ? std::string() : parsed.front()->get_name();
    bool query = false;
    for (const auto& q : queries) query = query || q.app->parsed();
    if (g.now && !(run->parsed() || query || rep->parsed()))
      return UsageError("--now (the system clock) applies to run, the queries and report, not to '" +
                        command + "'");
    if (app.count("--durability") > 0 &&
        !(run->parsed() || imp->parsed() || dem->parsed() || rebuild->parsed() || server_commands.parsed()))
      return UsageError(
          "--durability applies to the commands that write (run, import, demo, rebuild, serve, "
          "keys), not to '" +
          command + "'");
    if (help->parsed() && app.count("--db") > 0) return UsageError("--db does not apply to 'help'");
  }
  // --echo promises that line N is durably acknowledged; with no write-ahead
  // log nothing is durable until the run ends.
  if (run->parsed() && echo && g.durability == "none")
    return UsageError(
        "--echo acknowledges each line once it is durable, and --durability none keeps nothing until the "
        "run ends: use --durability sync or buffered with --echo");

  auto run_command = [&]() -> int {
    if (help->parsed()) {
      if (help_topic.empty()) {
        // (app.help() would describe the parsed subcommand, `help` itself.)
        std::cout << app.get_formatter()->make_help(&app, "caseloop", CLI::AppFormatMode::Normal);
        return kExitOk;
      }
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_name() == help_topic && sub != help) {
          std::cout << sub->help("caseloop");
          return kExitOk;
        }
      }
      return UsageError("help: unknown command '" + help_topic + "'");
    }
    if (run->parsed()) return RunScript(g, script_file, echo, keep_going);
    if (server_commands.parsed()) return server_commands.Run(g.db, g.durability);
    if (ops_commands.parsed()) return ops_commands.Run(g.db, g.durability);
    for (auto& q : queries) {
      if (q.app->parsed()) return RunQuery(g, q.name, q.args);
    }
    if (imp->parsed()) {
      if (!import_tz.empty()) {
        // An offset (+08:00, -05:00, Z) or an IANA zone name (America/New_York).
        Calendar zone;
        if (Status s = SetZoneText(zone, import_tz); !s.ok()) {
          return UsageError("bad --tz " + import_tz + ": " + s.message());
        }
        if (zone.zone.empty()) {
          import.utc_offset_minutes = zone.utc_offset_minutes;
        } else {
          import.zone = zone.zone;
        }
      }
      import.progress = isatty(STDERR_FILENO) != 0;
      std::ostringstream summary_line;
      return WithEngine(
          g, /*timers=*/true, Access::kCreate, /*default_config=*/false,
          [&](Engine& engine) {
            auto summary = ImportCsv(engine, import, summary_line, std::cerr);
            return summary.ok() ? kExitOk : Fail(summary.status());
          },
          &summary_line);
    }
    if (dem->parsed()) {
      demo.progress = isatty(STDERR_FILENO) != 0;
      std::ostringstream ranking;
      return WithEngine(
          g, /*timers=*/true, Access::kCreate, /*default_config=*/true,
          [&](Engine& engine) {
            Status s = RunDemo(engine, demo, ranking);
            return s.ok() ? kExitOk : Fail(s);
          },
          &ranking);
    }
    if (rep->parsed()) return RunReport(g, report);
    if (check->parsed()) {
      // Read-only: nothing on a damaged database is rewritten while checking.
      // The read-only open holds a shared lock on the store: a database
      // another process is writing is refused, not reported damaged.
      if (MissingDatabase(g, Access::kReadOnly)) return NoDatabase(g);
      auto engine = OpenEngine(g, /*timers=*/false, Access::kReadOnly);
      int code = kExitOk;
      if (!engine.ok()) {
        code = Fail(engine.status());
      } else {
        auto problems = (*engine)->Check();
        if (!problems.ok()) {
          code = Fail(problems.status());
        } else {
          for (const auto& p : *problems) std::cout << p << '\n';
          if (!problems->empty()) {
            std::cerr << "error: " << problems->size() << " problem(s) found\n";
            code = kExitStorage;
          } else {
            std::cout << "ok\n";
          }
        }
        Status closed = (*engine)->Close();
        if (!closed.ok() && code == kExitOk) code = Fail(closed);
      }
      return code;
    }
    if (repair->parsed()) {
      RepairOptions o;
      o.accept_loss = accept_loss;
      auto done = RepairRocksDbStore(g.db, o);
      if (!done.ok())
        return Fail(Status(done.status().code(), "cannot repair the database " + PathForMessages(g.db) +
                                                     ": " + done.status().message()));
      for (const auto& line : *done) std::cout << line << '\n';
      std::cout << (done->empty() ? "nothing to repair\n" : "repaired; run caseloop check\n");
      return kExitOk;
    }
    if (rebuild->parsed()) {
      return WithEngine(g, /*timers=*/false, Access::kExisting, /*default_config=*/false,
                        [&](Engine& engine) {
                          Status s = engine.RebuildProjections();
                          return s.ok() ? kExitOk : Fail(s);
                        });
    }
    return UsageError("no command given");
  };
  int code;
  try {
    code = run_command();
  } catch (const std::bad_alloc&) {
    // Not bad input: the machine could not give what the command needed.
    std::cerr << "error: out of memory\n";
    code = kExitStorage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    code = kExitRefused;
  }
  return FinishOutput(results, code);
}
