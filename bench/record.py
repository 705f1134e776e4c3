"""record_probes benchmark: storing one sweep's results on PostgreSQL at 1,000 and 5,000 instances.

    .venv/bin/python bench/record.py                     # throwaway PostgreSQL database, dropped at the end
    .venv/bin/python bench/record.py --database-url sqlite:////tmp/record.sqlite3 --sizes 50 --repeat 1   # smoke

What is timed: ``harborops.fleet.services.sweep.record_probes`` for N probes of instances whose
status did not change (the common case: every instance's current state is rewritten, a snapshot
inserted for each), in one process, warm. Two ways of writing the current state, side by side in
the same run, alternating: **values** -- what harborops does, one ``UPDATE … FROM (VALUES …)``
per parameter-limit batch (``fleet.services.bulk_sql``) -- and **case** -- Django's
``bulk_update`` (``SET col = CASE WHEN id=… THEN … END`` for each of the 10 columns), what it did
before. Reported: median / min of --repeat runs of the whole ``record_probes`` and of the state
statement alone (wall, in-process), the UPDATE statements on fleet_instance, and the part of
record_probes spent in the alerts app's availability hysteresis (``alerts.services.availability
.record_sweep``, called from record_probes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.overview import create_database, drop_database, setup_django  # noqa: E402
from bench.sweep import machine  # noqa: E402


def seed(n: int) -> list[int]:
    from django.utils.timezone import now

    from harborops.fleet.models import HealthSnapshot, Instance

    HealthSnapshot.objects.all().delete()
    Instance.objects.all().delete()
    Instance.objects.bulk_create(
        Instance(name=f"harbor-{i}", url=f"http://127.0.0.1:9/h/{i}", username="admin",
                 password="bench",  # noqa: S106 - a throwaway database
                 status="up", status_since=now(), version="v2.13.2-9a8b7c6d", storage_total=500 * 1024**3,
                 storage_free=200 * 1024**3, statistics={"total_project_count": 3}) for i in range(n))
    return list(Instance.objects.order_by("pk").values_list("pk", flat=True))


def probes(ids: list[int], k: int) -> list[Any]:
    from django.utils.timezone import now

    from harborops.fleet.services.sweep import Probe

    taken = now() + dt.timedelta(seconds=k)  # newer than the last sweep: every state is written
    return [Probe(instance_id=pk, taken_at=taken, status="up", latency_ms=20 + (pk + k) % 50,
                  version="v2.13.2-9a8b7c6d",
                  components=[{"name": c, "status": "healthy"} for c in ("core", "database", "registry")],
                  storage_total=500 * 1024**3, storage_free=(200 - k % 7) * 1024**3,
                  statistics={"total_project_count": 3, "total_repo_count": 40 + k}) for pk in ids]


def one(ids: list[int], k: int, way: str, alerts: bool = True) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from harborops.fleet.models import Instance
    from harborops.fleet.services import bulk_sql, sweep

    batch = probes(ids, k)
    timed: dict[str, float] = {}
    original = bulk_sql.update_from_values

    def state_write(objs: Any, fields: Any, **kw: Any) -> int:
        t0 = time.perf_counter()
        try:
            if way == "case":
                return int(Instance.objects.bulk_update(objs, fields=list(fields)))
            return original(objs, fields, **kw)
        finally:
            timed["state"] = time.perf_counter() - t0

    from harborops.alerts.services import availability

    original_hysteresis = availability.record_sweep

    def hysteresis(*a: Any, **kw: Any) -> int:  # the alerts app's step inside record_probes, timed apart
        t0 = time.perf_counter()
        try:
            return original_hysteresis(*a, **kw) if alerts else 0
        finally:
            timed["alerts"] = time.perf_counter() - t0

    bulk_sql.update_from_values = state_write  # type: ignore[assignment]
    availability.record_sweep = hysteresis  # type: ignore[assignment]
    try:
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            result = sweep.record_probes(batch)
            timed["total"] = time.perf_counter() - t0
    finally:
        bulk_sql.update_from_values = original  # type: ignore[assignment]
        availability.record_sweep = original_hysteresis  # type: ignore[assignment]
    assert result.swept == len(ids) and result.transitions == 0
    timed["state_statements"] = sum(1 for q in queries.captured_queries
                                    if q["sql"].startswith('UPDATE "fleet_instance"'))
    timed.setdefault("alerts", 0.0)
    return timed


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"machine": machine(), "rows": []}
    for n in args.sizes:
        ids = seed(n)
        ways = args.ways
        for way in ways:
            one(ids, 0, way, args.alerts == "on")  # warm-up
        samples: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
        for k in range(1, args.repeat + 1):
            for way in ways if k % 2 else ways[::-1]:
                samples[way].append(one(ids, k, way, args.alerts == "on"))
        for way, runs in samples.items():
            total, state = [r["total"] for r in runs], [r["state"] for r in runs]
            row = {"instances": n, "way": way, "alerts": args.alerts,
                   "total_median": statistics.median(total), "total_min": min(total),
                   "alerts_median": statistics.median(r["alerts"] for r in runs),
                   "state_median": statistics.median(state), "state_min": min(state),
                   "state_statements": runs[0]["state_statements"], "runs": len(runs)}
            out["rows"].append(row)
            sys.stderr.write(f"{n:6} {way:6} record_probes {row['total_median']:.3f}s (state "
                             f"{row['state_median']:.3f}s in {row['state_statements']} statements)\n")
    return out


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    alerts = results["rows"][0]["alerts"] if results["rows"] else "on"
    lines = [f"Machine: {m.get('cpus')} CPUs, load average {m.get('load_before')}; median / min of "
             f"{results['rows'][0]['runs'] if results['rows'] else 0} runs each, the ways alternating; alerts "
             f"hysteresis step {'included' if alerts == 'on' else 'skipped'}.", "",
             "| instances | state write | record_probes s: median / min | state write s: median / min | "
             "statements | of which alert hysteresis s |", "|---:|---|---:|---:|---:|---:|"]
    for r in results["rows"]:
        label = "UPDATE … FROM (VALUES …)" if r["way"] == "values" else "bulk_update (CASE WHEN)"
        lines.append(f"| {r['instances']:,} | {label} | {r['total_median']:.3f} / {r['total_min']:.3f} | "
                     f"{r['state_median']:.3f} / {r['state_min']:.3f} | {r['state_statements']} | "
                     f"{r['alerts_median']:.3f} |")
    by = {(r["instances"], r["way"]): r for r in results["rows"]}
    lines += [""]
    for n in sorted({r["instances"] for r in results["rows"]}):
        v, c = by.get((n, "values")), by.get((n, "case"))
        if v and c:
            lines.append(f"- {n:,} instances: state write {c['state_median'] / v['state_median']:.1f}× faster, "
                         f"record_probes {c['total_median'] / v['total_median']:.1f}× faster than with bulk_update.")
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/harborops_bench_record",
                   help="a PostgreSQL URL is created and dropped; a sqlite:/// file is used as is")
    p.add_argument("--sizes", default="1000,5000", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--ways", default="values,case", type=lambda s: s.split(","),
                   help="values (UPDATE … FROM (VALUES …)), case (bulk_update), or both")
    p.add_argument("--alerts", choices=("on", "off"), default="on",
                   help="off: skip the alerts app's hysteresis step inside record_probes (times the fleet part alone)")
    p.add_argument("--json", type=Path)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    pg = args.database_url.startswith("postgres")
    if pg:
        create_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="harborops-bench-record-") as data:
            setup_django(args.database_url, data)
            results = run(args)
    finally:
        if pg:
            drop_database(args.database_url)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.stdout.write(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
