// _caseloop: the native half of the caseloop Python package. It exposes the
// Engine with plain values (times in as integer microseconds since the epoch,
// UTC; out as aware datetimes at the calendar's offset), the command table
// (caseloop/commands.h) and its text-fields mapping; caseloop/__init__.py
// adds the typed per-command methods (generated from the table), keyword
// arguments and iterators. Dicts come from caseloop/json.h's writers: the
// same keys, in the same order, as the CLI prints.
// Every call into the engine releases the GIL.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "caseloop/calendar.h"
#include "caseloop/case.h"
#include "caseloop/commands.h"
#include "caseloop/engine.h"
#include "caseloop/json.h"
#include "caseloop/script.h"
#include "caseloop/time.h"
#include "caseloop/tools.h"
#include "caseloop/unit_metrics.h"

namespace py = pybind11;
using namespace caseloop;

namespace {

// C++ exception types registered as the Python exception hierarchy.
struct PyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct PyRejected : PyError {
  using PyError::PyError;
};
struct PyConflict : PyError {
  using PyError::PyError;
};
struct PyNotFound : PyError {
  using PyError::PyError;
};
struct PyInvalid : PyError {
  using PyError::PyError;
};
struct PyCorruption : PyError {
  using PyError::PyError;
};
struct PyStorage : PyError {
  using PyError::PyError;
};

[[noreturn]] void Throw(const Status& s) {
  switch (s.code()) {
    case StatusCode::kRejected:
      throw PyRejected(s.message());
    case StatusCode::kConflict:
      throw PyConflict(s.message());
    case StatusCode::kNotFound:
      throw PyNotFound(s.message());
    case StatusCode::kInvalidArgument:
      throw PyInvalid(s.message());
    case StatusCode::kCorruption:
      throw PyCorruption(s.message());
    case StatusCode::kIOError:
      throw PyStorage(s.message());
    default:
      throw PyError(s.message());
  }
}

void Check(const Status& s) {
  if (!s.ok()) Throw(s);
}

template <typename T>
T Take(Result<T>&& r) {
  if (!r.ok()) Throw(r.status());
  return std::move(r).value();
}

std::string Str(const py::handle& h, const char* key) {
  if (!py::isinstance<py::str>(h)) throw PyInvalid(std::string(key) + ": expected a string");
  return h.cast<std::string>();
}

// The text fields of a command as the Python layer passes them (every value
// already turned into its text form).
TextFields ToTextFields(const py::dict& d) {
  TextFields fields;
  for (auto item : d) {
    std::string key = py::str(item.first);
    if (item.second.is_none()) continue;
    fields.emplace_back(key, Str(item.second, key.c_str()));
  }
  return fields;
}

py::dict FieldDict(const CommandField& f) {
  py::dict d;
  d["key"] = std::string(f.key);
  d["type"] = std::string(Name(f.type));
  d["required"] = f.required;
  d["scope"] = f.scope == FieldScope::kEverywhere ? "everywhere"
               : f.scope == FieldScope::kHistory  ? "history"
                                                  : "host";
  py::list choices;
  for (auto c : f.choices) choices.append(std::string(c));
  d["choices"] = choices;
  d["min"] = f.min;
  d["max"] = f.max;
  d["partner"] = std::string(f.partner);
  d["doc"] = std::string(f.doc);
  return d;
}

// The command table (caseloop/commands.h) as plain Python values.
py::list CommandTableList() {
  py::list out;
  for (const CommandSpec& s : CommandTable()) {
    py::dict d;
    d["name"] = std::string(s.name);
    d["summary"] = std::string(s.summary);
    d["engine_only"] = s.engine_only();
    py::list fields;
    for (const CommandField& f : s.fields) fields.append(FieldDict(f));
    d["fields"] = fields;
    py::list events;
    for (EventType e : s.events) events.append(std::string(Name(e)));
    d["events"] = events;
    out.append(d);
  }
  return out;
}

py::list CommonFieldsList() {
  py::list out;
  for (const CommandField& f : CommonFields()) out.append(FieldDict(f));
  return out;
}

py::dict AckDict(const CommandAck& a) {
  py::dict d;
  d["case"] = a.case_id;
  d["first_position"] = a.first_position;
  d["last_position"] = a.last_position;
  d["version"] = a.version;
  d["duplicate"] = a.duplicate;
  py::list events;
  for (auto e : a.events) events.append(std::string(Name(e)));
  d["events"] = events;
  return d;
}

// Builds a dict from the fields caseloop/json.h writes: times become aware
// datetimes at the calendar's offset, text that is not valid UTF-8 (an old
// log) is decoded with U+FFFD. A key written twice keeps its first value.
class PyDictWriter final : public ObjectWriter {
 public:
  PyDictWriter(py::dict& out, int offset_minutes) : out_(out) {
    py::module_ dt = py::module_::import("datetime");
    py::object timezone = dt.attr("timezone");
    timedelta_ = dt.attr("timedelta");
    epoch_ = dt.attr("datetime")(1970, 1, 1, py::arg("tzinfo") = timezone.attr("utc"));
    zone_ = timezone(timedelta_(py::arg("minutes") = offset_minutes));
  }
  void Null(std::string_view key) override { Put(key, py::none()); }
  void Bool(std::string_view key, bool v) override { Put(key, py::bool_(v)); }
  void Int(std::string_view key, std::int64_t v) override { Put(key, py::int_(v)); }
  void UInt(std::string_view key, std::uint64_t v) override { Put(key, py::int_(v)); }
  void Double(std::string_view key, double v) override { Put(key, py::float_(v)); }
  void String(std::string_view key, std::string_view v) override { Put(key, Text(v)); }
  void Time(std::string_view key, Instant v) override {
    py::object t = epoch_ + timedelta_(py::arg("microseconds") = MicrosOf(v));
    Put(key, t.attr("astimezone")(zone_));
  }
  void Strings(std::string_view key, const std::vector<std::string>& v) override {
    py::list l;
    for (const auto& s : v) l.append(Text(s));
    Put(key, std::move(l));
  }

