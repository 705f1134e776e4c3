"""Access jobs and the scheduled drift check: thin, ids in, a summary out (STYLE G7)."""

from __future__ import annotations

import logging

from celery import shared_task

from harborops.access.models import TeamMapping
from harborops.access.services import drift, reconcile
from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import JobFailed, JobLog, job_kind, start_job
from harborops.core.models import JobRun
from harborops.fleet.models import Instance

logger = logging.getLogger(__name__)


def start_apply(*, actor: Actor, mapping_ids: list[int] | None = None, force: bool = False) -> JobRun:
    """Apply every mapping (``None``) or these mappings, as a job. ``force``: also make the changes of
    mappings the preflight finds ineffective on an instance (recorded with the findings)."""
    target = TeamMapping.objects.get(pk=mapping_ids[0]) if mapping_ids and len(mapping_ids) == 1 else None
    params: dict[str, object] = {"mapping_ids": mapping_ids}
    if force:
        params["force"] = True
    job = start_job("access.apply", actor=actor, target=target, params=params)
    record(actor=actor, action="access.apply.start", obj=job, before=None,
           after={"mapping_ids": mapping_ids, "job": job.pk, "force": force})
    return job


def start_drift_check(*, actor: Actor) -> JobRun:
    return start_job("access.drift", actor=actor)


@job_kind("access.apply", title="Apply team mappings", queue="jobs", max_attempts=2)
def run_apply(job: JobRun, log: JobLog) -> str:
    """Recompute the plan now (so a re-run is a no-op), then go instance by instance."""
    mapping_ids = job.params.get("mapping_ids")
    force = bool(job.params.get("force"))
    plan = reconcile.compute_plan(mapping_ids)
    log.info(f"plan: {plan.change_count} changes on {len(plan.instances)} instances")
    log.progress(0, len(plan.instances))
    actor = Actor.for_user(job.user, via=f"job {job.pk}")
    done = failed = skipped = refused = 0
    problems: list[str] = []
    for ip in plan.instances:
        log.check_cancelled()
        instance = Instance.objects.filter(pk=ip.instance_id).first()
        if instance is None:
            continue
        result = reconcile.apply_instance(instance, ip, say=lambda level, text: log.write(text, level), force=force)
        done, failed, refused = done + len(result.done), failed + len(result.failed), refused + len(result.refused)
        skipped += bool(result.skipped)
        if result.failed:
            problems.append(f"{instance.name}: {len(result.failed)} failed")
        if result.done or result.failed or result.refused:
            record(actor=actor, action="access.apply.instance", obj=instance, before=None,
                   after={"done": result.done, "failed": result.failed}
                   | ({"refused": result.refused} if result.refused else {}),
                   outcome="failure" if result.failed else "success", message=f"job {job.pk}")
        if result.forced:
            record(actor=actor, action="access.apply.forced", obj=instance, before=None,
                   after={"preflight": [c.as_dict() for c in ip.ineffective], "done": result.done,
                          "failed": result.failed},
                   message=f"job {job.pk}: applied despite the preflight: " + "; ".join(result.forced))
        log.advance()
    summary = (f"{done} changes applied, {failed} failed, {skipped} instances skipped "
               f"({len(plan.instances)} instances)")
    if refused:
        summary += f"; {refused} changes refused: their mappings are ineffective there (apply with force)"
    if failed:
        raise JobFailed(f"{summary}: " + "; ".join(problems))
    log.info(summary)
    return summary


@job_kind("access.drift", title="Check access drift", queue="periodic", max_attempts=1)
def run_drift(job: JobRun, log: JobLog) -> str:
    result = drift.check_drift()
    log.info(result.summary())
    return result.summary()


@shared_task(acks_late=True, name="harborops.access.tasks.check_drift", queue="periodic")
def check_drift() -> str:
    """The scheduled drift check (HARBOROPS_ACCESS_DRIFT_CRON)."""
    return drift.check_drift().summary()
