"""Celery tasks and the job kind of the fleet: thin, ids in, a summary string out (STYLE G7).

The sweep never retries (a dead instance must cost one timeout, not three): no autoretry here.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from harborops.core.actor import Actor
from harborops.core.jobs import JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance, SweepRun
from harborops.fleet.services import sweep, sweep_runs

logger = logging.getLogger(__name__)

CHUNK_EXPIRES = 50  # seconds: a chunk not started before the next minute's sweep is dropped (ended as expired
# by the next scheduled sweep: sweep_runs.close_abandoned)


def chunk_size() -> int:
    return max(1, settings.FLEET_SWEEP_CHUNK)


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return sweep_runs.chunked(ids, size)


def dispatch_chunks(run: SweepRun) -> None:
    """One ``sweep_chunk`` task per chunk of the run, sent once the run's rows are committed, so
    as many workers as there are chunks poll at once."""
    chunks = list(run.chunks.order_by("index").values_list("index", "instance_ids"))

    def send() -> None:
        for index, ids in chunks:
            sweep_chunk.apply_async(args=(ids, run.pk, index), queue="periodic", expires=CHUNK_EXPIRES)

    transaction.on_commit(send)


@shared_task(acks_late=True, name="harborops.fleet.tasks.sweep_fleet", queue="periodic")
def sweep_fleet() -> str:
    """The scheduled sweep: a SweepRun, fanned out as one ``sweep_chunk`` per HARBOROPS_SWEEP_CHUNK
    enabled instances; the chunk that finishes last stamps the run's end. Runs that can no longer
    finish (a chunk's task expired unclaimed, a worker died) are ended incomplete first."""
    closed = sweep_runs.close_abandoned()
    if closed:
        logger.warning("sweep: %d earlier sweep run(s) ended incomplete (chunks expired before a worker took them)",
                       closed)
    run = sweep_runs.start_run(trigger=SweepRun.Trigger.SCHEDULED, chunk_size=chunk_size())
    dispatch_chunks(run)
    return f"{run.instances} instances in {run.chunks_total} chunks (sweep run {run.pk})"


@shared_task(acks_late=True, name="harborops.fleet.tasks.sweep_chunk", queue="periodic")
def sweep_chunk(instance_ids: list[int], run_id: int | None = None, index: int | None = None) -> str:
    """Poll these instances concurrently (asyncio) and store what was seen. With ``run_id`` and
    ``index`` the chunk is claimed first: polled once however often the message is delivered."""
    if run_id is None or index is None:
        return sweep.sweep_ids(instance_ids).summary()
    chunk = sweep_runs.claim_chunk(run_id, index)
    if chunk is None:
        return f"sweep run {run_id} chunk {index}: already taken (or the run is gone)"
    return sweep_runs.run_chunk(chunk).summary()


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
        log.progress(0, 1)
        result = sweep.sweep_ids(ids)
        _log_problems(log, ids)
        log.progress(1)
        log.info(result.summary())
        return result.summary()
    return _sweep_all(job, log)


def _sweep_all(job: JobRun, log: JobLog) -> str:
    """Fan the chunks out to every worker, poll the ones nobody has taken yet here (a single worker
    never waits on its own queue), then wait for the others and report the whole run."""
    run = sweep_runs.start_run(trigger=SweepRun.Trigger.MANUAL, job_id=job.pk, chunk_size=chunk_size())
    dispatch_chunks(run)
    log.info(f"sweep run {run.pk}: {run.instances} instances in {run.chunks_total} chunks, "
             "one task each for the workers")
    log.progress(0, run.instances)
    me = f"{sweep_runs.worker_name()} (this job)"
    for index in range(run.chunks_total):
        log.check_cancelled()
        chunk = sweep_runs.claim_chunk(run.pk, index, worker=me)
        if chunk is not None:
            sweep_runs.run_chunk(chunk)
        log.progress(sweep_runs.swept_so_far(run.pk))

    def tick() -> None:
        log.check_cancelled()
        log.progress(sweep_runs.swept_so_far(run.pk))

    timeout = float(settings.FLEET_SWEEP_TIMEOUT)
    batches = -(-chunk_size() // max(1, settings.FLEET_SWEEP_CONCURRENCY))
    run = sweep_runs.wait_for(run.pk, deadline=time.monotonic() + 2 * timeout * batches + 60, tick=tick)
    log.progress(sweep_runs.swept_so_far(run.pk))
    _log_problems(log, [i for c in run.chunks.all() for i in c.instance_ids])
    for chunk in run.chunks.order_by("index"):
        took = f"{chunk.seconds:.1f} s" if chunk.seconds is not None else chunk.get_state_display().lower()
        log.info(f"chunk {chunk.index}: {len(chunk.instance_ids)} instances on {chunk.worker or '-'}, {took}")
    if run.finished_at is None:
        log.warning(f"{run.chunks_total - run.chunks_done} chunks still running on other workers; "
                    f"sweep run {run.pk} shows them when they finish")
    log.info(run.outcome_summary())
    return run.outcome_summary()


def _log_problems(log: JobLog, ids: list[int]) -> None:
    rows: Any = Instance.objects.filter(pk__in=ids).order_by("name")
    for inst in rows:
        line = f"{inst.name}: {inst.health_label()}"
        if inst.status in (Instance.Status.UP, Instance.Status.DEGRADED) and not inst.error_kind:
            log.info(line + (f" ({inst.version}, {inst.latency_ms} ms)" if inst.version else ""))
        else:
            log.warning(f"{line}: {inst.error_message}")
