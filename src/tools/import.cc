// ImportCsv (caseloop/tools.h): history from a CSV export becomes cases.
//
// Each valid row is a chain of commands on its own case: report, register,
// dispatch (at the created time, to the row's unit, with the due time as the
// deadline or with no deadline) and, when the row is closed, accept, feedback
// and a passing verification (at the closed time).
//
// Bulk path (the default): the driver thread parses kBulkRows rows, then hands
// them to Engine::SubmitBatch, one group per row: the engine decides the row's
// commands in order (the same events as one at a time) and appends them in
// one atomic write under the command id "import/<case>", so a crash leaves
// each row whole or absent; the batch is durable when SubmitBatch returns.
// A row the batch could not finish (the case exists already, a refused
// command) continues on the per-command path below, as if that command had
// just completed with that result.
//
// Per-command path: the driver submits each command with SubmitAsync and a
// deterministic id ("import/<case>/<step>"); engine threads only post
// completions back to it, so every decision is taken on one thread while many
// rows are in flight. A case that already exists is compared with the row
// through its history (see Reconcile), so a repeated import appends nothing.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <ostream>
#include <set>
#include <string_view>
#include <unordered_map>

#include "caseloop/calendar.h"
#include "caseloop/engine.h"
#include "caseloop/tools.h"
#include "tools/completion_queue.h"
#include "tools/csv_reader.h"
#include "tools/import_internal.h"
#include "tools/progress_bar.h"
#include "tools/time_format.h"