 private:
  static py::object Text(std::string_view s) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(o);
  }
  void Put(std::string_view key, py::object v) {
    py::str k{std::string(key)};
    if (!out_.contains(k)) out_[k] = std::move(v);
  }

  py::dict& out_;
  py::object timedelta_, epoch_, zone_;
};

template <typename T>
py::dict DictOf(const T& x, int offset_minutes) {
  py::dict d;
  PyDictWriter w(d, offset_minutes);
  Write(x, w);
  return d;
}

// A logged event: the envelope (with the stream), then its fields.
py::dict EventDict(const LoggedEvent& e, int offset_minutes) {
  py::dict d;
  PyDictWriter w(d, offset_minutes);
  w.UInt("position", e.record.position);
  w.String("stream", e.record.stream);
  w.UInt("version", e.record.version);
  w.String("type", e.record.type);
  w.Time("time", InstantFromMicros(e.record.recorded_us));
  w.String("actor", e.record.actor);
  WriteFields(e, w);
  return d;
}

PeriodQuery Period(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at, std::string unit) {
  PeriodQuery q;
  q.from = InstantFromMicros(from);
  q.to = InstantFromMicros(to);
  if (at) q.at = InstantFromMicros(*at);
  q.unit = std::move(unit);
  return q;
}

class PyEngine {
 public:
  PyEngine(std::optional<std::string> path, const std::string& durability, const std::string& clock,
           bool default_config, int worker_threads) {
    EngineOptions o;
    o.path = path.value_or(kInMemoryPath);
    o.store.durability = Take(ParseDurability(durability));
    if (clock == "manual") {
      manual_ = std::make_shared<ManualClock>();
      o.clock = manual_;
    } else if (clock != "system") {
      throw PyInvalid("clock must be 'system' or 'manual', not '" + clock + "'");
    }
    o.default_config = default_config;
    o.worker_threads = worker_threads;
    Result<std::unique_ptr<Engine>> r = Status::Unavailable("not opened");
    {
      py::gil_scoped_release nogil;
      r = Engine::Open(o);
    }
    engine_ = Take(std::move(r));
    if (manual_) {
      // A manual clock starts at the latest instant the database recorded.
      Instant latest = engine_->LatestRecordedTime();
      if (latest > engine_->Now()) Check(engine_->AdvanceTo(latest));
    }
  }

  Engine& engine() {
    if (!engine_) throw PyError("the engine is closed");
    return *engine_;
  }

  void Close() {
    if (!engine_) return;
    session_.reset();
    Status s;
    {
      py::gil_scoped_release nogil;
      s = engine_->Close();
    }
    engine_.reset();
    Check(s);
  }

