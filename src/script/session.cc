// ScriptSession: runs the caseloop script language against an Engine.
// The language itself is described in docs/cli.md; the shape of each command
// (positionals, keys, flags) lives in syntax.cc, the case commands' fields in
// the command table (caseloop/commands.h, which also turns them into a
// Command), the JSON of each query in caseloop/json.h. This file reads lines
// (within the limits of lexer.h), turns checked arguments into configuration
// changes, commands on the script clock and queries.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <istream>
#include <new>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/case.h"
#include "caseloop/commands.h"
#include "caseloop/config.h"
#include "caseloop/json.h"
#include "caseloop/queries.h"
#include "caseloop/script.h"
#include "core/utf8.h"
#include "script/lexer.h"
#include "script/syntax.h"

namespace caseloop {
namespace {

using script::Args;
using script::CommandClass;
using Lines = std::vector<std::string>;

// Text a message quotes: escaped and cut short (core/utf8.h).
std::string Q(std::string_view s) { return QuotedText(s); }

// The longest message a session returns: every message is escaped (no raw
// control characters or invalid bytes reach a terminal) and cut to this.
constexpr std::size_t kMaxMessageBytes = 4096;

Status Clean(const Status& s) {
  if (s.ok()) return s;
  return Status(s.code(), Printable(s.message(), kMaxMessageBytes));
}

bool IsStorageError(const Status& s) { return s.IsCorruption() || s.IsIOError() || s.IsUnavailable(); }

Status WithLine(const Status& s, int line_no) {
  if (s.ok() || line_no <= 0) return Clean(s);
  return Clean(Status(s.code(), "line " + std::to_string(line_no) + ": " + s.message()));
}

// "key=value" as the user wrote it, for messages.
std::string KeyText(std::string_view key, const std::string& value) {
  return std::string(key) + "=" + Printable(value);
}

Result<double> ParseNumber(std::string_view key, const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (text.empty() || end != begin + text.size() || errno == ERANGE || !std::isfinite(v)) {
    return Status::InvalidArgument("bad number " + KeyText(key, text));
  }
  return v;
}

Result<std::int64_t> ParseInteger(std::string_view key, const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(begin, &end, 10);
  if (text.empty() || end != begin + text.size() || errno == ERANGE) {
    return Status::InvalidArgument("bad integer " + KeyText(key, text));
  }
  return static_cast<std::int64_t>(v);
}

Result<bool> ParseBool(std::string_view key, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return Status::InvalidArgument("bad value " + KeyText(key, text) + ": expected true or false");
}

// A time without an offset is local under the calendar's zone or offset.
Result<Instant> ParseTimeText(std::string_view what, const std::string& text, const Calendar& calendar) {
  auto t = ParseInstant(text, calendar);
  if (!t.ok())
    return Status::InvalidArgument(std::string(what) + ": " + Printable(t.status().message(), 300));
  return *t;
}

Result<TimeLimit> ParseDurationText(std::string_view what, const std::string& text) {
  auto d = ParseTimeLimit(text);
  if (!d.ok())
    return Status::InvalidArgument(std::string(what) + ": " + Printable(d.status().message(), 300));
  return *d;
}

Result<CaseKind> ParseKindText(std::string_view what, const std::string& text) {
  auto k = ParseCaseKind(text);
  if (!k) return Status::InvalidArgument("bad " + std::string(what) + ": expected component or event");
  return *k;
}

// The fields of `show` as `expect` compares them: null, true/false, numbers
// as printed, strings without quotes, times as printed.
class ExpectWriter final : public ObjectWriter {
 public:
  explicit ExpectWriter(int offset_minutes) : offset_minutes_(offset_minutes) {}
  void Null(std::string_view key) override { Put(key, "null"); }
  void Bool(std::string_view key, bool v) override { Put(key, v ? "true" : "false"); }
  void Int(std::string_view key, std::int64_t v) override { Put(key, std::to_string(v)); }
  void UInt(std::string_view key, std::uint64_t v) override { Put(key, std::to_string(v)); }
  void Double(std::string_view key, double v) override {
    // As JSON prints it: the shortest text that reads back, a whole number with ".0".
    char buf[32];
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    std::string text = buf;
    if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
    Put(key, text);
  }
  void String(std::string_view key, std::string_view v) override { Put(key, std::string(v)); }
  void Time(std::string_view key, Instant v) override { Put(key, FormatInstant(v, offset_minutes_)); }
  void Strings(std::string_view key, const std::vector<std::string>& v) override {
    std::string text;
    for (const auto& x : v) text += (text.empty() ? "" : ",") + x;
    Put(key, text);
  }

  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  const std::string* Find(std::string_view key) const {
    for (const auto& [k, v] : fields_) {
      if (k == key) return &v;
    }
    return nullptr;
  }

