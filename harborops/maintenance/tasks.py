"""The job kinds and beat tasks of maintenance: thin, over services (STYLE G7)."""

from __future__ import annotations

from celery import shared_task

from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.maintenance.models import CleanupPlan, GCPolicy
from harborops.maintenance.services import cleanup, deletions, native, runs

CHECK_KIND = "maintenance.gc_check"
SCHEDULE_KIND = "maintenance.gc_schedule"
SCAN_KIND = "maintenance.cleanup_scan"
CLEANUP_JOB_TEMPLATE = "maintenance/htmx/job_cleanup.html"  # links the job page to its clean-up
# A run lasts at most its window (<= 7 days, see policies.MAX_WINDOW_MINUTES) plus the last polls.
RUN_TIME_LIMIT = 8 * 24 * 3600


@job_kind(runs.KIND, title="Garbage collection run", queue="jobs", max_attempts=2, time_limit=RUN_TIME_LIMIT,
          detail_template="maintenance/htmx/job_steps.html")
def run_gc(job: JobRun, log: JobLog) -> str:
    return runs.execute_run(job, log)


@job_kind(CHECK_KIND, title="Check GC schedules and history", queue="periodic", max_attempts=1)
def check_gc(job: JobRun, log: JobLog) -> str:
    ok, failed = native.check_fleet(say=log.info)
    return f"{ok} instance(s) read, {failed} not readable"


@job_kind(SCHEDULE_KIND, title="Set Harbor GC schedules from a policy", queue="periodic", max_attempts=1)
def set_schedules(job: JobRun, log: JobLog) -> str:
    policy = GCPolicy.objects.filter(pk=job.params.get("policy")).first()
    if policy is None:
        raise JobFailed("the policy no longer exists")
    actor = Actor.for_user(job.user, via=f"job-{job.pk}") if job.user else Actor.system(job.actor_name or "system")
    ok, failed = native.apply_schedules(policy, actor=actor, say=log.info)
    if failed:
        raise JobFailed(f"{ok} set, {failed} failed")
    return f"{ok} schedule(s) set"


def start_check(*, actor: Actor, trigger: str = JobRun.Trigger.USER) -> JobRun:
    return start_job(CHECK_KIND, actor=actor, trigger=trigger)


def start_set_schedules(policy: GCPolicy, *, actor: Actor) -> JobRun:
    if not policy.harbor_cron:
        from django.core.exceptions import ValidationError

        raise ValidationError({"harbor_cron": "the policy sets no Harbor schedule (Harbor cron is blank)"})
    return start_job(SCHEDULE_KIND, actor=actor, target=policy, params={"policy": policy.pk})


def _job_actor(job: JobRun) -> Actor:
    return Actor.for_user(job.user, via=f"job-{job.pk}") if job.user else Actor.system(job.actor_name or "system")


@job_kind(SCAN_KIND, title="Collect the clean-up report", queue="jobs", max_attempts=2)
def scan_cleanup(job: JobRun, log: JobLog) -> str:
    ok, failed = cleanup.scan_fleet(say=log.info)
    if failed and not ok:
        raise JobFailed(f"no instance readable ({failed} failed)")
    return f"{ok} instance(s) collected, {failed} not readable"


@job_kind(deletions.CHECK_KIND, title="Clean-up dry run", queue="jobs", detail_template=CLEANUP_JOB_TEMPLATE,
          max_attempts=2)
def check_cleanup(job: JobRun, log: JobLog) -> str:
    plan = CleanupPlan.objects.filter(pk=job.params.get("plan")).first()
    if plan is None:
        raise JobFailed("the clean-up no longer exists")
    present, gone, unknown = deletions.dry_run(plan, say=log.info)
    return f"{present} to delete, {gone} not there, {unknown} not checkable: confirm on the clean-up page"


@job_kind(deletions.DELETE_KIND, title="Clean-up deletion", queue="jobs", detail_template=CLEANUP_JOB_TEMPLATE,
          max_attempts=1)
def delete_cleanup(job: JobRun, log: JobLog) -> str:
    plan = CleanupPlan.objects.filter(pk=job.params.get("plan")).first()
    if plan is None:
        raise JobFailed("the clean-up no longer exists")
    deleted, failed = deletions.delete_items(plan, actor=_job_actor(job), say=log.info)
    if failed:
        raise JobFailed(f"{deleted} deleted, {failed} failed")
    return f"{deleted} deleted"


def start_scan(*, actor: Actor, trigger: str = JobRun.Trigger.USER) -> JobRun:
    return start_job(SCAN_KIND, actor=actor, trigger=trigger)


@shared_task(acks_late=True, name="harborops.maintenance.tasks.scan_fleet_cleanup", queue="periodic")
def scan_fleet_cleanup() -> str:
    job = start_scan(actor=Actor.system("clean-up report"), trigger=JobRun.Trigger.SCHEDULED)
    return f"job {job.pk}"


@shared_task(acks_late=True, name="harborops.maintenance.tasks.run_policy", queue="periodic")
def run_policy(policy_id: int) -> str:
    """Beat fires a policy's cron here: start its run as a scheduled job."""
    policy = GCPolicy.objects.filter(pk=policy_id).first()
    if policy is None or not policy.enabled:
        return f"policy {policy_id}: gone or disabled, nothing started"
    from django.core.exceptions import ValidationError

    try:
        job = runs.start_run(policy, actor=Actor.system(f"gc policy {policy.name}"), trigger=JobRun.Trigger.SCHEDULED)
    except ValidationError as exc:
        return f"policy {policy.name}: {'; '.join(exc.messages)}"
    return f"policy {policy.name}: job {job.pk}"


@shared_task(acks_late=True, name="harborops.maintenance.tasks.check_fleet_gc", queue="periodic")
def check_fleet_gc() -> str:
    job = start_check(actor=Actor.system("gc watchdog"), trigger=JobRun.Trigger.SCHEDULED)
    return f"job {job.pk}"
