"""The command table in Python: the typed methods generated from it, the
generic ``command()``, the stub file kept in step with it, and history with
datetimes."""
import datetime as dt
import inspect
import os
import pathlib

import pytest

import caseloop

CST = caseloop.tz(8)

SETUP = """
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
unit WATER name="水务局"
inspector I1 grid=620102
staff R1 role=receiver
staff L1 role=shift_leader
staff D1 role=dispatcher
category component 0101 name="上水井盖" limit=4wh
route component 0101 WATER
"""

STUB_BEGIN = "    # BEGIN GENERATED: caseloop._stub_methods()\n"
STUB_END = "    # END GENERATED"


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=CST)


@pytest.fixture
def engine():
    with caseloop.Engine(clock="manual") as e:
        e.run(SETUP)
        e.set_clock(t("2025-03-31T10:00"))
        yield e


def test_every_command_people_issue_has_a_typed_method_from_the_table():
    table = caseloop._caseloop.command_table()
    assert [c["name"] for c in table][:3] == ["report", "register", "reject"]
    for spec in table:
        name = spec["name"] + ("_" if spec["name"] in ("return",) else "")
        if spec["engine_only"]:
            assert not hasattr(caseloop.Engine, name), name
            continue
        sig = inspect.signature(getattr(caseloop.Engine, name))
        for f in spec["fields"]:
            p = sig.parameters[f["key"]]
            assert p.kind is inspect.Parameter.KEYWORD_ONLY
            assert (p.default is inspect.Parameter.empty) == f["required"], (name, f["key"])
        assert sig.parameters["by"].default is inspect.Parameter.empty
        assert "at" in sig.parameters and "command_id" in sig.parameters
        assert spec["summary"] in getattr(caseloop.Engine, name).__doc__


def test_the_stub_declares_the_generated_methods():
    # The .pyi is generated from the table, not edited per command.
    path = pathlib.Path(os.environ.get("CASELOOP_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
    path = path / "bindings" / "python" / "caseloop" / "__init__.pyi"
    text = path.read_text(encoding="utf-8")
    begin, end = text.index(STUB_BEGIN) + len(STUB_BEGIN), text.index(STUB_END)
    wanted = caseloop._stub_methods()
    if os.environ.get("CASELOOP_UPDATE_STUBS") == "1" and text[begin:end] != wanted:
        path.write_text(text[:begin] + wanted + text[end:], encoding="utf-8")
        return
    assert text[begin:end] == wanted, (
        f"{path} is out of date with the command table; regenerate it with "
        "CASELOOP_UPDATE_STUBS=1 and commit the result")


def test_typed_methods_check_their_arguments_like_hand_written_ones(engine):
    with pytest.raises(TypeError):
        engine.reject("C1", by="R1")  # reason is required
    with pytest.raises(TypeError):
        engine.accept("C1", by="WATER", colour="red")
    with pytest.raises(TypeError):
        engine.accept("C1", "WATER")  # keyword-only


def test_the_generic_command_and_the_shared_mapping(engine):
    ack = engine.command("report", "C1", kind="component", category="0101", source="inspector", by="I1",
                         grid="620102001001001", lat=36.05, lon=103.79, emergency=True,
                         at=t("2025-03-31T10:10"))
    assert ack["events"] == ["case_reported"]
    assert engine.now() == t("2025-03-31T10:10")  # at= moved the manual clock
    engine.register("C1", by="L1")
    engine.dispatch("C1", by="D1", deadline=t("2025-04-02T12:00"))  # history import: a given due date
    assert engine.show("C1")["deadline"] == t("2025-04-02T12:00")
    with pytest.raises(caseloop.InvalidArgumentError, match="unknown key 'colour' for 'accept'"):
        engine.command("accept", "C1", by="WATER", colour="red")
    with pytest.raises(caseloop.InvalidArgumentError, match="unknown command 'frobnicate'"):
        engine.command("frobnicate", "C1", by="WATER")
    with pytest.raises(caseloop.InvalidArgumentError, match=r"bad lat=91\.0: must be -90 to 90"):
        engine.report("C2", kind="component", category="0101", source="inspector", by="I1", lat=91.0, lon=1.0)
    with pytest.raises(caseloop.InvalidArgumentError, match="lat= and lon= go together"):
        engine.report("C2", kind="component", category="0101", source="inspector", by="I1", lat=1.0)
    with pytest.raises(caseloop.InvalidArgumentError, match="bad result=maybe: expected pass or fail"):
        engine.verify("C1", result="maybe", by="I1")


def test_history_and_events_give_datetimes_like_show(engine):
    engine.report("C1", kind="component", category="0101", source="inspector", by="I1",
                  grid="620102001001001", at=t("2025-03-31T10:10"))
    engine.register("C1", by="L1", at=t("2025-03-31T10:20"))
    engine.dispatch("C1", by="D1", at=t("2025-03-31T10:30"))
    h = engine.history("C1")
    assert h[0]["time"] == t("2025-03-31T10:10") and h[0]["time"].utcoffset() == dt.timedelta(hours=8)
    dispatched = h[2]
    assert dispatched["type"] == "case_dispatched" and dispatched["stream"] == "C1"
    assert dispatched["deadline"] == t("2025-03-31T15:30") == engine.show("C1")["deadline"]
    assert dispatched["limit"] == "4wh" and dispatched["task"] == 1
    assert list(dispatched)[:6] == ["position", "stream", "version", "type", "time", "actor"]
    log = list(engine.events())
    staff = next(e for e in log if e["type"] == "staff_defined")
    assert staff["roles"] == ["receiver"] and isinstance(staff["time"], dt.datetime)
    assert log[-1] == dispatched
