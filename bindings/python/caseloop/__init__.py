"""caseloop for Python: the closed loop of urban-management cases.

    import caseloop
    with caseloop.Engine(clock="manual") as engine:          # path=None: in memory
        engine.run(open("district.cl").read())               # setup + cases in the script language
        engine.report("C1", kind="event", category="0102", source="inspector", by="I1",
                      at=datetime(2025, 3, 31, 10, 0, tzinfo=caseloop.tz(8)))
        print(engine.show("C1"))

Times are timezone-aware ``datetime`` objects (naive ones are read in the
calendar's zone). Errors raise ``caseloop.Error`` subclasses carrying the
engine's message. The GIL is released while the engine works, so threads can
submit concurrently.

The lifecycle commands come from the engine's command table
(``caseloop/commands.h``, ``docs/commands.md``): ``engine.command(name, case,
**fields)`` runs any of them, and a typed method per command
(``engine.dispatch("A1", by="D1", unit="WATER")``; ``return_`` for
``return``) is generated from the table when the module is imported.
"""
from __future__ import annotations

import datetime as _dt
import inspect as _inspect
import json as _json
import keyword as _keyword
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from . import _caseloop
from ._caseloop import (  # noqa: F401  (re-exported)
    ConflictError,
    CorruptionError,
    Error,
    InvalidArgumentError,
    NotFoundError,
    RejectedError,
    StorageError,
)

