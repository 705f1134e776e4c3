"""The health sweep: poll many instances at once (async), then store what was seen (sync, in bulk).

    probes = asyncio.run(sweep_instances(instances, timeout=10))
    result = record_probes(probes)

The async half never touches the database, the sync half never touches the network, so a sweep
chunk is: load rows, ``asyncio.run``, write rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
from django.conf import settings
from django.db import transaction
from django.utils.timezone import now

from harborops.fleet.models import HealthSnapshot, Instance, StatusChange, SweepRun
from harborops.fleet.services import bulk_sql
from harborops.harbor import aio
from harborops.harbor import errors as e

logger = logging.getLogger(__name__)

__all__ = (
    "DEFAULT_TIMEOUT",
    "Probe",
    "SweepResult",
    "classify",
    "probe_instance",
    "purge_snapshots",
    "record_probes",
    "sweep_ids",
    "sweep_instances",
)

DEFAULT_TIMEOUT = 10.0
Status = Instance.Status
ErrorKind = Instance.ErrorKind

# Error kinds for which the instance did not give a usable answer at all: it counts as down.
# The others (auth, forbidden, unsupported version, our own bug) say nothing about its health.
DOWN_KINDS = frozenset({ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT, ErrorKind.TLS, ErrorKind.SERVER_ERROR,
                        ErrorKind.BAD_RESPONSE})


@dataclass
class Probe:
    """What polling one instance found. Plain data: made in the event loop, stored by the writer."""

    instance_id: int
    taken_at: dt.datetime
    status: str = Status.UNKNOWN
    latency_ms: int | None = None
    version: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    storage_total: int | None = None
    storage_free: int | None = None
    statistics: dict[str, Any] = field(default_factory=dict)
    job_queues: list[dict[str, Any]] | None = None
    error_kind: str = ErrorKind.NONE
    error: str = ""

    @property
    def unhealthy_components(self) -> list[str]:
        return sorted(c.get("name", "?") for c in self.components if c.get("status") != "healthy")

    def reason(self) -> str:
        if self.error_kind:
            return f"{self.error_kind}: {self.error}"
        if self.unhealthy_components:
            return "unhealthy components: " + ", ".join(self.unhealthy_components)
        return "healthy"


@dataclass
class SweepResult:
    swept: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    transitions: int = 0
    skipped_stale: int = 0
    poll_seconds: float = 0.0  # wall time of the polling (sweep_ids)
    record_seconds: float = 0.0  # wall time of record_probes

    def summary(self) -> str:
        parts = ", ".join(f"{self.counts[s]} {s}" for s in Status.values if self.counts[s])
        return f"{self.swept} instances swept ({parts or 'none'}); {self.transitions} status changes"


def classify(exc: BaseException) -> tuple[str, str]:
    """(error kind, message) for a failure while polling. Messages of HarborError are scrubbed."""
    if isinstance(exc, e.UnsupportedVersion):
        return ErrorKind.UNSUPPORTED_VERSION, exc.message
    if isinstance(exc, e.Timeout | TimeoutError):
        return ErrorKind.TIMEOUT, str(exc) or "no answer in time"
    if isinstance(exc, e.TLSError):
        return ErrorKind.TLS, str(exc)
    if isinstance(exc, e.Unreachable):
        return ErrorKind.UNREACHABLE, str(exc)
    if isinstance(exc, e.AuthFailed):
        return ErrorKind.AUTH, str(exc)
    if isinstance(exc, e.Forbidden):
        return ErrorKind.FORBIDDEN, str(exc)
    if isinstance(exc, e.ServerError):
        return ErrorKind.SERVER_ERROR, str(exc)
    if isinstance(exc, e.HarborError):
        # BadResponse, NotFound (no Harbor API there), ValidationFailed...: not what Harbor answers.
        return ErrorKind.BAD_RESPONSE, str(exc)
    return ErrorKind.INTERNAL, e.scrub(f"{type(exc).__name__}: {exc}")


async def _optional(awaitable: Any, what: str, notes: list[str]) -> Any:
    """Extras a robot account may lack permission for: a 403 there does not fail the probe."""
    try:
        return await awaitable
    except e.Forbidden:
        notes.append(f"{what}: permission denied")
        return None


async def probe_instance(instance: Instance, *, timeout: float = DEFAULT_TIMEOUT,
                         transport: httpx.AsyncBaseTransport | None = None,
                         session: aiohttp.ClientSession | None = None) -> Probe:
    """Poll one instance; never raises. No retries: a dead instance costs one timeout.

    1. GET /health (always HTTP 200: the body says healthy/unhealthy per component); its time is
       the latency.
    2. GET /systeminfo, authenticated: the version (an unsupported one ends the probe).
    3. GET /systeminfo/volumes and /statistics; /jobservice/queues where the version has it.
    ``session``: the chunk's shared aiohttp session (the instance's own TLS context goes with each
    request). The whole probe is bounded by 2 x ``timeout``: a server trickling its body byte by byte
    never trips a read timeout on its own.
    """
    probe = Probe(instance_id=instance.pk, taken_at=now())
    notes: list[str] = []
    t0 = time.monotonic()
    try:
        async with asyncio.timeout(timeout * 2):
            async with instance.async_client(transport=transport, session=session, timeout=timeout) as h:
                health = await h.health()
                probe.latency_ms = round((time.monotonic() - t0) * 1000)
                if not health.status:
                    raise e.BadResponse("GET /health answered without a status: not a Harbor API?")
                probe.components = [c.model_dump(exclude_none=True, include={"name", "status", "error"})
                                    for c in health.components]
                caps = await h.detect_version()
                probe.version = caps.version.raw or str(caps.version)
                volumes = await _optional(h.volumes(), "volumes", notes)
                if volumes is not None and volumes.storage:
                    probe.storage_total = sum(s.total for s in volumes.storage)
                    probe.storage_free = sum(s.free for s in volumes.storage)
                stats = await _optional(h.statistics(), "statistics", notes)
                if stats is not None:
                    probe.statistics = stats.model_dump(include=set(type(stats).model_fields))
                if caps.jobservice:
                    queues = await _optional(h.list_job_queues(), "job queues", notes)
                    if queues is not None:
                        probe.job_queues = [q.model_dump(include={"job_type", "count", "latency", "paused"})
                                            for q in queues]
        probe.status = Status.UP if health.healthy else Status.DEGRADED
        probe.error = "; ".join(notes)
    except Exception as exc:
        probe.error_kind, probe.error = classify(exc)
        probe.status = Status.DOWN if probe.error_kind in DOWN_KINDS else Status.UNKNOWN
        if probe.error_kind == ErrorKind.INTERNAL:
            logger.exception("sweep: probing instance %s crashed", instance.pk)
    probe.error = probe.error[:2000]
    return probe


async def sweep_instances(instances: Sequence[Instance], *, concurrency: int = 100,
                          timeout: float = DEFAULT_TIMEOUT,
                          transport: httpx.AsyncBaseTransport | None = None) -> list[Probe]:
    """Probe every instance, at most ``concurrency`` at a time; one Probe per instance, in order.

    ``transport`` replaces the network for tests (one simulator transport serves a whole fleet);
    without it the instances share one aiohttp session (one connection pool, keyed by host, port
    and each instance's TLS context), closed when the chunk is done.
    """
    session = aio.new_session(limit=max(1, concurrency)) if transport is None else None
    probes: list[Probe | None] = [None] * len(instances)
    todo = iter(enumerate(instances))

    # ``concurrency`` workers pulling from one iterator, not a task per instance behind a semaphore:
    # 5,000 pending coroutines cost memory and garbage-collector passes for nothing.
    async def worker() -> None:
        for k, instance in todo:
            probes[k] = await probe_instance(instance, timeout=timeout, transport=transport, session=session)

    try:
        await asyncio.gather(*(worker() for _ in range(min(max(1, concurrency), len(instances)))))
        return [p for p in probes if p is not None]
    finally:
        if session is not None:
            await session.close()


def record_probes(probes: Iterable[Probe]) -> SweepResult:
    """Store a sweep's probes in batches of RECORD_BATCH (see :func:`_record_batch`): memory stays that
    of one batch however big the chunk, and each batch is one short transaction."""
    probes = list(probes)
    result = SweepResult()
    for start in range(0, len(probes), RECORD_BATCH):
        part = _record_batch(probes[start:start + RECORD_BATCH])
        result.swept += part.swept
        result.counts.update(part.counts)
        result.skipped_stale += part.skipped_stale
        result.transitions += part.transitions
    return result


def _record_batch(probes: list[Probe]) -> SweepResult:
    """Store snapshots, update each instance's current state, record status transitions.

    Snapshots go in with one bulk insert and the current state with one ``UPDATE … FROM (VALUES …)``
    (:mod:`bulk_sql`; not ``bulk_update``'s CASE WHEN, which grows with the square of the batch). A status
    transition is claimed with a conditional UPDATE (STYLE G8), so when two sweeps of the same
    instance overlap (scheduled + "sweep now") the transition is recorded once. A probe older
    than the instance's last sweep still gets its snapshot but does not touch the current state.
    """
    result = SweepResult()
    if not probes:
        return result
    current = {i.pk: i for i in Instance.objects.filter(pk__in=[p.instance_id for p in probes])}
    snapshots: list[HealthSnapshot] = []
    changes: list[StatusChange] = []
    steady: list[Instance] = []
    with transaction.atomic():
        for p in probes:
            inst = current.get(p.instance_id)
            if inst is None:  # deleted while we polled
                continue
            result.swept += 1
            result.counts[p.status] += 1
            snapshots.append(HealthSnapshot(
                instance_id=inst.pk, taken_at=p.taken_at, status=p.status, latency_ms=p.latency_ms,
                version=p.version, components=p.components, storage_total=p.storage_total,
                storage_free=p.storage_free, statistics=p.statistics, job_queues=p.job_queues,
                error_kind=p.error_kind, error=p.error))
            if inst.last_swept_at is not None and inst.last_swept_at > p.taken_at:
                result.skipped_stale += 1
                continue
            values = _state_values(inst, p)
            if inst.status == p.status:
                for name, value in values.items():
                    setattr(inst, name, value)
                steady.append(inst)
                continue
            claimed = Instance.objects.filter(pk=inst.pk, status=inst.status).update(
                status=p.status, status_since=p.taken_at, **values)
            if claimed == 1:
                changes.append(StatusChange(instance_id=inst.pk, at=p.taken_at, from_status=inst.status,
                                            to_status=p.status, reason=p.reason()[:2000]))
        HealthSnapshot.objects.bulk_create(snapshots)
        StatusChange.objects.bulk_create(changes)
        if steady:
            bulk_sql.update_from_values(steady, STATE_FIELDS)
    result.transitions = len(changes)
    # Debounced availability for alerting (hysteresis over consecutive sweeps; alerts app).
    from harborops.alerts.services.availability import record_sweep

    record_sweep(p for p in probes if p.instance_id in current)
    return result


RECORD_BATCH = 500
STATE_FIELDS = ("last_seen_at", "last_swept_at", "version", "latency_ms", "storage_total", "storage_free",
                "unhealthy_components", "statistics", "error_kind", "error_message")


def _state_values(inst: Instance, p: Probe) -> dict[str, Any]:
    answered = p.status in (Status.UP, Status.DEGRADED)
    return {
        "last_seen_at": p.taken_at if answered else inst.last_seen_at,
        "last_swept_at": p.taken_at,
        # Keep what we last knew when the instance could not tell us (down, wrong credentials).
        "version": p.version or inst.version,
        "latency_ms": p.latency_ms,
        "storage_total": p.storage_total if p.storage_total is not None else inst.storage_total,
        "storage_free": p.storage_free if p.storage_free is not None else inst.storage_free,
        "unhealthy_components": p.unhealthy_components,
        "statistics": p.statistics or inst.statistics,
        "error_kind": p.error_kind,
        "error_message": p.error,
    }


def sweep_ids(instance_ids: Sequence[int], *, timeout: float | None = None,
              concurrency: int | None = None) -> SweepResult:
    """Sweep the enabled instances among ``instance_ids`` and store the results (sync entry point)."""
    instances = list(Instance.objects.filter(pk__in=list(instance_ids), enabled=True))
    if not instances:
        return SweepResult()
    t0 = time.monotonic()
    probes = asyncio.run(sweep_instances(
        instances,
        concurrency=concurrency or settings.FLEET_SWEEP_CONCURRENCY,
        timeout=timeout or float(settings.FLEET_SWEEP_TIMEOUT)))
    del instances  # record_probes reloads each batch's rows: do not hold the whole chunk's twice
    t1 = time.monotonic()
    result = record_probes(probes)
    result.poll_seconds, result.record_seconds = t1 - t0, time.monotonic() - t1
    return result


def purge_snapshots(*, days: int | None = None, at: dt.datetime | None = None) -> int:
    """Delete snapshots older than the retention (HARBOROPS_SNAPSHOT_RETENTION_DAYS, default 14),
    and the per-minute sweep summary rows of the same age; status changes are kept (history)."""
    keep = days if days is not None else settings.FLEET_SNAPSHOT_RETENTION_DAYS
    cutoff = (at or now()) - dt.timedelta(days=keep)
    deleted, _ = HealthSnapshot.objects.filter(taken_at__lt=cutoff).delete()
    SweepRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted
