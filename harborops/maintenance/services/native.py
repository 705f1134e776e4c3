"""Harbor's own GC schedules across the fleet: read each instance's schedule and newest GC runs,
set schedules from a policy, and compare (drift).

Harbor keeps one GC schedule per instance (GET /system/gc/schedule answers a GCHistory-shaped
object, empty when there is none; a POST replaces it: src/server/v2.0/handler/gc.go updateSchedule).
Its history (GET /system/gc, newest first) marks scheduled runs with ``schedule.type == "Schedule"``
(model/gc.go GCHistory.ToSwagger) — which is how a missed scheduled run is noticed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.fleet.models import Instance
from harborops.harbor import errors as e
from harborops.harbor.types import ExecHistory
from harborops.maintenance.models import GCPolicy, InstanceGC
from harborops.maintenance.services.online import SUCCESS, workers_for
from harborops.maintenance.services.policies import shared_storage_split, target_instances

Say = Callable[[str], None]
RUNNING = {"pending", "running", "scheduled"}


@dataclass(frozen=True)
class Expected:
    """What a policy wants an instance's Harbor schedule to be."""

    policy: GCPolicy
    cron: str
    delete_untagged: bool
    workers: int | None


def expected_schedules(fleet: Sequence[Instance] | None = None) -> dict[int, Expected]:
    """instance id -> the schedule the first policy (by name) that manages Harbor's cron expects."""
    fleet = list(fleet) if fleet is not None else list(Instance.objects.filter(enabled=True))
    out: dict[int, Expected] = {}
    seen: set[tuple[str, ...]] = set()
    for policy in GCPolicy.objects.exclude(harbor_cron="").filter(enabled=True).prefetch_related("instances"):
        # a later policy (by name) with the same targets as an earlier one changes nothing: skip
        # working them out again (1,000 instances, a dozen "all" policies)
        key = (policy.targets, policy.target_label if policy.targets == GCPolicy.Targets.LABEL else "",
               *(sorted(str(i.pk) for i in policy.instances.all()) if policy.targets == GCPolicy.Targets.LISTED
                 else ()))
        if len(out) == len(fleet) or key in seen:
            continue
        seen.add(key)
        for inst in shared_storage_split(target_instances(policy, fleet))[0]:
            out.setdefault(inst.pk, Expected(policy, policy.harbor_cron, policy.delete_untagged, policy.workers))
    return out


def _is_schedule_run(entry: ExecHistory) -> bool:
    kind = (entry.schedule.type if entry.schedule else "") or ""
    return kind.lower() == "schedule" or entry.job_kind.upper() == "SCHEDULE"


def read_instance(instance: Instance, *, at: dt.datetime | None = None) -> InstanceGC:
    """Read one instance's GC schedule and newest runs into its InstanceGC row."""
    at = at or now()
    state, _ = InstanceGC.objects.get_or_create(instance=instance)
    try:
        with instance.client(timeout=float(settings.GC_HARBOR_TIMEOUT)) as client:
            sched = client.get_gc_schedule()
            history = client.list_gc_history(limit=50)
    except e.HarborError as exc:
        state.checked_at, state.check_error = at, exc.message[:2000]
        state.save()
        return state
    state.checked_at, state.check_error = at, ""
    stype = (sched.schedule.type if sched and sched.schedule else "") or ""
    if stype in ("", "None"):
        if state.schedule_type and state.schedule_lost_at is None:
            state.schedule_lost_at = at  # was there at the last check, now gone
        state.schedule_type, state.schedule_cron, state.schedule_params, state.schedule_created = "", "", {}, None
    else:
        assert sched is not None and sched.schedule is not None
        state.schedule_type, state.schedule_cron = stype, sched.schedule.cron or ""
        state.schedule_params = {k: v for k, v in sched.job_parameters.items()
                                 if k in ("delete_untagged", "workers", "dry_run", "delete_tag")}
        state.schedule_created, state.schedule_seen_at, state.schedule_lost_at = sched.creation_time, at, None
    latest = history[0] if history else None
    state.last_run_id = latest.id if latest else None
    state.last_run_status = latest.job_status if latest else ""
    state.last_run_trigger = ((latest.schedule.type if latest.schedule else "") or latest.job_kind) if latest else ""
    state.last_run_start = latest.creation_time if latest else None
    state.last_run_end = latest.update_time if latest and latest.job_status.lower() not in RUNNING else None
    success = next((h for h in history if h.job_status.lower() in SUCCESS), None)
    if success is not None and (state.last_success_at is None or (success.update_time or at) > state.last_success_at):
        state.last_success_at = success.update_time or success.creation_time
    running = next((h for h in history if h.job_status.lower() in RUNNING), None)
    state.running_since = running.creation_time if running else None
    scheduled = next((h for h in history if _is_schedule_run(h)), None)
    state.last_scheduled_start = scheduled.creation_time if scheduled else None
    state.save()
    return state


