#!/usr/bin/env python3
"""Load the Boston 311 sample into an in-memory caseloop engine and print each
department's on-time rate and grade for every quarter of the busiest year.

    PYTHONPATH=build/python python3 examples/python/quarter.py ../shared/data/boston311_raw_sample.csv
"""
import collections
import datetime as dt
import sys

import caseloop


def main(path: str) -> int:
    with caseloop.Engine(durability="none", clock="manual") as engine:
        summary = engine.import_csv(path, id="CASE_ENQUIRY_ID", created="OPEN_DT", unit="SUBJECT",
                                    due="TARGET_DT", closed="CLOSED_DT", category="TYPE", tz="-05:00")
        print(f"imported {summary['imported']} cases, skipped {summary['skipped']}")
        years = collections.Counter(e["time"].year for e in engine.events() if e["type"] == "case_reported")
        year = years.most_common(1)[0][0]
        for q in range(4):
            start = dt.date(year, 3 * q + 1, 1)
            end = dt.date(year + 1, 1, 1) if q == 3 else dt.date(year, 3 * q + 4, 1)
            rows = [r for r in engine.rates(start, end) if r["due"]]
            print(f"\n{year} Q{q + 1}  ({start} .. {end})")
            print(f"{'department':<34} {'due':>5} {'on time':>8} {'rate':>7} {'score':>7} grade")
            for r in rows:
                rate = "-" if r["on_time_rate"] is None else f"{r['on_time_rate']:.1%}"
                print(f"{r['unit'][:34]:<34} {r['due']:>5} {r['on_time']:>8} {rate:>7} {r['score']:>7.2f} {r['grade']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/boston311_raw_sample.csv"))
