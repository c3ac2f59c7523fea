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
        r = srv.req("GET", "/api/v1/cases", keys["WATER"])
        check(r.status_code == 200 and r.json()["cases"] == [], "WATER has no task: %s" % r.text)
        r = srv.req("GET", "/api/v1/cases", keys["L1"])
        check(r.status_code == 200 and [c["case"] for c in r.json()["cases"]] == ["B1"], r.text)
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
        check("caseloop_command_seconds_count" in m and "caseloop_store_fsyncs_total" in m, m[:2000])
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
        cursor = ""
        while True:
            r = srv2.req("GET", "/api/v1/cases", keys["L1"], params={"cursor": cursor, "limit": 1000})
            check(r.status_code == 200, r.text)
            page = r.json()
            seen += [c["case"] for c in page["cases"]]
            if page["next"] is None:
                break
            cursor = page["next"]
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


def list_all(srv, key, **params):
    """Every page of GET /api/v1/cases: the case ids in order, and the rows."""
    rows, cursor, pages = [], None, 0
    while True:
        q = dict(params)
        if cursor:
            q["cursor"] = cursor
        r = srv.req("GET", "/api/v1/cases", key, params=q)
        check(r.status_code == 200, r.text)
        page = r.json()
        check(len(page["cases"]) <= int(params.get("limit", 100)), "a page holds at most limit rows")
        rows += page["cases"]
        pages += 1
        if page["next"] is None:
            return [c["case"] for c in rows], rows, pages
        cursor = page["next"]