namespace caseloop {
namespace {

// The centre's import actor (receiver, shift leader, dispatcher) and the
// inspector who verifies imported closures. Ids may not start with '$'.
constexpr char kImportStaff[] = "import";
constexpr char kImportInspector[] = "import-verifier";
// Categories the import defines live in the event classes 90..99: 9000 is the
// generic one, 9001..9999 are given, in order of first appearance, to the
// category values of the file that the catalogue does not know.
constexpr char kGenericCategory[] = "9000";
constexpr char kGenericCategoryName[] = "imported (no category)";
constexpr std::size_t kMaxInFlight = 512;
// Rows per Engine::SubmitBatch call (and per Flush of the store).
constexpr std::size_t kBulkRows = 1024;

enum Step : int { kReportStep, kRegisterStep, kDispatchStep, kAcceptStep, kFeedbackStep, kVerifyStep, kDone };

// The command of a step, for command ids and messages ("done" for kDone).
std::string_view StepName(int step) {
  constexpr std::string_view kNames[] = {"report", "register", "dispatch", "accept", "feedback", "verify"};
  return step >= kReportStep && step < kDone ? kNames[step] : "done";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::uint32_t Fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

// A unit id from a column value: blanks and control characters become '_'
// (runs collapse), a leading '$' becomes '_', and a value longer than 64
// bytes keeps its first 55 bytes plus '~' and a hash. The value itself is the
// unit's name.
std::string UnitIdFromValue(std::string_view value) {
  std::string id;
  bool blank = false;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      if (!blank) id.push_back('_');
      blank = true;
    } else {
      id.push_back(c);
      blank = false;
    }
  }
  if (!id.empty() && id[0] == '$') id[0] = '_';
  if (id.size() > 64) {
    std::size_t cut = 55;
    while (cut > 0 && (static_cast<unsigned char>(id[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    id = fmt::format("{}~{:08x}", id.substr(0, cut), Fnv1a(value));
  }
  return id;
}

// The parsed content of a row, as compared between duplicate rows and with
// an existing case.
struct RowContent {
  std::int64_t line = 0;
  Instant created{};
  std::string unit;  // unit id
  std::optional<Instant> due;
  std::optional<Instant> closed;
  CaseKind kind = CaseKind::kEvent;
  std::string category;
};

struct Row {
  std::string id;
  RowContent content;
  int step = kReportStep;
  bool existing = false;        // the case was there before this run
  bool verify_retried = false;  // the verification was retried with the assigned inspector
  std::string verifier = kImportInspector;
};

struct Completion {
  std::size_t slot;
  Result<CommandAck> result;
};

class Importer {
 public:
  Importer(Engine& engine, const ImportOptions& options, std::ostream& out, std::ostream& err, bool bulk)
      : engine_(engine), options_(options), out_(out), err_(err), bulk_(bulk) {}

  Result<ImportSummary> Run();

 private:
  Status OpenColumns(const tools::CsvReader::Record& header);
  Status TakeZone();
  Status EnsureActors();
  // Parses and checks a record; returns false (after recording why, or
  // counting it unchanged) when it is not to be submitted.
  bool ParseRow(const tools::CsvReader::Record& rec, Row& row);
  Result<Instant> ParseTime(std::string_view text);
  Result<std::string> UnitFor(std::string_view value);
  Result<std::pair<CaseKind, std::string>> CategoryFor(std::string_view value);
  Status Define(const ConfigChange& change);

  // `with_id`: set the per-command id (the bulk path uses one id per row).
  Command MakeCommand(const Row& row, int step, bool with_id = true) const;
  void Submit(std::size_t slot);
  // Bulk path: submits `rows` as one Engine::SubmitBatch; rows it could not
  // finish continue on the per-command path (TakeSlot + OnCompletion).
  void SubmitBulk(std::vector<Row>& rows);
  // A free slot for `row` (waiting for completions while none is free).
  std::size_t TakeSlot(Row row);
  // Handles completions until nothing is in flight.
  void Drain();
  void OnCompletion(Completion& c);
  // The case exists already: compare it with the row and continue it, or
  // count it unchanged, or skip the row.
  void Reconcile(std::size_t slot);
  void Finish(std::size_t slot);
  void Skip(std::int64_t line, std::string reason);
  // A row imported with a remark (the close time and the status disagree).
  void Note(std::int64_t line, std::string reason);
  void SkipSlot(std::size_t slot, std::string reason);

  Engine& engine_;
  const ImportOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  const bool bulk_;
  ImportSummary summary_;
  Status fatal_;
  std::vector<std::pair<std::int64_t, std::string>> errors_;

  Calendar time_zone_;  // the zone of the file's times (only its offset and zone are read)
  bool iso_times_ = false;
  int col_id_ = -1, col_created_ = -1, col_unit_ = -1, col_due_ = -1, col_closed_ = -1, col_category_ = -1;
  int col_status_ = -1;
  int needed_fields_ = 0;

  Config config_;
  std::unordered_map<std::string, std::string> unit_ids_;               // column value -> unit id
  std::unordered_map<std::string, std::string> unit_values_;            // unit id -> column value
  std::map<std::string, std::pair<CaseKind, std::string>> categories_;  // column value -> (kind, code)
  int next_category_code_ = 9001;
  std::unordered_map<std::string, RowContent> seen_;  // case id -> first row with it

  std::vector<Row> slots_;
  std::vector<std::size_t> free_;
  std::size_t in_flight_ = 0;
  tools::CompletionQueue<Completion> queue_;
};

Status Importer::OpenColumns(const tools::CsvReader::Record& header) {
  // The first of repeated names wins (Boston's export repeats two columns).
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < header.fields.size(); ++i) {
    index.emplace(std::string(Trim(header.fields[i])), static_cast<int>(i));
  }
  std::vector<std::string> missing;
  auto find = [&](const std::string& name, const char* flag, int& col, bool required) {
    if (name.empty()) {
      if (required) missing.push_back(fmt::format("{} (not given)", flag));
      return;
    }
    auto it = index.find(name);
    if (it == index.end()) {
      missing.push_back(fmt::format("'{}' ({})", name, flag));
      return;
    }
    col = it->second;
    needed_fields_ = std::max(needed_fields_, col + 1);
  };
  find(options_.id_column, "--id", col_id_, true);
  find(options_.created_column, "--created", col_created_, true);
  find(options_.unit_column, "--unit", col_unit_, true);
  find(options_.due_column, "--due", col_due_, false);
  find(options_.closed_column, "--closed", col_closed_, false);
  find(options_.category_column, "--category", col_category_, false);
  find(options_.status_column, "--status", col_status_, false);
  if (!missing.empty()) {
    std::string have;
    for (std::size_t i = 0; i < header.fields.size() && i < 40; ++i) {
      have += (i ? ", " : "") + header.fields[i];
    }
    std::string list;
    for (std::size_t i = 0; i < missing.size(); ++i) list += (i ? ", " : "") + missing[i];
    return Status::InvalidArgument(
        fmt::format("{}: no column {} in the header (columns: {})", options_.file, list, have));
  }
  return Status::Ok();
}

Status Importer::Define(const ConfigChange& change) {
  auto ack = engine_.Configure(change);
  if (!ack.ok()) return ack.status();
  return ApplyConfigChange(config_, change);
}

// --tz is the zone of the file's times, and so of the district the file
// describes (issue 22): its calendar must cut days at the same midnight, or
// the day-bounded queries count the wrong cases and every time prints in
// another zone. A new database (no event yet) takes it as its calendar's
// zone; one that holds events at another zone refuses it.
Status Importer::TakeZone() {
  if (options_.utc_offset_minutes && !options_.zone.empty()) {
    return Status::InvalidArgument(
        "import: give the zone of the file's times as an offset or a zone name, not both");
  }
  if (!options_.zone.empty()) CASELOOP_RETURN_IF_ERROR(CheckZoneName(options_.zone));
  Calendar wanted = config_.calendar;
  if (options_.utc_offset_minutes) {
    wanted.zone.clear();
    wanted.utc_offset_minutes = *options_.utc_offset_minutes;
  } else if (!options_.zone.empty()) {
    wanted.zone = options_.zone;
  }
  if (ZoneText(wanted) == ZoneText(config_.calendar)) return Status::Ok();
  const std::string tz = ZoneText(wanted);
  const std::string calendar = ZoneText(config_.calendar);
  if (engine_.HeadPosition() != 0) {
    return Status::InvalidArgument(fmt::format(
        "import: --tz {} is not the zone of this database's calendar ({}): its days are cut at {} midnight. "
        "Import the file into a new database (which takes the zone of --tz), or give --tz {} if the file's "
        "times are at {}",
        tz, calendar, calendar, calendar, calendar));
  }
  ConfigChange c;
  c.calendar = wanted;
  if (!config_.calendar.zone.empty() && wanted.zone != config_.calendar.zone) {
    // Out of the zone first (to another zone, or to the fixed offset).
    c.type = ConfigChangeType::kSetCalendarZone;
    CASELOOP_RETURN_IF_ERROR(Define(c));
    if (!wanted.zone.empty()) return Status::Ok();
  } else if (!wanted.zone.empty()) {
    c.type = ConfigChangeType::kSetCalendarZone;
    return Define(c);
  }
  if (wanted.utc_offset_minutes == config_.calendar.utc_offset_minutes) return Status::Ok();
  c.type = ConfigChangeType::kSetCalendar;
  return Define(c);
}

Status Importer::EnsureActors() {
  if (!config_.HasRole(kImportStaff, Role::kReceiver) || !config_.HasRole(kImportStaff, Role::kShiftLeader) ||
      !config_.HasRole(kImportStaff, Role::kDispatcher)) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineStaff;
    c.staff = {kImportStaff, {Role::kReceiver, Role::kShiftLeader, Role::kDispatcher}};
    CASELOOP_RETURN_IF_ERROR(Define(c));
  }
  if (config_.inspectors.count(kImportInspector) == 0) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineInspector;
    c.inspector = {kImportInspector, ""};
    CASELOOP_RETURN_IF_ERROR(Define(c));
  }
  return Status::Ok();
}

Result<Instant> Importer::ParseTime(std::string_view text) {
  if (iso_times_) return ParseInstant(Trim(text), time_zone_);
  if (time_zone_.zone.empty()) {
    return tools::ParseTimeWithFormat(text, options_.time_format, time_zone_.utc_offset_minutes);
  }
  // Read as UTC, that is as the local civil time, then placed in the zone.
  auto local = tools::ParseTimeWithFormat(text, options_.time_format, 0);
  if (!local.ok()) return local.status();
  return ZoneInstant(time_zone_, MicrosOf(*local));
}

Result<std::string> Importer::UnitFor(std::string_view value) {
  std::string v(Trim(value));
  auto it = unit_ids_.find(v);
  if (it != unit_ids_.end()) return it->second;
  std::string id = UnitIdFromValue(v);
  auto other = unit_values_.find(id);
  if (other != unit_values_.end() && other->second != v) {
    id = fmt::format("{}~{:08x}", id.substr(0, 55), Fnv1a(v));  // two values, one id
  }
  if (config_.units.count(id) == 0) {
    ConfigChange c;
    c.type = ConfigChangeType::kDefineUnit;
    c.unit = {id, v};
    Status s = Define(c);
    if (!s.ok()) return s;
  }
  unit_ids_[v] = id;
  unit_values_[id] = v;
  return id;
}

Result<std::pair<CaseKind, std::string>> Importer::CategoryFor(std::string_view value) {
  std::string v(Trim(value));
  auto it = categories_.find(v);
  if (it != categories_.end()) return it->second;
  std::optional<std::pair<CaseKind, std::string>> found;
  if (v.empty()) {
    if (config_.FindCategory(CaseKind::kEvent, kGenericCategory) == nullptr) {
      ConfigChange c;
      c.type = ConfigChangeType::kDefineCategory;
      c.category.kind = CaseKind::kEvent;
      c.category.code = kGenericCategory;
      c.category.name = kGenericCategoryName;
      Status s = Define(c);
      if (!s.ok()) return s;
    }
    found = {CaseKind::kEvent, kGenericCategory};
  } else if (v.size() == 4 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // A code the catalogue knows (events first).
    if (config_.FindCategory(CaseKind::kEvent, v))
      found = {CaseKind::kEvent, v};
    else if (config_.FindCategory(CaseKind::kComponent, v))
      found = {CaseKind::kComponent, v};
  }
  if (!found) {
    // A category of that name (an earlier import defined it).
    for (const auto& [key, info] : config_.categories) {
      if (info.name == v) {
        found = key;
        break;
      }
    }
  }
  if (!found) {
    while (next_category_code_ <= 9999 &&
           config_.FindCategory(CaseKind::kEvent, std::to_string(next_category_code_)) != nullptr) {
      ++next_category_code_;
    }
    if (next_category_code_ > 9999) {
      return Status::InvalidArgument(
          fmt::format("category '{}': no free code left in 9001..9999 for imported categories", v));
    }
    ConfigChange c;
    c.type = ConfigChangeType::kDefineCategory;
    c.category.kind = CaseKind::kEvent;
    c.category.code = std::to_string(next_category_code_);
    c.category.name = v;
    Status s = Define(c);
    if (!s.ok()) return s;
    found = {CaseKind::kEvent, c.category.code};
  }
  categories_[v] = *found;
  return *found;
}

void Importer::Note(std::int64_t line, std::string reason) {
  ++summary_.status_disagrees;
  errors_.emplace_back(line, fmt::format("row {}: {}", line, reason));
}

void Importer::Skip(std::int64_t line, std::string reason) {
  ++summary_.skipped;
  errors_.emplace_back(line, fmt::format("row {}: {}", line, reason));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string JoinValues(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ",") + v;
  return out;
}

// The row errors, in row order, a reason that repeats grouped into one line
// with its count and its first rows (re-importing with other options gives
// thousands of rows the same reason):
//   row 7: case 12: empty unit (column 'dept')
//   4995 rows: already exists with a different created (row 2: case 101; row 3: case 102; row 4: case 103; …)
// A reason's case ("case ID: ") is not part of it.
void WriteRowErrors(const std::vector<std::pair<std::int64_t, std::string>>& errors, std::ostream& err) {
  constexpr std::size_t kShown = 3;
  struct Group {
    std::size_t first = 0;  // index of its first row in `errors`
    std::int64_t count = 0;
    std::vector<std::string> shown;  // "row N: case ID" of the first few
  };
  struct Parsed {
    std::string where;   // "row N" or "row N: case ID"
    std::string reason;  // the rest
  };
  std::vector<Parsed> parsed;
  std::unordered_map<std::string, Group> groups;
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const std::string& m = errors[i].second;
    std::size_t cut = m.find(": ");  // after "row N"
    if (cut != std::string::npos && m.compare(cut + 2, 5, "case ") == 0) {
      const std::size_t after_case = m.find(": ", cut + 7);
      if (after_case != std::string::npos) cut = after_case;
    }
    Parsed p{cut == std::string::npos ? m : m.substr(0, cut),
             cut == std::string::npos ? "" : m.substr(cut + 2)};
    auto [it, fresh] = groups.try_emplace(p.reason);
    if (fresh) it->second.first = i;
    ++it->second.count;
    if (it->second.shown.size() < kShown) it->second.shown.push_back(p.where);
    parsed.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const Group& g = groups.at(parsed[i].reason);
    if (g.count == 1 || parsed[i].reason.empty()) {
      err << errors[i].second << '\n';
    } else if (g.first == i) {
      std::string rows;
      for (const std::string& w : g.shown) rows += (rows.empty() ? "" : "; ") + w;
      if (g.count > static_cast<std::int64_t>(g.shown.size())) rows += "; …";
      err << g.count << " rows: " << parsed[i].reason << " (" << rows << ")\n";
    }
  }
}

std::string Differences(const RowContent& a, const RowContent& b) {
  std::vector<std::string> d;
  if (a.created != b.created) d.push_back("created");
  if (a.unit != b.unit) d.push_back("unit");
  if (a.due != b.due) d.push_back("due");
  if (a.closed != b.closed) d.push_back("closed");
  if (a.kind != b.kind || a.category != b.category) d.push_back("category");
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) out += (i ? ", " : "") + d[i];
  return out;
}

