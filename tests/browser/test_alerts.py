"""An instance of the fleet goes down (a simulator fault on a real socket), the home page shows the
alert once the hysteresis says so, an operator acknowledges it, the instance recovers and the alert
resolves. Writes the README screenshots with HARBOROPS_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import Page, expect

from harborops.alerts.models import Alert, Notification
from harborops.alerts.services import actions
from harborops.alerts.services.delivery import deliver
from harborops.alerts.tasks import evaluate_alerts
from harborops.core.actor import Actor
from harborops.fleet.models import Instance
from harborops.fleet.services.sweep import sweep_ids
from harborops.harbor_sim import Faults, Fleet, SimServer
from tests.alerts.receivers import HTTPReceiver, http_receiver
from tests.browser.test_job_live import login
from tests.fleet.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def harbors() -> Iterator[SimServer]:
    with SimServer(Fleet.create(2, ["2.13.0", "2.15.0"])) as server:
        yield server


def shot(page: Page, name: str) -> None:
    if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def receiver() -> Iterator[HTTPReceiver]:
    yield from http_receiver()


def test_an_instance_goes_down_is_acknowledged_and_recovers(page: Page, live_server, bob: User,
                                                            harbors: SimServer, settings, receiver: HTTPReceiver,
                                                            monkeypatch):
    settings.ALERT_DOWN_AFTER_FAILURES, settings.ALERT_DOWN_AFTER_MINUTES = 2, 0
    settings.ALERT_UP_AFTER_SUCCESSES = 2
    eu = Instance.objects.create(name="eu-prod", url=harbors.instance_url(1), username="admin",
                                 password=ADMIN_PASSWORD, labels={"team": "payments"})
    us = Instance.objects.create(name="us-prod", url=harbors.instance_url(2), username="admin",
                                 password=ADMIN_PASSWORD)
    ids = [eu.pk, us.pk]
    hook = actions.save_channel(None, actor=Actor.system("test"), name="ops-webhook", kind="webhook",
                                url=receiver.url, secret="browser-test-hmac")
    actions.save_route(None, actor=Actor.system("test"), name="everything", is_default=True, channels=[hook])
    # The worker's part runs in beat() below (deliver), so nothing waits in the broker for a worker.
    monkeypatch.setattr("harborops.alerts.services.delivery.enqueue", lambda ids, **kw: None)

    def beat() -> None:
        try:
            sweep_ids(ids, timeout=2)
            evaluate_alerts()
            for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
                deliver(pk)
        finally:
            connection.close()

    def sweep_and_evaluate() -> None:  # what beat does every minute: sweep, then evaluate alerts
        # In a thread of its own: the sweep runs an event loop and Playwright's is running here.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(beat).result()

    sweep_and_evaluate()
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server.url, "bob")
    expect(page.locator('[data-fleet="up"] .n')).to_have_text("2")
    expect(page.locator("#no-alerts")).to_be_visible()

    harbors.fleet[1].faults = Faults(error_rate=1.0)  # eu-prod answers 500 to everything
    sweep_and_evaluate()  # one failed sweep: raw down, no alert yet
    page.reload()
    expect(page.locator("#no-alerts")).to_be_visible()
    expect(page.locator('[data-fleet="down"] .n')).to_have_text("0")
    page.goto(f"{live_server.url}/fleet/{eu.pk}/")
    expect(page.locator("#availability-raw")).to_contain_text("Down")
    expect(page.locator("#availability-state")).to_contain_text("Up")
    expect(page.locator("#availability-state")).to_contain_text("1 failed / 0 good")

    sweep_and_evaluate()  # the second failure in a row: down, alert fires
    page.click("nav >> text=Overview")
    row = page.locator('#open-alerts tr[data-condition="fleet.instance_down"]')
    expect(row).to_contain_text("eu-prod is down")
    expect(row.locator(".alert-state")).to_have_text("Firing")
    expect(page.locator('[data-fleet="down"] .n')).to_have_text("1")
    expect(page.locator('[data-severity="critical"] .n')).to_have_text("1")
    expect(page.locator("#down-instances")).to_contain_text("eu-prod")
    shot(page, "alerts-home")

    row.locator("button:has-text('Acknowledge')").click()
    expect(page.locator(".messages")).to_contain_text("Acknowledged")
    row = page.locator('#open-alerts tr[data-condition="fleet.instance_down"]')
    expect(row.locator(".alert-state")).to_have_text("Acknowledged")
    row.locator("a", has_text="eu-prod is down").click()
    expect(page.locator("#alert-ack")).to_contain_text("by bob")
    expect(page.locator("#delivery-log tbody tr")).to_have_count(1)
    expect(page.locator("#delivery-log")).to_contain_text("Sent")
    expect(page.locator("#delivery-log")).to_contain_text("ops-webhook")
    shot(page, "alerts-detail")

    harbors.fleet[1].faults = Faults()
    sweep_and_evaluate()  # one good sweep: still down (K = 2)
    page.goto(f"{live_server.url}/")
    expect(page.locator('#open-alerts tr[data-condition="fleet.instance_down"]')).to_have_count(1)
    sweep_and_evaluate()
    page.reload()
    expect(page.locator("#no-alerts")).to_be_visible()
    expect(page.locator('[data-fleet="up"] .n')).to_have_text("2")

    page.click("nav >> text=Alerts")
    expect(page.locator("#alert-table")).to_contain_text("No alerts match")  # open ones: none left
    page.select_option("select[name=state]", "resolved")
    expect(page.locator('#alert-table tr[data-condition="fleet.instance_down"] .alert-state')).to_have_text("Resolved")
    shot(page, "alerts-list")
    alert = Alert.objects.get(condition="fleet.instance_down")
    assert alert.state == "resolved" and alert.acknowledged_by_name == "bob"
    assert [r.json()["kind"] for r in receiver.received] == ["firing", "resolved"]  # one recovery notice