def test_case_list(tmp):
    """GET /api/v1/cases: filters, cursor pages, lights as show's, and §2 visibility."""
    db, keys = prepared_db(tmp, "list")
    srv = Server(db, "--replay-time")
    try:
        def post(actor, case, command, **body):
            body.setdefault("at", "2025-03-31T09:00")
            r = srv.req("POST", "/api/v1/cases/%s/%s" % (case, command), keys[actor], json=body)
            check(r.status_code in (200, 201), "%s %s: %s" % (command, case, r.text))
        # L1..L6 water cases (4 wh), S1..S3 street cases (1 wd), one only reported, one in another grid.
        for i in range(1, 7):
            post("I1", "L%d" % i, "report", kind="component", category="0101", source="inspector",
                 grid="620102001001001")
            post("L1", "L%d" % i, "register")
            post("D1", "L%d" % i, "dispatch")
        for i in range(1, 4):
            post("R1", "S%d" % i, "report", kind="event", category="0102", source="hotline",
                 grid="620102002001001", at="2025-03-31T10:00")
            post("L1", "S%d" % i, "register", at="2025-03-31T10:00")
            post("D1", "S%d" % i, "dispatch", at="2025-03-31T10:00")
        post("R1", "N1", "report", kind="event", category="0102", source="hotline", at="2025-03-31T11:00")
        post("R1", "O1", "report", kind="event", category="0102", source="hotline", grid="620103001001001",
             at="2025-03-31T11:00")
        post("WATER", "L1", "accept", at="2025-03-31T11:00")
        post("WATER", "L1", "feedback", note="done", at="2025-03-31T11:30")
        everything = {"L1", "L2", "L3", "L4", "L5", "L6", "S1", "S2", "S3", "N1", "O1"}
        ids, rows, _ = list_all(srv, keys["L1"])
        check(ids == sorted(ids) and set(ids) == everything, ids)
        ids, rows, pages = list_all(srv, keys["L1"], limit="2")
        check(pages >= 6 and set(ids) == everything and len(ids) == len(everything), "pages of 2: %s in %d" % (ids, pages))
        ids, _, _ = list_all(srv, keys["L1"], state="dispatched")
        check(ids == ["L2", "L3", "L4", "L5", "L6", "S1", "S2", "S3"], ids)
        ids, _, _ = list_all(srv, keys["L1"], state="awaiting_verification")
        check(ids == ["L1"], ids)
        ids, _, _ = list_all(srv, keys["L1"], unit="STREET", limit="1")
        check(ids == ["S1", "S2", "S3"], ids)
        ids, _, _ = list_all(srv, keys["L1"], category="0102", kind="event")
        check(ids == ["N1", "O1", "S1", "S2", "S3"], ids)
        ids, _, _ = list_all(srv, keys["L1"], grid="620102002")
        check(ids == ["S1", "S2", "S3"], ids)
        ids, _, _ = list_all(srv, keys["L1"], **{"from": "2025-03-31T09:30", "to": "2025-03-31T10:30"})
        check(ids == ["S1", "S2", "S3"], ids)
        # Lights at `at`, exactly as show's: the water tasks (4 wh from Mon 09:00, due 14:00) are green at
        # 10:00, yellow at 13:30 (3.5 h of 4 gone, over 80 %), red at 15:00.
        for at, want in [("2025-03-31T10:00", "green"), ("2025-03-31T13:30", "yellow"), ("2025-03-31T15:00", "red")]:
            ids, rows, _ = list_all(srv, keys["L1"], light=want, unit="WATER", at=at)
            check(ids == ["L2", "L3", "L4", "L5", "L6"], "%s at %s: %s" % (want, at, ids))
            shown = srv.req("GET", "/api/v1/cases/L2", keys["L1"], params={"at": at}).json()
            check(shown["light"] == want and all(r["light"] == want for r in rows), "%s / %s" % (shown, rows))
            ids, _, _ = list_all(srv, keys["L1"], light=want, at=at, limit="3")
            check(set(["L2", "L3", "L4", "L5", "L6"]) <= set(ids), ids)
        # §2: a unit sees its own tasks only; an inspector what it may verify; staff everything.
        ids, _, _ = list_all(srv, keys["STREET"])
        check(ids == ["S1", "S2", "S3"], "STREET: %s" % ids)
        ids, _, _ = list_all(srv, keys["WATER"], state="dispatched")
        check(ids == ["L2", "L3", "L4", "L5", "L6"], "WATER: %s" % ids)
        error_of(srv.req("GET", "/api/v1/cases", keys["WATER"], params={"unit": "STREET"}), 403)
        ids, _, _ = list_all(srv, keys["I1"])
        # I1 patrols grid 620102 (worked.cl) and reported the L cases; N1 has no grid (any inspector's);
        # O1 lies in another district's grid and was reported by the hotline.
        check("O1" not in ids and {"N1", "S1", "L1"} <= set(ids), "I1: %s" % ids)
        shown = [c for c in ids if srv.req("GET", "/api/v1/cases/" + c, keys["I1"]).status_code == 200]
        check(ids == shown, "an inspector lists exactly what it may show: %s / %s" % (ids, shown))
        # Bad parameters name what and where.
        for params, where in [({"state": "open"}, "query.state"), ({"light": "blue"}, "query.light"),
                              ({"limit": "0"}, "query.limit"), ({"grid": "62x"}, "query.grid"),
                              ({"category": "12"}, "query.category"), ({"cursor": "zz"}, "query.cursor"),
                              ({"from": "2025-04-01T00:00", "to": "2025-03-01T00:00"}, "query.to"),
                              ({"after": "L1"}, "query.after")]:
            e = error_of(srv.req("GET", "/api/v1/cases", keys["L1"], params=params), 400)
            check(e["where"] == where, "%s: %s" % (params, e))
        page = srv.req("GET", "/api/v1/cases", keys["L1"], params={"limit": "1"}).json()
        e = error_of(srv.req("GET", "/api/v1/cases", keys["L1"], params={"cursor": page["next"], "unit": "WATER"}), 400)
        check("another filter" in e["message"], e)
        # /metrics at the latest recorded instant (11:30): 8 open tasks, all green, none overdue.
        m = srv.req("GET", "/metrics").text
        for line in ['caseloop_open_tasks 8', 'caseloop_overdue_tasks 0', 'caseloop_open_tasks_by_light{light="green"} 8',
                     'caseloop_open_tasks_by_light{light="yellow"} 0', 'caseloop_open_tasks_by_light{light="red"} 0']:
            check(line + "\n" in m, "metrics lack %r: %s" % (line, m[-1500:]))
    finally:
        check(srv.stop() == 0, "serve exits 0")


# domain.md §2: who may issue each command (written from the spec's text, not read from the command table).
ROLE_MATRIX = {
    "report": {"inspector", "receiver"},
    "register": {"shift_leader"},
    "reject": {"receiver", "shift_leader"},
    "merge": {"receiver", "shift_leader"},
    "dispatch": {"dispatcher"},
    "accept": {"unit"},
    "return": {"unit"},
    "extend": {"unit"},
    "suspend": {"unit"},
    "approve": {"dispatcher"},
    "deny": {"dispatcher"},
    "resume": {"dispatcher"},
    "feedback": {"unit"},
    "verify": {"inspector"},
    "void": {"shift_leader"},
    "supervise": {"supervisor"},
}
ROLE_ACTORS = {"inspector": "I1", "receiver": "R1", "shift_leader": "L1", "dispatcher": "D1", "unit": "WATER",
               "supervisor": "S1", "admin": "$admin"}
