"""The sweep against the in-process simulator: classification, current state, transitions."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from harborops.fleet.models import HealthSnapshot, Instance, StatusChange
from harborops.fleet.services.sweep import Probe, record_probes, sweep_instances
from harborops.harbor_sim import AsyncSimTransport, Faults, Fleet, HarborInstance
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def sweep(fleet: Fleet, instances: list[Instance]) -> list[Probe]:
    probes = asyncio.run(sweep_instances(instances, timeout=5, transport=AsyncSimTransport(fleet, latency=False)))
    record_probes(probes)
    return probes


def test_it_sweeps_healthy_instances_of_several_versions(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(3, ["2.6.0", "2.10.0", "2.15.0"])
    instances = [make_instance(n) for n in (1, 2, 3)]
    probes = sweep(fleet, instances)
    assert [p.status for p in probes] == ["up", "up", "up"]
    assert [p.error_kind for p in probes] == ["", "", ""]
    first = Instance.objects.get(pk=instances[0].pk)
    assert first.status == "up" and first.version.startswith("v2.6.0")
    assert first.storage_total == 500 * 1024**3 and first.storage_free is not None
    assert first.last_seen_at == first.last_swept_at == first.status_since
    assert "total_project_count" in first.statistics
    snaps = {s.instance_id: s for s in HealthSnapshot.objects.all()}
    assert snaps[instances[0].pk].job_queues is None  # 2.6 has no /jobservice
    assert isinstance(snaps[instances[2].pk].job_queues, list)
    assert {c["name"] for c in snaps[instances[2].pk].components} >= {"core", "database", "registry"}


def test_it_marks_an_unhealthy_component_as_degraded(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(2, "2.13.0")
    fleet[2].unhealthy["jobservice"] = "dial tcp: connection refused"
    a, b = make_instance(1), make_instance(2)
    sweep(fleet, [a, b])
    b.refresh_from_db()
    assert b.status == "degraded" and b.unhealthy_components == ["jobservice"]
    assert b.last_seen_at is not None  # it answered
    assert Instance.objects.get(pk=a.pk).status == "up"
    change = StatusChange.objects.get(instance=b)
    assert (change.from_status, change.to_status) == ("unknown", "degraded")
    assert "jobservice" in change.reason


def test_it_classifies_wrong_credentials_as_auth(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(2, "2.13.0")
    good, bad = make_instance(1), make_instance(2, password="wrong-password")
    probes = sweep(fleet, [good, bad])
    assert probes[1].error_kind == "auth" and probes[1].status == "unknown"
    bad.refresh_from_db()
    assert bad.error_kind == "auth" and bad.last_seen_at is None
    assert "wrong-password" not in bad.error_message
    assert Instance.objects.get(pk=good.pk).status == "up"


def test_it_records_each_transition_once(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(1, "2.14.0")
    inst = make_instance(1)
    sweep(fleet, [inst])
    sweep(fleet, [inst])
    fleet[1].unhealthy["redis"] = "down"
    sweep(fleet, [inst])
    sweep(fleet, [inst])
    del fleet[1].unhealthy["redis"]
    sweep(fleet, [inst])
    got = list(StatusChange.objects.filter(instance=inst).order_by("at", "pk").values_list("from_status", "to_status"))
    assert got == [("unknown", "up"), ("up", "degraded"), ("degraded", "up")]
    assert HealthSnapshot.objects.filter(instance=inst).count() == 5


def test_a_stale_probe_does_not_overwrite_newer_state(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(1, "2.13.0")
    inst = make_instance(1)
    sweep(fleet, [inst])
    old = Probe(instance_id=inst.pk, taken_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), status="down",
                error_kind="timeout", error="late")
    result = record_probes([old])
    assert result.skipped_stale == 1
    inst.refresh_from_db()
    assert inst.status == "up" and StatusChange.objects.filter(instance=inst).count() == 1


class _Harbor22(HarborInstance):
    """Plays 2.13 but reports 2.2 in /systeminfo (the simulator cannot be a 2.2 itself)."""

    @property
    def harbor_version(self) -> str:
        return "v2.2.3-6b2bcd0f"


@pytest.mark.off_spec("garbage bodies and a 2.2 version string are not in any spec")
def test_it_classifies_garbage_and_unsupported_versions_without_blocking_others(make_instance: MakeInstance) -> None:
    fleet = Fleet([HarborInstance("2.13.0"), HarborInstance("2.13.0"), _Harbor22("2.13.0"), HarborInstance("2.9.0")])
    fleet[2].faults = Faults(malformed_rate=1.0)
    instances = [make_instance(n) for n in (1, 2, 3, 4)]
    probes = sweep(fleet, instances)
    assert [(p.status, p.error_kind) for p in probes] == [
        ("up", ""), ("down", "bad_response"), ("unknown", "unsupported_version"), ("up", "")]
    assert "2.2.3" in probes[2].error
    assert StatusChange.objects.count() == 3  # unknown → unknown is no transition


def test_a_hang_in_process_is_a_timeout(make_instance: MakeInstance) -> None:
    fleet = Fleet.create(2, "2.13.0")
    fleet[1].faults = Faults(hang_rate=1.0, path_pattern="^/health")
    probes = sweep(fleet, [make_instance(1), make_instance(2)])
    assert (probes[0].status, probes[0].error_kind) == ("down", "timeout")
    assert probes[1].status == "up"
