"""Hysteresis over a sequence of real sweeps (simulated Harbors): one timeout raises nothing, N in a
row make the instance down and fire one alert, K good sweeps recover it and one recovery notice goes
out to a real HTTP receiver."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from harborops.alerts.config import hysteresis_for, parse_label_overrides
from harborops.alerts.models import Alert, InstanceAvailability, Notification
from harborops.alerts.services import lifecycle
from harborops.alerts.services.availability import record_sweep
from harborops.alerts.services.delivery import deliver
from harborops.core.conditions import evaluate_all
from harborops.fleet.models import Instance
from harborops.fleet.services.sweep import Probe, record_probes, sweep_instances
from harborops.harbor_sim import AsyncSimTransport, Faults, Fleet
from tests.alerts.conftest import route_to, webhook
from tests.alerts.receivers import HTTPReceiver
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def sweep(fleet: Fleet, instances: list[Instance]) -> list[Probe]:
    probes = asyncio.run(sweep_instances(instances, timeout=2, transport=AsyncSimTransport(fleet, latency=False)))
    record_probes(probes)
    return probes


def evaluate_and_send(at: dt.datetime) -> lifecycle.ReconcileResult:
    result = lifecycle.reconcile(evaluate_all(at, only=["fleet"]), at)
    for pk in result.notifications:
        deliver(pk)
    return result


def test_one_timeout_is_not_down_n_are_and_k_good_sweeps_recover(make_instance: MakeInstance, settings,
                                                                receiver: HTTPReceiver):
    settings.ALERT_DOWN_AFTER_FAILURES, settings.ALERT_UP_AFTER_SUCCESSES = 3, 2
    settings.ALERT_DOWN_AFTER_MINUTES = 0
    route_to(webhook(receiver.url))
    fleet = Fleet.create(2, "2.13.0")
    flaky, steady = make_instance(1), make_instance(2)
    hang = Faults(hang_rate=1.0, path_pattern="^/health")

    sweep(fleet, [flaky, steady])
    assert InstanceAvailability.objects.get(instance=flaky).state == "up"

    fleet[1].faults = hang  # one timeout: raw down, debounced still up, no alert
    sweep(fleet, [flaky, steady])
    assert Instance.objects.get(pk=flaky.pk).status == "down"
    av = InstanceAvailability.objects.get(instance=flaky)
    assert (av.state, av.consecutive_failures, av.last_raw_ok) == ("up", 1, False)
    assert evaluate_and_send(T0).opened == []

    fleet[1].faults = Faults()  # it answers again: the streak resets
    sweep(fleet, [flaky, steady])
    fleet[1].faults = hang
    for _ in range(2):
        sweep(fleet, [flaky, steady])
    assert InstanceAvailability.objects.get(instance=flaky).state == "up"  # 2 < 3 in a row
    assert evaluate_and_send(T0 + dt.timedelta(minutes=1)).opened == []

    sweep(fleet, [flaky, steady])  # the third failure in a row
    av = InstanceAvailability.objects.get(instance=flaky)
    assert (av.state, av.consecutive_failures) == ("down", 3)
    result = evaluate_and_send(T0 + dt.timedelta(minutes=2))
    alert = Alert.objects.get(condition="fleet.instance_down")
    assert result.opened == [alert.pk] and alert.subject == f"instance:{flaky.pk}" and alert.severity == "critical"
    assert len(receiver.received) == 1 and receiver.received[0].json()["kind"] == "firing"

    for minute in (3, 4, 5):  # still down: one alert, no new notification (no reminder yet)
        sweep(fleet, [flaky, steady])
        assert evaluate_and_send(T0 + dt.timedelta(minutes=minute)).notifications == []
    assert Alert.objects.filter(condition="fleet.instance_down").count() == 1

    fleet[1].faults = Faults()
    sweep(fleet, [flaky, steady])  # one good sweep: not yet up (K = 2)
    assert InstanceAvailability.objects.get(instance=flaky).state == "down"
    assert evaluate_and_send(T0 + dt.timedelta(minutes=6)).resolved == []
    sweep(fleet, [flaky, steady])
    assert InstanceAvailability.objects.get(instance=flaky).state == "up"
    result = evaluate_and_send(T0 + dt.timedelta(minutes=7))
    assert result.resolved == [alert.pk]
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.resolved_at == T0 + dt.timedelta(minutes=7)
    kinds = [r.json()["kind"] for r in receiver.received]
    assert kinds == ["firing", "resolved"]  # exactly one recovery notice
    assert receiver.received[1].json()["alerts"][0]["subject"] == f"instance:{flaky.pk}"
    assert evaluate_and_send(T0 + dt.timedelta(minutes=8)).notifications == []
    assert not InstanceAvailability.objects.filter(instance=steady).exclude(state="up").exists()


def probe(inst: Instance, at: dt.datetime, status: str, error_kind: str = "") -> Probe:
    return Probe(instance_id=inst.pk, taken_at=at, status=status, error_kind=error_kind)


def test_minutes_of_failure_make_it_down_before_the_count(make_instance: MakeInstance, settings):
    settings.ALERT_DOWN_AFTER_FAILURES, settings.ALERT_DOWN_AFTER_MINUTES = 10, 5
    inst = make_instance(1)
    record_sweep([probe(inst, T0, "up")])
    record_sweep([probe(inst, T0 + dt.timedelta(minutes=1), "down", "timeout")])
    record_sweep([probe(inst, T0 + dt.timedelta(minutes=4), "down", "timeout")])
    assert InstanceAvailability.objects.get(instance=inst).state == "up"
    assert record_sweep([probe(inst, T0 + dt.timedelta(minutes=6), "down", "timeout")]) == 1
    av = InstanceAvailability.objects.get(instance=inst)
    assert av.state == "down" and av.since == T0 + dt.timedelta(minutes=6)
    assert av.failing_since == T0 + dt.timedelta(minutes=1)


def test_label_overrides_and_what_counts_as_an_answer(make_instance: MakeInstance, settings):
    settings.ALERT_DOWN_AFTER_FAILURES, settings.ALERT_DOWN_AFTER_MINUTES = 5, 0
    settings.ALERT_DOWN_AFTER_FAILURES_BY_LABEL = "tier=critical:1, env=lab:9"
    critical = make_instance(1, labels={"tier": "critical"})
    lab = make_instance(2, labels={"env": "lab"})
    assert hysteresis_for(critical.labels).down_after_failures == 1
    assert hysteresis_for(lab.labels).down_after_failures == 9
    assert hysteresis_for({}).down_after_failures == 5
    at = T0
    record_sweep([probe(critical, at, "down", "unreachable"), probe(lab, at, "down", "unreachable")])
    assert InstanceAvailability.objects.get(instance=critical).state == "down"
    assert InstanceAvailability.objects.get(instance=lab).state == "unknown"  # never seen up, not yet down
    # Wrong credentials: the instance answered (it is there); our own crash teaches nothing.
    record_sweep([probe(lab, at + dt.timedelta(minutes=1), "unknown", "auth")])
    assert InstanceAvailability.objects.get(instance=lab).state == "up"
    record_sweep([probe(lab, at + dt.timedelta(minutes=2), "unknown", "internal")])
    av = InstanceAvailability.objects.get(instance=lab)
    assert (av.consecutive_successes, av.consecutive_failures) == (1, 0)
    # A probe older than the last counted one (an overlapping sweep ending late) is not counted.
    assert record_sweep([probe(lab, at, "down", "timeout")]) == 0
    assert InstanceAvailability.objects.get(instance=lab).consecutive_failures == 0


@pytest.mark.parametrize("text", ["env=lab", "env:3", "=x:1", "env=lab:x"])
def test_bad_label_overrides_are_refused_with_the_item(text: str):
    with pytest.raises(ValueError, match="label=value:N"):
        parse_label_overrides(text)


def test_the_system_check_reports_a_bad_override(settings):
    from harborops.alerts.checks import check_alert_settings

    settings.ALERT_UP_AFTER_SUCCESSES_BY_LABEL = "env=lab"
    errors = check_alert_settings()
    assert [e.id for e in errors] == ["harborops.alerts.E001"]
    assert Notification.objects.count() == 0
