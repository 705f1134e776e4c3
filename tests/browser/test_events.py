"""A person searches every Harbor's audit log, narrows it down, opens an event and exports the
filtered result — in a real browser with only local assets."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request, expect

from harborops.audit.services import record
from harborops.core.actor import Actor
from tests.browser.screenshots import shoot
from tests.browser.test_job_live import login
from tests.events.factories import harbor_events, make_instance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_it_searches_filters_opens_and_exports(page: Page, live_server, vera: User, tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    prod = make_instance("harbor-prod", env="prod")
    dev = make_instance("harbor-dev", env="dev")
    harbor_events(prod, 60, start=start, project="payments", user="bob", step=timedelta(minutes=30))
    harbor_events(dev, 40, start=start, project="web", user="carol", step=timedelta(minutes=30))
    record(actor=Actor(user=None, name="bob"), action="mapping.delete", object_type="access.mapping",
           object_repr="payments")
    foreign: list[str] = []

    def watch(request: Request) -> None:
        if not request.url.startswith(live_server.url) and not request.url.startswith("data:"):
            foreign.append(request.url)

    page.on("request", watch)
    login(page, live_server.url, "vera")
    page.click("nav.mainnav >> text=Events")
    expect(page.locator("h1")).to_contain_text("Events")
    expect(page.locator("#activity-chart")).to_be_visible()
    expect(page.locator("tr.event-row")).to_have_count(50)
    expect(page.locator("#page-older")).to_be_visible()

    # Narrow down: bob's deletes in payments (Harbor events and his harborops change together).
    page.fill("#f-user", "bob")
    page.fill("#f-project", "payments")
    page.fill("#f-operation", "delete")
    page.click("#f-search")
    expect(page).to_have_url(re.compile(r"user=bob"))
    expect(page.locator("tr.event-row")).to_have_count(16)  # 15 Harbor deletes + 1 harborops action
    expect(page.locator("tr.event-harborops")).to_have_count(1)
    expect(page.locator("#page-older")).to_have_count(0)

    # Open one event.
    page.locator("tr.event-harbor a").first.click()
    expect(page.locator("#event-facts")).to_contain_text("harbor-prod")
    expect(page.locator("#event-raw")).to_contain_text('"operation": "delete"')
    page.go_back()
    expect(page.locator("tr.event-row")).to_have_count(16)

    # Export exactly what is on screen.
    with page.expect_download() as download:
        page.click("#export-csv")
    target = tmp_path / "events.csv"
    download.value.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 16
    assert {r["user"] for r in rows} == {"bob"}
    assert {r["source"] for r in rows} == {"harbor", "harborops"}
    assert {r["operation"] for r in rows if r["source"] == "harbor"} == {"delete"}

    # A user's timeline from a row.
    page.locator("tr.event-row a", has_text="bob").first.click()
    expect(page.locator("#timeline-subject")).to_have_text("bob")
    expect(page.locator("#timeline li")).to_have_count(50)
    assert not foreign, f"requests left the server: {foreign}"


def test_what_people_did_on_two_harbors_is_ingested_and_found(page: Page, live_server, vera: User) -> None:
    """The README screenshots of the events pages: simulated people push, pull, delete and log in on two
    simulated Harbors (2.13 and 2.12), the real ingest reads both audit logs over HTTP, a viewer searches."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from harborops.events.ingest import ingest_instance
    from harborops.fleet import demo
    from harborops.fleet.demo_activity import PROJECT, Activity
    from harborops.fleet.models import Instance
    from harborops.harbor_sim import Fleet, HarborInstance, SimServer
    from harborops.harbor_sim.clock import ManualClock

    def setup() -> int:  # in a thread: Playwright's event loop runs in this one
        clock = ManualClock(datetime.now(UTC) - timedelta(hours=3))  # three hours of work, up to now
        fleet = Fleet([HarborInstance(version, name=name, admin_password=demo.ADMIN_PASSWORD, clock=clock)
                       for version, name in (("2.13.0", "harbor-eu"), ("2.12.0", "harbor-us"))], clock=clock)
        try:
            with SimServer(fleet) as server:
                for n, sim in enumerate(fleet, start=1):
                    Instance.objects.create(name=sim.name, url=server.instance_url(n), username="admin",
                                            password=demo.ADMIN_PASSWORD)
                activity = Activity(fleet, busy=1.0, outage_every=10_000, outage_for=1, seed=5)
                for elapsed in range(0, 200, 10):
                    activity.step(float(elapsed))
                    fleet.advance(540)
                return sum(ingest_instance(inst).fetched for inst in Instance.objects.all())
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        fetched = pool.submit(setup).result()
    assert fetched > 20
    login(page, live_server.url, "vera")
    page.click("nav.mainnav >> text=Events")
    expect(page.locator("tr.event-row").first).to_be_visible()
    page.fill("#f-project", PROJECT)
    page.click("#f-search")
    expect(page).to_have_url(re.compile(rf"project={PROJECT}"))
    expect(page.locator("tr.event-harbor").first).to_contain_text(PROJECT)
    shoot(page, "events")
    page.locator("tr.event-harbor a").first.click()
    expect(page.locator("#event-facts")).to_contain_text("harbor-")
    shoot(page, "events-event")
