"""The caseloop Python package: commands, queries, errors, the worked examples,
threads and the Boston import."""
import concurrent.futures
import datetime as dt
import threading

import pytest

import caseloop

CST = caseloop.tz(8)

SETUP = """
calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00
holiday 2025-04-04
unit WATER name="水务局"
unit STREET name="西园街道"
inspector I1 grid=620102
inspector I2 grid=620103
staff R1 role=receiver
staff L1 role=shift_leader
staff D1 role=dispatcher
staff S1 role=supervisor
category component 0101 name="上水井盖" limit=4wh
category event 0102 name="暴露垃圾" limit=1wd
route component 0101 WATER
route event 0102 STREET
"""


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=CST)


@pytest.fixture
def engine():
    with caseloop.Engine(clock="manual") as e:
        e.run(SETUP)
        e.set_clock(t("2025-03-31T08:00"))
        yield e


def test_worked_script_runs_and_checks_itself(shared):
    text = (shared / "scenarios" / "worked.cl").read_text()
    with caseloop.Engine(clock="manual") as e:
        e.run(text)  # every `expect` line raises on a mismatch
        a4 = e.show("A4")
        assert a4["state"] == "handling"
        assert a4["deadline"] == t("2025-04-17T17:00")
        assert e.show("A2")["reworks"] == 1


def test_typed_commands_through_the_lifecycle(engine):
    engine.report("C1", kind="component", category="0101", source="inspector", by="I1",
                  grid="620102001001001", at=t("2025-03-31T10:10"))
    engine.register("C1", by="L1", at=t("2025-03-31T10:20"))
    ack = engine.dispatch("C1", by="D1", at=t("2025-03-31T10:30"))
    assert ack["events"] == ["case_dispatched"]
    view = engine.show("C1")
    assert view["state"] == "dispatched"
    assert view["unit"] == "WATER"
    assert view["deadline"] == t("2025-03-31T15:30")
    assert view["deadline"].utcoffset() == dt.timedelta(hours=8)
    assert view["light"] == "green"
    engine.accept("C1", by="WATER", at=t("2025-03-31T10:40"))
    engine.feedback("C1", by="WATER", note="cover replaced", at=t("2025-03-31T14:40"))
    engine.verify("C1", result="pass", by="I1", at=t("2025-03-31T15:10"))
    view = engine.show("C1")
    assert view["state"] == "closed"
    assert view["on_time"] is True
    types = [e["type"] for e in engine.history("C1")]
    assert types[0] == "case_reported" and types[-1] == "verification_passed"
    assert engine.history("C1")[2]["unit"] == "WATER"


def test_requests_extension_suspension_and_return(engine):
    engine.report("C2", kind="event", category="0102", source="hotline", by="R1",
                  grid="620102001001002", at=t("2025-03-31T09:00"))
    engine.register("C2", by="L1")
    engine.dispatch("C2", by="D1")
    engine.accept("C2", by="STREET")
    engine.extend("C2", limit="1wd", reason="truck broken", by="STREET")
    assert engine.show("C2")["pending"] == "extend"
    with pytest.raises(caseloop.RejectedError, match="pending"):
        engine.suspend("C2", reason="x", by="STREET")
    engine.approve("C2", by="D1")
    assert engine.show("C2")["extensions"] == 1
    assert engine.show("C2")["deadline"] == t("2025-04-01T17:00")  # Mon 17:00 + 7 working hours
    engine.return_("C2", reason="not ours", by="STREET")
    engine.approve("C2", by="D1")
    view = engine.show("C2")
    assert view["state"] == "registered" and view["unit"] is None


def test_errors_map_to_exception_classes(engine):
    with pytest.raises(caseloop.NotFoundError, match="C404"):
        engine.accept("C404", by="WATER")
    engine.report("C3", kind="event", category="0102", source="inspector", by="I1", grid="620102001001003")
    with pytest.raises(caseloop.RejectedError, match="case C3 is reported: 'accept' is not allowed"):
        engine.accept("C3", by="STREET")
    with pytest.raises(caseloop.InvalidArgumentError):
        engine.reject("C3", reason="", by="R1")
    with pytest.raises(caseloop.InvalidArgumentError):
        engine.dispatch("C3", by="D1", limit="3 weeks")
    with pytest.raises(caseloop.InvalidArgumentError):
        engine.execute("dispach C3 by=D1")
    with pytest.raises(caseloop.ConflictError):
        engine.report("C3", kind="event", category="0102", source="inspector", by="I1")
    assert issubclass(caseloop.RejectedError, caseloop.Error)
    assert engine.show("C3")["state"] == "reported"  # nothing was appended by the refusals


