"""Pages and API: viewers read, operators acknowledge and silence, admins edit routes and channels;
secrets are write-only; every change is in the action log; the home page and /api/attention/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils.timezone import now

from harborops.alerts.models import Alert, Channel, InstanceAvailability, Notification, Route, Silence
from harborops.alerts.services import lifecycle
from harborops.audit.models import ActionLogEntry
from harborops.core.conditions import Evaluation, Occurrence
from tests.alerts.conftest import webhook
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
SECRET = "hmac-canary-7f3e9b"
HOOK_URL = "https://hooks.example.org/services/T000/B000/token-canary-5d1"


@pytest.fixture
def firing(make_instance: MakeInstance) -> Alert:
    inst = make_instance(1, labels={"team": "payments"})
    InstanceAvailability.objects.create(instance=inst, state="down", consecutive_failures=3, since=now())
    lifecycle.reconcile(Evaluation([
        Occurrence("fleet.instance_down", f"instance:{inst.pk}", "critical", "harbor-1 is down",
                   link=f"/fleet/{inst.pk}/", instance_id=inst.pk),
        Occurrence("fleet.storage_high", f"instance:{inst.pk}", "warning", "harbor-1: storage 88% used",
                   instance_id=inst.pk)], {}), now() - dt.timedelta(minutes=42))
    return Alert.objects.get(condition="fleet.instance_down")


def login(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def test_viewers_see_alerts_on_the_home_page_list_and_detail_but_cannot_act(client, vera, firing):
    login(client, vera)
    home = client.get("/").content.decode()
    assert "harbor-1 is down" in home and "42\xa0minutes" in home
    assert home.index("harbor-1 is down") < home.index("harbor-1: storage 88% used")  # critical first
    assert 'data-fleet="down"' in home and "Acknowledge" not in home
    partial = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('\n<div id="attention"') or 'id="attention"' in partial[:80]
    assert "<html" not in partial
    listing = client.get("/alerts/?severity=critical").content.decode()
    assert "harbor-1 is down" in listing and "storage 88%" not in listing
    detail = client.get(f"/alerts/{firing.pk}/").content.decode()
    assert "Delivery log" in detail and "No notification was sent" in detail
    assert client.post(f"/alerts/{firing.pk}/ack/", {"comment": "x"}).status_code == 403
    page = client.get(f"/fleet/{firing.instance_id}/").content.decode()
    assert 'id="availability-state"' in page and "3 failed / 0 good" in page


def test_an_operator_acknowledges_with_a_comment_and_silences_from_the_alert(client, bob, firing):
    login(client, bob)
    r = client.post(f"/alerts/{firing.pk}/ack/", {"comment": "VM rebooting", "next": "/"})
    assert r.status_code == 302 and r.url == "/"
    firing.refresh_from_db()
    assert (firing.state, firing.acknowledged_by_name, firing.acknowledge_comment) == (
        "acknowledged", "bob", "VM rebooting")
    entry = ActionLogEntry.objects.get(action="alerts.alert.acknowledge")
    assert entry.actor_name == "bob" and entry.object_id == str(firing.pk)

    form = client.get(f"/silences/add/?alert={firing.pk}".replace("/silences", "/alerts/silences"))
    assert form.status_code == 200 and 'value="fleet.instance_down"' in form.content.decode()
    r = client.post("/alerts/silences/add/", {"condition": "fleet.instance_down", "instance": firing.instance_id,
                                              "hours": 2, "reason": "hardware swap"})
    assert r.status_code == 302, r.content.decode()
    silence = Silence.objects.get()
    assert silence.author_name == "bob" and silence.ends_at - silence.starts_at == dt.timedelta(hours=2)
    assert ActionLogEntry.objects.filter(action="alerts.silence.create").exists()
    r = client.post("/alerts/silences/add/", {"hours": 1, "reason": "everything"})
    assert r.status_code == 200 and "needs at least one matcher" in r.content.decode()
    client.post(f"/alerts/silences/{silence.pk}/expire/")
    silence.refresh_from_db()
    assert not silence.is_active(now())


def test_admins_manage_channels_with_write_only_url_and_secret(client, alice, bob, monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr("harborops.alerts.services.delivery.enqueue", lambda ids, **kw: queued.extend(ids))
    login(client, bob)
    assert client.get("/alerts/channels/add/").status_code == 403
    login(client, alice)
    r = client.post("/alerts/channels/add/", {"name": "slack", "kind": "webhook", "enabled": "on", "url": HOOK_URL,
                                             "webhook_format": "slack", "secret": SECRET})
    assert r.status_code == 302
    ch = Channel.objects.get()
    assert (ch.url, ch.secret, ch.webhook_format) == (HOOK_URL, SECRET, "slack")
    for path in ("/alerts/channels/", f"/alerts/channels/{ch.pk}/", f"/alerts/channels/{ch.pk}/edit/"):
        body = client.get(path).content.decode()
        assert SECRET not in body and "token-canary" not in body, path
    r = client.post(f"/alerts/channels/{ch.pk}/edit/", {"name": "slack-ops", "kind": "webhook", "enabled": "on",
                                                        "url": "", "webhook_format": "slack", "secret": ""})
    assert r.status_code == 302
    ch.refresh_from_db()
    assert (ch.name, ch.url, ch.secret) == ("slack-ops", HOOK_URL, SECRET)  # blank keeps both
    r = client.post(f"/alerts/channels/{ch.pk}/test/")
    assert r.status_code == 302
    assert Notification.objects.get().kind == "test"
    log = list(ActionLogEntry.objects.filter(object_type="alerts.channel").values_list("action", "after"))
    assert [a for a, _ in log] == ["alerts.channel.test", "alerts.channel.update", "alerts.channel.create"]
    assert all(SECRET not in str(after) and "token-canary" not in str(after) for _, after in log)
    r = client.post("/alerts/channels/add/", {"name": "mail", "kind": "email", "email_to": "not-an-address",
                                             "webhook_format": "generic"})
    assert r.status_code == 200 and "not an email address" in r.content.decode()


def test_admins_edit_routes_from_the_page(client, alice, vera):
    hook = webhook("http://127.0.0.1:9/x")
    login(client, vera)
    assert client.get("/alerts/routes/").status_code == 200
    assert client.post("/alerts/routes/add/", {"name": "x", "position": 1}).status_code == 403
    login(client, alice)
    r = client.post("/alerts/routes/add/", {"name": "payments", "position": 10, "enabled": "on",
                                           "severities": ["critical"], "conditions_text": "fleet.*, certificates.*",
                                           "labels_text": "team=payments", "channels": [hook.pk]})
    assert r.status_code == 302, r.content.decode()
    route = Route.objects.get()
    assert (route.severities, route.conditions, route.labels) == (
        ["critical"], ["fleet.*", "certificates.*"], {"team": "payments"})
    assert list(route.channels.all()) == [hook]
    assert "severity in critical" in client.get("/alerts/routes/").content.decode()
    client.post(f"/alerts/routes/{route.pk}/delete/")
    assert not Route.objects.exists()
    assert ActionLogEntry.objects.filter(action__startswith="alerts.route.").count() == 2


def test_the_api_lists_acknowledges_and_never_returns_secrets(client, vera, bob, alice, firing, monkeypatch):
    monkeypatch.setattr("harborops.alerts.services.delivery.enqueue", lambda ids, **kw: None)
    login(client, vera)
    data = client.get("/api/alerts/?state=open&severity=critical").json()
    assert [a["summary"] for a in data["results"]] == ["harbor-1 is down"]
    assert client.post(f"/api/alerts/{firing.pk}/ack/", {"comment": "x"}).status_code == 403
    detail = client.get(f"/api/alerts/{firing.pk}/").json()
    assert detail["notifications"] == [] and detail["title"] == "Harbor instance down"

    login(client, bob)
    r = client.post(f"/api/alerts/{firing.pk}/ack/", {"comment": "on it"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert client.post(f"/api/alerts/{firing.pk}/ack/", {}, content_type="application/json").status_code == 400
    r = client.post("/api/alerts/silences/", {"condition": "fleet.*", "ends_at": (now() + dt.timedelta(hours=1))
                                              .isoformat(), "reason": "upgrade"}, content_type="application/json")
    assert r.status_code == 201, r.json()
    assert r.json()["active"] is True and r.json()["author_name"] == "bob"
    assert client.post("/api/alerts/channels/", {"name": "x", "kind": "email", "email_to": "a@b.org"},
                       content_type="application/json").status_code == 403

    login(client, alice)
    r = client.post("/api/alerts/channels/", {"name": "teams", "kind": "webhook", "url": HOOK_URL,
                                              "webhook_format": "teams", "secret": SECRET},
                    content_type="application/json")
    assert r.status_code == 201, r.json()
    ch = r.json()
    assert ch["has_secret"] is True and ch["has_url"] is True and "secret" not in ch and "url" not in ch
    r = client.post("/api/alerts/routes/", {"name": "all", "is_default": True, "channels": ["teams"]},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["channels"] == ["teams"]
    r = client.patch(f"/api/alerts/channels/{ch['id']}/", {"enabled": False}, content_type="application/json")
    assert r.status_code == 200 and Channel.objects.get().secret == SECRET and Channel.objects.get().url == HOOK_URL
    r = client.post(f"/api/alerts/channels/{ch['id']}/test/")
    assert r.status_code == 202 and r.json()["kind"] == "test"
    for path in ("/api/alerts/channels/", f"/api/alerts/channels/{ch['id']}/", "/api/alerts/routes/",
                 "/api/schema/"):
        text = client.get(path).content.decode()
        assert SECRET not in text and "token-canary" not in text, path
    r = client.post("/api/alerts/routes/", {"name": "bad", "severities": ["loud"]}, content_type="application/json")
    assert r.status_code == 400


def test_attention_api_has_what_the_home_page_shows(client, vera, firing):
    login(client, vera)
    data = client.get("/api/attention/").json()
    assert data["alert_counts"] == {"critical": 1, "warning": 1, "info": 0}
    assert [a["summary"] for a in data["alerts"]] == ["harbor-1 is down", "harbor-1: storage 88% used"]
    assert data["fleet"]["down"] == 1 and data["down"] == [{"id": firing.instance_id, "name": "harbor-1"}]
    assert {"certificates", "replications", "gc", "jobs", "notes"} <= set(data)
    assert client.logout() is None
    assert client.get("/api/attention/").status_code in (401, 403)
