"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback receives harborops'
alerts through its v2 API, lists them with the labels it expects, and drops them once resolved."""

from __future__ import annotations

import pytest
from django.utils.timezone import now

from harborops.alerts.models import Alert, Notification
from harborops.alerts.services import actions, lifecycle
from harborops.alerts.services.delivery import deliver
from harborops.core.conditions import Evaluation, Occurrence
from tests.alerts.conftest import ACTOR, route_to
from tests.alerts.receivers import Alertmanager
from tests.fleet.conftest import MakeInstance
from tests.support.processes import wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_alertmanager_receives_lists_and_resolves_them(alertmanager: Alertmanager, make_instance: MakeInstance,
                                                       settings):
    settings.SITE_URL = "https://harborops.example.org"
    inst = make_instance(1, labels={"team": "payments", "env": "prod"})
    am = actions.save_channel(None, actor=ACTOR, name="am", kind="alertmanager", url=alertmanager.url)
    route_to(am)
    down = Occurrence("fleet.instance_down", f"instance:{inst.pk}", "critical", "harbor-1 is down",
                      details="timeout", link=f"/fleet/{inst.pk}/", instance_id=inst.pk)
    full = Occurrence("fleet.storage_high", f"instance:{inst.pk}", "warning", "harbor-1: storage 91% used",
                      instance_id=inst.pk, labels={"band": "85"})
    at = now()
    (pk,) = lifecycle.reconcile(Evaluation([down, full], {}), at).notifications
    assert deliver(pk).status == "sent"
    n = Notification.objects.get(pk=pk)
    assert n.attempt_log.get().status_code == 200

    listed = wait_for(lambda: alertmanager.alerts() if len(alertmanager.alerts()) == 2 else None, timeout=20,
                      what="Alertmanager to list both alerts")
    by_name = {a["labels"]["alertname"]: a for a in listed}  # type: ignore[union-attr]
    got = by_name["fleet.instance_down"]
    assert got["labels"] == {"alertname": "fleet.instance_down", "severity": "critical",
                             "subject": f"instance:{inst.pk}", "source": "harborops", "instance": "harbor-1",
                             "team": "payments", "env": "prod"}
    assert got["annotations"]["summary"] == "harbor-1 is down"
    assert got["annotations"]["idempotency_key"] == str(n.idempotency_key)
    assert got["annotations"]["link"] == f"https://harborops.example.org/fleet/{inst.pk}/"
    alert = Alert.objects.get(condition="fleet.instance_down")
    assert got["generatorURL"] == f"https://harborops.example.org/alerts/{alert.pk}/"
    assert got["status"]["state"] == "active"
    assert by_name["fleet.storage_high"]["labels"]["band"] == "85"

    (resolved_pk,) = lifecycle.reconcile(Evaluation([full], {}), now()).notifications
    assert deliver(resolved_pk).status == "sent"
    remaining = wait_for(lambda: (lambda a: a if len(a) == 1 else None)(alertmanager.alerts()), timeout=20,
                         what="Alertmanager to drop the resolved alert")
    assert [a["labels"]["alertname"] for a in remaining] == ["fleet.storage_high"]  # type: ignore[union-attr]


def test_a_test_notification_reaches_alertmanager(alertmanager: Alertmanager):
    am = actions.save_channel(None, actor=ACTOR, name="am", kind="alertmanager", url=alertmanager.url + "/")
    n = actions.send_test(am, actor=ACTOR)
    assert deliver(n.pk).status == "sent"
    listed = wait_for(lambda: alertmanager.alerts(), timeout=20, what="the test alert")
    assert listed[0]["labels"]["alertname"] == "alerts.test"  # type: ignore[index]