# The state each command needs (a water case: component 0101, routed to WATER, in I1's grid).
PREPARE = {"report": None, "register": "reported", "reject": "reported", "merge": "reported",
           "dispatch": "registered", "accept": "dispatched", "return": "dispatched", "extend": "handling",
           "suspend": "handling", "approve": "pending", "deny": "pending", "resume": "suspended",
           "feedback": "handling", "verify": "awaiting_verification", "void": "reported",
           "supervise": "dispatched"}
STEPS = [("reported", "I1", "report", {"kind": "component", "category": "0101", "source": "inspector",
                                       "grid": "620102001001001"}),
         ("registered", "L1", "register", {}),
         ("dispatched", "D1", "dispatch", {}),
         ("handling", "WATER", "accept", {}),
         ("pending", "WATER", "suspend", {"reason": "waiting for parts"}),
         ("suspended", "D1", "approve", {})]
BODIES = {"reject": {"reason": "not valid"}, "merge": {"into": "M0"}, "return": {"reason": "not ours"},
          "extend": {"limit": "2wh", "reason": "more time"}, "suspend": {"reason": "parts"},
          "deny": {"reason": "no"}, "verify": {"result": "pass"}, "void": {"reason": "test"}}


def test_role_matrix(tmp):
    """Every role x every command: allowed (2xx) or 403 as domain.md §2 says; a unit never sees others' cases."""
    db, keys = prepared_db(tmp, "matrix")
    srv = Server(db, "--quiet", durability="none")
    try:
        # A supervisor, added over HTTP with the admin key (a configuration verb), then its key.
        r = srv.req("POST", "/api/v1/config/staff", keys["$admin"], json={"id": "S1", "role": "supervisor"})
        check(r.status_code == 200, r.text)
        keys["S1"] = cli(db, "keys", "issue", "S1").stdout.strip()
        time.sleep(1.2)  # the server rereads the keys file at most once a second

        def post(actor, case, command, body):
            return srv.req("POST", "/api/v1/cases/%s/%s" % (case, command), keys[actor], json=body)

        def prepare(case, state):
            for reached, actor, command, body in STEPS:
                if state == "awaiting_verification" and reached == "pending":
                    r = post("WATER", case, "feedback", {"note": "done"})
                    check(r.status_code == 200, r.text)
                    return
                r = post(actor, case, command, body)
                check(r.status_code in (200, 201), "prepare %s %s: %s" % (case, command, r.text))
                if reached == state:
                    return
        prepare("M0", "reported")
        n = 0
        seen = set()
        for command, allowed in ROLE_MATRIX.items():
            for role, actor in ROLE_ACTORS.items():
                n += 1
                case = "X%d" % n
                body = dict(BODIES.get(command, {}))
                if command == "report":
                    body = {"kind": "component", "category": "0101", "grid": "620102001001001",
                            "source": "inspector" if role == "inspector" else "hotline"}
                else:
                    prepare(case, PREPARE[command])
                    before = srv.req("GET", "/api/v1/cases/%s/history" % case, keys["L1"]).json()
                r = post(actor, case, command, body)
                if role in allowed:
                    want = 201 if command == "report" else 200
                    check(r.status_code == want, "%s by %s: expected %d, got %s" % (command, role, want, r.text))
                elif role == "unit" and PREPARE[command] in ("reported", "registered"):
                    # Not dispatched to the unit: to it the case does not exist (no hint), as for reads.
                    e = error_of(r, 404)
                    check(e["message"] == "unknown case " + case, e)
                else:
                    e = error_of(r, 403)
                    check(e["where"] in ("command", "role"), "%s by %s: %s" % (command, role, e))
                if role not in allowed and command != "report":  # a refusal appends nothing
                    after = srv.req("GET", "/api/v1/cases/%s/history" % case, keys["L1"]).json()
                    check(after == before, "%s by %s appended: %s" % (command, role, after[len(before):]))
                seen.add((command, role))
        check(len(seen) == len(ROLE_MATRIX) * len(ROLE_ACTORS), "every pair tried")
        # Another unit on WATER's task: an unknown case to it, for commands and reads alike.
        prepare("Y1", "handling")
        e = error_of(post("STREET", "Y1", "feedback", {}), 404)
        check(e["message"] == "unknown case Y1", e)
        error_of(srv.req("GET", "/api/v1/cases/Y1", keys["STREET"]), 404)
        # Configuration verbs: the admin's only.
        for actor in ["L1", "D1", "WATER", "I1"]:
            error_of(srv.req("POST", "/api/v1/config/unit", keys[actor], json={"id": "GAS"}), 403)
    finally:
        check(srv.stop() == 0, "serve exits 0")


