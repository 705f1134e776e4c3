"""Celery tasks and the job kind of the fleet: thin, ids in, a summary string out (STYLE G7).

The sweep never retries (a dead instance must cost one timeout, not three): no autoretry here.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.jobs import JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance, SweepRun
from harborops.fleet.services import sweep

logger = logging.getLogger(__name__)

CHUNK_EXPIRES = 50  # seconds: a chunk not started before the next minute's sweep is dropped


def chunk_size() -> int:
    return max(1, settings.FLEET_SWEEP_CHUNK)


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@shared_task(acks_late=True, name="harborops.fleet.tasks.sweep_fleet", queue="periodic")
def sweep_fleet() -> str:
    """Fan out: one ``sweep_chunk`` per HARBOROPS_SWEEP_CHUNK enabled instances, one SweepRun row."""
    ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    chunks = chunked(ids, chunk_size())
    run = SweepRun.objects.create(started_at=now(), instances=len(ids), chunks_total=len(chunks),
                                  finished_at=None if chunks else now())
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: sweep_chunk.apply_async(  # type: ignore[misc]
            args=(chunk, run.pk), queue="periodic", expires=CHUNK_EXPIRES))
    return f"{len(ids)} instances in {len(chunks)} chunks (sweep run {run.pk})"


@shared_task(acks_late=True, name="harborops.fleet.tasks.sweep_chunk", queue="periodic")
def sweep_chunk(instance_ids: list[int], run_id: int | None = None) -> str:
    """Poll these instances concurrently (asyncio) and store what was seen."""
    result = sweep.sweep_ids(instance_ids)
    if run_id is not None:
        sweep.add_to_sweep_run(run_id, result)
    return result.summary()


@shared_task(acks_late=True, name="harborops.fleet.tasks.purge_snapshots", queue="periodic")
def purge_snapshots() -> str:
    return f"{sweep.purge_snapshots()} snapshots deleted"


def start_sweep(*, actor: Actor, instance: Instance | None = None) -> JobRun:
    """"Sweep now" for one instance (``instance``) or the whole enabled fleet."""
    return start_job("fleet.sweep", actor=actor, target=instance)


@job_kind("fleet.sweep", title="Sweep fleet health", queue="periodic", max_attempts=1)
def run_sweep_job(job: JobRun, log: JobLog) -> str:
    if job.target_id:
        ids = [int(job.target_id)]
    else:
        ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    log.progress(0, len(ids))
    total = sweep.SweepResult()
    for chunk in chunked(ids, chunk_size()):
        log.check_cancelled()
        result = sweep.sweep_ids(chunk)
        _merge(total, result)
        _log_problems(log, chunk)
        log.progress(log.job.progress_current + len(chunk))
    log.info(total.summary())
    return total.summary()


def _merge(total: sweep.SweepResult, part: sweep.SweepResult) -> None:
    total.swept += part.swept
    total.counts.update(part.counts)
    total.transitions += part.transitions


def _log_problems(log: JobLog, ids: list[int]) -> None:
    rows: Any = Instance.objects.filter(pk__in=ids).order_by("name")
    for inst in rows:
        line = f"{inst.name}: {inst.health_label()}"
        if inst.status in (Instance.Status.UP, Instance.Status.DEGRADED) and not inst.error_kind:
            log.info(line + (f" ({inst.version}, {inst.latency_ms} ms)" if inst.version else ""))
        else:
            log.warning(f"{line}: {inst.error_message}")
