#!/usr/bin/env python3
"""Tests of `caseloop serve` (docs/server.md): a real server process on a free
loopback port, driven with HTTP (Debian's python3-requests).

    server_test.py CASELOOP_BINARY WORKED_CL [TEST_NAME ...]

Each test starts its own server on its own database in a scratch directory.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

CASELOOP = None
WORKED = None
SETUP_WORDS = {"calendar", "holiday", "workday", "unit", "inspector", "staff", "category", "route", "policy",
               "weights"}
ACTORS = ["I1", "R1", "L1", "D1", "WATER", "STREET", "POWER", "BUILD"]


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def cli(db, *args, check_rc=True):
    p = subprocess.run([CASELOOP, "--db", db, *args], capture_output=True, text=True, timeout=120)
    if check_rc and p.returncode != 0:
        raise Failure("caseloop %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def setup_lines():
    out = []
    with open(WORKED, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words and words[0] in SETUP_WORDS:
                out.append(line)
    return out


class Server:
    """A `caseloop serve` process on 127.0.0.1 and a free port."""

    def __init__(self, db, *extra, durability="sync"):
        self.db = db
        self.log_path = db + ".serve.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [CASELOOP, "--db", db, "--durability", durability, "serve", "--listen", "127.0.0.1:0", *extra],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise Failure("serve exited with %d: %s" % (self.proc.returncode, open(self.log_path).read()))
            for line in open(self.log_path, encoding="utf-8", errors="replace"):
                if "listening on 127.0.0.1:" in line:
                    self.port = int(line.split("listening on 127.0.0.1:")[1].split()[0])
            time.sleep(0.05)
        check(self.port is not None, "serve did not say where it listens")
        self.base = "http://127.0.0.1:%d" % self.port
        self.session = requests.Session()

    def url(self, path):
        return self.base + path

    def req(self, method, path, key=None, **kw):
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = "Bearer " + key
        return self.session.request(method, self.url(path), headers=headers, timeout=60, **kw)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("serve did not stop within 60 s of %s" % sig)
        self.log.close()
        return self.proc.returncode


def issue_keys(db, actors):
    keys = {}
    for a in actors:
        keys[a] = cli(db, "keys", "issue", a).stdout.strip()
        check(keys[a].startswith("cl_"), "a key looks like cl_...: %r" % keys[a])
    return keys


def prepared_db(tmp, name):
    """A database holding worked.cl's configuration, and keys for its actors."""
    db = os.path.join(tmp, name)
    setup = os.path.join(tmp, name + "-setup.cl")
    with open(setup, "w", encoding="utf-8") as f:
        f.writelines(setup_lines())
    cli(db, "run", setup)
    keys = issue_keys(db, ACTORS + ["$admin"])
    return db, keys


def error_of(r, status):
    check(r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text))
    e = r.json()["error"]
    check(e["status"] == status and e["message"] and "where" in e, "error shape: %s" % r.text)
    return e