bool Importer::ParseRow(const tools::CsvReader::Record& rec, Row& row) {
  const std::int64_t line = rec.line;
  if (!rec.error.empty()) {
    Skip(line, "malformed CSV: " + rec.error);
    return false;
  }
  if (static_cast<int>(rec.fields.size()) < needed_fields_) {
    std::string which;
    auto check = [&](int col, const std::string& name) {
      if (col >= static_cast<int>(rec.fields.size()) && which.empty()) which = name;
    };
    check(col_id_, options_.id_column);
    check(col_created_, options_.created_column);
    check(col_unit_, options_.unit_column);
    check(col_due_, options_.due_column);
    check(col_closed_, options_.closed_column);
    check(col_category_, options_.category_column);
    check(col_status_, options_.status_column);
    Skip(line, fmt::format("only {} fields: column '{}' is missing", rec.fields.size(), which));
    return false;
  }
  auto field = [&](int col) { return col < 0 ? std::string_view() : Trim(rec.fields[col]); };
  row.id = std::string(field(col_id_));
  if (row.id.empty()) {
    Skip(line, fmt::format("empty id (column '{}')", options_.id_column));
    return false;
  }
  RowContent& c = row.content;
  c.line = line;
  std::string_view created = field(col_created_);
  if (created.empty()) {
    Skip(line, fmt::format("case {}: empty created time (column '{}')", row.id, options_.created_column));
    return false;
  }
  auto t = ParseTime(created);
  if (!t.ok()) {
    Skip(line,
         fmt::format("case {}: column '{}': {}", row.id, options_.created_column, t.status().message()));
    return false;
  }
  c.created = *t;
  std::string_view unit = field(col_unit_);
  if (unit.empty()) {
    Skip(line, fmt::format("case {}: empty unit (column '{}')", row.id, options_.unit_column));
    return false;
  }
  std::string_view due = field(col_due_);
  if (!due.empty()) {
    auto d = ParseTime(due);
    if (!d.ok()) {
      Skip(line, fmt::format("case {}: column '{}': {}", row.id, options_.due_column, d.status().message()));
      return false;
    }
    if (*d < c.created) {
      Skip(line, fmt::format("case {}: due '{}' is before created '{}'", row.id, due, created));
      return false;
    }
    c.due = *d;
  }
  std::string_view closed = field(col_closed_);
  if (!closed.empty()) {
    auto d = ParseTime(closed);
    if (!d.ok()) {
      Skip(line,
           fmt::format("case {}: column '{}': {}", row.id, options_.closed_column, d.status().message()));
      return false;
    }
    if (*d < c.created) {
      Skip(line, fmt::format("case {}: closed '{}' is before created '{}'", row.id, closed, created));
      return false;
    }
    c.closed = *d;
  }
  // Units and categories are defined as needed (configuration events).
  auto unit_id = UnitFor(unit);
  if (!unit_id.ok()) {
    if (unit_id.status().IsInvalidArgument() || unit_id.status().IsNotFound()) {
      Skip(line, fmt::format("case {}: unit '{}': {}", row.id, unit, unit_id.status().message()));
    } else {
      fatal_ = unit_id.status();
    }
    return false;
  }
  c.unit = *unit_id;
  auto category = CategoryFor(field(col_category_));
  if (!category.ok()) {
    if (category.status().IsInvalidArgument() || category.status().IsNotFound()) {
      Skip(line, fmt::format("case {}: {}", row.id, category.status().message()));
    } else {
      fatal_ = category.status();
    }
    return false;
  }
  c.kind = category->first;
  c.category = category->second;
  // A close time and a status that disagree: imported open, and reported.
  if (col_status_ >= 0) {
    const std::string_view status = field(col_status_);
    const bool closed_status =
        std::any_of(options_.closed_statuses.begin(), options_.closed_statuses.end(),
                    [&](const std::string& v) { return EqualsIgnoreCase(Trim(v), status); });
    if (c.closed && !closed_status) {
      Note(line, fmt::format("case {}: closed '{}' but status '{}' is not closed (--closed-status {}): "
                             "imported open",
                             row.id, closed, status, JoinValues(options_.closed_statuses)));
      c.closed.reset();
    } else if (!c.closed && closed_status) {
      Note(line, fmt::format("case {}: status '{}' but no closed time (column '{}'): imported open", row.id,
                             status, options_.closed_column));
    }
  }
  // The same id twice in the file.
  auto [it, fresh] = seen_.emplace(row.id, c);
  if (!fresh) {
    std::string diff = Differences(it->second, c);
    if (diff.empty()) {
      ++summary_.unchanged;
    } else {
      Skip(line,
           fmt::format("case {}: id already on row {} with a different {}", row.id, it->second.line, diff));
    }
    return false;
  }
  return true;
}