def test_config_verbs(tmp):
    """POST /api/v1/config/{verb}: the script's setup lines for an admin key, their errors as 400."""
    db, keys = prepared_db(tmp, "config")
    srv = Server(db, "--quiet")
    try:
        admin = keys["$admin"]

        def verb(name, body, key=admin):
            return srv.req("POST", "/api/v1/config/" + name, key, json=body)
        check(verb("unit", {"id": "GAS", "name": "Gas company"}).status_code == 200, "unit")
        check(verb("category", {"kind": "event", "code": "0501", "limit": "2wd"}).status_code == 200, "category")
        r = verb("route", {"kind": "event", "code": "0501", "unit": "GAS"})
        check(r.status_code == 200 and r.json()["verb"] == "route", r.text)
        check(verb("staff", {"id": "D2", "role": "dispatcher"}).status_code == 200, "staff")
        check(verb("holiday", {"date": "2025-05-01"}).status_code == 200, "holiday")
        check(verb("policy", {"yellow_percent": 75}).status_code == 200, "policy")
        # The change is in the log and used at once: a 0501 event is routed to GAS.
        keys["D2"] = cli(db, "keys", "issue", "D2").stdout.strip()
        time.sleep(1.2)
        body = {"kind": "event", "category": "0501", "source": "hotline"}
        check(srv.req("POST", "/api/v1/cases/G1/report", keys["R1"], json=body).status_code == 201, "report")
        check(srv.req("POST", "/api/v1/cases/G1/register", keys["L1"], json={}).status_code == 200, "register")
        r = srv.req("POST", "/api/v1/cases/G1/dispatch", keys["D2"], json={})
        check(r.status_code == 200, "the new dispatcher dispatches: " + r.text)
        shown = srv.req("GET", "/api/v1/cases/G1", keys["L1"]).json()
        check(shown["unit"] == "GAS", "routed by the new route: %s" % shown)
        # Issue 23 over HTTP: GAS retired, its open G1 listed for re-dispatch; routing to it refused.
        check(verb("retire_unit", {"id": "GAS"}).status_code == 200, "retire_unit")
        rows = srv.req("GET", "/api/v1/redispatch", keys["L1"]).json()
        check([(x["case"], x["unit"], x["state"]) for x in rows] == [("G1", "GAS", "dispatched")], rows)
        e = error_of(verb("route", {"kind": "event", "code": "0501", "unit": "GAS"}), 409)
        check("GAS was retired at" in e["message"], e)
        # Errors: the script's messages, named.
        e = error_of(verb("unit", {}), 400)
        check(e["where"] == "body.id" and "usage" in e["message"], e)
        e = error_of(verb("category", {"kind": "event", "code": "0502", "limit": "2 weeks"}), 400)
        check("limit" in e["message"], e)
        e = error_of(verb("staff", {"id": "X", "role": "boss"}), 400)
        check("boss" in e["message"], e)
        e = error_of(verb("unit", {"id": "GAS2", "colour": "red"}), 400)
        check("colour" in e["message"], e)
        e = error_of(verb("unit", {"id": "A=B"}), 400)
        e = error_of(verb("dispatch", {"id": "A1"}), 404)
        check("verbs:" in e["message"], e)
        error_of(srv.req("GET", "/api/v1/config/unit", admin), 405)
        error_of(verb("unit", {"id": "GAS3"}, key=keys["L1"]), 403)
        error_of(srv.req("POST", "/api/v1/cases/Z1/report", admin, json=body), 403)
    finally:
        check(srv.stop() == 0, "serve exits 0")