  // A command by name with its text fields (caseloop/commands.h), e.g.
  // submit("dispatch", "A1", {"by": "D1", "unit": "WATER"}).
  py::dict Submit(const std::string& name, const std::string& case_id, const py::dict& fields) {
    const CommandSpec* spec = FindCommandSpec(name);
    if (spec == nullptr) throw PyInvalid("unknown command '" + name + "'");
    Command c = Take(CommandFromFields(spec->type, case_id, ToTextFields(fields), UtcOffsetMinutes()));
    Result<CommandAck> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Submit(c);
    }
    return AckDict(Take(std::move(r)));
  }

  // `line_no`: the number errors name (run() numbers its lines from 1); by
  // default the count of execute() calls so far.
  std::vector<std::string> Execute(const std::string& line, std::optional<int> line_no) {
    ScriptSession& s = Session();
    Result<std::vector<std::string>> r = Status::Unavailable("not run");
    const int n = line_no ? *line_no : ++line_no_;
    {
      py::gil_scoped_release nogil;
      r = s.Execute(line, n);
    }
    return Take(std::move(r));
  }

  py::dict Show(const std::string& id, std::optional<std::int64_t> at) {
    Result<CaseView> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Show(id, at ? std::optional<Instant>(InstantFromMicros(*at)) : std::nullopt);
    }
    return DictOf(Take(std::move(r)), UtcOffsetMinutes());
  }

  py::list History(const std::string& id, std::optional<std::int64_t> at) {
    Result<std::vector<LoggedEvent>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().History(id, at ? std::optional<Instant>(InstantFromMicros(*at)) : std::nullopt);
    }
    py::list out;
    const int offset = UtcOffsetMinutes();
    for (const auto& e : Take(std::move(r))) out.append(EventDict(e, offset));
    return out;
  }

  py::list ReadLog(std::uint64_t from, std::size_t max) {
    Result<std::vector<LoggedEvent>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().ReadLog(from, max);
    }
    py::list out;
    const int offset = UtcOffsetMinutes();
    for (const auto& e : Take(std::move(r))) out.append(EventDict(e, offset));
    return out;
  }

  py::list Rates(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at, std::string unit) {
    Result<std::vector<UnitRates>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Rates(Period(from, to, at, std::move(unit)));
    }
    py::list out;
    for (const auto& x : Take(std::move(r))) out.append(DictOf(x, 0));
    return out;
  }

  py::list Inspectors(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at) {
    Result<std::vector<InspectorRates>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Inspectors(Period(from, to, at, ""));
    }
    py::list out;
    for (const auto& x : Take(std::move(r))) out.append(DictOf(x, 0));
    return out;
  }

  py::dict Centre(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at) {
    Result<CentreFigures> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Centre(Period(from, to, at, ""));
    }
    CentreFigures c = Take(std::move(r));
    py::dict d = DictOf(c, 0);
    d["received_by_category"] = c.received_by_category;
    d["received_by_grid"] = c.received_by_grid;
    return d;
  }

  py::list Overdue(std::optional<std::int64_t> at) {
    Result<std::vector<OverdueTask>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Overdue(at ? std::optional<Instant>(InstantFromMicros(*at)) : std::nullopt);
    }
    py::list out;
    const int offset = UtcOffsetMinutes();
    for (const auto& t : Take(std::move(r))) out.append(DictOf(t, offset));
    return out;
  }

  void SetClock(std::int64_t t) {
    RequireManual();
    Status s;
    {
      py::gil_scoped_release nogil;
      s = engine().AdvanceTo(InstantFromMicros(t));
    }
    Check(s);
  }

  void Advance(std::int64_t micros) {
    RequireManual();
    Status s;
    {
      py::gil_scoped_release nogil;
      s = engine().Advance(Micros(micros));
    }
    Check(s);
  }

  std::int64_t Now() { return MicrosOf(engine().Now()); }
  // The offset in effect now (a calendar zone's changes with daylight saving).
  int UtcOffsetMinutes() { return OffsetAt(engine().CurrentConfig().calendar, engine().Now()); }

  py::dict Import(const py::dict& args) {
    ImportOptions o;
    for (auto item : args) {
      std::string key = py::str(item.first);
      py::handle v = item.second;
      if (v.is_none()) continue;
      if (key == "file")
        o.file = Str(v, "file");
      else if (key == "id")
        o.id_column = Str(v, "id");
      else if (key == "created")
        o.created_column = Str(v, "created");
      else if (key == "unit")
        o.unit_column = Str(v, "unit");
      else if (key == "due")
        o.due_column = Str(v, "due");
      else if (key == "closed")
        o.closed_column = Str(v, "closed");
      else if (key == "category")
        o.category_column = Str(v, "category");
      else if (key == "status")
        o.status_column = Str(v, "status");
      else if (key == "closed_status")
        o.closed_statuses = v.cast<std::vector<std::string>>();
      else if (key == "time_format")
        o.time_format = Str(v, "time_format");
      else if (key == "tz") {
        // An offset ("-05:00") or an IANA zone name ("America/New_York").
        Calendar zone;
        Check(SetZoneText(zone, Str(v, "tz")));
        if (zone.zone.empty()) {
          o.utc_offset_minutes = zone.utc_offset_minutes;
        } else {
          o.zone = zone.zone;
        }
      } else if (key == "strict")
        o.strict = v.cast<bool>();
      else
        throw PyInvalid("unknown argument '" + key + "'");
    }
    std::ostringstream out, err;
    Result<ImportSummary> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = ImportCsv(engine(), o, out, err);
    }
    // Row errors are part of the result, not an exception, unless strict.
    if (!r.ok())
      Throw(Status(r.status().code(), r.status().message() + (err.str().empty() ? "" : "\n" + err.str())));
    py::dict d;
    d["rows"] = r->rows;
    d["imported"] = r->imported;
    d["unchanged"] = r->unchanged;
    d["skipped"] = r->skipped;
    d["status_disagrees"] = r->status_disagrees;
    py::list errors;
    std::istringstream lines(err.str());
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) errors.append(line);
    }
    d["errors"] = errors;
    return d;
  }

 private:
  void RequireManual() {
    if (!manual_) throw PyRejected("the engine runs on the system clock; open it with clock=\"manual\"");
  }

  ScriptSession& Session() {
    if (!session_) session_ = Take(ScriptSession::Create(&engine()));
    return *session_;
  }

  std::shared_ptr<ManualClock> manual_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ScriptSession> session_;
  int line_no_ = 0;
};

}  // namespace

