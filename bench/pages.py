"""Page benchmark: server time and query count of every list and detail page and API endpoint, on a
database of a large fleet's size (issue 15, "every page fast at scale").

    .venv/bin/python bench/pages.py --keep                     # seed `full`, measure, keep the database
    .venv/bin/python bench/pages.py --reuse harborops_pages_bench     # measure again, no seeding
    .venv/bin/python bench/pages.py --size tiny --compare-size none --requests 2   # a smoke run

**Data** (``--size full``, the default): 1,000 instances with the state a sweep leaves, 1,440 health
snapshots each (one day of per-minute sweeps: 1.44 M), 10 M Harbor audit events (10,000 per
instance over the last 90 days: ~300 users and robot accounts, pulls, pushes, deletes, updates over
~60 projects of ~12 repositories each), 10,000 jobs with 3–8 log lines each, 100,000 action-log
entries, 500 team mappings, and a few hundred rows in each of the other apps (certificates,
replication, GC, clean-up, alerts, SSH hosts, installs). The big tables are written with
``COPY ... FROM STDIN`` (psycopg 3) with their secondary indexes, unique and foreign-key
constraints dropped first and recreated afterwards exactly as the migrations made them (their
definitions are read back from ``pg_indexes`` / ``pg_constraint``), then ``ANALYZE``. The
per-instance stored-event figures are recomputed after the events are in (``recount``).

**Pages**: every named route of the URL resolver. Each one is asked once with ``GET`` as a
logged-in *viewer*: a 405 (POST only) is left out; a 403 (forms and lists for admins only) is
measured as an *admin* instead; pages that read the Harbors or the LDAP directory live and file
downloads are left out (listed in the output with the reason). Path arguments are filled from
seeded rows. Each page: 2 warm-up requests, then ``--requests`` timed ones through
``django.test.Client`` in this process (server time: middleware, session, view, template,
serializer), median and p95, then one more request under ``CaptureQueriesContext`` for the
number of SQL queries.

**Does the query count depend on the data size?** ``--compare-size small`` (default for the full
run) runs this script again in a child process at ``small`` (20 instances, every other table 1/50
of full) in a database of its own, and compares each page's query count with the full run's.

Goal per page: p95 ≤ 150 ms at full size and the same number of queries at both sizes.
``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of the 3 slowest queries of each page that misses.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.overview import ENVS, _normalise, create_database, drop_database, instance_row, setup_django  # noqa: E402

GOAL_P95_MS = 150.0
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Size:
    instances: int
    snapshots: int  # per instance
    events: int  # in all
    jobs: int
    log_lines: tuple[int, int]  # per job, min..max
    actions: int
    mappings: int
    others: int  # rows in each of the other apps' tables


SIZES = {
    "full": Size(1000, 1440, 10_000_000, 10_000, (3, 8), 100_000, 500, 300),
    "small": Size(20, 1440, 200_000, 200, (3, 8), 2_000, 10, 6),
    "tiny": Size(4, 6, 400, 8, (2, 3), 40, 3, 3),
    "tinier": Size(2, 3, 100, 4, (2, 3), 20, 2, 2),
}

FIRST = ("anna", "ben", "chen", "dana", "emil", "fatima", "gus", "hana", "ivan", "jo", "kai", "lena", "mo", "nils",
         "olga", "priya", "quinn", "rui", "sara", "tom", "uma", "vik", "wen", "yusuf", "zoe")
LAST = ("berg", "costa", "diaz", "eriksen", "fischer", "garcia", "huang", "ito", "jensen", "kowalski", "larsen",
        "meyer")
PROJECT_WORDS = ("payments", "search", "checkout", "identity", "billing", "catalog", "media", "ml-platform",
                 "observability", "data-lake", "gateway", "mobile", "infra", "security", "analytics")
REPOS = ("api", "web", "worker", "scheduler", "db-migrate", "nginx", "redis-cache", "frontend", "backend", "batch",
         "exporter", "sidecar")
# Harbor's legacy /audit-logs: a pull is logged on every pull, a push is a "create" of an artifact.
OPERATIONS = (("pull", "artifact", 68), ("create", "artifact", 18), ("delete", "artifact", 5),
              ("create", "tag", 3), ("delete", "tag", 2), ("update", "project", 1), ("create", "repository", 1),
              ("delete", "repository", 1), ("create", "project", 1))
EVENT_COLUMNS = ("instance_id", "instance_name", "source", "epoch", "harbor_id", "op_time", "username", "operation",
                 "resource_type", "resource", "project", "description", "result", "raw", "ingested_at")

# Pages left out, and why. Everything else the resolver knows is asked.
LIVE = {  # computed by calling the Harbors (or harborops' LDAP directory) during the request
    "access:plan", "access:preflight", "access:preflight_draft", "access:group_search",
    "access-api:mapping-plan", "access-api:mapping-plan-all", "access-api:mapping-preflight",
    "access-api:mapping-preflight-all", "access-api:mapping-ldap-groups",
    "replication:task_log", "replication-api:task-log",
}
DOWNLOADS = {  # files, not pages: exports stream every matching stored event; PEM/CSV downloads
    "events:event_export", "events-api:export", "certificates:ca_download", "certificates:issued_cert",
    "certificates:issued_chain", "replication:pair_report_csv",
}
NOT_PAGES = {"login", "logout", "healthz"}  # the login form and liveness: no data behind them


def log(msg: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


# --- seeding ------------------------------------------------------------------------------------------

def _raw_pg() -> Any:
    from django.db import connection

    connection.ensure_connection()
    return connection.connection


def _nice_backend() -> None:
    """Lower the priority of this connection's PostgreSQL backend too (COPY and index builds run
    there): the machine's 2 CPUs are shared. Best effort: needs the right to renice that process."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, max(10, os.getpriority(os.PRIO_PROCESS, pid)))