def metric_values(text, name):
    """{labels: value} of the samples of metric `name` in a /metrics text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        if head == name or head.startswith(name + "{"):
            out[head[len(name):]] = float(value)
    return out


def test_store_metrics(tmp):
    """/metrics: the store's fsyncs and group-commit sizes move after commands; the histogram is whole."""
    db, keys = prepared_db(tmp, "storemetrics")
    srv = Server(db, "--quiet")
    try:
        def sample():
            m = srv.req("GET", "/metrics").text
            check("# TYPE caseloop_store_group_size histogram" in m, m[:3000])
            fsyncs = metric_values(m, "caseloop_store_fsyncs_total")[""]
            buckets = metric_values(m, "caseloop_store_group_size_bucket")
            count = metric_values(m, "caseloop_store_group_size_count")[""]
            total = metric_values(m, "caseloop_store_group_size_sum")[""]
            bounds = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "+Inf"]
            values = [buckets['{le="%s"}' % b] for b in bounds]
            check(values == sorted(values), "cumulative buckets: %s" % values)
            check(values[-1] == count and total >= count, "+Inf = count, sum >= count: %s %s %s" % (values, count, total))
            return fsyncs, count, total
        f0, c0, s0 = sample()
        body = {"kind": "event", "category": "0102", "source": "inspector"}
        errors = []

        def load(i):
            s = requests.Session()
            for n in range(10):
                r = s.post(srv.url("/api/v1/cases"), json=body, timeout=30,
                           headers={"Authorization": "Bearer " + keys["I1"]})
                if r.status_code != 201:
                    errors.append(r.text)
        threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not errors, errors[:3])
        f1, c1, s1 = sample()
        check(f1 > f0, "fsyncs move after 80 synced commands: %s -> %s" % (f0, f1))
        check(c1 > c0 and s1 - s0 >= 80, "groups and their writers move: %s/%s -> %s/%s" % (c0, s0, c1, s1))
    finally:
        check(srv.stop() == 0, "serve exits 0")


def test_config_idempotency(tmp):
    """A configuration verb retried with the same Idempotency-Key gives the first answer and appends
    nothing, also after a restart; a new key appends a new change."""
    db, keys = prepared_db(tmp, "configidem")
    admin = keys["$admin"]
    srv = Server(db, "--quiet")

    def head(server):
        return server.req("GET", "/readyz").json()["head_position"]

    def verb(server, name, body, key):
        return server.req("POST", "/api/v1/config/" + name, admin, json=body, headers={"Idempotency-Key": key})
    try:
        h0 = head(srv)
        first = verb(srv, "unit", {"id": "GAS", "name": "Gas company"}, "cfg-1")
        check(first.status_code == 200, first.text)
        a = first.json()
        check(a["verb"] == "unit" and a["position"] == h0 + 1 and not a["duplicate"], a)
        again = verb(srv, "unit", {"id": "GAS", "name": "Gas company"}, "cfg-1")
        check(again.status_code == 200 and again.json()["duplicate"], again.text)
        b = again.json()
        b["duplicate"] = False
        check(a == b, "the retry answers the first answer: %s / %s" % (a, b))
        check(head(srv) == h0 + 1, "the retry appended nothing")
        # Another verb, retried: its own first answer.
        hol = verb(srv, "holiday", {"date": "2025-05-02"}, "cfg-2")
        check(hol.status_code == 200, hol.text)
        check(verb(srv, "holiday", {"date": "2025-05-02"}, "cfg-2").json()["position"] == hol.json()["position"],
              "holiday retry")
        # Errors: a bad key is named; a refused change appends nothing under its key.
        e = error_of(srv.req("POST", "/api/v1/config/unit", admin, json={"id": "X1"},
                             headers={"Idempotency-Key": "has space"}), 400)
        check(e["where"] == "idempotency-key", e)
        error_of(verb(srv, "staff", {"id": "X", "role": "boss"}, "cfg-3"), 400)
        ok = verb(srv, "staff", {"id": "X", "role": "dispatcher"}, "cfg-3")
        check(ok.status_code == 200 and not ok.json()["duplicate"], "a refused change used no key: " + ok.text)
        h1 = head(srv)
    finally:
        check(srv.stop() == 0, "serve exits 0")
    srv = Server(db, "--quiet")
    try:
        again = verb(srv, "unit", {"id": "GAS", "name": "Gas company"}, "cfg-1")
        check(again.status_code == 200 and again.json()["duplicate"], "after a restart: " + again.text)
        check(again.json()["position"] == a["position"], again.text)
        check(head(srv) == h1, "nothing appended after the restart")
        new = verb(srv, "unit", {"id": "GAS", "name": "Gas & heat"}, "cfg-4")
        check(new.status_code == 200 and new.json()["position"] == h1 + 1, new.text)
    finally:
        check(srv.stop() == 0, "serve exits 0")


