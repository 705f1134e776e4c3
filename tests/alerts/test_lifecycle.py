"""Lifecycle over condition occurrences: de-duplication, reminders, acknowledgement, silences
(suppressing, then expiring), routes by severity / condition / instance labels, a failing source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError

from harborops.alerts.models import Alert, Notification
from harborops.alerts.services import actions, lifecycle
from harborops.core import conditions as reg
from harborops.core.conditions import Evaluation, Occurrence
from tests.alerts.conftest import ACTOR, route_to, webhook
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def down(instance_id: int | None = None, subject: str = "instance:1", severity: str = "critical") -> Occurrence:
    return Occurrence("fleet.instance_down", subject, severity, f"{subject} is down", instance_id=instance_id)


def run(minutes: float, *occs: Occurrence, errors: dict[str, str] | None = None) -> lifecycle.ReconcileResult:
    return lifecycle.reconcile(Evaluation(list(occs), errors or {}), at(minutes))


def kinds(channel_name: str) -> list[str]:
    return list(Notification.objects.filter(channel__name=channel_name).order_by("pk").values_list("kind", flat=True))


@pytest.fixture
def hook(db: None) -> None:
    route_to(webhook("http://127.0.0.1:9/hook"))


def test_one_alert_per_condition_and_subject_and_a_reminder_every_n_hours(hook, settings):
    settings.ALERT_REMINDER_HOURS = 4
    first = run(0, down())
    assert len(first.opened) == 1 and kinds("hook") == ["firing"]
    for minutes in range(1, 60 * 4, 30):  # every sweep for 4 hours: still one alert, no new message
        assert run(minutes, down()).opened == []
    assert Alert.objects.count() == 1 and kinds("hook") == ["firing"]
    run(60 * 4, down())
    assert kinds("hook") == ["firing", "reminder"]
    alert = Alert.objects.get()
    assert alert.last_notified_at == at(240) and alert.last_seen == at(240) and alert.first_seen == at(0)


def test_acknowledged_alerts_stop_reminding_but_still_send_the_recovery(hook, settings, bob):
    settings.ALERT_REMINDER_HOURS = 1
    run(0, down())
    alert = Alert.objects.get()
    actions.acknowledge(alert, actor=ACTOR, comment="rebooting the VM")
    run(120, down())
    assert kinds("hook") == ["firing"]
    run(121)
    alert.refresh_from_db()
    assert alert.state == "resolved" and alert.acknowledge_comment == "rebooting the VM"
    assert kinds("hook") == ["firing", "resolved"]
    with pytest.raises(ValidationError, match="only a firing alert"):
        actions.acknowledge(alert, actor=ACTOR)


def test_it_fires_again_as_a_new_alert_after_resolving(hook):
    run(0, down())
    run(1)
    run(2, down())
    assert list(Alert.objects.order_by("pk").values_list("state", flat=True)) == ["resolved", "firing"]
    assert kinds("hook") == ["firing", "resolved", "firing"]


def test_a_silence_suppresses_then_expires(hook, make_instance: MakeInstance):
    inst = make_instance(1, labels={"team": "payments"})
    silence = actions.create_silence(actor=ACTOR, labels={"team": "payments"}, starts_at=at(0), ends_at=at(30),
                                     reason="planned maintenance")
    run(1, down(inst.pk))
    alert = Alert.objects.get()
    assert alert.silenced_by == silence and alert.last_notified_at is None
    assert kinds("hook") == []
    run(29, down(inst.pk))
    assert kinds("hook") == []
    run(31, down(inst.pk))  # the silence ended: the alert is told now, once
    alert.refresh_from_db()
    assert alert.silenced_by is None and alert.last_notified_at == at(31)
    assert kinds("hook") == ["firing"]
    run(32, down(inst.pk))
    assert kinds("hook") == ["firing"]


def test_a_silenced_alert_that_resolves_sends_no_recovery(hook):
    run(0, down())
    actions.create_silence(actor=ACTOR, condition="fleet.*", starts_at=at(1), ends_at=at(60), reason="known")
    run(2, down())
    run(3)
    assert kinds("hook") == ["firing"]


def test_a_silence_needs_a_matcher_an_end_after_its_start_and_a_reason():
    with pytest.raises(ValidationError) as exc:
        actions.create_silence(actor=ACTOR, starts_at=at(10), ends_at=at(5), reason=" ")
    assert set(exc.value.message_dict) == {"condition", "ends_at", "reason"}  # type: ignore[attr-defined]


def test_routes_by_labels_severity_and_condition_with_a_default(make_instance: MakeInstance):
    payments, other, teams, catchall = (webhook(f"http://127.0.0.1:9/{n}", name=n) for n in
                                        ("payments", "other", "teams", "catchall"))
    route_to(payments, name="payments", default=False, position=10, labels={"team": "payments"})
    route_to(teams, name="certs", default=False, position=20, conditions=["certificates.*"],
             severities=["critical"], continue_matching=True)
    route_to(other, name="warnings", default=False, position=30, severities=["warning"])
    route_to(catchall, name="default")
    pay = make_instance(1, labels={"team": "payments"})
    web = make_instance(2, labels={"team": "web"})
    cert = Occurrence("certificates.expiring", "endpoint:1", "critical", "expires in 1 day")
    cert_warn = Occurrence("certificates.expiring", "endpoint:2", "warning", "expires in 14 days")
    run(0, down(pay.pk, "instance:1"), down(web.pk, "instance:2"), cert, cert_warn)

    def summaries(channel: str) -> list[str]:
        return sorted(a["summary"] for n in Notification.objects.filter(channel__name=channel)
                      for a in n.payload["alerts"])

    assert summaries("payments") == ["instance:1 is down"]
    assert summaries("teams") == ["expires in 1 day"]
    assert summaries("other") == ["expires in 14 days"]
    # certs continues matching but nothing after it took it, so it does not reach the default;
    # the web team's instance matches no route: the default takes it.
    assert summaries("catchall") == ["instance:2 is down"]
    assert Alert.objects.get(subject="instance:1").labels == {"team": "payments"}


def test_many_alerts_at_once_make_one_digest_per_channel(hook):
    run(0, *(down(subject=f"instance:{i}") for i in range(5)))
    n = Notification.objects.get()
    assert n.kind == "firing" and len(n.payload["alerts"]) == 5 and n.alerts.count() == 5
    assert n.payload["title"] == "[harborops] 5 alerts firing"


def test_a_failing_source_resolves_nothing(hook, monkeypatch):
    monkeypatch.setattr(reg, "_SOURCES", {})

    @reg.conditions("fleet", {"fleet.instance_down": "down"})
    def fleet(at: dt.datetime) -> Iterator[Occurrence]:
        yield from ()

    run(0, down())
    result = run(1, errors={"fleet": "OperationalError: database is locked"})
    assert result.resolved == [] and Alert.objects.get().state == "firing"
    assert "failing sources: fleet" in result.summary()
    assert run(2).resolved != []


def test_no_route_means_no_notification_and_no_recovery_notice():
    run(0, down())
    run(1)
    assert Notification.objects.count() == 0
    assert Alert.objects.get().state == "resolved"