class Deferred:
    """Drop a table's secondary indexes, unique and foreign-key constraints; recreate them as they were."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.before = self._schema()
        self.constraints = [(n, k, d) for n, k, d in self.before[0] if k in ("u", "f")]
        self.indexes = [(n, d) for n, d in self.before[1] if n not in {c[0] for c in self.before[0]}]

    def _schema(self) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        """(every constraint: name, kind, definition; every index: name, definition) of the table."""
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass ORDER BY contype DESC, conname", [self.table])
            constraints = [tuple(r) for r in cur.fetchall()]
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
                        [self.table])
            indexes = [tuple(r) for r in cur.fetchall()]
        return constraints, indexes  # type: ignore[return-value]

    def drop(self) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            for name, _, _ in self.constraints:
                cur.execute(f'ALTER TABLE "{self.table}" DROP CONSTRAINT "{name}"')
            for name, _ in self.indexes:
                cur.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            for name, definition in self.indexes:
                t0 = time.perf_counter()
                cur.execute(definition)
                log(f"  {self.table}: index {name} in {time.perf_counter() - t0:.1f} s")
            for name, kind, definition in self.constraints:  # unique before foreign keys
                t0 = time.perf_counter()
                cur.execute(f'ALTER TABLE "{self.table}" ADD CONSTRAINT "{name}" {definition}')
                log(f"  {self.table}: constraint {name} ({kind}) in {time.perf_counter() - t0:.1f} s")
            cur.execute("RESET maintenance_work_mem")
        after = self._schema()
        if after != self.before:
            raise RuntimeError(f"{self.table}: indexes or constraints differ after the rebuild: {self.before} {after}")


def copy_text(table: str, columns: Iterable[str], chunks: Iterable[str], defer: bool = True) -> int:
    """COPY text-format lines (already escaped) into ``table``; indexes and constraints deferred."""
    from django.db import connection, transaction

    deferred = Deferred(table) if defer else None
    n = 0
    with transaction.atomic():
        if deferred:
            deferred.drop()
        with _raw_pg().cursor() as cur, cur.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for chunk in chunks:
                copy.write(chunk)
                n += chunk.count("\n")
        if deferred:
            deferred.restore()
    with connection.cursor() as cur:
        cur.execute(f'ANALYZE "{table}"')
    return n


def copy_model(model: Any, rows: Iterable[dict[str, Any]], defer: bool = False) -> int:
    """COPY rows given as {field name: Python value} into ``model``'s table: every other column gets the
    field's default, values go through the field's own conversion (JSON, encrypted text). Only the
    columns the table has (a migration not applied yet leaves a model field out)."""
    from django.db import connection, transaction

    table = model._meta.db_table
    with connection.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
        present = {r[0] for r in cur.fetchall()}
    fields = [f for f in model._meta.concrete_fields
              if f.column in present and not (f.primary_key and f.get_internal_type() in ("AutoField", "BigAutoField"))]
    deferred = Deferred(table) if defer else None
    n = 0
    with transaction.atomic():
        if deferred:
            deferred.drop()
        cols = ", ".join(f'"{f.column}"' for f in fields)
        with _raw_pg().cursor() as cur, cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                values = []
                for f in fields:
                    value = row[f.attname] if f.attname in row else row.get(f.name, f.get_default())
                    if hasattr(value, "pk"):
                        value = value.pk
                    values.append(f.get_db_prep_save(value, connection) if value is not None else None)
                copy.write_row(values)
                n += 1
        if deferred:
            deferred.restore()
    with connection.cursor() as cur:
        cur.execute(f'ANALYZE "{table}"')
    return n


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def seed_instances(size: Size, rng: random.Random, at: dt.datetime) -> list[Any]:
    from harborops.fleet.models import HAGroup, Instance

    # port 9 refuses: nothing is ever reached
    rows = [instance_row(n, rng, at, url=f"http://127.0.0.1:9/h/{n}") for n in range(1, size.instances + 1)]
    created = Instance.objects.bulk_create(rows, batch_size=500)
    for k in range(0, len(created) - 1, 50):  # an HA pair every 50 instances
        group = HAGroup.objects.create(name=f"ha-{created[k].name}", hostname=f"{created[k].name}.example.test",
                                       mode="two_way_replication" if k % 100 else "shared_storage")
        Instance.objects.filter(pk__in=[created[k].pk, created[k + 1].pk]).update(ha_group=group)
    return list(Instance.objects.order_by("pk"))


def snapshot_chunks(instances: list[Any], per: int, rng: random.Random, at: dt.datetime) -> Iterator[str]:
    for inst in instances:
        lines = []
        for g in range(per):
            taken = at - dt.timedelta(minutes=g)
            up = inst.status in ("up", "degraded") and rng.random() > 0.01
            status = inst.status if up else "down"
            lat = str(rng.randint(20, 400)) if up else "\\N"
            total, free = (str(inst.storage_total), str(inst.storage_free)) if up and inst.storage_total else \
                ("\\N", "\\N")
            stats = json.dumps(inst.statistics) if up else "{}"
            comps = '["trivy"]' if status == "degraded" else "[]"
            err_kind, err = ("", "") if up else ("timeout", "no answer in time")
            lines.append(f"{inst.pk}\t{_ts(taken)}\t{status}\t{lat}\t{inst.version}\t{comps}\t{total}\t{free}\t"
                         f"{stats}\t\\N\t{err_kind}\t{err}\n")
        yield "".join(lines)


def _people(rng: random.Random) -> tuple[list[str], list[int]]:
    users = ["admin", *[f"{f}.{s}" for f in FIRST for s in LAST][:260]]
    users += [f"robot$ci-{w}" for w in PROJECT_WORDS] + [f"robot$deploy-{i}" for i in range(25)]
    weights = [400] + [max(1, int(1000 / (i + 1) ** 0.8)) for i in range(len(users) - 1)]  # a few busy ones
    rng.shuffle(weights[1:])
    return users, weights


def event_chunks(instances: list[Any], total: int, rng: random.Random, at: dt.datetime) -> Iterator[str]:
    """Per instance ~total/instances events over the last 90 days, ids 1..n in time order."""
    users, uweights = _people(rng)
    projects = [f"{w}-{suffix}" for w in PROJECT_WORDS for suffix in ("prod", "dev", "shared", "team")][:60]
    ops = [(o, t) for o, t, _ in OPERATIONS]
    oweights = [w for _, _, w in OPERATIONS]
    span = 90 * 86400
    per, extra = divmod(total, len(instances))
    ingested = _ts(at)
    for k, inst in enumerate(instances):
        n = per + (1 if k < extra else 0)
        if n == 0:
            continue
        source = "auditlog-exts" if inst.version.startswith("v2.15") else "audit-logs"
        offsets = sorted((rng.random() for _ in range(n)), reverse=True)
        who = rng.choices(users, uweights, k=n)
        what = rng.choices(ops, oweights, k=n)
        mine = projects[k % 20:k % 20 + 40]  # each Harbor hosts 40 of the 60 projects
        where = rng.choices(mine, k=n)
        repo = rng.choices(REPOS, k=n)
        tags = [rng.randrange(1, 40) for _ in range(n)]
        lines = []
        name = inst.name
        for i in range(n):
            t = at - dt.timedelta(seconds=offsets[i] * span)
            op, rtype = what[i]
            proj = where[i]
            if rtype == "project":
                resource = proj
            elif rtype == "repository":
                resource = f"{proj}/{repo[i]}"
            else:
                resource = f"{proj}/{repo[i]}:v1.{tags[i] // 10}.{tags[i]}"
            ts = _ts(t)
            hid = i + 1
            raw = (f'{{"id": {hid}, "op_time": "{t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}", "username": "{who[i]}", '
                   f'"operation": "{op}", "resource": "{resource}", "resource_type": "{rtype}"}}')
            lines.append(f"{inst.pk}\t{name}\t{source}\t1\t{hid}\t{ts}\t{who[i]}\t{op}\t{rtype}\t{resource}\t{proj}\t"
                         f"\tt\t{raw}\t{ingested}\n")
        yield "".join(lines)


def seed_jobs(size: Size, rng: random.Random, at: dt.datetime) -> tuple[int, int]:
    from harborops.core.jobs.registry import registered_kinds
    from harborops.core.models import JobLogLine, JobRun

    kinds = sorted(k for k, v in registered_kinds().items() if not v.detail_template) or ["fleet.sweep"]
    statuses = ("succeeded",) * 8 + ("failed", "cancelled")

    def jobs() -> Iterator[dict[str, Any]]:
        for n in range(size.jobs):
            created = at - dt.timedelta(seconds=(size.jobs - n) * 90 * 86400 / max(size.jobs, 1))
            status = statuses[n % len(statuses)] if n < size.jobs - 3 else "running"
            yield {"kind": kinds[n % len(kinds)], "status": status, "trigger": "scheduled" if n % 3 else "user",
                   "actor_name": "system" if n % 3 else "anna.berg", "queue": "periodic", "created_at": created,
                   "started_at": created + dt.timedelta(seconds=1),
                   "finished_at": None if status == "running" else created + dt.timedelta(seconds=rng.randint(2, 600)),
                   "progress_current": 10, "progress_total": 10, "summary": f"{rng.randint(1, 1000)} done",
                   "error": "harbor-00003: timeout" if status == "failed" else "", "params": {}, "result": {}}

    n_jobs = copy_model(JobRun, jobs())
    ids = list(JobRun.objects.order_by("pk").values_list("pk", "created_at"))

    def lines() -> Iterator[dict[str, Any]]:
        for pk, created in ids:
            for seq in range(rng.randint(*size.log_lines)):
                level = "info" if seq or rng.random() > 0.1 else "warning"
                yield {"job_id": pk, "seq": seq + 1, "ts": created + dt.timedelta(seconds=seq), "level": level,
                       "text": f"step {seq + 1}: harbor-{rng.randint(1, 999):05d} answered in {rng.randint(5, 900)} ms"}

    return n_jobs, copy_model(JobLogLine, lines(), defer=True)


def seed_actions(size: Size, rng: random.Random, at: dt.datetime, instances: list[Any]) -> int:
    from harborops.audit.models import ActionLogEntry

    users, _ = _people(rng)
    kinds = (("fleet.instance.update", "fleet.instance"), ("fleet.instance.create", "fleet.instance"),
             ("access.mapping.update", "access.mapping"), ("maintenance.policy.run", "maintenance.gcpolicy"),
             ("events.backfill", "fleet.instance"), ("alerts.alert.ack", "alerts.alert"))

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(size.actions):
            action, otype = kinds[n % len(kinds)]
            inst = instances[n % len(instances)]
            yield {"time": at - dt.timedelta(seconds=(size.actions - n) * 90 * 86400 / size.actions),
                   "actor_name": users[1 + n % 40], "request_id": f"{n:032x}", "source_ip": f"10.0.{n % 250}.{n % 200}",
                   "action": action, "object_type": otype, "object_id": str(inst.pk), "object_repr": inst.name,
                   "before": {"labels": {"env": "dev"}}, "after": {"labels": {"env": "prod"}},
                   "outcome": "success" if n % 50 else "failure", "message": ""}

    return copy_model(ActionLogEntry, rows(), defer=True)


def seed_events_state(instances: list[Any], at: dt.datetime) -> None:
    from harborops.events.models import EventCursor, IngestAnomaly, IngestState

    copy_model(IngestState, ({"instance_id": i.pk, "last_run_at": at - dt.timedelta(minutes=1),
                              "last_success_at": at - dt.timedelta(minutes=1), "last_stored": 12,
                              "version": i.version.lstrip("v").split("-")[0]} for i in instances))
    copy_model(EventCursor, ({"instance_id": i.pk, "source": "auditlog-exts" if i.version.startswith("v2.15")
                              else "audit-logs", "last_id": 10_000, "updated_at": at} for i in instances))
    copy_model(IngestAnomaly, ({"instance_id": i.pk, "source": "audit-logs", "kind": "gap", "from_id": 100,
                                "to_id": 180, "missing": 79, "message": "ids 101-179 purged before ingest",
                                "detected_at": at - dt.timedelta(days=k % 30)}
                               for k, i in enumerate(instances[::10])))


def recount_figures() -> str:
    """The per-instance stored-event figures (kept by the ingest), recomputed from the seeded table."""
    from harborops.events import figures

    figures.recount()
    return "figures.recount()"


def seed_mappings(size: Size, instances: list[Any], at: dt.datetime) -> None:
    from harborops.access.models import DriftCheck, DriftFinding, ManagedMembership, TeamMapping

    mappings = TeamMapping.objects.bulk_create([
        TeamMapping(ldap_group_dn=f"cn=team-{n:04d},ou=groups,dc=example,dc=org", ldap_group_name=f"team-{n:04d}",
                    project_name=f"{PROJECT_WORDS[n % len(PROJECT_WORDS)]}-{n}", role=("developer", "maintainer",
                    "guest", "projectAdmin")[n % 4], targets=("all", "label", "listed")[n % 3],
                    target_label="env=prod" if n % 3 == 1 else "") for n in range(size.mappings)], batch_size=500)
    through = TeamMapping.instances.through
    through.objects.bulk_create([through(teammapping_id=m.pk, instance_id=instances[(k * 7 + j) % len(instances)].pk)
                                 for k, m in enumerate(mappings) if m.targets == "listed" for j in range(5)],
                                ignore_conflicts=True, batch_size=2000)
    ManagedMembership.objects.bulk_create([
        ManagedMembership(instance=instances[k % len(instances)], mapping=m, project_name=m.project_name,
                          entity_type="g", entity=m.ldap_group_dn, role_id=2)
        for k, m in enumerate(mappings)], batch_size=1000)
    DriftCheck.objects.create(checked_at=at, instances=len(instances), findings=size.others)
    DriftFinding.objects.bulk_create([
        DriftFinding(checked_at=at, instance=instances[k % len(instances)], mapping=mappings[k % len(mappings)],
                     kind=("missing", "wrong_role", "extra", "stale")[k % 4], project_name=mappings[k % len(mappings)]
                     .project_name, entity=f"cn=team-{k:04d}", detail="seeded")
        for k in range(size.others)])


def seed_others(size: Size, instances: list[Any], rng: random.Random, at: dt.datetime) -> dict[str, int]:
    """A few hundred rows in each of the other apps: enough for their lists to page and their
    details to show something."""
    from django.contrib.auth.models import User

    from harborops.core.models import JobRun
    from harborops.fleet.models import HAGroup, StatusChange, SweepRun
    from harborops.ssh.models import SSHHost

    n = size.others
    counts: dict[str, int] = {}
    day = dt.timedelta(days=1)
    StatusChange.objects.bulk_create([
        StatusChange(instance=instances[k % len(instances)], at=at - dt.timedelta(hours=k),
                     from_status="up", to_status=("down", "degraded", "up")[k % 3], reason="seeded")
        for k in range(n * 5)])
    job = JobRun.objects.filter(kind="fleet.sweep").order_by("-pk").first()
    SweepRun.objects.bulk_create([
        SweepRun(started_at=at - dt.timedelta(minutes=k), finished_at=at - dt.timedelta(minutes=k, seconds=-20),
                 duration=dt.timedelta(seconds=20), trigger="scheduled", job=job if k == 0 else None,
                 instances=len(instances), chunks_total=2, chunks_done=2, up=len(instances) - len(instances) // 10,
                 down=len(instances) // 10)
        for k in range(n)])
    hosts = SSHHost.objects.bulk_create([
        SSHHost(name=f"host-{k:04d}", address=f"10.1.{k // 250}.{k % 250}", port=22, username="deploy",
                role=("harbor", "docker", "both")[k % 3], labels={"env": ENVS[k % 3]},
                last_check_at=at, last_check_ok=k % 9 != 0, last_check_message="ok") for k in range(n)])
    counts["ssh hosts"] = len(hosts)
    counts.update(_seed_installs(n, hosts, instances, at))
    counts.update(_seed_certificates(n, hosts, instances, at))
    counts.update(_seed_replication(n, instances, list(HAGroup.objects.all()), at))
    counts.update(_seed_maintenance(n, hosts, instances, at))
    counts.update(_seed_alerts(n, instances, at, User.objects.filter(username="bench-admin").first()))
    del day, rng
    return counts


def _seed_installs(n: int, hosts: list[Any], instances: list[Any], at: dt.datetime) -> dict[str, int]:
    from harborops.installs.models import STEPS, Install, Installer, InstallTarget

    installers = Installer.objects.bulk_create([
        Installer(filename=f"harbor-offline-installer-v2.{10 + k % 4}.{k}.tgz", version=f"2.{10 + k % 4}.{k}",
                  size=700_000_000, sha256="0" * 64) for k in range(max(2, n // 20))])
    installs = Install.objects.bulk_create([
        Install(name=f"install-{k:04d}", installer=installers[k % len(installers)], admin_password="a",  # noqa: S106
                db_password="d", status=("succeeded", "failed", "new")[k % 3]) for k in range(n)])  # noqa: S106
    InstallTarget.objects.bulk_create([
        InstallTarget(install=inst, host=hosts[k % len(hosts)], hostname=f"harbor-{k}.example.test",
                      steps={step: {"status": "failed" if k % 3 == 1 and step == "install" else "done",
                                    "at": at.isoformat(), "detail": ""} for step in STEPS},
                      instance=instances[k % len(instances)]) for k, inst in enumerate(installs)])
    return {"installs": len(installs)}


def _seed_certificates(n: int, hosts: list[Any], instances: list[Any], at: dt.datetime) -> dict[str, int]:
    from harborops.certificates.models import (
        Certificate,
        ChainEntry,
        Deployment,
        DiskFile,
        Endpoint,
        IssuedCertificate,
        ManagedCA,
        PullingHost,
        TrustState,
    )
    from harborops.installs.models import InstallTarget

    day = dt.timedelta(days=1)
    certs = Certificate.objects.bulk_create([
        Certificate(fingerprint=f"{k:064X}", pem="-", subject=f"CN=harbor-{k}.example.test",
                    common_name=f"harbor-{k}.example.test", issuer="CN=Example CA", serial=str(k),
                    not_before=at - 300 * day, not_after=at + (k % 400 - 30) * day, signature_algorithm="sha256",
                    key_type="RSA", key_size=2048, dns_names=[f"harbor-{k}.example.test"]) for k in range(n)])
    endpoints = Endpoint.objects.bulk_create([
        Endpoint(label=f"harbor-{k}", host=f"harbor-{k}.example.test", port=443, instance=instances[k % len(instances)],
                 source="instance", status=("ok", "warning", "failing")[k % 3], last_scan_at=at, leaf=certs[k],
                 checks=[{"name": "expiry", "status": "ok", "message": "valid for 90 days"}]) for k in range(n)])
    ChainEntry.objects.bulk_create([ChainEntry(endpoint=e, certificate=certs[k], position=0)
                                    for k, e in enumerate(endpoints)])
    cas = ManagedCA.objects.bulk_create([
        ManagedCA(name=f"ca-{k}", origin="generated", certificate="-", private_key="k", fingerprint=f"CA{k}",
                  subject=f"CN=ca-{k}", key_description="EC P-256", not_before=at - day, not_after=at + 3650 * day)
        for k in range(max(2, n // 50))])
    issued = IssuedCertificate.objects.bulk_create([
        IssuedCertificate(ca=cas[k % len(cas)], hostname=f"harbor-{k}.example.test", certificate="-",
                          private_key="k", fingerprint=f"IS{k}", serial=str(k), not_before=at - day,
                          not_after=at + 365 * day) for k in range(n)])
    Deployment.objects.bulk_create([
        Deployment(instance=instances[k % len(instances)], instance_name=instances[k % len(instances)].name,
                   issued=issued[k], status=("succeeded", "failed", "restored")[k % 3]) for k in range(n)])
    pulling = PullingHost.objects.bulk_create([PullingHost(host=h) for h in hosts[: max(2, n // 10)]])
    TrustState.objects.bulk_create([
        TrustState(pulling_host=p, endpoint=e, state=("ok", "missing", "stale")[k % 3], checked_at=at)
        for k, (p, e) in enumerate((p, e) for p in pulling for e in endpoints[:30])])
    targets = list(InstallTarget.objects.all()[:n])
    DiskFile.objects.bulk_create([
        DiskFile(target=t, kind="https_certificate", path="/data/cert/server.crt", fingerprint=f"{k:064X}",
                 not_after=at + 100 * day, matches_served=True, checked_at=at) for k, t in enumerate(targets)])
    return {"certificates": len(certs), "endpoints": len(endpoints), "issued certificates": len(issued)}


def _seed_replication(n: int, instances: list[Any], groups: list[Any], at: dt.datetime) -> dict[str, int]:
    from harborops.replication.models import (
        CollectState,
        Execution,
        FailedTask,
        HAPair,
        MissingArtifact,
        OwnedSchedule,
        PairSide,
        Policy,
        Registry,
    )

    CollectState.objects.bulk_create([CollectState(instance=i, last_run_at=at, last_ok_at=at, executions_read=5)
                                      for i in instances])
    registries = Registry.objects.bulk_create([
        Registry(instance=instances[k % len(instances)], harbor_id=k + 1, name=f"peer-{k}",
                 url=f"https://harbor-{(k + 1) % len(instances)}.example.test", type="harbor", reachable=True,
                 checked_at=at) for k in range(n)])
    policies = Policy.objects.bulk_create([
        Policy(instance=registries[k].instance, harbor_id=k + 1, name=f"replicate-{k}", direction="push",
               remote_registry=registries[k], remote_name=registries[k].name, remote_url=registries[k].url,
               trigger_type="scheduled", cron="0 0 * * * *", filters=[{"type": "name", "value": "library/**"}],
               health=("healthy", "failing", "lagging", "stuck")[k % 4], last_status="Succeed", last_run_at=at,
               last_success_at=at, failure_rate_24h=0.1, failure_rate_7d=0.05, computed_at=at) for k in range(n)])
    OwnedSchedule.objects.bulk_create([OwnedSchedule(policy=p, cron="0 2 * * *") for p in policies[::3]])
    executions = Execution.objects.bulk_create([
        Execution(instance=p.instance, policy=p, harbor_id=k * 10 + j, status=("Succeed", "Failed")[j % 2],
                  trigger="scheduled", start_time=at - dt.timedelta(hours=j), end_time=at - dt.timedelta(hours=j),
                  total=10, failed=j % 2, succeed=10 - j % 2) for k, p in enumerate(policies) for j in range(5)])
    FailedTask.objects.bulk_create([
        FailedTask(execution=e, harbor_id=k, status="Failed", operation="copy", resource_type="image",
                   src_resource="library/app:v1", dst_resource="library/app:v1")
        for k, e in enumerate(executions) if e.failed])
    pairs = []
    for g in groups:
        pair = HAPair.objects.create(group=g, projects=["library", "payments-prod"], status="set_up", checked_at=at,
                                     consistent=False, missing_count=3, project_counts={"library": {}})
        members = list(g.instances.all()) if hasattr(g, "instances") else []
        for inst in members:
            PairSide.objects.create(pair=pair, instance=inst, robot_name="robot$ha-pair", registry_id=1, policy_id=1)
        if len(members) == 2:
            MissingArtifact.objects.bulk_create([
                MissingArtifact(pair=pair, missing_on=members[0], present_on=members[1], project="library",
                                repository=f"library/app-{j}", digest=f"sha256:{j:064x}", kind="artifact")
                for j in range(3)])
        pairs.append(pair)
    return {"replication policies": len(policies), "executions": len(executions), "HA pairs": len(pairs)}


def _seed_maintenance(n: int, hosts: list[Any], instances: list[Any], at: dt.datetime) -> dict[str, int]:
    from harborops.core.models import JobRun
    from harborops.maintenance.models import (
        CleanupItem,
        CleanupPlan,
        CleanupScan,
        GCPolicy,
        GCStep,
        InstanceGC,
        OfflineTarget,
        ProjectUsage,
        RepositoryUsage,
        UntaggedArtifact,
    )
    from harborops.maintenance.services import runs

    policies = [GCPolicy.objects.create(name=f"gc-{k}", harbor_cron="0 0 3 * * 6", targets="all")
                for k in range(max(2, n // 20))]
    gc_jobs = JobRun.objects.bulk_create([
        JobRun(kind=runs.KIND, status="succeeded", actor_name="system", created_at=at - dt.timedelta(days=k),
               finished_at=at - dt.timedelta(days=k)) for k in range(max(2, n // 10))])
    steps = GCStep.objects.bulk_create([
        GCStep(job=gc_jobs[k % len(gc_jobs)], policy=policies[k % len(policies)],
               instance=instances[k % len(instances)], instance_name=instances[k % len(instances)].name,
               position=k, status="succeeded",
               started_at=at - dt.timedelta(hours=k), finished_at=at - dt.timedelta(hours=k),
               freed_bytes=10**9, estimated_bytes=10**9, free_before=10**11, free_after=10**11 + 10**9)
        for k in range(n * 3)])
    InstanceGC.objects.bulk_create([
        InstanceGC(instance=i, checked_at=at, schedule_type="Weekly", schedule_cron="0 0 3 * * 6",
                   last_run_id=k, last_run_status="Success", last_run_start=at - dt.timedelta(days=1),
                   last_run_end=at - dt.timedelta(days=1), last_success_at=at - dt.timedelta(days=1))
        for k, i in enumerate(instances)])
    OfflineTarget.objects.bulk_create([
        OfflineTarget(name=f"registry-{k}", host=h, stop_mode="compose", compose_dir="/opt/registry",
                      config_path="/etc/registry/config.yml", storage_dir="/var/lib/registry",
                      registry_url=f"http://10.2.0.{k}:5000") for k, h in enumerate(hosts[: max(2, n // 20)])])
    CleanupScan.objects.bulk_create([CleanupScan(instance=i, scanned_at=at, projects=40, repositories=400,
                                                 artifacts=4000) for i in instances])
    ProjectUsage.objects.bulk_create([
        ProjectUsage(instance=instances[k % len(instances)], project_id=k, name=f"project-{k}", quota_hard=10**11,
                     quota_used=10**10, repositories=10, artifacts=100, untagged_count=5, untagged_bytes=10**8,
                     collected_at=at) for k in range(n * 3)])
    RepositoryUsage.objects.bulk_create([
        RepositoryUsage(instance=instances[k % len(instances)], project_name=f"project-{k % 40}",
                        name=f"project-{k % 40}/repo-{k}", artifacts=10, untagged=2, size_bytes=10**9,
                        pull_count=k * 3, last_pull=at, last_push=at, created=at, collected_at=at)
        for k in range(n * 3)])
    UntaggedArtifact.objects.bulk_create([
        UntaggedArtifact(instance=instances[k % len(instances)], project_name=f"project-{k % 40}",
                         repository=f"project-{k % 40}/repo-{k}", digest=f"sha256:{k:064x}", size=10**7,
                         push_time=at, collected_at=at) for k in range(n * 3)])
    plans = [CleanupPlan.objects.create(status="done", actor_name="anna.berg") for _ in range(max(2, n // 20))]
    CleanupItem.objects.bulk_create([
        CleanupItem(plan=plans[k % len(plans)], instance=instances[k % len(instances)],
                    instance_name=instances[k % len(instances)].name, kind="repository",
                    repository=f"project-{k % 40}/repo-{k}", check_state="present", result="deleted")
        for k in range(n)])
    return {"GC policies": len(policies), "GC steps": len(steps), "clean-up plans": len(plans)}


def _seed_alerts(n: int, instances: list[Any], at: dt.datetime, admin: Any) -> dict[str, int]:
    from harborops.alerts.models import Alert, Channel, InstanceAvailability, Notification, Route, Silence

    alerts = Alert.objects.bulk_create([
        Alert(condition=("fleet.instance_down", "certificates.expiring")[k % 2],
              subject=f"instance:{instances[k % len(instances)].pk}:{k}", severity=("critical", "warning")[k % 2],
              summary=f"{instances[k % len(instances)].name} is down", instance=instances[k % len(instances)],
              instance_name=instances[k % len(instances)].name, state=("firing", "acknowledged", "resolved")[k % 3],
              first_seen=at - dt.timedelta(hours=k), last_seen=at) for k in range(n)])
    Silence.objects.bulk_create([
        Silence(condition="fleet.*", instance=instances[k % len(instances)], starts_at=at - dt.timedelta(hours=1),
                ends_at=at + dt.timedelta(hours=k + 1), reason="maintenance window", author_name="anna.berg")
        for k in range(max(2, n // 10))])
    channels = Channel.objects.bulk_create([
        Channel(name=f"channel-{k}", kind="email", email_to=f"ops-{k}@example.org") for k in range(max(2, n // 30))])
    routes = Route.objects.bulk_create([Route(name=f"route-{k}", position=k, is_default=k == 0)
                                        for k in range(max(2, n // 30))])
    for k, r in enumerate(routes):
        r.channels.add(channels[k % len(channels)])
    InstanceAvailability.objects.bulk_create([InstanceAvailability(instance=i, state="up", since=at, last_probe_at=at)
                                              for i in instances])
    Notification.objects.bulk_create([
        Notification(channel=channels[k % len(channels)], route_name=routes[0].name, kind="firing", status="sent",
                     next_attempt_at=at, created_at=at - dt.timedelta(minutes=k), sent_at=at) for k in range(n)])
    del admin
    return {"alerts": len(alerts), "alert channels": len(channels)}


def seed(size: Size, rng: random.Random) -> dict[str, Any]:
    """Fill the database; returns seconds and rows per table."""
    from django.contrib.auth.models import User
    from django.utils.timezone import now

    from harborops.core.roles import ADMIN, set_role
    from harborops.events.models import HarborEvent
    from harborops.fleet.models import HealthSnapshot

    at = now()
    times: dict[str, tuple[float, int]] = {}

    def step(name: str, fn: Callable[[], int]) -> None:
        t0 = time.perf_counter()
        rows = fn()
        times[name] = (time.perf_counter() - t0, rows)
        log(f"seeded {name}: {rows:,} rows in {times[name][0]:.1f} s")

    admin, _ = User.objects.get_or_create(username="bench-admin")
    set_role(admin, ADMIN)
    instances: list[Any] = []

    def do_instances() -> int:
        instances.extend(seed_instances(size, rng, at))
        return len(instances)

    step("instances (+ HA groups)", do_instances)
    step("health snapshots (COPY)", lambda: copy_text(
        HealthSnapshot._meta.db_table, ("instance_id", "taken_at", "status", "latency_ms", "version", "components",
                                        "storage_total", "storage_free", "statistics", "job_queues", "error_kind",
                                        "error"), snapshot_chunks(instances, size.snapshots, rng, at)))
    step("Harbor events (COPY, indexes rebuilt)", lambda: copy_text(
        HarborEvent._meta.db_table, EVENT_COLUMNS, event_chunks(instances, size.events, rng, at)))

    def do_state() -> int:
        seed_events_state(instances, at)
        times["recount"] = (0.0, 0)
        t0 = time.perf_counter()
        how = recount_figures()
        log(f"event figures: {how} in {time.perf_counter() - t0:.1f} s")
        return len(instances)

    step("ingest state, cursors (+ figures recount)", do_state)
    del times["recount"]
    jobs: list[int] = []

    def do_jobs() -> int:
        n_jobs, n_lines = seed_jobs(size, rng, at)
        jobs.append(n_lines)
        return n_jobs

    step("jobs (COPY)", do_jobs)
    times["job log lines (COPY, in the step above)"] = (0.0, jobs[0])
    step("action log (COPY)", lambda: seed_actions(size, rng, at, instances))
    step("team mappings", lambda: (seed_mappings(size, instances, at), size.mappings)[1])
    others: dict[str, int] = {}
    step("other apps", lambda: (others.update(seed_others(size, instances, rng, at)), sum(others.values()))[1])
    from django.db import connection

    with connection.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("ANALYZE")
        times["ANALYZE (all)"] = (time.perf_counter() - t0, 0)
    return {"tables": {k: {"seconds": s, "rows": r} for k, (s, r) in times.items()}, "others": others}


# --- pages --------------------------------------------------------------------------------------------

@dataclass
class Route:
    name: str
    pattern: str
    kwargs: tuple[str, ...]


def routes() -> list[Route]:
    from django.urls import URLPattern, URLResolver, get_resolver

    out: list[Route] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, ns: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), f"{ns}{p.namespace}:" if p.namespace else ns)
            elif p.name:
                pat = p.pattern
                names = tuple(getattr(pat, "converters", {}) or pat.regex.groupindex)
                out.append(Route(ns + p.name, prefix + str(pat), names))

    walk(get_resolver().url_patterns, "", "")
    return out


# Which seeded object fills the ``pk`` of a route, by the longest matching route-name prefix.
PK_OF = {
    "core:job_": "job", "core-api:job-": "job", "core:token_revoke": "token", "core-api:token-": "token",
    "core:user_role": "user", "core:lockout_clear": "lockout", "core-api:login-lockout-": "lockout",
    "audit:actionlog_": "action", "audit-api:actionlog-": "action",
    "fleet:instance_": "instance", "fleet-api:instance-": "instance", "fleet:hagroup_": "hagroup",
    "fleet-api:hagroup-": "hagroup", "fleet-api:sweeprun-": "sweeprun",
    "events:event_detail": "event", "events-api:harbor-detail": "event", "events:instance_": "instance",
    "events-api:instance-": "instance",
    "ssh:host_": "ssh_host", "ssh-api:host-": "ssh_host",
    "installs:install_": "install", "installs-api:install-": "install", "installs-api:installer-": "installer",
    "access:mapping_": "mapping", "access-api:mapping-": "mapping", "access-api:drift-": "finding",
    "maintenance:policy_": "gcpolicy", "maintenance-api:policy-": "gcpolicy", "maintenance:run_steps": "gcjob",
    "maintenance-api:step-": "gcstep", "maintenance:cleanup_": "cleanupplan",
    "maintenance-api:cleanup-plan-": "cleanupplan", "maintenance:offline_": "offlinetarget",
    "maintenance-api:offline-target-": "offlinetarget",
    "certificates:endpoint_": "endpoint", "certificates-api:endpoint-": "endpoint",
    "certificates-api:certificate-": "certificate", "certificates:ca_": "ca", "certificates-api:ca-": "ca",
    "certificates:issued_": "issued", "certificates-api:issued-": "issued", "certificates:pulling_host_":
    "pulling_host", "certificates-api:pulling-host-": "pulling_host", "certificates:rotate": "instance",
    "certificates:renew": "instance", "certificates:deployment_detail": "deployment",
    "certificates-api:rotation-": "deployment", "certificates-api:disk-file-": "disk_file",
    "replication:policy_": "rpolicy", "replication-api:policy-": "rpolicy", "replication:execution_": "rexecution",
    "replication-api:execution-": "rexecution", "replication:task_": "rtask", "replication-api:task-": "rtask",
    "replication:pair_": "hagroup", "replication-api:pair-": "hagroup",
    "alerts:alert_": "alert", "alerts-api:alert-": "alert", "alerts:silence_": "silence",
    "alerts-api:silence-": "silence", "alerts:route_": "route", "alerts-api:route-": "route",
    "alerts:channel_": "channel", "alerts-api:channel-": "channel",
}
QUERY = {"events:resource_timeline": "?resource={resource}"}


def objects() -> dict[str, Any]:
    """The rows detail pages are asked for: the first of each kind, the busiest where it matters."""
    from django.contrib.auth.models import User
    from django.db.models import Count

    from harborops.access.models import DriftFinding, TeamMapping
    from harborops.alerts.models import Alert, Channel, Route, Silence
    from harborops.audit.models import ActionLogEntry
    from harborops.certificates.models import (
        Certificate,
        Deployment,
        DiskFile,
        Endpoint,
        IssuedCertificate,
        ManagedCA,
        PullingHost,
    )
    from harborops.core.models import ApiToken, JobLogLine, JobRun, LoginFailureCounter
    from harborops.events.models import HarborEvent
    from harborops.fleet.models import HAGroup, Instance, SweepRun
    from harborops.installs.models import Install, Installer
    from harborops.maintenance.models import CleanupPlan, GCPolicy, GCStep, OfflineTarget
    from harborops.maintenance.services import runs
    from harborops.replication.models import Execution, FailedTask, Policy
    from harborops.ssh.models import SSHHost

    def first(model: Any, **kw: Any) -> Any:
        return model.objects.filter(**kw).order_by("pk").values_list("pk", flat=True).first()

    viewer = User.objects.get(username="bench-viewer")
    job = JobLogLine.objects.order_by("-job_id").values_list("job_id", flat=True).first()  # newest, with a log
    instance = first(Instance)
    # the newest event of the first instance; its resource without the tag for the resource timeline
    event = HarborEvent.objects.filter(instance_id=instance).order_by("-op_time", "-id").values(
        "pk", "resource").first() or {}
    from django.utils.timezone import now

    lockout = first(LoginFailureCounter, locked_until__gt=now() + dt.timedelta(minutes=30))
    if lockout is None:  # a locked one: the API lists only those
        lockout = LoginFailureCounter.objects.update_or_create(
            kind="address", key="192.0.2.7", defaults={"failures": 5, "window_started_at": now(),
                                                       "last_failure_at": now(),
                                                       "locked_until": now() + dt.timedelta(days=365)})[0].pk
    token = ApiToken.objects.filter(user=viewer).values_list("pk", flat=True).first() or ApiToken.issue(
        viewer, "bench")[0].pk
    busiest = HAGroup.objects.annotate(n=Count("instances")).order_by("-n", "pk").values_list("pk", flat=True).first()
    return {
        "job": job or first(JobRun), "token": token, "user": viewer.pk, "lockout": lockout,
        "action": first(ActionLogEntry), "instance": instance, "hagroup": busiest, "sweeprun": first(SweepRun),
        "event": event.get("pk"), "username": "admin",  # the busiest user, by _people()'s weights
        "resource": str(event.get("resource", "")).split(":")[0],
        "ssh_host": first(SSHHost), "install": first(Install), "installer": first(Installer),
        "mapping": first(TeamMapping, targets="listed") or first(TeamMapping), "finding": first(DriftFinding),
        "gcpolicy": first(GCPolicy), "gcjob": first(JobRun, kind=runs.KIND), "gcstep": first(GCStep),
        "cleanupplan": first(CleanupPlan), "offlinetarget": first(OfflineTarget), "endpoint": first(Endpoint),
        "certificate": first(Certificate), "ca": first(ManagedCA), "issued": first(IssuedCertificate),
        "pulling_host": first(PullingHost), "deployment": first(Deployment), "disk_file": first(DiskFile),
        "rpolicy": first(Policy), "rexecution": first(Execution), "rtask": first(FailedTask),
        "alert": first(Alert), "silence": first(Silence), "route": first(Route), "channel": first(Channel),
    }


def url_of(route: Route, objs: dict[str, Any]) -> str | None:
    """The URL to ask for this route, or None if no seeded row fits its arguments."""
    from urllib.parse import quote

    from django.urls import reverse

    kwargs: dict[str, Any] = {}
    for kw in route.kwargs:
        if kw == "username":
            kwargs[kw] = objs["username"]
        elif kw == "fmt":
            kwargs[kw] = "csv"
        elif kw in ("pk", "job_pk"):
            key = max((p for p in PK_OF if route.name.startswith(p)), key=len, default=None)
            if key is None or objs.get(PK_OF[key]) is None:
                return None
            kwargs[kw] = objs[PK_OF[key]]
        else:
            return None
    url = reverse(route.name, kwargs=kwargs)
    extra = QUERY.get(route.name)
    if extra:
        url += extra.format(**{k: quote(str(v)) for k, v in objs.items()})
    return url


def clients() -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.test import Client

    from harborops.core.roles import ADMIN, VIEWER, set_role

    out = {}
    for role, name in ((VIEWER, "bench-viewer"), (ADMIN, "bench-admin")):
        user, _ = User.objects.get_or_create(username=name)
        set_role(user, role)
        client = Client(raise_request_exception=False)  # a page that fails is a 500 in the table
        client.force_login(user)
        out[role] = client
    return out


def measure(client: Any, url: str, requests: int, budget: float) -> dict[str, Any]:
    """2 warm-ups, ``requests`` timed requests (fewer, but at least 5, once ``budget`` seconds are
    spent: a page of several seconds says what it has to say in 5), one more for the queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    statuses: Counter[int] = Counter()
    for _ in range(2):
        statuses[client.get(url).status_code] += 1
    times: list[float] = []
    for _ in range(requests):
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append(time.perf_counter() - t0)
        statuses[resp.status_code] += 1
        if sum(times) > budget and len(times) >= 5:
            break
    with CaptureQueriesContext(connection) as captured:
        resp = client.get(url)
    statuses[resp.status_code] += 1
    s = sorted(times) or [0.0]
    queries = [{"sql": q["sql"], "ms": 1000 * float(q["time"])} for q in captured.captured_queries]
    return {"sql_ms": sum(q["ms"] for q in queries), "median_ms": 1000 * statistics.median(s),
            "p95_ms": 1000 * s[min(len(s) - 1, int(len(s) * 0.95))],
            "n": len(times), "queries": len(queries), "sql": queries, "status": dict(statuses),
            "bytes": len(resp.content)}


