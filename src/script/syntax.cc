#include "script/syntax.h"

#include <algorithm>
#include <string>

#include "caseloop/commands.h"
#include "core/utf8.h"

namespace caseloop::script {
namespace {

CommandSpec Setup(std::string_view name, std::vector<std::string_view> pos, std::vector<std::string_view> req,
                  std::vector<std::string_view> opt) {
  return CommandSpec{name,   CommandClass::kSetup, std::move(pos), std::move(req), std::move(opt), {}, false,
                     nullptr};
}

// Case commands, from the command table (caseloop/commands.h): CASE, then
// by= (required) and at= (optional) before their own keys; their flags; the
// fields of other scopes (history import, the host's command id) are not
// keys of the script language.
CommandSpec Case(const caseloop::CommandSpec& command) {
  CommandSpec s{command.name, CommandClass::kCase, {"CASE"}, {"by"}, {"at"}, {}, false, &command};
  for (const CommandField& f : command.fields) {
    if (f.scope != FieldScope::kEverywhere) continue;
    if (f.type == FieldType::kFlag) {
      s.flags.push_back(f.key);
    } else {
      (f.required ? s.required : s.optional).push_back(f.key);
    }
  }
  return s;
}

CommandSpec Query(std::string_view name, std::vector<std::string_view> pos, std::vector<std::string_view> req,
                  std::vector<std::string_view> opt) {
  return CommandSpec{name,   CommandClass::kQuery, std::move(pos), std::move(req), std::move(opt), {}, false,
                     nullptr};
}

std::vector<CommandSpec> MakeCommands() {
  std::vector<CommandSpec> c;
  // Setup: configuration events.
  c.push_back(Setup("calendar", {}, {}, {"tz", "zone", "workdays", "periods"}));
  c.push_back(Setup("holiday", {"DATE"}, {}, {}));
  c.push_back(Setup("workday", {"DATE"}, {}, {}));
  c.push_back(Setup("unit", {"ID"}, {}, {"name"}));
  c.push_back(Setup("inspector", {"ID"}, {}, {"grid"}));
  c.push_back(Setup("staff", {"ID"}, {"role"}, {}));
  c.push_back(Setup("category", {"KIND", "CODE"}, {"limit"}, {"name", "emergency_limit", "verify_limit"}));
  c.push_back(Setup("route", {"KIND", "CODE", "UNIT"}, {}, {"grid"}));
  c.push_back(Setup("weights", {}, {}, {"handling", "on_time", "rework", "overdue", "extension"}));
  c.push_back(Setup("policy", {}, {},
                    {"enforce_permissions", "rework_fresh_limit", "yellow_percent", "auto_supervise",
                     "grid_group_digits"}));
  // The script clock.
  c.push_back(CommandSpec{"at", CommandClass::kClock, {"TIME"}, {}, {}, {}, false, nullptr});
  c.push_back(CommandSpec{"advance", CommandClass::kClock, {"DURATION"}, {}, {}, {}, false, nullptr});
  // Case commands: every one that people issue, in the table's order.
  for (const caseloop::CommandSpec& command : CommandTable()) {
    if (!command.engine_only()) c.push_back(Case(command));
  }
  // Queries.
  c.push_back(Query("show", {"CASE"}, {}, {"at"}));
  c.push_back(Query("history", {"CASE"}, {}, {"at"}));
  c.push_back(Query("rates", {}, {"from", "to"}, {"at", "unit"}));
  c.push_back(Query("inspectors", {}, {"from", "to"}, {"at"}));
  c.push_back(Query("centre", {}, {"from", "to"}, {"at"}));
  c.push_back(Query("overdue", {}, {}, {"at"}));
  c.push_back(Query("workload", {}, {}, {"at"}));
  c.push_back(CommandSpec{"expect", CommandClass::kExpect, {"CASE"}, {}, {}, {}, true, nullptr});
  return c;
}

// Levenshtein distance, for "did you mean".
std::size_t Distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Closest(std::string_view word, const std::vector<std::string_view>& names) {
  std::string best;
  std::size_t best_d = 3;  // suggest only within 2 edits
  for (auto n : names) {
    std::size_t d = Distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = std::string(n);
    }
  }
  return best;
}

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// A word as a message quotes it: escaped and cut short (core/utf8.h).
std::string Quoted(std::string_view s) { return QuotedText(s); }

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = MakeCommands();
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Usage(const CommandSpec& spec) {
  std::string u(spec.name);
  for (auto p : spec.positionals) u += " " + std::string(p);
  for (auto k : spec.required) u += " " + std::string(k) + "=…";
  for (auto k : spec.optional) u += " [" + std::string(k) + "=…]";
  for (auto f : spec.flags) u += " [" + std::string(f) + "]";
  if (spec.free_keys) u += " FIELD=VALUE…";
  return u;
}

const std::string* Args::Find(std::string_view key) const {
  for (const auto& [k, v] : keys) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Args::Get(std::string_view key) const {
  const std::string* v = Find(key);
  return v ? *v : std::string();
}

bool Args::HasFlag(std::string_view flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

Result<Args> ParseArgs(const std::vector<Word>& words) {
  if (words.empty()) return Status::InvalidArgument("empty command");
  const Word& head = words[0];
  if (head.keyed) {
    return Status::InvalidArgument("a line starts with a command, not " +
                                   Quoted(head.key + "=" + head.value));
  }
  const CommandSpec* spec = FindCommand(head.value);
  if (spec == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& c : Commands()) names.push_back(c.name);
    std::string msg = "unknown command " + Quoted(head.value);
    std::string guess = Closest(head.value, names);
    if (!guess.empty()) msg += " (did you mean " + Quoted(guess) + "?)";
    return Status::InvalidArgument(msg);
  }
  Args args;
  args.spec = spec;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const Word& w = words[i];
    if (!w.keyed) {
      if (args.positionals.size() < spec->positionals.size()) {
        args.positionals.push_back(w.value);
      } else if (Contains(spec->flags, w.value)) {
        if (args.HasFlag(w.value)) return Status::InvalidArgument("flag " + Quoted(w.value) + " given twice");
        args.flags.push_back(w.value);
      } else {
        return Status::InvalidArgument("unexpected word " + Quoted(w.value) + " for " + Quoted(spec->name) +
                                       " (usage: " + Usage(*spec) + ")");
      }
      continue;
    }
    if (Contains(spec->flags, w.key)) {
      return Status::InvalidArgument(Quoted(w.key) +
                                     " is a flag: write it without '=' (usage: " + Usage(*spec) + ")");
    }
    if (!spec->free_keys && !Contains(spec->required, w.key) && !Contains(spec->optional, w.key)) {
      std::vector<std::string_view> allowed = spec->required;
      allowed.insert(allowed.end(), spec->optional.begin(), spec->optional.end());
      std::string msg = "unknown key " + Quoted(w.key) + " for " + Quoted(spec->name);
      std::string guess = Closest(w.key, allowed);
      if (!guess.empty()) msg += " (did you mean " + Quoted(guess) + "?)";
      msg += allowed.empty() ? " (it takes no keys)" : " (allowed: " + Join(allowed) + ")";
      return Status::InvalidArgument(msg);
    }
    if (args.Has(w.key)) return Status::InvalidArgument("key " + Quoted(w.key) + " given twice");
    args.keys.emplace_back(w.key, w.value);
  }
  if (args.positionals.size() < spec->positionals.size()) {
    return Status::InvalidArgument("missing " + std::string(spec->positionals[args.positionals.size()]) +
                                   " for " + Quoted(spec->name) + " (usage: " + Usage(*spec) + ")");
  }
  for (std::size_t i = 0; i < args.positionals.size(); ++i) {
    if (args.positionals[i].empty()) {
      return Status::InvalidArgument("empty " + std::string(spec->positionals[i]) + " for " +
                                     Quoted(spec->name));
    }
  }
  for (auto k : spec->required) {
    const std::string* v = args.Find(k);
    if (v == nullptr) {
      return Status::InvalidArgument("missing required key " + Quoted(k) + " for " + Quoted(spec->name) +
                                     " (usage: " + Usage(*spec) + ")");
    }
    if (v->empty()) return Status::InvalidArgument("empty value for key " + Quoted(k));
  }
  if (spec->free_keys && args.keys.empty()) {
    return Status::InvalidArgument(Quoted(spec->name) +
                                   " needs at least one FIELD=VALUE (usage: " + Usage(*spec) + ")");
  }
  return args;
}

}  // namespace caseloop::script
