#!/usr/bin/env python3
"""Open311 GeoReport v2 under /open311/v2/ (docs/open311.md): a real `caseloop serve`
driven over HTTP in JSON and XML, every answer validated against the GeoReport v2
schemas in open311_schemas/ (python3-jsonschema; XML parsed with python3-lxml and
mapped to the JSON shape first).

    open311_test.py CASELOOP_BINARY WORKED_CL [TEST_NAME ...]
"""
import json
import os
import sys
import tempfile
import time
import urllib.parse

import jsonschema
from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_test as st  # noqa: E402  (the server harness: Server, prepared_db, check)

from server_test import Failure, check  # noqa: E402

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "open311_schemas")
JURISDICTION = "qilihe.example"
CONTACT = {"email": "li.wei@example.org", "device_id": "dev-77f3", "account_id": "acct-5521",
           "first_name": "Weiqiang", "last_name": "Lixander", "phone": "+86-931-5550123"}
ROOT_SCHEMA = {"services": "services.json", "service_definition": "service_definition.json",
               "discovery": "discovery.json", "errors": "errors.json"}
# The XML elements whose text is not a string in the JSON shape.
XML_TYPES = {"metadata": "bool", "variable": "bool", "required": "bool", "code@error": "int",
             "order": "int", "lat": "float", "long": "float"}
ARRAYS = {"services", "service_requests", "errors", "endpoints", "formats", "attributes", "values"}


def schema(name):
    path = os.path.join(SCHEMAS, name)
    with open(path, encoding="utf-8") as f:
        s = json.load(f)
    resolver = jsonschema.RefResolver(base_uri="file://" + SCHEMAS + "/", referrer=s)
    return jsonschema.Draft7Validator(s, resolver=resolver, format_checker=jsonschema.FormatChecker())


def validate(value, schema_name, what):
    errors = sorted(schema(schema_name).iter_errors(value), key=lambda e: list(e.path))
    check(not errors, "%s does not match %s: %s\n%s" % (what, schema_name,
                                                        "; ".join(e.message for e in errors[:5]),
                                                        json.dumps(value, ensure_ascii=False)[:2000]))


def xml_to_json(elem, parent=""):
    """The JSON shape of a GeoReport XML element (the specification's pairing of its examples)."""
    name = elem.tag
    check(not elem.attrib, "XML element <%s> has attributes" % name)
    children = list(elem)
    if name in ARRAYS:
        check(not (elem.text or "").strip(), "text in the list <%s>" % name)
        return [xml_to_json(c, name) for c in children]
    if children:
        out = {}
        for c in children:
            check(c.tag not in out, "element <%s> twice in <%s>" % (c.tag, name))
            out[c.tag] = xml_to_json(c, name)
        return out
    text = elem.text
    if text is None:
        return None
    kind = XML_TYPES.get(name + "@" + parent, XML_TYPES.get(name if name != "code" else "", None))
    if kind == "bool":
        check(text in ("true", "false"), "<%s> is %r, not true or false" % (name, text))
        return text == "true"
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    return text


def parse_xml(r):
    check(r.headers["Content-Type"].startswith("text/xml"), "XML content type: %s" % r.headers["Content-Type"])
    check(r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), "XML declaration: %r" % r.content[:60])
    root = etree.fromstring(r.content)
    return root.tag, xml_to_json(root)


def get_both(server, path, schema_name, root, status=200, params=None):
    """GET path in JSON and in XML; both validated, the same value; returns the JSON value."""
    rj = server.req("GET", "/open311/v2/" + path + ".json", params=params)
    check(rj.status_code == status, "GET %s.json: %d, not %d: %s" % (path, rj.status_code, status, rj.text))
    check(rj.headers["Content-Type"].startswith("application/json"), "JSON content type")
    value = rj.json()
    validate(value, schema_name, "GET %s.json" % path)
    rx = server.req("GET", "/open311/v2/" + path + ".xml", params=params)
    check(rx.status_code == status, "GET %s.xml: %d, not %d: %s" % (path, rx.status_code, status, rx.text))
    tag, xvalue = parse_xml(rx)
    check(tag == root, "XML root <%s>, not <%s>" % (tag, root))
    validate(xvalue, schema_name, "GET %s.xml" % path)
    if schema_name != "errors.json":
        check(normal(xvalue) == normal(value), "XML and JSON differ:\n%s\n%s" % (xvalue, value))
    return value


def normal(v):
    """JSON and XML compare equal after mapping empty strings to null (XML cannot tell them apart)."""
    if isinstance(v, list):
        return [normal(x) for x in v]
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items()}
    return None if v == "" else v