Command Importer::MakeCommand(const Row& row, int step, bool with_id) const {
  const RowContent& c = row.content;
  Command cmd;
  cmd.case_id = row.id;
  if (with_id) cmd.command_id = fmt::format("import/{}/{}", row.id, StepName(step));
  switch (step) {
    case kReportStep:
      cmd.type = CommandType::kReport;
      cmd.actor = kImportStaff;
      cmd.at = c.created;
      cmd.kind = c.kind;
      cmd.category = c.category;
      cmd.source = ReportSource::kHotline;
      break;
    case kRegisterStep:
      cmd.type = CommandType::kRegister;
      cmd.actor = kImportStaff;
      cmd.at = c.created;
      cmd.category = c.category;
      break;
    case kDispatchStep:
      cmd.type = CommandType::kDispatch;
      cmd.actor = kImportStaff;
      cmd.at = c.created;
      cmd.unit = c.unit;
      if (c.due) {
        cmd.deadline = c.due;
      } else {
        cmd.no_deadline = true;
      }
      break;
    case kAcceptStep:
      cmd.type = CommandType::kAccept;
      cmd.actor = c.unit;
      cmd.at = c.closed;
      break;
    case kFeedbackStep:
      cmd.type = CommandType::kFeedback;
      cmd.actor = c.unit;
      cmd.at = c.closed;
      cmd.note = "imported";
      break;
    case kVerifyStep:
      cmd.type = CommandType::kVerify;
      cmd.actor = row.verifier;
      cmd.at = c.closed;
      cmd.verify_pass = true;
      break;
    default:
      break;
  }
  return cmd;
}

