"""A sweep over the whole fleet as a run of chunks that many workers poll at once.

    run = start_run(trigger=SweepRun.Trigger.SCHEDULED)     # SweepRun + its SweepChunk rows
    ... one Celery task per chunk (fleet.tasks.sweep_chunk) ...
    chunk = claim_chunk(run.pk, index, worker="host:pid")  # exactly one poller per chunk
    run_chunk(chunk)                                       # poll, store, add to the run's counts

No result backend is needed (the project runs without one on both brokers): the chunks add their
counts to the SweepRun row, serialised by a row lock, and the one that completes it stamps the
finish. "Sweep all now" (a job) fans out the same way and then polls whatever chunks no worker
has picked up yet itself, so a single worker never waits on its own queue.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils.timezone import now

from harborops.fleet.models import Instance, SweepChunk, SweepRun
from harborops.fleet.services import sweep

__all__ = ("Freshness", "chunked", "claim_chunk", "close_abandoned", "finish_chunk", "freshness", "run_chunk",
           "schedule_interval", "start_run", "swept_so_far", "wait_for", "worker_name")

STALE_INTERVALS = 3  # a last complete sweep older than this many schedule intervals is flagged
# A pending chunk this old will never run: its task message expired (fleet.tasks.CHUNK_EXPIRES, 50 s).
PENDING_GIVE_UP = dt.timedelta(minutes=2)
# A running chunk this old lost its worker (a chunk polls each instance once, with a timeout).
RUNNING_GIVE_UP = dt.timedelta(minutes=15)


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), max(1, size))]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(*, trigger: str = SweepRun.Trigger.SCHEDULED, job_id: int | None = None,
              chunk_size: int | None = None) -> SweepRun:
    """Create the run and one pending chunk per ``HARBOROPS_SWEEP_CHUNK`` enabled instances."""
    ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    chunks = chunked(ids, chunk_size or settings.FLEET_SWEEP_CHUNK)
    started = now()
    with transaction.atomic():
        run = SweepRun.objects.create(
            started_at=started, trigger=trigger, job_id=job_id, instances=len(ids), chunks_total=len(chunks),
            finished_at=None if chunks else started, duration=None if chunks else dt.timedelta(0))
        SweepChunk.objects.bulk_create(SweepChunk(run=run, index=i, instance_ids=c) for i, c in enumerate(chunks))
    return run


def claim_chunk(run_id: int, index: int, *, worker: str | None = None) -> SweepChunk | None:
    """Move a pending chunk to running; None when another poller (or an earlier delivery) has it."""
    claimed = SweepChunk.objects.filter(run_id=run_id, index=index, state=SweepChunk.State.PENDING).update(
        state=SweepChunk.State.RUNNING, started_at=now(), worker=(worker or worker_name())[:200])
    if claimed != 1:
        return None
    return SweepChunk.objects.get(run_id=run_id, index=index)


def run_chunk(chunk: SweepChunk, *, timeout: float | None = None,
              concurrency: int | None = None) -> sweep.SweepResult:
    """Poll a claimed chunk's instances, store what was seen, add it to the run."""
    result = sweep.sweep_ids(chunk.instance_ids, timeout=timeout, concurrency=concurrency)
    finish_chunk(chunk, result)
    return result


def finish_chunk(chunk: SweepChunk, result: sweep.SweepResult) -> None:
    """Mark the chunk done and add its counts to the run, once; the chunk that completes the run
    stamps its finish and duration."""
    c = result.counts
    status = Instance.Status
    with transaction.atomic():
        # The row lock serialises the chunks of one run (PostgreSQL; SQLite writes one at a time anyway).
        if not SweepRun.objects.select_for_update().filter(pk=chunk.run_id).exists():
            return  # purged meanwhile
        done = SweepChunk.objects.filter(pk=chunk.pk, state=SweepChunk.State.RUNNING).update(
            state=SweepChunk.State.DONE, finished_at=now(), poll_seconds=result.poll_seconds,
            record_seconds=result.record_seconds, swept=result.swept)
        if done != 1:
            return
        SweepRun.objects.filter(pk=chunk.run_id).update(
            chunks_done=F("chunks_done") + 1, up=F("up") + c[status.UP], degraded=F("degraded") + c[status.DEGRADED],
            down=F("down") + c[status.DOWN], unknown=F("unknown") + c[status.UNKNOWN],
            transitions=F("transitions") + result.transitions)
        run = SweepRun.objects.get(pk=chunk.run_id)
        if run.finished_at is None and run.chunks_done >= run.chunks_total:
            finished = now()
            SweepRun.objects.filter(pk=run.pk).update(finished_at=finished, duration=finished - run.started_at)


