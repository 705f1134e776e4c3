"""The GC watchdog: plain functions that say what is wrong with an instance's GC. The pages, the
API and /metrics show them; the alerts work registers them as alert conditions.

Conditions (``Finding.code``):
- ``run_too_long``: a GC has run for more than HARBOROPS_GC_LONG_RUN_HOURS. Harbor's jobservice
  reaper marks a job whose stats were not updated for 24 h as Error (``max_update_hours``, 24 by
  default: src/jobservice/worker/cworker/reaper.go, src/jobservice/config/config.go@v2.13.0
  MaxUpdateDuration) while the GC itself keeps running — so warn before that.
- ``run_failed``: the newest GC ended Error / Stopped.
- ``schedule_lost``: a schedule seen before is gone, or a policy expects one and there is none.
- ``schedule_drift``: the schedule differs from its policy.
- ``scheduled_run_missed``: the schedule should have fired (its previous time, plus
  HARBOROPS_GC_MISSED_GRACE_MINUTES) and no scheduled run started since.
- ``success_too_old``: no successful GC for HARBOROPS_GC_MAX_AGE_DAYS (or none on record).
- ``window_overrun``: harborops' newest run on the instance overran its maintenance window.
- ``check_failed``: the instance could not be read.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.timezone import localtime, now

from harborops.fleet.models import Instance
from harborops.maintenance.models import GCStep, InstanceGC
from harborops.maintenance.services.native import Expected, drift
from harborops.maintenance.services.online import FAILURE
from harborops.schedule import parse_cron

CONDITIONS = {
    "run_too_long": "GC running too long",
    "run_failed": "last GC failed",
    "schedule_lost": "GC schedule lost",
    "schedule_drift": "GC schedule differs from its policy",
    "scheduled_run_missed": "scheduled GC did not run",
    "success_too_old": "last successful GC too old",
    "window_overrun": "GC overran its window",
    "check_failed": "GC state not readable",
}
JOBSERVICE_LIMIT_HOURS = 24
# Instance columns no GC page shows: left unread when a page lists the whole fleet (the password is
# decrypted and the JSON parsed per row otherwise; a lazy read stays correct, one query per row).
HEAVY = ("password", "ca_bundle", "notes", "statistics", "unhealthy_components", "error_message")


@dataclass(frozen=True)
class Finding:
    code: str
    message: str

    @property
    def title(self) -> str:
        return CONDITIONS[self.code]


@functools.lru_cache(maxsize=256)
def _cron_spec(harbor_cron: str) -> Any | None:
    """A Harbor cron (6 fields, seconds first; or 5) parsed once: celery's crontab with the sets
    .minute, .hour, .day_of_month, .month_of_year, .day_of_week; None when it does not parse. Every
    instance of a fleet usually has the same schedule, and parsing is what costs."""
    fields = harbor_cron.split()
    if len(fields) == 6:
        fields = fields[1:]
    try:
        return crontab(**parse_cron(" ".join(fields)))
    except (ValueError, TypeError):
        return None


def previous_fire(harbor_cron: str, before: dt.datetime, *, horizon_days: int = 35) -> dt.datetime | None:
    """The last time at or before ``before`` a Harbor cron (6 fields, seconds first; or 5) fires,
    searched back over ``horizon_days`` in the server's time zone (wall-clock time, as cron fires).

    Day by day rather than minute by minute: on a day whose date matches, the latest matching hour
    and minute (not after ``before`` on its own day) is the answer — a weekly schedule costs at
    most 8 days here instead of 10,080 minutes, once per instance of the GC overview."""
    spec = _cron_spec(harbor_cron)
    if spec is None:
        return None
    t = localtime(before).replace(second=0, microsecond=0)
    limit = t - dt.timedelta(days=horizon_days)  # same tzinfo: compared as wall-clock times
    for days_back in range(horizon_days + 1):
        day = t.date() - dt.timedelta(days=days_back)
        # celery's crontab: day_of_week 0 = Sunday, like Harbor's (robfig/cron)
        if not (day.month in spec.month_of_year and day.day in spec.day_of_month
                and (day.isoweekday() % 7) in spec.day_of_week):
            continue
        hours = [h for h in spec.hour if days_back or h <= t.hour]
        for hour in sorted(hours, reverse=True):
            minutes = [m for m in spec.minute if days_back or hour < t.hour or m <= t.minute]
            if minutes:
                fire = t if (days_back, hour, max(minutes)) == (0, t.hour, t.minute) else \
                    dt.datetime.combine(day, dt.time(hour, max(minutes)), tzinfo=t.tzinfo)
                return fire if fire > limit else None
    return None


@dataclass(frozen=True)
class StepHistory:
    """What harborops' own GC steps say about an instance: when its newest succeeded step finished,
    and the message of its newest finished step when that one overran its window."""

    last_succeeded: dt.datetime | None = None
    overrun: str | None = None


def step_history(instances: QuerySet[Instance]) -> dict[int, StepHistory]:
    """instance id -> StepHistory, for every instance of ``instances`` that has steps, in one query
    however many instances there are (the overview's pages once did three per instance): a
    correlated ``ORDER BY ... LIMIT 1`` per instance, each one probe of an index on the step table
    (GCStep's ``gcstep_instance_status_end`` and ``gcstep_instance_newest``) — not a scan of every
    step kept (90 days of daily GC on 1,000 instances is 90,000). The same SQL on SQLite."""
    steps = GCStep.objects.filter(instance=OuterRef("pk")).order_by()
    succeeded = (steps.filter(status=GCStep.Status.SUCCEEDED, finished_at__isnull=False)
                 .order_by("-finished_at").values("finished_at")[:1])
    newest = steps.exclude(status=GCStep.Status.PENDING).order_by("-pk")
    rows = (instances.order_by().annotate(last_succeeded=Subquery(succeeded),
                                          newest_status=Subquery(newest.values("status")[:1]),
                                          newest_message=Subquery(newest.values("message")[:1]))
            .values_list("pk", "last_succeeded", "newest_status", "newest_message"))
    return {pk: StepHistory(last, message if status == GCStep.Status.OVERRUN else None)
            for pk, last, status, message in rows if last is not None or status is not None}


def last_success(state: InstanceGC | None, history: StepHistory) -> dt.datetime | None:
    """The newer of Harbor's last successful GC and harborops' last succeeded step."""
    candidates = [t for t in (state.last_success_at if state else None, history.last_succeeded) if t is not None]
    return max(candidates) if candidates else None


def findings(instance: Instance, state: InstanceGC | None, expected: Expected | None, *,
             at: dt.datetime | None = None, history: StepHistory | None = None) -> list[Finding]:
    """The watchdog's findings for one instance. ``history`` is its StepHistory when the caller
    read the whole fleet's at once (the overview); without it, it is read for this instance."""
    at = at or now()
    if history is None:
        history = step_history(Instance.objects.filter(pk=instance.pk)).get(instance.pk, StepHistory())
    out: list[Finding] = []
    if state is not None and state.check_error:
        out.append(Finding("check_failed", state.check_error))
    if state is not None and state.running_since is not None:
        hours = (at - state.running_since).total_seconds() / 3600
        if hours >= settings.GC_LONG_RUN_HOURS:
            out.append(Finding("run_too_long", f"GC {state.last_run_id} running for {hours:.1f} h; Harbor's jobservice "
                                               f"marks it Error after {JOBSERVICE_LIMIT_HOURS} h without an update "
                                               "(max_update_hours) while it keeps running"))
    if state is not None and state.last_run_status.lower() in FAILURE:
        out.append(Finding("run_failed", f"GC {state.last_run_id} ended {state.last_run_status}"))
    if state is not None and state.schedule_lost_at is not None:
        out.append(Finding("schedule_lost", f"the schedule seen until {state.schedule_seen_at:%Y-%m-%d %H:%M} "
                                            f"was gone at {state.schedule_lost_at:%Y-%m-%d %H:%M}"
                           if state.schedule_seen_at else "the schedule is gone"))
    differs = drift(state, expected)
    if differs and differs != "not read yet":
        if state is not None and not state.schedule_type:
            if state.schedule_lost_at is None:
                out.append(Finding("schedule_lost", differs))
        else:
            out.append(Finding("schedule_drift", differs))
    if state is not None and state.schedule_cron and not state.check_error:
        grace = dt.timedelta(minutes=settings.GC_MISSED_GRACE_MINUTES)
        due = previous_fire(state.schedule_cron, at - grace)
        since = state.schedule_created
        if due is not None and (since is None or due > since) and (
                state.last_scheduled_start is None or state.last_scheduled_start < due - dt.timedelta(minutes=1)):
            out.append(Finding("scheduled_run_missed", f"the schedule {state.schedule_cron} should have run at "
                                                       f"{due:%Y-%m-%d %H:%M}; no scheduled run started since"))
    success = last_success(state, history)
    max_age = dt.timedelta(days=settings.GC_MAX_AGE_DAYS)
    if success is None:
        if state is not None and state.checked_at is not None and not state.check_error:
            out.append(Finding("success_too_old", "no successful GC on record"))
    elif at - success > max_age:
        out.append(Finding("success_too_old", f"last successful GC {success:%Y-%m-%d %H:%M}, "
                                              f"{(at - success).days} days ago"))
    if history.overrun is not None:
        out.append(Finding("window_overrun", history.overrun))
    return out


@dataclass
class InstanceRow:
    """One instance on the GC page and in the API: Harbor's schedule beside its policy's, findings."""

    instance: Instance
    state: InstanceGC | None
    expected: Expected | None
    drift: str
    findings: list[Finding]
    last_success: dt.datetime | None


def overview(*, at: dt.datetime | None = None) -> list[InstanceRow]:
    from harborops.maintenance.services.native import expected_schedules

    at = at or now()
    enabled = Instance.objects.filter(enabled=True)
    fleet = list(enabled.select_related("gc_state", "ha_group").defer(*HEAVY).order_by("name"))
    expected = expected_schedules(fleet)
    steps = step_history(enabled)
    rows = []
    for inst in fleet:
        state = getattr(inst, "gc_state", None)
        exp = expected.get(inst.pk)
        history = steps.get(inst.pk, StepHistory())
        rows.append(InstanceRow(inst, state, exp, drift(state, exp), findings(inst, state, exp, at=at, history=history),
                                last_success(state, history)))
    return rows