PYBIND11_MODULE(_caseloop, m) {
  m.doc() = "Native core of the caseloop Python package (see caseloop/__init__.py).";

  auto error = py::register_exception<PyError>(m, "Error", PyExc_Exception);
  py::register_exception<PyRejected>(m, "RejectedError", error.ptr());
  py::register_exception<PyConflict>(m, "ConflictError", error.ptr());
  py::register_exception<PyNotFound>(m, "NotFoundError", error.ptr());
  py::register_exception<PyInvalid>(m, "InvalidArgumentError", error.ptr());
  py::register_exception<PyCorruption>(m, "CorruptionError", error.ptr());
  py::register_exception<PyStorage>(m, "StorageError", error.ptr());

  m.def("command_table", &CommandTableList,
        "The lifecycle commands (caseloop/commands.h): name, summary, engine_only, fields, events.");
  m.def("common_fields", &CommonFieldsList, "The fields every command takes: by, at, command_id.");

  // The unit metric table (caseloop/unit_metrics.h), for the Python layer:
  // the keys of rates() rows, their labels, and the weights() keywords with
  // their defaults.
  m.def("unit_metrics", []() {
    py::list out;
    const Weights defaults;
    for (const UnitMetric& row : kUnitMetrics) {
      py::dict d;
      d["key"] = std::string(row.key);
      d["kind"] = row.kind == UnitMetric::Kind::kCount ? "count" : "rate";
      d["label"] = std::string(row.label);
      d["term"] = std::string(row.term);
      d["weight"] =
          row.weight != nullptr ? py::object(py::str(std::string(row.weight_key))) : py::object(py::none());
      d["default_weight"] =
          row.weight != nullptr ? py::object(py::float_(defaults.*row.weight)) : py::object(py::none());
      d["inverted"] = row.inverted;
      out.append(d);
    }
    return out;
  });

  m.def("parse_limit_micros", [](const std::string& text) {
    TimeLimit l = Take(ParseTimeLimit(text));
    if (l.unit != TimeLimit::Unit::kNatural) {
      throw PyInvalid("'" + text + "' is working time; advance the clock by natural time (30m, 2h, 1d)");
    }
    return l.amount * 60 * 1000000;
  });

  py::class_<PyEngine>(m, "Engine")
      .def(py::init<std::optional<std::string>, const std::string&, const std::string&, bool, int>(),
           py::arg("path") = py::none(), py::arg("durability") = "sync", py::arg("clock") = "system",
           py::arg("default_config") = false, py::arg("worker_threads") = 2)
      .def("close", &PyEngine::Close)
      .def("submit", &PyEngine::Submit, py::arg("command"), py::arg("case"), py::arg("fields"))
      .def("execute", &PyEngine::Execute, py::arg("line"), py::arg("line_no") = py::none())
      .def("show", &PyEngine::Show, py::arg("case"), py::arg("at") = py::none())
      .def("history", &PyEngine::History, py::arg("case"), py::arg("at") = py::none())
      .def("read_log", &PyEngine::ReadLog)
      .def("rates", &PyEngine::Rates)
      .def("inspectors", &PyEngine::Inspectors)
      .def("centre", &PyEngine::Centre)
      .def("overdue", &PyEngine::Overdue)
      .def("set_clock", &PyEngine::SetClock)
      .def("advance", &PyEngine::Advance)
      .def("now", &PyEngine::Now)
      .def("utc_offset_minutes", &PyEngine::UtcOffsetMinutes)
      .def("import_csv", &PyEngine::Import);
}
