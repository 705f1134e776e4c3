"""Fleet overview benchmark: server time and query count of the `/fleet/` page at 100, 300 and 1,000 instances.

    .venv/bin/python bench/overview.py                   # throwaway PostgreSQL database, dropped at the end
    .venv/bin/python bench/overview.py --database-url sqlite:////tmp/overview.sqlite3 --sizes 5   # smoke run

The view (harborops.fleet.views.instance_list) is called through the Django test client as a
logged-in viewer: the whole stack, middleware, session and user lookup, view, template. Each
instance carries the state a sweep leaves on it and --snapshots health snapshots (default 1,440:
one day of per-minute sweeps). Reported per size: median / p90 / min of --requests requests
(after 3 warm-up ones), for the full page and for the htmx refresh (``HX-Request``: the rows
only), and the number of SQL queries (counted on one more request). At the largest size, the
EXPLAIN (ANALYZE, BUFFERS) of every query that reads the fleet tables (PostgreSQL only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VERSIONS = ("v2.15.0-a1b2c3d4", "v2.14.1-0f1e2d3c", "v2.13.2-9a8b7c6d", "v2.11.0-11223344", "v2.8.4-55667788")
ENVS, REGIONS, TEAMS = ("prod", "staging", "dev"), ("eu-west", "us-east", "ap-south"), ("core", "data", "web", "ml")


def _postgres_admin_url(url: str) -> tuple[str, str]:
    """(URL of the maintenance database `postgres`, name of the database in ``url``)."""
    head, _, name = url.rpartition("/")
    return f"{head}/postgres", name.split("?")[0]


def create_database(url: str) -> None:
    import psycopg

    admin, name = _postgres_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    admin, name = _postgres_admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str, data_dir: str) -> None:
    from cryptography.fernet import Fernet

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ["DATABASE_URL"] = url
    os.environ["HARBOROPS_DATA_DIR"] = data_dir
    os.environ.setdefault("HARBOROPS_SECRET_KEYS", Fernet.generate_key().decode())
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def instance_row(n: int, rng: random.Random, at: Any, *, url: str) -> Any:
    """Instance number ``n`` with the state a sweep leaves (85 % up, 7 % degraded, 5 % down, 3 % unknown)."""
    import datetime as dt

    from harborops.fleet.models import Instance

    roll = rng.random()
    status = "up" if roll < 0.85 else "degraded" if roll < 0.92 else "down" if roll < 0.97 else "unknown"
    answered = status in ("up", "degraded")
    total = 500 * 1024**3
    return Instance(
        name=f"harbor-{n:05d}", url=url, username="admin",
        password="bench",  # noqa: S106 - a throwaway database
        labels={"env": ENVS[n % 3], "region": REGIONS[(n // 3) % 3], "team": TEAMS[n % 4]},
        status=status, status_since=at - dt.timedelta(hours=rng.randint(1, 500)),
        last_seen_at=at - dt.timedelta(seconds=rng.randint(1, 60) if answered else rng.randint(3600, 90000)),
        last_swept_at=at - dt.timedelta(seconds=rng.randint(1, 60)),
        version=VERSIONS[n % len(VERSIONS)] if status != "unknown" else "",
        latency_ms=rng.randint(20, 400) if answered else None,
        storage_total=total if answered else None, storage_free=rng.randint(0, total) if answered else None,
        unhealthy_components=["trivy"] if status == "degraded" else [],
        statistics={"total_project_count": rng.randint(1, 300), "total_repo_count": rng.randint(1, 5000)},
        error_kind="timeout" if status == "down" else "",
        error_message="no answer in time" if status == "down" else "")


def add_instances(start: int, stop: int, snapshots: int, rng: random.Random) -> None:
    """Instances start+1..stop with the state a sweep leaves, and ``snapshots`` snapshots each."""
    from django.db import connection
    from django.utils.timezone import now

    from harborops.fleet.models import HAGroup, HealthSnapshot, Instance

    at = now()
    rows = [instance_row(n, rng, at, url=f"https://harbor-{n}.example.test") for n in range(start + 1, stop + 1)]
    created = Instance.objects.bulk_create(rows, batch_size=500)
    # An HA pair every 50 instances.
    for k in range(0, len(created) - 1, 50):
        group = HAGroup.objects.create(name=f"ha-{created[k].name}", hostname=f"{created[k].name}.example.test")
        Instance.objects.filter(pk__in=[created[k].pk, created[k + 1].pk]).update(ha_group=group)
    ids = [i.pk for i in created]
    table = HealthSnapshot._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} (instance_id, taken_at, status, latency_ms, version, components,"  # noqa: S608
                " storage_total, storage_free, statistics, job_queues, error_kind, error)"
                " SELECT i.id, %s - g * interval '1 minute', i.status, i.latency_ms, i.version, '[]'::jsonb,"
                " i.storage_total, i.storage_free, i.statistics, NULL, i.error_kind, i.error_message"
                " FROM fleet_instance i CROSS JOIN generate_series(0, %s - 1) g WHERE i.id = ANY(%s)",
                [at, snapshots, ids])
            cur.execute(f"ANALYZE {table}; ANALYZE fleet_instance; ANALYZE fleet_hagroup")
    else:
        HealthSnapshot.objects.bulk_create(
            (HealthSnapshot(instance_id=i.pk, taken_at=at - dt.timedelta(minutes=g), status=i.status,
                            latency_ms=i.latency_ms, version=i.version, storage_total=i.storage_total,
                            storage_free=i.storage_free) for i in created for g in range(snapshots)),
            batch_size=2000)


def viewer_client() -> Any:
    from django.contrib.auth.models import User
    from django.test import Client

    from harborops.core.roles import VIEWER, set_role

    user, _ = User.objects.get_or_create(username="bench-viewer")
    set_role(user, VIEWER)
    client = Client()
    client.force_login(user)
    return client


def _normalise(sql: str) -> str:
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return re.sub(r"IN \([?, ]+\)", "IN (...)", sql)


def measure(client: Any, url: str, requests: int, expect_rows: int, **headers: str) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(url, **headers)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        resp = client.get(url, **headers)
        times.append(time.perf_counter() - t0)
        assert resp.status_code == 200, resp.status_code
    rows = resp.content.count(b"data-instance=")
    assert rows == expect_rows, f"{rows} rows on the page, expected {expect_rows}"
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    s = sorted(times)
    return {"median_ms": 1000 * statistics.median(s), "p90_ms": 1000 * s[min(len(s) - 1, int(len(s) * 0.9))],
            "min_ms": 1000 * s[0], "queries": len(captured.captured_queries),
            "sql": [q["sql"] for q in captured.captured_queries], "bytes": len(resp.content)}


def profile_one(client: Any, url: str) -> None:
    """cProfile of one full page request (CPU time), to stderr: where the server time goes."""
    import cProfile
    import pstats

    prof = cProfile.Profile(time.process_time)
    prof.runcall(client.get, url)
    for key in ("cumulative", "tottime"):
        pstats.Stats(prof, stream=sys.stderr).sort_stats(key).print_stats(40)


def explain(sqls: list[str]) -> list[dict[str, str]]:
    from django.db import connection

    out = []
    for sql in sqls:
        if not sql.lstrip().upper().startswith("SELECT") or "fleet_" not in sql:
            continue
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql)
            plan = "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())
        out.append({"sql": sql, "plan": plan})
    return out


def growing(per_size: dict[int, list[str]]) -> list[str]:
    """Normalised queries whose count grows with the fleet size."""
    sizes = sorted(per_size)
    counts = {n: Counter(_normalise(q) for q in per_size[n]) for n in sizes}
    first, last = counts[sizes[0]], counts[sizes[-1]]
    return [f"{last[q]}× (at {sizes[-1]}) vs {first[q]}× (at {sizes[0]}): {q[:300]}"
            for q in last if last[q] > first[q]]


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.urls import reverse

    rng = random.Random(42)
    client = viewer_client()
    url = reverse("fleet:instance_list")
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0],
                                           "python": platform.python_version(), "vendor": connection.vendor},
                               "url": url, "snapshots_per_instance": args.snapshots, "requests": args.requests,
                               "rows": []}
    have = 0
    for size in args.sizes:
        add_instances(have, size, args.snapshots, rng)
        have = size
        from harborops.fleet.views import PAGE_SIZE

        shown = min(size, PAGE_SIZE)  # the overview shows one page of rows
        page = measure(client, url, args.requests, shown)
        rows = measure(client, url, args.requests, shown, HTTP_HX_REQUEST="true")
        results["rows"].append({"instances": size, "page": page, "htmx": rows})
        sys.stderr.write(f"{size:5} instances: page {page['median_ms']:.1f} ms ({page['queries']} queries), "
                         f"htmx rows {rows['median_ms']:.1f} ms ({rows['queries']} queries)\n")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT version()")
            results["machine"]["postgres"] = cur.fetchone()[0].split(" on ")[0]
    if args.profile:
        profile_one(client, url)
    results["growing"] = growing({r["instances"]: r["page"]["sql"] for r in results["rows"]})
    results["explain"] = explain(results["rows"][-1]["page"]["sql"]) if args.explain else []
    results["machine"]["load_after"] = os.getloadavg()[0]
    return results


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    out = [f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m.get('postgres', m['vendor'])}; load average "
           f"{m['load_before']:.2f} before / {m['load_after']:.2f} after. `GET {results['url']}` as a viewer, "
           f"{results['snapshots_per_instance']:,} snapshots per instance; {results['requests']} requests per figure.",
           "", "| instances | page median ms | p90 | min | queries | page KiB | htmx rows median ms | p90 | queries |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results["rows"]:
        p, h = r["page"], r["htmx"]
        out.append(f"| {r['instances']:,} | {p['median_ms']:.1f} | {p['p90_ms']:.1f} | {p['min_ms']:.1f} | "
                   f"{p['queries']} | {p['bytes'] / 1024:.0f} | {h['median_ms']:.1f} | {h['p90_ms']:.1f} | "
                   f"{h['queries']} |")
    out += ["", "Queries of one page view at the largest size:", ""]
    out += [f"{i}. `{_normalise(q)}`" for i, q in enumerate(results["rows"][-1]["page"]["sql"], 1)]
    if results["growing"]:
        out += ["", "**Queries whose count grows with the fleet:**", ""] + [f"- {g}" for g in results["growing"]]
    else:
        out += ["", "The query count does not grow with the fleet."]
    for e in results["explain"]:
        out += ["", "```sql", e["sql"], "```", "```", e["plan"], "```"]
    return "\n".join(out) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100,300,1000", type=lambda s: sorted(int(x) for x in s.split(",")))
    p.add_argument("--snapshots", type=int, default=1440, help="health snapshots per instance")
    p.add_argument("--requests", type=int, default=30, help="timed requests per figure")
    p.add_argument("--database-url", default=f"postgres://postgres@127.0.0.1:5432/harborops_bench_{os.getpid()}",
                   help="a PostgreSQL database is created and dropped; any other URL is used as it is")
    p.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    p.add_argument("--profile", action="store_true", help="cProfile one page view at the largest size (stderr)")
    p.add_argument("--no-explain", dest="explain", action="store_false")
    p.add_argument("--json", type=Path, help="write the raw results here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    postgres = args.database_url.startswith(("postgres://", "postgresql://"))
    if postgres:
        create_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="harborops-bench-") as data_dir:
            setup_django(args.database_url, data_dir)
            results = run(args)
    finally:
        if postgres and not args.keep:
            drop_database(args.database_url)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    sys.stdout.write(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
