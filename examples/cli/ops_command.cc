// caseloop backup / restore / calendar (docs/operations.md). The work is the
// library's (caseloop/backup.h, caseloop/year_calendar.h, Engine::Configure);
// this file parses the options and prints the results.
#include "ops_command.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "caseloop/backup.h"
#include "caseloop/config.h"
#include "caseloop/engine.h"
#include "caseloop/status.h"
#include "caseloop/year_calendar.h"
#include "exit_status.h"

namespace caseloop_cli {
namespace {

using namespace caseloop;

std::string UtcTime(std::int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void PrintBackup(const BackupInfo& b) {
  std::cout << "backup " << b.id << "  " << UtcTime(b.created_unix_s) << "  " << b.bytes << " bytes  "
            << b.files << " files  log from position 1 to at least " << b.head_at_start
            << (b.has_keys ? "  with the keys file" : "") << "  of " << b.source << '\n';
}

Result<YearCalendar> ReadYearFile(const std::string& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    return Status::InvalidArgument("cannot read the calendar " + file + ": it is a directory");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot open the calendar " + file);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read the calendar " + file);
  return ParseYearCalendar(text.str(), file);
}

void PrintYear(const std::string& file, const YearCalendar& y) {
  std::cout << file << ": year " << y.year << ", " << y.holidays.size() << " holiday(s), "
            << y.workdays.size() << " adjusted working day(s)" << (y.name.empty() ? "" : " (" + y.name + ")")
            << '\n';
}

}  // namespace

OpsCommands::OpsCommands(CLI::App& app) {
  backup_ = app.add_subcommand(
      "backup",
      "backup DEST: back up the database (--db) into the directory DEST, incrementally, while it may be in "
      "use; --list, --verify: the backups in DEST");
  backup_->add_option("dest", backup_dir_, "the backup directory (created when missing)")->required();
  backup_->add_option("--keys", keys_file_, "the API keys file to copy along (default: DIR.keys, if any)");
  backup_->add_option("--keep", keep_, "keep only the newest N backups (0: all)")->capture_default_str();
  backup_->add_flag("--list", list_, "list the backups in DEST, take none");
  backup_->add_flag("--verify", verify_, "verify every backup in DEST (sizes and checksums), take none");

  restore_ = app.add_subcommand(
      "restore",
      "restore SRC DIR: restore the newest (or --id) backup of directory SRC into the new directory DIR");
  restore_->add_option("src", restore_from_, "the backup directory")->required();
  restore_->add_option("dir", restore_to_, "the database directory to create (missing or empty)")->required();
  restore_->add_option("--id", restore_id_, "the backup to restore (default: the newest)");
  restore_->add_option("--keys", keys_file_, "where to write the backup's keys file (default: DIR.keys)");

  calendar_ = app.add_subcommand(
      "calendar",
      "a year's holidays and adjusted working days from a file (examples/calendars, docs/operations.md)");
  calendar_->require_subcommand(1, 1);
  calendar_check_ = calendar_->add_subcommand("check", "check FILE: read and check a yearly calendar file");
  calendar_check_->add_option("file", calendar_file_, "the yearly calendar file")->required();
  calendar_apply_ = calendar_->add_subcommand(
      "apply",
      "apply FILE: replace that year's holidays and adjusted working days, as one configuration change");
  calendar_apply_->add_option("file", calendar_file_, "the yearly calendar file")->required();
}

bool OpsCommands::parsed() const { return backup_->parsed() || restore_->parsed() || calendar_->parsed(); }

int OpsCommands::Run(const std::string& db, const std::string& durability) {
  if (backup_->parsed()) return RunBackup(db);
  if (calendar_->parsed()) return RunCalendar(db, durability);
  return RunRestore();
}

int OpsCommands::RunCalendar(const std::string& db, const std::string& durability_text) {
  auto year = ReadYearFile(calendar_file_);
  if (!year.ok()) return Fail(year.status());
  if (calendar_check_->parsed()) {
    PrintYear(calendar_file_, *year);
    return kExitOk;
  }
  auto durability = ParseDurability(durability_text);
  if (!durability.ok()) return UsageError(durability.status().message());
  std::error_code ec;
  if (db != kInMemoryPath && !std::filesystem::exists(db, ec))
    return UsageError("no database at " + db +
                      " (run, import and demo create one; the other commands read an existing one)");
  EngineOptions o;
  o.path = db;
  o.store.durability = *durability;
  o.store.create_if_missing = false;
  o.clock = std::make_shared<ManualClock>();
  o.timers = false;
  auto engine = Engine::Open(o);
  if (!engine.ok())
    return Fail(
        Status(engine.status().code(), "cannot open the database " + db + ": " + engine.status().message()));
  ConfigChange change;
  change.type = ConfigChangeType::kSetYearCalendar;
  change.year_calendar = *year;
  const Instant now = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
  auto ack = (*engine)->Configure(change, now);
  Status closed = (*engine)->Close();
  if (!ack.ok()) return Fail(ack.status());
  if (!closed.ok()) return Fail(Status(closed.code(), "closing the database: " + closed.message()));
  PrintYear(calendar_file_, *year);
  std::cout << "applied at position " << ack->first_position << ": the " << year->year
            << " holidays and adjusted working days are those of the file (the earlier ones of " << year->year
            << " are replaced) for every command after it\n";
  return kExitOk;
}

int OpsCommands::RunBackup(const std::string& db) {
  if (list_ && verify_) return UsageError("backup: --list and --verify go one at a time");
  if (list_) {
    auto all = ListBackups(backup_dir_);
    if (!all.ok()) return Fail(all.status());
    for (const auto& b : *all) PrintBackup(b);
    return kExitOk;
  }
  if (verify_) {
    auto problems = VerifyBackups(backup_dir_);
    if (!problems.ok()) return Fail(problems.status());
    for (const auto& p : *problems) std::cout << p << '\n';
    if (!problems->empty()) {
      std::cerr << "error: " << problems->size() << " damaged backup(s)\n";
      return kExitStorage;
    }
    std::cout << "ok\n";
    return kExitOk;
  }
  BackupOptions o;
  o.keys_file = keys_file_;
  o.keep = keep_;
  auto info = BackupDatabase(db, backup_dir_, o);
  if (!info.ok() && info.status().IsIOError() &&
      info.status().message().find("is locked by another process") != std::string::npos) {
    // Most often `caseloop serve` holds it: the server takes the backup.
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(backup_dir_, ec);
    const std::string dir_text = ec ? backup_dir_ : dir.lexically_normal().string();
    return Fail(Status::IOError(
        info.status().message() +
        ". If `caseloop serve` holds it, take the backup through the server with an administrator key "
        "(docs/operations.md):\n  curl -X POST -H \"Authorization: Bearer $ADMIN_KEY\" "
        "-H 'Content-Type: application/json' -d '{\"dir\":\"" +
        dir_text + "\"}' http://127.0.0.1:8311/api/v1/admin/backups"));
  }
  if (!info.ok()) return Fail(info.status());
  PrintBackup(*info);
  return kExitOk;
}

int OpsCommands::RunRestore() {
  RestoreOptions o;
  if (restore_->count("--id") > 0) o.backup_id = restore_id_;
  o.keys_file = keys_file_;
  auto r = RestoreDatabase(restore_from_, restore_to_, o);
  if (!r.ok()) return Fail(r.status());
  std::cout << "restored backup " << r->backup_id << " of " << restore_from_ << " into " << restore_to_
            << ": the log up to position " << r->head
            << (r->keys_file.empty() ? "" : "; keys in " + r->keys_file) << '\n';
  return kExitOk;
}

}  // namespace caseloop_cli