 private:
  void Put(std::string_view key, std::string text) {
    if (Find(key) == nullptr) fields_.emplace_back(std::string(key), std::move(text));
  }

  int offset_minutes_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

// The keys of `show`, for expect.
const ExpectWriter& ShowTemplate() {
  static const ExpectWriter fields = [] {
    ExpectWriter w(0);
    Write(CaseView{}, w);
    return w;
  }();
  return fields;
}

// Reads one line of a script into `line`: up to '\n', '\r\n' or a lone '\r'
// (old Mac files). Returns false at the end of the input. A line longer than
// kMaxLineBytes stops the read there: `too_long` is set, and the rest of the
// line is still to come (SkipRestOfLine). `pending_cr` carries a '\r' just
// read across calls, so that a '\n' right after it ends no second line; a
// line is never held back waiting for the byte after its '\r' (stdin, as it
// arrives).
bool ReadLine(std::istream& in, std::string& line, bool& too_long, bool& pending_cr) {
  line.clear();
  too_long = false;
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) {
    in.setstate(std::ios::badbit);
    return false;
  }
  bool any = false;
  while (true) {
    int c;
    try {
      c = buf->sbumpc();
    } catch (...) {
      in.setstate(std::ios::badbit);
      return any;
    }
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return any;
    }
    if (pending_cr) {
      pending_cr = false;
      if (c == '\n') continue;  // the second half of "\r\n"
    }
    any = true;
    if (c == '\n') return true;
    if (c == '\r') {
      pending_cr = true;
      return true;
    }
    if (line.size() == script::kMaxLineBytes) {
      too_long = true;
      return true;
    }
    line += static_cast<char>(c);
  }
}

// Reads and drops the rest of a line that was too long (ReadLine).
void SkipRestOfLine(std::istream& in, bool& pending_cr) {
  std::streambuf* buf = in.rdbuf();
  while (true) {
    int c;
    try {
      c = buf->sbumpc();
    } catch (...) {
      in.setstate(std::ios::badbit);
      return;
    }
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return;
    }
    if (c == '\n') return;
    if (c == '\r') {
      pending_cr = true;
      return;
    }
  }
}

class SessionImpl final : public ScriptSession {
 public:
  SessionImpl(Engine* engine, const ScriptOptions& options) : engine_(engine), options_(options) {}

  Status Init() {
    Instant latest = engine_->LatestRecordedTime();
    if (latest > engine_->Now()) CASELOOP_RETURN_IF_ERROR(engine_->AdvanceTo(latest));
    clock_set_ = ClockSet();
    return Status::Ok();
  }

  Result<Lines> Execute(std::string_view line, int line_no) override {
    if (line.size() > script::kMaxLineBytes) return WithLine(LineTooLong(), line_no);
    auto r = ExecuteLine(line, nullptr);
    if (!r.ok()) return WithLine(r.status(), line_no);
    return r;
  }