def check_fleet(*, say: Say = lambda _text: None) -> tuple[int, int]:
    """Read every enabled instance; one that fails is recorded and the others go on."""
    ok = failed = 0
    for inst in Instance.objects.filter(enabled=True).order_by("name"):
        state = read_instance(inst)
        if state.check_error:
            failed += 1
            say(f"{inst.name}: {state.check_error}")
        else:
            ok += 1
            say(f"{inst.name}: schedule {state.schedule_type or 'none'} {state.schedule_cron}; "
                f"last run {state.last_run_status or 'none'}")
    return ok, failed


def drift(state: InstanceGC | None, expected: Expected | None) -> str:
    """How an instance's Harbor schedule differs from what its policy expects ("" = no drift)."""
    if expected is None:
        return ""
    if state is None or state.checked_at is None:
        return "not read yet"
    if state.check_error:
        return ""
    if not state.schedule_type:
        return f"no schedule on Harbor; policy {expected.policy.name} expects {expected.cron}"
    diffs = []
    if state.schedule_cron != expected.cron:
        diffs.append(f"cron {state.schedule_cron or '—'} ≠ {expected.cron}")
    if bool(state.schedule_params.get("delete_untagged")) != expected.delete_untagged:
        diffs.append(f"delete_untagged {bool(state.schedule_params.get('delete_untagged'))} ≠ "
                     f"{expected.delete_untagged}")
    return "; ".join(diffs)


def apply_schedules(policy: GCPolicy, *, actor: Actor, say: Say) -> tuple[int, int]:
    """Set Harbor's GC schedule on every instance the policy targets (type Custom, the policy's
    6-field cron); one failure never stops the others. Each change is in the action log."""
    if not policy.harbor_cron:
        raise ValueError("the policy has no Harbor cron to set")
    ok = failed = 0
    targets = target_instances(policy)
    collect, shared = shared_storage_split(targets)
    for inst in targets:
        if inst.pk in shared:
            say(f"{inst.name}: no schedule set: {shared[inst.pk]}")
    for inst in collect:
        try:
            with inst.client(timeout=float(settings.GC_HARBOR_TIMEOUT)) as client:
                caps = client.detect_version()
                workers, why = workers_for(caps, policy.workers)
                if why:
                    say(f"{inst.name}: {why}")
                client.set_gc_schedule("Custom", policy.harbor_cron, delete_untagged=policy.delete_untagged,
                                       workers=workers)
        except e.HarborError as exc:
            failed += 1
            say(f"{inst.name}: FAILED: {exc.message}")
            record(actor=actor, action="maintenance.schedule.set", obj=inst, outcome="failure",
                   after={"cron": policy.harbor_cron, "policy": policy.name}, message=exc.message)
            continue
        ok += 1
        say(f"{inst.name}: schedule set to Custom {policy.harbor_cron}")
        record(actor=actor, action="maintenance.schedule.set", obj=inst,
               after={"cron": policy.harbor_cron, "policy": policy.name, "delete_untagged": policy.delete_untagged,
                      "workers": policy.workers})
        read_instance(inst)
    return ok, failed