def show_text(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


# ---------------------------------------------------------------------------
def test_worked_over_http(tmp):
    """worked.cl played over HTTP (commands as POSTs, expects as GETs) answers as the CLI does."""
    db, keys = prepared_db(tmp, "http")
    ref = os.path.join(tmp, "cli")
    cli(ref, "run", WORKED)
    srv = Server(db, "--replay-time")
    try:
        now = None
        cases = set()
        for n, line in enumerate(open(WORKED, encoding="utf-8"), 1):
            words = shlex.split(line, comments=True)
            if not words or words[0] in SETUP_WORDS:
                continue
            if words[0] == "at":
                now = words[1]
                continue
            if words[0] == "expect":
                r = srv.req("GET", "/api/v1/cases/%s" % words[1], keys["$admin"], params={"at": now})
                check(r.status_code == 200, "line %d: show %s: %s" % (n, words[1], r.text))
                shown = r.json()
                for kv in words[2:]:
                    k, v = kv.split("=", 1)
                    check(show_text(shown[k]) == v, "line %d: %s is %s, expected %s" % (n, k, shown[k], v))
                continue
            command, case = words[0], words[1]
            body = {"at": now}
            actor = None
            for w in words[2:]:
                if "=" in w:
                    k, v = w.split("=", 1)
                    if k == "by":
                        actor = v
                    else:
                        body[k] = v
                else:
                    body[w] = True
            r = srv.req("POST", "/api/v1/cases/%s/%s" % (case, command), keys[actor], json=body)
            check(r.status_code in (200, 201), "line %d: %s -> %d %s" % (n, line.strip(), r.status_code, r.text))
            check(r.json()["case"] == case, "line %d: answer names the case" % n)
            cases.add(case)
        admin = keys["$admin"]
        # Every query answers the CLI's JSON (the CLI prints one object per line).
        queries = []
        for c in sorted(cases):
            queries.append((["show", c], "/api/v1/cases/" + c, {}, False))
            queries.append((["history", c], "/api/v1/cases/%s/history" % c, {}, True))
        period = {"from": "2025-03-31T00:00", "to": "2025-05-01T00:00"}
        for q in ("rates", "inspectors", "centre"):
            queries.append(([q] + ["%s=%s" % kv for kv in period.items()], "/api/v1/" + q, period, q != "centre"))
        for q in ("overdue", "workload"):
            queries.append(([q], "/api/v1/" + q, {}, True))
            queries.append(([q, "at=2025-04-03T12:00"], "/api/v1/" + q, {"at": "2025-04-03T12:00"}, True))
        for words, path, params, many in queries:
            expected = [json.loads(l) for l in cli(ref, *words).stdout.splitlines()]
            r = srv.req("GET", path, admin, params=params)
            check(r.status_code == 200, "%s: %d %s" % (path, r.status_code, r.text))
            got = r.json() if many else [r.json()]
            check(got == expected, "%s differs from `caseloop %s`:\n http %s\n cli  %s" %
                  (path, " ".join(words), got, expected))
    finally:
        check(srv.stop() == 0, "serve exits 0 on SIGTERM")


def test_roles_and_errors(tmp):
    """Keys, roles (domain.md §2) and the error shape."""
    db, keys = prepared_db(tmp, "roles")
    srv = Server(db, "--replay-time")
    try:
        def post(actor, path, body, **kw):
            return srv.req("POST", path, keys[actor] if actor else None, json=body, **kw)
        at = {"at": "2025-03-31T09:00"}
        report = dict(at, kind="event", category="0102", source="inspector", grid="620102001001002")
        # 401: no key, a malformed key, an unknown key.
        error_of(post(None, "/api/v1/cases/B1/report", report), 401)
        error_of(srv.req("POST", "/api/v1/cases/B1/report", "cl_k00_00", json=report), 401)
        e = error_of(srv.req("GET", "/api/v1/cases/B1", headers={"Authorization": "Basic x"}), 401)
        check(e["where"] == "authorization", "401 names the header")
        # A unit may not report; an inspector may.
        error_of(post("WATER", "/api/v1/cases/B1/report", report), 403)
        check(post("I1", "/api/v1/cases/B1/report", report).status_code == 201, "inspector reports")
        # The actor is the key's, never the body's.
        e = error_of(post("L1", "/api/v1/cases/B1/register", dict(at, by="I1")), 400)
        check(e["where"] == "body.by", "names the field: %s" % e)
        # A receiver may not register (shift leader's), a dispatcher may not register.
        error_of(post("R1", "/api/v1/cases/B1/register", at), 403)
        error_of(post("D1", "/api/v1/cases/B1/register", at), 403)
        check(post("L1", "/api/v1/cases/B1/register", at).status_code == 200, "shift leader registers")
        # A shift leader may not dispatch; the dispatcher may.
        error_of(post("L1", "/api/v1/cases/B1/dispatch", at), 403)
        r = post("D1", "/api/v1/cases/B1/dispatch", at)
        check(r.status_code == 200 and r.json()["events"] == ["case_dispatched"], r.text)
        # Units: STREET has B1; WATER sees nothing of it, exactly as of a case that does not exist.
        hidden = error_of(srv.req("GET", "/api/v1/cases/B1", keys["WATER"]), 404)
        missing = error_of(srv.req("GET", "/api/v1/cases/B9", keys["WATER"]), 404)
        check(hidden["message"].replace("B1", "X") == missing["message"].replace("B9", "X"),
              "a hidden case looks unknown: %s / %s" % (hidden, missing))
        error_of(post("WATER", "/api/v1/cases/B1/accept", at), 404)
        check(srv.req("GET", "/api/v1/cases/B1", keys["STREET"]).status_code == 200, "STREET sees its task")
        check(post("STREET", "/api/v1/cases/B1/accept", at).status_code == 200, "STREET accepts")
        # 409: refused by the lifecycle, with the engine's message.
        e = error_of(post("STREET", "/api/v1/cases/B1/accept", at), 409)
        check("accept" in e["message"], e["message"])
        # Reads by role.
        error_of(srv.req("GET", "/api/v1/centre", keys["WATER"],
                         params={"from": "2025-03-01T00:00", "to": "2025-04-01T00:00"}), 403)
        r = srv.req("GET", "/api/v1/rates", keys["WATER"], params={"from": "2025-03-01T00:00", "to": "2025-04-01T00:00"})
        check(r.status_code == 200 and all(x["unit"] == "WATER" for x in r.json()), "a unit sees its own rates")
        error_of(srv.req("GET", "/api/v1/rates", keys["WATER"],
                         params={"from": "2025-03-01T00:00", "to": "2025-04-01T00:00", "unit": "STREET"}), 403)
        error_of(srv.req("GET", "/api/v1/cases", keys["WATER"]), 403)
        r = srv.req("GET", "/api/v1/cases", keys["L1"])
        check(r.status_code == 200 and r.json()["cases"] == ["B1"], r.text)
        # 400s name what and where.
        e = error_of(srv.req("POST", "/api/v1/cases/B1/feedback", keys["STREET"], data="{\"note\": ",
                             headers={"Content-Type": "application/json"}), 400)
        check(e["where"] == "body", e)
        e = error_of(post("STREET", "/api/v1/cases/B1/feedback", dict(at, nute="x")), 400)
        check("nute" in e["message"], e)
        e = error_of(post("D1", "/api/v1/cases/B1/extend", dict(at, limit="10x")), 400)
        error_of(srv.req("POST", "/api/v1/cases/B1/feedback", keys["STREET"], data=b"{\"note\": \"\xff\"}"), 400)
        error_of(srv.req("POST", "/api/v1/cases/B1/feedback", keys["STREET"], data="[" * 50 + "]" * 50), 400)
        error_of(srv.req("POST", "/api/v1/cases/B1/feedback", keys["STREET"], data="[1]"), 400)
        error_of(srv.req("GET", "/api/v1/cases/B1", keys["L1"], params={"at": "2025-13-01T00:00"}), 400)
        error_of(srv.req("GET", "/api/v1/overdue", keys["L1"], params={"bogus": "1"}), 400)
        error_of(post("D1", "/api/v1/cases/B1/dispach", at), 404)
        error_of(post("D1", "/api/v1/cases/B1/mark_overdue", at), 404)
        error_of(srv.req("GET", "/api/v1/nothing", keys["L1"]), 404)
        error_of(srv.req("DELETE", "/api/v1/cases/B1", keys["L1"]), 405)
        error_of(srv.req("POST", "/api/v1/cases/B1/feedback", keys["STREET"], data="{\"note\":\"" + "x" * (2 << 20) + "\"}"), 413)
        # 412: If-Match with a version the case has moved past.
        v = srv.req("GET", "/api/v1/cases/B1", keys["L1"]).json()["version"]
        e = error_of(post("STREET", "/api/v1/cases/B1/feedback", dict(at, note="done"),
                          headers={"If-Match": '"%d"' % (v - 1)}), 412)
        r = post("STREET", "/api/v1/cases/B1/feedback", dict(at, note="done"), headers={"If-Match": '"%d"' % v})
        check(r.status_code == 200 and r.json()["version"] == v + 1, r.text)
        # A revoked key is refused from then on.
        kid = keys["R1"].split("_")[1]
        cli(db, "keys", "revoke", kid, check_rc=False)  # the server holds the database: only the keys file changes
        time.sleep(1.2)
        error_of(srv.req("GET", "/api/v1/cases/B1", keys["R1"]), 401)
        listing = cli(db, "keys", "list").stdout
        check(kid in listing and "revoked" in listing and keys["R1"] not in listing, "list shows no key: " + listing)
        check(keys["R1"].split("_")[2] not in open(db + ".keys").read(), "the keys file holds no key")
        # Health, readiness, metrics.
        check(srv.req("GET", "/healthz").status_code == 200, "healthz")
        check(srv.req("GET", "/readyz").status_code == 200, "readyz")
        m = srv.req("GET", "/metrics").text
        check('caseloop_http_requests_total{route="/api/v1/cases/{id}/{command}",status="403"}' in m, m[:2000])
        check("caseloop_command_seconds_count" in m and "caseloop_fsyncs_total" in m, m[:2000])
    finally:
        check(srv.stop() == 0, "serve exits 0")


def test_idempotency(tmp):
    """An Idempotency-Key makes a retry return the first answer and append nothing."""
    db, keys = prepared_db(tmp, "idem")
    srv = Server(db, "--replay-time")
    try:
        body = {"at": "2025-03-31T09:00", "kind": "event", "category": "0102", "source": "inspector"}
        h = {"Idempotency-Key": "report-0001"}
        first = srv.req("POST", "/api/v1/cases", keys["I1"], json=body, headers=h)
        check(first.status_code == 201, first.text)
        case = first.json()["case"]
        again = srv.req("POST", "/api/v1/cases", keys["I1"], json=body, headers=h)
        check(again.status_code == 201, again.text)
        a, b = first.json(), again.json()
        check(b["duplicate"] and not a["duplicate"], "the retry is marked duplicate")
        a.pop("duplicate"), b.pop("duplicate")
        check(a == b, "the retry answers the first answer: %s / %s" % (a, b))
        other = srv.req("POST", "/api/v1/cases", keys["I1"], json=body)
        check(other.status_code == 201 and other.json()["case"] != case, "a new report gets a new number")
        r = srv.req("POST", "/api/v1/cases/%s/register" % case, keys["L1"], json={"at": "2025-03-31T09:05"},
                    headers={"Idempotency-Key": "reg-1"})
        r2 = srv.req("POST", "/api/v1/cases/%s/register" % case, keys["L1"], json={"at": "2025-03-31T09:05"},
                     headers={"Idempotency-Key": "reg-1"})
        check(r.status_code == 200 and r2.status_code == 200 and r2.json()["duplicate"], r2.text)
        h = srv.req("GET", "/api/v1/cases/%s/history" % case, keys["L1"]).json()
        check([e["type"] for e in h] == ["case_reported", "case_registered"], "nothing appended twice: %s" % h)
    finally:
        check(srv.stop() == 0, "serve exits 0")


def test_sigterm_drain(tmp):
    """SIGTERM with requests in flight: each is answered, then the server exits 0."""
    db, keys = prepared_db(tmp, "drain")
    srv = Server(db, "--quiet")
    results = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(i):
        s = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            body = {"kind": "event", "category": "0102", "source": "inspector"}
            try:
                r = s.post(srv.url("/api/v1/cases/T%d-%d/report" % (i, n)), json=body,
                           headers={"Authorization": "Bearer " + keys["I1"]}, timeout=30)
                with lock:
                    results.append((r.status_code, "T%d-%d" % (i, n)))
            except requests.RequestException:
                return  # the server closed after draining
    threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    rc = srv.stop(signal.SIGTERM)
    stop.set()
    for t in threads:
        t.join()
    check(rc == 0, "serve exits 0 after draining, not %s" % rc)
    ok = [c for s, c in results if s == 201]
    check(len(ok) > 0, "some reports were answered")
    check(all(s in (201, 503) for s, _ in results), "in flight: answered 201 or 503: %s" % set(s for s, _ in results))
    # Every 201 is in the log.
    for c in ok[:50] + ok[-50:]:
        out = cli(db, "show", c).stdout
        check('"state":"reported"' in out, "%s: %s" % (c, out))


def test_kill9_under_load(tmp):
    """kill -9 under concurrent HTTP load: every command answered 2xx is in the log, exactly once."""
    db, keys = prepared_db(tmp, "kill")
    srv = Server(db, "--quiet")
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(i):
        s = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            body = {"kind": "event", "category": "0102", "source": "inspector"}
            try:
                r = s.post(srv.url("/api/v1/cases"), json=body,
                           headers={"Authorization": "Bearer " + keys["I1"], "Idempotency-Key": "w%d-%d" % (i, n)},
                           timeout=30)
                if r.status_code == 201:
                    with lock:
                        acked.append(r.json()["case"])
            except requests.RequestException:
                return
    threads = [threading.Thread(target=load, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    srv.proc.kill()
    srv.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    check(len(acked) > 0, "some commands were acknowledged before the kill")
    check(len(set(acked)) == len(acked), "no case number answered twice")
    srv2 = Server(db, "--quiet")
    try:
        seen = []
        after = ""
        while True:
            r = srv2.req("GET", "/api/v1/cases", keys["L1"], params={"after": after, "limit": 1000})
            check(r.status_code == 200, r.text)
            page = r.json()
            seen += page["cases"]
            if page["next"] is None:
                break
            after = page["next"]
        missing = set(acked) - set(seen)
        check(not missing, "acknowledged but lost after kill -9: %s" % sorted(missing)[:10])
        for c in acked:
            h = srv2.req("GET", "/api/v1/cases/%s/history" % c, keys["L1"]).json()
            check([e["type"] for e in h] == ["case_reported"], "%s exactly once: %s" % (c, h))
        print("kill -9: %d acknowledged, %d in the log" % (len(acked), len(seen)))
    finally:
        check(srv2.stop() == 0, "serve exits 0")


def test_slow_client(tmp):
    """A client that sends one byte a second is cut off after the request time."""
    import socket
    db, keys = prepared_db(tmp, "slow")
    srv = Server(db, "--quiet", "--request-timeout", "2")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        t0 = time.time()
        closed = False
        for ch in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 30:
            try:
                s.send(bytes([ch]))
                s.settimeout(1.0)
                if s.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        elapsed = time.time() - t0
        check(closed, "the slow connection was not closed")
        check(elapsed < 10, "cut off after %.1fs, expected about 2s" % elapsed)
        # The server still answers others.
        check(srv.req("GET", "/healthz").status_code == 200, "healthz after the slow client")
        # Malformed HTTP is a 400, not a crash.
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n")
        reply = s.recv(4096)
        check(reply.startswith(b"HTTP/1.1 400"), reply[:200])
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        reply = s.recv(4096)
        check(reply.startswith(b"HTTP/1.1 431"), reply[:200])
    finally:
        check(srv.stop() == 0, "serve exits 0")


def read_events(srv, key, want_last, headers=None, params=None):
    """Reads an event stream until the event with id want_last; returns [(id, type, data)]."""
    h = {"Authorization": "Bearer " + key}
    h.update(headers or {})
    r = requests.get(srv.url("/api/v1/events"), headers=h, params=params or {}, stream=True, timeout=30)
    check(r.status_code == 200 and r.headers["Content-Type"] == "text/event-stream", r.status_code)
    events, frame = [], {}
    try:
        for line in r.iter_lines(chunk_size=1, decode_unicode=True):  # not 512: a frame must not wait for more
            if line:
                if not line.startswith(":"):
                    k, v = line.split(": ", 1)
                    frame[k] = v
                continue
            if "id" in frame:
                events.append((int(frame["id"]), frame["event"], json.loads(frame["data"])))
                if events[-1][0] >= want_last:
                    break
            check(frame.get("event") != "error", "the stream ended: %s" % frame)
            frame = {}
    finally:
        r.close()
    return events


def test_events(tmp):
    """SSE: a client that disconnects and resumes with Last-Event-ID sees no gap and no repeat; units see their own."""
    db, keys = prepared_db(tmp, "events")
    srv = Server(db, "--replay-time")
    try:
        def case(c, category, unit):
            base = {"at": "2025-03-31T09:00"}
            check(srv.req("POST", "/api/v1/cases/%s/report" % c, keys["I1"],
                          json=dict(base, kind="component" if category == "0101" else "event", category=category,
                                    source="inspector")).status_code == 201, "report")
            check(srv.req("POST", "/api/v1/cases/%s/register" % c, keys["L1"], json=base).status_code == 200, "reg")
            r = srv.req("POST", "/api/v1/cases/%s/dispatch" % c, keys["D1"], json=base)
            check(r.status_code == 200 and r.json()["events"] == ["case_dispatched"], r.text)
        case("E1", "0102", "STREET")
        case("E2", "0101", "WATER")
        head = srv.req("GET", "/readyz").json()["head_position"]
        first = read_events(srv, keys["$admin"], head - 2, params={"from": "1"})
        check([e[0] for e in first] == list(range(1, head - 1)), "from 1, in order: %s" % [e[0] for e in first])
        case("E3", "0102", "STREET")
        head2 = srv.req("GET", "/readyz").json()["head_position"]
        rest = read_events(srv, keys["$admin"], head2, headers={"Last-Event-ID": str(first[-1][0])})
        ids = [e[0] for e in first + rest]
        check(ids == list(range(1, head2 + 1)), "resumed without gap or repeat: %s" % ids)
        check(rest[-1][2]["case"] == "E3" and rest[-1][1] == "case_dispatched", rest[-1])
        street = read_events(srv, keys["STREET"], head2, params={"from": "1"})
        check({e[2]["case"] for e in street} == {"E1", "E3"}, "STREET sees only its cases: %s" % street)
        error_of(srv.req("GET", "/api/v1/events", keys["L1"], headers={"Last-Event-ID": "x"}), 400)
        error_of(srv.req("GET", "/api/v1/events"), 401)
        # SIGTERM with a stream open: the stream ends, the server exits 0.
        held = requests.get(srv.url("/api/v1/events"), headers={"Authorization": "Bearer " + keys["L1"]},
                            stream=True, timeout=30)
        check(held.status_code == 200, "a held stream")
        t0 = time.time()
        check(srv.stop() == 0, "serve exits 0 with a stream open")
        check(time.time() - t0 < 20, "the drain does not wait for the stream")
        held.close()
    finally:
        check(srv.stop() == 0, "serve exits 0")


TESTS = {f.__name__[5:]: f for f in [test_worked_over_http, test_roles_and_errors, test_idempotency,
                                      test_sigterm_drain, test_kill9_under_load, test_slow_client,
                                      test_events]}


def main():
    global CASELOOP, WORKED
    CASELOOP, WORKED = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(TESTS)
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="caseloop-serve-") as tmp:
            t0 = time.time()
            try:
                TESTS[name](tmp)
                print("ok   %s (%.1fs)" % (name, time.time() - t0))
            except Exception as e:  # a failure or an unexpected error: report, go on
                failed += 1
                print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
                for log in os.listdir(tmp):
                    if log.endswith(".serve.log"):
                        text = open(os.path.join(tmp, log), errors="replace").read()
                        print("--- %s (tail)\n%s" % (log, text[-3000:]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