__all__ = [
    "Engine", "Error", "RejectedError", "ConflictError", "NotFoundError",
    "InvalidArgumentError", "CorruptionError", "StorageError", "tz", "unit_metrics",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

TimeLike = Union[_dt.datetime, _dt.date, str]

# The command table: name -> {"fields": [...], "summary": ..., ...}; the common fields.
_COMMANDS: Dict[str, Dict[str, Any]] = {c["name"]: c for c in _caseloop.command_table()}
_COMMON: List[Dict[str, Any]] = _caseloop.common_fields()


def unit_metrics() -> List[Dict[str, Any]]:
    """The figures of a unit's evaluation, in the order of ``Engine.rates()``
    rows: ``key``, ``kind`` ("count" or "rate"), the report's ``label`` and
    Chinese ``term``, and for a score term its ``weight`` keyword (see
    ``Engine.weights``), ``default_weight`` and whether the score uses
    1 - rate (``inverted``)."""
    return _caseloop.unit_metrics()


def tz(hours: float) -> _dt.timezone:
    """A fixed UTC offset, e.g. ``tz(8)`` for +08:00."""
    return _dt.timezone(_dt.timedelta(hours=hours))


class Engine:
    """A caseloop engine: ``path`` is the database directory (created when
    missing or empty); ``path=None`` or ``":memory:"`` keeps everything in
    memory, and an empty path is refused;
    ``clock="manual"`` gives a simulation clock moved by ``set_clock`` /
    ``advance`` (deadline timers fire as it passes them)."""

    def __init__(self, path: Optional[str] = None, durability: str = "sync", clock: str = "system",
                 default_config: bool = False, worker_threads: int = 2) -> None:
        self._native = _caseloop.Engine(path, durability, clock, default_config, worker_threads)
        self._manual = clock == "manual"

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._native.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- time --------------------------------------------------------------
    @property
    def zone(self) -> _dt.timezone:
        return _dt.timezone(_dt.timedelta(minutes=self._native.utc_offset_minutes()))

    def _micros(self, t: TimeLike) -> int:
        if isinstance(t, str):
            t = _dt.datetime.fromisoformat(t)
        if not isinstance(t, _dt.datetime):  # a date: local midnight
            t = _dt.datetime(t.year, t.month, t.day)
        if t.tzinfo is None:
            t = t.replace(tzinfo=self.zone)
        delta = t - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds

    def _time(self, micros: Optional[int]) -> Optional[_dt.datetime]:
        if micros is None:
            return None
        return (_EPOCH + _dt.timedelta(microseconds=micros)).astimezone(self.zone)

    def _iso(self, t: TimeLike) -> str:
        """``t`` as exact UTC text ("2025-03-31T02:30:00+00:00") for the command table's time fields."""
        return (_EPOCH + _dt.timedelta(microseconds=self._micros(t))).isoformat()

    def now(self) -> _dt.datetime:
        return self._time(self._native.now())

    def set_clock(self, t: TimeLike) -> None:
        """Manual clock: move to ``t``, firing due deadline timers in order."""
        self._native.set_clock(self._micros(t))

    def advance(self, d: Union[str, _dt.timedelta]) -> None:
        """Manual clock: move by ``"2h"``, ``"30m"``, ``"1d"`` or a timedelta."""
        if isinstance(d, _dt.timedelta):
            micros = (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds
        else:
            micros = _caseloop.parse_limit_micros(d)
        self._native.advance(micros)

    # -- the script language -------------------------------------------------
    def execute(self, line: str) -> List[Dict[str, Any]]:
        """Runs one line of the script language; returns what it would print."""
        return [_json.loads(s) for s in self._native.execute(line)]

    def run(self, text: str) -> List[Dict[str, Any]]:
        """Runs a whole script, line by line; stops at the first error, which
        names its line counted from 1 in ``text`` (on every call)."""
        out: List[Dict[str, Any]] = []
        for n, line in enumerate(text.splitlines(), 1):
            out.extend(_json.loads(s) for s in self._native.execute(line, n))
        return out

    # -- case commands -------------------------------------------------------
    def _text(self, type_: str, value: Any) -> str:
        """A keyword argument as the text the command table reads."""
        if type_ == "time":
            return self._iso(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        return str(value)

    def command(self, name: str, case: str, **fields: Any) -> Dict[str, Any]:
        """Runs the lifecycle command ``name`` on ``case``; ``fields`` are keyed as in the
        command table (``docs/commands.md``): ``by`` (required), ``at``, ``command_id`` and
        the command's own. Returns the acknowledgment."""
        spec = _COMMANDS.get(name)
        if spec is None:
            raise InvalidArgumentError(f"unknown command '{name}'")
        types = {f["key"]: f["type"] for f in spec["fields"] + _COMMON}
        text: Dict[str, str] = {}
        for key, value in fields.items():
            if value is None:
                continue
            if key not in types:
                allowed = ", ".join(types)
                raise InvalidArgumentError(f"unknown key '{key}' for '{name}' (allowed: {allowed})")
            text[key] = self._text(types[key], value)
        if "at" in text:
            micros = self._micros(fields["at"])
            if self._manual and micros > self._native.now():
                # As in scripts: a command's own time moves the manual clock (firing due timers) first.
                self._native.set_clock(micros)
        return self._native.submit(name, case, text)

    # -- setup (configuration events) ------------------------------------------
    @staticmethod
    def _quote(v: Any) -> str:
        s = str(v)
        if s == "" or any(c in s for c in ' "#='):
            return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'
        return s

    def _setup(self, words: List[str], **kw: Any) -> None:
        line = " ".join(self._quote(w) for w in words)
        for k, v in kw.items():
            if v is not None:
                line += f" {k}={self._quote(v)}"
        self.execute(line)

    def calendar(self, *, tz: str = "+08:00", workdays: str = "mon-fri",
                 periods: str = "09:00-12:00,13:00-17:00") -> None:
        self._setup(["calendar"], tz=tz, workdays=workdays, periods=periods)

    def holiday(self, date: Union[_dt.date, str]) -> None:
        self._setup(["holiday", str(date)])

    def workday(self, date: Union[_dt.date, str]) -> None:
        self._setup(["workday", str(date)])

    def unit(self, id: str, *, name: Optional[str] = None) -> None:
        self._setup(["unit", id], name=name)

    def inspector(self, id: str, *, grid: Optional[str] = None) -> None:
        self._setup(["inspector", id], grid=grid)

    def staff(self, id: str, *, role: Union[str, List[str]]) -> None:
        self._setup(["staff", id], role=role if isinstance(role, str) else ",".join(role))

    def category(self, kind: str, code: str, *, name: str, limit: str, emergency_limit: Optional[str] = None,
                 verify_limit: Optional[str] = None) -> None:
        self._setup(["category", kind, code], name=name, limit=limit, emergency_limit=emergency_limit,
                    verify_limit=verify_limit)

    def route(self, kind: str, code: str, unit: str, *, grid: Optional[str] = None) -> None:
        self._setup(["route", kind, code, unit], grid=grid)

    # Changes over the years: each one configuration event affecting only later commands.
    def retire_unit(self, id: str) -> None:
        self._setup(["retire_unit", id])

    def retire_inspector(self, id: str) -> None:
        self._setup(["retire_inspector", id])

    def retire_staff(self, id: str) -> None:
        self._setup(["retire_staff", id])

    def retire_category(self, kind: str, code: str) -> None:
        self._setup(["retire_category", kind, code])

    def rename_unit(self, id: str, *, name: str) -> None:
        self._setup(["rename_unit", id], name=name)

    def rename_category(self, kind: str, code: str, *, name: str) -> None:
        self._setup(["rename_category", kind, code], name=name)

    def remove_route(self, kind: str, code: str, unit: str, *, grid: Optional[str] = None) -> None:
        self._setup(["remove_route", kind, code, unit], grid=grid)

    def replace_route(self, kind: str, code: str, unit: str, *, grid: Optional[str] = None) -> None:
        self._setup(["replace_route", kind, code, unit], grid=grid)

    def weights(self, **weights: float) -> None:
        """Sets the composite score weights: one keyword per weighted unit metric
        (``unit_metrics()``: handling, on_time, rework, overdue, extension); a
        weight not given takes its default (30/20/20/20/10)."""
        defaults = {m["weight"]: m["default_weight"] for m in _caseloop.unit_metrics() if m["weight"]}
        for k in weights:
            if k not in defaults:
                raise TypeError(f"weights() got an unexpected keyword argument '{k}'")
        self._setup(["weights"], **{k: weights.get(k, d) for k, d in defaults.items()})

    # -- queries -----------------------------------------------------------------
    def show(self, case: str, *, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        """The case as it was at ``at`` (default: the clock's now), replayed from its
        events up to then."""
        return self._native.show(case, None if at is None else self._micros(at))

    def history(self, case: str, *, at: Optional[TimeLike] = None) -> List[Dict[str, Any]]:
        """The case's events, oldest first (with ``at``: those up to it): position,
        stream, version, type, time, actor and the event's own fields (times as datetimes)."""
        return self._native.history(case, None if at is None else self._micros(at))

    def events(self, from_position: int = 0, batch: int = 1024) -> Iterator[Dict[str, Any]]:
        """Iterates the global log from ``from_position`` (position 1 is the first event)."""
        pos = max(1, from_position)
        while True:
            chunk = self._native.read_log(pos, batch)
            if not chunk:
                return
            yield from chunk
            pos = chunk[-1]["position"] + 1

    def rates(self, from_: TimeLike, to: TimeLike, at: Optional[TimeLike] = None,
              unit: Optional[str] = None) -> List[Dict[str, Any]]:
        return self._native.rates(self._micros(from_), self._micros(to),
                                  None if at is None else self._micros(at), unit or "")

    def inspectors(self, from_: TimeLike, to: TimeLike, at: Optional[TimeLike] = None) -> List[Dict[str, Any]]:
        return self._native.inspectors(self._micros(from_), self._micros(to),
                                       None if at is None else self._micros(at))

    def centre(self, from_: TimeLike, to: TimeLike, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._native.centre(self._micros(from_), self._micros(to),
                                   None if at is None else self._micros(at))

    def overdue(self, at: Optional[TimeLike] = None) -> List[Dict[str, Any]]:
        return self._native.overdue(None if at is None else self._micros(at))

    def redispatch(self, at: Optional[TimeLike] = None) -> List[Dict[str, Any]]:
        """The open tasks of retired units (dispatched, in handling or suspended), to
        give back (``return_`` by a dispatcher, ``approve``) and dispatch elsewhere."""
        return self._native.redispatch(None if at is None else self._micros(at))

    # -- history import -------------------------------------------------------------
    def import_csv(self, file: str, *, id: str, created: str, unit: str, due: Optional[str] = None,
                   closed: Optional[str] = None, category: Optional[str] = None,
                   time_format: Optional[str] = None, tz: Optional[str] = None,
                   strict: bool = False, status: Optional[str] = None,
                   closed_status: Optional[Union[str, List[str]]] = None) -> Dict[str, Any]:
        """Imports a CSV of historical cases (see ``caseloop import``). Returns
        the counts and the ``row N: reason`` lines of skipped rows (a repeated
        reason: one ``K rows: reason (...)`` line). ``status`` names a status
        column and ``closed_status`` its values that mean closed (a list or
        "V,V"): rows whose close time and status disagree are imported open and
        reported. Raises InvalidArgumentError when the file has rows and none
        could be imported, or (strict) when any row was skipped."""
        if isinstance(closed_status, str):
            closed_status = closed_status.split(",")
        return self._native.import_csv(dict(file=file, id=id, created=created, unit=unit, due=due,
                                            closed=closed, category=category, time_format=time_format,
                                            tz=tz, strict=strict, status=status, closed_status=closed_status))


# -- the typed command methods, generated from the command table -----------------------------

_ANNOTATIONS = {"number": float, "integer": int, "flag": bool, "time": TimeLike}


def _method_name(name: str) -> str:
    return name + "_" if _keyword.iskeyword(name) else name


def _parameters(spec: Dict[str, Any]) -> List[_inspect.Parameter]:
    """``self``, ``case``, then keyword-only: the required fields (own, then ``by``), the
    optional ones (own, then ``at`` and ``command_id``)."""
    kw = _inspect.Parameter.KEYWORD_ONLY
    own, common = spec["fields"], {f["key"]: f for f in _COMMON}
    fields = [f for f in own if f["required"]] + [common["by"]] + [f for f in own if not f["required"]] + \
        [common["at"], common["command_id"]]
    params = [_inspect.Parameter("self", _inspect.Parameter.POSITIONAL_OR_KEYWORD),
              _inspect.Parameter("case", _inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)]
    for f in fields:
        annotation = _ANNOTATIONS.get(f["type"], str)
        if f["required"]:
            params.append(_inspect.Parameter(f["key"], kw, annotation=annotation))
        elif f["type"] == "flag":
            params.append(_inspect.Parameter(f["key"], kw, annotation=bool, default=False))
        else:
            params.append(_inspect.Parameter(f["key"], kw, annotation=Optional[annotation], default=None))
    return params


def _make_method(spec: Dict[str, Any]) -> Callable[..., Dict[str, Any]]:
    name = spec["name"]
    signature = _inspect.Signature(_parameters(spec), return_annotation=Dict[str, Any])

    def method(self: Engine, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        bound = signature.bind(self, *args, **kwargs)  # TypeError for a missing or unknown argument
        fields = dict(bound.arguments)
        del fields["self"]
        case = fields.pop("case")
        return self.command(name, case, **fields)

    lines = [spec["summary"] + ".", ""]
    for f in spec["fields"] + _COMMON:
        lines.append(f"{f['key']}: {f['doc']}" + (" (required)" if f["required"] else ""))
    method.__name__ = _method_name(name)
    method.__qualname__ = "Engine." + method.__name__
    method.__doc__ = "\n".join(lines)
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


for _spec in _COMMANDS.values():
    if not _spec["engine_only"]:
        setattr(Engine, _method_name(_spec["name"]), _make_method(_spec))


def _annotation_text(f: Dict[str, Any]) -> str:
    t = {"number": "float", "integer": "int", "flag": "bool", "time": "TimeLike"}.get(f["type"], "str")
    if f["required"]:
        return t
    return "bool = ..." if f["type"] == "flag" else f"Optional[{t}] = ..."


def _stub_methods() -> str:
    """The typed command methods as ``__init__.pyi`` declares them (between its generated
    markers); tests/python checks that the stub is in step with the table."""
    out = []
    for spec in _COMMANDS.values():
        if spec["engine_only"]:
            continue
        params = _parameters(spec)[2:]
        fields = {f["key"]: f for f in spec["fields"] + _COMMON}
        args = ", ".join(f"{p.name}: {_annotation_text(fields[p.name])}" for p in params)
        out.append(f"    def {_method_name(spec['name'])}(self, case: str, *, {args}) -> Dict[str, Any]: ...\n")
    return "".join(out)
