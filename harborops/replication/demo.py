"""Replication in the demo fleet, for real (the simulator copies between its instances):

- the HA pair (demo-eu-prod-a/b) is set up by harborops itself: robots, endpoints, event-based push both
  ways, first sync, consistency check;
- a central Harbor (demo-us-prod) pushes to two regional ones: to demo-us-staging on a schedule (three
  weeks of history, a few failed runs among them) and, event-based, to demo-ap-dev, whose registry answers
  503 (failing, with the failed tasks' logs); a manual policy to demo-edge-2, which is down;
- one execution of a bulk policy hangs, so it shows as stuck; harborops owns a schedule for that policy with
  "skip if running", and its first run was skipped (in the action log);
- the pair's robot secrets are rotated once by harborops (refresh on Harbor, peer endpoints updated).
"""

from __future__ import annotations

from datetime import timedelta

from harborops.core.actor import Actor
from harborops.fleet import demo as fleet_demo
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor.client import HarborClient
from harborops.harbor_sim import push_artifact
from harborops.harbor_sim.server import SimServer
from harborops.replication import pairs, rotate, schedules, services
from harborops.replication.models import Policy

CENTRAL = "demo-us-prod"
HISTORY_DAYS = 21


def _client(server: SimServer, n: int) -> HarborClient:
    return HarborClient(server.instance_url(n), username="admin", password=fleet_demo.ADMIN_PASSWORD, timeout=10)


def start(server: SimServer, actor: Actor) -> list[str]:
    """Run after fleet_demo.register(); returns lines for the command's output."""
    fleet = server.fleet
    number = {inst.name: n for n, inst in enumerate(fleet, start=1)}
    sim = {inst.name: inst for inst in fleet}
    for inst in fleet:
        inst.jobs.durations["replication"] = 2.0
    for name, repo, tag in (("demo-eu-prod-a", "app", "1.4"), ("demo-eu-prod-b", "worker", "2.0"),
                            (CENTRAL, "base", "1.0"), (CENTRAL, "base", "1.1"), (CENTRAL, "web", "latest")):
        push_artifact(sim[name], "library", repo, tag, 50_000_000)
    sim["demo-ap-dev"].registry_fault = 503
    sim["demo-edge-2"].down = True

    central = number[CENTRAL]
    with _client(server, central) as c:
        def endpoint(target: str) -> int:
            return c.create_registry({"name": target, "url": server.instance_url(number[target]), "type": "harbor",
                                      "insecure": False, "credential": {"type": "basic", "access_key": "admin",
                                                                        "access_secret": fleet_demo.ADMIN_PASSWORD}})

        def policy(name: str, reg: int, trigger: dict[str, object]) -> int:
            return c.create_replication_policy({"name": name, "dest_registry": {"id": reg}, "trigger": trigger,
                                                "filters": [{"type": "name", "value": "library/**"}],
                                                "enabled": True, "override": True, "replicate_deletion": False})

        staging, ap_dev, edge = endpoint("demo-us-staging"), endpoint("demo-ap-dev"), endpoint("demo-edge-2")
        nightly = policy("library-to-us-staging", staging, {"type": "scheduled",
                                                            "trigger_settings": {"cron": "0 0 */6 * * *"}})
        policy("library-to-ap-dev", ap_dev, {"type": "event_based"})
        edge_policy = policy("library-to-edge-2", edge, {"type": "manual"})
        bulk = policy("bulk-to-us-staging", staging, {"type": "manual"})
        c.start_replication(edge_policy)
    # three weeks of scheduled history (a run every 6 h; two failed), as Harbor's scheduler would have left it
    board, now = sim[CENTRAL].jobs, sim[CENTRAL].clock.now()
    board.set_outcome("replication", "hang", once=True)  # a bulk run started 3 h ago and never ends: stuck
    board.start_replication(sim[CENTRAL].store.policies[bulk], "manual", at=now - timedelta(hours=3))
    for i in range(HISTORY_DAYS * 4, 0, -1):
        if i in (10, 57):
            board.set_outcome("replication", "fail", once=True)
        at = (now - timedelta(hours=6 * i)).replace(minute=0, second=0, microsecond=0)
        board.start_replication(sim[CENTRAL].store.policies[nightly], "scheduled", at=at)
    push_artifact(sim[CENTRAL], "library", "web", "1.2", 20_000_000)  # fires the event-based policy (fails)

    lines = []
    group = HAGroup.objects.filter(name=fleet_demo.HA_GROUP).first()
    if group is not None:
        pair = pairs.setup(group, ["library"], say=lambda _line: None)
        rotated = rotate.rotate(pair, say=lambda _line: None)
        lines.append(f"HA pair {group.name}: two-way replication set up by harborops; "
                     + ("consistent" if pair.consistent else f"{pair.missing_count} missing")
                     + f"; robot secrets rotated ({rotated} of 2 endpoints answer)")
    demo_instances = list(Instance.objects.filter(name__in=[d.name for d in fleet_demo.DEMO]))
    results = services.collect_many(demo_instances)
    lines.append(f"replication collected: {sum(1 for r in results if not r.error)} of {len(results)} instances "
                 "(one is down)")
    bulk_policy = Policy.objects.filter(instance__name=CENTRAL, name="bulk-to-us-staging").first()
    if bulk_policy is not None:  # harborops' own schedule for the bulk copy: its first run meets the stuck one
        owned = schedules.set_schedule(bulk_policy, cron="*/30 * * * *", enabled=True, skip_if_running=True,
                                       actor=actor)
        lines.append(f"replication schedule of {bulk_policy.name}: {schedules.fire(owned.pk).split(': ', 2)[-1]}")
    return lines
