// caseloop serve / caseloop keys: the HTTP service and its API keys
// (docs/server.md). main.cc registers them with one object.
#ifndef CASELOOP_CLI_SERVE_COMMAND_H_
#define CASELOOP_CLI_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

namespace caseloop_cli {

class ServerCommands {
 public:
  // Adds the subcommands `serve` and `keys` (issue, list, revoke) to `app`.
  explicit ServerCommands(CLI::App& app);
  // One of them was given on the command line.
  bool parsed() const;
  // Runs it on the database `db` at `durability`; returns the exit status.
  int Run(const std::string& db, const std::string& durability);

 private:
  CLI::App* serve_ = nullptr;
  CLI::App* keys_ = nullptr;
  CLI::App* issue_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* revoke_ = nullptr;
  std::string listen_ = "127.0.0.1:8311";
  std::string keys_file_;
  int threads_ = 2;
  double request_timeout_ = 30;
  bool replay_time_ = false;
  std::string jurisdiction_;     // --jurisdiction (Open311)
  std::string open311_contact_;  // --open311-contact
  bool quiet_ = false;
  std::string actor_;
  std::string key_id_;
};

}  // namespace caseloop_cli

#endif  // CASELOOP_CLI_SERVE_COMMAND_H_