void Importer::Submit(std::size_t slot) {
  const Row& row = slots_[slot];
  if (row.step < kReportStep || row.step >= kDone) return;
  engine_.SubmitAsync(MakeCommand(row, row.step), [this, slot](Result<CommandAck> r) {
    queue_.Push(Completion{slot, std::move(r)});
  });
}

std::size_t Importer::TakeSlot(Row row) {
  while (free_.empty()) {
    for (Completion& c : queue_.WaitAll()) OnCompletion(c);
  }
  std::size_t slot = free_.back();
  free_.pop_back();
  ++in_flight_;
  slots_[slot] = std::move(row);
  return slot;
}

void Importer::Drain() {
  while (in_flight_ > 0) {
    for (Completion& c : queue_.WaitAll()) OnCompletion(c);
  }
}

void Importer::SubmitBulk(std::vector<Row>& rows) {
  std::vector<CaseBatch> batch(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    batch[i].command_id = fmt::format("import/{}", row.id);
    const int last = row.content.closed ? kVerifyStep : kDispatchStep;
    batch[i].commands.reserve(static_cast<std::size_t>(last) + 1);
    for (int step = kReportStep; step <= last; ++step)
      batch[i].commands.push_back(MakeCommand(row, step, /*with_id=*/false));
  }
  std::vector<CaseBatchResult> results = engine_.SubmitBatch(batch);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CaseBatchResult& r = results[i];
    const bool all_appended = !r.ack.duplicate && r.done == batch[i].commands.size();
    if (r.status.ok() && all_appended) {
      ++summary_.imported;
      continue;
    }
    if (all_appended) {
      // Every command was decided and appended, but the batch was not made
      // durable (the flush failed, e.g. on a full disk): a storage error that
      // stops the import. The row is neither imported nor skipped; there is
      // no step left to continue it from.
      if (fatal_.ok()) fatal_ = r.status;
      continue;
    }
    // Continue on the per-command path as if the command at which the batch
    // stopped had just completed with this result: a report of an existing
    // case reconciles, a verification refused for its inspector is retried,
    // anything else is skipped with the reason (or stops the import).
    Row& row = rows[i];
    row.step = r.ack.duplicate ? kReportStep : static_cast<int>(r.done);
    Result<CommandAck> result = r.ack.duplicate ? Result<CommandAck>(std::move(r.ack))
                                : !r.status.ok()
                                    ? Result<CommandAck>(r.status)
                                    : Result<CommandAck>(Status::IOError(fmt::format(
                                          "the batch ended after {} of {} commands without a reason", r.done,
                                          batch[i].commands.size())));
    Completion c{TakeSlot(std::move(row)), std::move(result)};
    OnCompletion(c);
  }
}

