"""One answer per question (issue 22): after worked.cl, every query gives the same
answer through Python's typed methods, the script language (execute) and the CLI.
The default instant is QueryInstant's (domain.md §7: `to`, or now if earlier; with a
manual clock, its time). The C++ API against the script: tests/script/entry_points_test.cc."""
import datetime as dt
import json
import os
import subprocess

import pytest

import caseloop
from conftest import SHARED

CST = caseloop.tz(8)


def run_cli(args):
    """The CLI as a child process. Without this process's LD_PRELOAD: in the ASan
    stage the interpreter preloads the ASan runtime, and the CLI (linked with its
    own) refuses to start beside it ("incompatible ASan runtimes")."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run(args, capture_output=True, text=True, env=env)

# Periods that end after the clock (2025-04-14T09:00) and one that ended before it.
PERIODS = [("2025-03-01", "2025-05-01"), ("2025-04-01", "2025-04-15"), ("2025-03-01", "2025-04-03")]
CASES = ["A1", "A2", "A3", "A4", "A5"]


def d(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=CST)


def plain(x):
    """A typed answer as its JSON would read: datetimes as ISO text at +08:00."""
    if isinstance(x, dt.datetime):
        return x.astimezone(CST).isoformat()
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [plain(v) for v in x]
    return x


def centre_figures(c):
    """The centre's figures as the script prints them (Python adds the breakdowns)."""
    assert "received_by_category" in c and "received_by_grid" in c
    return {k: v for k, v in c.items() if not k.startswith("received_by_")}


def questions():
    """(script words, typed call) for every query."""
    out = []
    for f, t in PERIODS:
        w = f"from={f} to={t}"
        out.append((f"rates {w}", lambda e, f=f, t=t: e.rates(d(f), d(t))))
        out.append((f"rates {w} unit=BUILD", lambda e, f=f, t=t: e.rates(d(f), d(t), unit="BUILD")))
        out.append((f"inspectors {w}", lambda e, f=f, t=t: e.inspectors(d(f), d(t))))
        out.append((f"centre {w}", lambda e, f=f, t=t: [centre_figures(e.centre(d(f), d(t)))]))
    out.append(("overdue", lambda e: e.overdue()))
    for c in CASES:
        out.append((f"show {c}", lambda e, c=c: [e.show(c)]))
        out.append((f"show {c} at=2025-04-07T10:00", lambda e, c=c: [e.show(c, at=d("2025-04-07T10:00"))]))
    return out


@pytest.fixture(scope="module")
def worked_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("entry") / "db"
    text = (SHARED / "scenarios" / "worked.cl").read_text()
    with caseloop.Engine(str(path), clock="manual") as e:
        e.run(text)
    return path


def test_typed_and_script_answers_agree(worked_db):
    with caseloop.Engine(str(worked_db), clock="manual") as e:
        assert e.now() == d("2025-04-14T09:00")
        for words, typed in questions():
            assert plain(typed(e)) == e.execute(words), words
        # The case: BUILD's A4 is due and overdue now, A3 is not due yet.
        build = e.rates(d("2025-03-01"), d("2025-05-01"), unit="BUILD")
        assert [(r["due"], r["overdue_open"]) for r in build] == [(1, 1)]


def test_cli_answers_as_python(worked_db):
    cli = os.environ.get("CASELOOP_CLI")
    if not cli:
        pytest.skip("CASELOOP_CLI not set (the CLI is not built)")
    with caseloop.Engine(str(worked_db), clock="manual") as e:
        expected = [(words, e.execute(words)) for words, _ in questions()]
    for words, want in expected:
        r = run_cli([cli, "--db", str(worked_db), *words.split()])
        assert r.returncode == 0, (words, r.stderr)
        got = [json.loads(line) for line in r.stdout.splitlines()]
        assert got == want, words


def test_history_at_is_the_prefix_show_at_replays(worked_db):
    with caseloop.Engine(str(worked_db), clock="manual") as e:
        full = e.history("A4")
        upto = e.history("A4", at=d("2025-04-03T10:00"))
        assert 0 < len(upto) < len(full)
        assert upto == full[:len(upto)]
        assert all(ev["time"] <= d("2025-04-03T10:00") for ev in upto)
        assert e.show("A4", at=d("2025-04-03T10:00"))["version"] == len(upto)
        # The script's history lines leave out the stream (the case it names).
        assert [{k: v for k, v in ev.items() if k != "stream"} for ev in plain(upto)] == \
            e.execute("history A4 at=2025-04-03T10:00")
        with pytest.raises(caseloop.NotFoundError):
            e.show("A5", at=d("2025-04-01T09:00"))  # reported on 04-05


def test_unknown_unit_is_an_error_not_zeros(worked_db):
    with caseloop.Engine(str(worked_db), clock="manual") as e:
        with pytest.raises(caseloop.NotFoundError, match="unknown unit 'NOPE'"):
            e.rates(d("2025-03-01"), d("2025-05-01"), unit="NOPE")
        with pytest.raises(caseloop.NotFoundError, match="unknown unit 'NOPE'"):
            e.execute("rates from=2025-03-01 to=2025-05-01 unit=NOPE")


def test_run_numbers_lines_from_1_on_every_call():
    with caseloop.Engine(clock="manual") as e:
        e.run("calendar tz=+08:00 workdays=mon-fri periods=09:00-12:00,13:00-17:00\nunit W name=\"W\"\n")
        for _ in range(2):
            with pytest.raises(caseloop.Error, match=r"^line 2: "):
                e.run("# a comment\nbogus_command x\n")


def test_cli_version_and_help():
    cli = os.environ.get("CASELOOP_CLI")
    if not cli:
        pytest.skip("CASELOOP_CLI not set (the CLI is not built)")
    v = run_cli([cli, "--version"])
    assert v.returncode == 0 and v.stdout.startswith("caseloop 0."), v
    h = run_cli([cli, "help"])
    assert h.returncode == 0 and "rates" in h.stdout and "import" in h.stdout, h
    r = run_cli([cli, "help", "import"])
    assert r.returncode == 0 and "--closed-status" in r.stdout, r
    bad = run_cli([cli, "help", "nope"])
    assert bad.returncode == 2 and "unknown command 'nope'" in bad.stderr, bad
