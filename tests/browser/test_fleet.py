"""An admin registers simulated Harbors from the browser, a real worker sweeps them, and the
overview and the instance page show what the sweep saw."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connection
from playwright.sync_api import Page, expect

from harborops.fleet.models import Instance
from harborops.harbor_sim import Fleet, SimServer
from tests.browser.test_job_live import login
from tests.fleet.conftest import ADMIN_PASSWORD
from tests.support.processes import start_worker, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def harbors() -> Iterator[SimServer]:
    fleet = Fleet.create(2, ["2.13.0", "2.15.0"])
    fleet[2].unhealthy["trivy"] = "trivy adapter down"
    with SimServer(fleet) as server:
        yield server


def test_an_admin_adds_instances_sees_them_swept_and_opens_one(page: Page, live_server, alice: User,
                                                               harbors: SimServer, tmp_path: Path):
    login(page, live_server.url, "alice")
    page.click("nav >> text=Fleet")
    expect(page.locator(".empty")).to_contain_text("No Harbor instance yet")

    page.click("text=Add instance")
    page.fill("#id_name", "eu-prod")
    page.fill("#id_url", harbors.instance_url(1))
    page.fill("#id_username", "admin")
    page.fill("#id_password", "wrong-password")
    page.fill("#id_labels_text", "env=prod, region=eu")
    page.click("#test-connection")
    expect(page.locator("#connection-check-result")).to_contain_text("refused the credentials")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("#test-connection")
    expect(page.locator("#connection-check-result")).to_contain_text("Connection works: Harbor v2.13.0")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text("eu-prod")

    page.goto(f"{live_server.url}/fleet/import/")
    page.fill("#id_text", f"- {{name: eu-dev, url: '{harbors.instance_url(2)}', username: admin, "
                          f"password: {ADMIN_PASSWORD}, labels: {{env: dev}}}}\n")
    page.click("button:has-text('Import')")
    expect(page.locator("#import-result")).to_contain_text("1 would be added (eu-dev)")
    expect(page.locator("#id_text")).to_have_value("")  # the checked content is sealed, not echoed
    page.click("button:has-text('Import')")
    expect(page.locator("#instance-table tbody tr")).to_have_count(2)

    worker = start_worker(tmp_path / "worker.log")
    try:
        page.click("button:has-text('Sweep all now')")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=30_000)
        expect(page.locator("#job-log")).to_contain_text("2 instances swept")
    finally:
        stop(worker)

    page.click("nav >> text=Fleet")
    expect(page.locator('[data-status="up"] .n')).to_have_text("1")
    expect(page.locator('[data-status="degraded"] .n')).to_have_text("1")
    expect(page.locator('tr[data-instance="eu-dev"]')).to_contain_text("Degraded: trivy")
    page.select_option("select[name=status]", "up")
    expect(page.locator("#instance-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"status=up"))

    page.click("text=eu-prod")
    expect(page.locator("#instance-status")).to_have_text("Up")
    expect(page.locator("#health-timeline rect")).to_have_count(1)
    expect(page.locator("#status-changes")).to_contain_text("unknown")
    expect(page.locator("body")).to_contain_text("v2.13.0")
    assert ADMIN_PASSWORD not in page.content()
    assert Instance.objects.get(name="eu-prod").labels == {"env": "prod", "region": "eu"}


def test_the_demo_fleet_pages_render_with_local_assets_only(page: Page, live_server, alice: User):
    """Also writes the README screenshots of the fleet with HARBOROPS_UPDATE_SCREENSHOTS=1."""
    import os

    from harborops.core.actor import Actor
    from harborops.fleet import demo
    from harborops.fleet.services import sweep

    def setup() -> None:  # in a thread: Playwright's loop runs in this one, the sweep needs its own
        server = SimServer(demo.build(), port=0).start()
        try:
            instances = demo.register(server, Actor.system("test"))
            for _ in range(2):
                sweep.sweep_ids([i.pk for i in instances], timeout=5.0)
        finally:
            server.stop()
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(setup).result()
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None)
    out = Path(__file__).resolve().parents[2] / "docs" / "screenshots" \
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS") else None
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server.url, "alice")
    prod_a = Instance.objects.get(name="demo-eu-prod-a")
    pages = [("fleet", "/fleet/", "Fleet"), ("fleet-instance", f"/fleet/{prod_a.pk}/", "demo-eu-prod-a"),
             ("fleet-ha-groups", "/fleet/ha-groups/", "HA groups"),
             ("fleet-add", "/fleet/add/", "Add a Harbor instance"),
             ("fleet-import", "/fleet/import/", "Import instances")]
    for name, path, heading in pages:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_contain_text(heading)
        if out:
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/fleet/")
    expect(page.locator('[data-status="down"] .n')).to_have_text("1")
    expect(page.locator("#version-drift")).to_contain_text("v2.15.0")
    assert not foreign, f"pages loaded assets from elsewhere: {foreign}"
