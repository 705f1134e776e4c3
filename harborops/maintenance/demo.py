"""The demo's garbage collection: a weekly policy over the prod Harbors, Harbor's own schedules set
from it, a first run started as a job (the worker runs it against the simulated Harbors), and one
Harbor whose schedule then vanishes (the simulator's fault) so the watchdog has something to show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from harborops.core.actor import Actor
from harborops.harbor_sim.server import SimServer
from harborops.maintenance.models import GCPolicy
from harborops.maintenance.services import native, policies, runs

POLICY = "demo-weekly-prod"
LOSES_SCHEDULE = "demo-us-prod"


def start(server: SimServer, actor: Actor) -> list[str]:
    values: dict[str, Any] = {"targets": GCPolicy.Targets.LABEL, "target_label": "env=prod", "cron": "0 2 * * 6",
              "window_start": dt.time(2, 0), "window_minutes": 240, "concurrency": 2, "dry_run_first": True,
              "delete_untagged": True, "workers": 4, "harbor_cron": "0 0 3 * * 0",
              "notes": "demo: harborops runs Saturdays 02:00; Harbor's own schedule Sundays 03:00"}
    policy = GCPolicy.objects.filter(name=POLICY).first()
    if policy is None:
        policy = policies.create_policy(actor=actor, name=POLICY, **values)
    else:
        policy = policies.update_policy(policy, actor=actor, **values)
    lines = []
    ok, failed = native.apply_schedules(policy, actor=actor, say=lambda _text: None)
    lines.append(f"demo GC: policy {POLICY}; Harbor schedules set on {ok} instance(s), {failed} unreachable")
    names = [inst.name for inst in server.fleet]
    if LOSES_SCHEDULE in names:
        server.fleet[names.index(LOSES_SCHEDULE) + 1].jobs.lose_schedule("gc")
        lines.append(f"demo GC: {LOSES_SCHEDULE}'s GC schedule vanished (simulated fault)")
    native.check_fleet()
    job = runs.start_run(policy, actor=actor)
    lines.append(f"demo GC: first run started as job {job.pk} (the worker runs it; see the GC page)")
    return lines


def unregister(actor: Actor) -> int:
    gone = 0
    for policy in GCPolicy.objects.filter(name=POLICY):
        policies.delete_policy(policy, actor=actor)
        gone += 1
    return gone
