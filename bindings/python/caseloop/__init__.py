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
"""
from __future__ import annotations

import datetime as _dt
import json as _json
from typing import Any, Dict, Iterator, List, Optional, Union

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
_TIME_KEYS = ("deadline", "time")

TimeLike = Union[_dt.datetime, _dt.date, str]


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

    def _times(self, d: Dict[str, Any]) -> Dict[str, Any]:
        for k in _TIME_KEYS:
            if k in d and isinstance(d[k], int):
                d[k] = self._time(d[k])
        return d

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
        """Runs a whole script, line by line; stops at the first error."""
        out: List[Dict[str, Any]] = []
        for line in text.splitlines():
            out.extend(self.execute(line))
        return out

    # -- case commands -------------------------------------------------------
    def _submit(self, type_: str, case: str, by: str, at: Optional[TimeLike], **fields: Any) -> Dict[str, Any]:
        fields = {k: v for k, v in fields.items() if v is not None}
        if "deadline" in fields:
            fields["deadline"] = self._micros(fields["deadline"])
        micros = None if at is None else self._micros(at)
        if micros is not None and self._manual and micros > self._native.now():
            # As in scripts: a command's own time moves the manual clock (firing due timers) first.
            self._native.set_clock(micros)
        return self._native.submit(dict(type=type_, case=case, by=by, at=micros, **fields))

    def report(self, case: str, *, kind: str, category: str, source: str, by: str,
               grid: Optional[str] = None, component: Optional[str] = None,
               lat: Optional[float] = None, lon: Optional[float] = None, address: Optional[str] = None,
               desc: Optional[str] = None, emergency: bool = False, at: Optional[TimeLike] = None,
               command_id: Optional[str] = None) -> Dict[str, Any]:
        return self._submit("report", case, by, at, kind=kind, category=category, source=source, grid=grid,
                            component=component, lat=lat, lon=lon, address=address, desc=desc,
                            emergency=emergency, command_id=command_id)

    def register(self, case: str, *, by: str, category: Optional[str] = None,
                 at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("register", case, by, at, category=category)

    def reject(self, case: str, *, reason: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("reject", case, by, at, reason=reason)

    def merge(self, case: str, *, into: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("merge", case, by, at, into=into)

    def dispatch(self, case: str, *, by: str, unit: Optional[str] = None, limit: Optional[str] = None,
                 deadline: Optional[TimeLike] = None, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("dispatch", case, by, at, unit=unit, limit=limit, deadline=deadline)

    def accept(self, case: str, *, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("accept", case, by, at)

    def return_(self, case: str, *, reason: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("return", case, by, at, reason=reason)

    def extend(self, case: str, *, limit: str, reason: str, by: str,
               at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("extend", case, by, at, limit=limit, reason=reason)

    def suspend(self, case: str, *, reason: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("suspend", case, by, at, reason=reason)

    def approve(self, case: str, *, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("approve", case, by, at)

    def deny(self, case: str, *, reason: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("deny", case, by, at, reason=reason)

    def resume(self, case: str, *, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("resume", case, by, at)

    def feedback(self, case: str, *, by: str, note: Optional[str] = None,
                 at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("feedback", case, by, at, note=note)

    def verify(self, case: str, *, result: str, by: str, note: Optional[str] = None,
               at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("verify", case, by, at, result=result, note=note)

    def void(self, case: str, *, reason: str, by: str, at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("void", case, by, at, reason=reason)

    def supervise(self, case: str, *, by: str, note: Optional[str] = None,
                  at: Optional[TimeLike] = None) -> Dict[str, Any]:
        return self._submit("supervise", case, by, at, note=note)

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
        return self._times(self._native.show(case, None if at is None else self._micros(at)))

    def _event(self, e: Dict[str, Any]) -> Dict[str, Any]:
        fields = _json.loads(e.pop("fields_json") or "{}")
        e["time"] = self._time(e["time"])
        for k, v in fields.items():
            e.setdefault(k, v)
        return e

    def history(self, case: str) -> List[Dict[str, Any]]:
        return [self._event(e) for e in self._native.history(case)]

    def events(self, from_position: int = 0, batch: int = 1024) -> Iterator[Dict[str, Any]]:
        """Iterates the global log from ``from_position`` (position 1 is the first event)."""
        pos = max(1, from_position)
        while True:
            chunk = self._native.read_log(pos, batch)
            if not chunk:
                return
            for e in chunk:
                yield self._event(e)
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
        return [self._times(d) for d in self._native.overdue(None if at is None else self._micros(at))]

    # -- history import -------------------------------------------------------------
    def import_csv(self, file: str, *, id: str, created: str, unit: str, due: Optional[str] = None,
                   closed: Optional[str] = None, category: Optional[str] = None,
                   time_format: Optional[str] = None, tz: Optional[str] = None,
                   strict: bool = False) -> Dict[str, Any]:
        """Imports a CSV of historical cases (see ``caseloop import``). Returns
        the counts and the ``row N: reason`` lines of skipped rows."""
        return self._native.import_csv(dict(file=file, id=id, created=created, unit=unit, due=due,
                                            closed=closed, category=category, time_format=time_format,
                                            tz=tz, strict=strict))
