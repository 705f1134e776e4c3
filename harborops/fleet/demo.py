"""A demo fleet: a dozen simulated Harbors of mixed versions (one unhealthy, one slow, one down,
one HA pair), registered in harborops so a newcomer sees a populated dashboard at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services import ha_groups, inventory
from harborops.harbor_sim import Fleet, HarborInstance
from harborops.harbor_sim.clock import Clock
from harborops.harbor_sim.faults import Latency
from harborops.harbor_sim.server import SimServer

ADMIN_PASSWORD = "Harbor12345"  # noqa: S105 - Harbor's documented default, for simulated Harbors only
HA_GROUP = "demo-registry-eu"


@dataclass(frozen=True)
class DemoHarbor:
    name: str
    version: str
    labels: dict[str, str]
    trouble: str = ""  # "", "unhealthy", "slow", "down"
    used: float = 0.3  # share of the 500 GiB volume in use (unreclaimed blobs until a GC runs)


DEMO = [
    DemoHarbor("demo-eu-prod-a", "2.13.1", {"env": "prod", "region": "eu", "team": "platform"}, used=0.41),
    DemoHarbor("demo-eu-prod-b", "2.13.1", {"env": "prod", "region": "eu", "team": "platform"}, used=0.41),
    DemoHarbor("demo-us-prod", "2.12.2", {"env": "prod", "region": "us", "team": "platform"}, used=0.62),
    DemoHarbor("demo-us-staging", "2.14.0", {"env": "staging", "region": "us", "team": "web"}, trouble="unhealthy",
               used=0.48),
    DemoHarbor("demo-ap-prod", "2.11.1", {"env": "prod", "region": "ap", "team": "platform"}, trouble="slow",
               used=0.81),
    DemoHarbor("demo-ap-dev", "2.15.0", {"env": "dev", "region": "ap", "team": "data"}, used=0.12),
    DemoHarbor("demo-eu-dev", "2.15.0", {"env": "dev", "region": "eu", "team": "web"}, used=0.2),
    DemoHarbor("demo-eu-ci", "2.9.4", {"env": "ci", "region": "eu", "team": "build"}, used=0.55),
    DemoHarbor("demo-us-ci", "2.9.4", {"env": "ci", "region": "us", "team": "build"}, used=0.5),
    DemoHarbor("demo-legacy", "2.5.6", {"env": "prod", "region": "eu", "team": "legacy"}, used=0.93),
    DemoHarbor("demo-edge-1", "2.10.3", {"env": "prod", "region": "edge", "team": "iot"}, used=0.3),
    DemoHarbor("demo-edge-2", "2.8.6", {"env": "prod", "region": "edge", "team": "iot"}, trouble="down", used=0.4),
]


def build() -> Fleet:
    instances = []
    clock = Clock()  # real time: jobs (GC, replication) progress while the demo runs
    for spec in DEMO:
        inst = HarborInstance(spec.version, name=spec.name, admin_password=ADMIN_PASSWORD, clock=clock)
        inst.store.garbage_bytes = int(spec.used * inst.storage_total)
        if spec.trouble == "unhealthy":
            inst.unhealthy["trivy"] = "trivy adapter: connection refused"
        elif spec.trouble == "slow":
            inst.faults.latency = Latency("fixed", 1500.0)
        elif spec.trouble == "down":
            inst.faults.error_rate = 1.0
        instances.append(inst)
    return Fleet(instances, clock=clock)


def register(server: SimServer, actor: Actor) -> list[Instance]:
    """Add (or update) one Instance per simulated Harbor, and the HA pair. Idempotent."""
    registered = []
    with transaction.atomic():
        for n, spec in enumerate(DEMO, start=1):
            fields: dict[str, Any] = {"url": server.instance_url(n), "username": "admin", "password": ADMIN_PASSWORD,
                      "labels": {**spec.labels, "demo": "yes"}, "notes": "simulated by manage.py demo"}
            current = Instance.objects.filter(name=spec.name).first()
            if current is None:
                registered.append(inventory.create_instance(actor=actor, name=spec.name, **fields))
            else:
                registered.append(inventory.update_instance(current, actor=actor, **fields))
        pair = [i for i in registered if i.name in ("demo-eu-prod-a", "demo-eu-prod-b")]
        group = HAGroup.objects.filter(name=HA_GROUP).first()
        if group is None:
            ha_groups.create_group(actor=actor, name=HA_GROUP, mode=HAGroup.Mode.TWO_WAY_REPLICATION,
                                   hostname="registry.eu.demo.test", members=pair)
        else:
            ha_groups.update_group(group, actor=actor, members=pair)
    return registered


def unregister(actor: Actor) -> int:
    gone = 0
    with transaction.atomic():
        for group in HAGroup.objects.filter(name=HA_GROUP):
            ha_groups.delete_group(group, actor=actor)
        for instance in Instance.objects.filter(name__in=[d.name for d in DEMO]):
            inventory.delete_instance(instance, actor=actor)
            gone += 1
    return gone
