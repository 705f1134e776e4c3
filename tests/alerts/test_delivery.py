"""Delivery to real receivers on loopback: an SMTP server (the digest), an HTTP receiver (HMAC,
Slack and Teams shapes, retries with backoff), and a channel that keeps failing becoming an alert."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
from email.message import Message

import pytest
from django.db import connection

from harborops.alerts.models import Alert, Channel, DeliveryAttempt, Notification
from harborops.alerts.services import actions, lifecycle
from harborops.alerts.services.delivery import backoff, deliver, dispatch_due
from harborops.core.conditions import Evaluation, Occurrence, evaluate_all
from tests.alerts.conftest import ACTOR, route_to, webhook
from tests.alerts.receivers import HTTPReceiver, SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def occ(i: int, severity: str = "critical") -> Occurrence:
    return Occurrence("fleet.instance_down", f"instance:{i}", severity, f"harbor-{i} is down",
                      details=f"timeout after 10 s <b>{i}</b>", link=f"/fleet/{i}/")


def parts(msg: Message) -> dict[str, str]:
    out = {}
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_type()] = payload.decode()
    return out


def test_it_emails_one_digest_with_html_and_text_to_every_recipient(smtp: SMTPServer, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
    settings.DEFAULT_FROM_EMAIL = "harborops@example.org"
    settings.SITE_URL = "https://harborops.example.org"
    mail = actions.save_channel(None, actor=ACTOR, name="oncall", kind="email",
                                email_to="ops@example.org,\npayments@example.org")
    route_to(mail)
    result = lifecycle.reconcile(Evaluation([occ(1), occ(2), occ(3, "warning")], {}), T0)
    assert len(result.notifications) == 1
    outcome = deliver(result.notifications[0])
    assert outcome.status == "sent"
    assert len(smtp.mails) == 1
    got = smtp.mails[0]
    assert got.mail_from == "harborops@example.org"
    assert sorted(got.rcpt_tos) == ["ops@example.org", "payments@example.org"]
    msg = email.message_from_bytes(got.data)
    n = Notification.objects.get()
    assert msg["Subject"] == "[harborops] 3 alerts firing"
    assert msg["X-Harborops-Idempotency-Key"] == str(n.idempotency_key)
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    for i in (1, 2, 3):
        assert f"harbor-{i} is down" in body["text/plain"]
        assert f'href="https://harborops.example.org/fleet/{i}/"' in body["text/html"]
    assert "&lt;b&gt;1&lt;/b&gt;" in body["text/html"]  # details are escaped in HTML
    assert str(n.idempotency_key) in body["text/plain"]
    attempt = DeliveryAttempt.objects.get(notification=n)
    assert attempt.ok and attempt.status_code == 250 and "queued as harborops-test" in attempt.reply


def test_an_unreachable_smtp_server_is_retried_later(settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    mail = actions.save_channel(None, actor=ACTOR, name="oncall", kind="email", email_to="ops@example.org")
    n = actions.send_test(mail, actor=ACTOR)
    outcome = deliver(n.pk)
    assert outcome.status == "pending" and outcome.retry_in == 1
    n.refresh_from_db()
    assert n.attempts == 1 and "Connection refused" in n.last_error
    assert Channel.objects.get().failing_since is not None


def test_the_webhook_body_is_hmac_signed_with_the_shared_secret(receiver: HTTPReceiver):
    hook = webhook(receiver.url, secret="s3cret-hmac-key")
    route_to(hook)
    result = lifecycle.reconcile(Evaluation([occ(1)], {}), T0)
    assert deliver(result.notifications[0]).status == "sent"
    (req,) = receiver.received
    expected = "sha256=" + hmac.new(b"s3cret-hmac-key", req.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(req.headers["x-harborops-signature"], expected)
    wrong = "sha256=" + hmac.new(b"another-key", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-harborops-signature"] != wrong
    body = req.json()
    n = Notification.objects.get()
    assert body["idempotency_key"] == req.headers["idempotency-key"] == str(n.idempotency_key)
    assert body["kind"] == "firing" and body["alerts"][0]["condition"] == "fleet.instance_down"
    # The secret is encrypted at rest, never in the table as text.
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM alerts_channel WHERE id = %s", [hook.pk])
        stored = cur.fetchone()[0]
    assert "s3cret-hmac-key" not in stored and Channel.objects.get().secret == "s3cret-hmac-key"


def test_slack_and_teams_shapes_carry_the_alert_and_the_key(receiver: HTTPReceiver):
    slack = webhook(receiver.url, name="slack", fmt="slack")
    teams = webhook(receiver.url, name="teams", fmt="teams")
    route_to(slack, teams)
    result = lifecycle.reconcile(Evaluation([occ(1)], {}), T0)
    for pk in result.notifications:
        assert deliver(pk).status == "sent"
    by_key = {r.headers["idempotency-key"]: r.json() for r in receiver.received}
    s = by_key[str(Notification.objects.get(channel=slack).idempotency_key)]
    assert "harbor-1 is down" in s["text"] and s["blocks"][0]["type"] == "header"
    assert str(Notification.objects.get(channel=slack).idempotency_key) in s["blocks"][-1]["elements"][0]["text"]
    t = by_key[str(Notification.objects.get(channel=teams).idempotency_key)]
    assert t["@type"] == "MessageCard" and t["themeColor"] == "D32F2F"
    assert t["sections"][0]["activityTitle"] == "harbor-1 is down"


def test_a_receiver_failing_twice_then_succeeding_gets_it_with_backoff(receiver: HTTPReceiver, settings):
    settings.ALERT_DELIVERY_BACKOFF_SECONDS = 30
    receiver.script = [503, 500]
    route_to(webhook(receiver.url))
    (pk,) = lifecycle.reconcile(Evaluation([occ(1)], {}), T0).notifications
    first = deliver(pk)
    assert (first.status, first.retry_in) == ("pending", 30)
    assert deliver(pk).status == "pending"  # not due yet: no attempt made
    n = Notification.objects.get()
    assert n.attempts == 1
    second = deliver(pk, at=n.next_attempt_at)
    assert (second.status, second.retry_in) == ("pending", 60)  # doubled
    n.refresh_from_db()
    assert deliver(pk, at=n.next_attempt_at).status == "sent"
    assert [r.headers["idempotency-key"] for r in receiver.received] == [str(n.idempotency_key)] * 3
    log = list(DeliveryAttempt.objects.filter(notification=n).values_list("attempt", "ok", "status_code"))
    assert log == [(1, False, 503), (2, False, 500), (3, True, 200)]
    assert Channel.objects.get().failing_since is None and Channel.objects.get().last_success_at is not None
    assert backoff(10) == settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS


def test_a_client_error_is_not_retried_and_attempts_are_bounded(receiver: HTTPReceiver, settings):
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 2
    receiver.script = [404, 500, 500]
    route_to(webhook(receiver.url))
    (a,) = lifecycle.reconcile(Evaluation([occ(1)], {}), T0).notifications
    assert deliver(a).status == "failed"
    (b,) = lifecycle.reconcile(Evaluation([occ(1), occ(2)], {}), T0).notifications
    assert deliver(b).status == "pending"
    assert deliver(b, at=Notification.objects.get(pk=b).next_attempt_at).status == "failed"


def test_a_channel_failing_for_hours_becomes_an_alert(receiver: HTTPReceiver, settings):
    settings.ALERT_CHANNEL_FAILING_MINUTES = 120
    receiver.script = [500] * 10
    hook = webhook(receiver.url)
    n = actions.send_test(hook, actor=ACTOR)
    deliver(n.pk)
    since = Channel.objects.get().failing_since
    assert since is not None
    later = since + dt.timedelta(hours=2, minutes=1)
    evaluation = evaluate_all(later, only=["alerts"])
    assert [(o.condition, o.subject) for o in evaluation.occurrences] == [
        ("alerts.channel_failing", f"channel:{hook.pk}")]
    assert "HTTP 500" in evaluation.occurrences[0].details
    lifecycle.reconcile(evaluation, later)
    assert Alert.objects.get().summary.startswith(f"Channel {hook.name} has failed to deliver for 2.")
    assert evaluate_all(since + dt.timedelta(minutes=30), only=["alerts"]).occurrences == []


def test_dispatch_picks_up_due_retries_and_expired_leases(receiver: HTTPReceiver, settings, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr("harborops.alerts.services.delivery.enqueue", lambda ids, **kw: queued.extend(ids))
    hook = webhook(receiver.url)
    a = actions.send_test(hook, actor=ACTOR)
    b = actions.send_test(hook, actor=ACTOR)
    Notification.objects.filter(pk=b.pk).update(status="sending", lease_until=T0)  # its worker died
    c = actions.send_test(hook, actor=ACTOR)
    Notification.objects.filter(pk=c.pk).update(status="sent")
    assert sorted(dispatch_due()) == sorted([a.pk, b.pk]) and sorted(queued) == sorted([a.pk, b.pk])