def test_an_empty_path_is_refused_not_kept_in_memory(tmp_path):
    # An unset variable gives "": it must not quietly keep nothing.
    with pytest.raises(caseloop.InvalidArgumentError, match="path is empty"):
        caseloop.Engine(path="")
    with caseloop.Engine(path=":memory:", clock="manual", default_config=True) as e:
        e.report("M1", kind="event", category="0102", source="inspector", by="I1")
        assert e.show("M1")["state"] == "reported"
    with caseloop.Engine(path=str(tmp_path / "db"), clock="manual", default_config=True) as e:
        e.report("D1", kind="event", category="0102", source="inspector", by="I1")
    assert (tmp_path / "db" / "ACKNOWLEDGED").exists()


def test_manual_clock_fires_overdue_timer(engine):
    engine.report("C4", kind="component", category="0101", source="inspector", by="I1",
                  grid="620102001001004", at=t("2025-03-31T10:00"))
    engine.register("C4", by="L1")
    engine.dispatch("C4", by="D1")  # 4wh from 10:00 -> 15:00
    engine.advance("4h")
    assert engine.show("C4")["overdue"] is False
    engine.set_clock(t("2025-03-31T16:00"))
    assert engine.show("C4")["overdue"] is True
    assert any("overdue" in e["type"] for e in engine.history("C4"))
    overdue = engine.overdue()
    assert [o["case"] for o in overdue] == ["C4"]
    assert overdue[0]["deadline"] == t("2025-03-31T15:00")
    engine.advance(dt.timedelta(hours=1))
    assert sum("overdue" in e["type"] for e in engine.history("C4")) == 1


def test_instants_outside_the_range_are_refused(engine):
    # The clock and every command stay within 1970-01-01T00:00+14:00 ..
    # 9999-12-31T23:59:59.999999-14:00 (caseloop/time.h); beyond it the
    # deadline timers could not fire and the times would not read back.
    with pytest.raises(caseloop.InvalidArgumentError, match="after the latest instant"):
        engine.advance(dt.timedelta(days=3_000_000))
    engine.set_clock(t("9999-12-31T12:00"))  # 04:00Z
    assert engine.now() == t("9999-12-31T12:00")
    engine.advance("1d")  # 10000-01-01T04:00Z: still in the range
    with pytest.raises(caseloop.InvalidArgumentError, match="after the latest instant"):
        engine.advance("10h")  # 14:00Z: after it


def test_events_iterates_the_global_log(engine):
    engine.report("C5", kind="event", category="0102", source="inspector", by="I1", grid="620102001001005")
    events = list(engine.events())
    positions = [e["position"] for e in events]
    assert positions == list(range(1, len(events) + 1))
    last = events[-1]
    assert last["stream"] == "C5" and last["type"] == "case_reported" and last["actor"] == "I1"
    assert last["time"].tzinfo is not None
    assert list(engine.events(from_position=positions[-1])) == [last]