void Importer::Finish(std::size_t slot) {
  Row& row = slots_[slot];
  if (row.existing) {
    ++summary_.updated;
  } else {
    ++summary_.imported;
  }
  free_.push_back(slot);
  --in_flight_;
}

void Importer::SkipSlot(std::size_t slot, std::string reason) {
  Skip(slots_[slot].content.line, std::move(reason));
  free_.push_back(slot);
  --in_flight_;
}

void Importer::OnCompletion(Completion& done) {
  const std::size_t slot = done.slot;
  Row& row = slots_[slot];
  if (!done.result.ok()) {
    Status s = done.result.status();
    if (row.step == kReportStep && s.IsConflict()) {
      Reconcile(slot);  // the case exists (reported by other commands)
      return;
    }
    if (row.step == kVerifyStep && s.IsRejected() && !row.verify_retried) {
      // Verification belongs to the inspector the engine assigned.
      row.verify_retried = true;
      auto state = engine_.State(row.id);
      if (state.ok() && !state->verifier.empty() && state->verifier != row.verifier) {
        row.verifier = state->verifier;
        Submit(slot);
        return;
      }
    }
    if (s.IsIOError() || s.IsUnavailable() || s.IsCorruption()) {
      if (fatal_.ok()) fatal_ = s;
    }
    SkipSlot(slot, fmt::format("case {}: '{}' refused: {}", row.id, StepName(row.step), s.ToString()));
    return;
  }
  if (row.step == kReportStep && done.result->duplicate) {
    Reconcile(slot);  // reported by an earlier import
    return;
  }
  ++row.step;
  if (row.step == kAcceptStep && !row.content.closed) row.step = kDone;
  if (row.step == kDone) {
    Finish(slot);
  } else {
    Submit(slot);
  }
}

