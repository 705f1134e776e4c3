"""The demo's garbage collection and clean-up, with living data:

- a nightly policy over the prod Harbors, Harbor's own (weekly) schedules set from it;
- 30 days of GC history (one run a night, a step per instance with freed bytes and storage used
  before / after), so the freed-bytes trend and the instance pages show real states;
- ``demo-legacy`` overdue: its GCs have overrun the window for the last 12 nights (Harbor 2.5
  cannot stop a GC), so its last success is too old; it is left out of today's run;
- one Harbor whose schedule then vanishes (the simulator's fault) so the watchdog shows it;
- content for the clean-up report (untagged artifacts, an old unpulled repository, a project near
  its quota), collected once; then the first live run starts as a job (the worker runs it).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.timezone import localtime, now

from harborops.core.actor import Actor
from harborops.core.models import JobRun
from harborops.fleet.models import Instance
from harborops.harbor_sim.http import HarborError
from harborops.harbor_sim.routes.artifacts import pull_artifact, push_artifact
from harborops.harbor_sim.server import SimServer
from harborops.maintenance.models import GCPolicy, GCStep
from harborops.maintenance.services import cleanup, native, policies, runs

POLICY = "demo-nightly-prod"
LOSES_SCHEDULE = "demo-us-prod"
OVERDUE = "demo-legacy"
OVERDUE_DAYS = 12
HISTORY_DAYS = 30
GIB = 1024**3
MB = 1024**2
# clean-up content: (instance, repository, tags pushed in order (a repeated tag moves), untagged pushes)
CONTENT = (
    ("demo-eu-prod-a", "api", ["1.0", "1.1", "latest", "latest", "latest"], 2),
    ("demo-us-prod", "api", ["2.3", "latest", "latest"], 3),
    ("demo-ap-prod", "ingest", ["0.9", "nightly", "nightly", "nightly", "nightly"], 1),
    ("demo-edge-1", "agent", ["5.0", "5.1", "stable", "stable"], 0),
)


def _values() -> dict[str, Any]:
    return {"targets": GCPolicy.Targets.LABEL, "target_label": "env=prod", "cron": "0 2 * * *",
            "window_start": dt.time(2, 0), "window_minutes": 240, "concurrency": 2, "dry_run_first": True,
            "delete_untagged": True, "workers": 4, "harbor_cron": "0 0 3 * * 0",
            "notes": "demo: harborops runs nightly at 02:00; Harbor's own schedule Sundays 03:00 as a fallback"}


def history(policy: GCPolicy, *, today: dt.date | None = None) -> int:
    """30 nights of finished runs of ``policy`` (once: a second call adds nothing); how many runs."""
    if JobRun.objects.filter(kind=runs.KIND, params__demo_history=True).exists():
        return 0
    targets = list(policies.visiting_order(policies.target_instances(policy)))
    today = today or localtime(now()).date()
    tz = localtime(now()).tzinfo
    policy_type = ContentType.objects.get_for_model(GCPolicy)
    made = 0
    with transaction.atomic():
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - dt.timedelta(days=back)
            start = dt.datetime.combine(day, dt.time(2, 0), tzinfo=tz)
            job = JobRun.objects.create(
                kind=runs.KIND, status=JobRun.Status.SUCCEEDED, trigger=JobRun.Trigger.SCHEDULED,
                actor_name=f"gc policy {policy.name}", target_type=policy_type, target_id=str(policy.pk),
                target_repr=policy.name, params={"policy": policy.pk, "window": policy.window_label(),
                                                 "demo_history": True},
                queue="jobs", created_at=start, started_at=start, heartbeat_at=start, attempts=1,
                progress_current=len(targets), progress_total=len(targets))
            steps, clock, freed_total, failed = [], start, 0, False
            for n, inst in enumerate(targets):
                step = _step(job, policy, inst, n, day, clock, overdue=back <= OVERDUE_DAYS)
                clock = step.finished_at or clock
                freed_total += step.freed_bytes or 0
                failed = failed or step.status != GCStep.Status.SUCCEEDED
                steps.append(step)
            GCStep.objects.bulk_create(steps)
            JobRun.objects.filter(pk=job.pk).update(
                finished_at=clock, status=JobRun.Status.FAILED if failed else JobRun.Status.SUCCEEDED,
                summary="" if failed else f"{len(steps)} succeeded; freed {freed_total} bytes",
                error=f"some instances did not finish; freed {freed_total} bytes" if failed else "")
            made += 1
    return made


def _step(job: JobRun, policy: GCPolicy, inst: Instance, position: int, day: dt.date, begin: dt.datetime, *,
          overdue: bool) -> GCStep:
    rng = random.Random(f"{inst.name}/{day.isoformat()}")  # noqa: S311 - demo numbers, not security
    used = int((0.3 + rng.random() * 0.5) * 500 * GIB)
    started = begin + dt.timedelta(seconds=rng.randint(5, 60))
    step = GCStep(job=job, policy=policy, instance=inst, instance_name=inst.name, ha_group_id=inst.ha_group_id,
                  position=position, started_at=started, phase="gc", used_before=used, harbor_status="Success")
    if inst.name == OVERDUE and overdue:
        step.status, step.harbor_status = GCStep.Status.OVERRUN, "Running"
        step.finished_at = started + dt.timedelta(minutes=policy.window_minutes)
        step.message = (f"the maintenance window ended at {step.finished_at:%Y-%m-%d %H:%M}; Harbor 2.5 cannot "
                        "stop a GC: it is still running there")
        return step
    if inst.name == "demo-edge-2" and day >= localtime(now()).date() - dt.timedelta(days=3):
        step.status, step.harbor_status = GCStep.Status.FAILED, ""
        step.finished_at = started + dt.timedelta(seconds=30)
        step.message = "could not start GC: connection refused"
        return step
    freed = int(used * rng.uniform(0.004, 0.03))
    step.status, step.freed_bytes, step.freed_source = GCStep.Status.SUCCEEDED, freed, "harbor result"
    step.estimated_bytes, step.used_after = freed, used - freed
    step.finished_at = started + dt.timedelta(minutes=rng.randint(4, 55))
    step.message = f"GC succeeded, {freed} bytes freed"
    return step


def content(server: SimServer) -> list[str]:
    """Artifacts for the clean-up report: moved tags leave untagged artifacts, pushes by digest, an
    old repository nobody pulls, a project near its quota."""
    names = [inst.name for inst in server.fleet]
    rng = random.Random("demo-cleanup")  # noqa: S311 - demo numbers
    lines = []
    for name, repo, tags, untagged in CONTENT:
        if name not in names:
            continue
        inst = server.fleet[names.index(name) + 1]
        if any(r.name == f"library/{repo}" for r in inst.store.repositories.values()):
            continue  # already there (a second demo start)
        try:
            for tag in tags:
                push_artifact(inst, "library", repo, tag, rng.randint(60, 400) * MB)
            for _ in range(untagged):
                push_artifact(inst, "library", repo, None, rng.randint(60, 400) * MB)
            pull_artifact(inst, f"library/{repo}", tags[-1])
            old = push_artifact(inst, "library", f"{repo}-2023", "final", rng.randint(100, 300) * MB)
            repository = next(r for r in inst.store.repositories.values() if r.name == f"library/{repo}-2023")
            repository.creation_time = old.push_time = inst.clock.now() - dt.timedelta(days=400)
            pull_artifact(inst, f"library/{repo}-2023", "final", at=inst.clock.now() - dt.timedelta(days=210))
        except HarborError as exc:
            lines.append(f"demo clean-up: {name}: {exc}")
            continue
        if name == "demo-ap-prod":  # a project at 90 % of its quota
            proj = inst.store.project_by_name("library")
            if proj is not None:
                proj.storage_limit = int(inst.store.project_usage(proj.project_id) / 0.9)
    ok, failed = cleanup.scan_fleet()
    lines.append(f"demo clean-up: report collected from {ok} instance(s), {failed} unreadable")
    return lines


def start(server: SimServer, actor: Actor) -> list[str]:
    values = _values()
    policy = GCPolicy.objects.filter(name=POLICY).first()
    if policy is None:
        policy = policies.create_policy(actor=actor, name=POLICY, **values)
    else:
        policy = policies.update_policy(policy, actor=actor, **values)
    lines = []
    ok, failed = native.apply_schedules(policy, actor=actor, say=lambda _text: None)
    lines.append(f"demo GC: policy {POLICY}; Harbor schedules set on {ok} instance(s), {failed} unreachable")
    made = history(policy)
    if made:
        lines.append(f"demo GC: {made} nights of GC history; {OVERDUE} overran its window for {OVERDUE_DAYS} nights")
    names = [inst.name for inst in server.fleet]
    if LOSES_SCHEDULE in names:
        server.fleet[names.index(LOSES_SCHEDULE) + 1].jobs.lose_schedule("gc")
        lines.append(f"demo GC: {LOSES_SCHEDULE}'s GC schedule vanished (simulated fault)")
    native.check_fleet()
    lines += content(server)
    live = [i for i in policies.target_instances(policy) if i.name != OVERDUE]
    job = runs.start_run(policy, actor=actor, instances=live)
    lines.append(f"demo GC: tonight's run started as job {job.pk} without {OVERDUE} (overdue; see the GC page)")
    return lines


def unregister(actor: Actor) -> int:
    gone = 0
    for policy in GCPolicy.objects.filter(name__in=(POLICY, "demo-weekly-prod")):
        policies.delete_policy(policy, actor=actor)
        gone += 1
    return gone
