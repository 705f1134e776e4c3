"""Alert conditions of harborops' own machinery (contract: harborops/core/conditions.py):

- ``jobs.failed``: the latest finished run of a job (per kind and target) failed within the last
  ``HARBOROPS_JOBS_FAILED_ALERT_HOURS``; a later successful run of the same kind and target clears it;
- ``jobs.sweep_missed``: the fleet sweep has not finished a run since its cron was due (plus
  ``HARBOROPS_SCHEDULE_MISSED_GRACE_MINUTES``); read from ``fleet.SweepRun``;
- ``jobs.reaper_missed``: the same for the reaper of dead jobs; read from ``core.PeriodicRun``, which
  the reaper task writes after every run.

A schedule switched off (``HARBOROPS_*_CRON=disable``) is never "missed"; nor is one that has never
run at all (a fresh install has no history to be late against).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

from django.conf import settings

from harborops.core.conditions import Occurrence, conditions
from harborops.schedule import SYSTEM_SCHEDULES, parse_cron

SWEEP_TASK = "harborops.fleet.tasks.sweep_fleet"
REAPER_TASK = "harborops.core.tasks.reap_stale_jobs"
TITLES = {
    "jobs.failed": "A job failed",
    "jobs.sweep_missed": "Scheduled fleet sweep missed",
    "jobs.reaper_missed": "Scheduled job reaper missed",
}


def system_cron(task: str, environ: dict[str, str] | None = None) -> str | None:
    """The cron expression the system schedule of ``task`` runs on, or None when it is switched off."""
    env = os.environ if environ is None else environ
    for entry in SYSTEM_SCHEDULES:
        if entry.task == task:
            cron = env.get(entry.env, entry.default_cron).strip()
            return None if cron.lower() == "disable" else cron
    return None


def overdue(cron: str, last: dt.datetime, at: dt.datetime) -> dt.timedelta:
    """How long past due the first run after ``last`` is at ``at`` (negative: not due yet)."""
    from celery.schedules import crontab

    return -crontab(nowfun=lambda: at, **parse_cron(cron)).remaining_estimate(last)


def _missed(key: str, what: str, task: str, last: dt.datetime | None, at: dt.datetime,
            link: str) -> Iterator[Occurrence]:
    cron = system_cron(task)
    if cron is None or last is None:
        return
    late = overdue(cron, last, at)
    if late > dt.timedelta(minutes=settings.SCHEDULE_MISSED_GRACE_MINUTES):
        minutes = int((at - last).total_seconds() // 60)
        yield Occurrence(key, f"schedule:{what}", "critical", f"The {what} last finished {minutes} min ago",
                         details=(f"its schedule ({cron!r}) was due {int(late.total_seconds() // 60)} min ago: "
                                  "is celery beat running, and a worker consuming the 'periodic' queue?"),
                         link=link)


def failed_jobs(at: dt.datetime) -> Iterator[Occurrence]:
    from harborops.core.jobs.registry import registered_kinds
    from harborops.core.models import JobRun

    since = at - dt.timedelta(hours=settings.JOBS_FAILED_ALERT_HOURS)
    finished = (JobRun.objects.filter(status__in=JobRun.FINISHED, finished_at__gte=since, finished_at__lte=at)
                .select_related("target_type").order_by("-finished_at", "-pk"))
    seen: set[tuple[str, int | None, str]] = set()
    kinds = registered_kinds()
    for job in finished.iterator():
        key = (job.kind, job.target_type_id, job.target_id)
        if key in seen:
            continue  # only the latest run of a kind and target counts
        seen.add(key)
        if job.status != JobRun.Status.FAILED:
            continue
        ct = job.target_type
        target = f"{ct.app_label}.{ct.model}:{job.target_id}" if ct is not None and job.target_id else ""
        instance_id = (int(job.target_id) if ct is not None and (ct.app_label, ct.model) == ("fleet", "instance")
                       and job.target_id.isdigit() else None)
        title = kinds[job.kind].title if job.kind in kinds else job.kind
        name = f"{title} ({job.target_repr})" if job.target_repr else title
        yield Occurrence("jobs.failed", f"job:{job.kind}" + (f":{target}" if target else ""), "warning",
                         f"{name} failed", details=(job.error or job.summary)[:1000],
                         link=job.get_absolute_url(), instance_id=instance_id, labels={"kind": job.kind})


def missed_schedules(at: dt.datetime) -> Iterator[Occurrence]:
    from django.urls import reverse

    from harborops.core.models import PeriodicRun
    from harborops.core.tasks import REAPER
    from harborops.fleet.models import SweepRun

    # Scheduled sweeps only: a "Sweep all now" must not hide a beat that stopped.
    sweep = (SweepRun.objects.filter(trigger=SweepRun.Trigger.SCHEDULED).exclude(finished_at=None)
             .order_by("-finished_at").first())
    yield from _missed("jobs.sweep_missed", "fleet sweep", SWEEP_TASK, sweep.finished_at if sweep else None, at,
                       reverse("fleet:instance_list"))
    reaper = PeriodicRun.objects.filter(name=REAPER).first()
    yield from _missed("jobs.reaper_missed", "job reaper", REAPER_TASK, reaper.last_finished_at if reaper else None,
                       at, reverse("core:job_list"))


@conditions("jobs", TITLES)
def job_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    yield from failed_jobs(at)
    yield from missed_schedules(at)