void Importer::Reconcile(std::size_t slot) {
  Row& row = slots_[slot];
  const RowContent& want = row.content;
  auto history = engine_.History(row.id);
  if (!history.ok()) {
    SkipSlot(slot, fmt::format("case {}: exists but its history cannot be read: {}", row.id,
                               history.status().ToString()));
    return;
  }
  RowContent have;
  have.line = want.line;
  int done = kReportStep;  // steps present
  std::string foreign;
  for (const LoggedEvent& le : *history) {
    if (!le.event) continue;
    const CaseEvent& e = *le.event;
    switch (e.type) {
      case EventType::kCaseReported:
        have.created = e.time;
        have.kind = e.kind;
        have.category = e.category;
        done = std::max(done, int(kRegisterStep));
        break;
      case EventType::kCaseRegistered:
        if (!e.category.empty()) have.category = e.category;
        done = std::max(done, int(kDispatchStep));
        break;
      case EventType::kCaseDispatched:
        have.unit = e.unit;
        have.due = e.deadline;
        done = std::max(done, int(kAcceptStep));
        break;
      case EventType::kCaseAccepted:
        done = std::max(done, int(kFeedbackStep));
        break;
      case EventType::kFeedbackSubmitted:
        have.closed = e.time;
        done = std::max(done, int(kVerifyStep));
        break;
      case EventType::kVerificationPassed:
        done = kDone;
        break;
      case EventType::kTaskOverdue:
      case EventType::kCaseSupervised:
        break;
      default:
        if (foreign.empty()) foreign = std::string(Name(e.type));
    }
  }
  if (!foreign.empty()) {
    SkipSlot(slot, fmt::format("case {}: already exists with a history the import does not write ('{}')",
                               row.id, foreign));
    return;
  }
  // Compare what the existing case has with the row.
  std::vector<std::string> diff;
  if (have.created != want.created) diff.push_back("created");
  if (have.kind != want.kind || have.category != want.category) diff.push_back("category");
  if (done > kDispatchStep && (have.unit != want.unit || have.due != want.due)) diff.push_back("unit or due");
  if (done > kFeedbackStep && have.closed != want.closed) diff.push_back("closed");
  if (!diff.empty()) {
    std::string list;
    for (std::size_t i = 0; i < diff.size(); ++i) list += (i ? ", " : "") + diff[i];
    SkipSlot(slot, fmt::format("case {}: already exists with a different {}", row.id, list));
    return;
  }
  if (done == kAcceptStep && !want.closed) done = kDone;  // open, as the row
  if (done == kDone) {
    ++summary_.unchanged;
    free_.push_back(slot);
    --in_flight_;
    return;
  }
  row.existing = true;
  row.step = done;
  Submit(slot);
}

