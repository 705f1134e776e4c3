"""Celery tasks and job kinds of the replication app: thin, ids in, a summary string out (STYLE G7)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from harborops.core.jobs import JobFailed, JobLog, job_kind
from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor.errors import HarborError
from harborops.replication import pairs, rotate, services
from harborops.replication.models import HAPair

COLLECT_EXPIRES = 240  # seconds: an instance's collection not started before the next run is dropped


@shared_task(acks_late=True, name="harborops.replication.tasks.collect_fleet", queue="periodic")
def collect_fleet() -> str:
    """Fan out one ``collect_one`` per enabled instance: a slow or dead Harbor holds up nobody else."""
    ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        transaction.on_commit(lambda pk=pk: collect_one.apply_async(  # type: ignore[misc]
            args=(pk,), queue="periodic", expires=COLLECT_EXPIRES))
    return f"{len(ids)} instances queued"


@shared_task(acks_late=True, name="harborops.replication.tasks.collect_one", queue="periodic")
def collect_one(instance_id: int) -> str:
    return services.collect_one(instance_id)


@job_kind(services.COLLECT, title="Collect replication state", queue="periodic", max_attempts=1)
def run_collect_job(job: JobRun, log: JobLog) -> str:
    qs = Instance.objects.filter(enabled=True).order_by("name")
    instances = list(qs.filter(pk=int(job.target_id)) if job.target_id else qs)
    log.progress(0, len(instances))
    failures = 0
    for i, instance in enumerate(instances, 1):
        log.check_cancelled()
        result = services.collect_many([instance])[0]
        failures += bool(result.error)
        (log.warning if result.error else log.info)(result.summary())
        log.progress(i)
    summary = f"{len(instances)} instance(s) collected" + (f", {failures} failed" if failures else "")
    if failures and failures == len(instances):
        raise JobFailed(summary)
    return summary


def _group(job: JobRun) -> HAGroup | None:
    return HAGroup.objects.filter(pk=int(job.target_id or 0)).first()


@job_kind(pairs.SETUP, title="Set up two-way replication for an HA pair", queue="jobs", max_attempts=1)
def run_pair_setup(job: JobRun, log: JobLog) -> str:
    group = _group(job)
    if group is None:
        return "skipped: HA group gone"
    try:
        pair = pairs.setup(group, list(job.params.get("projects") or []), say=log.info)
    except (pairs.PairError, HarborError) as exc:
        raise JobFailed(f"{group.name}: {getattr(exc, 'message', None) or exc}") from exc
    state = "consistent" if pair.consistent else f"{pair.missing_count} artifact(s) missing"
    return f"{group.name}: two-way replication set up ({', '.join(pair.projects)}); {state}"


@job_kind(pairs.TEARDOWN, title="Tear down an HA pair's replication", queue="jobs", max_attempts=1)
def run_pair_teardown(job: JobRun, log: JobLog) -> str:
    group = _group(job)
    if group is None:
        return "skipped: HA group gone"
    try:
        kept = pairs.teardown(group, say=log.info)
    except HarborError as exc:
        raise JobFailed(f"{group.name}: {exc.message}") from exc
    return f"{group.name}: replication torn down" + (f"; kept: {'; '.join(kept)}" if kept else "")


@job_kind(pairs.CHECK, title="Check an HA pair's consistency", queue="jobs", max_attempts=1)
def run_pair_check(job: JobRun, log: JobLog) -> str:
    group = _group(job)
    pair = HAPair.objects.filter(group=group).first() if group else None
    if group is None or pair is None:
        return "skipped: no pair"
    try:
        pairs.check(pair, say=log.info)
    except HarborError as exc:
        raise JobFailed(f"{group.name}: {exc.message}") from exc
    return f"{group.name}: " + ("consistent" if pair.consistent else f"{pair.missing_count} artifact(s) missing")


@job_kind(rotate.ROTATE, title="Rotate an HA pair's robot secrets", queue="jobs", max_attempts=1)
def run_pair_rotate(job: JobRun, log: JobLog) -> str:
    group = _group(job)
    pair = HAPair.objects.filter(group=group).first() if group else None
    if group is None or pair is None:
        return "skipped: no pair"
    try:
        reachable = rotate.rotate(pair, say=log.info)
    except (rotate.RotateError, HarborError) as exc:
        raise JobFailed(f"{group.name}: {getattr(exc, 'message', None) or exc}") from exc
    summary = f"{group.name}: both robot secrets rotated, {reachable} of 2 endpoint(s) answer with the new secret"
    if reachable < 2:
        raise JobFailed(summary)
    return summary


@shared_task(acks_late=True, name="harborops.replication.tasks.fire_schedule", queue="periodic")
def fire_schedule(schedule_id: int) -> str:
    """A schedule harborops owns for a policy (skip if running)."""
    from harborops.replication import schedules

    return schedules.fire(schedule_id)


@shared_task(acks_late=True, name="harborops.replication.tasks.check_pairs", queue="periodic")
def check_pairs() -> str:
    """The scheduled consistency check: one check job per pair that is set up."""
    from harborops.core.actor import Actor

    actor = Actor.system("scheduled consistency check")
    started = []
    for pair in HAPair.objects.filter(status=HAPair.Status.SET_UP).select_related("group").order_by("pk"):
        try:
            pairs.start_check(pair.group, actor=actor)
            started.append(pair.group.name)
        except pairs.PairError as exc:
            started.append(f"{pair.group.name} (not checked: {exc})")
    return f"{len(started)} pair(s): {', '.join(started)}" if started else "no pair set up"
