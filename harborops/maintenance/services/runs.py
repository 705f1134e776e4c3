"""A GC run: one JobRun for a policy, one GCStep per instance, advanced by one loop.

The loop (``execute_run``) is single-threaded: online GC is waiting on Harbor, so the job starts
up to ``concurrency`` GCs and polls them in turn. Before a step starts, inside one transaction that
locks the instance (and its HA group) rows, it checks that no GC of the same instance and no GC of
another member of the same HA group runs anywhere in harborops (any job), and that the fleet-wide
limit (HARBOROPS_GC_MAX_CONCURRENT) is not reached. A step that fails never stops the others. At
the window's end, running GCs are stopped where Harbor can stop them (2.6+) and reported as
overrun; steps that never started are skipped.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.jobs import JobCancelled, JobFailed, JobLog, start_job
from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.maintenance.models import GCPolicy, GCStep
from harborops.maintenance.services import online
from harborops.maintenance.services.offline import OfflineGC, cancelled_check
from harborops.maintenance.services.online import GCOptions, OnlineGC, step_note
from harborops.maintenance.services.policies import shared_storage_split, target_instances, visiting_order

KIND = "maintenance.gc_run"
ACTIVE_JOB = (JobRun.Status.RUNNING, JobRun.Status.PENDING)


def start_run(policy: GCPolicy, *, actor: Actor, trigger: str = JobRun.Trigger.USER,
              instances: Sequence[Instance] | None = None) -> JobRun:
    """Create the job and its steps (visible at once), enqueue after commit."""
    collect_all = list(target_instances(policy) if instances is None else instances)
    collect, shared = shared_storage_split(collect_all)
    chosen = visiting_order(collect)
    offline = list(policy.offline_targets.select_related("instance").order_by("name")) if instances is None else []
    if not chosen and not offline:
        raise ValidationError("the policy targets no enabled instance and no offline registry")
    created = now()
    deadline = policy.window_deadline(created, scheduled=trigger == JobRun.Trigger.SCHEDULED)
    params = {"policy": policy.pk, "deadline": deadline.isoformat() if deadline else None,
              "window": policy.window_label(), "concurrency": policy.concurrency,
              "delete_untagged": policy.delete_untagged, "dry_run_first": policy.dry_run_first,
              "workers": policy.workers,
              "not_collected": [f"{i.name}: {why}" for i in collect_all if (why := shared.get(i.pk))]}
    with transaction.atomic():
        job = start_job(KIND, actor=actor, target=policy, params=params, trigger=trigger)
        GCStep.objects.bulk_create([
            GCStep(job=job, policy=policy, instance=inst, instance_name=inst.name, ha_group_id=inst.ha_group_id,
                   position=n) for n, inst in enumerate(chosen)] + [
            GCStep(job=job, policy=policy, offline_target=t, instance=t.instance, instance_name=t.name,
                   ha_group_id=t.instance.ha_group_id if t.instance else None, position=len(chosen) + n)
            for n, t in enumerate(offline)])
        JobRun.objects.filter(pk=job.pk).update(progress_total=len(chosen) + len(offline))
    return job


def _blocker(step: GCStep) -> str:
    """Why ``step`` may not start now ("" = it may). Call inside the locking transaction."""
    busy = GCStep.objects.filter(status=GCStep.Status.RUNNING, job__status__in=ACTIVE_JOB).exclude(pk=step.pk)
    if step.instance_id is not None and busy.filter(instance_id=step.instance_id).exists():
        return "another GC of this instance is running"
    if step.offline_target_id is not None and busy.filter(offline_target_id=step.offline_target_id).exists():
        return "another GC of this registry is running"
    if step.ha_group_id:
        other = busy.filter(ha_group_id=step.ha_group_id).first()
        if other is not None:
            group = HAGroup.objects.filter(pk=step.ha_group_id).first()
            return f"{other.instance_name} of HA group {group or step.ha_group_id} is collecting"
    if busy.count() >= settings.GC_MAX_CONCURRENT:
        return f"the fleet-wide limit of {settings.GC_MAX_CONCURRENT} GCs at once is reached"
    return ""


def _claim(step: GCStep) -> str:
    """Move a pending step to RUNNING unless something blocks it; the reason otherwise."""
    with transaction.atomic():
        # Serialise claims on the same instance / group (PostgreSQL row locks; SQLite runs
        # IMMEDIATE transactions, which serialise every writer anyway).
        if step.instance_id is not None:
            list(Instance.objects.select_for_update().filter(pk=step.instance_id))
        if step.ha_group_id:
            list(HAGroup.objects.select_for_update().filter(pk=step.ha_group_id))
        reason = _blocker(step)
        if reason:
            return reason
        step.status, step.started_at = GCStep.Status.RUNNING, now()
        GCStep.objects.filter(pk=step.pk, status=GCStep.Status.PENDING).update(
            status=step.status, started_at=step.started_at)
    return ""


def _finish_pending(steps: Sequence[GCStep], log: JobLog, status: str, message: str) -> None:
    for step in steps:
        if step.status == GCStep.Status.PENDING:
            step.status, step.message, step.finished_at = status, message, now()
            step_note(step, log, message, level="warning")
            step.save(update_fields=["status", "message", "finished_at", "log"])


def execute_run(job: JobRun, log: JobLog) -> str:
    """The job handler: advance every step until all ended or the window closed."""
    policy = GCPolicy.objects.filter(pk=job.params.get("policy")).first()
    steps = list(GCStep.objects.filter(job=job).select_related("instance", "offline_target__host")
                 .order_by("position"))
    options = GCOptions(delete_untagged=bool(job.params.get("delete_untagged")),
                        dry_run_first=bool(job.params.get("dry_run_first", True)),
                        workers=job.params.get("workers"))
    concurrency = max(1, int(job.params.get("concurrency") or 1))
    raw_deadline = job.params.get("deadline")
    deadline = parse_datetime(raw_deadline) if raw_deadline else None
    log.info(f"GC run of policy {policy or '(deleted)'}: {len(steps)} instance(s), {concurrency} at a time, "
             f"window {job.params.get('window', '')}" + (f" (ends {deadline:%Y-%m-%d %H:%M %Z})" if deadline else ""))
    for line in job.params.get("not_collected") or []:
        log.info(f"not collected: {line}")
    if deadline is None:
        _finish_pending(steps, log, GCStep.Status.SKIPPED, "outside the policy's maintenance window: not started")
        return _summary(steps, log)
    for step in steps:
        if step.status == GCStep.Status.PENDING and step.instance is None and step.offline_target_id is None:
            step.status, step.message = GCStep.Status.SKIPPED, "the instance or registry was removed"
            step.save(update_fields=["status", "message"])
    active: dict[int, Machine] = {}
    for step in steps:  # a re-run after a lost worker picks up what it had started
        if step.status == GCStep.Status.RUNNING:
            machine = _machine(step, options, log, job, resume=True)
            machine.begin()
            active[step.pk] = machine
    waiting_said: dict[int, str] = {}
    ticker = online.TICKER
    try:
        while True:
            log.check_cancelled()
            for machine in list(active.values()):
                machine.poll()
                if machine.finished:
                    del active[machine.step.pk]
                    log.progress(sum(1 for s in steps if s.status in GCStep.FINISHED))
            pending = [s for s in steps if s.status == GCStep.Status.PENDING]
            if ticker.now() >= deadline:
                for machine in active.values():
                    machine.stop_for_window(deadline)
                _finish_pending(pending, log, GCStep.Status.SKIPPED,
                                f"the maintenance window ended at {deadline:%Y-%m-%d %H:%M} before it could start")
                break
            for step in pending:
                if len(active) >= concurrency:
                    break
                reason = _claim(step)
                if reason:
                    if waiting_said.get(step.pk) != reason:
                        waiting_said[step.pk] = reason
                        step_note(step, log, f"waiting: {reason}")
                        step.save(update_fields=["log"])
                    continue
                machine = _machine(step, options, log, job)
                machine.begin()
                if not machine.finished:
                    active[step.pk] = machine
            if not active and not any(s.status == GCStep.Status.PENDING for s in steps):
                break
            log.flush()
            _wait(active, settings.GC_POLL_SECONDS, ticker)
    except JobCancelled:
        for machine in active.values():
            machine.stop_for_window(ticker.now())
        _finish_pending(steps, log, GCStep.Status.SKIPPED, "the run was cancelled")
        raise
    finally:
        for machine in active.values():
            machine.close()
    log.progress(len(steps))
    return _summary(steps, log)


class OfflineMachine:
    """An offline GC (blocking SSH commands) in a thread; the loop polls whether it ended."""

    def __init__(self, step: GCStep, options: GCOptions, log: JobLog, job: JobRun, *, resume: bool = False) -> None:
        self.step, self.log, self.resume = step, log, resume
        self.gc = OfflineGC(step, delete_untagged=options.delete_untagged, dry_run_first=options.dry_run_first,
                            log=log, cancelled=cancelled_check(job))
        self.thread: threading.Thread | None = None

    def begin(self) -> None:
        target = self.step.offline_target
        assert target is not None
        step_note(self.step, self.log, f"offline GC over SSH on {target.host.name} ({target.host.address})")
        self.step.save(update_fields=["log"])
        self.thread = threading.Thread(target=self.gc.recover if self.resume else self.gc.run,
                                       name=f"offline-gc-{self.step.pk}", daemon=True)
        self.thread.start()

    def poll(self) -> None:
        if self.thread is not None and not self.thread.is_alive():
            self.step.refresh_from_db()

    @property
    def finished(self) -> bool:
        return self.thread is not None and not self.thread.is_alive() and self.step.status in GCStep.FINISHED

    def stop_for_window(self, deadline: dt.datetime) -> None:
        """Never interrupt an offline GC (the registry must come back): wait for it, then report."""
        if self.thread is None:
            return
        step_note(self.step, self.log, f"the maintenance window ended at {deadline:%Y-%m-%d %H:%M}; an offline GC "
                                       "is not interrupted (the registry must be started again): waiting for it",
                  level="warning")
        self.thread.join()
        self.step.refresh_from_db()
        if self.step.status == GCStep.Status.SUCCEEDED:
            self.step.status = GCStep.Status.OVERRUN
            self.step.message = f"{self.step.message} — but it ended after the window ({deadline:%H:%M})"
            self.step.save(update_fields=["status", "message"])

    def close(self) -> None:
        if self.thread is not None:
            self.thread.join()


Machine = OnlineGC | OfflineMachine


def _machine(step: GCStep, options: GCOptions, log: JobLog, job: JobRun, *, resume: bool = False) -> Machine:
    if step.offline_target_id is not None:
        return OfflineMachine(step, options, log, job, resume=resume)
    return OnlineGC(step, options, log)


def _wait(active: dict[int, Machine], seconds: float, ticker: online.Ticker) -> None:
    """Sleep until the next poll; when only offline GCs run, wake up as soon as one ends."""
    threads = [m.thread for m in active.values() if isinstance(m, OfflineMachine) and m.thread is not None]
    if not threads or len(threads) != len(active):
        ticker.sleep(seconds)
        return
    end = time.monotonic() + seconds
    while time.monotonic() < end and all(t.is_alive() for t in threads):
        threads[0].join(timeout=0.2)


def _summary(steps: Sequence[GCStep], log: JobLog) -> str:
    counts = {status: sum(1 for s in steps if s.status == status) for status in GCStep.Status.values}
    freed = sum(s.freed_bytes or 0 for s in steps)
    parts = [f"{counts[s]} {GCStep.Status(s).label.lower()}" for s in GCStep.Status.values if counts[s]]
    text = f"{', '.join(parts)}; freed {freed} bytes"
    if counts[GCStep.Status.FAILED] or counts[GCStep.Status.OVERRUN] or counts[GCStep.Status.SKIPPED]:
        raise JobFailed(text)
    return text