Result<ImportSummary> Importer::Run() {
  const auto started = std::chrono::steady_clock::now();
  iso_times_ = options_.time_format.empty() || options_.time_format == "iso";
  if (!iso_times_) {
    Status format = tools::CheckTimeFormat(options_.time_format);
    if (!format.ok()) return Status::InvalidArgument("import: " + format.message());
  }
  std::error_code ec;
  if (!std::filesystem::exists(options_.file, ec)) {
    return Status::NotFound(fmt::format("import: file '{}' does not exist", options_.file));
  }
  std::ifstream in(options_.file, std::ios::binary);
  if (!in) return Status::IOError(fmt::format("import: cannot open '{}'", options_.file));
  const auto file_size = std::filesystem::file_size(options_.file, ec);
  tools::CsvReader reader(in);
  tools::CsvReader::Record rec;
  if (!reader.Next(rec)) {
    if (!reader.status().ok()) {
      return Status::InvalidArgument(
          fmt::format("{}: the header: {}", options_.file, reader.status().message()));
    }
    return Status::InvalidArgument(fmt::format("{}: empty file (no header)", options_.file));
  }
  if (!rec.error.empty()) {
    return Status::InvalidArgument(fmt::format("{}: malformed header: {}", options_.file, rec.error));
  }
  if (options_.status_column.empty() != options_.closed_statuses.empty()) {
    return Status::InvalidArgument(
        options_.status_column.empty()
            ? "import: --closed-status needs --status (the column it is a value of)"
            : "import: --status needs --closed-status (the values that mean closed)");
  }
  if (!options_.status_column.empty() && options_.closed_column.empty())
    return Status::InvalidArgument("import: --status needs --closed (the close time it is checked against)");
  CASELOOP_RETURN_IF_ERROR(OpenColumns(rec));

  config_ = engine_.CurrentConfig();
  CASELOOP_RETURN_IF_ERROR(TakeZone());
  time_zone_ = config_.calendar;  // TakeZone made it the zone of --tz
  for (const auto& [id, info] : config_.units) unit_values_[id] = info.name;
  CASELOOP_RETURN_IF_ERROR(EnsureActors());

  tools::ProgressBar bar(options_.progress, "import", "rows");
  slots_.resize(kMaxInFlight);
  for (std::size_t i = kMaxInFlight; i > 0; --i) free_.push_back(i - 1);
  bool input_done = false;
  std::vector<Row> chunk;
  while (bulk_ && !input_done && fatal_.ok()) {
    chunk.clear();
    while (chunk.size() < kBulkRows && fatal_.ok()) {
      if (!reader.Next(rec)) {
        input_done = true;
        break;
      }
      ++summary_.rows;
      Row row;
      if (ParseRow(rec, row)) chunk.push_back(std::move(row));
    }
    if (!chunk.empty() && fatal_.ok()) SubmitBulk(chunk);
    Drain();
    if (!reader.status().ok() && fatal_.ok()) fatal_ = reader.status();
    if (file_size > 0) {
      bar.Update(static_cast<double>(reader.bytes_read()) / static_cast<double>(file_size), summary_.rows);
    }
  }
  for (;;) {
    if (bulk_) break;
    while (!input_done && fatal_.ok() && !free_.empty()) {
      if (!reader.Next(rec)) {
        input_done = true;
        break;
      }
      ++summary_.rows;
      Row row;
      if (!ParseRow(rec, row)) continue;
      std::size_t slot = free_.back();
      free_.pop_back();
      ++in_flight_;
      slots_[slot] = std::move(row);
      Submit(slot);
    }
    if (!reader.status().ok() && fatal_.ok()) fatal_ = reader.status();
    if (in_flight_ == 0 && (input_done || !fatal_.ok() || free_.empty())) break;
    for (Completion& c : queue_.WaitAll()) OnCompletion(c);
    if (file_size > 0) {
      bar.Update(static_cast<double>(reader.bytes_read()) / static_cast<double>(file_size), summary_.rows);
    }
  }
  bar.Finish();
  summary_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::stable_sort(errors_.begin(), errors_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  WriteRowErrors(errors_, err_);
  if (!fatal_.ok()) {
    return Status(fatal_.code(), fmt::format("import {}: stopped after {} rows: {}", options_.file,
                                             summary_.rows, fatal_.message()));
  }
  const std::string disagree =
      summary_.status_disagrees == 0
          ? std::string()
          : fmt::format(" ({} imported open: close time and status disagree)", summary_.status_disagrees);
  if (summary_.updated > 0) {
    out_ << fmt::format("imported {}, updated {}, unchanged {}, skipped {} of {} rows{}\n", summary_.imported,
                        summary_.updated, summary_.unchanged, summary_.skipped, summary_.rows, disagree);
  } else {
    out_ << fmt::format("imported {}, unchanged {}, skipped {} of {} rows{}\n", summary_.imported,
                        summary_.unchanged, summary_.skipped, summary_.rows, disagree);
  }
  if (summary_.rows > 0 && summary_.skipped == summary_.rows) {
    return Status::InvalidArgument(fmt::format(
        "import {}: none of the {} rows could be imported (row errors above)", options_.file, summary_.rows));
  }
  if (options_.strict && summary_.skipped > 0) {
    return Status::InvalidArgument(fmt::format("import {}: {} of {} rows skipped (strict)", options_.file,
                                               summary_.skipped, summary_.rows));
  }
  return summary_;
}

}  // namespace

Result<ImportSummary> ImportCsvPath(Engine& engine, const ImportOptions& options, std::ostream& out,
                                    std::ostream& err, bool bulk) {
  try {
    Importer importer(engine, options, out, err, bulk);
    return importer.Run();
  } catch (const std::bad_alloc&) {
    return Status::IOError(fmt::format("import {}: out of memory", options.file));
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("import {}: {}", options.file, e.what()));
  }
}

Result<ImportSummary> ImportCsv(Engine& engine, const ImportOptions& options, std::ostream& out,
                                std::ostream& err) {
  return ImportCsvPath(engine, options, out, err, /*bulk=*/true);
}

}  // namespace caseloop