def close_abandoned(at: dt.datetime | None = None) -> int:
    """End the runs that can no longer finish on their own: chunks whose task expired before a worker
    took it (pending too long) or whose worker died (running too long) become *expired*, and a run
    whose every chunk is done or expired ends *incomplete*. Manual runs are left to their job while
    it is active (it polls the chunks nobody took). Returns how many runs were ended."""
    from harborops.core.models import JobRun

    at = at or now()
    open_runs = (SweepRun.objects.filter(finished_at=None, started_at__lt=at - PENDING_GIVE_UP)
                 .exclude(job__status__in=(JobRun.Status.PENDING, JobRun.Status.RUNNING)))
    ended = 0
    for run_id in open_runs.values_list("pk", flat=True):
        with transaction.atomic():
            if not SweepRun.objects.select_for_update().filter(pk=run_id, finished_at=None).exists():
                continue  # a chunk finished it meanwhile
            chunks = SweepChunk.objects.filter(run_id=run_id)
            expired = (chunks.filter(state=SweepChunk.State.PENDING).update(state=SweepChunk.State.EXPIRED)
                       + chunks.filter(state=SweepChunk.State.RUNNING, started_at__lt=at - RUNNING_GIVE_UP)
                       .update(state=SweepChunk.State.EXPIRED, finished_at=at))
            if expired:
                SweepRun.objects.filter(pk=run_id).update(chunks_expired=F("chunks_expired") + expired)
            run = SweepRun.objects.get(pk=run_id)
            if run.chunks_done + run.chunks_expired >= run.chunks_total:
                SweepRun.objects.filter(pk=run_id).update(finished_at=at, duration=at - run.started_at)
                ended += 1
    return ended


def swept_so_far(run_id: int) -> int:
    return int(SweepChunk.objects.filter(run_id=run_id, state=SweepChunk.State.DONE)
               .aggregate(n=Sum("swept"))["n"] or 0)


def wait_for(run_id: int, *, deadline: float, poll: float = 0.5,
             tick: Callable[[], None] | None = None) -> SweepRun:
    """Wait until the run finished or ``deadline`` (time.monotonic) passed; ``tick()`` each poll
    (the job's progress and cancel check)."""
    while True:
        run = SweepRun.objects.get(pk=run_id)
        if run.finished_at is not None or time.monotonic() >= deadline:
            return run
        if tick is not None:
            tick()
        time.sleep(poll)


@dataclass(frozen=True)
class Freshness:
    """How old the fleet's picture is: the last complete sweep, the one in progress, and whether
    the last complete one is older than ``STALE_INTERVALS`` schedule intervals."""

    last: SweepRun | None
    current: SweepRun | None
    age: dt.timedelta | None
    interval: dt.timedelta | None
    stale: bool
    incomplete: SweepRun | None = None  # the newest run that ended with expired chunks, if after ``last``

    @property
    def stale_after(self) -> dt.timedelta | None:
        return self.interval * STALE_INTERVALS if self.interval else None

    @property
    def stale_after_text(self) -> str:
        limit = self.stale_after
        if limit is None:
            return ""
        minutes = limit.total_seconds() / 60
        return f"{minutes:g} min" if minutes < 120 else f"{minutes / 60:g} h"


def schedule_interval(at: dt.datetime) -> dt.timedelta | None:
    """The scheduled sweep's interval from its cron (None when the schedule is switched off)."""
    from celery.schedules import crontab

    from harborops.core.job_conditions import SWEEP_TASK, system_cron
    from harborops.schedule import parse_cron

    cron = system_cron(SWEEP_TASK)
    if cron is None:
        return None
    first = at + crontab(nowfun=lambda: at, **parse_cron(cron)).remaining_estimate(at)
    second = first + crontab(nowfun=lambda: first, **parse_cron(cron)).remaining_estimate(first)
    gap = second - first
    return gap if gap > dt.timedelta(0) else None


def freshness(at: dt.datetime | None = None) -> Freshness:
    at = at or now()
    last = SweepRun.objects.exclude(finished_at=None).filter(chunks_expired=0).order_by("-finished_at").first()
    current = SweepRun.objects.filter(finished_at=None).order_by("-started_at").first()
    newest_ended = SweepRun.objects.exclude(finished_at=None).order_by("-finished_at").first()
    incomplete = newest_ended if newest_ended is not None and newest_ended.chunks_expired else None
    interval = schedule_interval(at)
    age = at - last.finished_at if last is not None and last.finished_at is not None else None
    limit = interval * STALE_INTERVALS if interval else None
    if limit is None:
        stale = False
    elif age is not None:
        stale = age > limit
    else:  # never finished one: stale once the first has been running for that long
        stale = current is not None and at - current.started_at > limit
    return Freshness(last=last, current=current, age=age, interval=interval, stale=stale, incomplete=incomplete)