def measure_pages(requests: int, only: list[str] | None, budget: float) -> dict[str, Any]:
    from harborops.core.roles import ADMIN, VIEWER

    cl = clients()
    objs = objects()
    # As a web worker does after loading the app (harborops/gunicorn_conf.py post_worker_init): the imports
    # go to the collector's permanent generation, so a full collection scans only what requests allocate.
    gc.collect()
    gc.freeze()
    pages, skipped = [], []
    for route in sorted(routes(), key=lambda r: r.name):
        if only and not any(re.search(o, route.name) for o in only):
            continue
        reason = ("reads the Harbors / LDAP live" if route.name in LIVE else
                  "file download or export, not a page" if route.name in DOWNLOADS else
                  "no data behind it (login/logout/liveness)" if route.name in NOT_PAGES else "")
        url = None if reason else url_of(route, objs)
        if not reason and url is None:
            reason = f"no seeded row for {route.kwargs}"
        if reason:
            skipped.append({"route": route.name, "reason": reason})
            continue
        assert url is not None
        role = VIEWER
        status = cl[VIEWER].get(url).status_code
        if status == 405:
            skipped.append({"route": route.name, "reason": "POST only (GET is 405)"})
            continue
        if status == 403:
            role = ADMIN
            status = cl[ADMIN].get(url).status_code
            if status == 405:
                skipped.append({"route": route.name, "reason": "POST only (GET is 405)"})
                continue
        result = measure(cl[role], url, requests, budget)
        result.update(route=route.name, url=url, role=role)
        pages.append(result)
        log(f"{route.name:45} {result['median_ms']:8.1f} ms p95 {result['p95_ms']:8.1f}  "
            f"{result['queries']:3} queries  {result['status']}  as {role}")
    return {"pages": pages, "skipped": skipped}


