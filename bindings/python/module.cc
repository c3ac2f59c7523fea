// _caseloop: the native half of the caseloop Python package. It exposes the
// Engine with plain values (times as integer microseconds since the epoch,
// UTC); caseloop/__init__.py adds datetimes, keyword arguments and iterators.
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
#include "caseloop/engine.h"
#include "caseloop/script.h"
#include "caseloop/time.h"
#include "script/json_views.h"
#include "script/tools.h"

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

// Builds a Command from the dict the Python layer passes.
Command ToCommand(const py::dict& d) {
  Command c;
  for (auto item : d) {
    std::string key = py::str(item.first);
    py::handle v = item.second;
    if (v.is_none()) continue;
    if (key == "type") {
      auto t = ParseCommandType(Str(v, "type"));
      if (!t) throw PyInvalid("unknown command '" + Str(v, "type") + "'");
      c.type = *t;
    } else if (key == "case") {
      c.case_id = Str(v, "case");
    } else if (key == "by") {
      c.actor = Str(v, "by");
    } else if (key == "at") {
      c.at = InstantFromMicros(v.cast<std::int64_t>());
    } else if (key == "command_id") {
      c.command_id = Str(v, "command_id");
    } else if (key == "kind") {
      auto k = ParseCaseKind(Str(v, "kind"));
      if (!k) throw PyInvalid("kind must be component or event, not '" + Str(v, "kind") + "'");
      c.kind = *k;
    } else if (key == "category") {
      c.category = Str(v, "category");
    } else if (key == "source") {
      auto s = ParseReportSource(Str(v, "source"));
      if (!s) throw PyInvalid("unknown source '" + Str(v, "source") + "'");
      c.source = *s;
    } else if (key == "grid") {
      c.grid = Str(v, "grid");
    } else if (key == "component") {
      c.component = Str(v, "component");
    } else if (key == "lat") {
      c.lat = v.cast<double>();
    } else if (key == "lon") {
      c.lon = v.cast<double>();
    } else if (key == "address") {
      c.address = Str(v, "address");
    } else if (key == "desc") {
      c.description = Str(v, "desc");
    } else if (key == "emergency") {
      c.emergency = v.cast<bool>();
    } else if (key == "into") {
      c.into = Str(v, "into");
    } else if (key == "unit") {
      c.unit = Str(v, "unit");
    } else if (key == "limit") {
      c.limit = Take(ParseTimeLimit(Str(v, "limit")));
    } else if (key == "deadline") {
      c.deadline = InstantFromMicros(v.cast<std::int64_t>());
    } else if (key == "no_deadline") {
      c.no_deadline = v.cast<bool>();
    } else if (key == "reason") {
      c.reason = Str(v, "reason");
    } else if (key == "note") {
      c.note = Str(v, "note");
    } else if (key == "result") {
      std::string r = Str(v, "result");
      if (r != "pass" && r != "fail") throw PyInvalid("result must be pass or fail, not '" + r + "'");
      c.verify_pass = r == "pass";
    } else {
      throw PyInvalid("unknown argument '" + key + "'");
    }
  }
  return c;
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

// A JSON view (src/script/json_views.h, the same builders the CLI prints) as
// Python objects; key order is kept (dicts are ordered).
py::object ToPy(const script::Json& j) {
  switch (j.type()) {
    case script::Json::value_t::null:
      return py::none();
    case script::Json::value_t::boolean:
      return py::bool_(j.get<bool>());
    case script::Json::value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case script::Json::value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case script::Json::value_t::number_float:
      return py::float_(j.get<double>());
    case script::Json::value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case script::Json::value_t::array: {
      py::list out;
      for (const auto& x : j) out.append(ToPy(x));
      return std::move(out);
    }
    case script::Json::value_t::object: {
      py::dict out;
      for (const auto& item : j.items()) out[py::str(item.key())] = ToPy(item.value());
      return std::move(out);
    }
    default:
      return py::none();
  }
}

py::dict ToPyDict(const script::Json& j) { return ToPy(j).cast<py::dict>(); }

py::dict ViewDict(const CaseView& v) {
  return ToPyDict(script::CaseViewJson(v, script::TimeStyle::Micros()));
}
py::dict RatesDict(const UnitRates& r) { return ToPyDict(script::UnitRatesJson(r)); }
py::dict InspectorDict(const InspectorRates& r) { return ToPyDict(script::InspectorRatesJson(r)); }

py::dict EventDict(const LoggedEvent& e) {
  py::dict d;
  d["position"] = e.record.position;
  d["stream"] = e.record.stream;
  d["version"] = e.record.version;
  d["type"] = e.record.type;
  d["time"] = e.record.recorded_us;
  d["actor"] = e.record.actor;
  d["fields_json"] = e.fields_json;
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

  py::dict Submit(const py::dict& fields) {
    Command c = ToCommand(fields);
    Result<CommandAck> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Submit(c);
    }
    return AckDict(Take(std::move(r)));
  }

  std::vector<std::string> Execute(const std::string& line) {
    ScriptSession& s = Session();
    Result<std::vector<std::string>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = s.Execute(line, ++line_no_);
    }
    return Take(std::move(r));
  }

  py::dict Show(const std::string& id, std::optional<std::int64_t> at) {
    Result<CaseView> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Show(id, at ? std::optional<Instant>(InstantFromMicros(*at)) : std::nullopt);
    }
    return ViewDict(Take(std::move(r)));
  }

  py::list History(const std::string& id) {
    Result<std::vector<LoggedEvent>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().History(id);
    }
    py::list out;
    for (const auto& e : Take(std::move(r))) out.append(EventDict(e));
    return out;
  }

  py::list ReadLog(std::uint64_t from, std::size_t max) {
    Result<std::vector<LoggedEvent>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().ReadLog(from, max);
    }
    py::list out;
    for (const auto& e : Take(std::move(r))) out.append(EventDict(e));
    return out;
  }

  py::list Rates(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at, std::string unit) {
    Result<std::vector<UnitRates>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Rates(Period(from, to, at, std::move(unit)));
    }
    py::list out;
    for (const auto& x : Take(std::move(r))) out.append(RatesDict(x));
    return out;
  }

  py::list Inspectors(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at) {
    Result<std::vector<InspectorRates>> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Inspectors(Period(from, to, at, ""));
    }
    py::list out;
    for (const auto& x : Take(std::move(r))) out.append(InspectorDict(x));
    return out;
  }

  py::dict Centre(std::int64_t from, std::int64_t to, std::optional<std::int64_t> at) {
    Result<CentreFigures> r = Status::Unavailable("not run");
    {
      py::gil_scoped_release nogil;
      r = engine().Centre(Period(from, to, at, ""));
    }
    CentreFigures c = Take(std::move(r));
    py::dict d = ToPyDict(script::CentreJson(c));
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
    for (const auto& t : Take(std::move(r)))
      out.append(ToPy(script::OverdueJson(t, script::TimeStyle::Micros())));
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
  int UtcOffsetMinutes() { return engine().CurrentConfig().calendar.utc_offset_minutes; }

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
      else if (key == "time_format")
        o.time_format = Str(v, "time_format");
      else if (key == "tz")
        o.utc_offset_minutes = Take(ParseUtcOffset(Str(v, "tz")));
      else if (key == "strict")
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
      .def("submit", &PyEngine::Submit)
      .def("execute", &PyEngine::Execute)
      .def("show", &PyEngine::Show, py::arg("case"), py::arg("at") = py::none())
      .def("history", &PyEngine::History)
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