def test_backup_over_http(tmp):
    """POST /api/v1/admin/backups under concurrent commands: the backup restores, check passes, and the
    restored log is a prefix of the served one holding every command acknowledged before the backup."""
    db, keys = prepared_db(tmp, "backup")
    dest = os.path.join(tmp, "backups")
    srv = Server(db, "--quiet")
    acked = []  # (case, time acknowledged)
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def load(i):
        s = requests.Session()
        n = 0
        while not stop.is_set():
            n += 1
            body = {"kind": "event", "category": "0102", "source": "inspector"}
            r = s.post(srv.url("/api/v1/cases"), json=body, timeout=30,
                       headers={"Authorization": "Bearer " + keys["I1"]})
            if r.status_code != 201:
                errors.append(r.text)
                return
            case = r.json()["case"]
            r = s.post(srv.url("/api/v1/cases/%s/register" % case), json={}, timeout=30,
                       headers={"Authorization": "Bearer " + keys["L1"]})
            if r.status_code != 200:
                errors.append(r.text)
                return
            with lock:
                acked.append((case, time.time()))
    try:
        admin = keys["$admin"]
        # Refusals first: role, missing and relative dir, unknown field, nothing listed yet.
        error_of(srv.req("POST", "/api/v1/admin/backups", keys["L1"], json={"dir": dest}), 403)
        e = error_of(srv.req("POST", "/api/v1/admin/backups", admin, json={}), 400)
        check(e["where"] == "body.dir", e)
        e = error_of(srv.req("POST", "/api/v1/admin/backups", admin, json={"dir": "backups"}), 400)
        check("absolute" in e["message"], e)
        error_of(srv.req("POST", "/api/v1/admin/backups", admin, json={"dir": dest, "colour": 1}), 400)
        error_of(srv.req("GET", "/api/v1/admin/backups", admin, params={"dir": dest}), 404)
        error_of(srv.req("DELETE", "/api/v1/admin/backups", admin), 405)
        # The CLI cannot open the served store: it says how to back it up.
        p = cli(db, "backup", dest, check_rc=False)
        check(p.returncode != 0 and "/api/v1/admin/backups" in p.stderr and "curl" in p.stderr, p.stderr)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        sent = time.time()
        r = srv.req("POST", "/api/v1/admin/backups", admin, json={"dir": dest})
        check(r.status_code == 201, r.text)
        info = r.json()
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        check(not errors, errors[:3])
        check(info["id"] == 1 and info["has_keys"] and info["head_at_start"] > 0, info)
        before = [c for c, t in acked if t < sent]
        check(before and len(acked) > len(before), "commands ran before and during the backup: %d / %d" %
              (len(before), len(acked)))
        listed = srv.req("GET", "/api/v1/admin/backups", admin, params={"dir": dest})
        check(listed.status_code == 200 and [b["id"] for b in listed.json()] == [1], listed.text)
        # Histories on the served store, to compare with the restored one.
        served = {c: srv.req("GET", "/api/v1/cases/%s/history" % c, keys["L1"]).json() for c, _ in acked}
    finally:
        stop.set()
        check(srv.stop() == 0, "serve exits 0")
    restored = os.path.join(tmp, "restored")
    p = subprocess.run([CASELOOP, "restore", dest, restored], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, "restore: " + p.stderr + p.stdout)
    check(cli(restored, "check").stdout.strip() == "ok", "check on the restored copy")
    srv2 = Server(restored, "--quiet")
    try:
        in_backup = 0
        for c, _ in acked:
            r = srv2.req("GET", "/api/v1/cases/%s/history" % c, keys["L1"])
            if r.status_code == 404:
                check(c not in before, "%s was acknowledged before the backup and is not in it" % c)
                continue
            check(r.status_code == 200, r.text)
            h = r.json()
            check(h == served[c][:len(h)], "%s: the restored history is a prefix of the served one" % c)
            in_backup += 1
        check(in_backup >= len(before), "every case acknowledged before the backup is in it")
        print("backup over HTTP: %d cases acknowledged, %d before the backup, %d in it" %
              (len(acked), len(before), in_backup))
    finally:
        check(srv2.stop() == 0, "serve exits 0")


TESTS = {f.__name__[5:]: f for f in [test_worked_over_http, test_roles_and_errors, test_idempotency,
                                      test_sigterm_drain, test_kill9_under_load, test_slow_client,
                                      test_events, test_case_list,
                                      test_role_matrix, test_config_verbs, test_store_metrics,
                                      test_config_idempotency, test_backup_over_http]}


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
