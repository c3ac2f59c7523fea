// caseloop backup / restore / calendar: the operator's commands
// (docs/operations.md). main.cc registers them with one object.
#ifndef CASELOOP_CLI_OPS_COMMAND_H_
#define CASELOOP_CLI_OPS_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace caseloop_cli {

class OpsCommands {
 public:
  // Adds the subcommands `backup`, `restore` and `calendar` (check, apply) to `app`.
  explicit OpsCommands(CLI::App& app);
  // One of them was given on the command line.
  bool parsed() const;
  // Runs it on the database `db`; returns the exit status.
  int Run(const std::string& db, const std::string& durability);

 private:
  int RunBackup(const std::string& db);
  int RunRestore();
  int RunCalendar(const std::string& db, const std::string& durability);

  CLI::App* backup_ = nullptr;
  CLI::App* restore_ = nullptr;
  std::string backup_dir_;
  std::string keys_file_;
  std::uint32_t keep_ = 0;
  bool list_ = false;
  bool verify_ = false;
  std::string restore_from_;
  std::string restore_to_;
  std::uint32_t restore_id_ = 0;
  CLI::App* calendar_ = nullptr;
  CLI::App* calendar_check_ = nullptr;
  CLI::App* calendar_apply_ = nullptr;
  std::string calendar_file_;
};

}  // namespace caseloop_cli

#endif  // CASELOOP_CLI_OPS_COMMAND_H_
