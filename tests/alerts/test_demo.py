"""The demo's alerting against the demo fleet: after a few sweeps the down, degraded and almost-full
Harbors are alerts on the home page, routed to the demo inbox (HMAC checked) and to Slack by team."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from harborops.alerts import demo
from harborops.alerts.models import Alert, Channel, Notification, Route, Silence
from harborops.alerts.services.delivery import deliver
from harborops.alerts.tasks import evaluate_alerts
from harborops.core.actor import Actor
from harborops.fleet import demo as fleet_demo
from harborops.fleet.services.sweep import sweep_ids
from harborops.harbor_sim.server import SimServer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("demo test")


def test_the_demo_fires_routes_and_delivers_alerts(client: Client, vera: Any, monkeypatch, settings):
    monkeypatch.setattr("harborops.alerts.services.delivery.enqueue", lambda ids, **kw: None)
    settings.ALERT_DEGRADED_AFTER_MINUTES = 0
    with SimServer(fleet_demo.build()) as server:
        instances = fleet_demo.register(server, ACTOR)
        inbox, lines = demo.start("127.0.0.1", ACTOR)
        try:
            demo.start("127.0.0.1", ACTOR)[0].stop()  # idempotent: still two channels, two routes, one silence
            assert (Channel.objects.count(), Route.objects.count(), Silence.objects.count()) == (2, 2, 1)
            for _ in range(settings.ALERT_DOWN_AFTER_FAILURES):
                sweep_ids([i.pk for i in instances], timeout=3)
            evaluate_alerts()
            open_alerts = {(a.condition, a.instance_name) for a in Alert.objects.all()}
            assert ("fleet.instance_down", "demo-edge-2") in open_alerts
            assert ("fleet.instance_degraded", "demo-us-staging") in open_alerts
            assert ("fleet.storage_high", "demo-legacy") in open_alerts
            # Point the channels at this inbox (idempotent start re-saved them at the stopped one's port).
            Channel.objects.filter(name="demo-webhook").update(url=f"{inbox.url}/hook")
            Channel.objects.filter(name="demo-slack").update(url=f"{inbox.url}/slack")
            for n in Notification.objects.all():
                assert deliver(n.pk).status == "sent", n.last_error
            assert inbox.received == Notification.objects.count() >= 1 and inbox.bad_signatures == 0
            slack = Notification.objects.filter(channel__name="demo-slack")
            # Only the platform team's critical alerts go to Slack; demo-edge-2 belongs to team iot.
            assert all(a["labels"].get("team") == "platform" and a["severity"] == "critical"
                       for n in slack for a in n.payload["alerts"])
            client.force_login(vera)
            home = client.get("/").content.decode()
            assert "demo-edge-2 is down" in home and "demo-legacy: registry storage" in home
        finally:
            inbox.stop()
    assert "webhook inbox" in lines[0]
    assert demo.unregister(ACTOR) == 5 and not Channel.objects.exists()