def test_rates_inspectors_centre(engine):
    for i in range(4):
        c = f"R{i}"
        engine.report(c, kind="event", category="0102", source="inspector", by="I1",
                      grid="620102001001001", at=t("2025-03-31T09:00"))
        engine.register(c, by="L1")
        engine.dispatch(c, by="D1")
    engine.accept("R0", by="STREET")
    engine.feedback("R0", by="STREET", at=t("2025-03-31T10:00"))
    engine.set_clock(t("2025-04-02T09:00"))  # the others are overdue now
    rates = engine.rates(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    street = next(r for r in rates if r["unit"] == "STREET")
    assert street["due"] == 4 and street["handled"] == 1 and street["overdue_open"] == 3
    assert street["handling_rate"] == 0.25
    assert street["grade"] in "ABCDE"
    insp = engine.inspectors(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert next(i for i in insp if i["inspector"] == "I1")["reports"] == 4
    centre = engine.centre(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    assert centre["received"] == 4 and centre["registered"] == 4


def test_unit_metrics_drive_rates_keys_and_weights(engine):
    metrics = caseloop.unit_metrics()
    engine.report("M1", kind="event", category="0102", source="inspector", by="I1",
                  grid="620102001001001", at=t("2025-03-31T09:00"))
    engine.register("M1", by="L1")
    engine.dispatch("M1", by="D1")
    engine.accept("M1", by="STREET")
    engine.feedback("M1", by="STREET", at=t("2025-03-31T10:00"))
    row = next(r for r in engine.rates(dt.date(2025, 3, 1), dt.date(2025, 4, 1)) if r["unit"] == "STREET")
    assert list(row) == ["unit", "unit_name"] + [m["key"] for m in metrics] + ["score", "grade"]
    assert {m["weight"]: m["default_weight"] for m in metrics if m["weight"]} == {
        "handling": 30, "on_time": 20, "rework": 20, "overdue": 20, "extension": 10}
    with pytest.raises(TypeError):
        engine.weights(handlng=40)
    engine.weights(handling=50)  # the weights not given take their defaults
    change = [e for e in engine.events() if e["type"] == "weights_set"][-1]
    assert [change[k] for k in ("handling", "on_time", "rework", "overdue", "extension")] == [50, 20, 20, 20, 10]


def test_threads_submit_concurrently(tmp_path):
    with caseloop.Engine(path=str(tmp_path / "db"), durability="sync", clock="manual") as e:
        e.run(SETUP)
        e.set_clock(t("2025-03-31T09:00"))

        def life(i: int) -> str:
            c = f"T{i}"
            e.report(c, kind="event", category="0102", source="inspector", by="I1", grid="620102001001001")
            e.register(c, by="L1")
            e.dispatch(c, by="D1")
            e.accept(c, by="STREET")
            return c

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            cases = list(pool.map(life, range(64)))
        assert all(e.show(c)["state"] == "handling" for c in cases)
        positions = [ev["position"] for ev in e.events()]
        assert positions == list(range(1, len(positions) + 1))
    # Reopen: everything acknowledged is there.
    with caseloop.Engine(path=str(tmp_path / "db"), clock="manual", default_config=True) as e:
        assert all(e.show(f"T{i}")["state"] == "handling" for i in range(64))


def test_boston_import_matches_city_on_time_flags(shared):
    import csv
    path = shared / "data" / "boston311_raw_sample.csv"
    with caseloop.Engine(durability="none", clock="manual") as e:
        summary = e.import_csv(str(path), id="CASE_ENQUIRY_ID", created="OPEN_DT", unit="SUBJECT",
                               due="TARGET_DT", closed="CLOSED_DT", category="TYPE",
                               time_format="%Y-%m-%d %H:%M:%S", tz="-05:00")
        assert summary["imported"] > 4900
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        checked = 0
        for row in rows[::25]:  # every 25th row keeps the test quick
            flag = row.get("OnTime_Status")
            if flag not in ("ONTIME", "OVERDUE"):
                continue
            view = e.show(row["CASE_ENQUIRY_ID"])
            assert view["on_time"] is (flag == "ONTIME"), row["CASE_ENQUIRY_ID"]
            checked += 1
        assert checked > 150
        again = e.import_csv(str(path), id="CASE_ENQUIRY_ID", created="OPEN_DT", unit="SUBJECT",
                             due="TARGET_DT", closed="CLOSED_DT", category="TYPE", tz="-05:00")
        assert again["imported"] == 0


def test_retire_rename_and_redispatch(engine):
    """Issue 23: a retired unit keeps its past, is refused later with when, and its
    open task is listed for re-dispatch; a renamed unit shows its new name."""
    engine.report("R9", kind="component", category="0101", source="inspector", by="I1",
                  grid="620102001001001", at=t("2025-03-31T09:00"))
    engine.register("R9", by="L1")
    engine.dispatch("R9", by="D1")
    engine.accept("R9", by="WATER")
    engine.set_clock(t("2025-04-01T09:00"))
    engine.unit("POWER", name="供电局")
    engine.retire_unit("WATER")
    engine.rename_unit("STREET", name="城管街道办")
    with pytest.raises(caseloop.RejectedError,
                       match=r"feedback R9: actor WATER was retired at 2025-04-01T09:00:00\+08:00"):
        engine.feedback("R9", by="WATER")
    with pytest.raises(caseloop.RejectedError, match="unit WATER was retired"):
        engine.route("component", "0101", "WATER")
    rows = engine.redispatch()
    assert [(r["case"], r["unit"], r["unit_name"], r["state"]) for r in rows] == \
        [("R9", "WATER", "水务局", "handling")]
    assert rows[0]["retired"] == t("2025-04-01T09:00")
    march = {r["unit"]: r for r in engine.rates(t("2025-03-01T00:00"), t("2025-04-01T00:00"))}
    assert march["WATER"]["due"] == 1 and march["STREET"]["unit_name"] == "城管街道办"
    april = {r["unit"] for r in engine.rates(t("2025-04-01T00:00"), t("2025-05-01T00:00"))}
    assert "WATER" in april  # active on April 1st until 09:00
    may = {r["unit"] for r in engine.rates(t("2025-05-01T00:00"), t("2025-06-01T00:00"))}
    assert "WATER" not in may
    engine.return_("R9", reason="WATER merged into POWER", by="D1")
    engine.approve("R9", by="D1")
    engine.dispatch("R9", by="D1", unit="POWER")
    assert engine.redispatch() == []
    engine.route("component", "0101", "POWER")
    engine.replace_route("component", "0101", "STREET")
    with pytest.raises(caseloop.NotFoundError, match="no such route rule"):
        engine.remove_route("component", "0101", "POWER")
    engine.remove_route("component", "0101", "STREET")
    engine.retire_category("event", "0102")
    with pytest.raises(caseloop.RejectedError, match="category event 0102 was retired"):
        engine.report("R10", kind="event", category="0102", source="inspector", by="I1")