def explain_slowest(page: dict[str, Any], top: int = 3) -> list[dict[str, Any]]:
    from django.db import connection

    out = []
    for q in sorted(page["sql"], key=lambda q: -q["ms"])[:top]:
        sql = q["sql"]
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            out.append({"sql": sql, "ms": q["ms"], "plan": "(not a SELECT: not explained)"})
            continue
        with connection.cursor() as cur:
            try:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(r[0] for r in cur.fetchall())
            except Exception as exc:  # a query Django printed with literals it cannot re-run
                plan = f"(EXPLAIN failed: {exc})"
        out.append({"sql": sql, "ms": q["ms"], "plan": plan})
    return out


def normalise(sql: str) -> str:
    """overview.py's normalisation, and server-side cursors (``.iterator()``) without their serial name."""
    return _normalise(re.sub(r'"_django_curs_\w+"', '"_django_curs"', sql))


def growing(small: list[dict[str, Any]], full: list[dict[str, Any]]) -> list[str]:
    """Normalised queries run more often at full size than at small."""
    a = Counter(normalise(q["sql"]) for q in small)
    b = Counter(normalise(q["sql"]) for q in full)
    return [f"{b[q]}× vs {a[q]}×: {q[:240]}" for q in b if b[q] > a[q]]


# --- run ----------------------------------------------------------------------------------------------