def post(server, fmt, fields, status=200, headers=None):
    body = urllib.parse.urlencode(fields, doseq=True)
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    h.update(headers or {})
    r = server.req("POST", "/open311/v2/requests." + fmt, data=body.encode("utf-8"), headers=h)
    check(r.status_code == status, "POST requests.%s: %d, not %d: %s" % (fmt, r.status_code, status, r.text))
    if fmt == "json":
        value = r.json()
    else:
        tag, value = parse_xml(r)
        check(tag == ("service_requests" if status == 200 else "errors"), "POST XML root <%s>" % tag)
    validate(value, "post_response.json" if status == 200 else "errors.json", "POST requests.%s" % fmt)
    if status != 200:
        check(value[0]["code"] == status, "error code %s in the body, HTTP %d" % (value[0]["code"], status))
    return value


def report_fields(key, **extra):
    f = {"api_key": key, "jurisdiction_id": JURISDICTION, "service_code": "E0102", "lat": "36.0611",
         "long": "103.8343", "address_string": "西津西路 12 号 & <北口>", "description": "垃圾堆在路口\n第二行",
         "media_url": "https://photos.example.org/p/1.jpg"}
    f.update(extra)
    return f


def started(tmp, name="o311"):
    db, keys = st.prepared_db(tmp, name)
    server = st.Server(db, "--jurisdiction", JURISDICTION, "--open311-contact", "311@qilihe.example")
    return server, keys


# ---------------------------------------------------------------------------
def test_discovery_and_services(tmp):
    """discovery, services and service definitions from the configured categories, in JSON and XML."""
    server, keys = started(tmp)
    try:
        d = get_both(server, "discovery", "discovery.json", "discovery")
        check(d["contact"] == "311@qilihe.example", "discovery contact: %s" % d)
        check(d["endpoints"][0]["url"].endswith("/open311/v2"), "endpoint url: %s" % d)
        check(set(d["endpoints"][0]["formats"]) == {"text/xml", "application/json"}, "formats")
        services = get_both(server, "services", "services.json", "services")
        codes = sorted(s["service_code"] for s in services)
        check(codes == ["C0101", "C0109", "E0102", "E0301", "E0401"], "service codes: %s" % codes)
        e0102 = [s for s in services if s["service_code"] == "E0102"][0]
        check(e0102["service_name"] == "暴露垃圾" and e0102["type"] == "realtime" and e0102["metadata"] is False,
              "E0102: %s" % e0102)
        check("1 working day" in e0102["description"], "the category's limit in the description: %s" % e0102)
        check(e0102["group"] == "event class 01", "group: %s" % e0102)
        definition = get_both(server, "services/C0101", "service_definition.json", "service_definition")
        check(definition == {"service_code": "C0101", "attributes": []}, "definition: %s" % definition)
        for missing in ("services/E9999", "services/0101", "services/X"):
            e = get_both(server, missing, "errors.json", "errors", status=404)
            check(e[0]["code"] == 404 and "not found" in e[0]["description"], "unknown service: %s" % e)
        get_both(server, "services", "errors.json", "errors", status=404, params={"jurisdiction_id": "other.city"})
        r = server.req("GET", "/open311/v2/services.html")
        check(r.status_code == 404, "an unknown format is 404: %d" % r.status_code)
        parse_xml(r)
        r = server.req("DELETE", "/open311/v2/services.json")
        check(r.status_code == 405, "DELETE services: %d" % r.status_code)
        validate(r.json(), "errors.json", "405")
    finally:
        server.stop()