  Result<Lines> ExecuteWords(const std::vector<std::string>& words, int line_no) override {
    std::vector<script::Word> split;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i].size() > script::kMaxWordBytes) {
        return WithLine(Status::InvalidArgument("word " + std::to_string(i + 1) + " is longer than " +
                                                std::to_string(script::kMaxWordBytes) + " bytes"),
                        line_no);
      }
      split.push_back(script::WordFromArg(words[i]));
    }
    if (split.empty()) return WithLine(Status::InvalidArgument("empty command"), line_no);
    auto r = Guarded(split);
    if (!r.ok()) return WithLine(r.status(), line_no);
    return r;
  }

  // The setup lines before a script's first clock line, case command or
  // query are held: checked against a copy of the configuration as they are
  // read, applied only once the line after them is known to be good (a clock
  // line that moves the clock, a case command whose time is not before the
  // clock), or at the end of the script. A script that fails on a setup or
  // clock line before its first command applies nothing of it.
  Status Run(std::istream& in, std::ostream& out, std::ostream& err) override {
    std::string line;
    int line_no = 0;
    Status first;
    bool too_long = false;
    bool pending_cr = false;
    StartHolding();
    // "ok N" of the held lines applied by the line just run (echo), before its own.
    auto print_released = [&] {
      if (options_.echo) {
        for (int n : released_) out << "ok " << n << '\n';
      }
      released_.clear();
    };
    while (ReadLine(in, line, too_long, pending_cr)) {
      ++line_no;
      current_line_ = line_no;
      std::string_view text = line;
      if (line_no == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
      bool had_command = false;
      auto r = too_long ? Result<Lines>(LineTooLong()) : ExecuteLine(text, &had_command);
      print_released();
      if (r.ok()) {
        for (const auto& s : *r) out << s << '\n';
        // A held setup line is acknowledged when it is applied.
        if (options_.echo && had_command && !held_line_) out << "ok " << line_no << '\n';
        held_line_ = false;
        out.flush();
        continue;
      }
      held_line_ = false;
      Status s = WithLine(r.status(), line_no);
      err << s.message() << '\n';
      if (!options_.keep_going || IsStorageError(s)) {
        if (!held_.empty()) {
          err << "nothing of the script was applied (lines " << held_.front().line << " to "
              << held_.back().line << " held setup that was to be applied with the first command)\n";
        }
        StopHolding();
      }
      err.flush();
      out.flush();
      if (IsStorageError(s)) return s;  // nothing more can work
      if (first.ok()) first = s;
      if (!options_.keep_going) return first;  // a line too long is not read to its end
      if (too_long) SkipRestOfLine(in, pending_cr);
    }
    current_line_ = 0;
    if (in.bad()) {
      StopHolding();  // a script that could not be read to its end is not a prefix to apply
      if (first.ok())
        first = Status::IOError("reading the script failed after line " + std::to_string(line_no));
      return first;
    }
    Status released = Release();
    print_released();
    out.flush();
    if (!released.ok()) {
      err << released.message() << '\n';
      err.flush();
      if (first.ok() || IsStorageError(released)) first = released;
    }
    return first;
  }

  Instant Now() const override { return engine_->Now(); }

 private:
  Result<Lines> ExecuteLine(std::string_view line, bool* had_command) {
    auto words = script::SplitLine(line);
    if (!words.ok()) return words.status();
    if (words->empty()) return Lines{};
    if (had_command) *had_command = true;
    return Guarded(*words);
  }

  static Status LineTooLong() {
    return Status::InvalidArgument("the line is longer than " + std::to_string(script::kMaxLineBytes) +
                                   " bytes (the longest line a script may have)");
  }

  // No exception escapes the library: the engine and the JSON builders should
  // not throw, but a stray one becomes an error on this line. Except running
  // out of memory, which is not bad input: std::bad_alloc propagates.
  Result<Lines> Guarded(const std::vector<script::Word>& words) {
    try {
      auto args = script::ParseArgs(words);
      if (!args.ok()) return args.status();
      return Dispatch(*args);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      return Status::InvalidArgument(std::string("unexpected error: ") + e.what());
    }
  }

  Result<Lines> Dispatch(const Args& a) {
    switch (a.spec->cls) {
      case CommandClass::kSetup:
        return DoSetup(a);
      case CommandClass::kClock:
        return DoClock(a);
      case CommandClass::kCase:
        return DoCase(a);
      case CommandClass::kQuery:
        return DoQuery(a);
      case CommandClass::kExpect:
        return DoExpect(a);
    }
    return Status::InvalidArgument("unhandled command " + Q(a.spec->name));
  }

  // Whether the script clock has been set: by the database's history, by an
  // `at`, or by the host moving the engine's manual clock directly.
  bool ClockSet() const { return clock_set_ || MicrosOf(engine_->Now()) > 0; }

  // The configuration the next line sees: the engine's, with the held setup lines applied.
  Config Cfg() const { return held_config_ ? *held_config_ : engine_->CurrentConfig(); }

  Calendar Cal() const { return held_config_ ? held_config_->calendar : engine_->CurrentConfig().calendar; }

  // The offset that query output is written at: a zone's offset in effect at
  // the script clock (one offset for a whole answer).
  int Offset() const { return OffsetAt(Cal(), engine_->Now()); }

  std::string Format(Instant t) const { return FormatInstant(t, Cal()); }

  Instant QueryNow() const {
    if (options_.system_now) return std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
    return engine_->Now();
  }

  // Whether the script clock may move to `t` (it only moves forward).
  Status CheckClockMove(Instant t) const {
    if (ClockSet() && t < engine_->Now()) {
      return Status::InvalidArgument(
          "time " + Format(t) + " is before the script clock " + Format(engine_->Now()) +
          " (the clock starts at the latest recorded instant and only moves forward)");
    }
    return Status::Ok();
  }

  // Moves the script clock forward to `t` (firing the deadline timers it passes).
  Status MoveClockTo(Instant t) {
    CASELOOP_RETURN_IF_ERROR(CheckClockMove(t));
    if (t > engine_->Now()) CASELOOP_RETURN_IF_ERROR(engine_->AdvanceTo(t));
    clock_set_ = true;
    return Status::Ok();
  }

  // The system-clock mode (ScriptOptions::system_now): the script clock is
  // moved to the system time before each command.
  Status SyncSystemClock() {
    const Instant t = std::chrono::time_point_cast<Micros>(std::chrono::system_clock::now());
    if (t < engine_->Now()) {
      return Status::InvalidArgument("the system time " + Format(t) +
                                     " is before the latest recorded instant " + Format(engine_->Now()) +
                                     " of the database: on the system clock (--now) no command can be "
                                     "stamped before it");
    }
    return MoveClockTo(t);
  }

  static Status SystemClockRefusal(std::string_view what) {
    return Status::InvalidArgument(
        std::string(what) +
        " sets the script clock, and this script runs on the system clock (--now): "
        "every command is stamped with the system time. Remove it, or run the "
        "script without --now");
  }

  // ---- Held setup (Run) -------------------------------------------------------
  struct HeldChange {
    ConfigChange change;
    int line = 0;
  };

  void StartHolding() {
    holding_ = true;
    held_.clear();
    held_config_.reset();
    released_.clear();
  }

  void StopHolding() {
    holding_ = false;
    held_.clear();
    held_config_.reset();
  }

  // Applies the held setup lines, in order; they stop being held either way.
  Status Release() {
    if (!holding_) return Status::Ok();
    std::vector<HeldChange> held = std::move(held_);
    StopHolding();
    for (const HeldChange& h : held) {
      Status applied = ApplyConfiguration(h.change);
      if (!applied.ok())
        return Status(applied.code(), "applying line " + std::to_string(h.line) + ": " + applied.message());
      released_.push_back(h.line);
    }
    return Status::Ok();
  }

  // One configuration change, stamped with the script clock once it is set.
  Status ApplyConfiguration(const ConfigChange& ch) {
    if (options_.system_now) CASELOOP_RETURN_IF_ERROR(SyncSystemClock());
    std::optional<Instant> at;
    if (ClockSet()) at = engine_->Now();
    auto ack = engine_->Configure(ch, at);
    return ack.status();
  }

  // ---- Setup ----------------------------------------------------------------
  Result<Lines> DoSetup(const Args& a) {
    const Config cfg = Cfg();
    const std::string_view name = a.spec->name;
    ConfigChange ch;
    if (name == "calendar" && a.Has("zone")) {
      // An IANA zone (daylight saving included), or "none": the fixed tz again.
      if (a.Has("tz") || a.Has("workdays") || a.Has("periods")) {
        return Status::InvalidArgument(
            "zone: goes on a calendar line of its own (without tz, workdays, periods)");
      }
      ch.type = ConfigChangeType::kSetCalendarZone;
      ch.calendar = cfg.calendar;
      const std::string zone = a.Get("zone");
      if (zone == "none") {
        ch.calendar.zone.clear();
      } else {
        if (Status s = CheckZoneName(zone); !s.ok()) return Status::InvalidArgument("zone: " + s.message());
        ch.calendar.zone = zone;
      }
    } else if (name == "calendar") {
      ch.type = ConfigChangeType::kSetCalendar;
      ch.calendar = cfg.calendar;
      if (a.Has("tz") && !cfg.calendar.zone.empty()) {
        return Status::InvalidArgument("tz: the calendar is in zone " + cfg.calendar.zone +
                                       ", which sets its offsets; `calendar zone=none` first goes back to a "
                                       "fixed offset");
      }
      if (a.Has("tz")) {
        auto tz = ParseUtcOffset(a.Get("tz"));
        if (!tz.ok()) return Status::InvalidArgument("tz: " + tz.status().message());
        ch.calendar.utc_offset_minutes = *tz;
      }
      if (a.Has("workdays")) {
        auto w = ParseWorkdays(a.Get("workdays"));
        if (!w.ok()) {
          return Status::InvalidArgument("workdays: " + w.status().message());
        }
        ch.calendar.workdays = *w;
      }
      if (a.Has("periods")) {
        auto p = ParsePeriods(a.Get("periods"));
        if (!p.ok()) {
          return Status::InvalidArgument("periods: " + p.status().message());
        }
        ch.calendar.periods = *p;
      }
    } else if (name == "holiday" || name == "workday") {
      ch.type = name == "holiday" ? ConfigChangeType::kAddHoliday : ConfigChangeType::kAddWorkday;
      auto d = ParseLocalDate(a.positionals[0]);
      if (!d.ok()) return Status::InvalidArgument(std::string(name) + ": " + d.status().message());
      ch.date = *d;
    } else if (name == "unit") {
      ch.type = ConfigChangeType::kDefineUnit;
      ch.unit.id = a.positionals[0];
      ch.unit.name = a.Has("name") ? a.Get("name") : a.positionals[0];
    } else if (name == "inspector") {
      ch.type = ConfigChangeType::kDefineInspector;
      ch.inspector.id = a.positionals[0];
      ch.inspector.grid_prefix = a.Get("grid");
    } else if (name == "staff") {
      ch.type = ConfigChangeType::kDefineStaff;
      ch.staff.id = a.positionals[0];
      std::string roles = a.Get("role");
      std::size_t start = 0;
      while (start <= roles.size()) {
        std::size_t comma = roles.find(',', start);
        if (comma == std::string::npos) comma = roles.size();
        std::string r = roles.substr(start, comma - start);
        auto role = ParseRole(r);
        if (!role) {
          return Status::InvalidArgument("unknown role " + Q(r) +
                                         " (roles: receiver, shift_leader, dispatcher, supervisor)");
        }
        if (std::find(ch.staff.roles.begin(), ch.staff.roles.end(), *role) == ch.staff.roles.end()) {
          ch.staff.roles.push_back(*role);
        }
        start = comma + 1;
      }
    } else if (name == "category") {
      ch.type = ConfigChangeType::kDefineCategory;
      auto kind = ParseKindText("KIND " + Q(a.positionals[0]), a.positionals[0]);
      if (!kind.ok()) return kind.status();
      ch.category.kind = *kind;
      ch.category.code = a.positionals[1];
      ch.category.name = a.Has("name") ? a.Get("name") : a.positionals[1];
      auto limit = ParseDurationText("limit", a.Get("limit"));
      if (!limit.ok()) return limit.status();
      ch.category.limit = *limit;
      if (a.Has("emergency_limit")) {
        auto e = ParseDurationText("emergency_limit", a.Get("emergency_limit"));
        if (!e.ok()) return e.status();
        ch.category.emergency_limit = *e;
      }
      if (a.Has("verify_limit")) {
        auto v = ParseDurationText("verify_limit", a.Get("verify_limit"));
        if (!v.ok()) return v.status();
        ch.category.verify_limit = *v;
      }
    } else if (name == "route") {
      ch.type = ConfigChangeType::kDefineRoute;
      auto kind = ParseKindText("KIND " + Q(a.positionals[0]), a.positionals[0]);
      if (!kind.ok()) return kind.status();
      ch.route.kind = *kind;
      ch.route.code = a.positionals[1];
      ch.route.unit = a.positionals[2];
      ch.route.grid_prefix = a.Get("grid");
    } else if (name == "weights") {
      ch.type = ConfigChangeType::kSetWeights;
      ch.weights = cfg.weights;
      std::pair<std::string_view, double*> fields[] = {{"handling", &ch.weights.handling},
                                                       {"on_time", &ch.weights.on_time},
                                                       {"rework", &ch.weights.rework},
                                                       {"overdue", &ch.weights.overdue},
                                                       {"extension", &ch.weights.extension}};
      for (auto& [key, field] : fields) {
        if (!a.Has(key)) continue;
        auto v = ParseNumber(key, a.Get(key));
        if (!v.ok()) return v.status();
        if (*v < 0)
          return Status::InvalidArgument("bad weight " + KeyText(key, a.Get(key)) + ": must not be negative");
        *field = *v;
      }
    } else if (name == "policy") {
      ch.type = ConfigChangeType::kSetPolicy;
      ch.policy = cfg.policy;
      if (a.Has("enforce_permissions")) {
        auto b = ParseBool("enforce_permissions", a.Get("enforce_permissions"));
        if (!b.ok()) return b.status();
        ch.policy.enforce_permissions = *b;
      }
      if (a.Has("rework_fresh_limit")) {
        auto b = ParseBool("rework_fresh_limit", a.Get("rework_fresh_limit"));
        if (!b.ok()) return b.status();
        ch.policy.rework_fresh_limit = *b;
      }
      if (a.Has("yellow_percent")) {
        auto v = ParseInteger("yellow_percent", a.Get("yellow_percent"));
        if (!v.ok()) return v.status();
        if (*v < 0 || *v > 100) {
          return Status::InvalidArgument("bad " + KeyText("yellow_percent", a.Get("yellow_percent")) +
                                         ": must be 0 to 100");
        }
        ch.policy.yellow_percent = static_cast<int>(*v);
      }
      if (a.Has("grid_group_digits")) {
        auto v = ParseInteger("grid_group_digits", a.Get("grid_group_digits"));
        if (!v.ok()) return v.status();
        if (*v < 0 || *v > 15) {
          return Status::InvalidArgument("bad " + KeyText("grid_group_digits", a.Get("grid_group_digits")) +
                                         ": must be 0 to 15");
        }
        ch.policy.grid_group_digits = static_cast<int>(*v);
      }
      if (a.Has("auto_supervise")) {
        const std::string text = a.Get("auto_supervise");
        if (text == "off" || text == "0") {
          ch.policy.auto_supervise_after_working_minutes = 0;
        } else {
          auto d = ParseDurationText("auto_supervise", text);
          if (!d.ok()) return d.status();
          ch.policy.auto_supervise_after_working_minutes =
              d->unit == TimeLimit::Unit::kWorkingDays ? d->amount * cfg.calendar.WorkingMinutesPerDay()
                                                       : d->amount;
        }
      }
    } else {
      return Status::InvalidArgument("unhandled setup command " + Q(name));
    }
    if (holding_) {
      // Checked as Engine::Configure checks it, applied with the first command (Run).
      CASELOOP_RETURN_IF_ERROR(CheckConfigChangeText(ch));
      Config next = cfg;
      CASELOOP_RETURN_IF_ERROR(ApplyConfigChange(next, ch));
      held_config_ = std::move(next);
      held_.push_back({std::move(ch), current_line_});
      held_line_ = true;
      return Lines{};
    }
    CASELOOP_RETURN_IF_ERROR(ApplyConfiguration(ch));
    return Lines{};
  }

  // ---- Clock ----------------------------------------------------------------
  Result<Lines> DoClock(const Args& a) {
    if (options_.system_now) return SystemClockRefusal(Q(a.spec->name));
    if (a.spec->name == "at") {
      auto t = ParseTimeText("at", a.positionals[0], Cal());
      if (!t.ok()) return t.status();
      CASELOOP_RETURN_IF_ERROR(CheckClockMove(*t));
      CASELOOP_RETURN_IF_ERROR(Release());
      CASELOOP_RETURN_IF_ERROR(MoveClockTo(*t));
      return Lines{};
    }
    // advance DURATION
    auto d = ParseDurationText("advance", a.positionals[0]);
    if (!d.ok()) return d.status();
    if (!ClockSet()) {
      return Status::InvalidArgument(
          "'advance' before the first 'at': the clock of a new database is not set");
    }
    CASELOOP_RETURN_IF_ERROR(Release());
    const Config cfg = engine_->CurrentConfig();
    CASELOOP_RETURN_IF_ERROR(MoveClockTo(DeadlineAfter(cfg.calendar, engine_->Now(), *d)));
    return Lines{};
  }

  // ---- Case commands --------------------------------------------------------
  Result<Lines> DoCase(const Args& a) {
    TextFields fields;
    for (const auto& [key, value] : a.keys) fields.emplace_back(key, value);
    for (const auto& flag : a.flags) fields.emplace_back(flag, "true");
    auto c = CommandFromFields(a.spec->command->type, a.positionals[0], fields, Offset());
    if (!c.ok()) return c.status();
    if (options_.system_now) {
      if (c->at) return SystemClockRefusal(Q(a.spec->name) + "'s at=");
      CASELOOP_RETURN_IF_ERROR(Release());
      CASELOOP_RETURN_IF_ERROR(SyncSystemClock());
    } else if (c->at) {
      CASELOOP_RETURN_IF_ERROR(CheckClockMove(*c->at));
      CASELOOP_RETURN_IF_ERROR(Release());
      CASELOOP_RETURN_IF_ERROR(MoveClockTo(*c->at));
    } else if (!ClockSet()) {
      return Status::InvalidArgument(Q(a.spec->name) +
                                     " before the first 'at': the clock of a new database is not set (write "
                                     "'at TIME' first, or give the command at=TIME)");
    } else {
      CASELOOP_RETURN_IF_ERROR(Release());
    }
    c->at = engine_->Now();
    auto ack = engine_->Submit(*c);
    if (!ack.ok()) return ack.status();
    return Lines{};
  }

  // ---- Queries --------------------------------------------------------------
  Result<std::optional<Instant>> OptionalTime(const Args& a, std::string_view key, int offset) {
    if (!a.Has(key)) return std::optional<Instant>();
    (void)offset;
    auto t = ParseTimeText(key, a.Get(key), Cal());
    if (!t.ok()) return t.status();
    return std::optional<Instant>(*t);
  }

  Result<PeriodQuery> Period(const Args& a, int offset) {
    PeriodQuery q;
    auto from = ParseTimeText("from", a.Get("from"), Cal());
    if (!from.ok()) return from.status();
    auto to = ParseTimeText("to", a.Get("to"), Cal());
    if (!to.ok()) return to.status();
    if (*to <= *from) {
      return Status::InvalidArgument("empty period: to=" + a.Get("to") +
                                     " is not after from=" + a.Get("from"));
    }
    q.from = *from;
    q.to = *to;
    auto at = OptionalTime(a, "at", offset);
    if (!at.ok()) return at.status();
    // Default: evaluated at `to`, or now if earlier (domain.md §7).
    q.at = QueryInstant(*at, q.to, QueryNow());
    q.unit = a.Get("unit");
    return q;
  }

  Result<Lines> DoQuery(const Args& a) {
    CASELOOP_RETURN_IF_ERROR(Release());  // a query sees the setup before it
    const int offset = Offset();
    const std::string_view name = a.spec->name;
    Lines out;
    if (name == "show") {
      auto at = OptionalTime(a, "at", offset);
      if (!at.ok()) return at.status();
      // Without at=: the case as it is, its light now (--now: the system time).
      std::optional<Instant> when = *at;
      if (!when && options_.system_now) when = QueryNow();
      auto v = engine_->Show(a.positionals[0], when);
      if (!v.ok()) return v.status();
      out.push_back(ToJson(*v, offset));
    } else if (name == "history") {
      auto at = OptionalTime(a, "at", offset);
      if (!at.ok()) return at.status();
      // The whole history; with at=, the events up to it (what show at= replays);
      // --now: those up to the system time.
      std::optional<Instant> when = *at;
      if (!when && options_.system_now) when = QueryNow();
      auto h = engine_->History(a.positionals[0], when);
      if (!h.ok()) return h.status();
      for (const auto& e : *h) out.push_back(ToJson(e, offset));
    } else if (name == "rates" || name == "inspectors" || name == "centre") {
      auto q = Period(a, offset);
      if (!q.ok()) return q.status();
      if (name == "rates") {
        auto r = engine_->Rates(*q);
        if (!r.ok()) return r.status();
        for (const auto& u : *r) out.push_back(ToJson(u));
      } else if (name == "inspectors") {
        auto r = engine_->Inspectors(*q);
        if (!r.ok()) return r.status();
        for (const auto& i : *r) out.push_back(ToJson(i));
      } else {
        auto r = engine_->Centre(*q);
        if (!r.ok()) return r.status();
        out.push_back(ToJson(*r));
      }
    } else if (name == "overdue" || name == "workload") {
      auto at = OptionalTime(a, "at", offset);
      if (!at.ok()) return at.status();
      const Instant t = QueryInstant(*at, std::nullopt, QueryNow());
      if (name == "overdue") {
        auto r = engine_->Overdue(t);
        if (!r.ok()) return r.status();
        for (const auto& o : *r) out.push_back(ToJson(o, offset));
      } else {
        auto r = engine_->Workload(t);
        if (!r.ok()) return r.status();
        for (const auto& w : *r) out.push_back(ToJson(w));
      }
    } else {
      return Status::InvalidArgument("unhandled query " + Q(name));
    }
    return out;
  }

  // ---- expect ---------------------------------------------------------------
  Result<Lines> DoExpect(const Args& a) {
    const ExpectWriter& fields = ShowTemplate();
    for (const auto& [key, value] : a.keys) {
      if (fields.Find(key) == nullptr) {
        std::string names;
        for (const auto& [name, text] : fields.fields()) names += (names.empty() ? "" : ", ") + name;
        return Status::InvalidArgument("unknown field " + Q(key) + " for 'expect' (fields: " + names + ")");
      }
    }
    CASELOOP_RETURN_IF_ERROR(Release());
    if (options_.system_now) CASELOOP_RETURN_IF_ERROR(SyncSystemClock());
    const int offset = Offset();
    auto v = engine_->Show(a.positionals[0], engine_->Now());
    if (!v.ok()) return v.status();
    ExpectWriter shown(offset);
    Write(*v, shown);
    std::string mismatches;
    for (const auto& [key, expected] : a.keys) {
      const std::string& actual = *shown.Find(key);
      if (actual == expected) continue;
      if (!mismatches.empty()) mismatches += "; ";
      mismatches += key + " is " + actual + ", expected " + Printable(expected);
    }
    if (!mismatches.empty()) {
      return Status::Rejected("expect " + a.positionals[0] + " at " + FormatInstant(engine_->Now(), offset) +
                              ": " + mismatches);
    }
    return Lines{};
  }

  Engine* engine_;
  ScriptOptions options_;
  bool clock_set_ = false;
  // Run's held setup lines (see Run).
  bool holding_ = false;
  std::vector<HeldChange> held_;
  std::optional<Config> held_config_;  // the configuration with them applied
  std::vector<int> released_;          // lines applied by the line just run, for echo
  bool held_line_ = false;             // the line just run was held
  int current_line_ = 0;
};

}  // namespace

Result<std::unique_ptr<ScriptSession>> ScriptSession::Create(Engine* engine, const ScriptOptions& options) {
  if (engine == nullptr) return Status::InvalidArgument("ScriptSession::Create: engine is null");
  auto session = std::make_unique<SessionImpl>(engine, options);
  CASELOOP_RETURN_IF_ERROR(session->Init());
  return std::unique_ptr<ScriptSession>(std::move(session));
}

}  // namespace caseloop