def table_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN ('events_harborevent', "
                    "'fleet_healthsnapshot', 'fleet_instance', 'core_jobrun', 'core_joblogline', "
                    "'audit_actionlogentry', 'access_teammapping') ORDER BY relname")
        return {r[0]: int(r[1]) for r in cur.fetchall()}


def compare_run(args: argparse.Namespace) -> dict[str, Any] | None:
    """This script again at ``--compare-size`` in a child process (a database of its own), for query counts."""
    if args.compare_size == "none":
        return None
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [sys.executable, __file__, "--size", args.compare_size, "--compare-size", "none", "--requests",
           str(args.compare_requests), "--server", args.server, "--json", str(out), "--quiet"]
    for o in args.only or []:
        cmd += ["--only", o]
    log(f"compare run: {' '.join(cmd[1:])}")
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    data: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return data


def run(args: argparse.Namespace, url: str, fresh: bool) -> dict[str, Any]:
    from django.db import connection

    size = SIZES[args.size]
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0], "python": platform.python_version()},
        "size": args.size, "sizes": {k: asdict(v) for k, v in SIZES.items()}, "database": url.rsplit("/", 1)[1],
        "requests": args.requests, "compare_size": args.compare_size}
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        results["machine"]["postgres"] = cur.fetchone()[0].split(" on ")[0]
    _nice_backend()
    if fresh:
        t0 = time.perf_counter()
        results["seed"] = seed(size, random.Random(42))
        results["seed"]["total_seconds"] = time.perf_counter() - t0
    else:
        results["seed"] = None
    results["rows"] = table_counts()
    if args.seed_only:
        return results
    results.update(measure_pages(args.requests, args.only, args.budget))
    results["compare"] = compare_run(args)
    if results["compare"]:
        other = {p["route"]: p for p in results["compare"]["pages"]}
        for p in results["pages"]:
            o = other.get(p["route"])
            p["queries_small"] = o["queries"] if o else None
            p["growing"] = growing(o["sql"], p["sql"]) if o and o["queries"] != p["queries"] else []
    for p in results["pages"]:
        p["p95_met"] = p["p95_ms"] <= GOAL_P95_MS
        p["counts_met"] = p.get("queries_small") in (None, p["queries"])
        p["met"] = p["p95_met"] and p["counts_met"] and p.get("queries_small") is not None and set(
            p["status"]) <= {200, 302}
        p["explain"] = explain_slowest(p) if args.explain and not p["met"] else []
    results["machine"]["load_after"] = os.getloadavg()[0]
    return results


def markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    size = r["sizes"][r["size"]]
    out = [f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['postgres']}; load average {m['load_before']:.2f} "
           f"before / {m.get('load_after', 0):.2f} after. Database `{r['database']}` at size `{r['size']}`: "
           f"{size['instances']:,} instances, {size['instances'] * size['snapshots']:,} snapshots, "
           f"{size['events']:,} events, {size['jobs']:,} jobs, {size['actions']:,} action-log entries, "
           f"{size['mappings']:,} team mappings, {size['others']} rows per other table."]
    out += ["", "Rows in the database (pg_stat_user_tables estimates): "
            + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()) + "."]
    if r.get("seed"):
        out += ["", f"Seeding: {r['seed']['total_seconds']:.0f} s in all.", "", "| table | rows | seconds |",
                "|---|---:|---:|"]
        out += [f"| {k} | {v['rows']:,} | {v['seconds']:.1f} |" for k, v in r["seed"]["tables"].items()]
    if "pages" not in r:
        return "\n".join(out) + "\n"
    compare = r.get("compare_size") if r.get("compare") else None
    out += ["", f"{len(r['pages'])} pages, each {r['requests']} requests after 2 warm-ups (server time through "
            f"`django.test.Client`); queries counted on one more request"
            + (f", at `{compare}` and at `{r['size']}`." if compare else "."), "",
            "*SQL ms*: the time of that request's queries as Django measured them (the rest of the server time is "
            "Python: view, template, serializer).", "",
            f"| page | as | median ms | p95 ms | SQL ms | queries ({compare or '–'} / {r['size']}) | status | goal |",
            "|---|---|---:|---:|---:|---:|---|---|"]
    for p in sorted(r["pages"], key=lambda p: -p["p95_ms"]):
        small = p.get("queries_small")
        counts = f"{small if small is not None else '–'} / {p['queries']}"
        why = [] if p["p95_met"] else ["p95"]
        why += [] if p["counts_met"] else ["query count differs"]
        why += [] if set(p["status"]) <= {200, 302} else ["status"]
        why += [] if small is not None or not compare else ["not at small"]
        goal = "met" if p["met"] else ("missed: " + ", ".join(why)) if why else "–"
        status = ", ".join(f"{k}" for k in sorted(p["status"]))
        fewer = f" ({p['n']} req.)" if p.get("n", r["requests"]) < r["requests"] else ""
        out.append(f"| `{p['url']}` | {p['role']} | {p['median_ms']:.1f}{fewer} | {p['p95_ms']:.1f} | "
                   f"{p.get('sql_ms', 0):.0f} | {counts} | {status} | {goal} |")
    reasons: dict[str, list[str]] = {}
    for sk in r["skipped"]:
        reasons.setdefault(sk["reason"], []).append(sk["route"])
    out += ["", "Not measured:", ""] + [f"- {why} ({len(names)}): " + ", ".join(f"`{n}`" for n in names)
                                        for why, names in reasons.items()]
    grow = [p for p in r["pages"] if p.get("growing")]
    if grow:
        out += ["", "Pages whose query count differs between the sizes, and the queries run more often:", ""]
        for p in grow:
            out += [f"- `{p['url']}`:"] + [f"  - {g}" for g in p["growing"]]
    for p in r["pages"]:
        if p.get("explain"):
            out += ["", f"### `{p['url']}` ({p['p95_ms']:.0f} ms p95, {p['queries']} queries): slowest queries", ""]
            if sum(e["ms"] for e in p["explain"]) < 0.1 * p["median_ms"]:
                slowest = ", ".join(f"{e['ms']:.0f}" for e in p["explain"])
                out += [f"Its slowest queries take {slowest} ms of {p['median_ms']:.0f} ms: the time is not in SQL "
                        "(plans in the JSON)."]
                continue
            for e in p["explain"]:
                plan = "\n".join(e["plan"].splitlines()[:60])
                out += [f"{e['ms']:.1f} ms:", "```sql", e["sql"][:1500], "```", "```", plan, "```"]
    return "\n".join(out) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--compare-size", choices=[*sorted(SIZES), "none"], default=None,
                   help="also count queries at this size (child process); default small, none at small or less")
    p.add_argument("--requests", type=int, default=30, help="timed requests per page")
    p.add_argument("--budget", type=float, default=60.0,
                   help="seconds of timed requests per page after which it stops (at least 5 requests)")
    p.add_argument("--compare-requests", type=int, default=3, help="timed requests per page in the compare run")
    p.add_argument("--server", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER),
                   help="PostgreSQL server URL (no database) whose user may CREATE DATABASE")
    p.add_argument("--keep", action="store_true", help="keep the database (named by --name)")
    p.add_argument("--name", default="", help="database name (default harborops_pages_bench_<pid>)")
    p.add_argument("--reuse", metavar="NAME", help="measure an existing (kept) database: no seeding")
    p.add_argument("--seed-only", action="store_true", help="seed and stop (with --keep: measure later with --reuse)")
    p.add_argument("--only", action="append", help="measure only routes matching this regex (repeatable)")
    p.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the 3 slowest queries of each miss")
    p.add_argument("--json", type=Path, help="write the raw results here")
    p.add_argument("--quiet", action="store_true", help="no per-page progress on stderr")
    args = p.parse_args(argv)
    if args.compare_size is None:
        args.compare_size = "small" if args.size == "full" else "none"
    args.server = args.server.rstrip("/")
    if args.server.count("/") > 2:  # a URL with a database: the server is everything before it
        args.server = args.server.rsplit("/", 1)[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.quiet:
        globals()["log"] = lambda msg: None
    with contextlib.suppress(OSError):
        os.nice(10)  # the seeding and the pages share 2 CPUs with everyone else
    name = args.reuse or args.name or f"harborops_pages_bench_{os.getpid()}"
    url = f"{args.server}/{name}"
    # The same secret key for the same database name: a kept database's encrypted columns (instance
    # passwords, keys) still decrypt on --reuse. A throwaway key for throwaway bench data.
    derived = base64.urlsafe_b64encode(hashlib.sha256(f"harborops-bench-{name}".encode()).digest()).decode()
    os.environ.setdefault("HARBOROPS_SECRET_KEYS", derived)
    fresh = not args.reuse
    if fresh:
        create_database(url)
    try:
        with tempfile.TemporaryDirectory(prefix="harborops-bench-") as data_dir:
            setup_django(url, data_dir)  # migrate: on --reuse, applies migrations added since
            import logging

            logging.getLogger("django.request").setLevel(logging.ERROR)  # the 403/405 probes are expected
            if not fresh:
                from harborops.events.models import IngestState

                if not IngestState.objects.filter(stored_events__gt=0).exists():
                    log(f"event figures: {recount_figures()}")
            results = run(args, url, fresh)
    finally:
        if fresh and not args.keep:
            drop_database(url)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    sys.stdout.write(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