def test_post_and_errors(tmp):
    """POST requests becomes a reported case through the command path; every refusal in the error list."""
    server, keys = started(tmp)
    try:
        fields = report_fields(keys["R1"], **CONTACT)
        fields["attribute[DEPTH]"] = "30"
        fields["attribute[SIDES][]"] = ["north", "east"]
        answer = post(server, "json", fields)
        rid = answer[0]["service_request_id"]
        check(rid.startswith("R"), "a server-assigned case number: %s" % rid)
        check(answer[0]["account_id"] == CONTACT["account_id"], "account_id echoed: %s" % answer)
        check("1 working day" in answer[0]["service_notice"], "service_notice: %s" % answer)
        # The case, through the staff API: reported by R1 as a citizen's report.
        show = server.req("GET", "/api/v1/cases/" + rid, key=keys["D1"])
        check(show.status_code == 200, "show %s: %s" % (rid, show.text))
        s = show.json()
        check(s["state"] == "reported" and s["source"] == "citizen" and s["category"] == "0102",
              "the case: %s" % s)
        history = server.req("GET", "/api/v1/cases/%s/history" % rid, key=keys["D1"])
        check(history.status_code == 200, "history: %s" % history.text)
        for secret in CONTACT.values():
            if secret != CONTACT["account_id"]:
                check(secret not in history.text, "the staff history shows the contact %r" % secret)
        # XML, and a 4,000-character description (multi-byte characters count once).
        xml = post(server, "xml", report_fields(keys["R1"], description="坑" * 4000, service_code="C0101"))
        check(xml[0]["service_request_id"] != rid, "a new number: %s" % xml)
        # An address alone, an address_id alone.
        post(server, "json", {"api_key": keys["R1"], "service_code": "E0301", "address_string": "七里河桥"})
        post(server, "json", {"api_key": keys["R1"], "service_code": "E0301", "address_id": "620102-77"})
        # Idempotency-Key: a retry returns the first request and appends nothing.
        head = server.req("GET", "/readyz").json()["head_position"]
        a = post(server, "json", report_fields(keys["R1"]), headers={"Idempotency-Key": "app-42"})
        b = post(server, "json", report_fields(keys["R1"]), headers={"Idempotency-Key": "app-42"})
        check(a[0]["service_request_id"] == b[0]["service_request_id"], "retry: %s %s" % (a, b))
        check(server.req("GET", "/readyz").json()["head_position"] == head + 1, "the retry appended")

        # Refusals, each in both formats: HTTP status = the error's code.
        refusals = [
            (403, {k: v for k, v in report_fields("").items() if k != "api_key"}, "api_key"),
            (403, report_fields("cl_knope_0000"), "api_key"),
            (403, report_fields(keys["D1"]), "reporting channel"),
            (403, report_fields(keys["I1"]), "reporting channel"),
            (400, {k: v for k, v in report_fields(keys["R1"]).items() if k != "service_code"}, "service_code"),
            (404, report_fields(keys["R1"], service_code="E9999"), "service_code"),
            (404, report_fields(keys["R1"], service_code="0102"), "service_code"),
            (400, report_fields(keys["R1"], lat="95"), "coordinates"),
            (400, report_fields(keys["R1"], long="200.5"), "coordinates"),
            (400, report_fields(keys["R1"], lat="north"), "coordinates"),
            (400, report_fields(keys["R1"], lat="nan"), "coordinates"),
            (400, {k: v for k, v in report_fields(keys["R1"]).items() if k != "long"}, "coordinates"),
            (400, {"api_key": keys["R1"], "service_code": "E0102", "description": "x"}, "location"),
            (400, report_fields(keys["R1"], description="x" * 4001), "4000"),
            (400, report_fields(keys["R1"], media_url="javascript:alert(1)"), "media_url"),
            (400, report_fields(keys["R1"], **{"attribute[BAD": "1"}), "attribute"),
            (404, report_fields(keys["R1"], jurisdiction_id="other.city"), "jurisdiction_id"),
        ]
        for status, f, word in refusals:
            for fmt in ("json", "xml"):
                e = post(server, fmt, f, status=status)
                check(word in e[0]["description"], "%d refusal names %r: %s" % (status, word, e))
        # Not a form.
        r = server.req("POST", "/open311/v2/requests.json", data=json.dumps(report_fields(keys["R1"])),
                       headers={"Content-Type": "application/json"})
        check(r.status_code == 400, "a JSON body: %d" % r.status_code)
        validate(r.json(), "errors.json", "JSON body")
        r = server.req("POST", "/open311/v2/requests.json", data=b"api_key=%zz",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(r.status_code == 400, "bad escape: %d" % r.status_code)
        validate(r.json(), "errors.json", "bad escape")
    finally:
        server.stop()


def staff(server, key, case, command, body=None):
    r = server.req("POST", "/api/v1/cases/%s/%s" % (case, command), key=key, json=body or {})
    check(r.status_code == 200, "%s %s: %d %s" % (command, case, r.status_code, r.text))


def test_get_requests(tmp):
    """GET requests, requests/{id} and tokens/{token}: the mapping of docs/open311.md, filters and defaults."""
    server, keys = started(tmp)
    try:
        ids = {}
        for name, code in [("kept", "E0102"), ("dup", "E0102"), ("bogus", "E0102"), ("light", "C0109")]:
            ids[name] = post(server, "json", report_fields(keys["R1"], service_code=code,
                                                            **CONTACT))[0]["service_request_id"]
        staff(server, keys["L1"], ids["kept"], "register")
        staff(server, keys["D1"], ids["kept"], "dispatch")
        staff(server, keys["R1"], ids["dup"], "merge", {"into": ids["kept"]})
        staff(server, keys["R1"], ids["bogus"], "reject", {"reason": "not in the district"})

        one = get_both(server, "requests/" + ids["kept"], "requests.json", "service_requests")
        check(len(one) == 1, "one request: %s" % one)
        kept = one[0]
        check(kept["status"] == "open" and kept["status_notes"] == "dispatched to STREET", "kept: %s" % kept)
        check(kept["agency_responsible"] == "西园街道", "agency = the unit's name: %s" % kept)
        check(kept["expected_datetime"] is not None, "expected = the deadline: %s" % kept)
        check(kept["service_code"] == "E0102" and kept["service_name"] == "暴露垃圾", "service: %s" % kept)
        check(kept["lat"] == 36.0611 and kept["long"] == 103.8343, "coordinates: %s" % kept)
        check(kept["address"] == "西津西路 12 号 & <北口>", "address (escaped in XML): %s" % kept)
        check(kept["description"] == "垃圾堆在路口\n第二行", "description: %s" % kept)
        check(kept["media_url"] == "https://photos.example.org/p/1.jpg", "media_url: %s" % kept)
        check(kept["requested_datetime"].endswith("+08:00"), "times with the calendar's offset: %s" % kept)
        show = server.req("GET", "/api/v1/cases/" + ids["kept"], key=keys["D1"]).json()
        check(kept["expected_datetime"] == show["deadline"], "expected %s, deadline %s" %
              (kept["expected_datetime"], show["deadline"]))
        dup = get_both(server, "requests/" + ids["dup"], "requests.json", "service_requests")[0]
        check(dup["status"] == "closed" and dup["status_notes"] == "merged into request %s (a duplicate)"
              % ids["kept"], "merged: %s" % dup)
        bogus = get_both(server, "requests/" + ids["bogus"], "requests.json", "service_requests")[0]
        check(bogus["status"] == "closed" and bogus["status_notes"] == "rejected: not in the district",
              "rejected: %s" % bogus)
        check(bogus["expected_datetime"] is None, "no expected time once closed: %s" % bogus)

        everything = get_both(server, "requests", "requests.json", "service_requests")
        check(sorted(r["service_request_id"] for r in everything) == sorted(ids.values()),
              "default: the last 90 days: %s" % everything)
        # The reporter's contact is never returned.
        for path in ["requests.json", "requests.xml", "requests/%s.json" % ids["kept"]]:
            text = server.req("GET", "/open311/v2/" + path).text
            for secret in CONTACT.values():
                check(secret not in text, "GET %s shows the contact %r" % (path, secret))
        opened = get_both(server, "requests", "requests.json", "service_requests", params={"status": "open"})
        check(sorted(r["service_request_id"] for r in opened) == sorted([ids["kept"], ids["light"]]),
              "status=open: %s" % opened)
        closed = get_both(server, "requests", "requests.json", "service_requests", params={"status": "closed"})
        check(sorted(r["service_request_id"] for r in closed) == sorted([ids["dup"], ids["bogus"]]),
              "status=closed: %s" % closed)
        both = get_both(server, "requests", "requests.json", "service_requests", params={"status": "open,closed"})
        check(len(both) == 4, "status=open,closed: %s" % both)
        lights = get_both(server, "requests", "requests.json", "service_requests", params={"service_code": "C0109"})
        check([r["service_request_id"] for r in lights] == [ids["light"]], "service_code: %s" % lights)
        two = get_both(server, "requests", "requests.json", "service_requests",
                       params={"service_code": "C0109,E0102", "status": "closed"})
        check(len(two) == 2, "service_code list with status: %s" % two)
        chosen = get_both(server, "requests", "requests.json", "service_requests",
                          params={"service_request_id": "%s,%s,NOPE" % (ids["dup"], ids["light"]),
                                  "status": "open"})
        check(sorted(r["service_request_id"] for r in chosen) == sorted([ids["dup"], ids["light"]]),
              "service_request_id overrides the other parameters: %s" % chosen)
        old = get_both(server, "requests", "requests.json", "service_requests",
                       params={"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-03-01T00:00:00Z"})
        check(old == [], "a period without requests: %s" % old)
        recent = get_both(server, "requests", "requests.json", "service_requests",
                          params={"end_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))})
        check(len(recent) == 4, "end_date alone: the 90 days before it: %s" % recent)
        for bad in [{"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-06-01T00:00:00Z"},
                    {"start_date": "yesterday"}, {"status": "pending"},
                    {"start_date": "2020-03-01T00:00:00Z", "end_date": "2020-01-01T00:00:00Z"}]:
            get_both(server, "requests", "errors.json", "errors", status=400, params=bad)
        get_both(server, "requests", "errors.json", "errors", status=404, params={"service_code": "E9999"})
        get_both(server, "requests/NOPE", "errors.json", "errors", status=404)

        token = get_both(server, "tokens/" + ids["kept"], "token.json", "service_requests")
        check(token == [{"service_request_id": ids["kept"], "token": ids["kept"]}], "token: %s" % token)
        get_both(server, "tokens/NOPE", "errors.json", "errors", status=404)
    finally:
        server.stop()


TESTS = {f.__name__[5:]: f for f in [test_discovery_and_services, test_post_and_errors, test_get_requests]}


def main():
    st.CASELOOP, st.WORKED = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or list(TESTS)
    failed = 0
    for name in names:
        with tempfile.TemporaryDirectory(prefix="caseloop-open311-") as tmp:
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
