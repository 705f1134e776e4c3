"""Audit ingest benchmark: events/s from a simulated Harbor (HTTP) into PostgreSQL, beside a raw COPY;
and (``search``) the unified search at scale.

    .venv/bin/python bench/audit_ingest.py                         # the ingest run of docs/benchmarks.md
    .venv/bin/python bench/audit_ingest.py --events 20000          # a smoke run
    .venv/bin/python bench/audit_ingest.py search --rows 1000000 --fanout 100 --plans /tmp/plans.txt
    DATABASE_URL=postgres://user@host:5432/postgres .venv/bin/python bench/audit_ingest.py

What runs, in one process against one throwaway database (created, migrated, dropped):

1. ``fetch only``: the Harbor client reads every event (``list_audit_logs``, ``q=id=[N~]&sort=id``,
   page_size 100) and throws it away -- the ceiling set by HTTP, JSON and pydantic.
2. ``ingest``: ``harborops.events.ingest.ingest_instance`` -- exactly what the scheduled task and
   the backfill job call: lease, version detection, /configurations, lineage check, then per
   batch of HARBOROPS_EVENTS_BATCH events: fetch (pages of 100), normalize, insert with
   ``bulk_create(ignore_conflicts=True)`` and move the cursor in the same transaction.
   The time spent inside ``store_batch`` (normalize + insert + cursor) is reported apart.
3. ``COPY``: the very rows step 2 stored, read back into memory first (not timed), then written
   with ``COPY ... FROM STDIN`` (psycopg 3) into a table created ``LIKE events_harborevent
   INCLUDING ALL`` -- the same columns, unique constraint and indexes.

The simulator runs in a child process (``manage.py harbor_sim --seed-audit N``) so its CPU is not
the ingest's; on a 2-core machine it still competes with the ingest and PostgreSQL for the cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLUMNS = ("instance_id", "instance_name", "source", "epoch", "harbor_id", "op_time", "username", "operation",
           "resource_type", "resource", "project", "description", "result", "raw", "ingested_at")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sim(events: int, version: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "harbor_sim", "--instances", "1", "--port", str(port),
         "--version", version, "--seed-audit", str(events)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/h/1"
    deadline = time.monotonic() + 180  # Django start-up plus seeding, on a machine that may be busy
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/api/v2.0/ping", timeout=1) as r:  # noqa: S310 - loopback only
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"the simulator did not start (exit code {proc.poll()})")


def create_database(server_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: argparse.Namespace, db_url: str) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["HARBOROPS_EVENTS_BATCH"] = str(args.batch)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from harborops.events import ingest
    from harborops.events.models import HarborEvent
    from harborops.fleet.models import Instance

    call_command("migrate", verbosity=0)
    proc, url = start_sim(args.events, args.version)
    try:
        inst = Instance.objects.create(name="bench-1", url=url, username="admin", password="Harbor12345")  # noqa: S106 - the simulator's default
        out: dict[str, Any] = {"events": args.events, "batch": args.batch, "version": args.version}

        # 1. fetch only
        t0 = time.perf_counter()
        fetched, cursor = 0, 0
        with inst.client(timeout=60) as client:
            source = client.audit_log_sources()[0]
            while True:
                rows = client.list_audit_logs(source, after_id=cursor, max_items=args.batch)
                if not rows:
                    break
                fetched += len(rows)
                cursor = rows[-1].id
        out["fetch_s"] = time.perf_counter() - t0
        assert fetched == args.events, (fetched, args.events)

        # 2. ingest end to end, with the time inside store_batch measured apart
        spent = {"store": 0.0}
        real_store = ingest.store_batch

        def timed_store(*a: Any, **kw: Any) -> None:
            s = time.perf_counter()
            real_store(*a, **kw)
            spent["store"] += time.perf_counter() - s

        ingest.store_batch = timed_store  # type: ignore[assignment]
        t0 = time.perf_counter()
        result = ingest.ingest_instance(inst, timeout=60)
        out["ingest_s"] = time.perf_counter() - t0
        out["store_s"] = spent["store"]
        ingest.store_batch = real_store  # type: ignore[assignment]
        stored = HarborEvent.objects.count()
        assert result.fetched == stored == args.events, (result.fetched, stored, args.events)

        # 3. raw COPY of the same rows into a table of the same shape
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_copy (LIKE events_harborevent INCLUDING ALL)")
            cur.execute(f"SELECT {', '.join(COLUMNS)} FROM events_harborevent ORDER BY id")  # noqa: S608
            rows_back = cur.fetchall()
        from psycopg.types.json import Jsonb

        data = [(*r[:13], Jsonb(r[13]) if not isinstance(r[13], Jsonb) else r[13], r[14]) for r in rows_back]
        raw = connection.connection  # the psycopg 3 connection under Django's wrapper
        assert raw is not None
        t0 = time.perf_counter()
        with raw.cursor() as pc, pc.copy(f"COPY bench_copy ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        raw.commit() if not raw.autocommit else None
        out["copy_s"] = time.perf_counter() - t0
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM bench_copy")
            out["copied"] = cur.fetchone()[0]
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size('events_harborevent')),"
                        " pg_size_pretty(pg_relation_size('events_harborevent')), version()")
            out["total_size"], out["table_size"], out["pg"] = cur.fetchone()
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def report(r: dict[str, Any]) -> str:
    n = r["events"]
    rate = {k: n / r[f"{k}_s"] for k in ("fetch", "ingest", "copy")}
    lines = [
        f"{n} events, Harbor v{r['version']} simulated over HTTP, page_size 100, "
        f"{r['batch']} events per transaction; {platform.node()} ({os.cpu_count()} cores), {r['pg'].split(',')[0]}",
        "",
        "| step | seconds | events/s | vs COPY |",
        "|---|---:|---:|---:|",
        f"| fetch only (client: HTTP + JSON + pydantic) | {r['fetch_s']:.2f} | {rate['fetch']:,.0f} | "
        f"{rate['fetch'] / rate['copy']:.0%} |",
        f"| **ingest end to end** (`ingest_instance`) | {r['ingest_s']:.2f} | **{rate['ingest']:,.0f}** | "
        f"**{rate['ingest'] / rate['copy']:.0%}** |",
        f"| of which inside `store_batch` (normalize + INSERT + cursor) | {r['store_s']:.2f} | "
        f"{n / r['store_s']:,.0f} | {n / r['store_s'] / rate['copy']:.0%} |",
        f"| raw `COPY` of the same rows, same indexes | {r['copy_s']:.2f} | {rate['copy']:,.0f} | 100% |",
        "",
        f"events_harborevent after the run: {r['total_size']} with indexes ({r['table_size']} heap).",
    ]
    return "\n".join(lines)


# --- search at scale ----------------------------------------------------------------------------------
SEARCH_USERS = ("admin", "alice", "bob", "carol", "robot$ci", "dave", "erin", "frank")
SEARCH_OPS = ("create", "pull", "pull", "delete", "update", "login")


def generate_rows(rows: int, instances: int) -> dict[str, Any]:
    """Fill events_harborevent directly (generate_series), indexes built afterwards; compact raw."""
    from django.db import connection

    from harborops.fleet.models import Instance

    Instance.objects.bulk_create([
        Instance(name=f"harbor-{i:03d}", url=f"http://127.0.0.1:9/h/{i}", username="admin", password="x",  # noqa: S106
                 labels={"env": "prod" if i % 4 == 0 else "dev"}) for i in range(1, instances + 1)])
    ids = list(Instance.objects.order_by("pk").values_list("pk", flat=True))
    out: dict[str, Any] = {}
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events_harborevent' "
                    "AND indexname NOT LIKE '%%pkey'")
        indexes = cur.fetchall()
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = 'events_harborevent'::regclass AND contype = 'u'")
        uniques = cur.fetchall()
        for name, _ in uniques:
            cur.execute(f'ALTER TABLE events_harborevent DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            if name not in {u for u, _ in uniques}:
                cur.execute(f'DROP INDEX IF EXISTS "{name}"')
        users = "ARRAY[" + ",".join(f"'{u}'" for u in SEARCH_USERS) + "]"
        ops = "ARRAY[" + ",".join(f"'{o}'" for o in SEARCH_OPS) + "]"
        t0 = time.perf_counter()
        # One instance per row in turn; ~3 s apart; resources over 50 projects x 7 repos x 13 tags.
        cur.execute(f"""
            INSERT INTO events_harborevent ({", ".join(COLUMNS)})
            SELECT (ARRAY{ids})[1 + g %% {instances}], 'harbor-' || lpad((1 + g %% {instances})::text, 3, '0'),
                   'audit-logs', 1, g, now() - ((%s - g) * interval '3 seconds'),
                   ({users})[1 + (g / 7) %% 8], ({ops})[1 + (g / 3) %% 6], 'artifact',
                   'proj-' || (g %% 50) || '/app-' || (g %% 7) || ':v' || (g %% 13), 'proj-' || (g %% 50),
                   '', NULL, jsonb_build_object('id', g), now()
            FROM generate_series(1, %s) AS g""", [rows, rows])  # noqa: S608
        out["load_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _, definition in uniques:
            cur.execute(f"ALTER TABLE events_harborevent ADD CONSTRAINT events_unique_harbor_id {definition}")
        for name, definition in indexes:
            if name not in {u for u, _ in uniques}:
                cur.execute(definition)
        cur.execute("ANALYZE events_harborevent")
        out["index_s"] = time.perf_counter() - t0
        cur.execute("SELECT pg_relation_size('events_harborevent'), pg_total_relation_size('events_harborevent')")
        out["heap"], out["total"] = cur.fetchone()
        cur.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                    "WHERE indrelid = 'events_harborevent'::regclass ORDER BY 2 DESC")
        out["indexes"] = cur.fetchall()
    return out


def search_cases() -> list[tuple[str, dict[str, Any]]]:
    from datetime import timedelta

    from django.utils.timezone import now

    return [
        ("newest, no filter", {}),
        ("user=bob", {"user": "bob"}),
        ("user=bob, operation=delete", {"user": "bob", "operation": "delete"}),
        ("project=proj-7", {"project": "proj-7"}),
        ("resource starts with proj-7/app-3", {"resource_prefix": "proj-7/app-3"}),
        ("resource contains app-3:v11", {"resource_contains": "app-3:v11"}),
        ("label env=prod", {"label": "env=prod"}),
        ("one instance, last 24 h", {"instances": [-1], "since": now() - timedelta(days=1)}),
        ("user=erin, operation=update, 7 days", {"user": "erin", "operation": "update",
                                                 "since": now() - timedelta(days=7)}),
    ]


def run_search(args: argparse.Namespace, db_url: str) -> str:
    import statistics

    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from harborops.audit.models import ActionLogEntry
    from harborops.events.query import Cursor, EventFilter, search
    from harborops.fleet.models import Instance

    call_command("migrate", verbosity=0)
    gen = generate_rows(args.rows, args.instances)
    from datetime import timedelta

    from django.utils.timezone import now

    # harborops' own changes spread over the same time span as the Harbor events (3 s apart each).
    span = args.rows * 3 / 10_000
    ActionLogEntry.objects.bulk_create([
        ActionLogEntry(time=now() - timedelta(seconds=i * span), actor_name=SEARCH_USERS[i % 8],
                       action="mapping.update", object_type="access.mapping", object_repr=f"proj-{i % 50}")
        for i in range(10_000)])
    first_instance = Instance.objects.order_by("pk").values_list("pk", flat=True).first()
    lines = [f"{args.rows:,} stored events over {args.instances} instances (+10,000 harborops actions); "
             f"generated in {gen['load_s']:.0f} s, indexed in {gen['index_s']:.0f} s; "
             f"table {gen['heap'] / 2**20:,.0f} MB, with indexes {gen['total'] / 2**20:,.0f} MB", "",
             "| index | size |", "|---|---:|"]
    lines += [f"| `{name}` | {size / 2**20:,.1f} MB |" for name, size in gen["indexes"]]
    lines += ["", "Each query is `harborops.events.query.search()` (what the page and the API call: Harbor "
              "events UNION harborops actions, keyset, 50 rows), run "
              f"{args.repeat} times after one warm-up.", "",
              "| query | p50 ms | p95 ms | page 20 p50 ms |", "|---|---:|---:|---:|"]
    plans: list[str] = []
    for title, kw in search_cases():
        if kw.get("instances") == [-1]:
            kw = {**kw, "instances": [first_instance]}
        f = EventFilter(**kw)
        search(f, limit=50)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            page = search(f, limit=50)
            times.append((time.perf_counter() - t0) * 1000)
        # walk to page 20 once, then time page 20 itself
        cursor = None
        for _ in range(19):
            p = search(f, cursor=cursor, limit=50)
            cursor = Cursor.decode(p.next_cursor) if p.next_cursor else None
            if cursor is None:
                break
        deep = []
        if cursor is not None:
            for _ in range(max(3, args.repeat // 3)):
                t0 = time.perf_counter()
                search(f, cursor=cursor, limit=50)
                deep.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        lines.append(f"| {title} | {statistics.median(times):.1f} | {p95:.1f} | "
                     f"{statistics.median(deep):.1f} |" if deep else
                     f"| {title} | {statistics.median(times):.1f} | {p95:.1f} | — |")
        captured: list[tuple[str, Any]] = []

        def grab(execute: Any, sql: str, params: Any, many: bool, context: Any,
                 captured: list[tuple[str, Any]] = captured) -> Any:
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(grab):
            page = search(f, limit=50)
        del page
        sql, params = captured[-1]
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            plans.append(f"-- {title}\n" + "\n".join(r[0] for r in cur.fetchall()))
    from harborops.events.query import activity

    chart_times = []
    for title, f in (("no filter", EventFilter()), ("user=bob", EventFilter(user="bob"))):
        t0 = time.perf_counter()
        activity(f)
        chart_times.append(f"{title} {(time.perf_counter() - t0) * 1000:,.0f} ms")
    lines += ["", "Activity chart (events per day by operation, last 30 days; loaded after the rows): "
              + ", ".join(chart_times) + "."]
    if args.plans:
        Path(args.plans).write_text("\n\n".join(plans) + "\n")
    if args.fanout:
        lines += ["", fanout_baseline(args)]
    return "\n".join(lines)


def fanout_baseline(args: argparse.Namespace) -> str:
    """What users do today: ask every Harbor's own API, one after another, and merge by hand."""
    import httpx

    n = args.fanout
    per = max(1, args.rows // n)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "harbor_sim", "--instances", str(n), "--port", str(port),
         "--version", "2.12.0", "--seed-audit", str(per), "--latency-ms", str(args.latency_ms)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if httpx.get(f"{base}/h/1/api/v2.0/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        times = []
        with httpx.Client(auth=("admin", "Harbor12345"), timeout=60) as c:
            for _ in range(3):
                t0 = time.perf_counter()
                found = []
                for i in range(1, n + 1):
                    r = c.get(f"{base}/h/{i}/api/v2.0/audit-logs",
                              params={"q": "username=bob,operation=delete", "sort": "-op_time", "page": 1,
                                      "page_size": 50})
                    found.extend(r.json())
                found.sort(key=lambda e: e["op_time"], reverse=True)
                times.append(time.perf_counter() - t0)
        return (f"The same question (user=bob, operation=delete, newest 50) asked of {n} simulated Harbors one "
                f"after another ({per:,} events each, {args.latency_ms:g} ms latency per request), merged: "
                f"median {sorted(times)[1]:.2f} s.")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    p = argparse.ArgumentParser(description="Audit ingest and search benchmarks (see the module docstring)")
    p.add_argument("mode", nargs="?", choices=("ingest", "search"), default="ingest")
    p.add_argument("--events", type=int, default=200_000, help="ingest: events on the simulated Harbor")
    p.add_argument("--batch", type=int, default=5000, help="ingest: events per transaction (HARBOROPS_EVENTS_BATCH)")
    p.add_argument("--version", default="2.12.0", help="ingest: simulated Harbor version (2.13+: /auditlog-exts)")
    p.add_argument("--rows", type=int, default=1_000_000, help="search: stored events to generate")
    p.add_argument("--instances", type=int, default=100, help="search: instances the events belong to")
    p.add_argument("--repeat", type=int, default=30, help="search: timed runs per query")
    p.add_argument("--plans", default="", help="search: write the EXPLAIN ANALYZE of every query to this file")
    p.add_argument("--fanout", type=int, default=0, help="search: also ask N simulated Harbors one by one")
    p.add_argument("--latency-ms", type=float, default=20.0, help="search --fanout: latency per request")
    p.add_argument("--server", default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                   help="a PostgreSQL URL whose user may CREATE DATABASE")
    p.add_argument("--keep", action="store_true", help="keep the throwaway database")
    p.add_argument("--runs", type=int, default=1, help="ingest: runs, each in a fresh database (median ratio)")
    args = p.parse_args()
    if args.mode == "ingest" and args.runs > 1:
        # One child per run: Django is set up once per process, and each run gets a fresh database.
        cmd = [sys.executable, __file__, "ingest", "--events", str(args.events), "--batch", str(args.batch),
               "--version", args.version, "--server", args.server]
        outputs = [subprocess.run(cmd, check=True, capture_output=True, text=True).stdout for _ in range(args.runs)]
        ratios = sorted(float(o.split("**")[5].rstrip("%")) for o in outputs)
        print("\n\n".join(outputs))
        print(f"ingest vs COPY over {args.runs} runs: median {ratios[len(ratios) // 2]:.0f} %, "
              f"min {ratios[0]:.0f} %, max {ratios[-1]:.0f} %")
        return
    name = f"harborops_bench_audit_{os.getpid()}"
    db_url = create_database(args.server, name)
    try:
        print(report(run(args, db_url)) if args.mode == "ingest" else run_search(args, db_url))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.server, name)


if __name__ == "__main__":
    main()
