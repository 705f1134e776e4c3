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
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab
from django.conf import settings
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


@dataclass(frozen=True)
class Finding:
    code: str
    message: str

    @property
    def title(self) -> str:
        return CONDITIONS[self.code]


def previous_fire(harbor_cron: str, before: dt.datetime, *, horizon_days: int = 35) -> dt.datetime | None:
    """The last time at or before ``before`` a Harbor cron (6 fields, seconds first; or 5) fires,
    searched minute by minute back over ``horizon_days`` in the server's time zone."""
    fields = harbor_cron.split()
    if len(fields) == 6:
        fields = fields[1:]
    try:
        spec: Any = crontab(**parse_cron(" ".join(fields)))  # parsed sets: .minute, .hour, ...
    except (ValueError, TypeError):
        return None
    # celery's crontab: day_of_week 0 = Sunday, like Harbor's (robfig/cron)
    t = localtime(before).replace(second=0, microsecond=0)
    for _ in range(horizon_days * 24 * 60):
        if (t.minute in spec.minute and t.hour in spec.hour and t.month in spec.month_of_year
                and t.day in spec.day_of_month and (t.isoweekday() % 7) in spec.day_of_week):
            return t
        t -= dt.timedelta(minutes=1)
    return None


def last_success(instance: Instance, state: InstanceGC | None) -> dt.datetime | None:
    """The newer of Harbor's last successful GC and harborops' last succeeded step."""
    step = (GCStep.objects.filter(instance=instance, status=GCStep.Status.SUCCEEDED)
            .exclude(finished_at=None).order_by("-finished_at").values_list("finished_at", flat=True).first())
    candidates = [t for t in (state.last_success_at if state else None, step) if t is not None]
    return max(candidates) if candidates else None


def findings(instance: Instance, state: InstanceGC | None, expected: Expected | None, *,
             at: dt.datetime | None = None) -> list[Finding]:
    at = at or now()
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
    success = last_success(instance, state)
    max_age = dt.timedelta(days=settings.GC_MAX_AGE_DAYS)
    if success is None:
        if state is not None and state.checked_at is not None and not state.check_error:
            out.append(Finding("success_too_old", "no successful GC on record"))
    elif at - success > max_age:
        out.append(Finding("success_too_old", f"last successful GC {success:%Y-%m-%d %H:%M}, "
                                              f"{(at - success).days} days ago"))
    newest = GCStep.objects.filter(instance=instance).exclude(status=GCStep.Status.PENDING).order_by("-pk").first()
    if newest is not None and newest.status == GCStep.Status.OVERRUN:
        out.append(Finding("window_overrun", newest.message))
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

    fleet = list(Instance.objects.filter(enabled=True).select_related("gc_state", "ha_group").order_by("name"))
    expected = expected_schedules(fleet)
    rows = []
    for inst in fleet:
        state = getattr(inst, "gc_state", None)
        exp = expected.get(inst.pk)
        rows.append(InstanceRow(inst, state, exp, drift(state, exp), findings(inst, state, exp, at=at),
                                last_success(inst, state)))
    return rows
