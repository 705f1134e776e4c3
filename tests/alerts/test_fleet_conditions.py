"""The fleet's condition source over stored sweep data (no network)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.timezone import now

from harborops.alerts.models import InstanceAvailability
from harborops.core.conditions import evaluate_all
from harborops.fleet.models import HealthSnapshot, Instance
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
GIB = 1024**3


def found(at: dt.datetime) -> dict[tuple[str, str], tuple[str, str]]:
    ev = evaluate_all(at, only=["fleet"])
    assert ev.errors == {}
    return {(o.condition, o.subject): (o.severity, o.summary) for o in ev.occurrences}


def test_each_fleet_condition_from_what_the_sweep_stored(make_instance: MakeInstance, settings):
    settings.ALERT_JOB_QUEUE_BACKLOG = 100
    at = now()
    down = make_instance(1, status="down", error_kind="timeout", error_message="no answer in time")
    InstanceAvailability.objects.create(instance=down, state="down", consecutive_failures=4)
    flapping = make_instance(2, status="down", error_kind="timeout")  # raw down, debounced up: nothing
    InstanceAvailability.objects.create(instance=flapping, state="up", consecutive_failures=1)
    degraded = make_instance(3, status="degraded", status_since=at - dt.timedelta(minutes=10),
                             unhealthy_components=["trivy"])
    just_degraded = make_instance(4, status="degraded", status_since=at - dt.timedelta(minutes=1))
    auth = make_instance(5, status="unknown", error_kind="auth")
    old = make_instance(6, status="unknown", error_kind="unsupported_version", error_message="v1.10 is too old")
    full = make_instance(7, status="up", storage_total=100 * GIB, storage_free=3 * GIB)
    warm = make_instance(8, status="up", storage_total=100 * GIB, storage_free=12 * GIB)
    backlog = make_instance(9, status="up")
    for taken, count in ((at - dt.timedelta(minutes=5), 5), (at, 150)):
        HealthSnapshot.objects.create(instance=backlog, taken_at=taken, status="up",
                                      job_queues=[{"job_type": "REPLICATION", "count": count},
                                                  {"job_type": "GARBAGE_COLLECTION", "count": 1}])
    HealthSnapshot.objects.create(instance=backlog, taken_at=at + dt.timedelta(seconds=1), status="up",
                                  job_queues=None)  # a newer snapshot without queues does not hide them
    make_instance(10, enabled=False, status="down", error_kind="auth")

    got = found(at)
    s = lambda i: f"instance:{i.pk}"  # noqa: E731
    assert got[("fleet.instance_down", s(down))][0] == "critical"
    assert got[("fleet.instance_down", s(down))][1] == "harbor-1 is down"
    assert got[("fleet.instance_degraded", s(degraded))] == ("warning", "harbor-3: unhealthy trivy")
    assert got[("fleet.credentials_rejected", s(auth))][0] == "critical"
    assert got[("fleet.version_unsupported", s(old))][0] == "warning"
    assert got[("fleet.storage_high", s(full))] == ("critical", "harbor-7: registry storage 97% used")
    assert got[("fleet.storage_high", s(warm))] == ("warning", "harbor-8: registry storage 88% used")
    assert got[("fleet.jobservice_backlog", s(backlog))] == (
        "warning", "harbor-9: 151 jobs waiting in jobservice queues")
    assert len(got) == 7, got  # nothing for the flapping, the freshly degraded or the disabled one
    assert not any(subject in (s(flapping), s(just_degraded)) for _, subject in got)
    assert Instance.objects.count() == 10
